/* commands: the remote commands the mount will use are there.
 *
 * One exec channel runs `sh -s` with the probe script (script.h) on its
 * stdin: the SFTP server's path (needed for nice / ionice / nocache and
 * sftp_server=PATH), `nice -n 19 true`, `ionice -c2 -n7 true`,
 * `nocache true` when those options are on (run as Back In Time runs them), and every name of check_commands=. Each missing
 * command is named, with the option that needs it.
 *
 * Thread: blocking; the connection's thread, before fxc takes it.
 */
#ifndef SSHMOUNTFS_CHECKS_COMMANDS_H
#define SSHMOUNTFS_CHECKS_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"
#include "script.h"
#include "sshc.h"

enum chk_cmd_reason {
	CHK_CMD_OK = 0,
	CHK_CMD_MISSING,	/* "missing-command": a needed command is not there */
	CHK_CMD_FAILED,		/* "command-failed": it is there but the test run failed */
	CHK_CMD_NO_SHELL,	/* "no-shell": the script did not run (SFTP-only account?) */
	CHK_CMD_EXEC,		/* "exec-refused": the server refused the exec channel */
	CHK_CMD_BAD_OPTION,	/* "bad-option": a check_commands= name is not usable */
	CHK_CMD_COUNT
};

const char *chk_cmd_reason_name(int reason);

/* Runs the probe p over s and judges it into res. 0 passed, -1 failed.
 * *shell (may be NULL) is set when the script ran to its end. */
int chk_commands(struct sshc *s, struct chk_probe *p, struct chk_result *res, bool *shell);

/* Judges a probe whose results are filled (pure; for tests): 0 / -1. */
int chk_commands_judge(const struct chk_probe *p, int exit_status, struct chk_result *res);

#endif
