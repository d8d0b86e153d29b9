/* ofile: see ofile.h. */
#include "ofile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

#define EACH(t, n) for (n = (t)->head.next; n != &(t)->head; n = n->next)

void
ofile_init(struct ofile_table *t)
{
	pthread_mutex_init(&t->mu, NULL);
	t->head.next = t->head.prev = &t->head;
}

void
ofile_destroy(struct ofile_table *t)
{
	pthread_mutex_destroy(&t->mu);
}

static void
node_unlink_free(struct ofile_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	free(n->path);
	free(n->hidden);
	free(n);
}

/* f's node, or NULL (caller holds the lock). */
static struct ofile_node *
node_of(struct ofile_table *t, const struct io_file *f)
{
	struct ofile_node *n;

	if (f == NULL)
		return NULL;
	EACH(t, n)
		if (n->f == f)
			return n;
	return NULL;
}

int
ofile_add(struct ofile_table *t, struct io_file *f, const char *path)
{
	struct ofile_node *n = calloc(1, sizeof(*n));

	if (n == NULL || (n->path = strdup(path)) == NULL) {
		free(n);
		return -ENOMEM;
	}
	n->f = f;
	pthread_mutex_lock(&t->mu);
	n->next = &t->head;
	n->prev = t->head.prev;
	t->head.prev->next = n;
	t->head.prev = n;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void
ofile_remove(struct ofile_table *t, struct io_file *f)
{
	struct ofile_node *n;

	pthread_mutex_lock(&t->mu);
	if ((n = node_of(t, f)) != NULL)
		node_unlink_free(n);
	pthread_mutex_unlock(&t->mu);
}

/* Takes every file at or under 'path' off its path (caller holds the lock). */
static void
detach_under(struct ofile_table *t, const char *path)
{
	struct ofile_node *n;

	EACH(t, n) {
		if (n->path && path_is_under(n->path, path)) {
			free(n->path);
			n->path = NULL;
		}
	}
}

/* *p (under 'from') now lives under 'to'; NULL when out of memory. */
static int
rebase(char **p, const char *from, const char *to)
{
	char *np;
	int r = path_rebase(*p, from, to, &np);

	free(*p);
	*p = r < 0 ? NULL : np;
	return r;
}

int
ofile_rename(struct ofile_table *t, const char *from, const char *to)
{
	struct ofile_node *n;
	int r = 0;

	if (strcmp(from, to) == 0)
		return 0;	/* rename(2) of a name onto itself changes nothing */
	pthread_mutex_lock(&t->mu);
	/* The replaced file (or tree) is no longer reachable by any path:
	 * path operations on 'to' must never find its handles. */
	detach_under(t, to);
	EACH(t, n) {
		if (n->path && path_is_under(n->path, from) && rebase(&n->path, from, to) < 0)
			r = -ENOMEM;
		/* libfuse names a hidden file by its folder's current path. */
		if (n->hidden && path_is_under(n->hidden, from) &&
		    rebase(&n->hidden, from, to) < 0)
			r = -ENOMEM;
	}
	pthread_mutex_unlock(&t->mu);
	return r;
}

void
ofile_hide(struct ofile_table *t, const char *path, const char *hidden)
{
	struct ofile_node *n;

	pthread_mutex_lock(&t->mu);
	EACH(t, n) {
		if (n->path == NULL || strcmp(n->path, path) != 0)
			continue;
		free(n->path);
		n->path = NULL;
		if (hidden) {
			free(n->hidden);
			n->hidden = strdup(hidden);	/* NULL: only fstat-by-name is lost */
		}
	}
	pthread_mutex_unlock(&t->mu);
}

struct io_file *
ofile_find_hidden(struct ofile_table *t, const char *hidden)
{
	struct ofile_node *n;
	struct io_file *found = NULL;

	pthread_mutex_lock(&t->mu);
	EACH(t, n) {
		if (n->hidden && strcmp(n->hidden, hidden) == 0) {
			io_file_get(n->f);
			found = n->f;
			break;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return found;
}

/* Whether n is the file that 'path' names, or with path NULL, the same file
 * as 'like' (its path, or its hidden name once unlinked). Caller holds the
 * lock. */
static bool
same_file(const struct ofile_node *n, const char *path, const struct ofile_node *like)
{
	if (path)
		return n->path && strcmp(n->path, path) == 0;
	if (like == NULL)
		return false;
	if (like->path)
		return n->path && strcmp(n->path, like->path) == 0;
	return like->hidden && n->hidden && strcmp(n->hidden, like->hidden) == 0;
}

int
ofile_writers(struct ofile_table *t, const char *path, struct io_file *except,
	      struct io_file **out, int max)
{
	struct ofile_node *n, *like;
	int k = 0;

	if (path == NULL && except == NULL)
		return 0;
	pthread_mutex_lock(&t->mu);
	like = node_of(t, except);
	for (n = t->head.next; n != &t->head && k < max; n = n->next) {
		if (n->f == except || !same_file(n, path, like) || !io_file_wrote(n->f))
			continue;
		io_file_get(n->f);
		out[k++] = n->f;
	}
	pthread_mutex_unlock(&t->mu);
	return k;
}

struct io_file *
ofile_find(struct ofile_table *t, const char *path, bool writers)
{
	struct ofile_node *n;
	struct io_file *found = NULL;

	pthread_mutex_lock(&t->mu);
	EACH(t, n) {
		if (n->path == NULL || strcmp(n->path, path) != 0)
			continue;
		/* lock order: the registry, then the file */
		if (!writers || io_file_wrote(n->f)) {
			io_file_get(n->f);
			found = n->f;
			break;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return found;
}

bool
ofile_has_writer(struct ofile_table *t, const char *path)
{
	struct io_file *f = ofile_find(t, path, true);

	if (f == NULL)
		return false;
	io_file_put(f);
	return true;
}

void
ofile_changed(struct ofile_table *t, const char *path, struct io_file *except)
{
	struct ofile_node *n, *like;

	if (path == NULL && except == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	like = node_of(t, except);
	EACH(t, n)
		if (n->f != except && same_file(n, path, like))
			io_drop_readahead(n->f);	/* lock order: ofile, then the file */
	pthread_mutex_unlock(&t->mu);
}

char *
ofile_path(struct ofile_table *t, struct io_file *f)
{
	struct ofile_node *n;
	char *p = NULL;

	pthread_mutex_lock(&t->mu);
	if ((n = node_of(t, f)) != NULL && n->path)
		p = strdup(n->path);
	pthread_mutex_unlock(&t->mu);
	return p;
}

struct io_file *
ofile_pop(struct ofile_table *t)
{
	struct io_file *f = NULL;

	pthread_mutex_lock(&t->mu);
	if (t->head.next != &t->head) {
		f = t->head.next->f;
		node_unlink_free(t->head.next);
	}
	pthread_mutex_unlock(&t->mu);
	return f;
}

void
ofile_count(struct ofile_table *t, unsigned *files, uint64_t *queued)
{
	struct ofile_node *n;

	*files = 0;
	*queued = 0;
	pthread_mutex_lock(&t->mu);
	EACH(t, n) {
		(*files)++;
		*queued += io_file_queued(n->f);
	}
	pthread_mutex_unlock(&t->mu);
}
