/* util: the few small helpers every part of the tree wants and no module
 * owns: a monotonic clock for deadlines and a write that finishes.
 * Thread: any; no state.
 */
#ifndef SSHMOUNTFS_UTIL_H
#define SSHMOUNTFS_UTIL_H

#include <stddef.h>

/* CLOCK_MONOTONIC in milliseconds, for deadlines and timeouts (never the
 * wall clock: a clock step must not fire or stretch a deadline). */
long util_now_ms(void);

/* CLOCK_MONOTONIC in seconds, for measuring how long something took. */
double util_now_s(void);

/* Writes all n bytes of p to fd, retrying after EINTR and short writes.
 * 0, -errno of write(2), or -EIO when write(2) wrote nothing. Blocks on a
 * blocking fd; on a nonblocking one -EAGAIN ends it with part written. */
int util_write_all(int fd, const void *p, size_t n);

#endif
