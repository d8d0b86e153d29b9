/* fsctx: see fsctx.h. */
#include "fsctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirops.h"
#include "io.h"
#include "log.h"
#include "path.h"
#include "rfs.h"

int
fsctx_init(struct fs_ctx *c, const struct opts *o, char *root)
{
	struct cache_config cc = {
		.enabled = o->cache,
		.stat_timeout = o->cache_stat_timeout,
		.dir_timeout = o->cache_dir_timeout,
		.link_timeout = o->cache_link_timeout,
		.max_size = o->cache_max_size,
		.edit_listings = o->exclusive,
	};
	int r;

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->root = root;
	atomic_init(&c->next_conn, 0);
	idmap_init_none(&c->idmap);
	ofile_init(&c->files);
	pthread_mutex_init(&c->dirs_mu, NULL);
	if ((r = cache_new(&cc, &c->cache)) < 0)
		return r;
	asyncmeta_init(&c->am, c->cache);
	c->acfg.idmap = &c->idmap;
	c->acfg.self_uid = getuid();
	c->acfg.self_gid = getgid();
	c->acfg.set_uid = o->uid_set;
	c->acfg.uid = o->uid;
	c->acfg.set_gid = o->gid_set;
	c->acfg.gid = o->gid;
	c->acfg.set_umask = o->umask_set;
	c->acfg.umask = o->umask;
	c->follow_symlinks = o->follow_symlinks;
	c->transform_symlinks = o->transform_symlinks;
	/* sshfs 3.7.6 turned contain_symlinks on by default; the 3.7.3 that
	 * distributions ship has no such check, and neither do we unless asked. */
	c->contain_symlinks = o->contain_symlinks_set && o->contain_symlinks;
	c->disable_hardlink = o->disable_hardlink;
	c->default_permissions = o->default_permissions;
	c->kernel_cache = o->kernel_cache;
	c->direct_io = o->direct_io;
	return 0;
}

int
fsctx_add_conn(struct fs_ctx *c, struct fxc *fxc)
{
	if (c->nconn == FS_MAX_CONNS)
		return -ENOSPC;
	c->conn[c->nconn++] = fxc;
	return 0;
}

void
fsctx_destroy(struct fs_ctx *c)
{
	struct io_file *f;
	int i;

	prefetch_stop(&c->prefetch);
	content_stop(&c->content);
	/* Unmount and exit are durability points of -o exclusive: what the
	 * mount answered for must reach the server before the link goes. */
	if (c->cache)
		asyncmeta_destroy(&c->am);
	/* Files still open when the mount went away (a lazy unmount, a
	 * signal) never get their release: close them; fxc_free() below
	 * completes whatever is still in flight. */
	while (c->cache && (f = ofile_pop(&c->files)) != NULL)
		io_release(f);
	if (c->cache)
		dirops_close_all(c);
	for (i = 0; i < c->nconn; i++)
		fxc_free(c->conn[i]);
	c->nconn = 0;
	cache_free(c->cache);
	c->cache = NULL;
	idmap_free(&c->idmap);
	ofile_destroy(&c->files);
	pthread_mutex_destroy(&c->dirs_mu);
	free(c->root);
	c->root = NULL;
}

static int
setup_idmap_user(struct fs_ctx *c, char *err, size_t errlen)
{
	struct fxp_attr a;
	char *home = NULL;
	int r;

	r = rfs_home(fsctx_meta(c), &home);
	if (r == 0)
		r = rfs_stat(fsctx_meta(c), home, &a);
	if (r == 0 && !(a.flags & FXA_UIDGID))
		r = -ENODATA;
	if (r < 0) {
		snprintf(err, errlen, "idmap=user: cannot find the remote user's ids "
			 "(stat of the home directory %s: %s)", home ? home : "?",
			 strerror(-r));
		free(home);
		return r;
	}
	free(home);
	idmap_init_user(&c->idmap, a.uid, a.gid, getuid(), getgid());
	log_debug("idmap=user: remote %u:%u <-> local %u:%u", a.uid, a.gid,
		  (unsigned)getuid(), (unsigned)getgid());
	return 0;
}

