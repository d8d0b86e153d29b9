/* prefetch: see prefetch.h. */
#include "prefetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bgthread.h"
#include "fsctx.h"
#include "path.h"

static char *
pop(struct prefetch *p)
{
	char *s;

	while (!p->stop && p->n == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->stop)
		return NULL;
	s = p->q[p->head];
	p->head = (p->head + 1) % PREFETCH_QUEUE;
	p->n--;
	return s;
}

struct collect {
	const char *parent, *self;
	char *dirs[PREFETCH_QUEUE];
	int n;
};

static int
collect_dir(void *arg, const char *name, mode_t type)
{
	struct collect *k = arg;
	char *child;

	if (!S_ISDIR(type) || k->n == PREFETCH_QUEUE)
		return 0;
	if (path_child(k->parent, name, &child) < 0)
		return 0;
	if (strcmp(child, k->self) == 0) {
		free(child);
		return 0;
	}
	k->dirs[k->n++] = child;
	return 0;
}

static void push(struct prefetch *p, char *path);

/* A prefetched directory's own subdirectories, while the budget lasts. */
static void
queue_children(struct prefetch *p, const char *path)
{
	struct collect k = { .parent = path, .self = "" };
	int i;

	if (!cache_get_dir(p->c->cache, path, collect_dir, &k))
		return;
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < k.n; i++) {
		if (p->budget > 0) {
			p->budget--;
			push(p, k.dirs[i]);
		} else {
			free(k.dirs[i]);
		}
	}
	pthread_mutex_unlock(&p->mu);
}

static void *
worker(void *arg)
{
	struct prefetch *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		char *path = pop(p);

		if (path == NULL)
			break;
		pthread_mutex_unlock(&p->mu);
		if (!cache_get_dir(p->c->cache, path, NULL, NULL)) {
			p->load(p->c, path);
			queue_children(p, path);
		}
		free(path);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
prefetch_start(struct prefetch *p, struct fs_ctx *c, prefetch_load_fn *load)
{
	int i, r = 0;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->c = c;
	p->load = load;
	p->started = true;
	/* A listing or attributes loaded before any program asked may be
	 * staler than what sshfs would show: only with the user's promise
	 * that nothing else changes the tree. */
	if (!c->o->exclusive || !c->o->cache || c->o->cache_dir_timeout <= 0)
		return 0;
	for (i = 0; i < PREFETCH_WORKERS && r == 0; i++)
		if ((r = bgthread_start(&p->th[i], worker, p)) == 0)
			p->nthreads++;
	return r;
}

void
prefetch_stop(struct prefetch *p)
{
	int i;

	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->th[i], NULL);
	while (p->n > 0) {
		free(p->q[p->head]);
		p->head = (p->head + 1) % PREFETCH_QUEUE;
		p->n--;
	}
	free(p->miss_dir);
	p->miss_dir = NULL;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	p->started = false;
}

/* Queues a path unless it is queued already or the queue is full
 * (caller holds p->mu). */
static void
push(struct prefetch *p, char *path)
{
	int i;

	for (i = 0; i < p->n; i++) {
		if (strcmp(p->q[(p->head + i) % PREFETCH_QUEUE], path) == 0) {
			free(path);
			return;
		}
	}
	if (p->n == PREFETCH_QUEUE) {
		free(path);
		return;
	}
	p->q[(p->head + p->n) % PREFETCH_QUEUE] = path;
	p->n++;
	pthread_cond_signal(&p->cv);
}

void
prefetch_note(struct prefetch *p, const char *dir)
{
	struct collect k = { .self = dir };
	char *parent;
	int i;

	if (!p->started || p->nthreads == 0 || strcmp(dir, "/") == 0)
		return;
	if (path_parent(dir, &parent) < 0)
		return;
	k.parent = parent;
	/* The names first (the cache's lock must not be held while queueing). */
	if (cache_dir_claim(p->c->cache, parent))
		cache_get_dir(p->c->cache, parent, collect_dir, &k);
	pthread_mutex_lock(&p->mu);
	if (k.n > 0)
		p->budget = p->budget + PREFETCH_BUDGET > PREFETCH_BUDGET_MAX ?
			    PREFETCH_BUDGET_MAX : p->budget + PREFETCH_BUDGET;
	for (i = 0; i < k.n; i++)
		push(p, k.dirs[i]);
	pthread_mutex_unlock(&p->mu);
	free(parent);
}

void
prefetch_miss(struct prefetch *p, const char *path)
{
	char *parent;

	if (!p->started || p->nthreads == 0 || path_parent(path, &parent) < 0)
		return;
	if (cache_get_dir(p->c->cache, parent, NULL, NULL)) {
		free(parent);		/* listed, and still missing: nothing to gain */
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (p->miss_dir && strcmp(p->miss_dir, parent) == 0) {
		if (++p->misses == PREFETCH_MISSES)
			push(p, parent);	/* takes parent */
		else
			free(parent);
	} else {
		free(p->miss_dir);
		p->miss_dir = parent;
		p->misses = 1;
	}
	pthread_mutex_unlock(&p->mu);
}
