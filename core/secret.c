/* secret: passphrases and passwords in libsodium guarded memory.
 * See secret.h for the contract. */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"

extern char **environ;

int
secret_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

/* A writable secret with room for SECRET_MAX bytes and the NUL. */
static int
secret_alloc(struct secret **out)
{
	struct secret *s;

	*out = NULL;
	if (sodium_init() < 0)
		return -EIO;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->s = sodium_malloc(SECRET_MAX + 1);
	if (s->s == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->s[0] = '\0';
	*out = s;
	return 0;
}

/* Ends the writable phase: the NUL goes in and the page becomes read-only,
 * so a stray write through a dangling pointer faults instead of leaking. */
static void
secret_seal(struct secret *s, size_t len)
{
	s->len = len;
	s->s[len] = '\0';
	sodium_mprotect_readonly(s->s);
}

struct secret *
secret_free(struct secret *s)
{
	if (s == NULL)
		return NULL;
	if (s->s != NULL) {
		sodium_mprotect_readwrite(s->s);
		sodium_memzero(s->s, SECRET_MAX + 1);
		sodium_free(s->s);
	}
	s->s = NULL;
	s->len = 0;
	free(s);
	return NULL;
}

int
secret_from_bytes(const void *p, size_t len, struct secret **out)
{
	int rc;

	if (len > SECRET_MAX)
		return -EINVAL;
	rc = secret_alloc(out);
	if (rc < 0)
		return rc;
	if (len > 0)
		memcpy((*out)->s, p, len);
	secret_seal(*out, len);
	return 0;
}

/* How a prompt waits: signals stay blocked except inside ppoll(), so a
 * signal can only arrive while waiting and is always seen (no window
 * between testing the flag and blocking in read()). */
struct tty_wait {
	volatile sig_atomic_t *stop;	/* set by the handler */
	const sigset_t *mask;		/* the mask to wait with */
};

/* One byte from fd: 1, 0 at EOF, or -errno. With 'w', waits in ppoll and
 * returns -EINTR once a caught signal set *w->stop. */
static int
read_byte(int fd, char *c, const struct tty_wait *w)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (w != NULL && *w->stop)
			return -EINTR;
		if (w != NULL && ppoll(&p, 1, NULL, w->mask) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = read(fd, c, 1);
		if (n == 1)
			return 1;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			(void)poll(&p, 1, -1);
			continue;
		}
		return -errno;
	}
}

/* Reads one line into s (not sealed). Byte by byte, so the caller's fd
 * keeps whatever follows the line. 0, -EINVAL (too long), -EIO, -EINTR. */
static int
read_line(int fd, struct secret *s, const struct tty_wait *w, bool *saw_eof)
{
	size_t len = 0;
	char c;
	int rc;

	*saw_eof = false;
	for (;;) {
		rc = read_byte(fd, &c, w);
		if (rc == -EINTR)
			return rc;
		if (rc < 0)
			return -EIO;
		if (rc == 0) {
			*saw_eof = true;
			break;
		}
		if (c == '\n')
			break;
		if (len == SECRET_MAX)
			return -EINVAL;
		s->s[len++] = c;
	}
	if (len > 0 && s->s[len - 1] == '\r')
		len--;
	s->len = len;
	return 0;
}

int
secret_from_fd(int fd, struct secret **out)
{
	struct secret *s;
	bool eof;
	int rc;

	*out = NULL;
	rc = secret_alloc(&s);
	if (rc < 0)
		return rc;
	rc = read_line(fd, s, NULL, &eof);
	if (rc == 0 && s->len == 0)
		rc = -EINVAL;
	if (rc < 0) {
		secret_free(s);
		return rc;
	}
	secret_seal(s, s->len);
	*out = s;
	return 0;
}

/* ---- askpass ---------------------------------------------------------- */

