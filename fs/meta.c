/* meta: see meta.h. */
#include "meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fileops.h"
#include "hidden.h"
#include "io.h"
#include "asyncmeta.h"
#include "log.h"
#include "path.h"
#include "rfs.h"
#include "setattr.h"

/* ---- helpers ---- */

/* The current fuse path of an operation that may come with a handle only. */
static char *
path_of(struct fs_ctx *c, const char *path, struct fuse_file_info *fi)
{
	struct io_file *f = fuseapi_file(fi);

	if (path)
		return strdup(path);
	return f ? ofile_path(&c->files, f) : NULL;
}

/* Raw attributes of a path (lstat), or of an open handle. */
static int
raw_attrs(struct fs_ctx *c, const char *path, struct fuse_file_info *fi,
	  struct fxp_attr *a)
{
	struct io_file *f = fuseapi_file(fi);
	char *rp;
	int r;

	if (f)
		return io_fstat(f, a);
	if ((f = hidden_file(c, path)) != NULL) {
		r = io_fstat(f, a);
		io_file_put(f);
		return r;
	}
	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	r = rfs_lstat(fsctx_meta(c), rp, a);
	free(rp);
	return r;
}

/* ---- -o exclusive: answered at once, sent through the queue ----
 *
 * Each *_queued function answers an operation from what the mount knows
 * (asyncmeta.h) and returns 0, or returns 1 when the outcome is not
 * certain from the cache (a name not known to be free, a directory not
 * known to be empty, an open file at the path, ...): the caller then does
 * it the blocking way, which first waits for the queue (fsctx_remote). */

/* Queues op for path (and 'to', a rename's new name; 'arg2' a symlink's
 * target). 0 queued, 1 not sent, or a negative errno for a bad path. */
static int
queue_path(struct fs_ctx *c, enum rfs_async_op op, const char *path, const char *to,
	   const char *arg2, const struct fxp_attr *a)
{
	char *rp = NULL, *rt = NULL;
	int r;

	if ((r = fsctx_remote_queued(c, path, &rp)) < 0)
		return r;
	if (to && (r = fsctx_remote_queued(c, to, &rt)) < 0) {
		free(rp);
		return r;
	}
	r = asyncmeta_path(&c->am, fsctx_meta(c), op, path, to, rp, rt ? rt : arg2, a);
	free(rp);
	free(rt);
	return r < 0 ? 1 : 0;
}

bool
meta_new_attrs(struct fs_ctx *c, const char *path, uint32_t mode, struct fxp_attr *a,
	       uint32_t *strip)
{
	struct fxp_attr pa;
	char *parent = NULL;

	memset(a, 0, sizeof(*a));
	if (c->acfg.set_uid || c->acfg.set_gid || c->acfg.set_umask ||
	    !asyncmeta_ids(&c->am, &a->uid, &a->gid, strip))
		return false;
	a->flags = FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME;
	a->perm = mode;
	a->atime = a->mtime = (uint32_t)time(NULL);
	if (path_parent(path, &parent) == 0 && fsctx_known_raw(c, parent, &pa) &&
	    (pa.perm & S_ISGID)) {
		a->gid = pa.gid;
		if (S_ISDIR(mode))
			a->perm |= S_ISGID;
	}
	free(parent);
	return true;
}

static int
count_entry(void *arg, const char *name, mode_t type)
{
	(void)name;
	(void)type;
	++*(size_t *)arg;
	return 0;
}

/* True when an open file of the mount is at path (its handle and the
 * hidden-name rules are the blocking way's business). */
static bool
path_open(struct fs_ctx *c, const char *path)
{
	struct io_file *f = ofile_find(&c->files, path, false);

	if (f == NULL)
		return false;
	io_file_put(f);
	return true;
}

