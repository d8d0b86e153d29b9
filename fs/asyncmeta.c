/* asyncmeta: see asyncmeta.h. */
#include "asyncmeta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "path.h"

struct asyncmeta_fail {
	struct asyncmeta_fail *next;
	char *path;
	int err;
};

struct asyncmeta_held {
	struct asyncmeta_held *next;
	struct io_file *f;
	char *path;
	bool busy;		/* being settled (settle_held) */
};

/* One request in flight. */
struct asyncmeta_req {
	struct asyncmeta *q;
	const char *what;	/* for the log: "mkdir", "create", ... */
	char *path, *path2;	/* fuse paths; path NULL for an unlinked file */
	struct io_file *f;	/* a create's file (a reference) */
};

static const char *const op_names[] = {
	[RFS_A_MKDIR] = "mkdir",
	[RFS_A_RMDIR] = "rmdir",
	[RFS_A_REMOVE] = "unlink",
	[RFS_A_RENAME] = "rename",
	[RFS_A_SYMLINK] = "symlink",
	[RFS_A_SETSTAT] = "setattr",
	[RFS_A_LSETSTAT] = "setattr",
};

void
asyncmeta_init(struct asyncmeta *q, struct cache *cache)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->cache = cache;
}

/* Keeps a refusal for reporting (caller holds q->mu). Past ASYNCMETA_KEEP
 * the oldest goes: it was logged and counted. */
static void
keep_locked(struct asyncmeta *q, const char *path, int err)
{
	struct asyncmeta_fail *e = NULL, **pp;

	if (path == NULL || (e = calloc(1, sizeof(*e))) == NULL ||
	    (e->path = strdup(path)) == NULL) {
		free(e);
		return;
	}
	e->err = err;
	for (pp = &q->fails; *pp; pp = &(*pp)->next)
		;
	*pp = e;
	if (++q->nkept > ASYNCMETA_KEEP) {
		e = q->fails;
		q->fails = e->next;
		q->nkept--;
		free(e->path);
		free(e);
	}
}

/* Gives the request's slot back (unsent: it was never sent) and frees it. */
static void
req_end(struct asyncmeta_req *rq, bool unsent)
{
	struct asyncmeta *q = rq->q;

	pthread_mutex_lock(&q->mu);
	if (unsent)
		q->sent--;
	if (--q->inflight == 0 || q->inflight == ASYNCMETA_LIMIT - 1)
		pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	free(rq->path);
	free(rq->path2);
	free(rq);
}

/* A reply (fxc's I/O thread). */
static void
req_done(void *arg, int err)
{
	struct asyncmeta_req *rq = arg;
	struct asyncmeta *q = rq->q;

	if (err < 0) {
		if (rq->path2)
			log_warn("exclusive: %s %s -> %s was refused by the server: %s",
				 rq->what, rq->path, rq->path2, strerror(-err));
		else
			log_warn("exclusive: %s %s was refused by the server: %s",
				 rq->what, rq->path ? rq->path : "(unlinked file)",
				 strerror(-err));
		/* What the mount made up for it is wrong: ask the server. */
		if (rq->path)
			cache_invalidate_tree(q->cache, rq->path);
		if (rq->path2)
			cache_invalidate_tree(q->cache, rq->path2);
		pthread_mutex_lock(&q->mu);
		q->failed++;
		keep_locked(q, rq->path, err);
		if (rq->path2)
			keep_locked(q, rq->path2, err);
		pthread_mutex_unlock(&q->mu);
	}
	req_end(rq, false);
}

/* A request context and a slot in flight; NULL when out of memory. */
static struct asyncmeta_req *
req_begin(struct asyncmeta *q, const char *what, const char *path, const char *path2)
{
	struct asyncmeta_req *rq = calloc(1, sizeof(*rq));

	if (rq == NULL || (path && (rq->path = strdup(path)) == NULL) ||
	    (path2 && (rq->path2 = strdup(path2)) == NULL)) {
		if (rq)
			free(rq->path);
		free(rq);
		return NULL;
	}
	rq->q = q;
	rq->what = what;
	pthread_mutex_lock(&q->mu);
	while (q->inflight >= ASYNCMETA_LIMIT)
		pthread_cond_wait(&q->cv, &q->mu);
	q->inflight++;
	q->sent++;
	pthread_mutex_unlock(&q->mu);
	return rq;
}

