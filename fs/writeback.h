/* writeback: per-handle accounting for write-behind.
 *
 * FUSE writes are answered as soon as their SFTP WRITEs are queued; this
 * module bounds how many bytes a handle may have in flight (a writer blocks
 * in wb_reserve() while over the limit), remembers the first error a WRITE
 * came back with, and lets flush/fsync/release wait until everything sent
 * has been answered (wb_drain()).
 *
 * The first error is sticky: every later wb_reserve() and wb_drain() on the
 * handle returns it, so the application learns of it at write, flush, fsync
 * or close, whichever comes first, and keeps learning of it.
 *
 * Thread: wb_reserve/wb_drain from FUSE threads (they block); wb_done from
 * any thread, including fxc's I/O thread (it never blocks).
 */
#ifndef SSHMOUNTFS_FS_WRITEBACK_H
#define SSHMOUNTFS_FS_WRITEBACK_H

#include <pthread.h>
#include <stdint.h>

struct wb {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t limit;		/* bytes in flight allowed */
	uint64_t bytes;		/* bytes in flight */
	unsigned count;		/* requests in flight */
	int err;		/* first error (negative errno), sticky */
	uint64_t total;		/* bytes ever reserved (tests, stats) */
	unsigned draining;	/* wb_drain() callers waiting */
};

/* limit 0 means 8 MiB. */
void wb_init(struct wb *w, uint64_t limit);
void wb_destroy(struct wb *w);

/* Waits until 'len' more bytes fit (a single request bigger than the limit
 * is admitted alone) and no wb_drain() is waiting, then counts them. Returns 0, or the sticky error
 * (nothing is counted then). */
int wb_reserve(struct wb *w, uint64_t len);

/* A reserved request finished with 'err' (0 or negative errno). */
void wb_done(struct wb *w, uint64_t len, int err);

/* Records an error without a request (e.g. a submit that failed after
 * wb_reserve, followed by wb_done). */
void wb_fail(struct wb *w, int err);

/* Waits until nothing is in flight; returns the sticky error or 0. New
 * reservations wait meanwhile, so a steady writer cannot starve a reader
 * that must see its writes (fileops_settle_others). */
int wb_drain(struct wb *w);

/* Requests in flight right now (no waiting). */
unsigned wb_pending(struct wb *w);

#endif