static int
mkdir_queued(struct fs_ctx *c, const char *path, mode_t mode)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = mode & 07777 }, now;
	uint32_t strip;
	int r;

	if (!fsctx_async(c) || !cache_lookup_negative(c->cache, path) ||
	    !meta_new_attrs(c, path, S_IFDIR | (mode & 07777), &now, &strip))
		return 1;
	now.size = 4096;
	if ((r = queue_path(c, RFS_A_MKDIR, path, NULL, NULL, &a)) != 0)
		return r;
	/* The server's umask took bits from the last mkdir: set them back
	 * behind this one (the blocking way's setattr_fix_mode, unwaited). */
	if (strip & a.perm) {
		a.perm = now.perm & 07777;
		(void)queue_path(c, RFS_A_SETSTAT, path, NULL, NULL, &a);
	}
	cache_created(c->cache, path, S_IFDIR, true);
	fsctx_known_put(c, path, &now);
	return 0;
}

static int
symlink_queued(struct fs_ctx *c, const char *target, const char *path)
{
	struct fxp_attr now;
	uint32_t strip;
	int r;

	if (!fsctx_async(c) || !cache_lookup_negative(c->cache, path) ||
	    !meta_new_attrs(c, path, S_IFLNK | 0777, &now, &strip))
		return 1;
	now.size = strlen(target);
	if ((r = queue_path(c, RFS_A_SYMLINK, path, NULL, target, NULL)) != 0)
		return r;
	cache_created(c->cache, path, S_IFLNK, false);
	cache_put_link(c->cache, path, target, cache_gen(c->cache));
	fsctx_known_put(c, path, &now);
	return 0;
}

/* unlink of a name known to be a file, rmdir of a directory whose fresh
 * listing is empty. */
static int
remove_queued(struct fs_ctx *c, const char *path, bool dir)
{
	struct fxp_attr a;
	size_t n = 0;
	int r;

	if (!fsctx_async(c) || path_open(c, path))
		return 1;
	if (dir ? !cache_get_dir(c->cache, path, count_entry, &n) || n != 0
		: !fsctx_known_raw(c, path, &a) || S_ISDIR(a.perm))
		return 1;
	if ((r = queue_path(c, dir ? RFS_A_RMDIR : RFS_A_REMOVE, path, NULL, NULL, NULL)) != 0)
		return r;
	cache_removed(c->cache, path);
	return 0;
}

/* A rename whose outcome is certain: posix-rename of a known name to a
 * name known to be free or to be a file replaced by a file. */
static int
rename_queued(struct fs_ctx *c, const char *from, const char *to, unsigned flags)
{
	struct fxp_attr fa, ta;
	int r;

	if (!fsctx_async(c) || flags != 0 || !fxc_has(fsctx_meta(c), FXC_EXT_POSIX_RENAME) ||
	    !fsctx_known_raw(c, from, &fa) || path_open(c, from) || path_open(c, to) ||
	    path_is_under(to, from))
		return 1;
	if (fsctx_known_raw(c, to, &ta)) {
		if (S_ISDIR(fa.perm) || S_ISDIR(ta.perm))
			return 1;
	} else if (!cache_lookup_negative(c->cache, to)) {
		return 1;
	}
	if ((r = queue_path(c, RFS_A_RENAME, from, to, NULL, NULL)) != 0)
		return r;
	cache_renamed(c->cache, from, to, fa.perm & S_IFMT);
	fsctx_known_put(c, to, &fa);
	if (ofile_rename(&c->files, from, to) < 0)
		log_warn("rename %s: lost track of open files under it", from);
	return 0;
}

/* fsctx_known_raw for the path of an operation that may come with a
 * handle only. */
static bool
known_attrs(struct fs_ctx *c, const char *path, struct fuse_file_info *fi,
	    struct fxp_attr *a)
{
	char *p = path_of(c, path, fi);
	bool known = fsctx_known_raw(c, p, a);

	free(p);
	return known;
}

/* The cached attributes of the path of an operation that may come with a
 * handle only. */
static bool
known_stat(struct fs_ctx *c, const char *path, struct fuse_file_info *fi, struct stat *st)
{
	char *p = path_of(c, path, fi);
	bool hit = p && cache_get_attr(c->cache, p, st);

	free(p);
	return hit;
}

/* ---- getattr ---- */

