/* sshargv: the argv for ssh_command= (SFTP over another program's pipes).
 *
 * sshfs's meaning, so existing lines work (sshfs(1), ssh_command): the
 * value replaces "ssh"; it is split on spaces, a backslash makes the next
 * character literal ("\ " is a space inside a word); then the ssh
 * arguments sshfs adds follow: -x -a -oClearAllForwardings=yes, the ssh
 * options of the mount as -oName=value, "--", [user@]host, and either
 * "-s sftp" (subsystem) or the server command. Back In Time passes
 * `ssh_command=ssh -J user@jump:22`, which works only because of this.
 *
 * Pure functions. Errors: 0 or a negative errno. Thread: any.
 */
#ifndef SSHMOUNTFS_CORE_SSHARGV_H
#define SSHMOUNTFS_CORE_SSHARGV_H

#include <stddef.h>

#include "opts.h"

/* A NULL-terminated heap argv. */
struct sshargv {
	char **v;
	size_t n;
};

int sshargv_add(struct sshargv *a, const char *s);
void sshargv_free(struct sshargv *a);

/* Splits s into words (appended to *a). Runs of spaces separate words; a
 * backslash takes the next character literally; a trailing backslash is
 * -EINVAL. An empty or all-space s is -EINVAL. */
int sshargv_split(const char *s, struct sshargv *a);

/* The whole argv for ssh_command=. 'server_cmd' NULL means the subsystem
 * 'subsystem' (e.g. "sftp"). */
int sshargv_for_command(const struct opts *o, const char *subsystem,
			 const char *server_cmd, struct sshargv *a);

#endif
