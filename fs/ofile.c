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

int
ofile_rename(struct ofile_table *t, const char *from, const char *to)
{
	struct io_file *f;
	int r = 0;

	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next) {
		char *np;

		if (f->path == NULL || !path_is_under(f->path, from))
			continue;
		if (path_rebase(f->path, from, to, &np) < 0) {
			np = NULL;
			r = -ENOMEM;
		}
		free(f->path);
		f->path = np;
	}
	pthread_mutex_unlock(&t->mu);
	return r;
}

void
ofile_unlinked(struct ofile_table *t, const char *path)
{
	struct io_file *f;

	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next) {
		if (f->path && strcmp(f->path, path) == 0) {
			free(f->path);
			f->path = NULL;
		}
	}
	pthread_mutex_unlock(&t->mu);
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

	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next)
		if (f != except && f->path && strcmp(f->path, path) == 0)
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

void
ofile_each(struct ofile_table *t, void (*fn)(struct io_file *f, void *arg), void *arg)
{
	struct io_file *f;

	pthread_mutex_lock(&t->mu);
	for (f = t->head.reg_next; f != &t->head; f = f->reg_next)
		fn(f, arg);
	pthread_mutex_unlock(&t->mu);
}
