/* fileops: see fileops.h. */
#include "fileops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asyncmeta.h"
#include "io.h"
#include "log.h"
#include "meta.h"
#include "rfs.h"
#include "setattr.h"

uint32_t
fileops_pflags(int flags)
{
	uint32_t p = 0;

	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		p = FXF_READ;
		break;
	case O_WRONLY:
		p = FXF_WRITE;
		break;
	default:
		p = FXF_READ | FXF_WRITE;
		break;
	}
	if (flags & O_CREAT)
		p |= FXF_CREAT;
	if (flags & O_EXCL)
		p |= FXF_EXCL;
	if (flags & O_TRUNC)
		p |= FXF_TRUNC;
	/* O_APPEND: see io.h; we write at our own end-of-file offset. */
	return p;
}

/* Page-cache policy for this open (fileops.h). */
static void
cache_policy(struct fs_ctx *c, const char *path, const struct stat *st,
	     struct fuse_file_info *fi)
{
	if (c->direct_io) {
		fi->direct_io = 1;
		return;
	}
	if (c->kernel_cache) {
		fi->keep_cache = 1;
		return;
	}
	if (st == NULL) {
		cache_stamp_clear(c->cache, path);
		return;
	}
	if (cache_stamp_match(c->cache, path, st))
		fi->keep_cache = 1;
	cache_stamp_set(c->cache, path, st);
}

/* Registers f under path as the open's handle (released on failure). */
static int
attach_file(struct fs_ctx *c, struct io_file *f, const char *path, struct fuse_file_info *fi)
{
	int r;

	if ((r = ofile_add(&c->files, f, path)) < 0) {
		io_release(f);
		return r;
	}
	fi->fh = (uintptr_t)f;
	return 0;
}

/* io_hooks.reopen: the file's current path in the registry (renames we
 * did are followed there), opened as at first but never created nor
 * truncated (a preloaded file: for reading). A rename while the OPEN travelled could have given us
 * another file: -EAGAIN, tried again at the next use. */
static int
reopen_file(void *arg, struct io_file *f, struct rfs_handle *h)
{
	struct fs_ctx *c = arg;
	char *p = ofile_path(&c->files, f), *rp = NULL, *again;
	int r;

	if (p == NULL)
		return -ESTALE;	/* unlinked while open (hidden.h) */
	/* Under -o exclusive the OPEN goes behind the queue on its channel,
	 * without waiting for it: the queue may be settling this very file
	 * (asyncmeta_drain -> io_flush -> here). */
	if ((r = fsctx_remote_open(c, p, &rp)) == 0)
		r = rfs_open(io_file_fxc(f), fsctx_open_chan(c), rp,
			     fileops_pflags(io_file_flags(f) & ~(O_CREAT | O_EXCL | O_TRUNC)),
			     NULL, h);
	free(rp);
	again = r == 0 ? ofile_path(&c->files, f) : NULL;
	if (r == 0 && (again == NULL || strcmp(again, p) != 0)) {
		rfs_close_async(io_file_fxc(f), h);
		r = -EAGAIN;
	}
	free(again);
	free(p);
	return r;
}

/* io_hooks.lost: a file that could not go on after a reconnection. */
static void
lost_file(void *arg, struct io_file *f, const char *why, uint64_t lost)
{
	struct fs_ctx *c = arg;
	char *p = ofile_path(&c->files, f);
	const char *name = p ? p : "(a file unlinked while open)";

	if (lost > 0)
		log_error("%s: %llu bytes of writes the program was told had succeeded "
			  "did not reach the server: after a reconnection %s; its "
			  "descriptor now fails with EIO", name, (unsigned long long)lost, why);
	else
		log_warn("%s: not reopened after a reconnection: %s; its descriptor "
			 "now fails with EIO", name, why);
	free(p);
}

/* How an open file of c is opened again (a preloaded file: at all). */
static struct io_hooks
file_hooks(struct fs_ctx *c)
{
	struct io_hooks h = { reopen_file, lost_file, c };

	return h;
}

