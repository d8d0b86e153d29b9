/* ctl: see ctl.h. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgthread.h"
#include "fuseapi.h"
#include "log.h"

extern char **environ;

/* See ctl.h: the signal handler's only way to reach the control thread. */
static volatile int ctl_sigfd = -1;

static void
on_signal(int sig)
{
	int saved = errno, fd = ctl_sigfd;
	char b = 's';

	(void)sig;
	if (fd >= 0 && write(fd, &b, 1) < 0)
		(void)0;	/* the pipe is full: a stop is already pending */
	errno = saved;
}

static void
set_handlers(bool on)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? on_signal : SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
ctl_unmount(const char *mountpoint)
{
	char *argv[] = { "fusermount3", "-u", "-q", "-z", "--", (char *)mountpoint, NULL };
	pid_t pid;
	int st, r;

	if (geteuid() == 0 && umount2(mountpoint, MNT_DETACH) == 0)
		return 0;
	if (geteuid() == 0 && errno != EPERM)
		return errno == EINVAL ? 0 : -errno;	/* EINVAL: not mounted */
	r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (r != 0)
		return -r;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static void *
control(void *arg)
{
	struct ctl *c = arg;
	bool stopped = false;
	char b;

	for (;;) {
		ssize_t n = read(c->fd[0], &b, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || b == 'q')
			break;
		if (stopped)
			continue;
		stopped = true;
		log_info("unmounting %s", c->mountpoint);
		if (c->on_stop != NULL)
			c->on_stop(c->on_stop_arg);
		fuse_session_exit(c->se);
		if (ctl_unmount(c->mountpoint) == 0)
			c->unmounted = true;
		else
			log_warn("could not unmount %s; it ends when this process exits",
				 c->mountpoint);
	}
	return NULL;
}

int
ctl_start(struct ctl *c, struct fuse_session *se, const char *mountpoint,
	  void (*on_stop)(void *arg), void *arg)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->se = se;
	c->on_stop = on_stop;
	c->on_stop_arg = arg;
	if ((c->mountpoint = strdup(mountpoint)) == NULL)
		return -ENOMEM;
	if (pipe2(c->fd, O_CLOEXEC) < 0) {
		free(c->mountpoint);
		return -errno;
	}
	fcntl(c->fd[1], F_SETFL, O_NONBLOCK);
	if ((r = bgthread_start(&c->thread, control, c)) < 0) {
		close(c->fd[0]);
		close(c->fd[1]);
		free(c->mountpoint);
		return r;
	}
	c->started = true;
	ctl_sigfd = c->fd[1];
	set_handlers(true);
	return 0;
}

void
ctl_stop(struct ctl *c)
{
	char b = 's';

	if (c->started && write(c->fd[1], &b, 1) < 0)
		(void)0;	/* full: a stop is already pending */
}

void
ctl_finish(struct ctl *c)
{
	char b = 'q';

	if (!c->started)
		return;
	set_handlers(false);
	ctl_sigfd = -1;
	while (write(c->fd[1], &b, 1) < 0 && errno == EAGAIN)
		usleep(1000);
	pthread_join(c->thread, NULL);
	close(c->fd[0]);
	close(c->fd[1]);
	free(c->mountpoint);
	c->started = false;
}
