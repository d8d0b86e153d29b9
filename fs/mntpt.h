/* mntpt: checks a mount point before anything connects, so the user gets
 * a precise message instead of fusermount's, and a dead or duplicate mount
 * is caught early.
 *
 * Thread: main() only. Pure apart from stat() and /proc/self/mountinfo.
 */
#ifndef SSHMOUNTFS_FS_MNTPT_H
#define SSHMOUNTFS_FS_MNTPT_H

#include <stdbool.h>
#include <stddef.h>

/* 0 when 'dir' exists, is a directory and holds no sshmountfs mount;
 * otherwise -ENOENT, -ENOTDIR, -EBUSY (already mounted by us), -ENOTCONN
 * (a dead FUSE mount), or the stat error, with err filled for people.
 * "/dev/fd/N" (mount.fuse3's pre-opened descriptor) is accepted as is. */
int mntpt_check(const char *dir, char *err, size_t errlen);

/* True when /proc/self/mountinfo (or the text given, for tests) has a
 * mount of type fstype_prefix* at exactly 'dir'. Escapes (\040 etc.) in
 * the table are decoded. */
bool mntpt_is_mounted(const char *mountinfo, const char *dir, const char *fstype_prefix);

#endif