static int
stat_remote(struct fs_ctx *c, const char *path, struct stat *st)
{
	uint64_t gen = cache_gen(c->cache);
	struct fxp_attr a;
	char *rp;
	int r;

	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	if (c->follow_symlinks) {
		r = rfs_stat(fsctx_meta(c), rp, &a);
		if (r == -ENOENT)	/* a dangling link still shows as a link */
			r = rfs_lstat(fsctx_meta(c), rp, &a);
	} else {
		r = rfs_lstat(fsctx_meta(c), rp, &a);
	}
	free(rp);
	if (r < 0)
		return r;
	if ((r = fsctx_stat(c, &a, st)) == 0)
		cache_put_attr(c->cache, path, st, gen);
	return r;
}

/* The attributes through f's handle, after the writes other descriptors
 * of the same file were told succeeded (theirs travel on other channels). */
static int
stat_file(struct fs_ctx *c, struct io_file *f, struct stat *st)
{
	struct fxp_attr a;
	int r;

	fileops_settle_others(c, NULL, f);
	r = io_fstat(f, &a);
	return r < 0 ? r : fsctx_stat(c, &a, st);
}

int
meta_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct io_file *f = fuseapi_file(fi);
	int r;

	if (f) {
		if (path && !io_file_wrote(f) && cache_get_attr(c->cache, path, st))
			return 0;
		/* Under -o exclusive the cached attributes follow the writes
		 * (fileops.c) and setattrs (setattr.c) the mount answered. */
		if (fsctx_async(c) && known_stat(c, path, fi, st))
			return 0;
		return stat_file(c, f, st);
	}
	if (path == NULL)
		return -EIO;
	if (path_name_too_long(path))
		return -ENAMETOOLONG;	/* not ENOENT from a cached listing */
	if (hidden_probe(path))
		return -ENOENT;
	if ((f = hidden_file(c, path)) != NULL) {
		r = stat_file(c, f, st);
		io_file_put(f);
		return r;
	}
	if (cache_get_attr(c->cache, path, st))
		return 0;
	if ((f = ofile_find(&c->files, path, true)) != NULL) {
		r = stat_file(c, f, st);
		io_file_put(f);
		return r;
	}
	if (cache_lookup_negative(c->cache, path))
		return -ENOENT;
	prefetch_miss(&c->prefetch, path);
	return stat_remote(c, path, st);
}

/* ---- symlinks ---- */

static int
link_target(struct fs_ctx *c, const char *path, char **t)
{
	uint64_t gen;
	char *rp;
	int r;

	if (cache_get_link(c->cache, path, t))
		return 0;
	gen = cache_gen(c->cache);
	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	r = rfs_readlink(fsctx_meta(c), rp, t);
	free(rp);
	if (r == 0)
		cache_put_link(c->cache, path, *t, gen);
	return r;
}

int
meta_readlink(const char *path, char *buf, size_t size)
{
	struct fs_ctx *c = fuseapi_ctx();
	char *t, *rel = NULL;
	size_t n;
	int r;

	if (size == 0)
		return -EINVAL;
	if ((r = link_target(c, path, &t)) < 0)
		return r;
	if (c->transform_symlinks &&
	    (r = path_symlink_relative(c->root, path, t, &rel)) == 0 && rel) {
		free(t);
		t = rel;
	}
	if (c->contain_symlinks && path_target_escapes(t)) {
		free(t);
		return -EPERM;
	}
	n = strlen(t);
	if (n >= size)
		n = size - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	free(t);
	return r < 0 ? r : 0;
}

int
meta_symlink(const char *target, const char *path)
{
	struct fs_ctx *c = fuseapi_ctx();
	char *rp;
	int r;

	if ((r = symlink_queued(c, target, path)) <= 0)
		return r;
	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	r = rfs_symlink(fsctx_meta(c), target, rp);
	free(rp);
	if (r == 0)
		cache_created(c->cache, path, S_IFLNK, false);
	return r;
}

/* ---- directories (listing: dirops.c) ---- */

