/* remote: the connection steps the network subcommands share, on top of
 * core/sshc: parsing "[user@]HOST[:PORT]" plus -p/-F/-o into opts, and
 * fetching a server's host key without logging in.
 *
 * Functions return a process exit status (enum cli_exit) and print their
 * own message under the subcommand's name. Thread: main thread.
 */
#ifndef SSHMOUNTFS_TOOLS_REMOTE_H
#define SSHMOUNTFS_TOOLS_REMOTE_H

#include <libssh/libssh.h>

#include "cli.h"

struct remote_hostkey {
	char name[1100];	/* as recorded in known_hosts: host or [host]:port */
	char type[64];		/* "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" */
	const char *short_type;	/* "ED25519", "ECDSA", "RSA" */
	char *b64;		/* the key, base64 (heap) */
	char *sha256;		/* "SHA256:..." (heap) */
	char *md5;		/* "MD5:aa:..." (heap) */
};

/* Maps --type ed25519|ecdsa|rsa to a HostKeyAlgorithms list; NULL if unknown. */
const char *remote_hostkey_algos(const char *type);

/* What host-key and known-hosts-add both take besides their HOST. */
struct remote_hk_args {
	struct cli_conn conn;	/* -p, -F, -o */
	const char *algos;	/* -t/--type as HostKeyAlgorithms; NULL: the server's pick */
	bool hash;		/* -H/--hash: the known_hosts line hashes the host name */
};

/* The cli_optspec take() for -H/--hash and -t/--type; ctx is a struct
 * remote_hk_args. 0 or CLI_EXIT_USAGE (message printed). */
int remote_hk_take(const char *cmd, void *ctx, int opt, const char *arg);

/* What host-key and known-hosts-add do with HOST (no user part): the
 * options of a and HOST into an opts, then prepare(o, ctx) when prepare
 * is not NULL (it may change o; non-zero stops with that exit status),
 * then remote_fetch_hostkey() with a->algos into *out (remote_hostkey_free
 * by the caller, also after a failure). 0 or an exit status, message
 * printed. */
int remote_hk_fetch(const char *cmd, const char *spec, const struct remote_hk_args *a,
		    int (*prepare)(struct opts *o, void *ctx), void *ctx,
		    struct remote_hostkey *out);

/* Connects (TCP, banner, key exchange), takes the host key, disconnects.
 * No known_hosts check and no login. 'algos' (may be NULL) restricts the
 * host key algorithms. Fills *out (remote_hostkey_free). */
int remote_fetch_hostkey(const char *cmd, const struct opts *o, const char *algos,
			 struct remote_hostkey *out);
void remote_hostkey_free(struct remote_hostkey *k);

/* Parses the HOST argument and the collected -p/-F/-o into *o (opts_free by
 * the caller, also on failure). */
int remote_opts(const char *cmd, const char *spec, bool allow_user,
		const struct cli_conn *c, struct opts *o);

#endif
