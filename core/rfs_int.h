/* rfs_int: what the files of the rfs module (rfs.c, rfs_list.c, rfs_pair.c)
 * and core/batch.c share; not for other modules (they use rfs.h).
 */
#ifndef SSHMOUNTFS_CORE_RFS_INT_H
#define SSHMOUNTFS_CORE_RFS_INT_H

#include "fxc.h"
#include "fxp.h"
#include "rfs.h"

/* The server broke the protocol (r is the decoder's verdict): logs it,
 * kills the connection (fxc_kill) and returns -EIO, as every later
 * request on it will. Any thread, the I/O thread included. */
int rfs_violation(struct fxc *c, int r, const struct fxp_reply *rep);

/* Hands each safe entry of one NAME batch to fn ("." and ".." included).
 * Returns the number of entries in the batch, or fn's negative verdict,
 * or a decoder error (-EBADMSG / -EPROTO: the caller calls rfs_violation). */
int rfs_walk_names(const struct fxp_reply *rep, rfs_dirent_fn *fn, void *arg);

/* The fxc flags of an OPEN with pflags: FXC_ONCE for an exclusive create. */
unsigned rfs_open_flags(uint32_t pflags);

/* The errno behind OpenSSH's catch-all FAILURE (r) for an OPEN of path
 * with pflags (-EEXIST, -EISDIR), found by an LSTAT; other r pass; an
 * exclusive create whose reply was lost (-ECONNABORTED) is -EIO. */
int rfs_open_errno(struct fxc *c, const char *path, uint32_t pflags, int r);
/* The same for MKDIR: -EEXIST when path exists; after -ECONNABORTED 0
 * when a directory is there, else -EIO. */
int rfs_mkdir_errno(struct fxc *c, const char *path, int r);

#endif
