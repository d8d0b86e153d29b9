/* path: see path.h. */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t
root_len(const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	return n;
}

int
path_remote(const char *root, const char *fpath, char **out)
{
	size_t rl = root_len(root);

	*out = NULL;
	if (strcmp(fpath, "/") == 0 || fpath[0] == '\0')
		*out = strndup(root, rl);
	else if (rl == 1 && root[0] == '/')
		*out = strdup(fpath);
	else if (asprintf(out, "%.*s%s", (int)rl, root, fpath) < 0)
		*out = NULL;
	return *out ? 0 : -ENOMEM;
}

bool
path_name_too_long(const char *fpath)
{
	return strlen(path_base(fpath)) > NAME_MAX;
}

int
path_parent(const char *fpath, char **out)
{
	const char *slash = strrchr(fpath, '/');

	if (slash == NULL || slash == fpath)
		*out = strdup("/");
	else
		*out = strndup(fpath, (size_t)(slash - fpath));
	return *out ? 0 : -ENOMEM;
}

const char *
path_base(const char *fpath)
{
	const char *slash = strrchr(fpath, '/');

	return slash ? slash + 1 : fpath;
}

int
path_child(const char *fpath, const char *name, char **out)
{
	bool root = strcmp(fpath, "/") == 0;

	if (asprintf(out, "%s/%s", root ? "" : fpath, name) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

bool
path_is_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

int
path_rebase(const char *p, const char *from, const char *to, char **out)
{
	const char *rest;

	*out = NULL;
	if (!path_is_under(p, from))
		return -EINVAL;
	rest = strcmp(from, "/") == 0 ? p : p + strlen(from);
	if (*rest == '\0')
		*out = strdup(to);
	else if (strcmp(to, "/") == 0)
		*out = strdup(rest);
	else if (asprintf(out, "%s%s", to, rest) < 0)
		*out = NULL;
	return *out ? 0 : -ENOMEM;
}

/* Splits a path into its non-empty, non-"." components (views). */
static size_t
split(const char *p, const char **comp, size_t *len, size_t max)
{
	size_t n = 0;

	while (*p) {
		const char *s;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		if (p == s || (p - s == 1 && s[0] == '.'))
			continue;
		if (n == max)
			return max + 1;
		comp[n] = s;
		len[n++] = (size_t)(p - s);
	}
	return n;
}

#define PATH_MAX_DEPTH 512

/* Writes the relative path from directory components d[0..nd) to target
 * components t[0..nt) into a fresh string. */
static int
relative(const char **d, size_t *dl, size_t nd, const char **t, size_t *tl,
	 size_t nt, char **out)
{
	size_t common = 0, size = 2, i, pos = 0;
	char *s;

	while (common < nd && common < nt && dl[common] == tl[common] &&
	       memcmp(d[common], t[common], dl[common]) == 0)
		common++;
	size += 3 * (nd - common);
	for (i = common; i < nt; i++)
		size += tl[i] + 1;
	if ((s = malloc(size)) == NULL)
		return -ENOMEM;
	for (i = common; i < nd; i++) {
		memcpy(s + pos, "../", 3);
		pos += 3;
	}
	for (i = common; i < nt; i++) {
		memcpy(s + pos, t[i], tl[i]);
		pos += tl[i];
		s[pos++] = '/';
	}
	if (pos == 0)
		s[pos++] = '.';
	else
		pos--;		/* drop the trailing '/' */
	s[pos] = '\0';
	*out = s;
	return 0;
}

int
path_symlink_relative(const char *root, const char *link_fpath,
		      const char *target, char **out)
{
	const char *d[PATH_MAX_DEPTH], *t[PATH_MAX_DEPTH];
	size_t dl[PATH_MAX_DEPTH], tl[PATH_MAX_DEPTH], nd, nt;
	size_t rl = root_len(root);
	const char *inside;
	char *dir;
	int r;

	*out = NULL;
	if (target[0] != '/')
		return 0;
	if (rl == 1)
		inside = target;
	else if (strncmp(target, root, rl) == 0 &&
		 (target[rl] == '\0' || target[rl] == '/'))
		inside = target + rl;
	else
		return 0;
	if ((r = path_parent(link_fpath, &dir)) < 0)
		return r;
	nd = split(dir, d, dl, PATH_MAX_DEPTH);
	nt = split(inside, t, tl, PATH_MAX_DEPTH);
	if (nd > PATH_MAX_DEPTH || nt > PATH_MAX_DEPTH)
		r = 0;		/* absurdly deep: leave the target alone */
	else
		r = relative(d, dl, nd, t, tl, nt, out);
	free(dir);
	return r;
}

bool
path_target_escapes(const char *target)
{
	const char *p = target;

	if (target[0] == '/')
		return true;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

int
path_escape_opt(const char *s, char **out)
{
	size_t n = 0, i;
	char *e;

	for (i = 0; s[i]; i++)
		n += (s[i] == ',' || s[i] == '\\') ? 2 : 1;
	if ((e = malloc(n + 1)) == NULL)
		return -ENOMEM;
	for (i = 0, n = 0; s[i]; i++) {
		if (s[i] == ',' || s[i] == '\\')
			e[n++] = '\\';
		e[n++] = s[i];
	}
	e[n] = '\0';
	*out = e;
	return 0;
}