/* Wraps an opened handle into an io_file registered under path. */
static int
attach(struct fs_ctx *c, struct fxc *fx, const struct rfs_handle *h,
       const char *path, uint64_t size, struct fuse_file_info *fi)
{
	const struct io_hooks hooks = file_hooks(c);
	struct io_file *f;
	int r;

	if ((r = io_file_new(fx, h, fi->flags, size, &hooks, &f)) < 0) {
		rfs_close_async(fx, h);
		return r;
	}
	return attach_file(c, f, path, fi);
}

/* A plain read-only open answered from contents read ahead (content.h):
 * true when it was. */
static bool
open_preloaded(struct fs_ctx *c, const char *path, struct fuse_file_info *fi)
{
	struct io_file *f;
	struct stat st;
	uint8_t *data;
	size_t len;
	const struct io_hooks hooks = file_hooks(c);

	if (!content_take(&c->content, path, &data, &len))
		return false;
	if (io_file_new_preloaded(fsctx_pick(c), data, len, &hooks, &f) < 0 ||
	    attach_file(c, f, path, fi) < 0)
		return false;
	cache_policy(c, path, cache_get_attr(c->cache, path, &st) ? &st : NULL, fi);
	return true;
}

/* The size hint to seed io with (O_APPEND learns the exact size before
 * its first write: io.h). */
static uint64_t
open_size(int flags, const struct stat *st)
{
	if (flags & O_TRUNC)
		return 0;
	return st ? (uint64_t)st->st_size : READAHEAD_UNKNOWN_SIZE;
}

#define FILEOPS_MAX_SETTLE 16

void
fileops_settle_others(struct fs_ctx *c, const char *path, struct io_file *except)
{
	struct io_file *w[FILEOPS_MAX_SETTLE];
	int n = ofile_writers(&c->files, path, except, w, FILEOPS_MAX_SETTLE), i;

	for (i = 0; i < n; i++) {
		(void)io_flush(w[i]);	/* its own descriptor reports its errors */
		io_file_put(w[i]);
	}
}

/* Waits until a file created at path has its handle, and so has sent
 * the writes it held: an OPEN of the path sent later comes after them. */
static void
wait_created(struct fs_ctx *c, const char *path)
{
	struct io_file *f = ofile_find(&c->files, path, false);

	if (f) {
		(void)io_wait_opened(f);
		io_file_put(f);
	}
}

int
fileops_open(const char *path, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fxc *fx = fsctx_pick(c);
	struct rfs_handle h;
	struct stat st;
	bool have_st;
	uint64_t size;
	char *rp;
	int r;

	bool plain_read = (fi->flags & (O_ACCMODE | O_TRUNC | O_APPEND)) == O_RDONLY;

	if (plain_read && open_preloaded(c, path, fi)) {
		content_note_open(&c->content, path);
		return 0;
	}
	/* Under -o exclusive the OPEN joins the queue's channel behind what
	 * is queued (asyncmeta.h): no need to wait for it; but a file created
	 * at the path may still hold its writes for its handle (create_queued). */
	if (fsctx_async(c))
		wait_created(c, path);
	if ((r = fsctx_remote_open(c, path, &rp)) < 0)
		return r;
	/* O_TRUNC comes after the writes other descriptors were told
	 * succeeded, which may still travel on other channels. */
	if (fi->flags & O_TRUNC)
		fileops_settle_others(c, path, NULL);
	have_st = cache_get_attr(c->cache, path, &st);
	r = rfs_open(fx, fsctx_open_chan(c), rp, fileops_pflags(fi->flags & ~(O_CREAT | O_EXCL)),
		     NULL, &h);
	free(rp);
	if (r < 0)
		return r;
	size = open_size(fi->flags, have_st ? &st : NULL);
	if (fi->flags & O_TRUNC) {
		cache_invalidate_attr(c->cache, path);
		ofile_changed(&c->files, path, NULL);
		have_st = false;
	}
	cache_policy(c, path, have_st ? &st : NULL, fi);
	if ((r = attach(c, fx, &h, path, size, fi)) == 0 && plain_read)
		content_note_open(&c->content, path);
	return r;
}

/* OPEN with O_CREAT and the LSTAT libfuse will want next, in one round
 * trip (rfs_open_lstat recovers the errno OpenSSH folds into FAILURE). */
