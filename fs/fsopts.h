/* fsopts: turns the option model (core/opts.h) into what libfuse takes:
 * the argument vector for fuse_new() (mount and library options) and the
 * settings of the multi-threaded loop.
 *
 *   fsname=[user@]host:path (commas and backslashes escaped, as fusermount
 *   wants), subtype=sshmountfs, allow_other / allow_root,
 *   default_permissions, ro, uid= gid= umask=, then o->fuse_opts in order
 *   (so a user's own fsname=/subtype= wins), except the loop options
 *   max_threads=, max_idle_threads= and clone_fd, which fuse_new() would
 *   refuse: they go to the loop settings.
 *
 * kernel_cache / auto_cache / direct_io are not passed: the fs decides per
 * open (ops.c), so that its own cache logic is the only one.
 *
 * Pure: no libfuse here (testable without it). Thread: main() only.
 */
#ifndef SSHMOUNTFS_FS_FSOPTS_H
#define SSHMOUNTFS_FS_FSOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "opts.h"

#define FSOPTS_DEFAULT_MAX_THREADS 32

struct fsopts {
	int argc;
	char **argv;		/* NULL-terminated, heap; argv[0] "sshmountfs" */
	unsigned max_threads;
	int max_idle_threads;	/* -1 = libfuse default */
	bool clone_fd;
	bool single_thread;
	char *fsname;		/* unescaped, for messages */
};

/* 0, -ENOMEM, or -EINVAL with err filled (a bad loop option value). */
int fsopts_build(const struct opts *o, struct fsopts *out, char *err, size_t errlen);
void fsopts_free(struct fsopts *f);

/* "[user@]host:path" as users write it (IPv6 hosts in brackets). */
int fsopts_source(const struct opts *o, char **out);

#endif
