/* dirops: see dirops.h. */
#include "dirops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "asyncmeta.h"
#include "path.h"
#include "rfs.h"

/* Listings of one directory started again after reconnections before
 * giving up with EIO (a link that dies again each time). */
#define DIROPS_MAX_RELIST 3

struct fs_dirent {
	char *name;
	mode_t type;		/* S_IFMT bits, 0 when unknown */
	struct stat st;		/* from the load, for the attribute cache */
	bool has_st;
};

struct fs_dir {
	char *path;
	struct fs_dirent *e;
	size_t n, cap;
	struct fs_dir *next, *prev;	/* c->dirs, under c->dirs_mu */
	void *fuse_buf;			/* libfuse's handle (readdir's buf) */
};

/* LeakSanitizer's interface, in sanitizer builds only. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define dir_lsan_ignore(p) __lsan_ignore_object(p)
#else
#define dir_lsan_ignore(p) ((void)(p))
#endif

static void
dir_link(struct fs_ctx *c, struct fs_dir *d)
{
	pthread_mutex_lock(&c->dirs_mu);
	d->prev = NULL;
	d->next = c->dirs;
	if (c->dirs)
		c->dirs->prev = d;
	c->dirs = d;
	pthread_mutex_unlock(&c->dirs_mu);
}

static void
dir_unlink(struct fs_ctx *c, struct fs_dir *d)
{
	pthread_mutex_lock(&c->dirs_mu);
	if (d->prev)
		d->prev->next = d->next;
	else
		c->dirs = d->next;
	if (d->next)
		d->next->prev = d->prev;
	pthread_mutex_unlock(&c->dirs_mu);
}

static void
dir_free(struct fs_dir *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->e[i].name);
	free(d->e);
	free(d->path);
	free(d);
}

static struct fs_dirent *
dir_add(struct fs_dir *d, const char *name, mode_t type)
{
	struct fs_dirent *e;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;

		if ((e = realloc(d->e, cap * sizeof(*e))) == NULL)
			return NULL;
		d->e = e;
		d->cap = cap;
	}
	e = &d->e[d->n];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(name)) == NULL)
		return NULL;
	e->type = type & S_IFMT;
	d->n++;
	return e;
}

static int
cached_entry(void *arg, const char *name, mode_t type)
{
	return dir_add(arg, name, type) ? 0 : -ENOMEM;
}

static void
dir_clear(struct fs_dir *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->e[i].name);
	d->n = 0;
}

struct loadctx {
	struct fs_ctx *c;
	struct fs_dir *d;
};

static int
loaded_entry(void *arg, const char *name, const struct fxp_attr *a)
{
	struct loadctx *l = arg;
	struct fs_dirent *e = dir_add(l->d, name, (a->flags & FXA_PERMISSIONS) ? a->perm : 0);

	if (e == NULL)
		return -ENOMEM;
	e->has_st = (a->flags & FXA_PERMISSIONS) && fsctx_stat(l->c, a, &e->st) == 0;
	if (l->c->follow_symlinks && S_ISLNK(e->type)) {
		e->has_st = false;	/* the kernel must look the target up */
		e->type = 0;
	}
	return 0;
}

/* Puts a loaded listing and its attributes into the cache, except the
 * attributes of files with writes in flight (the server may not have
 * applied them yet when it answered the READDIR). */
static void
dir_to_cache(struct fs_ctx *c, const struct fs_dir *d, uint64_t gen)
{
	struct cache_dirent *ents = calloc(d->n ? d->n : 1, sizeof(*ents));
	size_t i;

	if (ents == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		ents[i].name = d->e[i].name;
		ents[i].type = d->e[i].type;
	}
	cache_put_dir(c->cache, d->path, ents, d->n, gen);
	free(ents);
	for (i = 0; i < d->n; i++) {
		char *child;

		if (!d->e[i].has_st || path_child(d->path, d->e[i].name, &child) < 0)
			continue;
		if (!ofile_has_writer(&c->files, child))
			cache_put_attr(c->cache, child, &d->e[i].st, gen);
		free(child);
	}
}

static int
dirent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fs_dirent *)a)->name, ((const struct fs_dirent *)b)->name);
}

