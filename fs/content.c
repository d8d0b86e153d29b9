/* content: see content.h.
 *
 * Entry life: QUEUED (a worker may take it) -> LOADING (a worker reads it,
 * the entry stays on the list) -> READY (contents held) -> DONE (taken:
 * only the name is kept, so it is not read again). An entry dropped while
 * LOADING is marked and freed by its worker. All fields are under k->mu.
 */
#include "content.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgthread.h"
#include "fsctx.h"
#include "log.h"
#include "path.h"
#include "rfs.h"

enum { CE_QUEUED, CE_LOADING, CE_READY, CE_DONE };

struct content_entry {
	struct content_entry *next;
	char *path;
	int state;
	bool dropped;		/* while LOADING: free it when the load ends */
	size_t reserve;		/* bytes counted in k->held */
	uint8_t *data;
	size_t len;
	uint64_t gen;		/* cache generation before the load began */
	double when;		/* and the monotonic time */
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the list (caller holds k->mu) ---- */

static struct content_entry *
find(struct content *k, const char *path)
{
	struct content_entry *e;

	for (e = k->list; e; e = e->next)
		if (strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

static void
unlink_entry(struct content *k, struct content_entry *e)
{
	struct content_entry **pp;

	for (pp = &k->list; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			return;
		}
	}
}

/* Gives back e's memory count; a READY entry whose contents were never
 * taken (content_take clears e->data) counts as dropped. */
static void
unreserve(struct content *k, struct content_entry *e)
{
	if (e->state == CE_DONE)
		return;
	k->held -= e->reserve;
	k->active--;
	if (e->state == CE_READY && e->data != NULL)
		k->st.dropped++;
}

static void
entry_free(struct content_entry *e)
{
	free(e->data);
	free(e->path);
	free(e);
}

/* Removes e (or marks it, while a worker loads it). */
static void
drop(struct content *k, struct content_entry *e)
{
	if (e->state == CE_LOADING) {
		e->dropped = true;
		return;
	}
	unreserve(k, e);
	if (e->state == CE_DONE)
		k->ndone--;
	unlink_entry(k, e);
	entry_free(e);
}

/* True when 'path' is directly in 'dir' (NULL: never). */
static bool
in_dir(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;

	if (dir == NULL)
		return false;
	if (strcmp(dir, "/") == 0)
		n = 0;
	else if (strncmp(path, dir, n) != 0)
		return false;
	return path[n] == '/' && strchr(path + n + 1, '/') == NULL;
}

/* Drops every entry not directly in 'keep' (NULL: all). */
static void
drop_all(struct content *k, const char *keep)
{
	struct content_entry *e = k->list, *next;

	for (; e; e = next) {
		next = e->next;
		if (!in_dir(e->path, keep))
			drop(k, e);
	}
}

/* e was taken (or given up): keep its name only; forget the oldest names
 * beyond CONTENT_DONE_MAX. */
static void
mark_done(struct content *k, struct content_entry *e)
{
	struct content_entry *x, *oldest = NULL;

	unreserve(k, e);
	e->state = CE_DONE;
	free(e->data);
	e->data = NULL;
	if (++k->ndone <= CONTENT_DONE_MAX)
		return;
	for (x = k->list; x; x = x->next)	/* appended in order: the first DONE */
		if (x->state == CE_DONE && (oldest = x) != NULL)
			break;
	if (oldest)
		drop(k, oldest);
}

static void
append(struct content *k, struct content_entry *e)
{
	struct content_entry **pp = &k->list;

	while (*pp)
		pp = &(*pp)->next;
	*pp = e;
}

/* ---- workers ---- */

/* Reads e's file whole: 0 with e->data/len/gen set, or -errno. Called
 * without k->mu; e is LOADING, so only this worker touches those fields. */
static int
load(struct content *k, struct content_entry *e)
{
	struct fs_ctx *c = k->c;
	struct fxc *fx = fsctx_pick(c);
	struct rfs_handle h;
	uint8_t *buf;
	ssize_t n;
	char *rp;
	int r;

	e->gen = cache_gen(c->cache);
	e->when = mono_now();
	/* Its WRITEs may still travel on another channel: the server's
	 * copy would be older than what the program was told. */
	if (ofile_has_writer(&c->files, e->path))
		return -EBUSY;
	if ((r = fsctx_remote(c, e->path, &rp)) < 0)
		return r;
	r = rfs_open(fx, -1, rp, FXF_READ, NULL, &h);
	free(rp);
	if (r < 0)
		return r;
	if ((buf = malloc(e->reserve)) == NULL) {
		rfs_close_async(fx, &h);
		return -ENOMEM;
	}
	/* One byte more than the size we counted: getting it means the
	 * file grew, and it is not read ahead. */
	n = rfs_read(fx, &h, 0, buf, e->reserve);
	rfs_close_async(fx, &h);
	if (n < 0 || (size_t)n >= e->reserve) {
		free(buf);
		return n < 0 ? (int)n : -EFBIG;
	}
	e->data = buf;
	e->len = (size_t)n;
	return 0;
}

static struct content_entry *
next_queued(struct content *k)
{
	struct content_entry *e;

	for (;;) {
		if (k->stop)
			return NULL;
		for (e = k->list; e; e = e->next)
			if (e->state == CE_QUEUED)
				return e;
		pthread_cond_wait(&k->work, &k->mu);
	}
}

static void *
worker(void *arg)
{
	struct content *k = arg;
	struct content_entry *e;
	int r;

	pthread_mutex_lock(&k->mu);
	while ((e = next_queued(k)) != NULL) {
		e->state = CE_LOADING;
		pthread_mutex_unlock(&k->mu);
		r = load(k, e);
		pthread_mutex_lock(&k->mu);
		if (r == 0)
			k->st.loaded++;
		/* A failed load counts as nothing (QUEUED); a load nobody
		 * may take any more counts as dropped (READY). */
		e->state = r == 0 ? CE_READY : CE_QUEUED;
		if (r < 0 || e->dropped || k->stop)
			drop(k, e);
		pthread_cond_broadcast(&k->done);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

int
content_start(struct content *k, struct fs_ctx *c)
{
	int i, r = 0;

	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->work, NULL);
	pthread_cond_init(&k->done, NULL);
	k->c = c;
	k->started = true;
	/* Contents read before a program asked would hide another client's
	 * later change, which sshfs shows: only on the user's promise. */
	if (!c->o->exclusive || !c->o->cache)
		return 0;
	for (i = 0; i < CONTENT_WORKERS && r == 0; i++)
		if ((r = bgthread_start(&k->th[i], worker, k)) == 0)
			k->nthreads++;
	return r;
}

void
content_stop(struct content *k)
{
	int i;

	if (!k->started)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_broadcast(&k->work);
	pthread_mutex_unlock(&k->mu);
	for (i = 0; i < k->nthreads; i++)
		pthread_join(k->th[i], NULL);
	drop_all(k, NULL);
	if (k->nthreads > 0)
		log_debug("content read-ahead: %llu files loaded, %llu served, %llu dropped; "
			  "peak %zu bytes held (bound %u)",
			  (unsigned long long)k->st.loaded, (unsigned long long)k->st.served,
			  (unsigned long long)k->st.dropped, k->st.peak, CONTENT_MAX_BYTES);
	free(k->dir);
	k->dir = NULL;
	pthread_cond_destroy(&k->done);
	pthread_cond_destroy(&k->work);
	pthread_mutex_destroy(&k->mu);
	k->started = false;
}

bool
content_take(struct content *k, const char *path, uint8_t **data, size_t *len)
{
	struct content_entry *e;
	bool ok = false;

	*data = NULL;
	*len = 0;
	if (!k->started || k->nthreads == 0)
		return false;
	pthread_mutex_lock(&k->mu);
	/* A load in flight is nearer its answer than a new OPEN would be. */
	while ((e = find(k, path)) != NULL && e->state == CE_LOADING)
		pthread_cond_wait(&k->done, &k->mu);
	if (e == NULL || e->state == CE_DONE) {
		pthread_mutex_unlock(&k->mu);
		return false;
	}
	/* No older than an attribute may be: another client's change shows
	 * within cache_stat_timeout, as the trade-off of -o exclusive says. */
	if (e->state == CE_READY && !cache_changed_since(k->c->cache, path, e->gen) &&
	    mono_now() - e->when <= k->c->o->cache_stat_timeout) {
		*data = e->data;
		*len = e->len;
		e->data = NULL;
		k->st.served++;
		ok = true;
	}
	mark_done(k, e);	/* a queued one is the program's own open now */
	pthread_mutex_unlock(&k->mu);
	/* A writer that opened since the load: its bytes may not be in it. */
	if (ok && ofile_has_writer(&k->c->files, path)) {
		free(*data);
		*data = NULL;
		*len = 0;
		ok = false;
	}
	return ok;
}

/* ---- choosing what to read ahead ---- */

struct names {
	char **v;
	size_t n;
	bool dirs;		/* directories, else regular files */
};

static int
collect_name(void *arg, const char *name, mode_t type)
{
	struct names *ns = arg;

	if (ns->dirs ? !S_ISDIR(type) : !S_ISREG(type))
		return 0;
	if (ns->n == CONTENT_SCAN)
		return 1;
	if ((ns->v[ns->n] = strdup(name)) != NULL)
		ns->n++;
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
index_of(char **v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return i;
	return n;
}

struct cand {
	char *path;
	size_t size;
};

/* Up to 'max' files after 'name' (NULL: from the first) in name order
 * and in listing order, taken alternately, with the sizes the cache holds
 * for them (files without a cached size, or too large, are left out). */
static size_t
candidates(struct content *k, const char *dir, const char *name, struct cand *out, size_t max)
{
	struct names ns = { .v = calloc(CONTENT_SCAN, sizeof(char *)) };
	char **sorted = NULL;
	size_t i, li, si, n = 0, step;

	if (ns.v == NULL)
		return 0;
	if (!cache_get_dir(k->c->cache, dir, collect_name, &ns) || ns.n == 0)
		goto out;
	if ((sorted = malloc(ns.n * sizeof(char *))) == NULL)
		goto out;
	memcpy(sorted, ns.v, ns.n * sizeof(char *));
	qsort(sorted, ns.n, sizeof(char *), cmp_name);
	/* From the first: SIZE_MAX + step wraps to step - 1. */
	li = name ? index_of(ns.v, ns.n, name) : SIZE_MAX;
	si = name ? index_of(sorted, ns.n, name) : SIZE_MAX;
	for (step = 1; n < max && (li + step < ns.n || si + step < ns.n); step++) {
		const char *pick[2] = {
			si + step < ns.n ? sorted[si + step] : NULL,
			li + step < ns.n ? ns.v[li + step] : NULL,
		};

		for (i = 0; i < 2 && n < max; i++) {
			struct stat st;
			char *p;

			if (pick[i] == NULL || (i == 1 && pick[0] && strcmp(pick[0], pick[1]) == 0))
				continue;
			if (path_child(dir, pick[i], &p) < 0)
				continue;
			if (!cache_get_attr(k->c->cache, p, &st) || !S_ISREG(st.st_mode) ||
			    st.st_size < 0 || (uint64_t)st.st_size > CONTENT_FILE_MAX) {
				free(p);
				continue;
			}
			out[n].path = p;
			out[n].size = (size_t)st.st_size;
			n++;
		}
	}
out:
	for (i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	free(sorted);
	return n;
}

/* The directory after 'dir' in its parent's cached listing (the order a
 * walker such as grep -r, cp -r or tar -c goes on in), or NULL. */
static char *
next_dir(struct content *k, const char *dir)
{
	struct names ns = { .v = calloc(CONTENT_SCAN, sizeof(char *)), .dirs = true };
	char *parent = NULL, *next = NULL;
	size_t i;

	if (ns.v == NULL || strcmp(dir, "/") == 0 || path_parent(dir, &parent) < 0)
		goto out;
	if (cache_get_dir(k->c->cache, parent, collect_name, &ns) &&
	    (i = index_of(ns.v, ns.n, path_base(dir))) + 1 < ns.n)
		(void)path_child(parent, ns.v[i + 1], &next);
out:
	for (i = 0; ns.v && i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	free(parent);
	return next;
}

void
content_note_open(struct content *k, const char *path)
{
	struct cand c[2 * CONTENT_AHEAD];
	size_t n, i;
	char *parent, *nd;
	bool go, walking;

	if (!k->started || k->nthreads == 0 || path_parent(path, &parent) < 0)
		return;
	pthread_mutex_lock(&k->mu);
	if (k->dir && strcmp(k->dir, parent) == 0) {
		k->streak++;
		free(parent);
	} else {
		/* The program moved on: what it did not take there is
		 * dropped, what was read ahead for here is kept. */
		k->walking = k->streak >= 2;
		drop_all(k, parent);
		free(k->dir);
		k->dir = parent;
		k->streak = 1;
	}
	parent = strdup(k->dir);
	/* Top up in batches: a scan of the listing per open is not free. */
	go = parent && (k->streak >= 2 || k->walking) && k->active <= CONTENT_AHEAD / 2;
	walking = k->walking;
	pthread_mutex_unlock(&k->mu);
	if (!go) {
		free(parent);
		return;
	}
	n = candidates(k, parent, path_base(path), c, 2 * CONTENT_AHEAD);
	/* A walker goes on to the next directory: its first files too, so
	 * that its first opens there find them. */
	if (walking && n < CONTENT_AHEAD && (nd = next_dir(k, parent)) != NULL) {
		n += candidates(k, nd, NULL, c + n, CONTENT_AHEAD - n);
		free(nd);
	}
	pthread_mutex_lock(&k->mu);
	for (i = 0; i < n; i++) {
		struct content_entry *e;
		size_t reserve = c[i].size + 1;

		if (k->stop || strcmp(k->dir, parent) != 0 || k->active >= CONTENT_AHEAD ||
		    k->held + reserve > CONTENT_MAX_BYTES || find(k, c[i].path) ||
		    (e = calloc(1, sizeof(*e))) == NULL) {
			free(c[i].path);
			continue;
		}
		e->path = c[i].path;
		e->reserve = reserve;
		e->state = CE_QUEUED;
		append(k, e);
		k->active++;
		k->held += reserve;
		if (k->held > k->st.peak)
			k->st.peak = k->held;
	}
	pthread_cond_broadcast(&k->work);
	pthread_mutex_unlock(&k->mu);
	free(parent);
}

void
content_get_stats(struct content *k, struct content_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!k->started)
		return;
	pthread_mutex_lock(&k->mu);
	*out = k->st;
	out->held = k->held;
	pthread_mutex_unlock(&k->mu);
}
