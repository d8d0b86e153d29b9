/* daemon: see daemon.h. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bgthread.h"

#define DAEMON_EXIT_MOUNT_FAILED 32
#define DAEMON_DRAIN_MS 2000

static ssize_t
read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* The parent: exit with what the child reports. */
static void __attribute__((noreturn))
parent_wait(int status_rd, pid_t child)
{
	unsigned char b;
	int st;

	if (read_retry(status_rd, &b, 1) == 1)
		_exit(b);
	/* EOF without a status: the child died before it could say. */
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && (WEXITSTATUS(st) == 1 || WEXITSTATUS(st) == 2 ||
			      WEXITSTATUS(st) == DAEMON_EXIT_MOUNT_FAILED))
		_exit(WEXITSTATUS(st));
	_exit(DAEMON_EXIT_MOUNT_FAILED);
}

/* Copies our stderr pipe to the caller's stderr until detached, then
 * discards. Reading and writing happen under d->mu so drain() can tell
 * when everything written so far is through. */
static void *
forwarder(void *arg)
{
	struct daemon *d = arg;
	char buf[4096];

	for (;;) {
		struct pollfd p = { .fd = d->err_rd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		pthread_mutex_lock(&d->mu);
		n = read(d->err_rd, buf, sizeof(buf));
		if (n > 0 && d->orig_err >= 0)
			write_all(d->orig_err, buf, (size_t)n);
		pthread_mutex_unlock(&d->mu);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	return NULL;
}

static int
start_forwarder(struct daemon *d)
{
	int r = bgthread_start(&d->fwd, forwarder, d);

	if (r < 0)
		return r;
	pthread_detach(d->fwd);
	d->fwd_started = true;
	return 0;
}

/* The child's side of daemon_start(). */
static int
child_setup(struct daemon *d, int status_wr, int err_pipe[2])
{
	d->status_fd = status_wr;
	if ((d->orig_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) < 0)
		return -errno;
	/* fd 2 becomes the pipe, inherited by processes we start. */
	if (dup2(err_pipe[1], STDERR_FILENO) < 0)
		return -errno;
	close(err_pipe[1]);
	d->err_rd = err_pipe[0];
	fcntl(d->err_rd, F_SETFL, fcntl(d->err_rd, F_GETFL) | O_NONBLOCK);
	return start_forwarder(d);
}

int
daemon_start(struct daemon *d, bool foreground)
{
	int sp[2], ep[2];
	pid_t pid;

	memset(d, 0, sizeof(*d));
	d->foreground = foreground;
	d->status_fd = d->orig_err = d->err_rd = -1;
	pthread_mutex_init(&d->mu, NULL);
	if (foreground)
		return 0;
	if (pipe2(sp, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(sp[0]);
		close(sp[1]);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		int e = errno;

		close(sp[0]);
		close(sp[1]);
		close(ep[0]);
		close(ep[1]);
		return -e;
	}
	if (pid > 0) {
		close(sp[1]);
		close(ep[0]);
		close(ep[1]);
		parent_wait(sp[0], pid);
	}
	close(sp[0]);
	return child_setup(d, sp[1], ep);
}

/* Waits (bounded) until our stderr pipe is empty and the forwarder holds
 * nothing: every message written so far has reached the caller. */
static void
drain(struct daemon *d)
{
	struct timespec pause = { 0, 1000000 };
	int i, left = 0;

	fflush(stderr);
	for (i = 0; i < DAEMON_DRAIN_MS; i++) {
		pthread_mutex_lock(&d->mu);
		if (ioctl(d->err_rd, FIONREAD, &left) < 0)
			left = 0;
		pthread_mutex_unlock(&d->mu);
		if (left == 0)
			return;
		nanosleep(&pause, NULL);
	}
}

static void
send_status(struct daemon *d, unsigned char code)
{
	write_all(d->status_fd, (const char *)&code, 1);
	close(d->status_fd);
	d->status_fd = -1;
}

/* True (after draining) when this call is the one that reports. */
static bool
finishing(struct daemon *d)
{
	if (d->done)
		return false;
	d->done = true;
	if (d->foreground)
		return false;
	drain(d);
	return true;
}

void
daemon_ready(struct daemon *d)
{
	int null;

	if (!finishing(d))
		return;
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	pthread_mutex_lock(&d->mu);
	close(d->orig_err);
	d->orig_err = -1;
	pthread_mutex_unlock(&d->mu);
	setsid();
	if (chdir("/") < 0)
		(void)0;	/* "/" always exists; nothing to report to anyway */
	send_status(d, 0);
}

void
daemon_fail(struct daemon *d, int code)
{
	if (!finishing(d))
		return;
	send_status(d, (unsigned char)(code > 0 && code < 256 ? code : DAEMON_EXIT_MOUNT_FAILED));
}
