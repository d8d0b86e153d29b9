/* checks: the pre-mount checks of Back In Time's sshtools.SSH, run as a
 * plan before a mount goes live (and by `sshmountfs-tool check`).
 *
 * Each check is one function with a typed result, one module each in
 * checks/. A plan runs them in order and stops at the first failure. A
 * passing plan also leaves the live session the mount will use, so the
 * light plan costs at most about two round trips on top of a plain
 * connect (measured: checks/overhead.c).
 *
 * Transports without SSH (ssh_command=, directport=) skip the SSH checks
 * (reachable for directport only, known host, login, cipher, commands) and
 * are marked skipped, not passed.
 *
 * Thread: chk_run() is blocking; call it after any fork() (it starts fxc's
 * I/O thread). Errors: 0 when every check that ran passed, -1 otherwise
 * (the failing result says why); negative errno only for internal errors.
 */
#ifndef SSHMOUNTFS_CHECKS_H
#define SSHMOUNTFS_CHECKS_H

#include <stdbool.h>

#include "opts.h"

struct sshc;
struct fxc;

enum chk_id {
	CHK_REACHABLE = 0,	/* TCP connect with retries, SSH banner read */
	CHK_KNOWN_HOST,		/* host key in known_hosts, policy applied */
	CHK_LOGIN,		/* authentication */
	CHK_CIPHER,		/* configured Ciphers= work with both ends */
	CHK_COMMANDS,		/* remote command probe over one exec channel */
	CHK_HARDLINK,		/* hard-link test in a random temp dir */
	CHK_FOLDER,		/* remote folder present (created), dir, rwx */
	CHK_COUNT
};

enum chk_plan {
	CHK_PLAN_LIGHT,		/* every mount: reachable, known host, login, folder
				 * (a folder the user cannot write passes with a
				 * warning, as sshfs mounts it) */
	CHK_PLAN_FULL,		/* -o full_check: all of them; the folder must be
				 * writable (Back In Time's own check) */
};

enum chk_outcome { CHK_NOT_RUN = 0, CHK_PASSED, CHK_FAILED, CHK_SKIPPED };

struct chk_result {
	enum chk_id id;
	enum chk_outcome outcome;
	int reason;		/* enum chk_reason of the check's module; 0 when passed */
	const char *reason_name;/* stable machine name, e.g. "connection-refused" */
	char msg[512];		/* for people: what failed (or what was found) */
	char hint[512];		/* for people: what to do */
	double seconds;		/* wall time the check took */
	int attempts;		/* reachable: tries made */
	char detail[1024];	/* more lines for people (keys tried, kex text); may be "" */
	char warning[512];	/* passed with a caveat the mount tells its user
				 * (one line, no program prefix); may be "" */
};

/* What a passing plan leaves for the mount; the caller owns it. */
struct chk_session {
	struct sshc *conn;	/* NULL for non-SSH transports; owned by fxc once started */
	struct fxc *fxc;	/* the started SFTP engine */
	char *root;		/* absolute remote path to mount (heap) */
	char *server_cmd;	/* exec command the SFTP server runs as (nice/ionice/
				 * nocache, sftp_server=PATH; heap), NULL for the
				 * "sftp" subsystem: reuse it for more connections */
};

/* Stable names for output: "reachable", "known-host", "login", "cipher",
 * "commands", "hardlink", "folder". */
const char *chk_name(enum chk_id id);

/* Runs 'plan' for o. res[] gets one entry per check (CHK_NOT_RUN for those
 * not in the plan). On success fills *out (pass NULL to close the session
 * at the end, as `sshmountfs-tool check` does). */
int chk_run(const struct opts *o, enum chk_plan plan,
	    struct chk_result res[CHK_COUNT], struct chk_session *out);

/* "passed", "failed", "skipped", "not-run". */
const char *chk_outcome_name(enum chk_outcome oc);

/* The id of the check that failed, or -1 when none did. */
int chk_failed(const struct chk_result res[CHK_COUNT]);

/* Writes res[] as the stable JSON list of `sshmountfs-tool check --json`
 * (schema in report.h) to f (a FILE *). 0 or -EIO. */
int chk_report_json(void *f, const struct chk_result res[CHK_COUNT]);

/* Writes one line per check (name, outcome, time, message; hint and detail
 * indented under a failure, a warning under a pass) to f (a FILE *). */
void chk_report_text(void *f, const struct chk_result res[CHK_COUNT]);

/* Closes what a chk_session holds (NULL-safe members). */
void chk_session_close(struct chk_session *s);

/* Prints the failing result as "sshmountfs: <check>: <msg>" and "  <hint>". */
void chk_report_failure(const struct chk_result res[CHK_COUNT]);

#endif
