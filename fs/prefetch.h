/* prefetch: directory read-ahead for tree walks (find, ls -R, du, cp -r,
 * rsync from the mount).
 *
 * A walk opens one directory after another and each costs two round trips
 * (OPENDIR, READDIR). When a directory is opened whose parent's listing is
 * cached (the walk descended into it), the listings of the parent's other
 * subdirectories are loaded in the background by a few worker threads and
 * cached, once per parent listing, and so are the subdirectories of what
 * they load, while a budget lasts: every such descent adds
 * PREFETCH_BUDGET directories to it (up to PREFETCH_BUDGET_MAX), so a
 * walk that stops stops the read-ahead soon after. Listing one directory
 * (ls) prefetches nothing. With cache=no there is nothing to prefetch into,
 * so nothing runs.
 *
 * Lookups: a program that opens many files of one directory by name
 * (without listing it) costs a round trip per lookup. After
 * PREFETCH_MISSES lookups in a row miss the cache in the same directory,
 * its listing (with every entry's attributes) is loaded in the background,
 * and the following lookups are answered from the cache.
 *
 * Only with -o exclusive: a listing or attributes loaded before a program
 * asked are served later, so a change another client makes in between
 * stays unseen until the cache times out, where sshfs would show it. Without
 * the user's promise that nothing else changes the tree, no worker starts
 * and both notes do nothing.
 *
 * Bounded: PREFETCH_QUEUE paths waiting (more are dropped), PREFETCH_WORKERS
 * loads at a time. Thread: prefetch_note() from libfuse workers;
 * start/stop from main().
 */
#ifndef SSHMOUNTFS_FS_PREFETCH_H
#define SSHMOUNTFS_FS_PREFETCH_H

#include <pthread.h>
#include <stdbool.h>

#define PREFETCH_WORKERS 16
#define PREFETCH_QUEUE 512
#define PREFETCH_MISSES 3
#define PREFETCH_BUDGET 256
#define PREFETCH_BUDGET_MAX 1024

struct fs_ctx;

/* Loads and caches one directory's listing (dirops.c provides it). */
typedef void prefetch_load_fn(struct fs_ctx *c, const char *path);

struct prefetch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *q[PREFETCH_QUEUE];
	int head, n;
	int budget;		/* directories that may still be queued */
	char *miss_dir;		/* where the last lookups missed */
	int misses;
	bool stop, started;
	int nthreads;
	pthread_t th[PREFETCH_WORKERS];
	struct fs_ctx *c;
	prefetch_load_fn *load;
};

/* Starts the workers. 0 or -errno (then prefetching is simply off). */
int prefetch_start(struct prefetch *p, struct fs_ctx *c, prefetch_load_fn *load);
/* Stops and joins the workers, drops the queue. Safe when never started. */
void prefetch_stop(struct prefetch *p);
/* 'dir' was just opened: when its parent's listing is cached and not yet
 * claimed, queue the parent's other subdirectories. */
void prefetch_note(struct prefetch *p, const char *dir);

/* A lookup of 'path' missed the cache (see above). */
void prefetch_miss(struct prefetch *p, const char *path);

#endif
