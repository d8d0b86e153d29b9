/* keyfile: reading SSH key files for sshmountfs-tool: the public half of
 * any key file libssh reads, described the way ssh-keygen -l does, and
 * private keys for a login, never prompting (passphrases come from the
 * caller). Thread: reentrant.
 */
#ifndef SSHMOUNTFS_TOOLS_KEYFILE_H
#define SSHMOUNTFS_TOOLS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>
#include <libssh/libssh.h>

#include "secret.h"

/* A public key and what ssh-keygen -l shows about it. */
struct keyfile_pub {
	ssh_key key;
	char *comment;		/* NULL when the file has none */
	unsigned bits;
	const char *short_type;	/* "ED25519", "ECDSA", "RSA", ... (static) */
};

/* Loads the public half of 'path': a one-line public key, an OpenSSH
 * private key (the public part is stored unencrypted), an unencrypted
 * private key of another format, or else 'path'.pub. 0, -ENOENT (no such
 * file), -EINVAL (no key found; err says why), -ENOMEM. */
int keyfile_load_public(const char *path, struct keyfile_pub *out, char *err, size_t errlen);
void keyfile_pub_free(struct keyfile_pub *p);

/* The public key blob (SSH wire format) of key; *blob heap (free()). */
int keyfile_blob(ssh_key key, uint8_t **blob, size_t *len);

/* Key size in bits as ssh-keygen -l prints it (RSA modulus, curve size). */
unsigned keyfile_bits(ssh_key key);

/* sshc_key_type_short() of key, "UNKNOWN" for other types. Fingerprints:
 * sshc_key_fingerprint() (core/sshc.h). */
const char *keyfile_short_type(ssh_key key);

/* Loads a private key with 'pass' (NULL: only an unencrypted key loads;
 * nothing ever prompts). 0; -ENOENT (missing); -EACCES (encrypted and no or
 * a wrong passphrase); -EINVAL (not a key libssh reads). */
int keyfile_load_private(const char *path, const struct secret *pass, ssh_key *out);

/* Parses "TYPE BASE64 [COMMENT]" (one public key line, as in a .pub file or
 * authorized_keys without options). The key is validated with libssh.
 * The three strings are heap (the comment may be NULL). 0 or -EINVAL. */
int keyfile_parse_publine(const char *line, char **type, char **b64, char **comment);

#endif
