/* sshargv: the argv for ssh_command= (SFTP over another program's pipes).
 *
 * sshfs's meaning, so existing lines work (reference/sshfs.md §1): the
 * value replaces "ssh"; it is split on spaces, a backslash makes the next
 * character literal ("\ " is a space inside a word); then the ssh
 * arguments sshfs adds follow: -x -a -oClearAllForwardings=yes, the ssh
 * options of the mount as -oName=value, "--", [user@]host, and either
 * "-s sftp" (subsystem) or the server command. Back In Time passes
 * `ssh_command=ssh -J user@jump:22`, which works only because of this.
 *
 * Pure functions. Errors: 0 or a negative errno. Thread: any.
 */
#ifndef SSHMOUNTFS_CHECKS_SSHARGV_H
#define SSHMOUNTFS_CHECKS_SSHARGV_H

#include <stddef.h>

#include "opts.h"

/* A NULL-terminated heap argv. */
struct chk_argv {
	char **v;
	size_t n;
};

int chk_argv_add(struct chk_argv *a, const char *s);
void chk_argv_free(struct chk_argv *a);

/* Splits s into words (appended to *a). Runs of spaces separate words; a
 * backslash takes the next character literally; a trailing backslash is
 * -EINVAL. An empty or all-space s is -EINVAL. */
int chk_split_words(const char *s, struct chk_argv *a);

/* The whole argv for ssh_command=. 'server_cmd' NULL means the subsystem
 * 'subsystem' (e.g. "sftp"). */
int chk_ssh_command_argv(const struct opts *o, const char *subsystem,
			 const char *server_cmd, struct chk_argv *a);

#endif
