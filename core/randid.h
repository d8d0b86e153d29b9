/* randid: the seed's randomId(size=6, chars=A-Z0-9), from libsodium's
 * generator (BiT used Python's non-cryptographic random; the names of
 * temporary remote files should not be guessable by other remote users).
 *
 * Thread: any (libsodium's randombytes is thread-safe after sodium_init(),
 * which randid_make() calls; it is idempotent).
 */
#ifndef SSHMOUNTFS_CORE_RANDID_H
#define SSHMOUNTFS_CORE_RANDID_H

#include <stddef.h>

#define RANDID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define RANDID_SIZE 6

/* Writes 'size' characters drawn uniformly from 'chars' (NULL = A-Z0-9)
 * and a NUL into buf (buflen > size). 0, -EINVAL (empty set, set over 256
 * characters, buffer too small), -EIO (libsodium unusable). */
int randid_make(char *buf, size_t buflen, size_t size, const char *chars);

#endif
