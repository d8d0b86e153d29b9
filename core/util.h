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

/* Sends the ACK for what fd has received now instead of after the
 * kernel's delayed-ACK timer (40 ms on Linux). Call it before waiting for
 * more from a peer that may hold its next small segment back until the
 * last one is acknowledged (Nagle: sshd does not set TCP_NODELAY on
 * sessions without a terminal). 0, or -errno when fd is not a TCP socket
 * (a ProxyCommand's socketpair): the caller may stop calling then. */
int util_tcp_ack_now(int fd);

#endif
