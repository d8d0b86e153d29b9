/* idmap: see idmap.h. */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDMAP_FILE_MAX (4u << 20)	/* a map file bigger than this is a mistake */

void
idmap_init_none(struct idmap *m)
{
	memset(m, 0, sizeof(*m));
	m->mode = IDMAP_NONE;
}

void
idmap_init_user(struct idmap *m, uint32_t remote_uid, uint32_t remote_gid,
		uid_t local_uid, gid_t local_gid)
{
	idmap_init_none(m);
	m->mode = IDMAP_USER;
	m->remote_uid = remote_uid;
	m->remote_gid = remote_gid;
	m->local_uid = local_uid;
	m->local_gid = local_gid;
}

void
idmap_init_file(struct idmap *m, bool nomap_error)
{
	idmap_init_none(m);
	m->mode = IDMAP_FILE;
	m->nomap_error = nomap_error;
}

void
idmap_free(struct idmap *m)
{
	int k;

	for (k = 0; k < 2; k++) {
		free(m->t[k].by_remote);
		free(m->t[k].by_local);
	}
	idmap_init_none(m);
}

static int
cmp_remote(const void *a, const void *b)
{
	uint32_t x = ((const struct idmap_pair *)a)->remote;
	uint32_t y = ((const struct idmap_pair *)b)->remote;

	return x < y ? -1 : x > y;
}

static int
cmp_local(const void *a, const void *b)
{
	uint32_t x = ((const struct idmap_pair *)a)->local;
	uint32_t y = ((const struct idmap_pair *)b)->local;

	return x < y ? -1 : x > y;
}

/* Drops trailing blanks and a CR (files edited elsewhere). */
static void
trim(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
}

/* Splits one line at ':' into at most 'max' fields; returns the count. */
static int
fields(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	while (n < max) {
		f[n++] = p;
		if ((p = strchr(p, ':')) == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

static int
parse_id(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* One non-blank line: "name:id" or a passwd/group line "name:x:id:...". */
static int
parse_line(char *line, const char **name, uint32_t *id)
{
	char *f[8];
	int n = fields(line, f, 8);

	if (n == 2) {
		*name = f[0];
		return parse_id(f[1], id);
	}
	if (n >= 4) {
		*name = f[0];
		return parse_id(f[2], id);
	}
	return -EINVAL;
}

static int
table_add(struct idmap_table *t, uint32_t remote, uint32_t local, size_t *cap)
{
	if (t->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct idmap_pair *a = realloc(t->by_remote, nc * sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		t->by_remote = a;
		*cap = nc;
	}
	t->by_remote[t->n].remote = remote;
	t->by_remote[t->n].local = local;
	t->n++;
	return 0;
}

static int
table_finish(struct idmap_table *t)
{
	free(t->by_local);
	t->by_local = NULL;
	if (t->n == 0)
		return 0;
	if ((t->by_local = malloc(t->n * sizeof(*t->by_local))) == NULL)
		return -ENOMEM;
	memcpy(t->by_local, t->by_remote, t->n * sizeof(*t->by_local));
	qsort(t->by_remote, t->n, sizeof(*t->by_remote), cmp_remote);
	qsort(t->by_local, t->n, sizeof(*t->by_local), cmp_local);
	return 0;
}

/* Resolves and records one parsed line. */
static int
add_mapping(struct idmap_table *t, size_t *cap, const char *name, uint32_t rid,
	    idmap_resolve_fn *fn, void *arg, const char *label, unsigned lineno,
	    char *err, size_t errlen)
{
	uint32_t lid;
	int r = fn(arg, name, &lid);

	if (r == -ENOENT)
		return 0;	/* no such local name: skipped, as sshfs */
	if (r < 0) {
		snprintf(err, errlen, "%s:%u: cannot look up '%s': %s", label,
			 lineno, name, strerror(-r));
		return r;
	}
	return table_add(t, rid, lid, cap);
}

int
idmap_parse(struct idmap *m, enum idmap_kind kind, const char *text,
	    idmap_resolve_fn *fn, void *arg, const char *label,
	    char *err, size_t errlen)
{
	struct idmap_table *t = &m->t[kind];
	char *copy = strdup(text), *line, *next;
	unsigned lineno = 0;
	size_t cap = 0;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (line = copy; line && r == 0; line = next) {
		const char *name;
		uint32_t rid;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (parse_line(line, &name, &rid) < 0 || name[0] == '\0') {
			snprintf(err, errlen, "%s:%u: expected name:id", label, lineno);
			r = -EINVAL;
			break;
		}
		r = add_mapping(t, &cap, name, rid, fn, arg, label, lineno, err, errlen);
	}
	free(copy);
	if (r == 0)
		r = table_finish(t);
	return r;
}

static int
resolve_user(void *arg, const char *name, uint32_t *id)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	(void)arg;
	r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (r != 0)
		return -r;
	if (res == NULL)
		return -ENOENT;
	*id = pw.pw_uid;
	return 0;
}

static int
resolve_group(void *arg, const char *name, uint32_t *id)
{
	struct group gr, *res = NULL;
	char buf[16384];
	int r;

	(void)arg;
	r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (r != 0)
		return -r;
	if (res == NULL)
		return -ENOENT;
	*id = gr.gr_gid;
	return 0;
}

/* Reads a whole regular file after the ownership checks. */
static int
read_map_file(const char *file, char **text, char *err, size_t errlen)
{
	struct stat st;
	ssize_t got;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY), r = 0;

	*text = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read %s: %s", file, strerror(errno));
	} else if (st.st_uid != getuid()) {
		r = -EPERM;
		snprintf(err, errlen, "%s is not owned by uid %lu", file,
			 (unsigned long)getuid());
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		r = -EPERM;
		snprintf(err, errlen, "%s is writable by other users", file);
	} else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > IDMAP_FILE_MAX) {
		r = -EINVAL;
		snprintf(err, errlen, "%s is not a regular file of sane size", file);
	} else if ((*text = calloc(1, (size_t)st.st_size + 1)) == NULL) {
		r = -ENOMEM;
	} else if ((got = read(fd, *text, (size_t)st.st_size)) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read %s: %s", file, strerror(errno));
	} else {
		(*text)[got] = '\0';
	}
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		free(*text);
		*text = NULL;
	}
	return r;
}