static int
create_open(struct fs_ctx *c, struct fxc *fx, const char *path, const char *rp,
	    uint32_t pflags, const struct fxp_attr *a, struct rfs_handle *h,
	    struct fxp_attr *got)
{
	struct stat st;
	int r = rfs_open_lstat(fx, fsctx_open_chan(c), rp, pflags, a, h, got);

	if (r < 0)
		return r;
	asyncmeta_learn_ids(&c->am, got, a->perm);
	cache_created(c->cache, path, S_IFREG, false);
	if (got->flags && fsctx_stat(c, got, &st) == 0)
		cache_put_attr(c->cache, path, &st, cache_gen(c->cache));
	return 0;
}

/* -o exclusive: a create whose outcome the cache can tell (the parent's
 * listing is complete and the name free, as for mkdir) is answered at once
 * with the attributes the file will have; its OPEN joins the queue and its
 * writes wait in io for the handle (io_file_new_pending). 0 answered, 1
 * the blocking way. */
static int
create_queued(struct fs_ctx *c, const char *path, mode_t mode, struct fuse_file_info *fi)
{
	const struct io_hooks hooks = file_hooks(c);
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = mode & 07777 }, now;
	struct fxc *fx = fsctx_meta(c);
	struct io_file *f;
	uint32_t strip;
	char *rp;
	int r;

	if (!fsctx_async(c) || (fi->flags & O_APPEND) || !cache_lookup_negative(c->cache, path) ||
	    !meta_new_attrs(c, path, S_IFREG | (mode & 07777), &now, &strip))
		return 1;
	if (fsctx_remote_queued(c, path, &rp) < 0)
		return 1;
	if (io_file_new_pending(fx, ASYNCMETA_CHAN, fi->flags, &hooks, &f) < 0) {
		free(rp);
		return 1;
	}
	/* Made up before the OPEN leaves: a refusal drops them again. */
	cache_created(c->cache, path, S_IFREG, false);
	fsctx_known_put(c, path, &now);
	r = asyncmeta_open(&c->am, fx, path, rp, fileops_pflags(fi->flags | O_CREAT), &a, f);
	free(rp);
	if (r < 0) {
		cache_invalidate_tree(c->cache, path);
		io_file_opened(f, r, NULL);
		(void)io_release(f);
		return 1;
	}
	cache_policy(c, path, NULL, fi);
	if ((r = attach_file(c, f, path, fi)) < 0)
		return r;	/* released (the OPEN still goes) */
	/* The server's umask takes bits: set them back behind the writes
	 * (the blocking way's setattr_fix_mode, unwaited). */
	if (strip & a.perm) {
		a.perm = now.perm & 07777;
		(void)io_setattr_held(f, &a);
	}
	return 0;
}

int
fileops_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fxc *fx = fsctx_pick(c);
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = mode & 07777 }, got;
	struct rfs_handle h;
	uint64_t size;
	char *rp;
	int r;

	if ((r = create_queued(c, path, mode, fi)) <= 0)
		return r;
	if ((r = fsctx_remote_open(c, path, &rp)) < 0)
		return r;
	r = create_open(c, fx, path, rp, fileops_pflags(fi->flags | O_CREAT), &a, &h, &got);
	free(rp);
	if (r < 0)
		return fsctx_nospace(c, path, r);
	size = (fi->flags & O_EXCL) ? 0 : open_size(fi->flags, NULL);
	cache_policy(c, path, NULL, fi);
	if ((r = attach(c, fx, &h, path, size, fi)) < 0)
		return r;
	if (got.flags)
		io_file_seen(fuseapi_file(fi), &got);
	if ((r = setattr_fix_mode(c, path, fi, mode, &got)) < 0)
		log_warn("create %s: cannot set mode %o the server's umask took away: %s",
			 path, (unsigned)mode & 07777, strerror(-r));
	return 0;
}

int
fileops_read(const char *path, char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct io_file *f = fuseapi_file(fi);

	(void)path;
	if (off < 0)
		return -EINVAL;
	/* A READ on this handle's channel could overtake the WRITEs other
	 * descriptors of the file were told succeeded. */
	fileops_settle_others(fuseapi_ctx(), NULL, f);
	return (int)io_read(f, buf, size, (uint64_t)off);
}

