/* writeback: per-handle accounting for write-behind.
 *
 * FUSE writes are answered as soon as their SFTP WRITEs are queued; this
 * module bounds how many bytes a handle may have in flight (a writer blocks
 * in writeback_reserve() while over the limit), remembers the first error a WRITE
 * came back with, and lets flush/fsync/release wait until everything sent
 * has been answered (writeback_drain()).
 *
 * The first error is sticky: every later writeback_reserve() and writeback_drain() on the
 * handle returns it, so the application learns of it at write, flush, fsync
 * or close, whichever comes first, and keeps learning of it.
 *
 * Lost requests (reconnection, io.h): a request whose connection died
 * before it was answered is "lost", not finished: it stays counted (its
 * bytes still bound the writer) until the caller sends it again
 * (writeback_found, then writeback_done when that answer comes) or gives
 * it up (writeback_found, then writeback_done with an error). While any
 * request is lost, writeback_reserve() and writeback_drain() return
 * -ENOTCONN at once so that their caller can reopen the file and replay.
 *
 * Thread: writeback_reserve/writeback_drain from FUSE threads (they block); writeback_done from
 * any thread, including fxc's I/O thread (it never blocks).
 */
#ifndef SSHMOUNTFS_FS_WRITEBACK_H
#define SSHMOUNTFS_FS_WRITEBACK_H

#include <pthread.h>
#include <stdint.h>

struct writeback {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t limit;		/* bytes in flight allowed */
	uint64_t bytes;		/* bytes in flight */
	unsigned count;		/* requests in flight */
	int err;		/* first error (negative errno), sticky */
	uint64_t total;		/* bytes ever reserved (tests, stats) */
	unsigned draining;	/* writeback_drain() callers waiting */
	unsigned lost;		/* of count: their link died, not resent yet */
};

/* limit 0 means 8 MiB. */
void writeback_init(struct writeback *w, uint64_t limit);
void writeback_destroy(struct writeback *w);

/* Waits until 'len' more bytes fit (a single request bigger than the limit
 * is admitted alone) and no writeback_drain() is waiting, then counts them. Returns 0, or the sticky error
 * (nothing is counted then), or -ENOTCONN while a request is lost. */
int writeback_reserve(struct writeback *w, uint64_t len);

/* A reserved request finished with 'err' (0 or negative errno). */
void writeback_done(struct writeback *w, uint64_t len, int err);

/* Records an error without a request (e.g. a submit that failed after
 * writeback_reserve, followed by writeback_done). */
void writeback_fail(struct writeback *w, int err);

/* Waits until nothing is in flight; returns the sticky error or 0. New
 * reservations wait meanwhile, so a steady writer cannot starve a reader
 * that must see its writes (fileops_settle_others). Returns -ENOTCONN
 * (before the sticky error: lost data comes first) as soon as a request
 * is lost. */
int writeback_drain(struct writeback *w);

/* A reserved request's link died before it was answered (any thread,
 * never blocks): it stays counted, and waiters are woken. */
void writeback_lost(struct writeback *w);

/* A lost request is sent again, or given up: no longer lost (writeback_done
 * follows for it as for any request). */
void writeback_found(struct writeback *w);

/* Waits until every request in flight is either answered or lost: for a
 * caller about to replay the lost ones in order. */
void writeback_wait_lost(struct writeback *w);

/* Requests in flight right now (no waiting). */
unsigned writeback_pending(struct writeback *w);
/* Bytes in flight right now (no waiting): status output. */
uint64_t writeback_pending_bytes(struct writeback *w);

#endif
