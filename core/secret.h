/* secret: passphrases and passwords in libsodium guarded memory.
 *
 * A secret lives in sodium_malloc() memory (guard pages, mlocked, excluded
 * from core dumps where the kernel allows) and is wiped by secret_free().
 * It never goes to argv, the environment of a child, or a log.
 * Thread: a secret belongs to one thread at a time.
 */
#ifndef SSHMOUNTFS_SECRET_H
#define SSHMOUNTFS_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_MAX 1024		/* longest passphrase or password we take */

struct secret {
	char *s;		/* NUL-terminated, in guarded memory */
	size_t len;
};

/* Must run once before any other function here (calls sodium_init()).
 * 0 or -EIO. Safe to call more than once. */
int secret_init(void);

/* Reads one line (without its newline, and without a trailing '\r') from
 * fd; reads byte by byte so that nothing after the line is consumed. End of
 * file ends the line too. -EINVAL when empty or too long, -EIO on read
 * failure. *out is freshly allocated. Blocks until the line is complete. */
int secret_from_fd(int fd, struct secret **out);

/* Runs the askpass program (SSH_ASKPASS, else ssh-askpass on PATH is NOT
 * searched: the caller passes the program) with 'prompt' as its argument and
 * reads its stdout. -ENOENT if the program is missing, -ECANCELED if it
 * exits non-zero. The program is found through PATH when it has no '/'
 * (as OpenSSH's execlp), its stdin is /dev/null, descriptors above 2 are
 * closed in it, and it inherits our environment (which holds no secret).
 * The answer is its first output line; -EINVAL when that is empty or
 * longer than SECRET_MAX. Waits for the program without a time limit
 * (it is waiting for a person). */
int secret_from_askpass(const char *program, const char *prompt, struct secret **out);

/* Prompts on /dev/tty with echo off (the terminal is restored on every
 * path; a SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGTSTP arriving meanwhile is
 * re-raised after restoring and the call returns -EINTR). -ENXIO when there
 * is no terminal, -ECANCELED on end-of-file without input. An empty line
 * gives an empty secret (len 0): OpenSSH's "skip this key". Installs
 * signal handlers for the duration of the prompt, so call it before other
 * threads that care about those signals start. */
int secret_from_tty(const char *prompt, struct secret **out);

/* True when the process has a controlling terminal (/dev/tty opens). */
bool secret_have_tty(void);

/* Copies 'len' bytes into a new secret. */
int secret_from_bytes(const void *p, size_t len, struct secret **out);

/* Wipes and frees (NULL-safe). Returns NULL for x = secret_free(x). */
struct secret *secret_free(struct secret *s);

#endif
