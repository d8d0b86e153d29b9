/* sshc: one SSH connection made with libssh, from an opts.
 *
 * Order of work (each step may be called alone by the checks):
 *   sshc_new()          ssh_new, host/user, ~/.ssh/config (or -F), then the
 *                       command-line values on top so they win
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

struct secret;

/* Creates the session: SSH_DIR from getpwuid(geteuid()) (never $HOME),
 * host as typed (an alias is fine) and the explicit user, then the ssh
 * config (o->ssh_config, else ~/.ssh/config and /etc/ssh/ssh_config), then
 * on top: port, Ciphers (both directions), UserKnownHostsFile, connect
 * timeout (o->connect_timeout, else 10 s; the config's ConnectTimeout is
 * not seen), Compression, ProxyCommand / ProxyJump, TCP_NODELAY, and the
 * ssh_passthrough items libssh can honour (KexAlgorithms, MACs,
 * HostKeyAlgorithms, PubkeyAcceptedAlgorithms, *Authentication=yes|no,
 * PreferredAuthentications, BatchMode, ServerAlive*, TCPKeepAlive,
 * IdentityFile, GlobalKnownHostsFile, StrictHostKeyChecking, ...; others
 * are logged at debug and ignored). Without -o Ciphers= and with AES-NI,
 * AES-GCM is preferred (a Ciphers line in the config still wins).
 * ProxyJump on libssh 0.10 becomes the ProxyCommand
 * "ssh [-F cfg] [-l u] [-p p] [-J earlier] -W '[%h]:%p' host" (needs ssh).
 * Nothing goes on the network. o is not kept. */
int sshc_new(const struct opts *o, struct sshc **out, struct sshc_error *e);

/* Resolves and connects the TCP socket itself (nonblocking connect bounded
 * by the timeout; SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT, TCP_NODELAY, and
 * TCP_USER_TIMEOUT = ServerAliveInterval * ServerAliveCountMax when set),
 * waits for the peer's first bytes, then lets libssh do banner and key
 * exchange on it. With a ProxyCommand (also from the config or ProxyJump)
 * libssh runs the command and connects. Codes: DNS, REFUSED, TIMEOUT (TCP,
 * or a peer that says nothing), NOT_SSH (the peer sent something that is
 * not an SSH banner; msg quotes it), KEX (msg names the kind and both
 * lists), IO. */
int sshc_connect(struct sshc *s, struct sshc_error *e);

/* As sshc_connect(), over a TCP socket the caller already connected to the
 * configured target with the peer's banner still unread (the reachable
 * check peeks at it with MSG_PEEK): saves the light plan a second TCP
 * handshake. s owns fd from the call on, on success and on failure. */
int sshc_connect_fd(struct sshc *s, int fd, struct sshc_error *e);

/* known_hosts check (UserKnownHostsFile, then GlobalKnownHostsFile; hashed
 * entries work). Unknown: policy yes -> HOSTKEY_UNKNOWN (msg has key type
 * and SHA256 fingerprint, hint names sshmountfs-tool known-hosts-add and
 * accept-new); accept-new -> recorded in the user file and logged; no ->
 * accepted, not recorded. Changed or another key type recorded:
 * HOSTKEY_CHANGED always, with the new and the recorded fingerprint and the
 * file and line to remove. Never prompts. */
int sshc_verify_host(struct sshc *s, struct sshc_error *e);

/* none, then as the server allows and in OpenSSH's order (or
 * PreferredAuthentications'): publickey (ssh-agent when SSH_AUTH_SOCK is
 * set, then the IdentityFiles given, or the default id_ed25519/id_ecdsa/
 * id_rsa when none: each public key is offered first and the private key
 * loaded only if the server accepts it), keyboard-interactive (a hidden
 * prompt gets the password once), password. Passphrases: passphrase_fd
 * (read once), else SSH_ASKPASS (OpenSSH's SSH_ASKPASS_REQUIRE rules),
 * else the terminal; never prompts in batch mode or without a terminal
 * (unless askpass applies). With o->password_stdin and no
 * sshc_set_password(), reads the password from fd 0 here. e->detail
 * gets one line per key/method that failed ("~/.ssh/id_ed25519: needs a
 * passphrase (none available in batch mode)", "k: rejected by the
 * server"). Codes: PASSPHRASE (a key the server accepts could not be
 * unlocked), AUTH, IO, CONFIG. Password and passphrases are wiped before
 * it returns, whatever the outcome (after a success, copies go to the
 * kept store when sshc_secrets_keep() was called). */
