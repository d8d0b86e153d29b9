/* proc: see proc.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

extern char **environ;

struct sink {
	int fd;
	char *buf;
	size_t len;
};

/* In the child, between fork and exec: only async-signal-safe calls.
 * Every source descriptor is first lifted above HIGH_FD, so moving one
 * into 0..4 cannot clobber another (the caller's pass_fd may be 0). */
#define HIGH_FD 200
static void
child(const struct proc_spec *spec, int out, int err, int report)
{
	int null = open("/dev/null", O_RDWR);
	int o = fcntl(out, F_DUPFD, HIGH_FD), e = fcntl(err, F_DUPFD, HIGH_FD);
	int r = fcntl(report, F_DUPFD, HIGH_FD), n = fcntl(null, F_DUPFD, HIGH_FD);
	int p = spec->pass_fd >= 0 ? fcntl(spec->pass_fd, F_DUPFD, HIGH_FD) : -1;
	int rslot = p >= 0 ? 4 : 3;

	if (spec->new_session)
		setsid();
	if (null < 0 || o < 0 || e < 0 || r < 0 || n < 0 || (spec->pass_fd >= 0 && p < 0))
		goto fail;
	if (dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 ||
	    (p >= 0 && dup2(p, 3) < 0) || dup3(r, rslot, O_CLOEXEC) < 0)
		goto fail;
	report = rslot;
	close_range((unsigned)rslot + 1, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	execvpe(spec->argv[0], spec->argv, spec->envp ? spec->envp : environ);
fail:
	{
		int en = errno;
		ssize_t w = write(report, &en, sizeof(en));

		(void)w;
		_exit(127);
	}
}

static void
drain(struct sink *s)
{
	char tmp[4096];
	ssize_t n = read(s->fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	if (s->len < PROC_OUT_MAX) {
		size_t take = (size_t)n < PROC_OUT_MAX - s->len ? (size_t)n : PROC_OUT_MAX - s->len;

		memcpy(s->buf + s->len, tmp, take);
		s->len += take;
		s->buf[s->len] = '\0';
	}
}

/* Reads both pipes until EOF or the deadline. */
static bool
collect(struct sink *s, long deadline)
{
	while (s[0].fd >= 0 || s[1].fd >= 0) {
		struct pollfd pf[2] = { { .fd = s[0].fd, .events = POLLIN },
					{ .fd = s[1].fd, .events = POLLIN } };
		long left = deadline - util_now_ms();

		if (left <= 0)
			return false;
		if (poll(pf, 2, (int)left) < 0 && errno != EINTR)
			return false;
		for (int i = 0; i < 2; i++)
			if (s[i].fd >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				drain(&s[i]);
	}
	return true;
}

static int
reap(pid_t pid, long deadline, bool *timed_out)
{
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (util_now_ms() >= deadline && !*timed_out) {
			*timed_out = true;
			kill(pid, SIGKILL);
			deadline = util_now_ms() + 5000;
		} else if (util_now_ms() >= deadline) {
			return -1;
		}
		usleep(10000);
	}
}

static int
exec_result(int fd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == sizeof(e) ? e : 0;
}

int
proc_run(const struct proc_spec *spec, struct proc_result *res)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, pr[2] = { -1, -1 }, rc = 0;
	long deadline = util_now_ms() + spec->timeout_ms;
	struct sink s[2] = { { -1, NULL, 0 }, { -1, NULL, 0 } };
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->out = calloc(1, PROC_OUT_MAX + 1);
	res->err = calloc(1, PROC_OUT_MAX + 1);
	if (!res->out || !res->err)
		return -ENOMEM;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(pr, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		child(spec, po[1], pe[1], pr[1]);
	close(po[1]);
	close(pe[1]);
	close(pr[1]);
	po[1] = pe[1] = pr[1] = -1;
	s[0] = (struct sink){ po[0], res->out, 0 };
	s[1] = (struct sink){ pe[0], res->err, 0 };
	po[0] = pe[0] = -1;
	res->exec_errno = exec_result(pr[0]);
	pr[0] = -1;
	res->timed_out = !collect(s, deadline);
	if (res->timed_out)
		kill(pid, SIGKILL);
	res->status = reap(pid, deadline, &res->timed_out);
	if (res->exec_errno)
		rc = -res->exec_errno;
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0) close(po[i]);
		if (pe[i] >= 0) close(pe[i]);
		if (pr[i] >= 0) close(pr[i]);
		if (s[i].fd >= 0) close(s[i].fd);
	}
	return rc;
}

void
proc_result_free(struct proc_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

/* True when entry ("NAME=value") names one of list's "NAME" or
 * "NAME=value" items. */
static bool
dropped(const char *entry, const char *const *list)
{
	for (size_t i = 0; list && list[i]; i++) {
		size_t n = strcspn(list[i], "=");

		if (!strncmp(entry, list[i], n) && entry[n] == '=')
			return true;
	}
	return false;
}

char **
proc_env(const char *const *drop, const char *const *add)
{
	size_t n = 0, k = 0, a = 0;
	char **env;

	while (environ[n])
		n++;
	while (add && add[a])
		a++;
	env = calloc(n + a + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (dropped(environ[i], drop) || dropped(environ[i], (const char *const *)add))
			continue;
		if (!(env[k++] = strdup(environ[i])))
			goto fail;
	}
	for (size_t i = 0; i < a; i++)
		if (!(env[k++] = strdup(add[i])))
			goto fail;
	return env;
fail:
	proc_env_free(env);
	return NULL;
}

void
proc_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