int
fsctx_setup_idmap(struct fs_ctx *c, char *err, size_t errlen)
{
	const struct opts *o = c->o;
	int r = 0;

	switch (o->idmap) {
	case OPTS_IDMAP_NONE:
		return 0;
	case OPTS_IDMAP_USER:
		return setup_idmap_user(c, err, errlen);
	case OPTS_IDMAP_FILE:
		idmap_init_file(&c->idmap, o->nomap == OPTS_NOMAP_ERROR);
		if (o->uidfile)
			r = idmap_load_file(&c->idmap, IDMAP_UID, o->uidfile, err, errlen);
		if (r == 0 && o->gidfile)
			r = idmap_load_file(&c->idmap, IDMAP_GID, o->gidfile, err, errlen);
		return r;
	}
	return 0;
}

struct fxc *
fsctx_meta(struct fs_ctx *c)
{
	return c->conn[0];
}

struct fxc *
fsctx_pick(struct fs_ctx *c)
{
	unsigned i;

	if (fsctx_async(c))
		return c->conn[0];
	i = atomic_fetch_add(&c->next_conn, 1);

	return c->conn[i % (unsigned)c->nconn];
}

bool
fsctx_async(const struct fs_ctx *c)
{
	return c->o->exclusive;
}

int
fsctx_open_chan(const struct fs_ctx *c)
{
	return fsctx_async(c) ? ASYNCMETA_CHAN : -1;
}

int
fsctx_remote(struct fs_ctx *c, const char *fpath, char **out)
{
	if (fsctx_async(c))
		asyncmeta_drain(&c->am);
	return fsctx_remote_queued(c, fpath, out);
}

int
fsctx_remote_open(struct fs_ctx *c, const char *fpath, char **out)
{
	return fsctx_async(c) ? fsctx_remote_queued(c, fpath, out) : fsctx_remote(c, fpath, out);
}

int
fsctx_remote_queued(struct fs_ctx *c, const char *fpath, char **out)
{
	if (path_name_too_long(fpath)) {
		*out = NULL;
		return -ENAMETOOLONG;
	}
	return path_remote(c->root, fpath, out);
}

int
fsctx_nospace(struct fs_ctx *c, const char *fpath, int r)
{
	struct statvfs st;
	char *rp, *slash;
	int e;

	if (r != -EPERM || fsctx_remote(c, fpath ? fpath : "/", &rp) < 0)
		return r;
	e = rfs_statvfs(fsctx_meta(c), rp, &st);
	/* A name that is not there (a failed create): its directory's. */
	if (e == -ENOENT && (slash = strrchr(rp, '/')) != NULL && slash != rp) {
		*slash = '\0';
		e = rfs_statvfs(fsctx_meta(c), rp, &st);
	}
	free(rp);
	if (e == 0 && ((st.f_blocks && st.f_bavail == 0) || (st.f_files && st.f_favail == 0)))
		return -ENOSPC;
	return r;
}

int
fsctx_toobig(uint64_t end, int r)
{
	return r == -EPERM && end > INT32_MAX && end != UINT64_MAX ? -EFBIG : r;
}

int
fsctx_stat(struct fs_ctx *c, const struct fxp_attr *a, struct stat *st)
{
	return attr_to_stat(&c->acfg, a, st);
}

bool
fsctx_known_raw(struct fs_ctx *c, const char *path, struct fxp_attr *a)
{
	struct stat st;

	if (!fsctx_async(c) || path == NULL || c->acfg.set_uid || c->acfg.set_gid ||
	    c->acfg.set_umask || !cache_get_attr(c->cache, path, &st))
		return false;
	memset(a, 0, sizeof(*a));
	a->flags = FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME;
	a->size = (uint64_t)st.st_size;
	a->perm = (uint32_t)st.st_mode;
	a->atime = (uint32_t)st.st_atim.tv_sec;
	a->mtime = (uint32_t)st.st_mtim.tv_sec;
	return idmap_to_remote(&c->idmap, IDMAP_UID, st.st_uid, &a->uid) == 0 &&
	       idmap_to_remote(&c->idmap, IDMAP_GID, st.st_gid, &a->gid) == 0;
}

void
fsctx_known_put(struct fs_ctx *c, const char *path, const struct fxp_attr *a)
{
	struct stat st;

	if (fsctx_stat(c, a, &st) == 0)
		cache_replace_attr(c->cache, path, &st, cache_gen(c->cache));
	else
		cache_invalidate_attr(c->cache, path);
}
