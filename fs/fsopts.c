/* fsopts: see fsopts.h. */
#include "fsopts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

#define FSOPTS_MAX_THREADS_CAP 1024

int
fsopts_source(const struct opts *o, char **out)
{
	const char *host = o->host ? o->host : "";
	bool v6 = strchr(host, ':') != NULL;
	int n;

	n = asprintf(out, "%s%s%s%s%s:%s", o->user ? o->user : "", o->user ? "@" : "",
		     v6 ? "[" : "", host, v6 ? "]" : "", o->path ? o->path : "");
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int
add(struct fsopts *f, const char *s)
{
	char **v = realloc(f->argv, (size_t)(f->argc + 2) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	f->argv = v;
	if ((v[f->argc] = strdup(s)) == NULL)
		return -ENOMEM;
	v[++f->argc] = NULL;
	return 0;
}

/* Adds "-o" and the item. */
static int
add_o(struct fsopts *f, const char *item)
{
	int r = add(f, "-o");

	return r < 0 ? r : add(f, item);
}

/* An item may hold commas or backslashes: fuse_opt splits -o at commas. */
static int
add_escaped(struct fsopts *f, const char *item)
{
	char *esc;
	int r;

	if ((r = path_escape_opt(item, &esc)) < 0)
		return r;
	r = add_o(f, esc);
	free(esc);
	return r;
}

static int
add_of(struct fsopts *f, const char *fmt, unsigned long v)
{
	char item[64];

	snprintf(item, sizeof(item), fmt, v);
	return add_o(f, item);
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

/* Takes a loop option out of the stream: 1 when it was one, 0 when not,
 * -EINVAL on a bad value. */
static int
loop_option(struct fsopts *f, const char *item, char *err, size_t errlen)
{
	unsigned long v;

	if (strcmp(item, "clone_fd") == 0) {
		f->clone_fd = true;
		return 1;
	}
	if (strncmp(item, "max_threads=", 12) == 0) {
		if (parse_uint(item + 12, FSOPTS_MAX_THREADS_CAP, &v) < 0 || v == 0)
			goto bad;
		f->max_threads = (unsigned)v;
		return 1;
	}
	if (strncmp(item, "max_idle_threads=", 17) == 0) {
		if (parse_uint(item + 17, FSOPTS_MAX_THREADS_CAP, &v) < 0)
			goto bad;
		f->max_idle_threads = (int)v;
		return 1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad value in -o %s (a number from 1 to %d)", item,
		 FSOPTS_MAX_THREADS_CAP);
	return -EINVAL;
}

static int
add_fsname(struct fsopts *f, const struct opts *o)
{
	char *item = NULL;
	int r;

	if ((r = fsopts_source(o, &f->fsname)) < 0)
		return r;
	if (asprintf(&item, "fsname=%s", f->fsname) < 0)
		item = NULL;
	r = item ? add_escaped(f, item) : -ENOMEM;
	free(item);
	return r;
}

static int
add_model(struct fsopts *f, const struct opts *o)
{
	int r = 0;

	if (r == 0 && o->allow_other)
		r = add_o(f, "allow_other");
	if (r == 0 && o->allow_root)
		r = add_o(f, "allow_root");
	if (r == 0 && o->default_permissions)
		r = add_o(f, "default_permissions");
	if (r == 0 && o->ro)
		r = add_o(f, "ro");
	if (r == 0 && o->uid_set)
		r = add_of(f, "uid=%lu", (unsigned long)o->uid);
	if (r == 0 && o->gid_set)
		r = add_of(f, "gid=%lu", (unsigned long)o->gid);
	if (r == 0 && o->umask_set)
		r = add_of(f, "umask=%lo", (unsigned long)o->umask);
	return r;
}

int
fsopts_build(const struct opts *o, struct fsopts *f, char *err, size_t errlen)
{
	size_t i;
	int r;

	memset(f, 0, sizeof(*f));
	f->max_threads = FSOPTS_DEFAULT_MAX_THREADS;
	f->max_idle_threads = -1;
	f->single_thread = o->single_thread;
	if ((r = add(f, "sshmountfs")) < 0 || (r = add_fsname(f, o)) < 0 ||
	    (r = add_o(f, "subtype=sshmountfs")) < 0 || (r = add_model(f, o)) < 0)
		goto fail;
	for (i = 0; i < o->fuse_opts.n; i++) {
		const char *item = o->fuse_opts.v[i];

		if ((r = loop_option(f, item, err, errlen)) < 0)
			goto fail;
		if (r == 0 && (r = add_escaped(f, item)) < 0)
			goto fail;
	}
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	fsopts_free(f);
	return r;
}

void
fsopts_free(struct fsopts *f)
{
	int i;

	for (i = 0; i < f->argc; i++)
		free(f->argv[i]);
	free(f->argv);
	free(f->fsname);
	memset(f, 0, sizeof(*f));
}
