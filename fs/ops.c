/* ops: see ops.h. */
#include "ops.h"

#include "dirops.h"
#include "fileops.h"
#include "meta.h"

#define OPS_MAX_BACKGROUND 64
#define OPS_CONGESTION 48

static void *
ops_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 0;
	cfg->readdir_ino = 0;
	cfg->nullpath_ok = 1;
	cfg->hard_remove = 0;	/* hidden.h: kept local, never on the server */
	cfg->no_rofd_flush = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	cfg->direct_io = 0;
	conn->time_gran = 1000000000;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	/* Room for the kernel's async reads; the kernel caps unprivileged
	 * mounts at fs.fuse.max_user_bgreq itself. */
	conn->max_background = OPS_MAX_BACKGROUND;
	conn->congestion_threshold = OPS_CONGESTION;
	return fuseapi_ctx();
}

static const struct fuse_operations ops = {
	.init = ops_init,
	.getattr = meta_getattr,
	.readlink = meta_readlink,
	.mknod = meta_mknod,
	.mkdir = meta_mkdir,
	.unlink = meta_unlink,
	.rmdir = meta_rmdir,
	.symlink = meta_symlink,
	.rename = meta_rename,
	.link = meta_link,
	.chmod = meta_chmod,
	.chown = meta_chown,
	.truncate = meta_truncate,
	.open = fileops_open,
	.read = fileops_read,
	.write = fileops_write,
	.statfs = meta_statfs,
	.flush = fileops_flush,
	.release = fileops_release,
	.fsync = fileops_fsync,
	.opendir = dirops_opendir,
	.readdir = dirops_readdir,
	.releasedir = dirops_releasedir,
	.access = meta_access,
	.create = fileops_create,
	.utimens = meta_utimens,
	.copy_file_range = fileops_copy_file_range,
};

const struct fuse_operations *
ops_table(void)
{
	return &ops;
}