/* The file's attributes and content stamp are no longer what we cached,
 * and other handles' read-ahead of it is stale. */
static void
forget_contents(struct fs_ctx *c, struct io_file *f)
{
	char *p = ofile_path(&c->files, f);

	if (p) {
		cache_invalidate_attr(c->cache, p);
		cache_stamp_clear(c->cache, p);
		free(p);
	}
	ofile_changed(&c->files, NULL, f);
}

/* Under -o exclusive a write does not wait and the cached attributes are
 * kept, as the file will be once the WRITE lands: the size grows to 'end',
 * the mtime is now. Without a cached entry, forget_contents (also when
 * the write then fails). */
static void
note_written(struct fs_ctx *c, struct io_file *f, uint64_t end)
{
	char *p = ofile_path(&c->files, f);
	struct fxp_attr a;

	if (p && fsctx_known_raw(c, p, &a)) {
		if (end > a.size)
			a.size = end;
		a.mtime = (uint32_t)time(NULL);
		cache_stamp_clear(c->cache, p);
		ofile_changed(&c->files, NULL, f);
		fsctx_known_put(c, p, &a);
	} else {
		forget_contents(c, f);
	}
	free(p);
}

/* A write error of f as the program should see it (fsctx_nospace). */
static int
write_errno(struct fs_ctx *c, struct io_file *f, int r)
{
	char *p;

	/* sftp-server seeks before it writes: an offset past the largest
	 * file its filesystem holds fails that lseek with EINVAL. */
	if (r == -EINVAL)
		return -EFBIG;
	if (r != -EPERM)
		return r;
	p = ofile_path(&c->files, f);
	r = fsctx_nospace(c, p, r);
	free(p);
	return fsctx_toobig(io_file_end(f), r);
}

/* Opens the file for writing on every other channel at once (one round
 * trip) for striped writes (io.h). A file renamed meanwhile keeps its one
 * channel: the new handles could name another file. */
static void
open_stripes(struct fs_ctx *c, struct io_file *f)
{
	struct rfs_handle h[IO_MAX_STRIPES], own;
	int chans[IO_MAX_STRIPES];
	struct fxc *fx = io_file_fxc(f);
	int nch = fxc_nchannels(fx), nb = 0, n = 0, ch, i;
	char *p = ofile_path(&c->files, f), *rp = NULL, *again;

	if (p == NULL || fsctx_remote(c, p, &rp) < 0)
		goto out;
	io_file_handle(f, &own);
	for (ch = 0; ch < nch && nb < IO_MAX_STRIPES; ch++)
		if (ch != own.chan)
			chans[nb++] = ch;
	n = rfs_open_each(fx, rp, FXF_WRITE, chans, nb, h);
	again = ofile_path(&c->files, f);
	if (again == NULL || strcmp(again, p) != 0) {
		for (i = 0; i < n; i++)
			rfs_close_async(fx, &h[i]);
		n = 0;
	}
	free(again);
	io_add_stripes(f, h, n);
out:
	free(rp);
	free(p);
}

int
fileops_write(const char *path, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct io_file *f = fuseapi_file(fi);
	ssize_t r;

	(void)path;
	if (off < 0)
		return -EINVAL;
	/* Other descriptors' WRITEs travel on their own channels, to other
	 * server processes: one still queued could land after this one and,
	 * where they overlap, leave the older data (a local file, and sshfs's
	 * one channel, keep the later write). Settled, they also count in the
	 * end of file an O_APPEND write learns. */
	fileops_settle_others(fuseapi_ctx(), NULL, f);
	if (io_append_stale(f) && (r = io_append_sync(f)) < 0)
		return (int)r;
	if (fsctx_async(fuseapi_ctx()) && !(fi->flags & O_APPEND)) {
		note_written(fuseapi_ctx(), f, (uint64_t)off + size);
		r = io_write(f, buf, size, (uint64_t)off);
		if (r != (ssize_t)size)
			forget_contents(fuseapi_ctx(), f);
		return r < 0 ? write_errno(fuseapi_ctx(), f, (int)r) : (int)r;
	}
	/* Before: no cached size older than this write is served while it
	 * travels. After: a reply that left the server before the WRITE
	 * (an FSTAT sent meanwhile) cannot be cached as current. */
	forget_contents(fuseapi_ctx(), f);
	r = io_write(f, buf, size, (uint64_t)off);
	forget_contents(fuseapi_ctx(), f);
	/* No stripes under -o exclusive: the file's WRITEs stay on the
	 * queue's channel, ahead of the path requests that follow them
	 * (asyncmeta.h). */
	if (r > 0 && !fsctx_async(fuseapi_ctx()) && io_wants_stripes(f))
		open_stripes(fuseapi_ctx(), f);
	return r < 0 ? write_errno(fuseapi_ctx(), f, (int)r) : (int)r;
}

