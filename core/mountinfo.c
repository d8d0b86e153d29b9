/* mountinfo: see mountinfo.h. */
#include "mountinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOUNTINFO_MAX (8u << 20)

/* Decodes mountinfo's octal escapes of one field in place. */
static void
unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

/* The next space-separated field of *p (terminated in place), or NULL. */
static char *
next_field(char **p)
{
	char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	e = strchr(s, ' ');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

/* "user_id=N" among the comma-separated super options; -1 without it. */
static long
user_id_of(const char *super)
{
	const char *p = super;

	while (p && *p) {
		if (strncmp(p, "user_id=", 8) == 0) {
			char *end;
			long v = strtol(p + 8, &end, 10);

			return (end != p + 8 && (*end == ',' || *end == '\0') && v >= 0) ? v : -1;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return -1;
}

/* Parses one line (modified in place); true when it is a mount at 'dir'
 * of the wanted type, with *e filled. */
static bool
line_entry(char *line, const char *dir, const char *prefix, struct mountinfo_entry *e)
{
	char *f[6], *sep, *fstype, *source, *super, *p = line;
	int i;

	for (i = 0; i < 6; i++)
		if ((f[i] = next_field(&p)) == NULL)
			return false;
	while ((sep = next_field(&p)) != NULL && strcmp(sep, "-") != 0)
		;
	if (sep == NULL || (fstype = next_field(&p)) == NULL)
		return false;
	unescape(f[4]);
	if (strcmp(f[4], dir) != 0 || (prefix && strncmp(fstype, prefix, strlen(prefix)) != 0))
		return false;
	if (sscanf(f[2], "%u:%u", &e->major, &e->minor) != 2)
		return false;
	source = next_field(&p);
	super = next_field(&p);
	snprintf(e->fstype, sizeof(e->fstype), "%s", fstype);
	if (source)
		unescape(source);
	snprintf(e->source, sizeof(e->source), "%s", source ? source : "");
	e->user_id = super ? user_id_of(super) : -1;
	return true;
}

int
mountinfo_find(const char *text, const char *dir, const char *fstype_prefix,
	       struct mountinfo_entry *out)
{
	char *copy = strdup(text), *line, *next;
	struct mountinfo_entry e;
	bool found = false;

	if (copy == NULL)
		return -ENOMEM;
	for (line = copy; line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line_entry(line, dir, fstype_prefix, &e)) {
			*out = e;
			found = true;
		}
	}
	free(copy);
	return found ? 0 : -ENOENT;
}

char *
mountinfo_read(void)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);

	if (buf == NULL || fd < 0) {
		int e = fd < 0 ? errno : ENOMEM;

		free(buf);
		if (fd >= 0)
			close(fd);
		errno = e;
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb = cap < MOUNTINFO_MAX ? realloc(buf, cap * 2) : NULL;

			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}
