/* rfs: typed remote-filesystem operations on top of fxc (contract in rfs.h).
 *
 * Blocking operations are one request (sometimes followed by a probe on the
 * error path) through fxc_call(). READ and WRITE of more than one chunk are
 * submitted all at once and waited for together, so a large read costs one
 * round trip, not one per chunk.
 *
 * A reply that is malformed or of the wrong type means the server is broken
 * or hostile; the blocking calls then kill the connection (protocol
 * violations fail the connection, never the process) and return -EIO like
 * every other request on it; so do the async READs (rfs_read_reply).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fxc.h"
#include "fxp.h"
#include "log.h"
#include "rfs.h"
#include "rfs_int.h"

/* The errno OpenSSH's catch-all SSH2_FX_FAILURE maps to (see fxp.c). */
#define RFS_FAILURE fxp_status_errno(FX_FAILURE)
/* Longest READDIR name handed on; Linux allows 255 bytes, so anything near
 * this is a hostile server, not a real file. */
#define RFS_NAME_MAX 1023
/* How many READDIR batches the ENOTEMPTY probe looks at before giving up. */
#define RFS_PROBE_BATCHES 16
/* Any of these in VERSION means an OpenSSH sftp-server (or a server that
 * copies its quirks, such as the reversed SYMLINK arguments). */
#define RFS_OPENSSH_EXTS (FXC_EXT_POSIX_RENAME | FXC_EXT_STATVFS | \
			  FXC_EXT_FSTATVFS | FXC_EXT_HARDLINK | FXC_EXT_FSYNC | \
			  FXC_EXT_LSETSTAT | FXC_EXT_LIMITS | FXC_EXT_EXPAND_PATH)

/* ---- blocking plumbing ---- */

int
rfs_violation(struct fxc *c, int r, const struct fxp_reply *rep)
{
	log_error("sftp: malformed or unexpected %s reply (%s); closing the connection",
		  fxp_type_name(rep->type), strerror(-r));
	fxc_kill(c);
	return -EIO;
}

/* Folds a decoder's verdict: protocol errors kill the link, status errno
 * values are passed on. */
static int
rfs_check(struct fxc *c, int r, const struct fxp_reply *rep)
{
	if (r == -EBADMSG || r == -EPROTO)
		return rfs_violation(c, r, rep);
	return r;
}

/* Sends the packet b (already encoded, or enc < 0 when encoding failed) and
 * waits for the reply. b is always emptied. */
static int
rfs_roundtrip(struct fxc *c, int chan, uint32_t gen, unsigned flags, struct wire_buf *b,
	      int enc, struct fxc_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	if (enc != 0) {
		wire_buf_free(b);
		return enc;
	}
	r = fxc_call_on(c, chan, gen, flags, b, res);
	wire_buf_free(b);
	return r;
}

/* A request answered by STATUS; gen and flags as fxc_call_on(). */
static int
rfs_do_status(struct fxc *c, int chan, uint32_t gen, unsigned flags, struct wire_buf *b,
	      int enc)
{
	struct fxc_result res;
	int r;

	if ((r = rfs_roundtrip(c, chan, gen, flags, b, enc, &res)) == 0)
		r = rfs_check(c, fxp_reply_errno(&res.reply, FXP_STATUS), &res.reply);
	fxc_result_free(&res);
	return r;
}

/* A request answered by ATTRS. */
static int
rfs_do_attrs(struct fxc *c, int chan, uint32_t gen, struct wire_buf *b, int enc,
	     struct fxp_attr *a)
{
	struct fxc_result res;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = rfs_roundtrip(c, chan, gen, 0, b, enc, &res)) == 0 &&
	    (r = rfs_check(c, fxp_reply_errno(&res.reply, FXP_ATTRS), &res.reply)) == 0)
		r = rfs_check(c, fxp_dec_attrs(&res.reply, a), &res.reply);
	fxc_result_free(&res);
	return r;
}

/* A request answered by HANDLE; h->chan is set to 'chan', h->gen to the
 * generation the reply came on. */
static int
rfs_do_handle(struct fxc *c, int chan, unsigned flags, struct wire_buf *b, int enc,
	      struct rfs_handle *h)
{
	struct fxc_result res;
	const uint8_t *p;
	uint32_t n;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = rfs_roundtrip(c, chan, 0, flags, b, enc, &res)) == 0 &&
	    (r = rfs_check(c, fxp_reply_errno(&res.reply, FXP_HANDLE), &res.reply)) == 0 &&
	    (r = rfs_check(c, fxp_dec_handle(&res.reply, &p, &n), &res.reply)) == 0) {
		h->chan = chan;
		h->gen = res.gen;
		h->len = n;
		memcpy(h->data, p, n);
	}
	fxc_result_free(&res);
	return r;
}

/* The first name of a NAME reply, copied (REALPATH, READLINK, the home
 * extensions). A path longer than PATH_MAX cannot be used here anyway. */
