/* fileops: the open-file operations (libfuse high-level API): open,
 * create, read, write, flush, release, fsync, copy_file_range.
 *
 * Open files are spread over the connections (fsctx_pick) and registered by
 * path (ofile.h); the data path is io.h's. Page cache: with direct_io no
 * page cache; with kernel_cache pages are always kept; otherwise (the
 * default, like libfuse's auto_cache) pages are kept across an open when
 * the file's size and mtime are what they were at the previous open, and
 * dropped when the file changed (by us or on the server) or cache=no.
 *
 * Returns 0 / byte counts or negative errno. Threads: libfuse workers.
 */
#ifndef SSHMOUNTFS_FS_FILEOPS_H
#define SSHMOUNTFS_FS_FILEOPS_H

#include "fuseapi.h"

int fileops_open(const char *path, struct fuse_file_info *fi);
int fileops_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int fileops_read(const char *path, char *buf, size_t size, off_t off,
		 struct fuse_file_info *fi);
int fileops_write(const char *path, const char *buf, size_t size, off_t off,
		  struct fuse_file_info *fi);
int fileops_flush(const char *path, struct fuse_file_info *fi);
int fileops_release(const char *path, struct fuse_file_info *fi);
int fileops_fsync(const char *path, int datasync, struct fuse_file_info *fi);
ssize_t fileops_copy_file_range(const char *path_in, struct fuse_file_info *fi_in,
				off_t off_in, const char *path_out,
				struct fuse_file_info *fi_out, off_t off_out,
				size_t len, int flags);

/* Waits for the writes of every descriptor with writes at 'path' (NULL:
 * of the same file as 'except', unlinked or not) other than 'except':
 * they travel on other channels, and a read, size, offset or truncate that
 * comes next must come after them. Their errors are their descriptors'
 * to report. */
void fileops_settle_others(struct fs_ctx *c, const char *path, struct io_file *except);

/* SFTP OPEN flags for open(2) flags (O_CREAT/O_EXCL/O_TRUNC included). */
uint32_t fileops_pflags(int flags);

#endif