/* MKDIR and the LSTAT libfuse will want next, in one round trip. */
int
meta_mkdir(const char *path, mode_t mode)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = mode & 07777 }, got;
	struct stat st;
	char *rp;
	int r;

	if ((r = mkdir_queued(c, path, mode)) <= 0)
		return r;
	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	r = rfs_mkdir_lstat(fsctx_meta(c), rp, &a, &got);
	free(rp);
	if (r < 0)
		return fsctx_nospace(c, path, r);
	asyncmeta_learn_ids(&c->am, &got, a.perm);
	cache_created(c->cache, path, S_IFDIR, c->o->exclusive);
	if (got.flags && fsctx_stat(c, &got, &st) == 0)
		cache_put_attr(c->cache, path, &st, cache_gen(c->cache));
	if ((r = setattr_fix_mode(c, path, NULL, mode, &got)) < 0)
		log_warn("mkdir %s: cannot set mode %o the server's umask took away: %s",
			 path, (unsigned)mode & 07777, strerror(-r));
	return 0;
}

/* ---- namespace ---- */

/* rmdir or unlink; an unlinked file's open handles answer to 'hidden'
 * (hidden.h) when not NULL. */
static int
remove_path(const char *path, bool dir, const char *hidden)
{
	struct fs_ctx *c = fuseapi_ctx();
	char *rp;
	int r;

	if (!dir && hidden_release_unlink(path))
		return 0;	/* never made on the server (hidden.h) */
	if (hidden == NULL && (r = remove_queued(c, path, dir)) <= 0)
		return r;
	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	r = dir ? rfs_rmdir(fsctx_meta(c), rp) : rfs_remove(fsctx_meta(c), rp);
	free(rp);
	if (r == 0) {
		cache_removed(c->cache, path);
		if (!dir)
			ofile_hide(&c->files, path, hidden);
	}
	return r;
}

int
meta_rmdir(const char *path)
{
	return remove_path(path, true, NULL);
}

int
meta_unlink(const char *path)
{
	return remove_path(path, false, NULL);
}

static mode_t
known_type(struct fs_ctx *c, const char *path)
{
	struct stat st;

	return cache_get_attr(c->cache, path, &st) ? st.st_mode & S_IFMT : 0;
}

/* Errors after which moving the target aside cannot help. */
static bool
rename_final(int r)
{
	return r == 0 || r == -ENOENT || r == -ENOTDIR || r == -EISDIR ||
	       r == -ENOTEMPTY || r == -EINVAL || r == -EXDEV || r == -ENOSPC;
}

/* A server without (or refusing) posix-rename will not rename over an
 * existing name. POSIX wants the replacement, so do what sshfs's
 * workaround=rename does: move the target aside, rename, remove the old
 * target (put it back if the rename fails). Not atomic: another client may
 * see the name missing for a moment. */
