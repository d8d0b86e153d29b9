/* askpass-fd: sshmountfs-tool as ssh-add's askpass program. agent-unlock
 * runs ssh-add with SSH_ASKPASS=<this program>, SSH_ASKPASS_REQUIRE=force
 * and SSHMOUNTFS_ASKPASS_FD=3, the read end of a pipe holding the
 * passphrase: ssh-add then runs "<this program> PROMPT" and we copy one
 * line from that descriptor to stdout. The secret passes through pipes
 * only, never argv or the environment. A second question (ssh-add asks
 * again after a wrong passphrase) finds the pipe empty and gets an empty
 * answer, which makes ssh-add give up instead of looping (BiT #1852). */
#include <errno.h>
#include <stdlib.h>

#include "cli.h"
#include "cmds.h"
#include "secret.h"
#include "util.h"

#define CMD "askpass-fd"

int
cmd_askpass_fd(int argc, char **argv)
{
	const char *env = getenv(TOOL_ASKPASS_FD_ENV);
	unsigned long fd;
	struct secret *s = NULL;
	int rc;

	(void)argc;
	(void)argv;
	if (!env || cli_parse_ulong(env, 0, 65535, &fd) < 0) {
		cli_error(CMD, "This mode is for ssh-add, started by agent-unlock.",
			  "%s does not name a file descriptor", TOOL_ASKPASS_FD_ENV);
		return CLI_EXIT_USAGE;
	}
	rc = secret_from_fd((int)fd, &s);
	if (rc < 0)
		return rc == -EINVAL ? CLI_EXIT_OK : CLI_EXIT_LOCAL;	/* empty answer */
	rc = util_write_all(1, s->s, s->len) || util_write_all(1, "\n", 1) ? CLI_EXIT_LOCAL : CLI_EXIT_OK;
	secret_free(s);
	return rc;
}
