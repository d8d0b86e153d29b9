/* fuseapi: the one place that includes libfuse's high-level header.
 *
 * FUSE_USE_VERSION 314: the 3.12+ loop configuration (fuse_loop_cfg_*) is
 * the only way to raise max_threads, and each blocking request holds a
 * worker thread in the high-level API. The operation signatures are those
 * of version 31.
 */
#ifndef SSHMOUNTFS_FS_FUSEAPI_H
#define SSHMOUNTFS_FS_FUSEAPI_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse.h>
#include <fuse_lowlevel.h>	/* fuse_session_exit, fuse_session_fd */

#include "fsctx.h"

/* The fs context of the current request. */
static inline struct fs_ctx *
fuseapi_ctx(void)
{
	return fuse_get_context()->private_data;
}

/* The io_file behind an open file's handle (NULL for none). */
static inline struct io_file *
fuseapi_file(const struct fuse_file_info *fi)
{
	return fi ? (struct io_file *)(uintptr_t)fi->fh : NULL;
}

#endif
