/* keygen: a new SSH key pair in OpenSSH's own private key format.
 *
 * libssh 0.10 writes only Ed25519 keys in the "openssh-key-v1" container
 * (ECDSA and RSA come out as PKCS#8 PEM), so the container is written here
 * for all three types: keys come from libsodium (Ed25519) and OpenSSL (ECDSA,
 * RSA), passphrases are stretched with bcrypt_pbkdf (kdf.h) and the private
 * section is encrypted with aes256-ctr, as ssh-keygen does. Every written key
 * is read back with libssh before the call returns, so a file that libssh
 * (and so sshmountfs) cannot load is never left behind.
 *
 * Private key material only lives in libsodium guarded memory or in OpenSSL
 * objects freed with their clearing free. Thread: reentrant.
 */
#ifndef SSHMOUNTFS_TOOLS_KEYGEN_H
#define SSHMOUNTFS_TOOLS_KEYGEN_H

#include <stddef.h>

#include "secret.h"

enum keygen_type { KEYGEN_ED25519 = 0, KEYGEN_ECDSA, KEYGEN_RSA };

#define KEYGEN_RSA_DEFAULT_BITS 3072
#define KEYGEN_ECDSA_DEFAULT_BITS 256
#define KEYGEN_DEFAULT_ROUNDS 16

struct keygen_spec {
	enum keygen_type type;
	unsigned bits;			/* 0 = default; ECDSA 256/384/521, RSA 1024..16384 */
	const char *comment;		/* NULL = user@host */
	const struct secret *passphrase; /* NULL or empty = not encrypted */
	unsigned rounds;		/* bcrypt_pbkdf rounds; 0 = 16 */
};

/* "ed25519", "ecdsa", "rsa" (also "ssh-ed25519", "ssh-rsa"). 0 or -EINVAL. */
int keygen_type_parse(const char *name, enum keygen_type *out);

/* Checks spec->bits for the type; fills in the default. 0 or -EINVAL. */
int keygen_check_bits(enum keygen_type type, unsigned *bits);

/* Writes a new key pair: 'path' (mode 0600) and 'path'.pub (0644), both
 * created exclusively. Returns 0; -EEXIST when either file exists (nothing
 * written); -EINVAL, -ENOMEM, -EIO or -errno otherwise with err filled.
 * On success *publine (caller frees) is the .pub line without newline. */
int keygen_generate(const char *path, const struct keygen_spec *spec,
		     char **publine, char *err, size_t errlen);

#endif
