/* kdf: bcrypt_pbkdf, the key derivation OpenSSH uses for passphrase-protected
 * private keys ("openssh-key-v1" with kdfname "bcrypt").
 *
 * Neither libsodium nor OpenSSL offers it and libssh keeps its own copy
 * private, so it is written here from the published algorithm (OpenBSD's
 * bcrypt_pbkdf(3): PBKDF2-like rounds of SHA-512 and the eksblowfish
 * "bcrypt hash", output bytes spread across blocks). Blowfish's initial
 * state is the fractional part of pi; it is computed at run time with
 * Machin's formula instead of carrying a 4 KiB table.
 *
 * Thread: reentrant; all state is on the caller's stack or heap and wiped.
 */
#ifndef SSHMOUNTFS_TOOLS_KDF_H
#define SSHMOUNTFS_TOOLS_KDF_H

#include <stddef.h>
#include <stdint.h>

/* Derives keylen bytes (1..1024) from the passphrase and salt with 'rounds'
 * (>= 1) rounds. 0, -EINVAL for out-of-range arguments, -ENOMEM. */
int kdf_bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt,
		     size_t saltlen, uint8_t *key, size_t keylen, unsigned rounds);

/* The first n 32-bit words of pi's fractional part (243F6A88 85A308D3 ...),
 * n <= 1042 (Blowfish's P-array then S-boxes). 0 or -ENOMEM/-EINVAL. */
int kdf_pi_words(uint32_t *out, size_t n);

#endif
