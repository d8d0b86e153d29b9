/* ops: the libfuse operation table of sshmountfs and its init callback.
 *
 * init() sets the fuse_config the rest of fs/ relies on: nullpath_ok (paths
 * come from ofile.h), hard_remove (the server keeps unlinked open files
 * usable, so no .fuse_hidden files), no libfuse page-cache policy of its
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

#endif
