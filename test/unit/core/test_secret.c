/* Unit tests of core/secret: guarded memory, fd lines, askpass, the
 * terminal prompt (on a real pseudo-terminal) and its restore paths. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "secret.h"
#include "tap.h"

static char g_dir[64];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
}

static void
read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static void
test_bytes(void)
{
	struct secret *s = NULL;

	TAP_EQ_INT(secret_from_bytes("abc", 3, &s), 0);
	TAP_CHECK(s != NULL && s->len == 3 && strcmp(s->s, "abc") == 0);
	TAP_CHECK(secret_free(s) == NULL);
	TAP_CHECK(secret_free(NULL) == NULL);
	TAP_EQ_INT(secret_from_bytes("x", SECRET_MAX + 1, &s), -EINVAL);
}

static int
pipe_with(const char *data, size_t len)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	if (write(p[1], data, len) != (ssize_t)len)
		perror("write");
	close(p[1]);
	return p[0];
}

static void
test_fd(void)
{
	struct secret *s = NULL;
	char rest[16] = "";
	char *big;
	int fd;

	fd = pipe_with("pass word\nREST", 14);
	TAP_EQ_INT(secret_from_fd(fd, &s), 0);
	TAP_CHECK(s != NULL && strcmp(s->s, "pass word") == 0 && s->len == 9);
	/* Byte by byte: what follows the line is still there for the caller. */
	TAP_EQ_INT(read(fd, rest, sizeof(rest) - 1), 4);
	TAP_CHECK(strcmp(rest, "REST") == 0);
	close(fd);
	s = secret_free(s);

	fd = pipe_with("crlf\r\n", 6);
	TAP_EQ_INT(secret_from_fd(fd, &s), 0);
	TAP_CHECK(s != NULL && strcmp(s->s, "crlf") == 0);
	s = secret_free(s);
	close(fd);

	fd = pipe_with("no-newline", 10);
	TAP_EQ_INT(secret_from_fd(fd, &s), 0);
	TAP_CHECK(s != NULL && strcmp(s->s, "no-newline") == 0);
	s = secret_free(s);
	close(fd);

	fd = pipe_with("\nx", 2);
	TAP_EQ_INT(secret_from_fd(fd, &s), -EINVAL);
	TAP_CHECK(s == NULL);
	close(fd);

	fd = pipe_with("", 0);
	TAP_EQ_INT(secret_from_fd(fd, &s), -EINVAL);
	close(fd);

	big = malloc(SECRET_MAX + 2);
	memset(big, 'a', SECRET_MAX + 1);
	big[SECRET_MAX + 1] = '\n';
	fd = pipe_with(big, SECRET_MAX + 2);
	TAP_EQ_INT(secret_from_fd(fd, &s), -EINVAL);
	close(fd);
	free(big);

	TAP_EQ_INT(secret_from_fd(-1, &s), -EIO);
}

static void
test_askpass(void)
{
	char prog[128], argfile[128], got[256], script[1024];
	struct secret *s = NULL;

	snprintf(prog, sizeof(prog), "%s/askpass", g_dir);
	snprintf(argfile, sizeof(argfile), "%s/args", g_dir);
	/* Records its argument and whether stdin is /dev/null and fd 3+ are
	 * closed, then answers with two lines (only the first counts). */
	snprintf(script, sizeof(script),
		 "#!/bin/sh\nprintf '%%s|' \"$1\" > %s\n"
		 "[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ] && printf 'null|' >> %s\n"
		 "[ -e /proc/$$/fd/7 ] || printf 'closed' >> %s\n"
		 "printf 'from askpass\\nsecond line\\n'\n", argfile, argfile, argfile);
	write_file(prog, script, 0755);
	dup2(0, 7);	/* an inherited descriptor the program must not get */
	TAP_EQ_INT(secret_from_askpass(prog, "Enter passphrase: ", &s), 0);
	close(7);
	TAP_CHECK(s != NULL && strcmp(s->s, "from askpass") == 0);
	s = secret_free(s);
	read_file(argfile, got, sizeof(got));
	TAP_CHECK(strcmp(got, "Enter passphrase: |null|closed") == 0);
	if (strcmp(got, "Enter passphrase: |null|closed") != 0)
		printf("#   args file: '%s'\n", got);

	write_file(prog, "#!/bin/sh\necho never-used\nexit 1\n", 0755);
	TAP_EQ_INT(secret_from_askpass(prog, "p", &s), -ECANCELED);
	TAP_CHECK(s == NULL);

	write_file(prog, "#!/bin/sh\necho\n", 0755);
	TAP_EQ_INT(secret_from_askpass(prog, "p", &s), -EINVAL);

	TAP_EQ_INT(secret_from_askpass("/nonexistent/askpass", "p", &s), -ENOENT);
	TAP_EQ_INT(secret_from_askpass(NULL, "p", &s), -ENOENT);
}