/* An error kept by the queue for path (asyncmeta_take), as the program
 * should see it. */
static int
take_error(struct fs_ctx *c, const char *p, bool dir)
{
	int r = asyncmeta_take(&c->am, p, dir);

	return r == -EPERM ? fsctx_nospace(c, p, r) : r;
}

/* Close under -o exclusive: the WRITEs are not waited for (the queue holds
 * the file until they are answered: asyncmeta_hold); the program learns
 * here of what an earlier operation on this path met. */
static int
flush_queued(struct fs_ctx *c, struct io_file *f)
{
	char *p = ofile_path(&c->files, f);
	int r = take_error(c, p, false);

	if (io_file_wrote(f))
		asyncmeta_hold(&c->am, f, p);
	free(p);
	return r;
}

/* Close: the program learns of write errors here; and the attributes
 * after the writes come back with the last WRITE replies, so the getattr
 * and setattr calls that follow a close (tar, cp -p, rsync) need no LSTAT. */
int
fileops_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct io_file *f = fuseapi_file(fi);
	uint64_t gen = cache_gen(c->cache);
	struct fxp_attr a;
	struct stat st;
	char *p;
	int r;

	(void)path;
	if (fsctx_async(c))
		return flush_queued(c, f);
	/* The FSTAT must not miss what other descriptors wrote: cached, it
	 * would hide their writes for the whole cache timeout. */
	fileops_settle_others(c, NULL, f);
	r = io_flush_stat(f, &a);
	if (r == 0 && (a.flags & FXA_PERMISSIONS) && fsctx_stat(c, &a, &st) == 0 &&
	    (p = ofile_path(&c->files, f)) != NULL) {
		cache_put_attr(c->cache, p, &st, gen);
		free(p);
	}
	return write_errno(c, f, r);
}

int
fileops_release(const char *path, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct io_file *f = fuseapi_file(fi);
	char *p;
	int r;

	(void)path;
	/* A file the queue held: settled there, its error kept for the next
	 * fsync or close of the path (asyncmeta.h), not lost in a release. */
	if (asyncmeta_release(&c->am, f) < 0)
		r = 0;
	else
		r = io_flush_last(f);
	p = ofile_path(&c->files, f);
	ofile_remove(&c->files, f);
	if (p && io_file_wrote(f))
		cache_stamp_clear(c->cache, p);
	if (r < 0)
		log_warn("%s: a write failed and was reported at close: %s",
			 p ? p : "(unlinked file)", strerror(-r));
	free(p);
	io_release(f);
	return r;
}

int
fileops_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct io_file *f = fuseapi_file(fi);
	char *p;
	int r, kept;

	(void)path;
	(void)datasync;
	if (!fsctx_async(c))
		return write_errno(c, f, io_fsync(f));
	/* A durability point: everything answered before it reaches the
	 * server first (asyncmeta.h). */
	asyncmeta_drain(&c->am);
	r = write_errno(c, f, io_fsync(f));
	p = ofile_path(&c->files, f);
	kept = take_error(c, p, false);
	free(p);
	return r < 0 ? r : kept;
}

/* True when in and out are one file by name: OpenSSH refuses copy-data
 * from a handle to itself or between two handles of one path (FAILURE). */
