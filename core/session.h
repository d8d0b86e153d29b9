/* session: the one way from options to a started SFTP engine.
 *
 *   options -> transport -> (SSH: TCP, host key, login) -> engine (fxc)
 *
 * Transports: SSH (sshc.h), ssh_command= (another program's pipes, its
 * argv from sshargv.h) and directport= (plain TCP to an SFTP server). Over
 * SSH the engine gets o->channels SFTP channels (SESSION_DEFAULT_CHANNELS
 * when 0), each running server_cmd through exec (server_cmd.h), or the
 * subsystem when server_cmd is NULL. Every engine is started with
 * session_engine_config(o).
 *
 * The mount's first connection is built step by step by the pre-mount
 * checks (checks/plan.c), which judge each SSH step (reachable, known host,
 * login, cipher, commands) and then hand the connection to
 * session_start_ssh(), or start the other transports with
 * session_start_command() / session_start_fd(). Every later connection (a
 * mount's max_conns extras, reconnection, sshmountfs-tool) takes
 * session_open(), which runs all the steps without a check in between.
 *
 * Thread: blocking; any thread but an fxc I/O thread, after any fork()
 * (fxc_start starts a thread). Errors: 0 or a negative errno, and err (when
 * errlen > 0) says what failed, for people.
 */
#ifndef SSHMOUNTFS_CORE_SESSION_H
#define SSHMOUNTFS_CORE_SESSION_H

#include <stddef.h>

#include "opts.h"

#define SESSION_DEFAULT_CHANNELS 4

struct fxc;
struct fxc_config;
struct sshc;

/* The engine settings of a mount (keepalive from ServerAliveInterval and
 * ServerAliveCountMax, max_read, max_write, reconnect_timeout). The
 * session_start_*() functions add the redial (fxc.h "reconnection") when
 * o->reconnect: SSH logs in again without a person, with the host key
 * pinned to the one of the connection the engine started on (another key:
 * -EKEYREJECTED, its message with both SHA256 fingerprints) and the kept
 * secrets (session_keep_secrets); a refused login is -EACCES. ssh_command=
 * runs the command again. directport= does not redial: its socket came
 * from the reachable check. */
void session_engine_config(const struct opts *o, struct fxc_config *cfg);

/* With o->reconnect, makes the logins of this process keep the key
 * passphrase and password they used (sshc_secrets_keep) for the redials;
 * call before the mount's first login. session_end() wipes them. */
void session_keep_secrets(const struct opts *o);

/* At unmount, after every engine was freed: wipes the kept secrets and
 * frees what the redials of the engines needed. */
void session_end(void);

/* The engine over an authenticated SSH connection; takes conn on success
 * and on failure (the engine owns it from here; fxc_free closes it). */
int session_start_ssh(const struct opts *o, struct sshc *conn, const char *server_cmd,
		      struct fxc **out, char *err, size_t errlen);

/* The engine over ssh_command= (o->ssh_command, split as sshfs does), which
 * runs server_cmd, or the subsystem when NULL. */
int session_start_command(const struct opts *o, const char *server_cmd, struct fxc **out,
			  char *err, size_t errlen);

/* The engine over a connected socket to an SFTP server (directport=);
 * takes fd on success and on failure. */
int session_start_fd(const struct opts *o, int fd, struct fxc **out, char *err, size_t errlen);

/* Every step at once, for the transport o selects: a new engine for a
 * mount whose checks passed before (server_cmd is what they chose). Never
 * prompts: SSH logins use the agent, keys without a passphrase and the
 * kept secrets (sshc_use_kept_secrets), and check known_hosts.
 * SSH only for now: ssh_command= and directport= have one connection
 * each, made by the checks (-EOPNOTSUPP). */
int session_open(const struct opts *o, const char *server_cmd, struct fxc **out, char *err,
		 size_t errlen);

#endif