static int
spawn_askpass(const char *program, const char *prompt, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	char *argv[3];
	int rc;

	argv[0] = (char *)program;
	argv[1] = (char *)prompt;
	argv[2] = NULL;
	rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0)
		return -rc;
	/* stdin is /dev/null: the program talks to the user through its own
	 * window, and must not eat our stdin (password_stdin). */
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Nothing of ours (passphrase_fd, sockets) leaks into the program. */
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	if (rc == 0)
		rc = posix_spawnp(pid, program, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

/* Collects the program's stdout into s up to SECRET_MAX; more is read
 * and dropped so the program can finish. Returns the byte count or -EIO;
 * *overflow tells whether anything was dropped. */
static ssize_t
collect_output(int fd, struct secret *s, bool *overflow)
{
	char sink[256];
	size_t len = 0;

	*overflow = false;
	for (;;) {
		char *dst = len < SECRET_MAX ? s->s + len : sink;
		size_t room = len < SECRET_MAX ? SECRET_MAX - len : sizeof(sink);
		ssize_t n = read(fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		if (n == 0)
			break;
		if (dst == sink) {
			*overflow = true;
			sodium_memzero(sink, sizeof(sink));
		} else {
			len += (size_t)n;
		}
	}
	return (ssize_t)len;
}

static int
wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -ECHILD;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECANCELED;
}

int
secret_from_askpass(const char *program, const char *prompt, struct secret **out)
{
	struct secret *s;
	bool overflow;
	ssize_t len;
	pid_t pid;
	int p[2], rc, st;

	*out = NULL;
	if (program == NULL || program[0] == '\0')
		return -ENOENT;
	rc = secret_alloc(&s);
	if (rc < 0)
		return rc;
	if (pipe2(p, O_CLOEXEC) < 0) {
		secret_free(s);
		return -errno;
	}
	rc = spawn_askpass(program, prompt ? prompt : "", p[1], &pid);
	close(p[1]);
	if (rc < 0) {
		close(p[0]);
		secret_free(s);
		return rc;
	}
	len = collect_output(p[0], s, &overflow);
	close(p[0]);
	st = wait_child(pid);
	if (len >= 0) {
		/* The answer is the first line; the buffer is zeroed beyond
		 * len (sodium_malloc fills with garbage, so terminate first). */
		s->s[len] = '\0';
		s->len = strcspn(s->s, "\r\n");
	}
	rc = len < 0 ? -EIO : st < 0 ? st : (overflow || s->len == 0) ? -EINVAL : 0;
	if (rc < 0) {
		secret_free(s);
		return rc;
	}
	secret_seal(s, s->len);
	*out = s;
	return 0;
}

/* ---- terminal --------------------------------------------------------- */

/* Set by the handler while a prompt has echo off. A signal handler gets no
 * context pointer, so this flag is the one piece of file-scope state here;
 * it is only touched between install_handlers() and restore_handlers(). */
static volatile sig_atomic_t g_tty_signal;

static void
on_tty_signal(int sig)
{
	g_tty_signal = sig;
}

static const int tty_signals[] = {
	SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU,
};
#define N_TTY_SIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

/* No SA_RESTART: a signal must interrupt the read so the terminal is
 * restored before the signal's default action runs. */
static void
install_handlers(struct sigaction old[N_TTY_SIGNALS])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tty_signal;
	sigemptyset(&sa.sa_mask);
	g_tty_signal = 0;
	for (size_t i = 0; i < N_TTY_SIGNALS; i++)
		sigaction(tty_signals[i], &sa, &old[i]);
}

static void
restore_handlers(const struct sigaction old[N_TTY_SIGNALS])
{
	for (size_t i = 0; i < N_TTY_SIGNALS; i++)
		sigaction(tty_signals[i], &old[i], NULL);
}

/* Echo off, prompt, read one line, then the terminal as it was: on every
 * path, including a signal (re-raised once the terminal is restored). */
static int
tty_read(int fd, const char *prompt, struct secret *s)
{
	struct sigaction old_sa[N_TTY_SIGNALS];
	struct termios old, quiet;
	sigset_t block, old_mask;
	struct tty_wait w = { &g_tty_signal, &old_mask };
	bool eof;
	int rc, sig;

	if (tcgetattr(fd, &old) < 0)
		return -ENXIO;
	sigemptyset(&block);
	for (size_t i = 0; i < N_TTY_SIGNALS; i++)
		sigaddset(&block, tty_signals[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old_mask);
	install_handlers(old_sa);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;
	rc = tcsetattr(fd, TCSAFLUSH, &quiet) < 0 ? -ENXIO : 0;
	if (rc == 0) {
		/* The prompt is a courtesy: a terminal that takes no output
		 * may still give the line. */
		(void)util_write_all(fd, prompt, strlen(prompt));
		rc = read_line(fd, s, &w, &eof);
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		(void)util_write_all(fd, "\n", 1);
	}
	sig = g_tty_signal;
	restore_handlers(old_sa);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (sig != 0) {
		raise(sig);
		return -EINTR;
	}
	if (rc < 0)
		return rc;
	if (rc == 0 && eof && s->len == 0)
		rc = -ECANCELED;
	return rc;
}

int
secret_from_tty(const char *prompt, struct secret **out)
{
	struct secret *s;
	int fd, rc;

	*out = NULL;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -ENXIO;
	rc = secret_alloc(&s);
	if (rc == 0)
		rc = tty_read(fd, prompt ? prompt : "", s);
	close(fd);
	if (rc < 0) {
		secret_free(s);
		return rc;
	}
	secret_seal(s, s->len);
	*out = s;
	return 0;
}

bool
secret_have_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}