static int
dir_from_server(struct fs_ctx *c, struct fs_dir *d)
{
	struct loadctx l = { c, d };
	uint64_t gen = cache_gen(c->cache);
	char *rp;
	int r, tries;

	if ((r = fsctx_remote(c, d->path, &rp)) < 0)
		return r;
	/* A link that died under the listing (its READDIRs were on a handle
	 * of the old connection) is listed again from the start: never a half
	 * listing taken for the whole. A directory gone meanwhile is EIO: the
	 * kernel still holds it. */
	for (tries = 0; (r = rfs_list(fsctx_meta(c), rp, loaded_entry, &l)) == -ENOTCONN; tries++) {
		dir_clear(d);
		if (tries == DIROPS_MAX_RELIST)
			break;
	}
	free(rp);
	/* In name order, the order the cache keeps (and serves later
	 * listings in): a walker then goes through a tree in one order
	 * whether its listings came from the server or the cache, the order
	 * content read-ahead (content.h) expects it to go on in. */
	if (r == 0 && d->n > 1)
		qsort(d->e, d->n, sizeof(*d->e), dirent_cmp);
	if (r == 0)
		dir_to_cache(c, d, gen);
	else if (r == -ENOTCONN || (tries > 0 && (r == -ENOENT || r == -ENOTDIR)))
		r = -EIO;
	return r;
}

int
dirops_opendir(const char *path, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fs_dir *d = calloc(1, sizeof(*d));
	int r = 0;

	if (d == NULL || (d->path = strdup(path)) == NULL) {
		free(d);
		return -ENOMEM;
	}
	if (!cache_get_dir(c->cache, path, cached_entry, d)) {
		dir_clear(d);	/* a partial copy of a listing (ENOMEM) */
		r = dir_from_server(c, d);
	}
	if (r < 0) {
		dir_free(d);
		return r;
	}
	fi->fh = (uintptr_t)d;
	dir_link(c, d);
	prefetch_note(&c->prefetch, path);
	return 0;
}

void
dirops_prefetch_load(struct fs_ctx *c, const char *path)
{
	struct fs_dir *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->path = strdup(path)) == NULL) {
		free(d);
		return;
	}
	(void)dir_from_server(c, d);	/* failures: the walk will see them itself */
	dir_free(d);
}

/* The attributes to hand out with entry e now (see dirops.h). */
static bool
entry_attrs(struct fs_ctx *c, const struct fs_dir *d, const struct fs_dirent *e,
	    struct stat *st)
{
	char *child;
	bool ok;

	if (e->type == 0 || path_child(d->path, e->name, &child) < 0)
		return false;
	if (ofile_has_writer(&c->files, child))
		ok = false;
	else if (cache_get_attr(c->cache, child, st))
		ok = true;
	else
		ok = false;
	free(child);
	return ok;
}

int
dirops_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
	       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	size_t i;

	(void)path;
	d->fuse_buf = buf;	/* libfuse 3 passes its directory handle */
	for (i = off < 0 ? 0 : (size_t)off; i < d->n + 2; i++) {
		const struct fs_dirent *e;
		struct stat st;
		bool plus = false;

		if (i < 2) {
			if (filler(buf, i == 0 ? "." : "..", NULL, (off_t)i + 1, 0))
				break;
			continue;
		}
		e = &d->e[i - 2];
		if (flags & FUSE_READDIR_PLUS)
			plus = entry_attrs(c, d, e, &st);
		if (!plus) {
			memset(&st, 0, sizeof(st));
			st.st_mode = e->type;
		}
		if (filler(buf, e->name, &st, (off_t)i + 1, plus ? FUSE_FILL_DIR_PLUS : 0))
			break;
	}
	return 0;
}

int
dirops_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;

	(void)path;
	dir_unlink(fuseapi_ctx(), d);
	dir_free(d);
	return 0;
}

int
dirops_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fuseapi_ctx();
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	int r;

	(void)datasync;
	if (!fsctx_async(c))
		return 0;
	asyncmeta_drain(&c->am);
	r = asyncmeta_take(&c->am, path ? path : d->path, true);
	return r == -EPERM ? fsctx_nospace(c, path ? path : d->path, r) : r;
}

void
dirops_close_all(struct fs_ctx *c)
{
	struct fs_dir *d;

	pthread_mutex_lock(&c->dirs_mu);
	while ((d = c->dirs) != NULL) {
		c->dirs = d->next;
		if (d->fuse_buf)
			dir_lsan_ignore(d->fuse_buf);
		dir_free(d);
	}
	pthread_mutex_unlock(&c->dirs_mu);
}
