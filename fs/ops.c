/* ops: see ops.h. */
#include "ops.h"

#include <errno.h>

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

int
ops_errno(int r)
{
	return r == -ENOTCONN || r == -ECONNABORTED ? -EIO : r;
}

/* guard_F: F with its result passed through ops_errno. */
#define OPS_GUARD(fn, params, args) \
	static int guard_##fn params { return ops_errno(fn args); }

typedef struct fuse_file_info ops_fi;
OPS_GUARD(meta_getattr, (const char *p, struct stat *st, ops_fi *fi), (p, st, fi))
OPS_GUARD(meta_readlink, (const char *p, char *b, size_t n), (p, b, n))
OPS_GUARD(meta_mknod, (const char *p, mode_t m, dev_t d), (p, m, d))
OPS_GUARD(meta_mkdir, (const char *p, mode_t m), (p, m))
OPS_GUARD(meta_unlink, (const char *p), (p))
OPS_GUARD(meta_rmdir, (const char *p), (p))
OPS_GUARD(meta_symlink, (const char *t, const char *p), (t, p))
OPS_GUARD(meta_rename, (const char *a, const char *b, unsigned int fl), (a, b, fl))
OPS_GUARD(meta_link, (const char *a, const char *b), (a, b))
OPS_GUARD(meta_chmod, (const char *p, mode_t m, ops_fi *fi), (p, m, fi))
OPS_GUARD(meta_chown, (const char *p, uid_t u, gid_t g, ops_fi *fi), (p, u, g, fi))
OPS_GUARD(meta_truncate, (const char *p, off_t sz, ops_fi *fi), (p, sz, fi))
OPS_GUARD(fileops_open, (const char *p, ops_fi *fi), (p, fi))
OPS_GUARD(fileops_read, (const char *p, char *b, size_t n, off_t o, ops_fi *fi), (p, b, n, o, fi))
OPS_GUARD(fileops_write, (const char *p, const char *b, size_t n, off_t o, ops_fi *fi),
	  (p, b, n, o, fi))
OPS_GUARD(meta_statfs, (const char *p, struct statvfs *st), (p, st))
OPS_GUARD(fileops_flush, (const char *p, ops_fi *fi), (p, fi))
OPS_GUARD(fileops_release, (const char *p, ops_fi *fi), (p, fi))
OPS_GUARD(fileops_fsync, (const char *p, int ds, ops_fi *fi), (p, ds, fi))
OPS_GUARD(dirops_opendir, (const char *p, ops_fi *fi), (p, fi))
OPS_GUARD(dirops_readdir, (const char *p, void *b, fuse_fill_dir_t fill, off_t o, ops_fi *fi,
			   enum fuse_readdir_flags fl), (p, b, fill, o, fi, fl))
OPS_GUARD(dirops_releasedir, (const char *p, ops_fi *fi), (p, fi))
OPS_GUARD(dirops_fsyncdir, (const char *p, int d, ops_fi *fi), (p, d, fi))
OPS_GUARD(meta_access, (const char *p, int m), (p, m))
OPS_GUARD(fileops_create, (const char *p, mode_t m, ops_fi *fi), (p, m, fi))
OPS_GUARD(meta_utimens, (const char *p, const struct timespec tv[2], ops_fi *fi), (p, tv, fi))

static ssize_t
guard_fileops_copy_file_range(const char *pi, ops_fi *fi_in, off_t oi, const char *po,
			      ops_fi *fi_out, off_t oo, size_t len, int flags)
{
	ssize_t r = fileops_copy_file_range(pi, fi_in, oi, po, fi_out, oo, len, flags);

	return r < 0 ? ops_errno((int)r) : r;
}

static const struct fuse_operations ops = {
	.init = ops_init,
	.getattr = guard_meta_getattr,
	.readlink = guard_meta_readlink,
	.mknod = guard_meta_mknod,
	.mkdir = guard_meta_mkdir,
	.unlink = guard_meta_unlink,
	.rmdir = guard_meta_rmdir,
	.symlink = guard_meta_symlink,
	.rename = guard_meta_rename,
	.link = guard_meta_link,
	.chmod = guard_meta_chmod,
	.chown = guard_meta_chown,
	.truncate = guard_meta_truncate,
	.open = guard_fileops_open,
	.read = guard_fileops_read,
	.write = guard_fileops_write,
	.statfs = guard_meta_statfs,
	.flush = guard_fileops_flush,
	.release = guard_fileops_release,
	.fsync = guard_fileops_fsync,
	.opendir = guard_dirops_opendir,
	.readdir = guard_dirops_readdir,
	.releasedir = guard_dirops_releasedir,
	.fsyncdir = guard_dirops_fsyncdir,
	.access = guard_meta_access,
	.create = guard_fileops_create,
	.utimens = guard_meta_utimens,
	.copy_file_range = guard_fileops_copy_file_range,
};

const struct fuse_operations *
ops_table(void)
{
	return &ops;
}
