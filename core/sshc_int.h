/* sshc internals shared by the files of the sshc module (not a contract
 * for anyone else: only core/sshc*.c include this). The module is one
 * connection, split by step:
 *   sshc.c          session creation, errors, lifetime, sshc_open
 *   sshc_config.c   ssh config and command-line values applied to libssh
 *   sshc_connect.c  TCP connect, banner peek, libssh's banner and KEX
 *   sshc_hostkey.c  known_hosts verification, fingerprints
 *   sshc_auth.c     the authentication chain and where secrets come from
 *   sshc_exec.c     exec channels and the SFTP channel
 * Thread: as sshc.h (one thread at a time per struct sshc).
 */
#ifndef SSHMOUNTFS_SSHC_INT_H
#define SSHMOUNTFS_SSHC_INT_H

#include <stdbool.h>

#include "sshc.h"

#define SSHC_MAX_IDS 32

enum sshc_auth_bit { SSHC_AUTH_PUBKEY = 1, SSHC_AUTH_KBDINT = 2, SSHC_AUTH_PASSWORD = 4 };

struct sshc {
	ssh_session ss;
	int fd;			/* our TCP socket (-1 with a ProxyCommand); we close it */
	char *typed_host;	/* o->host as typed, for messages */
	char *host_port;	/* "[h]:p" or "h", the known_hosts key, after connect */
	char *home;		/* getpwuid(geteuid())->pw_dir, never $HOME */
	char *ssh_dir;		/* home/.ssh */
	long timeout;		/* seconds: connect, banner, each blocking call */
	enum opts_hostkey_policy policy;
	bool policy_set;
	bool batch;
	bool tcp_keepalive;
	int alive_interval, alive_count;
	int passphrase_fd;
	int prompt_tries;	/* NumberOfPasswordPrompts (3) */
	bool password_stdin;
	unsigned auth_enabled;	/* SSHC_AUTH_* not switched off by an option */
	char *preferred;	/* PreferredAuthentications, NULL = OpenSSH order */
	char *ids[SSHC_MAX_IDS]; /* explicit IdentityFile values, ~ expanded */
	int n_ids;
	bool config_identity;	/* the ssh config named an IdentityFile */
	struct secret *pw;	/* password (sshc_set_password / password_stdin) */
	struct secret *fd_pass;	/* passphrase read once from passphrase_fd */
	bool fd_pass_read;
	char first_line[96];	/* what a non-SSH peer sent first (sanitized) */
	bool peer_not_ssh;
	char fingerprint[96];	/* "SHA256:..." of the server's host key */
	char keytype[24];	/* "ED25519", "RSA", ... */
};

/* ---- errors (sshc.c) ---------------------------------------------------- */

/* The negative errno a code maps to (SSHC_OK -> 0). */
int sshc_code_errno(enum sshc_code c);

/* Empties *e: SSHC_OK and no text. */
void sshc_err_clear(struct sshc_error *e);

/* Fills e->code and e->msg; returns sshc_code_errno(code), so a failure
 * path reads "return sshc_err_set(e, ...)". */
__attribute__((format(printf, 3, 4))) int
sshc_err_set(struct sshc_error *e, enum sshc_code code, const char *fmt, ...);

/* Fills e->hint (what a person can do about it). */
__attribute__((format(printf, 2, 3))) void
sshc_hint_set(struct sshc_error *e, const char *fmt, ...);

/* Appends one line to e->detail (what happened per key or method); drops
 * the line when detail is full. */
__attribute__((format(printf, 2, 3))) void
sshc_detail_add(struct sshc_error *e, const char *fmt, ...);

/* Copies remote text (banners, prompts, stderr) from src (at most n bytes,
 * up to the first NUL or newline) into dst as printable ASCII, '?' for
 * anything else, CR dropped; always NUL-terminates (size > 0). */
void sshc_printable_copy(char *dst, size_t size, const char *src, size_t n);

/* ---- steps of the other files -------------------------------------------- */

/* sshc_config.c: applies everything sshc_new() promises to s->ss, in the
 * order that lets the command line win over the ssh config. Needs s->ss,
 * s->home and s->ssh_dir. 0 or -errno; on failure e is filled when the
 * cause is known (e->code stays SSHC_OK otherwise). */
int sshc_config_apply(struct sshc *s, const struct opts *o, struct sshc_error *e);

/* sshc_hostkey.c: records the server's host key type and SHA256
 * fingerprint in s->keytype and s->fingerprint, after the key exchange.
 * Leaves them empty when libssh has no key. */
void sshc_note_server_key(struct sshc *s);

#endif
