/* cache: see cache.h.
 *
 * One chained hash table keyed by fuse path; an entry carries whichever of
 * attributes, listing, link target and content stamp are known for that
 * path, each with its own expiry. Listings are kept sorted by name so a
 * negative lookup is a binary search.
 */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "path.h"

#define CACHE_DEFAULT_MAX 10000u

struct listing {
	struct cache_dirent *e;		/* sorted by name */
	size_t n, cap;
	bool ours;			/* made by our mkdir: complete by construction */
	bool claimed;			/* its subdirectories were prefetched */
};

struct centry {
	struct centry *next;
	char *path;
	uint32_t hash;
	bool has_attr;
	double attr_exp;
	struct stat st;
	struct listing *dir;
	double dir_exp;
	char *link;
	double link_exp;
	bool has_stamp;
	off_t stamp_size;
	struct timespec stamp_mtime;
};

/* One of our recent changes, for telling which in-flight replies it
 * made stale (see stale()). */
enum { INV_ATTR = 0, INV_NAME = 1, INV_TREE = 2 };

struct inval {
	char *path;
	uint64_t gen;
	unsigned kind;		/* INV_ATTR, or INV_NAME | INV_TREE bits */
};

#define CACHE_INVAL_RING 256

struct cache {
	pthread_mutex_t mu;
	struct cache_config cfg;
	struct centry **b;
	size_t nb, n;
	uint64_t gen;
	struct inval ring[CACHE_INVAL_RING];
	unsigned ring_head, ring_n;
	uint64_t floor;		/* every change after this gen is in the ring */
	/* For status output: atomics, so reading them never waits for mu. */
	atomic_uint_fast64_t attr_hits, attr_misses, dir_hits, dir_misses;
};

