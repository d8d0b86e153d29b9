/* asyncmeta: the queue of -o exclusive's asynchronous metadata.
 *
 * Under -o exclusive (the user's promise that nothing else changes the tree
 * while it is mounted) mkdir, unlink, rmdir, rename, symlink, the path
 * setattrs (mode, owner, times, size) and the close of a written file are
 * answered at once from what the mount knows and sent without waiting; so
 * is a create of a name known to be free (asyncmeta_open): its writes and
 * FSETSTATs wait in io for the OPEN's handle and follow it one round trip
 * later (io_file_new_pending), so that the prefix rule below has one
 * exception, the content and attributes of files created in the last
 * round trip.
 *
 * Order: every queued request, and every file handle the mount opens in this
 * mode, travels on one channel of conn[0] (ASYNCMETA_CHAN). One channel is
 * one sftp-server process that runs its requests one after the other in the
 * order they were submitted, so dependencies need no bookkeeping: the
 * WRITEs of a file come before the rename, chown or utimens of it that the
 * program asked for after them, the unlinks in a directory before its
 * rmdir, an unlink before a create of the same name. And the server's tree
 * is always a prefix of the sequence: whatever reached the server process
 * before a kill -9 of the daemon is run in order, nothing after it.
 * Requests that do not go through the queue and could see or overtake it
 * (a lookup, listing, readlink, open, any blocking path request) first wait
 * for it to drain (fsctx_remote). That is also the rule's price: a program
 * that makes the mount ask the server (a cache miss) waits for the queue.
 *
 * Memory: at most ASYNCMETA_LIMIT requests in flight and ASYNCMETA_HELD
 * closed files whose writes are not yet answered; a caller past either
 * waits (the oldest held file is settled in its thread).
 *
 * Errors: an operation the server refuses is logged with its path, counted
 * (asyncmeta_failures, for the status output) and kept (up to
 * ASYNCMETA_KEEP) until reported: at the next fsync or close (flush) of
 * that path, or at fsync of its directory (asyncmeta_take). The cached
 * pieces the mount had made up for it are dropped, so later stats and
 * listings ask the server.
 *
 * Durability points wait for everything queued before them (asyncmeta_drain):
 * fsync of a file, fsync of a directory, unmount and the daemon's exit
 * (fsctx_destroy). Linux does not pass syncfs(2) to FUSE filesystems.
 *
 * Thread: any FUSE thread; the completions run on fxc's I/O thread and take
 * only the queue's mutex and the cache's.
 */
#ifndef SSHMOUNTFS_FS_ASYNCMETA_H
#define SSHMOUNTFS_FS_ASYNCMETA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "io.h"
#include "rfs.h"

#define ASYNCMETA_CHAN 0
#define ASYNCMETA_LIMIT 4096	/* requests in flight */
#define ASYNCMETA_HELD 256	/* closed files with writes not yet answered */
#define ASYNCMETA_KEEP 1024	/* refusals kept for reporting */
#define ASYNCMETA_CREATES 64	/* creates whose OPEN is not answered */

struct asyncmeta_fail;
struct asyncmeta_held;

struct asyncmeta {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct cache *cache;
	unsigned inflight;		/* submitted, not answered */
	unsigned creating;		/* creates' OPENs not answered */
	unsigned nheld, nkept;
	uint64_t sent, failed;		/* counters for the status output */
	struct asyncmeta_fail *fails;	/* oldest first */
	struct asyncmeta_held *held;	/* oldest first */
	bool ids_known;			/* the remote owner of what we create */
	uint32_t uid, gid, strip;
};

/* 'cache' is where the made-up answers of refused operations are dropped. */
void asyncmeta_init(struct asyncmeta *q, struct cache *cache);
/* Drains first (asyncmeta_drain); then frees what is kept. */
void asyncmeta_destroy(struct asyncmeta *q);

/* Queues 'op' (rfs_path_async) on (fx, ASYNCMETA_CHAN) for the fuse path
 * 'fpath' (and 'fpath2', the new name of a rename, for error reports);
 * rpath/rpath2 are the remote paths. Waits while ASYNCMETA_LIMIT requests
 * are in flight. 0, or rfs_path_async's error (nothing was sent: the caller
 * does it the blocking way). */
int asyncmeta_path(struct asyncmeta *q, struct fxc *fx, enum rfs_async_op op,
		   const char *fpath, const char *fpath2, const char *rpath,
		   const char *rpath2, const struct fxp_attr *a);

/* A create answered at once: queues the OPEN of 'rpath' (pflags, 'a')
 * for the pending file 'f' (io_file_new_pending) on (fx, ASYNCMETA_CHAN)
 * and gives its outcome to io_file_opened (which sends the writes and
 * FSETSTATs the file held, in order, before any later request); a
 * refusal is logged, counted and kept under 'fpath' like any queued
 * request's. Waits while ASYNCMETA_CREATES creates are pending (with
 * IO_HELD_LIMIT per file that bounds the held writes in total) or
 * ASYNCMETA_LIMIT requests are in flight. 0, or rfs_open_async's error
 * (nothing sent, io_file_opened not called). */
int asyncmeta_open(struct asyncmeta *q, struct fxc *fx, const char *fpath, const char *rpath,
		   uint32_t pflags, const struct fxp_attr *a, struct io_file *f);

/* A written file was closed without waiting for its WRITEs: takes a
 * reference and keeps it until asyncmeta_release or asyncmeta_drain
 * settles it (io_flush) and keeps its error under 'fpath'. */
void asyncmeta_hold(struct asyncmeta *q, struct io_file *f, const char *fpath);
/* The file's release: if it is held, settles it here (waits for its
 * WRITEs, keeps their error) and drops the reference. Returns the WRITEs'
 * error (already kept) or 0. */
int asyncmeta_release(struct asyncmeta *q, struct io_file *f);

/* Waits until every request queued so far is answered and every held file
 * is settled. */
void asyncmeta_drain(struct asyncmeta *q);

/* The first kept error for 'fpath' (dir false), or for 'fpath' and the
 * names directly in it (dir true: fsync of a directory), and forgets the
 * ones reported. 0 when there is none. */
int asyncmeta_take(struct asyncmeta *q, const char *fpath, bool dir);

/* For the status output: operations refused by the server since the
 * mount (*failed), queued operations sent since the mount (*sent), and
 * requests and held files not answered yet (*pending). Any pointer may be
 * NULL. */
void asyncmeta_status(struct asyncmeta *q, uint64_t *failed, uint64_t *sent,
		      unsigned *pending);

/* The remote owner of what the mount creates, and the permission bits
 * the server's umask takes away, learned from the reply to a create or
 * mkdir that asked for 'asked' ('a' with FXA_UIDGID and FXA_PERMISSIONS),
 * for the attributes of later ones answered at once. asyncmeta_ids is
 * false until learned. */
void asyncmeta_learn_ids(struct asyncmeta *q, const struct fxp_attr *a, uint32_t asked);
bool asyncmeta_ids(struct asyncmeta *q, uint32_t *uid, uint32_t *gid, uint32_t *strip);

#endif
