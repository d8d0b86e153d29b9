/* secret: passphrases and passwords in libsodium guarded memory.
 *
 * A secret lives in sodium_malloc() memory (guard pages, mlocked, excluded
 * from core dumps where the kernel allows) and is wiped by secret_free().
 * It never goes to argv, the environment of a child, or a log.
 * Thread: a secret belongs to one thread at a time.
 */
#ifndef SSHMOUNTFS_SECRET_H
#define SSHMOUNTFS_SECRET_H

#include <stddef.h>

#define SECRET_MAX 1024		/* longest passphrase or password we take */

struct secret {
	char *s;		/* NUL-terminated, in guarded memory */
	size_t len;
};

/* Must run once before any other function here (calls sodium_init()).
 * 0 or -EIO. Safe to call more than once. */
int secret_init(void);

/* Reads one line (without its newline) from fd; reads byte by byte so that
 * nothing after the line is consumed. -EINVAL when empty or too long,
 * -EIO on read failure. *out is freshly allocated. */
int secret_from_fd(int fd, struct secret **out);

/* Runs the askpass program (SSH_ASKPASS, else ssh-askpass on PATH is NOT
 * searched: the caller passes the program) with 'prompt' as its argument and
 * reads its stdout. -ENOENT if the program is missing, -ECANCELED if it
 * exits non-zero. */
int secret_from_askpass(const char *program, const char *prompt, struct secret **out);

/* Prompts on /dev/tty with echo off. -ENXIO when there is no terminal. */
int secret_from_tty(const char *prompt, struct secret **out);

/* Copies 'len' bytes into a new secret. */
int secret_from_bytes(const void *p, size_t len, struct secret **out);

/* Wipes and frees (NULL-safe). Returns NULL for x = secret_free(x). */
struct secret *secret_free(struct secret *s);

#endif
