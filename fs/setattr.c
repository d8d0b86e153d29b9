/* setattr: see setattr.h. */
#include "setattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asyncmeta.h"
#include "fileops.h"
#include "hidden.h"
#include "io.h"
#include "rfs.h"

/* The kind of SETSTAT a path change needs; -EOPNOTSUPP for a symlink on
 * a server that cannot change a symlink itself. */
static int
path_kind(struct fs_ctx *c, const char *rp, bool nofollow, const struct fxp_attr *cur,
	  bool *lset)
{
	struct fxp_attr lst;

	*lset = false;
	if (!nofollow)
		return 0;
	if (fxc_has(fsctx_meta(c), FXC_EXT_LSETSTAT)) {
		*lset = true;
		return 0;
	}
	if (cur == NULL && rfs_lstat(fsctx_meta(c), rp, &lst) == 0)
		cur = &lst;
	if (cur && (cur->flags & FXA_PERMISSIONS) && S_ISLNK(cur->perm))
		return -EOPNOTSUPP;
	return 0;
}

/* SETSTAT/LSETSTAT + (L)STAT on the path's channel. */
static int
apply_path(struct fs_ctx *c, const char *path, const struct fxp_attr *a, bool nofollow,
	   const struct fxp_attr *cur, struct fxp_attr *got)
{
	bool lset;
	char *rp;
	int r;

	memset(got, 0, sizeof(*got));
	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	if ((r = path_kind(c, rp, nofollow, cur, &lset)) < 0) {
		free(rp);
		return r;
	}
	r = rfs_setstat_stat(fsctx_meta(c), rp, a, lset, c->follow_symlinks, got);
	free(rp);
	return r;
}

/* The handle to go through: the operation's own, or one with writes at
 * the path (its WRITEs must land first). A reference is taken. */
static struct io_file *
handle_for(struct fs_ctx *c, const char *path, struct fuse_file_info *fi)
{
	struct io_file *f = fuseapi_file(fi);

	if (f) {
		io_file_get(f);
		return f;
	}
	if ((f = hidden_file(c, path)) != NULL)
		return f;
	return path ? ofile_find(&c->files, path, true) : NULL;
}

/* Records what the server said afterwards (or forgets what we had). */
static void
remember(struct fs_ctx *c, const char *path, struct io_file *f, const struct fxp_attr *a,
	 const struct fxp_attr *got, uint64_t gen)
{
	char *p = path ? strdup(path) : (f ? ofile_path(&c->files, f) : NULL);
	struct stat st;

	if ((a->flags & FXA_SIZE) && (p || f))
		ofile_changed(&c->files, p, f);
	if (p == NULL)
		return;
	if (a->flags & (FXA_SIZE | FXA_ACMODTIME))
		cache_stamp_clear(c->cache, p);
	if ((got->flags & FXA_PERMISSIONS) && fsctx_stat(c, got, &st) == 0)
		cache_replace_attr(c->cache, p, &st, gen);
	else
		cache_replace_attr(c->cache, p, NULL, gen);
	free(p);
}

int
setattr_fix_mode(struct fs_ctx *c, const char *path, struct fuse_file_info *fi,
		 mode_t want, const struct fxp_attr *got)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS };
	uint32_t missing;

	if (!(got->flags & FXA_PERMISSIONS))
		return 0;
	missing = (uint32_t)want & 0777 & ~got->perm;
	/* Only bits taken away, as a umask does: a file someone else made
	 * under this name meanwhile, with other bits, is left alone. */
	if (missing == 0 || (got->perm & 0777 & ~(uint32_t)want) != 0)
		return 0;
	a.perm = (got->perm & 07777) | missing;
	return setattr_apply(c, path, fi, &a, false, NULL);
}

/* -o exclusive (asyncmeta.h): the change is queued by path and answered
 * from the cached attributes. A size change of an open file stays
 * blocking. 0 queued, 1 the blocking way. */
static int
apply_queued(struct fs_ctx *c, const char *path, struct fuse_file_info *fi,
	     const struct fxp_attr *a, bool nofollow)
{
	struct io_file *f = fuseapi_file(fi), *open;
	enum rfs_async_op op = RFS_A_SETSTAT;
	struct fxp_attr now;
	char *p = NULL, *rp = NULL;
	bool held;
	int r = 1;

	if (!fsctx_async(c))
		return 1;
	p = path ? strdup(path) : (f ? ofile_path(&c->files, f) : NULL);
	if (p == NULL || hidden_is_name(p) || !fsctx_known_raw(c, p, &now))
		goto out;
	open = f ? f : ofile_find(&c->files, p, false);

	/* An open file's WRITEs are on the queue's channel too, so
	 * a path change follows them (fchown, fchmod and futimens
	 * come as path changes: the kernel passes no handle); only
	 * a size change goes through the handle (io resets
	 * read-ahead and the O_APPEND offset). */
	/* A file created at once whose OPEN travels (fileops.c): the change
	 * waits with its writes for the handle and follows them as an
	 * FSETSTAT (a path SETSTAT sent now would come before them). */
	held = open && !(a->flags & FXA_SIZE) && io_setattr_held(open, a) == 0;
	if (open && open != f)
		io_file_put(open);
	if (open && (a->flags & FXA_SIZE))
		goto out;
	if (nofollow && S_ISLNK(now.perm)) {
		if (!fxc_has(fsctx_meta(c), FXC_EXT_LSETSTAT))
			goto out;
		op = RFS_A_LSETSTAT;
	}
	if (!held) {
		if ((r = fsctx_remote_queued(c, p, &rp)) < 0)
			goto out;
		r = 1;
		if (asyncmeta_path(&c->am, fsctx_meta(c), op, p, NULL, rp, NULL, a) < 0)
			goto out;
	}
	r = 0;
	if (a->flags & FXA_PERMISSIONS)
		now.perm = (now.perm & S_IFMT) | (a->perm & 07777);
	if (a->flags & FXA_UIDGID) {
		now.uid = a->uid;
		now.gid = a->gid;
	}
	if (a->flags & FXA_ACMODTIME) {
		now.atime = a->atime;
		now.mtime = a->mtime;
	}
	if (a->flags & FXA_SIZE) {
		now.size = a->size;
		now.mtime = (uint32_t)time(NULL);
	}
	if (a->flags & (FXA_SIZE | FXA_ACMODTIME))
		cache_stamp_clear(c->cache, p);
	fsctx_known_put(c, p, &now);
out:
	free(rp);
	free(p);
	return r;
}

int
setattr_apply(struct fs_ctx *c, const char *path, struct fuse_file_info *fi,
	      const struct fxp_attr *a, bool nofollow, const struct fxp_attr *cur)
{
	struct io_file *f;
	struct fxp_attr got;
	uint64_t gen;
	int r;

	if ((r = apply_queued(c, path, fi, a, nofollow)) <= 0)
		return r;
	f = handle_for(c, path, fi);
	gen = cache_gen(c->cache);
	if (f && path && hidden_is_name(path))
		path = NULL;	/* remember() under the file's own path, if any */
	/* After every write a descriptor of the file was told succeeded: a
	 * WRITE landing later would undo a truncate or move the mtime. */
	fileops_settle_others(c, path, f);
	if (f)
		r = io_setattr_stat(f, a, &got);
	else
		r = apply_path(c, path, a, nofollow, cur, &got);
	if (r == 0)
		remember(c, path, f, a, &got, gen);
	if (f)
		io_file_put(f);
	return r;
}
