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
