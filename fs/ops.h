/* ops: the libfuse operation table of sshmountfs and its init callback.
 *
 * init() sets the fuse_config the rest of fs/ relies on: nullpath_ok (paths
 * come from ofile.h), no hard_remove (libfuse keeps a name for a file
 * unlinked while open, so fstat and fchmod reach it; hidden.h keeps that
 * name off the server), no libfuse page-cache policy of its
 * own (fileops.h decides per open), no_rofd_flush; and the connection:
 * 1 s time granularity (SFTP v3 has whole seconds), no writeback cache
 * (unsafe for network filesystems), async reads, a larger background queue.
 *
 * The private data given to fuse_new() must be the struct fs_ctx.
 */
#ifndef SSHMOUNTFS_FS_OPS_H
#define SSHMOUNTFS_FS_OPS_H

#include "fuseapi.h"

const struct fuse_operations *ops_table(void);

/* What an operation's result becomes for the kernel: -ENOTCONN (a handle
 * of a link that died, which the fs reopens where it can) and
 * -ECONNABORTED (a request whose reply was lost with the link) are -EIO;
 * a program must never see them ("Transport endpoint is not connected" is
 * what a dead FUSE mount says). Everything else is passed on. Every
 * operation of ops_table() answers through it. */
int ops_errno(int r);

#endif
