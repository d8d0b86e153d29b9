/* meta: the path operations of the filesystem (libfuse high-level API):
 * getattr, readlink, mkdir/rmdir, namespace changes, attribute changes,
 * statfs, access, mknod.
 *
 * Each returns 0 or a negative errno, as libfuse wants. They run on libfuse
 * worker threads, block on the server (bounded by fxc's deadlines) and keep
 * the caches truthful about our own changes (cache.h).
 *
 * Under -o exclusive, mkdir, unlink, rmdir, rename and symlink whose
 * outcome the caches can tell are answered at once and queued (asyncmeta.h);
 * the others, and every request that goes to the server, wait for the queue.
 *
 * getattr order: the attribute cache; then, for a path with an open handle
 * that has written, FSTAT through that handle (ordered after its queued
 * WRITEs); then a negative answer from a fresh parent listing; then LSTAT
 * (STAT with follow_symlinks, falling back to LSTAT for dangling links).
 *
 * Attribute changes (setattr.h) bring the new attributes back in the same
 * round trip. The kernel only sends chown/utimens for the inode itself, so
 * they never follow a symlink (lsetstat@openssh.com, or EOPNOTSUPP for a
 * symlink on a server without it).
 */
#ifndef SSHMOUNTFS_FS_META_H
#define SSHMOUNTFS_FS_META_H

#include "fuseapi.h"

/* -o exclusive: the attributes a name the mount creates ('mode' with its
 * S_IFMT bits) will have on the server: owner as learned from an earlier
 * create (asyncmeta_ids; *strip the bits the server's umask takes), the
 * group and setgid bit of a setgid parent (as Linux does), times now.
 * False until the owner is known, or when uid=, gid= or umask= are set. */
bool meta_new_attrs(struct fs_ctx *c, const char *path, uint32_t mode, struct fxp_attr *a,
		    uint32_t *strip);
int meta_getattr(const char *path, struct stat *st, struct fuse_file_info *fi);
int meta_readlink(const char *path, char *buf, size_t size);
int meta_mkdir(const char *path, mode_t mode);
int meta_rmdir(const char *path);
int meta_unlink(const char *path);
int meta_symlink(const char *target, const char *path);
int meta_rename(const char *from, const char *to, unsigned int flags);
int meta_link(const char *from, const char *to);
int meta_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int meta_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi);
int meta_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi);
int meta_truncate(const char *path, off_t size, struct fuse_file_info *fi);
int meta_statfs(const char *path, struct statvfs *st);
int meta_access(const char *path, int mask);
int meta_mknod(const char *path, mode_t mode, dev_t rdev);

#endif
