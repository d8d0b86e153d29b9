/* script: the remote command probe, as one POSIX sh script sent on the
 * stdin of `sh -s` over one exec channel (no command-length limit, so
 * BiT's max_arg_length dance is gone, and it works whatever the login
 * shell is: fish, rbash wrappers that allow sh, ...).
 *
 * The script prints one line per item, "SMCHK <index> ok [detail]",
 * "SMCHK <index> missing" or "SMCHK <index> fail <status>", and finally
 * "SMCHK end". Other output (a noisy .profile) is ignored; a missing end
 * line means the script did not run to its end (no shell, killed, an
 * SFTP-only account whose ForceCommand ate the script).
 *
 * Pure functions (build, parse); commands.c runs it. Errors: 0 or a
 * negative errno. Thread: any.
 */
#ifndef SSHMOUNTFS_CHECKS_SCRIPT_H
#define SSHMOUNTFS_CHECKS_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "opts.h"

enum chk_probe_kind {
	CHK_PROBE_CMD,		/* `command -v NAME`: is it there (detail: where) */
	CHK_PROBE_RUN,		/* run it: "nice -n 19 true" must exit 0 */
	CHK_PROBE_SERVER,	/* find sftp-server (detail: its path) */
	CHK_PROBE_EXEC,		/* an explicit path must be executable */
};

enum chk_probe_state {
	CHK_PROBE_UNKNOWN = 0,	/* no line for it (script cut short) */
	CHK_PROBE_OK,
	CHK_PROBE_MISSING,
	CHK_PROBE_FAIL,		/* there, but running it failed */
};

struct chk_probe_item {
	enum chk_probe_kind kind;
	char *name;		/* the command, e.g. "ionice" or "rsync" */
	char *run;		/* RUN: the full test command, e.g. "ionice -c2 -n7 true" */
	const char *why;	/* for messages: "-o ionice", "check_commands", ... */
	bool required;		/* a failure fails the check */
	/* results */
	enum chk_probe_state state;
	int status;		/* FAIL: exit status */
	char detail[256];	/* OK: path found */
};

struct chk_probe {
	struct chk_probe_item *items;
	size_t n;
	bool ended;		/* the end line was seen */
};

/* Fills p with what o needs probed: the SFTP server (required when
 * 'need_server' — nice/ionice/nocache without sftp_server= — or an
 * sftp_server= path, which must be executable; informational otherwise),
 * nice / ionice / nocache when on (run as BiT does), and, when
 * 'with_user_list', every name of check_commands=. -EINVAL with err filled
 * for a name with control characters or over 200 bytes; -ENOMEM. */
int chk_probe_build(const struct opts *o, bool with_user_list,
		    struct chk_probe *p, char *err, size_t errlen);

/* Adds one item (copies name and run). */
int chk_probe_add(struct chk_probe *p, enum chk_probe_kind kind, const char *name,
		  const char *run, const char *why, bool required);

void chk_probe_free(struct chk_probe *p);

/* The script for p; *out is heap, caller frees. 0 or -ENOMEM. */
int chk_probe_script(const struct chk_probe *p, char **out);

/* Reads the output of the script into p's results. Lines not starting with
 * "SMCHK " are ignored, as are indexes out of range. Returns 0 when the end
 * line was seen, -EPROTO when not (results seen so far are kept). */
int chk_probe_parse(struct chk_probe *p, const char *output);

/* The SFTP server item, or NULL. */
const struct chk_probe_item *chk_probe_server(const struct chk_probe *p);

/* Places the script looks for sftp-server, in order, before `command -v`. */
extern const char *const chk_sftp_server_paths[];

#endif