/* Gives the slot back when the request could not be sent. */
static int
req_abort(struct asyncmeta_req *rq, int r)
{
	req_end(rq, true);
	return r;
}

int
asyncmeta_path(struct asyncmeta *q, struct fxc *fx, enum rfs_async_op op,
	       const char *fpath, const char *fpath2, const char *rpath,
	       const char *rpath2, const struct fxp_attr *a)
{
	struct asyncmeta_req *rq = req_begin(q, op_names[op], fpath,
					     op == RFS_A_RENAME ? fpath2 : NULL);
	int r;

	if (rq == NULL)
		return -ENOMEM;
	r = rfs_path_async(fx, ASYNCMETA_CHAN, op, rpath, rpath2, a, req_done, rq);
	return r < 0 ? req_abort(rq, r) : 0;
}

/* A create's OPEN answered (fxc's I/O thread): the file sends what it
 * held, or fails; the refusal is then reported as any queued one's. */
static void
open_done(void *arg, int err, const struct rfs_handle *h)
{
	struct asyncmeta_req *rq = arg;
	struct asyncmeta *q = rq->q;
	struct io_file *f = rq->f;

	io_file_opened(f, err, h);
	pthread_mutex_lock(&q->mu);
	if (q->creating-- == ASYNCMETA_CREATES)
		pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	/* before the slot is given back: a drain that returns has the
	 * file's held requests on the channel */
	io_file_put(f);
	req_done(rq, err);
}

