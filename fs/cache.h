/* cache: sshfs-style path-keyed caches of attributes, directory listings
 * and symlink targets, plus the "content stamps" that decide whether the
 * kernel may keep a file's pages across opens.
 *
 * Each kind has its own timeout (cache_stat_timeout, cache_dir_timeout,
 * cache_link_timeout). The rule every entry obeys is sshfs 3.7's: a
 * listing is served only when a program's readdir fetched it within
 * cache_dir_timeout; attributes only when a program's request (or a
 * listing a program asked for) fetched them within cache_stat_timeout; a
 * name is missing only when the server said so for this request. So
 * whoever puts an entry must be answering a program (speculative loads
 * run only with -o exclusive, see prefetch.h). Our own operations keep the
 * caches truthful by invalidating (or, where the outcome is certain,
 * updating) everything they touch, the parent directory's attributes
 * included (its mtime and ctime change with every name added or removed);
 * a name we add or remove drops the parent's listing, as sshfs does, so
 * the next readdir also shows what others changed there (with
 * cfg.edit_listings, -o exclusive, the listing is edited instead);
 * changes made on the server by others show once the timeout has passed.
 *
 * Races: a reply that left the server before one of our own changes must
 * not be cached after it. Callers take cache_gen() before sending a request
 * and pass it to the put functions; a put is dropped when one of our
 * changes since then concerns it: the path itself, a directory above it
 * (removed or renamed), or a name in it (its listing and its times). The
 * last CACHE_INVAL_RING changes are remembered; a put older than those is
 * dropped whatever it is (conservative, never stale).
 *
 * With -o exclusive only, a directory we created ourselves (mkdir) starts
 * with an empty listing that our own operations keep up to date: while it
 * is fresh, a name missing from it does not exist (cache_lookup_negative),
 * which saves a round trip per lookup of a new name (tar, cp -r into a
 * fresh directory). Without the promise another client may fill the
 * directory at once, and sshfs would show its names. Listings read from
 * the server never answer negatively: a file created there is found by
 * name at once, as with sshfs (only listings wait for the timeout).
 *
 * Thread: every function may be called from any thread (one mutex).
 * With cfg.enabled false every get misses and every put is dropped.
 */
#ifndef SSHMOUNTFS_FS_CACHE_H
#define SSHMOUNTFS_FS_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct cache_config {
	bool enabled;
	double stat_timeout, dir_timeout, link_timeout;	/* seconds */
	unsigned max_size;	/* entries before cleaning; 0 = 10000 */
	/* Our own name changes edit the parent's cached listing instead of
	 * dropping it (-o exclusive). Off, as sshfs: the next readdir of the
	 * parent asks the server, so it also shows what others changed. */
	bool edit_listings;
	/* Monotonic seconds; NULL = CLOCK_MONOTONIC. For tests. */
	double (*now)(void *arg);
	void *now_arg;
};

/* One entry of a directory listing: name and file type (S_IFMT bits). */
struct cache_dirent {
	char *name;
	mode_t type;
};

struct cache;

/* 0 or -ENOMEM. */
int cache_new(const struct cache_config *cfg, struct cache **out);
void cache_free(struct cache *c);	/* NULL-safe */

/* The current invalidation generation (see the race note above). */
uint64_t cache_gen(struct cache *c);

/* True when one of our changes since 'gen' concerns 'path' (the test the
 * put functions apply, see the race note): for data fetched on the side,
 * such as file contents read ahead (content.h). */
bool cache_changed_since(struct cache *c, const char *path, uint64_t gen);

/* ---- attributes ---- */

/* True and *st filled when a fresh entry exists. */
bool cache_get_attr(struct cache *c, const char *path, struct stat *st);
void cache_put_attr(struct cache *c, const char *path, const struct stat *st, uint64_t gen);

/* True when the parent's listing is one of ours (mkdir), fresh, and has no
 * entry for path's last component: the path does not exist (within the
 * timeout). */
bool cache_lookup_negative(struct cache *c, const char *path);

/* ---- directory listings ---- */

/* Calls fn for each entry of a fresh listing of 'dir' (under the lock: fn
 * must not call back into the cache) and returns true; false on a miss.
 * fn returns 0 to go on, non-zero to stop; fn NULL only asks for a hit. */
typedef int cache_dir_fn(void *arg, const char *name, mode_t type);
bool cache_get_dir(struct cache *c, const char *dir, cache_dir_fn *fn, void *arg);
/* Stores a complete listing (names are copied; "." and ".." must not be in
 * it). Dropped when gen is stale. */
void cache_put_dir(struct cache *c, const char *dir, const struct cache_dirent *ents,
		   size_t n, uint64_t gen);

/* Directory read-ahead (prefetch.h): true exactly once per fresh listing
 * of 'dir' (its subdirectories are being walked: fetch their listings). */
bool cache_dir_claim(struct cache *c, const char *dir);

/* ---- symlinks ---- */

/* A fresh copy of the cached target in *target (caller frees); false on a miss. */
bool cache_get_link(struct cache *c, const char *path, char **target);
void cache_put_link(struct cache *c, const char *path, const char *target, uint64_t gen);

/* ---- our own changes ---- */

/* 'path' changed (write, chmod, chown, utimens, truncate): drop its
 * attributes (its name is unchanged, so the parent listing stays). */
void cache_invalidate_attr(struct cache *c, const char *path);

/* After our own change to path's attributes: stores 'st' (what the server
 * answered right after the change) when nothing invalidated since 'gen',
 * else drops the entry; either way replies still in flight become stale.
 * st may be NULL (unknown: drop). */
void cache_replace_attr(struct cache *c, const char *path, const struct stat *st,
			uint64_t gen);

/* 'path' was created with file type 'type' (create, mkdir, symlink, link):
 * drop its entry and the parent's attributes, add the name to a fresh
 * parent listing (dropping the listing if that fails). A new directory
 * gets an empty fresh listing when 'is_new_dir' (mkdir under -o exclusive:
 * we know it is empty and nobody else fills it). */
void cache_created(struct cache *c, const char *path, mode_t type, bool is_new_dir);

/* 'path' and everything under it are gone (unlink, rmdir): drop them and
 * the parent's attributes, and remove the name from the parent listing. */
void cache_removed(struct cache *c, const char *path);

/* 'from' became 'to' (rename): drop both subtrees and both parents'
 * attributes; both parents' listings are updated (removed from one, added
 * to the other with 'type'). */
void cache_renamed(struct cache *c, const char *from, const char *to, mode_t type);

/* Drops everything under 'path' (including itself) and the parent's
 * listing and attributes. */
void cache_invalidate_tree(struct cache *c, const char *path);

/* ---- content stamps (keep the kernel's page cache across opens) ---- */

/* Records size and mtime of a file's contents as the kernel will cache them. */
void cache_stamp_set(struct cache *c, const char *path, const struct stat *st);
/* True when a stamp exists and matches size and mtime in st. */
bool cache_stamp_match(struct cache *c, const char *path, const struct stat *st);
/* Forgets the stamp (the contents changed through us or are unknown). */
void cache_stamp_clear(struct cache *c, const char *path);

/* Lookups answered from the cache and not, since cache_new (status
 * output). Lookups made while the cache is disabled are not counted. Any
 * thread, without waiting for the cache's lock. */
struct cache_stats {
	uint64_t attr_hits, attr_misses;	/* cache_get_attr */
	uint64_t dir_hits, dir_misses;		/* cache_get_dir */
};
void cache_get_stats(struct cache *c, struct cache_stats *st);

/* Number of entries (tests, -d statistics). */
size_t cache_size(struct cache *c);

#endif