static int
rename_aside(struct fs_ctx *c, const char *rf, const char *rt, int first)
{
	struct fxc *fx = fsctx_meta(c);
	struct fxp_attr ta;
	unsigned char rnd[6];
	char *tmp = NULL;
	int r;

	if (rfs_lstat(fx, rt, &ta) < 0 || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return first;
	if (asprintf(&tmp, "%s.sshmountfs-%02x%02x%02x%02x%02x%02x", rt, rnd[0], rnd[1],
		     rnd[2], rnd[3], rnd[4], rnd[5]) < 0)
		return -ENOMEM;
	if ((r = rfs_rename(fx, rt, tmp, true)) < 0) {
		free(tmp);
		return first;
	}
	if ((r = rfs_rename(fx, rf, rt, true)) < 0) {
		if (rfs_rename(fx, tmp, rt, true) < 0)
			log_error("rename: %s was left as %s", rt, tmp);
	} else if (S_ISDIR(ta.perm) ? rfs_rmdir(fx, tmp) < 0 : rfs_remove(fx, tmp) < 0) {
		log_warn("rename: could not remove the replaced %s", tmp);
	}
	free(tmp);
	return r;
}

/* libfuse hiding an open file under 'to' (hidden.h). */
static int
rename_hidden(struct fs_ctx *c, const char *from, const char *to, enum hidden_kind kind)
{
	if (kind == HIDDEN_UNLINK)
		return remove_path(from, false, to);
	/* HIDDEN_REPLACE: the RENAME that follows replaces the file on the
	 * server atomically; until then the name keeps the old file there. */
	ofile_hide(&c->files, from, to);
	return 0;
}

int
meta_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs_ctx *c = fuseapi_ctx();
	enum hidden_kind kind = hidden_rename(to);
	char *rf = NULL, *rt = NULL;
	mode_t type;
	int r;

	if (kind != HIDDEN_NONE)
		return rename_hidden(c, from, to, kind);
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL;		/* RENAME_EXCHANGE, RENAME_WHITEOUT */
	if ((r = rename_queued(c, from, to, flags)) <= 0)
		return r;
	type = known_type(c, from);
	if ((r = fsctx_remote(c, from, &rf)) == 0 && (r = fsctx_remote(c, to, &rt)) == 0)
		r = rfs_rename(fsctx_meta(c), rf, rt, (flags & RENAME_NOREPLACE) != 0);
	if (!rename_final(r) && !(flags & RENAME_NOREPLACE))
		r = rename_aside(c, rf, rt, r);
	free(rf);
	free(rt);
	if (r == 0) {
		cache_renamed(c->cache, from, to, type);
		if (ofile_rename(&c->files, from, to) < 0)
			log_warn("rename %s: lost track of open files under it", from);
	}
	return r;
}

int
meta_link(const char *from, const char *to)
{
	struct fs_ctx *c = fuseapi_ctx();
	char *rf = NULL, *rt = NULL;
	mode_t type;
	int r;

	if (c->disable_hardlink)
		return -ENOSYS;
	type = known_type(c, from);
	if ((r = fsctx_remote(c, from, &rf)) == 0 && (r = fsctx_remote(c, to, &rt)) == 0)
		r = rfs_link(fsctx_meta(c), rf, rt);
	free(rf);
	free(rt);
	if (r == -EOPNOTSUPP)
		return -EPERM;		/* link(2): "does not support hard links" */
	if (r == 0) {
		cache_created(c->cache, to, type ? type : S_IFREG, false);
		cache_invalidate_attr(c->cache, from);
	}
	return r;
}

/* ---- attributes ---- */

int
meta_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = mode & 07777 };

	return setattr_apply(fuseapi_ctx(), path, fi, &a, false, NULL);
}

int
meta_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fxp_attr a = { .flags = FXA_UIDGID }, cur;
	int r;

	/* SFTP sets both ids: the one not given comes from the server (or,
	 * under -o exclusive, from what the mount knows). */
	if (!known_attrs(c, path, fi, &cur) && (r = raw_attrs(c, path, fi, &cur)) < 0)
		return r;
	a.uid = cur.uid;
	a.gid = cur.gid;
	if (uid != (uid_t)-1 && (r = idmap_to_remote(&c->idmap, IDMAP_UID, uid, &a.uid)) < 0)
		return r;
	if (gid != (gid_t)-1 && (r = idmap_to_remote(&c->idmap, IDMAP_GID, gid, &a.gid)) < 0)
		return r;
	return setattr_apply(c, path, fi, &a, true, &cur);
}

/* SFTP v3 times are unsigned 32-bit seconds: a time outside them would be
 * stored wrapped (2^32 + 5 as 1970), so it is refused instead. */
static bool
time_fits(const struct timespec *tv)
{
	if (tv->tv_nsec == UTIME_NOW || tv->tv_nsec == UTIME_OMIT)
		return true;
	return tv->tv_sec >= 0 && (uint64_t)tv->tv_sec <= UINT32_MAX;
}

static uint32_t
pick_time(const struct timespec *tv, uint32_t now, uint32_t cur)
{
	if (tv == NULL || tv->tv_nsec == UTIME_NOW)
		return now;
	if (tv->tv_nsec == UTIME_OMIT)
		return cur;
	return (uint32_t)tv->tv_sec;
}

