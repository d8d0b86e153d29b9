/* sshc: one SSH connection made with libssh, from an opts.
 *
 * Order of work (each step may be called alone by the checks):
 *   sshc_new()          ssh_new, host/user, ~/.ssh/config (or -F), then the
 *                       command-line values on top so they win (libssh §2.3)
 *   sshc_connect()      TCP (TCP_NODELAY, keepalive), banner, key exchange
 *   sshc_verify_host()  known_hosts policy (StrictHostKeyChecking)
 *   sshc_authenticate() agent, identity files (passphrase from fd, askpass
 *                       or terminal; never prompts in batch mode), password
 *                       (password_stdin), keyboard-interactive
 * sshc_open() runs all four.
 *
 * Errors: 0 or a negative errno; on failure *e says what failed for people
 * (msg), what to do (hint) and a code the checks map to their reasons.
 * Thread: blocking calls, one thread at a time. After fxc takes the
 * connection its I/O thread is the only user.
 */
#ifndef SSHMOUNTFS_SSHC_H
#define SSHMOUNTFS_SSHC_H

#include <stdbool.h>
#include <stddef.h>
#include <libssh/libssh.h>

#include "opts.h"

enum sshc_code {
	SSHC_OK = 0,
	SSHC_E_CONFIG,		/* bad option or unreadable config file */
	SSHC_E_DNS,		/* host name does not resolve */
	SSHC_E_REFUSED,		/* TCP connection refused */
	SSHC_E_TIMEOUT,		/* connect or banner timed out */
	SSHC_E_NOT_SSH,		/* the peer is not an SSH server */
	SSHC_E_KEX,		/* no common cipher / kex / host key algorithm */
	SSHC_E_HOSTKEY_UNKNOWN,	/* not in known_hosts and policy refuses */
	SSHC_E_HOSTKEY_CHANGED,	/* known_hosts has a different key */
	SSHC_E_AUTH,		/* no authentication method succeeded */
	SSHC_E_PASSPHRASE,	/* a key needs a passphrase we could not get */
	SSHC_E_CHANNEL,		/* channel, subsystem or exec refused */
	SSHC_E_IO,		/* anything else on the wire */
};

struct sshc_error {
	enum sshc_code code;
	char msg[512];		/* "host key for [h]:p is not known (SHA256:...)" */
	char hint[512];		/* "run sshmountfs-tool known-hosts-add ..." */
	char detail[1024];	/* auth: one line per key tried and why it failed */
};

struct sshc;

int sshc_new(const struct opts *o, struct sshc **out, struct sshc_error *e);
int sshc_connect(struct sshc *s, struct sshc_error *e);
int sshc_verify_host(struct sshc *s, struct sshc_error *e);
int sshc_authenticate(struct sshc *s, struct sshc_error *e);
int sshc_open(const struct opts *o, struct sshc **out, struct sshc_error *e);

/* The libssh session; borrowed, owned by s. */
ssh_session sshc_session(struct sshc *s);

/* The server's host key fingerprint "SHA256:..." after connect; NULL before. */
const char *sshc_fingerprint(const struct sshc *s);

/* Negotiated cipher (client to server), after connect. */
const char *sshc_cipher(const struct sshc *s);

/* Runs 'command' on an exec channel, feeding 'input' (may be NULL) on its
 * stdin then EOF, collecting stdout into *out (NUL-terminated, caller frees,
 * capped at 1 MiB) and the exit status into *status (-1 if none). Blocking,
 * with the connect timeout as deadline. 0 or a negative errno. */
int sshc_exec(struct sshc *s, const char *command, const char *input,
	      char **out, int *status, struct sshc_error *e);

/* Opens a channel that runs the SFTP server: the "sftp" subsystem, or
 * 'server_cmd' through exec when not NULL. Blocking. */
int sshc_open_sftp_channel(struct sshc *s, const char *server_cmd,
			   ssh_channel *out, struct sshc_error *e);

/* Disconnects and frees (NULL-safe); returns NULL. */
struct sshc *sshc_free(struct sshc *s);

/* Prints "sshmountfs: msg" and "  hint" lines for *e to stderr/log. */
void sshc_error_report(const struct sshc_error *e);

#endif