int
idmap_load_file(struct idmap *m, enum idmap_kind kind, const char *file,
		char *err, size_t errlen)
{
	char *text;
	int r = read_map_file(file, &text, err, errlen);

	if (r < 0)
		return r;
	r = idmap_parse(m, kind, text, kind == IDMAP_UID ? resolve_user : resolve_group,
			NULL, file, err, errlen);
	free(text);
	return r;
}

static const struct idmap_pair *
lookup(const struct idmap_pair *a, size_t n, uint32_t key, bool by_remote)
{
	struct idmap_pair k = { key, key };

	if (n == 0)
		return NULL;
	return bsearch(&k, a, n, sizeof(*a), by_remote ? cmp_remote : cmp_local);
}

/* One direction of the translation; see idmap.h. */
static int
translate(const struct idmap *m, enum idmap_kind kind, uint32_t id, uint32_t *out,
	  bool to_local)
{
	uint32_t from_user = to_local ? (kind == IDMAP_UID ? m->remote_uid : m->remote_gid)
				      : (kind == IDMAP_UID ? m->local_uid : m->local_gid);
	uint32_t to_user = to_local ? (kind == IDMAP_UID ? m->local_uid : m->local_gid)
				    : (kind == IDMAP_UID ? m->remote_uid : m->remote_gid);
	const struct idmap_table *t = &m->t[kind];
	const struct idmap_pair *p;

	*out = id;
	switch (m->mode) {
	case IDMAP_NONE:
		return 0;
	case IDMAP_USER:
		if (id == from_user)
			*out = to_user;
		return 0;
	case IDMAP_FILE:
		p = lookup(to_local ? t->by_remote : t->by_local, t->n, id, to_local);
		if (p) {
			*out = to_local ? p->local : p->remote;
			return 0;
		}
		return m->nomap_error ? -EPERM : 0;
	}
	return 0;
}

int
idmap_to_local(const struct idmap *m, enum idmap_kind kind, uint32_t remote,
	       uint32_t *local)
{
	return translate(m, kind, remote, local, true);
}

int
idmap_to_remote(const struct idmap *m, enum idmap_kind kind, uint32_t local,
		uint32_t *remote)
{
	return translate(m, kind, local, remote, false);
}