/* An omitted atime: from a fresh cache entry, else now (see below). */
static uint32_t
cached_atime(struct fs_ctx *c, const char *path, struct fuse_file_info *fi, uint32_t now)
{
	char *p = path_of(c, path, fi);
	struct stat st;
	uint32_t t = now;

	if (p && cache_get_attr(c->cache, p, &st))
		t = (uint32_t)st.st_atim.tv_sec;
	free(p);
	return t;
}

int
meta_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fxp_attr a = { .flags = FXA_ACMODTIME }, cur = { 0 };
	uint32_t now = (uint32_t)time(NULL);
	bool fetch = tv && tv[1].tv_nsec == UTIME_OMIT;
	int r;

	if (tv && (!time_fits(&tv[0]) || !time_fits(&tv[1])))
		return -EOVERFLOW;
	/* SFTP v3 sets both times. An omitted mtime must be kept exactly
	 * (backups compare it): ask the server. An omitted atime (tar, cp -p
	 * of an archive without atimes) is taken from a fresh cache entry, else
	 * set to now, as sshfs does, rather than costing a round trip. */
	if (fetch && !known_attrs(c, path, fi, &cur) && (r = raw_attrs(c, path, fi, &cur)) < 0)
		return r;
	if (tv && tv[0].tv_nsec == UTIME_OMIT && !fetch)
		cur.atime = cached_atime(c, path, fi, now);
	a.atime = pick_time(tv ? &tv[0] : NULL, now, cur.atime);
	a.mtime = pick_time(tv ? &tv[1] : NULL, now, cur.mtime);
	return setattr_apply(c, path, fi, &a, true, fetch ? &cur : NULL);
}

int
meta_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fxp_attr a = { .flags = FXA_SIZE, .size = (uint64_t)size };

	if (size < 0)
		return -EINVAL;
	/* Through a handle with writes when there is one: after them. */
	return fsctx_toobig(a.size, setattr_apply(fuseapi_ctx(), path, fi, &a, false, NULL));
}

/* ---- the rest ---- */

int
meta_statfs(const char *path, struct statvfs *st)
{
	struct fs_ctx *c = fuseapi_ctx();
	char *rp;
	int r;

	if ((r = fsctx_remote(c, path ? path : "/", &rp)) < 0)
		return r;
	r = rfs_statvfs(fsctx_meta(c), rp, st);
	free(rp);
	if (r != -EOPNOTSUPP)
		return r;
	/* No statvfs@openssh.com: large made-up numbers, as sshfs. */
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_blocks = st->f_bfree = st->f_bavail = 1000ULL * 1024 * 1024 * 1024 / 4096;
	st->f_files = st->f_ffree = st->f_favail = 1000000000;
	st->f_namemax = 255;
	return 0;
}

#define META_MAX_GROUPS 256

int
meta_access(const char *path, int mask)
{
	struct fuse_context *fc = fuse_get_context();
	gid_t groups[META_MAX_GROUPS];
	struct stat st;
	int r, n;

	if ((r = meta_getattr(path, &st, NULL)) < 0)
		return r;
	n = fuse_getgroups(META_MAX_GROUPS, groups);
	if (n < 0 || n > META_MAX_GROUPS)
		n = 0;
	return attr_access(&st, mask, fc->uid, fc->gid, groups, n);
}

int
meta_mknod(const char *path, mode_t mode, dev_t rdev)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = mode & 07777 };
	struct rfs_handle h;
	char *rp;
	int r;

	(void)rdev;
	if (!S_ISREG(mode))
		return -EPERM;		/* SFTP has no devices, fifos or sockets */
	if ((r = fsctx_remote(c, path, &rp)) < 0)
		return r;
	r = rfs_open(fsctx_meta(c), -1, rp, FXF_WRITE | FXF_CREAT | FXF_EXCL, &a, &h);
	free(rp);
	if (r < 0)
		return r;
	rfs_close_async(fsctx_meta(c), &h);
	cache_created(c->cache, path, S_IFREG, false);
	return 0;
}