static bool
same_file(struct fs_ctx *c, struct io_file *in, struct io_file *out)
{
	char *pi, *po;
	bool same;

	if (in == out)
		return true;
	pi = ofile_path(&c->files, in);
	po = ofile_path(&c->files, out);
	same = pi && po && strcmp(pi, po) == 0;
	free(pi);
	free(po);
	return same;
}

/* Runs copy-data with both handles on one server process: the output file
 * is reopened on the input's channel when they differ. -EOPNOTSUPP makes
 * the kernel copy through read and write instead (fuse_copy_file_range).
 * -ENOTCONN: a handle of a link that died (the caller reopens). */
static int
copy_once(struct fs_ctx *c, struct io_file *in, uint64_t off_in, struct io_file *out,
	  uint64_t off_out, uint64_t n, uint32_t *gen_in, uint32_t *gen_out)
{
	struct fxc *fx = io_file_fxc(in);
	struct rfs_handle hin, hout, tmp;
	char *p, *rp = NULL;
	int r;

	io_file_handle(in, &hin);
	io_file_handle(out, &hout);
	*gen_in = hin.gen;
	*gen_out = hout.gen;
	if (fx == io_file_fxc(out) && hin.chan == hout.chan)
		return rfs_copy_data(fx, &hin, off_in, n, &hout, off_out);
	if ((p = ofile_path(&c->files, out)) == NULL)
		return -EOPNOTSUPP;	/* unlinked: let the kernel copy */
	r = fsctx_remote(c, p, &rp);
	free(p);
	if (r == 0)
		r = rfs_open(fx, hin.chan, rp, FXF_WRITE, NULL, &tmp);
	free(rp);
	if (r < 0)
		return r == -ENOMEM ? r : -EOPNOTSUPP;
	r = rfs_copy_data(fx, &hin, off_in, n, &tmp, off_out);
	rfs_close_async(fx, &tmp);
	return r;
}

static int
copy_data(struct fs_ctx *c, struct io_file *in, uint64_t off_in, struct io_file *out,
	  uint64_t off_out, uint64_t n)
{
	uint32_t gen_in, gen_out;
	int r, tries;

	if (same_file(c, in, out))
		return -EOPNOTSUPP;
	/* Copying the same bytes twice after a reconnection writes them twice
	 * at the same place: harmless. */
	for (tries = 0; (r = copy_once(c, in, off_in, out, off_out, n, &gen_in, &gen_out)) == -ENOTCONN;
	     tries++) {
		if (tries == 1 || io_reopen(in, gen_in) < 0 || io_reopen(out, gen_out) < 0)
			return -EIO;
	}
	/* OpenSSH folds every refusal into FAILURE (same file under another
	 * name, ...); the kernel's read/write copy then meets the real error,
	 * if there is one, with its real errno. */
	return r == -EPERM ? -EOPNOTSUPP : r;
}

ssize_t
fileops_copy_file_range(const char *path_in, struct fuse_file_info *fi_in,
			off_t off_in, const char *path_out,
			struct fuse_file_info *fi_out, off_t off_out,
			size_t len, int flags)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct io_file *in = fuseapi_file(fi_in), *out = fuseapi_file(fi_out);
	struct fxp_attr a;
	uint64_t n;
	int r;

	(void)path_in;
	(void)path_out;
	if (flags != 0 || off_in < 0 || off_out < 0)
		return -EINVAL;
	if (!fxc_has(io_file_fxc(in), FXC_EXT_COPY_DATA) ||
	    !fxc_has(io_file_fxc(out), FXC_EXT_COPY_DATA))
		return -ENOSYS;		/* the kernel falls back to read/write */
	if ((r = io_flush(in)) < 0 || (r = io_flush(out)) < 0 || (r = io_fstat(in, &a)) < 0)
		return r;
	if (!(a.flags & FXA_SIZE) || a.size <= (uint64_t)off_in)
		return 0;
	n = a.size - (uint64_t)off_in;
	if (n > len)
		n = len;
	if ((r = copy_data(c, in, (uint64_t)off_in, out, (uint64_t)off_out, n)) < 0)
		return r;
	io_note_write(out, (uint64_t)off_out, n);
	forget_contents(c, out);
	return (ssize_t)n;
}