int
asyncmeta_open(struct asyncmeta *q, struct fxc *fx, const char *fpath, const char *rpath,
	       uint32_t pflags, const struct fxp_attr *a, struct io_file *f)
{
	struct asyncmeta_req *rq;
	int r;

	pthread_mutex_lock(&q->mu);
	while (q->creating >= ASYNCMETA_CREATES)
		pthread_cond_wait(&q->cv, &q->mu);
	q->creating++;
	pthread_mutex_unlock(&q->mu);
	if ((rq = req_begin(q, "create", fpath, NULL)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	io_file_get(f);
	rq->f = f;
	if ((r = rfs_open_async(fx, ASYNCMETA_CHAN, rpath, pflags, a, open_done, rq)) == 0)
		return 0;
	io_file_put(f);
	(void)req_abort(rq, r);
fail:
	pthread_mutex_lock(&q->mu);
	q->creating--;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return r;
}

/* True when 'p' is 'dir' itself or a name directly in it. */
static bool
in_dir(const char *p, const char *dir)
{
	char *parent;
	bool in;

	if (strcmp(p, dir) == 0)
		return true;
	if (path_parent(p, &parent) < 0)
		return false;
	in = strcmp(parent, dir) == 0;
	free(parent);
	return in;
}

/* Which held files a settle_held() call is about. */
struct held_match {
	struct io_file *f;	/* this one, or */
	const char *path;	/* those at this path (or directly in it: dir), or */
	bool dir;
	bool oldest;		/* the oldest one, or else all of them */
};

static bool
held_matches(const struct asyncmeta_held *h, const struct held_match *m)
{
	if (m->f)
		return h->f == m->f;
	if (m->path)
		return h->path && (m->dir ? in_dir(h->path, m->path)
					  : strcmp(h->path, m->path) == 0);
	return true;
}

/* Settles the held files that match: waits for their WRITEs (in the
 * caller's thread, without the lock), keeps their error, drops them. An
 * entry stays listed while it is settled, so a caller about the same path
 * waits for its error to be kept instead of missing it. Returns the first
 * WRITE error met here. */
static int
settle_held(struct asyncmeta *q, const struct held_match *m)
{
	struct asyncmeta_held **pp, *h;
	int first = 0, r;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		for (h = q->held; h && !held_matches(h, m); h = h->next)
			;
		if (h == NULL)
			break;
		if (h->busy) {		/* another thread settles it */
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		h->busy = true;
		pthread_mutex_unlock(&q->mu);
		r = io_flush(h->f);
		/* a refused create: its refusal is kept already (open_done),
		 * reported once */
		if (r < 0 && io_file_refused(h->f))
			r = 0;
		if (r < 0)
			log_warn("exclusive: a write to %s was refused by the server: %s",
				 h->path ? h->path : "(unlinked file)", strerror(-r));
		pthread_mutex_lock(&q->mu);
		if (r < 0) {
			q->failed++;
			keep_locked(q, h->path, r);
			if (first == 0)
				first = r;
		}
		for (pp = &q->held; *pp != h; pp = &(*pp)->next)
			;
		*pp = h->next;
		q->nheld--;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		io_file_put(h->f);
		free(h->path);
		free(h);
		pthread_mutex_lock(&q->mu);
		if (m->oldest || m->f)
			break;
	}
	pthread_mutex_unlock(&q->mu);
	return first;
}

void
asyncmeta_hold(struct asyncmeta *q, struct io_file *f, const char *fpath)
{
	const struct held_match oldest = { .oldest = true };
	struct asyncmeta_held *h = calloc(1, sizeof(*h)), **pp;
	bool full;

	if (h == NULL || (fpath && (h->path = strdup(fpath)) == NULL)) {
		free(h);
		(void)io_flush(f);	/* settled here; its error comes again at release */
		return;
	}
	io_file_get(f);
	h->f = f;
	pthread_mutex_lock(&q->mu);
	for (pp = &q->held; *pp; pp = &(*pp)->next) {
		if ((*pp)->f == f) {	/* closed twice (dup): held once */
			pthread_mutex_unlock(&q->mu);
			io_file_put(f);
			free(h->path);
			free(h);
			return;
		}
	}
	*pp = h;
	full = ++q->nheld > ASYNCMETA_HELD;
	pthread_mutex_unlock(&q->mu);
	if (full)
		(void)settle_held(q, &oldest);
}

int
asyncmeta_release(struct asyncmeta *q, struct io_file *f)
{
	const struct held_match m = { .f = f };

	return settle_held(q, &m);
}

void
asyncmeta_drain(struct asyncmeta *q)
{
	const struct held_match all = { 0 };

	(void)settle_held(q, &all);
	pthread_mutex_lock(&q->mu);
	while (q->inflight > 0)
		pthread_cond_wait(&q->cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void
asyncmeta_destroy(struct asyncmeta *q)
{
	struct asyncmeta_fail *e;

	asyncmeta_drain(q);
	while ((e = q->fails) != NULL) {
		q->fails = e->next;
		free(e->path);
		free(e);
	}
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

int
asyncmeta_take(struct asyncmeta *q, const char *fpath, bool dir)
{
	const struct held_match m = { .path = fpath, .dir = dir };
	struct asyncmeta_fail **pp, *e;
	int r = 0;

	if (fpath == NULL)
		return 0;
	(void)settle_held(q, &m);	/* their errors are kept, then taken */
	pthread_mutex_lock(&q->mu);
	for (pp = &q->fails; (e = *pp) != NULL;) {
		if (dir ? in_dir(e->path, fpath) : strcmp(e->path, fpath) == 0) {
			if (r == 0)
				r = e->err;
			*pp = e->next;
			q->nkept--;
			free(e->path);
			free(e);
		} else {
			pp = &e->next;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return r;
}

void
asyncmeta_status(struct asyncmeta *q, uint64_t *failed, uint64_t *sent, unsigned *pending)
{
	pthread_mutex_lock(&q->mu);
	if (failed)
		*failed = q->failed;
	if (sent)
		*sent = q->sent;
	if (pending)
		*pending = q->inflight + q->nheld;
	pthread_mutex_unlock(&q->mu);
}

void
asyncmeta_learn_ids(struct asyncmeta *q, const struct fxp_attr *a, uint32_t asked)
{
	if ((a->flags & (FXA_UIDGID | FXA_PERMISSIONS)) != (FXA_UIDGID | FXA_PERMISSIONS))
		return;
	pthread_mutex_lock(&q->mu);
	q->uid = a->uid;
	q->gid = a->gid;
	q->strip = asked & 0777 & ~a->perm;
	q->ids_known = true;
	pthread_mutex_unlock(&q->mu);
}

bool
asyncmeta_ids(struct asyncmeta *q, uint32_t *uid, uint32_t *gid, uint32_t *strip)
{
	bool known;

	pthread_mutex_lock(&q->mu);
	known = q->ids_known;
	*uid = q->uid;
	*gid = q->gid;
	*strip = q->strip;
	pthread_mutex_unlock(&q->mu);
	return known;
}
