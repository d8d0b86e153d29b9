/* statsock: see statsock.h. */
#include "statsock.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void
statsock_addr(unsigned major, unsigned minor, struct sockaddr_un *sa, socklen_t *len)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* sun_path[0] stays '\0': the abstract namespace. The length, not a
	 * terminator, ends an abstract name. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "sshmountfs/%u:%u", major, minor);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int
statsock_listen(unsigned major, unsigned minor, int *fd)
{
	struct sockaddr_un sa;
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	statsock_addr(major, minor, &sa, &len);
	if (bind(s, (struct sockaddr *)&sa, len) < 0 || listen(s, 8) < 0) {
		int e = errno;

		close(s);
		return -e;
	}
	*fd = s;
	return 0;
}

int
statsock_peer_uid(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	*uid = cr.uid;
	return 0;
}

static long
ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for 'events' on fd until the deadline. 0 or -ETIMEDOUT/-errno. */
static int
wait_fd(int fd, short events, const struct timespec *end)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long left = ms_left(end);
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Reads until EOF (at most STATSOCK_MAX_REPLY bytes) into *out. */
static int
read_all(int fd, const struct timespec *end, char **out, size_t *outlen)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	int r;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb = cap < STATSOCK_MAX_REPLY ? realloc(buf, cap * 2) : NULL;

			if (nb == NULL) {
				free(buf);
				return cap < STATSOCK_MAX_REPLY ? -ENOMEM : -EPROTO;
			}
			buf = nb;
			cap *= 2;
		}
		if ((r = wait_fd(fd, POLLIN, end)) < 0) {
			free(buf);
			return r;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

static int
connect_to(unsigned major, unsigned minor, const struct timespec *end, int *out)
{
	struct sockaddr_un sa;
	socklen_t len;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), r;

	if (s < 0)
		return -errno;
	statsock_addr(major, minor, &sa, &len);
	if (connect(s, (struct sockaddr *)&sa, len) < 0) {
		/* A full backlog: wait for the server to accept. */
		if (errno != EAGAIN && errno != EINPROGRESS) {
			r = -errno;
			close(s);
			return r;
		}
		if ((r = wait_fd(s, POLLOUT, end)) < 0) {
			close(s);
			return r;
		}
	}
	*out = s;
	return 0;
}

/* Splits "MAGIC STATE\nbody" into its parts (heap). */
static int
split_reply(const char *buf, size_t len, char **state, char **body)
{
	const char *nl = memchr(buf, '\n', len), *st = buf + strlen(STATSOCK_MAGIC);

	if (len < strlen(STATSOCK_MAGIC) || memcmp(buf, STATSOCK_MAGIC, strlen(STATSOCK_MAGIC)) ||
	    nl == NULL || nl < st)
		return -EPROTO;
	if (nl - st == (long)strlen(STATSOCK_REFUSED) && !memcmp(st, STATSOCK_REFUSED, (size_t)(nl - st)))
		return -EACCES;
	*state = strndup(st, (size_t)(nl - st));
	*body = strdup(nl + 1);
	if (*state == NULL || *body == NULL) {
		free(*state);
		free(*body);
		return -ENOMEM;
	}
	return 0;
}

int
statsock_query(unsigned major, unsigned minor, long owner, const char *req,
	       int timeout_ms, char **state, char **body)
{
	struct timespec end;
	char line[32], *buf = NULL;
	size_t len = 0, n;
	uid_t uid;
	int s, r;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	if ((r = connect_to(major, minor, &end, &s)) < 0)
		return r;
	if ((r = statsock_peer_uid(s, &uid)) < 0)
		goto out;
	if (uid != 0 && (owner >= 0 ? (long)uid != owner : uid != geteuid())) {
		r = -EPERM;
		goto out;
	}
	n = (size_t)snprintf(line, sizeof(line), "%s\n", req);
	if (n >= sizeof(line)) {
		r = -EINVAL;
		goto out;
	}
	if ((r = wait_fd(s, POLLOUT, &end)) < 0)
		goto out;
	/* A server that refuses us may close before reading: its answer is
	 * still there to read, so a failed send is not the end. */
	(void)!send(s, line, n, MSG_NOSIGNAL);
	if ((r = read_all(s, &end, &buf, &len)) < 0)
		goto out;
	r = split_reply(buf, len, state, body);
	free(buf);
out:
	close(s);
	return r;
}
