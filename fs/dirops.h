/* dirops: directory listing for libfuse (opendir, readdir, releasedir).
 *
 * opendir takes the names of a fresh cached listing, or loads the whole
 * directory with pipelined READDIRs (rfs_list) and caches the listing and
 * every entry's attributes. readdir fills with offsets index + 1, which is
 * what makes libfuse 3.14 pass readdirplus attributes to the kernel, so
 * `ls -l` costs no request per file.
 *
 * Attributes handed out with an entry are the attribute cache's at the
 * moment of the readdir, never a snapshot: a write through another handle
 * invalidates them, and the kernel must not be told an older size than the
 * one its own (write-behind) writes gave it. Entries with writes in flight,
 * and symlinks under follow_symlinks, go without attributes (the kernel
 * looks them up).
 *
 * Opening a directory also tells prefetch.h, which fetches the listings
 * of its siblings when a tree walk is going on.
 *
 * Thread: libfuse workers. Errors: negative errno.
 */
#ifndef SSHMOUNTFS_FS_DIROPS_H
#define SSHMOUNTFS_FS_DIROPS_H

#include "fuseapi.h"

int dirops_opendir(const char *path, struct fuse_file_info *fi);
int dirops_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		   struct fuse_file_info *fi, enum fuse_readdir_flags flags);
int dirops_releasedir(const char *path, struct fuse_file_info *fi);
/* fsync of a directory: under -o exclusive a durability point (waits for
 * the queue, asyncmeta.h) that reports the first refusal kept for the
 * directory or a name in it; otherwise nothing to do (every change was
 * answered by the server). */
int dirops_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi);

/* After the loop: frees the handles still open. The kernel sends the
 * release of a closed directory in the background; when the mount ends
 * first (unmount or signal right after a listing) it never comes. libfuse
 * keeps its own part of such a handle, which nothing can free: in
 * sanitizer builds LeakSanitizer is told to ignore it, as it is not ours. */
void dirops_close_all(struct fs_ctx *c);

/* Loads and caches 'path's listing (prefetch.h's load function). */
void dirops_prefetch_load(struct fs_ctx *c, const char *path);

#endif
