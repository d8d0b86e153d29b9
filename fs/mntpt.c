/* mntpt: see mntpt.h. */
#include "mntpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MNTPT_INFO_MAX (8u << 20)

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

/* One line: "id parent maj:min root mountpoint opts [optional...] - fstype src super". */
static bool
line_matches(char *line, const char *dir, const char *prefix)
{
	char *f[6], *sep, *fstype, *p = line;
	int i;

	for (i = 0; i < 6; i++)
		if ((f[i] = next_field(&p)) == NULL)
			return false;
	while ((sep = next_field(&p)) != NULL && strcmp(sep, "-") != 0)
		;
	if (sep == NULL || (fstype = next_field(&p)) == NULL)
		return false;
	unescape(f[4]);
	return strcmp(f[4], dir) == 0 && strncmp(fstype, prefix, strlen(prefix)) == 0;
}

bool
mntpt_is_mounted(const char *mountinfo, const char *dir, const char *fstype_prefix)
{
	char *copy = strdup(mountinfo), *line, *next;
	bool found = false;

	if (copy == NULL)
		return false;
	for (line = copy; line && !found; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		found = line_matches(line, dir, fstype_prefix);
	}
	free(copy);
	return found;
}

static char *
read_mountinfo(void)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);

	if (buf == NULL || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb = cap < MNTPT_INFO_MAX ? realloc(buf, cap * 2) : NULL;

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

int
mntpt_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char *info;
	bool ours;

	if (strncmp(dir, "/dev/fd/", 8) == 0)
		return 0;
	if (stat(dir, &st) < 0) {
		int e = errno;

		if (e == ENOTCONN)
			snprintf(err, errlen, "mount point %s is a dead FUSE mount "
				 "(Transport endpoint is not connected); unmount it first: "
				 "fusermount3 -u %s", dir, dir);
		else if (e == ENOENT)
			snprintf(err, errlen, "mount point %s does not exist", dir);
		else
			snprintf(err, errlen, "mount point %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mount point %s is not a directory", dir);
		return -ENOTDIR;
	}
	info = read_mountinfo();
	ours = info && mntpt_is_mounted(info, dir, "fuse.sshmountfs");
	free(info);
	if (ours) {
		snprintf(err, errlen, "%s is already mounted by sshmountfs "
			 "(unmount it first: fusermount3 -u %s)", dir, dir);
		return -EBUSY;
	}
	return 0;
}
