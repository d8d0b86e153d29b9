/* ofile: the registry of open files by fuse path.
 *
 * libfuse runs with nullpath_ok (no path on read/write/release), so the fs
 * keeps each open file's current path here: renames move it, an unlink
 * detaches it (the server keeps the open handle usable, so nothing is
 * renamed to a .fuse_hidden file on the server; hidden.h says how libfuse's
 * hidden names are kept local). A rename over an open file detaches the
 * replaced one. Path operations look here
 * to stay ordered after write-behind: getattr or truncate of a path that has
 * a handle with writes goes through that handle (FSTAT/FSETSTAT on its
 * channel), never racing ahead of WRITEs still queued.
 *
 * Thread: any; one mutex. Lock order: ofile before a file's own mutex, and
 * nothing else is taken under the ofile lock except through callbacks.
 */
#ifndef SSHMOUNTFS_FS_OFILE_H
#define SSHMOUNTFS_FS_OFILE_H

#include <pthread.h>
#include <stdbool.h>

#include "io.h"

/* One registered file: the registry's own node (io_file knows nothing of
 * paths). Fields are the registry's, under its lock. */
struct ofile_node {
	struct io_file *f;
	char *path;		/* NULL once unlinked or replaced */
	char *hidden;		/* libfuse's hidden name once unlinked (hidden.h) */
	struct ofile_node *next, *prev;
};

struct ofile_table {
	pthread_mutex_t mu;
	struct ofile_node head;	/* sentinel of a circular list */
};

void ofile_init(struct ofile_table *t);
void ofile_destroy(struct ofile_table *t);

/* Registers f under a copy of 'path'. 0 or -ENOMEM. */
int ofile_add(struct ofile_table *t, struct io_file *f, const char *path);
/* Unregisters f (idempotent). */
void ofile_remove(struct ofile_table *t, struct io_file *f);

/* Everything at or under 'from' now lives under 'to'; what was at or under
 * 'to' (the replaced file or tree) is detached first, as if unlinked. 0 or
 * -ENOMEM (paths that could not be moved are detached). */
int ofile_rename(struct ofile_table *t, const char *from, const char *to);
/* Files at exactly 'path' lose their path (unlinked, or replaced, while
 * open). With 'hidden' not NULL they answer to libfuse's name for the
 * hidden node (hidden.h): no path operation reaches them by 'path' any
 * more, but fstat and fchmod, which libfuse sends by the hidden name, find
 * them with ofile_find_hidden(). */
void ofile_hide(struct ofile_table *t, const char *path, const char *hidden);

/* A referenced open file that answers to the hidden name (io_file_put when
 * done), or NULL. */
struct io_file *ofile_find_hidden(struct ofile_table *t, const char *hidden);

/* Up to 'max' referenced files other than 'except' that have written
 * through their handles (io_file_put each): those at 'path', or with path
 * NULL, those of the same file as 'except' (its path, or its hidden name
 * once unlinked). Returns how many. */
int ofile_writers(struct ofile_table *t, const char *path, struct io_file *except,
		  struct io_file **out, int max);

/* A referenced open file at 'path' (io_file_put when done) that has
 * written through its handle (when 'writers' is true) or any open file of
 * the path; NULL when there is none. */
struct io_file *ofile_find(struct ofile_table *t, const char *path, bool writers);

/* True when an open file at 'path' has written through its handle (its
 * WRITEs may still be queued on its channel: attributes seen by other
 * requests may be older than what the kernel already knows). */
bool ofile_has_writer(struct ofile_table *t, const char *path);

/* The file at 'path' (NULL: the file of 'except', unlinked or not)
 * changed through 'except' (a write, a truncate): its other open handles
 * drop their read-ahead. */
void ofile_changed(struct ofile_table *t, const char *path, struct io_file *except);

/* A copy of f's current path, or NULL when unlinked or on ENOMEM. */
char *ofile_path(struct ofile_table *t, struct io_file *f);

/* How many files are open and how many bytes of writes they have queued
 * (status output); takes each file's write-behind lock briefly. */
void ofile_count(struct ofile_table *t, unsigned *files, uint64_t *queued);

/* Unregisters and returns one file (NULL when none): for shutting down
 * with files still open. The registry's caller keeps the FUSE reference. */
struct io_file *ofile_pop(struct ofile_table *t);


#endif