static double
mono_now(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
now(const struct cache *c)
{
	return c->cfg.now(c->cfg.now_arg);
}

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* True when 'p' is a direct child of 'dir'. */
static bool
is_child(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		n = 0;
	else if (strncmp(p, dir, n) != 0)
		return false;
	return p[n] == '/' && p[n + 1] != '\0' && strchr(p + n + 1, '/') == NULL;
}

/* Records one of our changes (caller holds c->mu). */
static void
note(struct cache *c, const char *path, unsigned kind)
{
	struct inval *slot;

	c->gen++;
	if (c->ring_n == CACHE_INVAL_RING) {
		slot = &c->ring[c->ring_head];
		c->floor = slot->gen;
		free(slot->path);
		c->ring_head = (c->ring_head + 1) % CACHE_INVAL_RING;
		c->ring_n--;
	}
	slot = &c->ring[(c->ring_head + c->ring_n) % CACHE_INVAL_RING];
	slot->path = strdup(path);
	slot->gen = c->gen;
	slot->kind = kind;
	if (slot->path == NULL)
		c->floor = c->gen;	/* cannot tell: everything older is stale */
	else
		c->ring_n++;
}

/* Whether a reply about 'path' obtained at generation 'gen' has been made
 * stale by one of our changes since: a change of the path itself, of a
 * directory above it (removed, renamed), or of a name in it (which changes
 * its listing and its mtime/ctime). Caller holds c->mu. */
static bool
stale(const struct cache *c, const char *path, uint64_t gen)
{
	unsigned i;

	if (gen < c->floor)
		return true;
	for (i = 0; i < c->ring_n; i++) {
		const struct inval *v = &c->ring[(c->ring_head + i) % CACHE_INVAL_RING];

		if (v->gen <= gen)
			continue;
		if (strcmp(v->path, path) == 0)
			return true;
		if ((v->kind & INV_TREE) && path_is_under(path, v->path))
			return true;
		if ((v->kind & INV_NAME) && is_child(v->path, path))
			return true;
	}
	return false;
}

static void
listing_free(struct listing *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	free(l);
}

static void
entry_free(struct centry *e)
{
	listing_free(e->dir);
	free(e->link);
	free(e->path);
	free(e);
}

int
cache_new(const struct cache_config *cfg, struct cache **out)
{
	struct cache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return -ENOMEM;
	c->cfg = *cfg;
	if (c->cfg.now == NULL)
		c->cfg.now = mono_now;
	if (c->cfg.max_size == 0)
		c->cfg.max_size = CACHE_DEFAULT_MAX;
	c->nb = 256;
	if ((c->b = calloc(c->nb, sizeof(*c->b))) == NULL) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return 0;
}

static void
clear_all(struct cache *c, bool keep_stamps)
{
	size_t i;

	for (i = 0; i < c->nb; i++) {
		struct centry **pp = &c->b[i];

		while (*pp) {
			struct centry *e = *pp;

			if (keep_stamps && e->has_stamp) {
				e->has_attr = false;
				listing_free(e->dir);
				e->dir = NULL;
				free(e->link);
				e->link = NULL;
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			entry_free(e);
			c->n--;
		}
	}
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	clear_all(c, false);
	while (c->ring_n > 0) {
		free(c->ring[c->ring_head].path);
		c->ring_head = (c->ring_head + 1) % CACHE_INVAL_RING;
		c->ring_n--;
	}
	free(c->b);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct centry *
find(struct cache *c, const char *path)
{
	uint32_t h = hash_str(path);
	struct centry *e;

	for (e = c->b[h & (c->nb - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

static void
grow(struct cache *c)
{
	size_t nb = c->nb * 2, i;
	struct centry **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return;		/* longer chains, still correct */
	for (i = 0; i < c->nb; i++) {
		struct centry *e = c->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(c->b);
	c->b = b;
	c->nb = nb;
}

static bool
entry_live(const struct centry *e, double t)
{
	return e->has_stamp || (e->has_attr && e->attr_exp > t) ||
	       (e->dir && e->dir_exp > t) || (e->link && e->link_exp > t);
}

/* Over the size limit: drop what has expired, then if still over, all
 * but the stamps, then everything. */
static void
clean(struct cache *c)
{
	double t = now(c);
	size_t i;

	for (i = 0; i < c->nb; i++) {
		struct centry **pp = &c->b[i];

		while (*pp) {
			struct centry *e = *pp;

			if (entry_live(e, t)) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			entry_free(e);
			c->n--;
		}
	}
	if (c->n >= c->cfg.max_size)
		clear_all(c, true);
	if (c->n >= c->cfg.max_size)
		clear_all(c, false);
}

/* Finds or creates; NULL on allocation failure. */
static struct centry *
get(struct cache *c, const char *path)
{
	struct centry *e = find(c, path);
	size_t slot;

	if (e)
		return e;
	if (c->n >= c->cfg.max_size)
		clean(c);
	if (c->n >= 2 * c->nb)
		grow(c);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if ((e->path = strdup(path)) == NULL) {
		free(e);
		return NULL;
	}
	e->hash = hash_str(path);
	slot = e->hash & (c->nb - 1);
	e->next = c->b[slot];
	c->b[slot] = e;
	c->n++;
	return e;
}

uint64_t
cache_gen(struct cache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->mu);
	g = c->gen;
	pthread_mutex_unlock(&c->mu);
	return g;
}

bool
cache_changed_since(struct cache *c, const char *path, uint64_t gen)
{
	bool changed;

	pthread_mutex_lock(&c->mu);
	changed = stale(c, path, gen);
	pthread_mutex_unlock(&c->mu);
	return changed;
}

bool
cache_get_attr(struct cache *c, const char *path, struct stat *st)
{
	struct centry *e;
	bool hit = false;

	if (!c->cfg.enabled)
		return false;
	pthread_mutex_lock(&c->mu);
	e = find(c, path);
	if (e && e->has_attr && e->attr_exp > now(c)) {
		*st = e->st;
		hit = true;
	}
	pthread_mutex_unlock(&c->mu);
	atomic_fetch_add_explicit(hit ? &c->attr_hits : &c->attr_misses, 1, memory_order_relaxed);
	return hit;
}

void
cache_put_attr(struct cache *c, const char *path, const struct stat *st, uint64_t gen)
{
	struct centry *e;

	if (!c->cfg.enabled || c->cfg.stat_timeout <= 0)
		return;
	pthread_mutex_lock(&c->mu);
	if (!stale(c, path, gen) && (e = get(c, path)) != NULL) {
		e->st = *st;
		e->has_attr = true;
		e->attr_exp = now(c) + c->cfg.stat_timeout;
	}
	pthread_mutex_unlock(&c->mu);
}

/* Index of name in l, or -(insertion point) - 1. */
static long
listing_find(const struct listing *l, const char *name)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(l->e[mid].name, name);

		if (r == 0)
			return (long)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

/* The fresh listing of path's parent, or NULL. */
static struct listing *
parent_listing(struct cache *c, const char *path, struct centry **pe)
{
	struct centry *e;
	char *parent;

	*pe = NULL;
	if (strcmp(path, "/") == 0 || path_parent(path, &parent) < 0)
		return NULL;
	e = find(c, parent);
	free(parent);
	if (e == NULL || e->dir == NULL)
		return NULL;
	*pe = e;
	if (e->dir_exp <= now(c))
		return NULL;
	return e->dir;
}

bool
cache_lookup_negative(struct cache *c, const char *path)
{
	struct listing *l;
	struct centry *pe;
	bool neg = false;

	if (!c->cfg.enabled)
		return false;
	pthread_mutex_lock(&c->mu);
	l = parent_listing(c, path, &pe);
	if (l && l->ours && listing_find(l, path_base(path)) < 0)
		neg = true;
	pthread_mutex_unlock(&c->mu);
	return neg;
}

bool
cache_get_dir(struct cache *c, const char *dir, cache_dir_fn *fn, void *arg)
{
	struct centry *e;
	bool hit = false;
	size_t i;

	if (!c->cfg.enabled)
		return false;
	pthread_mutex_lock(&c->mu);
	e = find(c, dir);
	if (e && e->dir && e->dir_exp > now(c)) {
		hit = true;
		for (i = 0; fn && i < e->dir->n; i++)
			if (fn(arg, e->dir->e[i].name, e->dir->e[i].type))
				break;
	}
	pthread_mutex_unlock(&c->mu);
	atomic_fetch_add_explicit(hit ? &c->dir_hits : &c->dir_misses, 1, memory_order_relaxed);
	return hit;
}

bool
cache_dir_claim(struct cache *c, const char *dir)
{
	struct centry *e;
	bool first = false;

	if (!c->cfg.enabled)
		return false;
	pthread_mutex_lock(&c->mu);
	e = find(c, dir);
	if (e && e->dir && e->dir_exp > now(c) && !e->dir->claimed) {
		e->dir->claimed = true;
		first = true;
	}
	pthread_mutex_unlock(&c->mu);
	return first;
}

static int
dirent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cache_dirent *)a)->name,
		      ((const struct cache_dirent *)b)->name);
}

static struct listing *
listing_copy(const struct cache_dirent *ents, size_t n)
{
	struct listing *l = calloc(1, sizeof(*l));
	size_t i;

	if (l == NULL)
		return NULL;
	l->cap = n ? n : 1;
	if ((l->e = calloc(l->cap, sizeof(*l->e))) == NULL) {
		free(l);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if ((l->e[i].name = strdup(ents[i].name)) == NULL) {
			listing_free(l);
			return NULL;
		}
		l->e[i].type = ents[i].type & S_IFMT;
		l->n++;
	}
	qsort(l->e, l->n, sizeof(*l->e), dirent_cmp);
	return l;
}

static void
set_listing(struct cache *c, struct centry *e, struct listing *l)
{
	listing_free(e->dir);
	e->dir = l;
	e->dir_exp = now(c) + c->cfg.dir_timeout;
}

void
cache_put_dir(struct cache *c, const char *dir, const struct cache_dirent *ents,
	      size_t n, uint64_t gen)
{
	struct listing *l;
	struct centry *e;

	if (!c->cfg.enabled || c->cfg.dir_timeout <= 0)
		return;
	if ((l = listing_copy(ents, n)) == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	if (!stale(c, dir, gen) && (e = get(c, dir)) != NULL) {
		set_listing(c, e, l);
		l = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	listing_free(l);
}

bool
cache_get_link(struct cache *c, const char *path, char **target)
{
	struct centry *e;
	bool hit = false;

	*target = NULL;
	if (!c->cfg.enabled)
		return false;
	pthread_mutex_lock(&c->mu);
	e = find(c, path);
	if (e && e->link && e->link_exp > now(c))
		hit = (*target = strdup(e->link)) != NULL;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void
cache_put_link(struct cache *c, const char *path, const char *target, uint64_t gen)
{
	struct centry *e;
	char *t;

	if (!c->cfg.enabled || c->cfg.link_timeout <= 0)
		return;
	if ((t = strdup(target)) == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	if (!stale(c, path, gen) && (e = get(c, path)) != NULL) {
		free(e->link);
		e->link = t;
		e->link_exp = now(c) + c->cfg.link_timeout;
		t = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	free(t);
}

void
cache_invalidate_attr(struct cache *c, const char *path)
{
	struct centry *e;

	pthread_mutex_lock(&c->mu);
	note(c, path, INV_ATTR);
	if ((e = find(c, path)) != NULL)
		e->has_attr = false;
	pthread_mutex_unlock(&c->mu);
}

void
cache_replace_attr(struct cache *c, const char *path, const struct stat *st,
		   uint64_t gen)
{
	bool ok = st && c->cfg.enabled && c->cfg.stat_timeout > 0;
	struct centry *e;

	pthread_mutex_lock(&c->mu);
	ok = ok && !stale(c, path, gen);
	note(c, path, INV_ATTR);
	if (ok && (e = get(c, path)) != NULL) {
		e->st = *st;
		e->has_attr = true;
		e->attr_exp = now(c) + c->cfg.stat_timeout;
	} else if ((e = find(c, path)) != NULL) {
		e->has_attr = false;
	}
	pthread_mutex_unlock(&c->mu);
}

/* Drops every entry at or under path. */
static void
drop_tree(struct cache *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->nb; i++) {
		struct centry **pp = &c->b[i];

		while (*pp) {
			struct centry *e = *pp;

			if (!path_is_under(e->path, path)) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			entry_free(e);
			c->n--;
		}
	}
}

static void
drop_one(struct cache *c, const char *path)
{
	struct centry *e = find(c, path);

	if (e == NULL)
		return;
	e->has_attr = false;
	e->has_stamp = false;
	listing_free(e->dir);
	e->dir = NULL;
	free(e->link);
	e->link = NULL;
}

/* Adds (or retypes) path's name in its fresh parent listing; drops the
 * listing when that fails. */
static void
listing_add(struct cache *c, const char *path, mode_t type)
{
	struct centry *pe;
	struct listing *l = parent_listing(c, path, &pe);
	const char *name = path_base(path);
	long i;
	size_t at;
	char *dup;

	if (l == NULL)
		return;
	if (!c->cfg.edit_listings)
		goto fail;
	if ((i = listing_find(l, name)) >= 0) {
		l->e[i].type = type & S_IFMT;
		return;
	}
	at = (size_t)(-i - 1);
	if (l->n == l->cap) {
		size_t cap = l->cap * 2;
		struct cache_dirent *ne = realloc(l->e, cap * sizeof(*ne));

		if (ne == NULL)
			goto fail;
		l->e = ne;
		l->cap = cap;
	}
	if ((dup = strdup(name)) == NULL)
		goto fail;
	memmove(&l->e[at + 1], &l->e[at], (l->n - at) * sizeof(*l->e));
	l->e[at].name = dup;
	l->e[at].type = type & S_IFMT;
	l->n++;
	return;
fail:
	listing_free(pe->dir);
	pe->dir = NULL;
}

/* Forgets the listing of path's parent (fresh or not). */
static void
parent_listing_drop(struct cache *c, const char *path)
{
	struct centry *pe;

	(void)parent_listing(c, path, &pe);
	if (pe != NULL) {
		listing_free(pe->dir);
		pe->dir = NULL;
	}
}

/* A name in path's parent was added or removed by us: the server changed
 * the parent's mtime and ctime, so its cached attributes go. */
static void
parent_attr_drop(struct cache *c, const char *path)
{
	struct centry *e;
	char *parent;

	if (strcmp(path, "/") == 0)
		return;
	if (path_parent(path, &parent) < 0) {
		clear_all(c, true);	/* cannot tell which: nothing stale */
		return;
	}
	if ((e = find(c, parent)) != NULL)
		e->has_attr = false;
	free(parent);
}

static void
listing_remove(struct cache *c, const char *path)
{
	struct centry *pe;
	struct listing *l = parent_listing(c, path, &pe);
	long i;

	if (l == NULL)
		return;
	if (!c->cfg.edit_listings) {
		parent_listing_drop(c, path);
		return;
	}
	if ((i = listing_find(l, path_base(path))) < 0)
		return;
	free(l->e[i].name);
	memmove(&l->e[i], &l->e[i + 1], (l->n - (size_t)i - 1) * sizeof(*l->e));
	l->n--;
}

void
cache_created(struct cache *c, const char *path, mode_t type, bool is_new_dir)
{
	struct centry *e;

	pthread_mutex_lock(&c->mu);
	note(c, path, INV_NAME);
	drop_one(c, path);
	parent_attr_drop(c, path);
	listing_add(c, path, type);
	if (is_new_dir && c->cfg.enabled && c->cfg.dir_timeout > 0 &&
	    (e = get(c, path)) != NULL) {
		struct listing *l = listing_copy(NULL, 0);

		if (l) {
			l->ours = true;
			set_listing(c, e, l);
		}
	}
	pthread_mutex_unlock(&c->mu);
}

/* 'path' and everything under it are gone or replaced (caller holds the
 * lock): replies in flight for them become stale, their entries go, and
 * the parent's times changed. */
static void
tree_gone(struct cache *c, const char *path)
{
	note(c, path, INV_NAME | INV_TREE);
	drop_tree(c, path);
	parent_attr_drop(c, path);
}

void
cache_removed(struct cache *c, const char *path)
{
	pthread_mutex_lock(&c->mu);
	tree_gone(c, path);
	listing_remove(c, path);
	pthread_mutex_unlock(&c->mu);
}

void
cache_renamed(struct cache *c, const char *from, const char *to, mode_t type)
{
	pthread_mutex_lock(&c->mu);
	tree_gone(c, from);
	tree_gone(c, to);
	listing_remove(c, from);
	listing_add(c, to, type);
	pthread_mutex_unlock(&c->mu);
}

void
cache_invalidate_tree(struct cache *c, const char *path)
{
	pthread_mutex_lock(&c->mu);
	tree_gone(c, path);
	parent_listing_drop(c, path);
	pthread_mutex_unlock(&c->mu);
}

void
cache_stamp_set(struct cache *c, const char *path, const struct stat *st)
{
	struct centry *e;

	if (!c->cfg.enabled)
		return;
	pthread_mutex_lock(&c->mu);
	if ((e = get(c, path)) != NULL) {
		e->has_stamp = true;
		e->stamp_size = st->st_size;
		e->stamp_mtime = st->st_mtim;
	}
	pthread_mutex_unlock(&c->mu);
}

bool
cache_stamp_match(struct cache *c, const char *path, const struct stat *st)
{
	struct centry *e;
	bool m = false;

	if (!c->cfg.enabled)
		return false;
	pthread_mutex_lock(&c->mu);
	e = find(c, path);
	if (e && e->has_stamp && e->stamp_size == st->st_size &&
	    e->stamp_mtime.tv_sec == st->st_mtim.tv_sec &&
	    e->stamp_mtime.tv_nsec == st->st_mtim.tv_nsec)
		m = true;
	pthread_mutex_unlock(&c->mu);
	return m;
}

void
cache_stamp_clear(struct cache *c, const char *path)
{
	struct centry *e;

	pthread_mutex_lock(&c->mu);
	if ((e = find(c, path)) != NULL)
		e->has_stamp = false;
	pthread_mutex_unlock(&c->mu);
}

size_t
cache_size(struct cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
cache_get_stats(struct cache *c, struct cache_stats *st)
{
	st->attr_hits = atomic_load_explicit(&c->attr_hits, memory_order_relaxed);
	st->attr_misses = atomic_load_explicit(&c->attr_misses, memory_order_relaxed);
	st->dir_hits = atomic_load_explicit(&c->dir_hits, memory_order_relaxed);
	st->dir_misses = atomic_load_explicit(&c->dir_misses, memory_order_relaxed);
}
