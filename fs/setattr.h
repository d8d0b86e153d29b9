/* setattr: changing attributes (chmod, chown, utimens, truncate) and
 * learning the result in the same round trip.
 *
 * libfuse asks for the attributes right after every change; the change and
 * a STAT go to the server back to back on one channel (rfs_setstat_stat,
 * rfs_fsetstat_fstat), and the reply fills the attribute cache, so the
 * follow-up getattr is local.
 *
 * Where the change goes:
 *   - an open handle (ftruncate, fchmod, or a path that has a handle with
 *     writes): FSETSTAT + FSTAT on the handle's channel, after its WRITEs;
 *   - else the path: SETSTAT + LSTAT; for owner and times on the inode
 *     itself ('nofollow'), LSETSTAT when the server has lsetstat@openssh.com,
 *     otherwise SETSTAT after making sure the path is not a symlink (a
 *     symlink gets -EOPNOTSUPP rather than its target changed).
 * When the change fails, the rfs call runs it again to recover the errno
 * OpenSSH folded into FAILURE.
 * Under -o exclusive, a change of a path whose attributes are cached is
 * queued instead (asyncmeta.h) and answered from the cache; only a size
 * change of an open file goes the blocking way, through its handle.
 *
 * Thread: libfuse workers. Errors: 0 or negative errno.
 */
#ifndef SSHMOUNTFS_FS_SETATTR_H
#define SSHMOUNTFS_FS_SETATTR_H

#include <stdbool.h>

#include "fuseapi.h"

/* 'cur', when known, is the path's current raw attributes (saves a
 * request on servers without lsetstat). */
int setattr_apply(struct fs_ctx *c, const char *path, struct fuse_file_info *fi,
		  const struct fxp_attr *a, bool nofollow, const struct fxp_attr *cur);

/* After a create or mkdir that made 'path' with the mode the program asked
 * for ('want', the local umask already applied by the kernel): the server's
 * own umask (sftp-server runs under sshd's, or -u) may have stripped
 * permission bits, which a local filesystem would not. 'got' is what the
 * server reported right after (flags 0: unknown, nothing is done). When
 * bits of 'want' are missing, sets them (through the handle 'fi' when
 * given): one more round trip, only then. Bits the server added (a setgid
 * inherited from the directory) stay. 0 or a negative errno. */
int setattr_fix_mode(struct fs_ctx *c, const char *path, struct fuse_file_info *fi,
		     mode_t want, const struct fxp_attr *got);

#endif
