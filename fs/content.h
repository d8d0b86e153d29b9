/* content: read-ahead of small files' contents for programs that read the
 * files of a directory one after another (cat *, grep -r, cp -r, tar -c).
 *
 * Each such file costs a program an OPEN and a READ round trip (the CLOSE
 * travels in the background). When a program opens a second file for
 * reading in the directory it opened the last one in (or its first one in
 * a new directory while it was walking), the next regular files of that
 * directory's cached listing whose cached size is at most
 * CONTENT_FILE_MAX are read whole in the background: the next ones in name
 * order after the file just opened (the shell's `cat *`, and the readdir
 * order of grep -r, cp -r and tar -c: the mount lists every directory in
 * name order, dirops.c) and the next ones in the cached listing's order
 * (the same, as long as the cache keeps listings sorted); and for a
 * program that walks (it read a directory's files one after another and
 * went on to another), the first files of the directory after this one in
 * the parent's cached listing, where a walker goes next. The open of
 * such a file is then answered from memory (io_file_new_preloaded): no
 * request at all unless the program asks for something that needs the
 * remote handle.
 *
 * Only with -o exclusive (and the cache on: the names and sizes come from
 * cached listings). Contents read before a program asked are served
 * later, so a change another client makes in between is not seen, where
 * sshfs would read the new bytes (contents older than cache_stat_timeout
 * are not served): without the user's promise that nothing
 * else changes the tree no worker starts and every function here does
 * nothing. Changes through the mount are seen: contents are served only
 * when none of the mount's own changes since the load began concerns the
 * path (cache_changed_since: writes, truncates, renames, removals), and
 * never while a descriptor of the mount has writes to the file that may
 * still be travelling on another channel (ofile_has_writer).
 *
 * Bounded: CONTENT_AHEAD files queued, loading or loaded at a time, at
 * most CONTENT_WORKERS loads in flight, and at most CONTENT_MAX_BYTES held
 * (each file counts its cached size plus one byte from the moment it is
 * queued). Contents not taken are dropped when the program opens a file
 * in another directory (those read ahead for that one are kept); taken
 * contents belong to the open file.
 *
 * Thread: content_take/content_note_open from libfuse workers; start/stop
 * from main(). Lock order: the content lock, then the cache's.
 */
#ifndef SSHMOUNTFS_FS_CONTENT_H
#define SSHMOUNTFS_FS_CONTENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTENT_FILE_MAX (64u << 10)
#define CONTENT_MAX_BYTES (1u << 20)
#define CONTENT_WORKERS 32
#define CONTENT_AHEAD 64
#define CONTENT_DONE_MAX 256	/* taken names remembered (not loaded again) */
#define CONTENT_SCAN 16384	/* names of one listing considered */

struct fs_ctx;
struct content_entry;

struct content_stats {
	uint64_t loaded;	/* files read ahead */
	uint64_t served;	/* opens answered from them */
	uint64_t dropped;	/* read ahead and never served */
	size_t held, peak;	/* bytes counted now, and at most */
};

struct content {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct content_entry *list;
	int active;		/* queued, loading or loaded */
	int ndone;
	size_t held;
	struct content_stats st;
	char *dir;		/* where the last open was */
	int streak;		/* opens in a row in 'dir' */
	bool walking;		/* the previous directory had a streak */
	bool stop, started;
	int nthreads;
	pthread_t th[CONTENT_WORKERS];
	struct fs_ctx *c;
};

/* Starts the workers under -o exclusive with the cache on; otherwise
 * leaves read-ahead off. 0 or -errno (then it is simply off). */
int content_start(struct content *k, struct fs_ctx *c);
/* Stops and joins the workers and frees what was loaded (logs the
 * statistics at debug level). Safe when never started. */
void content_stop(struct content *k);

/* The contents of 'path' read ahead and still current: true with *data
 * (malloc'd, the caller's; NULL when *len is 0) and *len. Waits for a
 * load of the path already in flight. False when there is none. */
bool content_take(struct content *k, const char *path, uint8_t **data, size_t *len);

/* A program opened 'path' for reading (whether or not it was served by
 * content_take): queues the next files as described above. */
void content_note_open(struct content *k, const char *path);

void content_get_stats(struct content *k, struct content_stats *out);

#endif
