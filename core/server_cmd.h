/* server_cmd: how the remote SFTP server is started.
 *
 * sshfs's rules (sftp_server=SERV): a value containing '/' is a command run
 * through exec (verbatim, so "/usr/bin/sudo /usr/lib/openssh/sftp-server"
 * works); anything else is a subsystem name, "sftp" by default. The seed's
 * nice / ionice / nocache options put `nice -n 19`, `ionice -c2 -n7` and
 * `nocache` in front of the server, in Back In Time's rsync-path order
 * (common/sshtools.py); that needs an exec channel and so
 * the server's path, which is probed on the remote (see script.h) unless
 * sftp_server= gives it.
 *
 * Pure functions: no I/O. Errors: 0 or a negative errno.
 * Thread: any.
 */
#ifndef SSHMOUNTFS_CORE_SERVER_CMD_H
#define SSHMOUNTFS_CORE_SERVER_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "opts.h"

/* True when sftp_server= names a command (contains '/'). */
bool server_cmd_is_path(const char *sftp_server);

/* True when any of nice, ionice, nocache is on. */
bool server_cmd_has_prefix(const struct opts *o);

/* True when the server must be found on the remote before the SFTP
 * channels open: a prefix is on and sftp_server= gives no path. */
bool server_cmd_needs_probe(const struct opts *o);

/* The subsystem name when the server runs as a subsystem ("sftp" or the
 * sftp_server= name); NULL when it runs through exec. */
const char *server_cmd_subsystem(const struct opts *o);

/* The command for an exec channel, or *out = NULL for the subsystem.
 * 'found' is the server path the remote probe found (needed only when
 * server_cmd_needs_probe(o); NULL otherwise). A found path is quoted for
 * the remote shell; an sftp_server= path is used verbatim. *out is heap,
 * caller frees. -ENOENT when a path is needed and 'found' is NULL, -ENOMEM. */
int server_cmd_build(const struct opts *o, const char *found, char **out);

/* The prefix alone ("nice -n 19 ionice -c2 -n7 nocache " or ""), into buf.
 * Returns the length, or -ENOSPC. */
int server_cmd_prefix(const struct opts *o, char *buf, size_t len);

/* Quotes s for a POSIX shell: unchanged when it holds only characters
 * that need no quoting, else in single quotes with ' written as '\''.
 * *out is heap, caller frees. 0 or -ENOMEM. */
int server_cmd_shell_quote(const char *s, char **out);

#endif