int sshc_authenticate(struct sshc *s, struct sshc_error *e);

/* Hands a password (e.g. secret_from_fd(0) for password_stdin) to s, which
 * takes ownership (frees pw even on error). For keyboard-interactive and
 * password authentication; wiped by sshc_authenticate(). 0 or -EINVAL. */
int sshc_set_password(struct sshc *s, struct secret *pw);

/* Kept secrets, for logins without a person later (reconnection): after
 * sshc_secrets_keep(), every successful sshc_authenticate() of the process
 * copies the first key passphrase that opened a key and the password it
 * had (password_stdin, sshc_set_password) into one process-wide store in
 * guarded memory (secret.h), until sshc_secrets_forget() wipes it. Any
 * thread (the store has its own lock). */
void sshc_secrets_keep(void);
void sshc_secrets_forget(void);

/* Makes s's sshc_authenticate() ask nobody and read nothing: batch mode,
 * no passphrase_fd, no password from stdin; an encrypted key is tried with
 * the kept passphrase, password methods with the kept password. For
 * reconnection. Call before sshc_authenticate(). 0 or -ENOMEM. */
int sshc_use_kept_secrets(struct sshc *s);

/* The server's host key itself (type and base64 of its public blob, e.g.
 * "ssh-ed25519 AAAA..."), after connect, in *out (heap; free()): to pin the
 * key a mount verified and compare it at reconnection. 0, -ENOENT before
 * the key exchange, or -ENOMEM. */
int sshc_host_key(struct sshc *s, char **out);

/* sshc_new + connect + verify_host + authenticate; on failure nothing is
 * left (*out NULL). */
int sshc_open(const struct opts *o, struct sshc **out, struct sshc_error *e);

/* The libssh session; borrowed, owned by s. */
ssh_session sshc_session(struct sshc *s);

/* The server's host key fingerprint "SHA256:..." after connect; NULL before. */
const char *sshc_fingerprint(const struct sshc *s);

/* Negotiated cipher (client to server), after connect. */
const char *sshc_cipher(const struct sshc *s);

/* The name ssh-keygen -l gives a key type: "ED25519", "ECDSA", "RSA",
 * "DSA"; NULL for any other type (the caller picks what to show). */
const char *sshc_key_type_short(enum ssh_keytypes_e t);

/* key's fingerprint as ssh-keygen -l prints it ("SHA256:" and unpadded
 * base64, or "MD5:" and hex pairs) in *out (heap; free()). 0, -EINVAL
 * when libssh cannot hash the key, or -ENOMEM. No session needed. */
int sshc_key_fingerprint(ssh_key key, enum ssh_publickey_hash_type type, char **out);

/* Runs 'command' on an exec channel, feeding 'input' (may be NULL) on its
 * stdin then EOF, collecting stdout into *out (NUL-terminated, caller frees,
 * capped at 1 MiB) and the exit status into *status (-1 if none). Blocking,
 * with the connect timeout as deadline. 0 or a negative errno. On return
 * (success too) e->detail holds the start of the command's stderr.
 * Only while the session is still blocking (before fxc takes it). */
int sshc_exec(struct sshc *s, const char *command, const char *input,
	      char **out, int *status, struct sshc_error *e);

/* Opens a channel that runs the SFTP server: the "sftp" subsystem, or
 * 'server_cmd' through exec when not NULL. Blocking. */
int sshc_open_sftp_channel(struct sshc *s, const char *server_cmd,
			   ssh_channel *out, struct sshc_error *e);

#define SSHC_MAX_SFTP_CHANNELS 16
/* Opens up to n (1..SSHC_MAX_SFTP_CHANNELS) such channels at once: every
 * open and request is in flight together, so n channels cost the round
 * trips of one. Returns how many are running (the first ones of out[]; a
 * server's MaxSessions may allow fewer than n), or a negative errno with *e
 * saying why when none could be opened. Bounded by the connect timeout. */
int sshc_open_sftp_channels(struct sshc *s, const char *server_cmd, int n,
			    ssh_channel *out, struct sshc_error *e);

/* Disconnects and frees (NULL-safe); closes the socket sshc_connect made
 * (libssh 0.10 does not close a socket given with SSH_OPTIONS_FD). */
struct sshc *sshc_free(struct sshc *s);

/* Prints "sshmountfs: msg", then "  detail" lines and "  hint" for *e
 * through log (stderr, or syslog once detached). */
void sshc_error_report(const struct sshc_error *e);

#endif
