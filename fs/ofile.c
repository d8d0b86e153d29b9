/* ofile: see ofile.h. */
#include "ofile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

void
ofile_init(struct ofile_table *t)
{
	pthread_mutex_init(&t->mu, NULL);
	t->head.reg_next = t->head.reg_prev = &t->head;
}

void
ofile_destroy(struct ofile_table *t)
{
	pthread_mutex_destroy(&t->mu);
}

int
ofile_add(struct ofile_table *t, struct io_file *f, const char *path)
{
	char *p = strdup(path);

	if (p == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&t->mu);
	free(f->path);
	f->path = p;
	f->reg_next = &t->head;
	f->reg_prev = t->head.reg_prev;
	t->head.reg_prev->reg_next = f;
	t->head.reg_prev = f;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void
ofile_remove(struct ofile_table *t, struct io_file *f)
{
	pthread_mutex_lock(&t->mu);
	if (f->reg_next) {
		f->reg_prev->reg_next = f->reg_next;
		f->reg_next->reg_prev = f->reg_prev;
		f->reg_next = f->reg_prev = NULL;
	}
	pthread_mutex_unlock(&t->mu);
}

/* Takes every file at or under 'path' off its path (caller holds the lock). */
static void
detach_under(struct ofile_table *t, const char *path)
{
	struct io_file *f;

	for (f = t->head.reg_next; f != &t->head; f = f->reg_next) {
		if (f->path && path_is_under(f->path, path)) {
			free(f->path);
			f->path = NULL;
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
	struct io_file *f;
	int r = 0;

	if (strcmp(from, to) == 0)
		return 0;	/* rename(2) of a name onto itself changes nothing */
	pthread_mutex_lock(&t->mu);
	/* The replaced file (or tree) is no longer reachable by any path:
	 * path operations on 'to' must never find its handles. */
	detach_under(t, to);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next) {
		if (f->path && path_is_under(f->path, from) && rebase(&f->path, from, to) < 0)
			r = -ENOMEM;
		/* libfuse names a hidden file by its folder's current path. */
		if (f->hidden && path_is_under(f->hidden, from) &&
		    rebase(&f->hidden, from, to) < 0)
			r = -ENOMEM;
	}
	pthread_mutex_unlock(&t->mu);
	return r;
}

void
ofile_hide(struct ofile_table *t, const char *path, const char *hidden)
{
	struct io_file *f;

	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next) {
		if (f->path == NULL || strcmp(f->path, path) != 0)
			continue;
		free(f->path);
		f->path = NULL;
		if (hidden) {
			free(f->hidden);
			f->hidden = strdup(hidden);	/* NULL: only fstat-by-name is lost */
		}
	}
	pthread_mutex_unlock(&t->mu);
}

struct io_file *
ofile_find_hidden(struct ofile_table *t, const char *hidden)
{
	struct io_file *f, *found = NULL;

	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head && !found; f = f->reg_next) {
		if (f->hidden && strcmp(f->hidden, hidden) == 0) {
			io_file_get(f);
			found = f;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return found;
}

/* Whether f is the file that 'path' names, or with path NULL, the same file
 * as 'like' (its path, or its hidden name once unlinked). Caller holds the
 * lock. */
static bool
same_file(const struct io_file *f, const char *path, const struct io_file *like)
{
	if (path)
		return f->path && strcmp(f->path, path) == 0;
	if (like->path)
		return f->path && strcmp(f->path, like->path) == 0;
	return like->hidden && f->hidden && strcmp(f->hidden, like->hidden) == 0;
}

int
ofile_writers(struct ofile_table *t, const char *path, struct io_file *except,
	      struct io_file **out, int max)
{
	struct io_file *f;
	int n = 0;

	if (path == NULL && except == NULL)
		return 0;
	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head && n < max; f = f->reg_next) {
		if (f == except || !same_file(f, path, except) || !io_file_wrote(f))
			continue;
		io_file_get(f);
		out[n++] = f;
	}
	pthread_mutex_unlock(&t->mu);
	return n;
}

struct io_file *
ofile_find(struct ofile_table *t, const char *path, bool writers)
{
	struct io_file *f, *found = NULL;

	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next) {
		if (f->path == NULL || strcmp(f->path, path) != 0)
			continue;
		pthread_mutex_lock(&f->mu);
		if (!writers || f->wrote) {
			f->refs++;
			found = f;
		}
		pthread_mutex_unlock(&f->mu);
		if (found)
			break;
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
	struct io_file *f;

	if (path == NULL && except == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next)
		if (f != except && same_file(f, path, except))
			io_drop_readahead(f);	/* lock order: ofile, then the file */
	pthread_mutex_unlock(&t->mu);
}

char *
ofile_path(struct ofile_table *t, struct io_file *f)
{
	char *p = NULL;

	pthread_mutex_lock(&t->mu);
	if (f->path)
		p = strdup(f->path);
	pthread_mutex_unlock(&t->mu);
	return p;
}

struct io_file *
ofile_pop(struct ofile_table *t)
{
	struct io_file *f = NULL;

	pthread_mutex_lock(&t->mu);
	if (t->head.reg_next != &t->head) {
		f = t->head.reg_next;
		f->reg_prev->reg_next = f->reg_next;
		f->reg_next->reg_prev = f->reg_prev;
		f->reg_next = f->reg_prev = NULL;
	}
	pthread_mutex_unlock(&t->mu);
	return f;
}