static int
rfs_first_name(const struct fxp_reply *rep, char **out)
{
	struct fxp_names it;
	struct fxp_name n;
	int r;

	if ((r = fxp_names_begin(rep, &it)) != 0)
		return r;
	if ((r = fxp_names_next(&it, &n)) != 1)
		return r == 0 ? -EBADMSG : r;
	if (n.name_len == 0 || memchr(n.name, '\0', n.name_len) != NULL)
		return -EBADMSG;
	if (n.name_len >= PATH_MAX)
		return -ENAMETOOLONG;
	if ((*out = strndup(n.name, n.name_len)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
rfs_do_name(struct fxc *c, struct wire_buf *b, int enc, char **out)
{
	struct fxc_result res;
	int r;

	*out = NULL;
	if ((r = rfs_roundtrip(c, -1, 0, 0, b, enc, &res)) == 0 &&
	    (r = rfs_check(c, fxp_reply_errno(&res.reply, FXP_NAME), &res.reply)) == 0)
		r = rfs_check(c, rfs_first_name(&res.reply, out), &res.reply);
	fxc_result_free(&res);
	return r;
}

static bool
rfs_exists(struct fxc *c, const char *path, struct fxp_attr *a)
{
	return rfs_lstat(c, path, a) == 0;
}

/* ---- requests not safe to apply twice ----
 * They go with FXC_ONCE: when the link died after one was sent, fxc does
 * not send it again but answers -ECONNABORTED, and what the server's state
 * now shows decides (the rules are in rfs.h): 0 where it can only be the
 * request's own effect, -EIO where it cannot be told. */

unsigned
rfs_open_flags(uint32_t pflags)
{
	return (pflags & FXF_EXCL) ? FXC_ONCE : 0;
}

static int
rfs_do_once(struct fxc *c, struct wire_buf *b, int enc)
{
	return rfs_do_status(c, -1, 0, FXC_ONCE, b, enc);
}

/* After -ECONNABORTED: 0 when 'done' says the effect is there, else -EIO. */
static int
rfs_decided(int r, bool done)
{
	if (r != -ECONNABORTED)
		return r;
	return done ? 0 : -EIO;
}

static bool
rfs_gone(struct fxc *c, const char *path)
{
	struct fxp_attr a;

	return rfs_lstat(c, path, &a) == -ENOENT;
}

static bool
rfs_is_dir(const struct fxp_attr *a)
{
	return (a->flags & FXA_PERMISSIONS) && S_ISDIR(a->perm);
}

/* ---- attributes ---- */

int
rfs_stat(struct fxc *c, const char *path, struct fxp_attr *a)
{
	struct wire_buf b = { 0 };

	return rfs_do_attrs(c, -1, 0, &b, fxp_enc_path(&b, FXP_STAT, path), a);
}

int
rfs_lstat(struct fxc *c, const char *path, struct fxp_attr *a)
{
	struct wire_buf b = { 0 };

	return rfs_do_attrs(c, -1, 0, &b, fxp_enc_path(&b, FXP_LSTAT, path), a);
}

int
rfs_fstat(struct fxc *c, const struct rfs_handle *h, struct fxp_attr *a)
{
	struct wire_buf b = { 0 };

	return rfs_do_attrs(c, h->chan, h->gen, &b,
			    fxp_enc_handle(&b, FXP_FSTAT, h->data, h->len), a);
}

int
rfs_setstat(struct fxc *c, const char *path, const struct fxp_attr *a)
{
	struct wire_buf b = { 0 };

	return rfs_do_status(c, -1, 0, 0, &b, fxp_enc_path_attr(&b, FXP_SETSTAT, path, a));
}

int
rfs_lsetstat(struct fxc *c, const char *path, const struct fxp_attr *a)
{
	struct wire_buf b = { 0 };

	if (!fxc_has(c, FXC_EXT_LSETSTAT))
		return -EOPNOTSUPP;
	return rfs_do_status(c, -1, 0, 0, &b, fxp_enc_lsetstat(&b, path, a));
}

int
rfs_fsetstat(struct fxc *c, const struct rfs_handle *h, const struct fxp_attr *a)
{
	struct wire_buf b = { 0 };

	return rfs_do_status(c, h->chan, h->gen, 0, &b,
			     fxp_enc_fsetstat(&b, h->data, h->len, a));
}

/* ---- handles ---- */

/* A channel for a new handle when the caller lets us choose: the path's
 * hash spreads files over the channels without shared counters, and the
 * same file lands on the same server process each time. That last part is
 * why this is not fxc_least_loaded(): two handles on one file (a program
 * writing through one descriptor and reading or fstat'ing through another,
 * a truncate behind another handle's queued writes) are then ordered by
 * the one server process as they were submitted; on two channels a READ
 * could overtake a WRITE that was queued first. */
int
rfs_pick_chan(struct fxc *c, const char *path)
{
	int n = fxc_nchannels(c);
	uint32_t h = 2166136261u;	/* FNV-1a */

	if (n <= 1)
		return 0;
	for (; *path != '\0'; path++)
		h = (h ^ (uint8_t)*path) * 16777619u;
	return (int)(h % (uint32_t)n);
}

int
rfs_open_errno(struct fxc *c, const char *path, uint32_t pflags, int r)
{
	struct fxp_attr a;

	/* an exclusive create whose reply was lost: a file there may be
	 * ours or another's */
	if (r == -ECONNABORTED)
		return -EIO;
	if (r != RFS_FAILURE || !rfs_exists(c, path, &a))
		return r;
	if ((pflags & (FXF_CREAT | FXF_EXCL)) == (FXF_CREAT | FXF_EXCL))
		return -EEXIST;
	if ((pflags & (FXF_WRITE | FXF_APPEND | FXF_TRUNC)) && rfs_is_dir(&a))
		return -EISDIR;
	return r;
}

int
rfs_open(struct fxc *c, int chan, const char *path, uint32_t pflags,
	 const struct fxp_attr *a, struct rfs_handle *h)
{
	struct wire_buf b = { 0 };
	int r;

	if (chan < 0 || chan >= fxc_nchannels(c))
		chan = rfs_pick_chan(c, path);
	r = rfs_do_handle(c, chan, rfs_open_flags(pflags), &b, fxp_enc_open(&b, path, pflags, a),
			  h);
	return r == 0 ? 0 : rfs_open_errno(c, path, pflags, r);
}

int
rfs_opendir(struct fxc *c, const char *path, struct rfs_handle *h)
{
	struct wire_buf b = { 0 };
	struct fxp_attr a;
	int r;

	r = rfs_do_handle(c, rfs_pick_chan(c, path), 0, &b,
			  fxp_enc_path(&b, FXP_OPENDIR, path), h);
	/* OpenSSH maps ENOTDIR to NO_SUCH_FILE; a readdir caller deserves
	 * to know the path is there but is not a directory. */
	if ((r == -ENOENT || r == RFS_FAILURE) && rfs_exists(c, path, &a) &&
	    (a.flags & FXA_PERMISSIONS) && !rfs_is_dir(&a))
		return -ENOTDIR;
	return r;
}

int
rfs_close(struct fxc *c, const struct rfs_handle *h)
{
	struct wire_buf b = { 0 };

	return rfs_do_status(c, h->chan, h->gen, 0, &b,
			     fxp_enc_handle(&b, FXP_CLOSE, h->data, h->len));
}

static void
rfs_close_done(void *arg, int err, const struct fxp_reply *reply)
{
	(void)arg;
	(void)err;
	(void)reply;
}

void
rfs_close_async(struct fxc *c, const struct rfs_handle *h)
{
	struct wire_buf b = { 0 };

	if (fxp_enc_handle(&b, FXP_CLOSE, h->data, h->len) == 0)
		(void)fxc_submit_on(c, h->chan, h->gen, 0, &b, rfs_close_done, NULL);
	wire_buf_free(&b);
}

/* ---- directories ---- */

int
rfs_walk_names(const struct fxp_reply *rep, rfs_dirent_fn *fn, void *arg)
{
	char name[RFS_NAME_MAX + 1];
	struct fxp_names it;
	struct fxp_name n;
	int r, k;

	if ((r = fxp_names_begin(rep, &it)) != 0)
		return r;
	while ((r = fxp_names_next(&it, &n)) == 1) {
		if (!fxp_name_is_safe(n.name, n.name_len) ||
		    n.name_len > RFS_NAME_MAX) {
			log_warn("sftp: server sent an unusable directory entry name (%u bytes); skipped",
				 n.name_len);
			continue;
		}
		memcpy(name, n.name, n.name_len);
		name[n.name_len] = '\0';
		if ((k = fn(arg, name, &n.attr)) != 0)
			return k < 0 ? k : (int)it.done;
	}
	return r < 0 ? r : (int)it.count;
}

int
rfs_readdir(struct fxc *c, const struct rfs_handle *h, rfs_dirent_fn *fn, void *arg)
{
	struct wire_buf b = { 0 };
	struct fxc_result res;
	int r;

	r = rfs_roundtrip(c, h->chan, h->gen, 0, &b,
			  fxp_enc_handle(&b, FXP_READDIR, h->data, h->len), &res);
	if (r == 0 && (r = fxp_reply_errno(&res.reply, FXP_NAME)) == 0)
		r = rfs_walk_names(&res.reply, fn, arg);
	else if (r == -ENODATA)
		r = 0;	/* end of directory */
	/* A malformed batch is a broken server; fn's own errors pass. */
	if (r == -EBADMSG || r == -EPROTO)
		r = rfs_violation(c, r, &res.reply);
	fxc_result_free(&res);
	return r;
}

static int
rfs_count_real(void *arg, const char *name, const struct fxp_attr *a)
{
	(void)a;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	*(bool *)arg = true;
	return 1;	/* one is enough */
}

/* Whether directory 'path' has an entry other than . and .. (for the
 * ENOTEMPTY probe). Any error reads as "don't know" (false). */
static bool
rfs_dir_has_entries(struct fxc *c, const char *path)
{
	struct rfs_handle h;
	bool found = false;
	int i, r = 1;

	if (rfs_opendir(c, path, &h) != 0)
		return false;
	for (i = 0; i < RFS_PROBE_BATCHES && !found && r > 0; i++)
		r = rfs_readdir(c, &h, rfs_count_real, &found);
	(void)rfs_close(c, &h);
	return found;
}

int
rfs_mkdir(struct fxc *c, const char *path, mode_t mode)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = mode & 07777 };
	struct wire_buf b = { 0 };
	int r;

	r = rfs_do_once(c, &b, fxp_enc_path_attr(&b, FXP_MKDIR, path, &a));
	return rfs_mkdir_errno(c, path, r);
}

int
rfs_mkdir_errno(struct fxc *c, const char *path, int r)
{
	struct fxp_attr st;

	if (r == -ECONNABORTED)
		return rfs_decided(r, rfs_exists(c, path, &st) && rfs_is_dir(&st));
	if (r == RFS_FAILURE && rfs_exists(c, path, &st))
		return -EEXIST;
	return r;
}

int
rfs_rmdir(struct fxc *c, const char *path)
{
	struct wire_buf b = { 0 };
	struct fxp_attr st;
	int r;

	r = rfs_do_once(c, &b, fxp_enc_path(&b, FXP_RMDIR, path));
	if (r == -ECONNABORTED)
		return rfs_decided(r, rfs_gone(c, path));
	if (r != RFS_FAILURE || !rfs_exists(c, path, &st))
		return r;
	if ((st.flags & FXA_PERMISSIONS) && !rfs_is_dir(&st))
		return -ENOTDIR;
	/* Linux says ENOTEMPTY (POSIX allows EEXIST too). */
	return rfs_dir_has_entries(c, path) ? -ENOTEMPTY : r;
}

int
rfs_remove(struct fxc *c, const char *path)
{
	struct wire_buf b = { 0 };
	struct fxp_attr st;
	int r;

	r = rfs_do_once(c, &b, fxp_enc_path(&b, FXP_REMOVE, path));
	if (r == -ECONNABORTED)
		return rfs_decided(r, rfs_gone(c, path));
	/* unlink(2) of a directory is EISDIR on Linux; OpenSSH folds it. */
	if (r == RFS_FAILURE && rfs_exists(c, path, &st) && rfs_is_dir(&st))
		return -EISDIR;
	return r;
}

/* ---- names ---- */

/* Why a rename between existing objects failed, as rename(2) would say. */
static int
rfs_rename_errno(struct fxc *c, const char *from, const char *to, int r)
{
	struct fxp_attr fa, ta;

	if (r != RFS_FAILURE || !rfs_exists(c, to, &ta) || !rfs_exists(c, from, &fa))
		return r;
	if (rfs_is_dir(&fa) && !rfs_is_dir(&ta))
		return -ENOTDIR;
	if (!rfs_is_dir(&fa) && rfs_is_dir(&ta))
		return -EISDIR;
	if (rfs_is_dir(&ta) && rfs_dir_has_entries(c, to))
		return -ENOTEMPTY;
	return r;
}

static int
rfs_plain_rename(struct fxc *c, const char *from, const char *to)
{
	struct wire_buf b = { 0 };

	return rfs_do_once(c, &b, fxp_enc_path2(&b, FXP_RENAME, from, to));
}

/* A rename whose reply was lost is done when 'from' is gone and 'to' is
 * there. */
static int
rfs_rename_decided(struct fxc *c, const char *from, const char *to, int r)
{
	struct fxp_attr st;

	if (r != -ECONNABORTED)
		return r;
	return rfs_decided(r, rfs_gone(c, from) && rfs_exists(c, to, &st));
}

/* noreplace: the LSTAT check is not atomic with the rename, but plain
 * RENAME on OpenSSH moves regular files with link()+unlink(), which does
 * refuse an existing target atomically; the check covers the rest. */
int
rfs_rename(struct fxc *c, const char *from, const char *to, bool noreplace)
{
	struct wire_buf b = { 0 };
	struct fxp_attr st;
	int r;

	if (noreplace) {
		if (rfs_exists(c, to, &st))
			return -EEXIST;
		r = rfs_rename_decided(c, from, to, rfs_plain_rename(c, from, to));
		return r == RFS_FAILURE && rfs_exists(c, to, &st) ? -EEXIST : r;
	}
	if (!fxc_has(c, FXC_EXT_POSIX_RENAME))
		/* Without posix-rename an existing 'to' makes the server
		 * refuse; we report that rather than emulate a non-atomic
		 * remove-then-rename. */
		return rfs_rename_errno(c, from, to, rfs_rename_decided(c, from, to,
						rfs_plain_rename(c, from, to)));
	r = rfs_do_once(c, &b, fxp_enc_ext_path2(&b, "posix-rename@openssh.com", from, to));
	/* Announced but refused (sftp-server -P): the plain request may
	 * still be allowed. */
	if (r == -EOPNOTSUPP || r == -EACCES)
		r = rfs_plain_rename(c, from, to);
	return rfs_rename_errno(c, from, to, rfs_rename_decided(c, from, to, r));
}

int
rfs_symlink(struct fxc *c, const char *target, const char *linkpath)
{
	struct wire_buf b = { 0 };
	struct fxp_attr st;
	int enc, r;

	/* OpenSSH sends (target, linkpath), reversed from draft-02; servers
	 * that announce OpenSSH extensions are taken to share the quirk, as
	 * sshfs and OpenSSH's own client assume. */
	if (fxc_extensions(c) & RFS_OPENSSH_EXTS)
		enc = fxp_enc_path2(&b, FXP_SYMLINK, target, linkpath);
	else
		enc = fxp_enc_path2(&b, FXP_SYMLINK, linkpath, target);
	r = rfs_do_once(c, &b, enc);
	if (r == -ECONNABORTED) {
		char *now = NULL;
		bool done = rfs_readlink(c, linkpath, &now) == 0 && strcmp(now, target) == 0;

		free(now);
		return rfs_decided(r, done);
	}
	if (r == RFS_FAILURE && rfs_exists(c, linkpath, &st))
		return -EEXIST;
	return r;
}

int
rfs_readlink(struct fxc *c, const char *path, char **target)
{
	struct wire_buf b = { 0 };

	return rfs_do_name(c, &b, fxp_enc_path(&b, FXP_READLINK, path), target);
}

int
rfs_link(struct fxc *c, const char *from, const char *to)
{
	struct wire_buf b = { 0 };
	struct fxp_attr st;
	int r;

	if (!fxc_has(c, FXC_EXT_HARDLINK))
		return -EOPNOTSUPP;
	r = rfs_do_once(c, &b, fxp_enc_ext_path2(&b, "hardlink@openssh.com", from, to));
	/* a name at 'to' may be our link or another's file: not certain */
	if (r == -ECONNABORTED)
		return -EIO;
	if (r == RFS_FAILURE && rfs_exists(c, to, &st))
		return -EEXIST;
	return r;
}

int
rfs_realpath(struct fxc *c, const char *path, char **out)
{
	struct wire_buf b = { 0 };

	return rfs_do_name(c, &b, fxp_enc_path(&b, FXP_REALPATH, path), out);
}

int
rfs_home(struct fxc *c, char **out)
{
	struct wire_buf b = { 0 };
	int r = -EOPNOTSUPP;

	*out = NULL;
	if (fxc_has(c, FXC_EXT_HOME_DIR))
		r = rfs_do_name(c, &b, fxp_enc_ext_path(&b, "home-directory", ""), out);
	if (r != 0 && r != -EIO && fxc_has(c, FXC_EXT_EXPAND_PATH))
		r = rfs_do_name(c, &b, fxp_enc_ext_path(&b, "expand-path@openssh.com",
							"~"), out);
	/* sftp-server starts in the home directory, so "." is home too. */
	if (r != 0 && r != -EIO)
		r = rfs_realpath(c, ".", out);
	return r;
}

int
rfs_fsync(struct fxc *c, const struct rfs_handle *h)
{
	struct wire_buf b = { 0 };

	if (!fxc_has(c, FXC_EXT_FSYNC))
		return -EOPNOTSUPP;
	return rfs_do_status(c, h->chan, h->gen, 0, &b, fxp_enc_ext_handle(&b,
			     "fsync@openssh.com", h->data, h->len));
}

int
rfs_statvfs(struct fxc *c, const char *path, struct statvfs *st)
{
	struct wire_buf b = { 0 };
	struct fxc_result res;
	int r;

	memset(st, 0, sizeof(*st));
	if (!fxc_has(c, FXC_EXT_STATVFS))
		return -EOPNOTSUPP;
	r = rfs_roundtrip(c, -1, 0, 0, &b, fxp_enc_ext_path(&b, "statvfs@openssh.com",
							    path), &res);
	if (r == 0 &&
	    (r = rfs_check(c, fxp_reply_errno(&res.reply, FXP_EXTENDED_REPLY), &res.reply)) == 0)
		r = rfs_check(c, fxp_dec_statvfs(&res.reply, st), &res.reply);
	fxc_result_free(&res);
	return r;
}

int
rfs_copy_data(struct fxc *c, const struct rfs_handle *in, uint64_t off_in,
	      uint64_t len, const struct rfs_handle *out, uint64_t off_out)
{
	struct wire_buf b = { 0 };

	if (!fxc_has(c, FXC_EXT_COPY_DATA))
		return -EOPNOTSUPP;
	/* Handles live in one server process each; two channels are two
	 * processes, which cannot see each other's handles. */
	if (in->chan != out->chan)
		return -EXDEV;
	if (in->gen != out->gen)
		return -ENOTCONN;
	return rfs_do_status(c, in->chan, in->gen, 0, &b, fxp_enc_copy_data(&b, in->data,
			     in->len, off_in, len, out->data, out->len, off_out));
}

/* ---- data path: single asynchronous chunks ---- */

struct rfs_actx {
	rfs_read_fn *rcb;
	rfs_status_fn *scb;
	rfs_handle_fn *hcb;
	void *arg;
	uint32_t len;		/* READ: bytes asked for */
	/* READ: what asking again needs */
	struct fxc *c;
	struct rfs_handle h;
	uint64_t off;
	bool zero_seen;		/* the server sent one empty DATA already */
};

static void rfs_read_done(void *arg, int err, const struct fxp_reply *rep);

/* The one rule for a READ's reply (rfs_read and every async reader go
 * through here): DATA of at most the asked length is data, STATUS EOF is
 * the end (0 bytes), an empty DATA is asked again once (a quirk) and a
 * second one in a row, more data than asked or a malformed reply break the
 * protocol: the connection is killed and the read is -EIO. Returns 1 when
 * the READ was sent again (the next reply decides). */
static int
rfs_read_reply(struct rfs_actx *x, int err, const struct fxp_reply *rep,
	       const uint8_t **d, uint32_t *n)
{
	struct wire_buf b = { 0 };

	*d = NULL;
	*n = 0;
	if (err != 0)
		return err;
	err = fxp_reply_errno(rep, FXP_DATA);
	if (err == -ENODATA)
		return 0;	/* EOF: zero bytes */
	if (err == 0 && (err = fxp_dec_data(rep, d, n)) == 0 && *n > x->len)
		err = -EPROTO;	/* more than asked: the caller has no room */
	if (err == 0 && *n == 0 && x->zero_seen)
		err = -EPROTO;	/* two empty DATA in a row never end */
	if (err == -EBADMSG || err == -EPROTO) {
		*n = 0;
		return rfs_violation(x->c, err, rep);
	}
	if (err == 0 && *n == 0) {
		x->zero_seen = true;
		err = fxp_enc_read(&b, x->h.data, x->h.len, x->off, x->len);
		if (err == 0)
			err = fxc_submit_on(x->c, x->h.chan, x->h.gen, 0, &b, rfs_read_done, x);
		wire_buf_free(&b);
		return err == 0 ? 1 : err == -ENOTCONN ? err : -EIO;
	}
	return err;
}

static void
rfs_read_done(void *arg, int err, const struct fxp_reply *rep)
{
	struct rfs_actx *x = arg;
	rfs_read_fn *cb = x->rcb;
	void *cb_arg = x->arg;
	const uint8_t *d;
	uint32_t n;
	int r = rfs_read_reply(x, err, rep, &d, &n);

	if (r == 1)
		return;		/* asked again: x rides on the new READ */
	free(x);
	cb(cb_arg, r, r == 0 ? d : NULL, r == 0 ? n : 0);
}

static void
rfs_status_done(void *arg, int err, const struct fxp_reply *rep)
{
	struct rfs_actx x = *(struct rfs_actx *)arg;

	free(arg);
	if (err == 0)
		err = fxp_reply_errno(rep, FXP_STATUS);
	if (err == -EBADMSG || err == -EPROTO)
		err = rfs_violation(x.c, err, rep);
	x.scb(x.arg, err);
}

static int rfs_submit_ctx_on(struct fxc *c, int chan, uint32_t gen, unsigned flags,
			     struct wire_buf *b, int enc, fxc_done_fn *done,
			     const struct rfs_actx *ctx);

/* Submits an encoded packet with a heap context for the callback. */
static int
rfs_submit_ctx(struct fxc *c, const struct rfs_handle *h, struct wire_buf *b, int enc,
	       fxc_done_fn *done, const struct rfs_actx *ctx)
{
	return rfs_submit_ctx_on(c, h->chan, h->gen, 0, b, enc, done, ctx);
}

/* The same with fxc_submit_on's generation and flags. */
static int
rfs_submit_ctx_on(struct fxc *c, int chan, uint32_t gen, unsigned flags, struct wire_buf *b,
		  int enc, fxc_done_fn *done, const struct rfs_actx *ctx)
{
	struct rfs_actx *x;
	int r;

	if (enc != 0) {
		wire_buf_free(b);
		return enc;
	}
	if ((x = malloc(sizeof(*x))) == NULL) {
		wire_buf_free(b);
		return -ENOMEM;
	}
	*x = *ctx;
	r = fxc_submit_on(c, chan, gen, flags, b, done, x);
	wire_buf_free(b);
	if (r != 0)
		free(x);	/* done will not be called */
	return r;
}

int
rfs_read_async(struct fxc *c, const struct rfs_handle *h, uint64_t off,
	       uint32_t len, rfs_read_fn *cb, void *arg)
{
	const struct rfs_actx ctx = { .rcb = cb, .arg = arg, .len = len, .c = c, .h = *h,
				      .off = off };
	struct wire_buf b = { 0 };

	return rfs_submit_ctx(c, h, &b,
			      fxp_enc_read(&b, h->data, h->len, off, len),
			      rfs_read_done, &ctx);
}

int
rfs_write_async(struct fxc *c, const struct rfs_handle *h, uint64_t off,
		const void *data, uint32_t len, rfs_status_fn *cb, void *arg)
{
	const struct rfs_actx ctx = { .scb = cb, .arg = arg, .c = c };
	struct wire_buf b = { 0 };

	return rfs_submit_ctx(c, h, &b,
			      fxp_enc_write(&b, h->data, h->len, off, data, len),
			      rfs_status_done, &ctx);
}

int
rfs_path_async(struct fxc *c, int chan, enum rfs_async_op op, const char *path,
	       const char *path2, const struct fxp_attr *a, rfs_status_fn *cb, void *arg)
{
	const struct rfs_actx ctx = { .scb = cb, .arg = arg, .c = c };
	struct wire_buf b = { 0 };
	int enc;

	switch (op) {
	case RFS_A_MKDIR:
		enc = fxp_enc_path_attr(&b, FXP_MKDIR, path, a);
		break;
	case RFS_A_RMDIR:
		enc = fxp_enc_path(&b, FXP_RMDIR, path);
		break;
	case RFS_A_REMOVE:
		enc = fxp_enc_path(&b, FXP_REMOVE, path);
		break;
	case RFS_A_RENAME:
		if (!fxc_has(c, FXC_EXT_POSIX_RENAME))
			return -EOPNOTSUPP;
		enc = fxp_enc_ext_path2(&b, "posix-rename@openssh.com", path, path2);
		break;
	case RFS_A_SYMLINK:
		/* path2 is the link's target; argument order as rfs_symlink. */
		if (fxc_extensions(c) & RFS_OPENSSH_EXTS)
			enc = fxp_enc_path2(&b, FXP_SYMLINK, path2, path);
		else
			enc = fxp_enc_path2(&b, FXP_SYMLINK, path, path2);
		break;
	case RFS_A_SETSTAT:
		enc = fxp_enc_path_attr(&b, FXP_SETSTAT, path, a);
		break;
	case RFS_A_LSETSTAT:
		if (!fxc_has(c, FXC_EXT_LSETSTAT))
			return -EOPNOTSUPP;
		enc = fxp_enc_lsetstat(&b, path, a);
		break;
	default:
		return -EINVAL;
	}
	/* Tied to the current generation (fxc.h): when the link goes, what
	 * was queued fails with -ENOTCONN instead of going on a new link,
	 * so nothing queued after a request lost with the link is applied
	 * without it (the caller's order stays a prefix on the server). */
	return rfs_submit_ctx_on(c, chan, fxc_generation(c),
				 op == RFS_A_SETSTAT || op == RFS_A_LSETSTAT ? 0 : FXC_ONCE,
				 &b, enc, rfs_status_done, &ctx);
}

int
rfs_fsetstat_async(struct fxc *c, const struct rfs_handle *h, const struct fxp_attr *a,
		   rfs_status_fn *cb, void *arg)
{
	const struct rfs_actx ctx = { .scb = cb, .arg = arg, .c = c };
	struct wire_buf b = { 0 };

	return rfs_submit_ctx(c, h, &b, fxp_enc_fsetstat(&b, h->data, h->len, a),
			      rfs_status_done, &ctx);
}

/* rfs_open_async's reply (fxc's I/O thread). */
static void
rfs_open_done(void *arg, int err, const struct fxp_reply *rep)
{
	struct rfs_actx x = *(struct rfs_actx *)arg;
	struct rfs_handle h;
	const uint8_t *p;
	uint32_t n;

	free(arg);
	memset(&h, 0, sizeof(h));
	if (err == 0 && (err = fxp_reply_errno(rep, FXP_HANDLE)) == 0 &&
	    (err = fxp_dec_handle(rep, &p, &n)) == 0) {
		h.chan = x.h.chan;
		h.gen = fxc_generation(x.c);
		h.len = n;
		memcpy(h.data, p, n);
	}
	if (err == -EBADMSG || err == -EPROTO)
		err = rfs_violation(x.c, err, rep);
	x.hcb(x.arg, err, err == 0 ? &h : NULL);
}

int
rfs_open_async(struct fxc *c, int chan, const char *path, uint32_t pflags,
	       const struct fxp_attr *a, rfs_handle_fn *cb, void *arg)
{
	struct rfs_actx ctx = { .hcb = cb, .arg = arg, .c = c };
	struct wire_buf b = { 0 };

	if (chan < 0 || chan >= fxc_nchannels(c))
		return -EINVAL;
	ctx.h.chan = chan;
	return rfs_submit_ctx_on(c, chan, fxc_generation(c), rfs_open_flags(pflags), &b,
				 fxp_enc_open(&b, path, pflags, a), rfs_open_done, &ctx);
}

/* ---- data path: many chunks in flight, one waiter ---- */

/* A blocking multi-chunk transfer. The caller's thread submits every
 * chunk, then sleeps until 'pending' reaches zero; callbacks run on the
 * I/O thread. */
struct rfs_job {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned pending;		/* protected by lock */
	struct fxc *c;
	const struct rfs_handle *h;
	uint8_t *rbuf;			/* rfs_read: the caller's buffer */
	const uint8_t *wbuf;		/* rfs_write: the caller's data */
	uint64_t off0;			/* file offset of rbuf[0] / wbuf[0] */
};

struct rfs_chunk {
	struct rfs_job *job;
	uint64_t off;			/* file offset of this chunk */
	uint32_t len;
	uint32_t got;			/* bytes read so far (reads) */
	int err;
	bool eof;
};

static void
rfs_job_init(struct rfs_job *job, struct fxc *c, const struct rfs_handle *h,
	     uint64_t off0, unsigned pending)
{
	memset(job, 0, sizeof(*job));
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->cond, NULL);
	job->c = c;
	job->h = h;
	job->off0 = off0;
	job->pending = pending;
}