/* Reads from the pty master until 'want' shows up or 5 s pass. */
static int
read_until(int m, const char *want, char *acc, size_t size)
{
	size_t len = strlen(acc);

	for (int i = 0; i < 50 && strstr(acc, want) == NULL; i++) {
		struct pollfd p = { .fd = m, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(m, acc + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		acc[len] = '\0';
	}
	return strstr(acc, want) != NULL ? 0 : -1;
}

/* Child on the pty slave: prompts, then reports "rc|secret|echo-restored". */
static void
tty_child(int report)
{
	struct termios before, after;
	struct secret *s = NULL;
	char line[128];
	int rc;

	tcgetattr(0, &before);
	rc = secret_from_tty("Pass: ", &s);
	tcgetattr(0, &after);
	snprintf(line, sizeof(line), "%d|%s|%d", rc, s ? s->s : "",
		 (before.c_lflag & ECHO) == (after.c_lflag & ECHO));
	if (write(report, line, strlen(line)) < 0)
		_exit(2);
	secret_free(s);
	_exit(0);
}

static void
test_tty_prompt(void)
{
	char acc[512] = "", rep[128] = "";
	int p[2], m, st;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0)
		return;
	pid = forkpty(&m, NULL, NULL, NULL);
	if (pid == 0) {
		close(p[0]);
		tty_child(p[1]);
	}
	close(p[1]);
	TAP_CHECK(pid > 0);
	if (pid < 0)
		return;
	TAP_EQ_INT(read_until(m, "Pass: ", acc, sizeof(acc)), 0);
	if (write(m, "hunter2\n", 8) != 8)
		perror("write");
	waitpid(pid, &st, 0);
	read_until(m, "\n", acc, sizeof(acc));
	TAP_CHECK(strstr(acc, "hunter2") == NULL);	/* echo was off */
	n = read(p[0], rep, sizeof(rep) - 1);
	rep[n > 0 ? n : 0] = '\0';
	TAP_CHECK(strcmp(rep, "0|hunter2|1") == 0);
	if (strcmp(rep, "0|hunter2|1") != 0)
		printf("#   child said '%s'\n", rep);
	close(p[0]);
	close(m);
}

/* Ctrl-C at the prompt: the child dies of SIGINT (re-raised), and the
 * terminal it leaves behind has echo on again. */
static void
test_tty_signal(void)
{
	struct termios t;
	char acc[512] = "";
	int m, st = 0;
	pid_t pid;

	pid = forkpty(&m, NULL, NULL, NULL);
	if (pid == 0) {
		struct secret *s = NULL;
		/* a background job of a shell may inherit SIGINT ignored */
		signal(SIGINT, SIG_DFL);
		secret_from_tty("Pass: ", &s);
		_exit(3);	/* not reached: SIGINT is re-raised */
	}
	TAP_CHECK(pid > 0);
	if (pid < 0)
		return;
	TAP_EQ_INT(read_until(m, "Pass: ", acc, sizeof(acc)), 0);
	TAP_EQ_INT(tcgetattr(m, &t), 0);
	TAP_CHECK(!(t.c_lflag & ECHO));			/* echo off while prompting */
	if (write(m, "\003", 1) != 1)
		perror("write");
	waitpid(pid, &st, 0);
	TAP_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
	TAP_EQ_INT(tcgetattr(m, &t), 0);
	TAP_CHECK(t.c_lflag & ECHO);			/* restored before dying */
	close(m);
}

static void
test_no_tty(void)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct secret *s = NULL;
		setsid();	/* a new session has no controlling terminal */
		_exit(secret_from_tty("Pass: ", &s) == -ENXIO && s == NULL &&
		      !secret_have_tty() ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	TAP_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/askpass", g_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/args", g_dir);
	unlink(path);
	rmdir(g_dir);
}

int
main(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/test_secret.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return 1;
	TAP_EQ_INT(secret_init(), 0);
	TAP_EQ_INT(secret_init(), 0);
	test_bytes();
	test_fd();
	test_askpass();
	test_tty_prompt();
	test_tty_signal();
	test_no_tty();
	cleanup();
	return tap_done();
}