/* One chunk finished (any thread). After the unlock the waiter may free
 * everything, so nothing is touched after it. */
static void
rfs_chunk_finish(struct rfs_chunk *ck, int err)
{
	struct rfs_job *job = ck->job;

	ck->err = err;
	pthread_mutex_lock(&job->lock);
	if (--job->pending == 0)
		pthread_cond_signal(&job->cond);
	pthread_mutex_unlock(&job->lock);
}

static void
rfs_job_wait(struct rfs_job *job)
{
	pthread_mutex_lock(&job->lock);
	while (job->pending > 0)
		pthread_cond_wait(&job->cond, &job->lock);
	pthread_mutex_unlock(&job->lock);
	pthread_cond_destroy(&job->cond);
	pthread_mutex_destroy(&job->lock);
}

static void rfs_rchunk_done(void *arg, int err, const uint8_t *d, uint32_t n);

/* (Re)requests what is still missing of a read chunk, through the one
 * READ reader (rfs_read_async and its rule). */
static int
rfs_rchunk_submit(struct rfs_chunk *ck)
{
	return rfs_read_async(ck->job->c, ck->job->h, ck->off + ck->got, ck->len - ck->got,
			      rfs_rchunk_done, ck);
}

/* A reply for a chunk: EOF (n 0), or data, after which a short chunk asks
 * for the rest. */
static void
rfs_rchunk_done(void *arg, int err, const uint8_t *d, uint32_t n)
{
	struct rfs_chunk *ck = arg;

	if (err == 0 && n == 0)
		ck->eof = true;
	if (err == 0 && n > 0) {
		memcpy(ck->job->rbuf + (ck->off - ck->job->off0) + ck->got, d, n);
		ck->got += n;
		if (ck->got < ck->len && (err = rfs_rchunk_submit(ck)) == 0)
			return;	/* the next reply finishes it */
	}
	rfs_chunk_finish(ck, err);
}

/* Splits [off, off+len) into chunks of at most 'max' bytes. */
static struct rfs_chunk *
rfs_chunks(struct rfs_job *job, uint64_t off, size_t len, uint32_t max,
	   size_t *nout)
{
	size_t n = (len + max - 1) / max, i;
	struct rfs_chunk *cks;

	if ((cks = calloc(n, sizeof(*cks))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		cks[i].job = job;
		cks[i].off = off + (uint64_t)i * max;
		cks[i].len = (uint32_t)(len - i * (size_t)max < max ?
					len - i * (size_t)max : max);
	}
	*nout = n;
	return cks;
}

static uint32_t
rfs_io_size(uint32_t v)
{
	return v != 0 ? v : FXP_DEFAULT_IO_SIZE;
}

ssize_t
rfs_read(struct fxc *c, const struct rfs_handle *h, uint64_t off, void *buf, size_t len)
{
	struct rfs_chunk *cks;
	struct rfs_job job;
	size_t n, i;
	ssize_t total = 0;
	int r;

	if (len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	rfs_job_init(&job, c, h, off, 0);
	job.rbuf = buf;
	if ((cks = rfs_chunks(&job, off, len, rfs_io_size(fxc_max_read(c)), &n)) == NULL) {
		rfs_job_wait(&job);
		return -ENOMEM;
	}
	job.pending = (unsigned)n;	/* before the first callback can run */
	for (i = 0; i < n; i++)
		if ((r = rfs_rchunk_submit(&cks[i])) != 0)
			rfs_chunk_finish(&cks[i], r);
	rfs_job_wait(&job);
	/* Bytes count only up to the first chunk that ended early: what
	 * follows a hole is not part of a contiguous read. An error before
	 * EOF fails the read, since a short count would look like EOF. */
	for (i = 0; i < n; i++) {
		if (cks[i].err != 0) {
			total = cks[i].err;
			break;
		}
		total += cks[i].got;
		if (cks[i].got < cks[i].len)
			break;
	}
	free(cks);
	return total;
}

static void
rfs_wchunk_done(void *arg, int err, const struct fxp_reply *rep)
{
	struct rfs_chunk *ck = arg;

	if (err == 0 && (err = fxp_reply_errno(rep, FXP_STATUS)) == -EBADMSG)
		err = rfs_violation(ck->job->c, err, rep);
	rfs_chunk_finish(ck, err);
}

static int
rfs_wchunk_submit(struct rfs_chunk *ck)
{
	const struct rfs_handle *h = ck->job->h;
	struct wire_buf b = { 0 };
	int r;

	if ((r = fxp_enc_write(&b, h->data, h->len, ck->off,
			       ck->job->wbuf + (ck->off - ck->job->off0), ck->len)) != 0)
		return r;
	r = fxc_submit_on(ck->job->c, h->chan, h->gen, 0, &b, rfs_wchunk_done, ck);
	wire_buf_free(&b);
	return r;
}

ssize_t
rfs_write(struct fxc *c, const struct rfs_handle *h, uint64_t off, const void *buf, size_t len)
{
	struct rfs_chunk *cks;
	struct rfs_job job;
	size_t n, i;
	ssize_t r = 0;
	int e;

	if (len == 0)
		return 0;
	if (len > SSIZE_MAX)
		return -EINVAL;
	rfs_job_init(&job, c, h, off, 0);
	job.wbuf = buf;
	if ((cks = rfs_chunks(&job, off, len, rfs_io_size(fxc_max_write(c)), &n)) == NULL) {
		rfs_job_wait(&job);
		return -ENOMEM;
	}
	job.pending = (unsigned)n;
	for (i = 0; i < n; i++)
		if ((e = rfs_wchunk_submit(&cks[i])) != 0)
			rfs_chunk_finish(&cks[i], e);
	rfs_job_wait(&job);
	/* The lowest failing offset: the data before it did reach the
	 * server, but a write reports all or its first error. */
	for (i = 0; i < n && r == 0; i++)
		r = cks[i].err;
	free(cks);
	return r != 0 ? r : (ssize_t)len;
}
