/* fxc_xport.c: the byte streams fxc runs SFTP over.
 *
 * Three ways to get one: SFTP channels of an authenticated SSH connection,
 * a pair of fds handed in by the caller, or a command started here with
 * pipes on its stdin and stdout (a local sftp-server, ssh_command=). This
 * file also holds the blocking I/O used by fxc_start() before the I/O
 * thread exists, and the teardown (close, reap the child).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fxc_int.h"
#include "log.h"
#include "sshc.h"

extern char **environ;

#define FXC_STDERR_LOG_MAX (16u * 1024)

static struct fxc_transport *
xp_new(void)
{
	struct fxc_transport *t = calloc(1, sizeof(*t));

	if (t != NULL) {
		t->rfd = -1;
		t->wfd = -1;
	}
	return t;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Waits up to ~1 s for the child to exit (it does once its stdin closes),
 * then asks with SIGTERM, then insists with SIGKILL: fxc_free() must not
 * hang on a stuck child. */
static void
reap_child(pid_t pid)
{
	static const int sigs[] = { 0, SIGTERM, SIGKILL };
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	size_t i;
	int n;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigs[i] != 0)
			kill(pid, sigs[i]);
		for (n = 0; n < 100; n++) {
			pid_t r = waitpid(pid, NULL, WNOHANG);

			if (r == pid || (r < 0 && errno != EINTR))
				return;
			nanosleep(&ts, NULL);
		}
	}
	waitpid(pid, NULL, 0);
}

void
fxc_xp_close(struct fxc_transport *xp)
{
	int i;

	for (i = 0; i < xp->nch; i++) {
		if (xp->ch[i] != NULL) {
			ssh_channel_free(xp->ch[i]);
			xp->ch[i] = NULL;
		}
	}
	xp->nch = 0;
	xp->conn = sshc_free(xp->conn);
	if (xp->rfd >= 0)
		close(xp->rfd);
	if (xp->wfd >= 0 && xp->wfd != xp->rfd)
		close(xp->wfd);
	xp->rfd = xp->wfd = -1;
	if (xp->child > 0)
		reap_child(xp->child);
	xp->child = 0;
}

int
fxc_transport_fds(int rfd, int wfd, pid_t child, struct fxc_transport **out)
{
	struct fxc_transport *t;
	int rc;

	*out = NULL;
	t = xp_new();
	if (t == NULL)
		return -ENOMEM;
	t->rfd = rfd;
	t->wfd = wfd;
	t->child = child;
	t->nch = 1;
	rc = set_nonblock(rfd);
	if (rc == 0)
		rc = set_nonblock(wfd);
	if (rc < 0) {
		t->nch = 0;
		fxc_xp_close(t);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int
spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
	    const int in[2], const int out[2])
{
	sigset_t def;

	/* The child should see SIGPIPE as sftp-server normally does, even when
	 * this process ignores it. */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	if (posix_spawn_file_actions_init(fa) != 0)
		return -ENOMEM;
	if (posix_spawnattr_init(at) != 0) {
		posix_spawn_file_actions_destroy(fa);
		return -ENOMEM;
	}
	/* Only stdin, stdout and stderr go to the child: not the SSH
	 * socket, the FUSE device or another server's pipes. */
	if (posix_spawn_file_actions_adddup2(fa, in[0], 0) != 0 ||
	    posix_spawn_file_actions_adddup2(fa, out[1], 1) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(fa, 3) != 0 ||
	    posix_spawnattr_setsigdefault(at, &def) != 0 ||
	    posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGDEF) != 0) {
		posix_spawnattr_destroy(at);
		posix_spawn_file_actions_destroy(fa);
		return -ENOMEM;
	}
	return 0;
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/* posix_spawnp() reports a failed exec (ENOENT, EACCES) to the caller,
 * which a hand-written fork() cannot do without an extra pipe. No shell:
 * argv goes to execvp() as it is. */
int
fxc_transport_cmd(char *const argv[], struct fxc_transport **out,
		  char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 };
	pid_t pid;
	int rc;

	*out = NULL;
	if (argv == NULL || argv[0] == NULL)
		return -EINVAL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		goto fail;
	}
	rc = spawn_setup(&fa, &at, in, outp);
	if (rc < 0) {
		snprintf(err, errlen, "cannot prepare to run %s", argv[0]);
		goto fail;
	}
	rc = -posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc < 0) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(-rc));
		goto fail;
	}
	close(in[0]);
	close(outp[1]);
	rc = fxc_transport_fds(outp[0], in[1], pid, out);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", argv[0], strerror(-rc));
	return rc;
fail:
	close_pair(in);
	close_pair(outp);
	return rc;
}

static void
xport_ssh_fail(struct fxc_transport *t, struct sshc *conn)
{
	t->conn = conn;
	fxc_xp_close(t);
	free(t);
}

int
fxc_transport_ssh(struct sshc *conn, int nchannels, const char *server_cmd,
		  struct fxc_transport **out, char *err, size_t errlen)
{
	struct fxc_transport *t;
	struct sshc_error e;
	int rc = 0;

	*out = NULL;
	t = xp_new();
	if (t == NULL) {
		sshc_free(conn);
		return -ENOMEM;
	}
	if (nchannels < 1)
		nchannels = 1;
	if (nchannels > FXC_MAX_CHANNELS)
		nchannels = FXC_MAX_CHANNELS;
	memset(&e, 0, sizeof(e));
	rc = sshc_open_sftp_channels(conn, server_cmd, nchannels, t->ch, &e);
	if (rc > 0)
		t->nch = rc;
	if (t->nch == 0) {
		snprintf(err, errlen, "%s%s%s",
			 e.msg[0] ? e.msg : "cannot open an SFTP channel",
			 e.hint[0] ? "; " : "", e.hint);
		xport_ssh_fail(t, conn);
		return rc < 0 ? rc : -EIO;
	}
	/* MaxSessions may allow fewer channels than asked: use what we got. */
	if (t->nch < nchannels)
		log_warn("only %d of %d SFTP channels could be opened (the server's "
			 "MaxSessions?)", t->nch, nchannels);
	t->conn = conn;
	*out = t;
	return 0;
}

/* ---- blocking setup I/O (fxc_start, before the I/O thread) ---- */

static int
ms_left(uint64_t deadline)
{
	uint64_t now = fxc_now_us();

	if (now >= deadline)
		return 0;
	return (int)((deadline - now + 999) / 1000);
}

static int
fd_wait(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int n;

	do {
		int ms = ms_left(deadline);

		if (ms == 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int
fd_send(struct fxc *c, const uint8_t *p, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = write(c->xp.wfd, p, len);
		int rc;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		rc = fd_wait(c->xp.wfd, POLLOUT, deadline);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
fxc_xp_send(struct fxc *c, struct fxc_chan *ch, const uint8_t *p, size_t len,
	    uint64_t deadline, char *err, size_t errlen)
{
	int rc = 0;

	if (ch->ch != NULL) {
		/* The session is still blocking: this returns when all of it
		 * is in libssh's buffers. */
		int n = ssh_channel_write(ch->ch, p, (uint32_t)len);

		if (n != (int)len) {
			snprintf(err, errlen, "channel %d: write: %s", ch->idx,
				 ssh_get_error(c->sess));
			return -EIO;
		}
		return 0;
	}
	rc = fd_send(c, p, len, deadline);
	if (rc < 0)
		snprintf(err, errlen, "write to the SFTP server: %s", strerror(-rc));
	return rc;
}

static int
chan_recv_ssh(struct fxc *c, struct fxc_chan *ch, uint64_t deadline,
	 char *err, size_t errlen)
{
	for (;;) {
		int ms = ms_left(deadline);
		int n;

		if (ms == 0)
			break;
		n = ssh_channel_read_timeout(ch->ch, ch->rx + ch->rx_len,
					     (uint32_t)(ch->rx_cap - ch->rx_len),
					     0, ms);
		if (n > 0)
			return n;
		if (n < 0 && n != SSH_AGAIN) {
			snprintf(err, errlen, "channel %d: read: %s", ch->idx,
				 ssh_get_error(c->sess));
			return -EIO;
		}
		if (ssh_channel_is_eof(ch->ch) || ssh_channel_is_closed(ch->ch))
			return 0;
	}
	snprintf(err, errlen, "channel %d: the SFTP server did not answer in time",
		 ch->idx);
	return -ETIMEDOUT;
}

static int
fd_recv(struct fxc *c, struct fxc_chan *ch, uint64_t deadline,
	char *err, size_t errlen)
{
	for (;;) {
		ssize_t n = read(c->xp.rfd, ch->rx + ch->rx_len, ch->rx_cap - ch->rx_len);
		int rc;

		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			rc = -errno;
			snprintf(err, errlen, "read from the SFTP server: %s",
				 strerror(errno));
			return rc;
		}
		rc = fd_wait(c->xp.rfd, POLLIN, deadline);
		if (rc == -ETIMEDOUT)
			snprintf(err, errlen, "the SFTP server did not answer in time");
		else if (rc < 0)
			snprintf(err, errlen, "poll: %s", strerror(-rc));
		if (rc < 0)
			return rc;
	}
}

/* Appends what arrives (at least one byte) to ch->rx. Returns the byte
 * count, 0 at end of stream, or a negative errno with err set. */
int
fxc_xp_recv(struct fxc *c, struct fxc_chan *ch, uint64_t deadline,
	    char *err, size_t errlen)
{
	int n;

	if (ch->rx_len == ch->rx_cap) {
		snprintf(err, errlen, "receive buffer full");
		return -EMSGSIZE;
	}
	if (ch->ch != NULL)
		n = chan_recv_ssh(c, ch, deadline, err, errlen);
	else
		n = fd_recv(c, ch, deadline, err, errlen);
	if (n > 0)
		ch->rx_len += (size_t)n;
	return n;
}

/* Also tells the I/O thread which channels have stdout data waiting.
 * An exec'd server command (sftp_server=, nice ...) may write to stderr.
 * Consuming it here keeps libssh's stderr buffer empty, so that
 * ssh_channel_is_eof() can report the end of the channel, and shows the
 * text to the user, who can act on it. */
static int
stderr_cb(ssh_session s, ssh_channel chan, void *data, uint32_t len,
	  int is_stderr, void *userdata)
{
	struct fxc_chan *ch = userdata;
	const char *p = data;
	uint32_t n = len;

	(void)s;
	(void)chan;
	/* stdout stays in libssh's buffer (its window accounting counts on
	 * that); noting it lets the drain read only channels that have data,
	 * each libssh read of an empty channel being a poll() of the socket. */
	if (!is_stderr) {
		ch->has_data = true;
		return 0;
	}
	/* A server that never stops talking must not flood the log. */
	ch->stderr_bytes += len;
	if (ch->stderr_bytes - len >= FXC_STDERR_LOG_MAX)
		return (int)len;
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n > 0)
		log_warn("SFTP server (channel %d): %.*s", ch->idx,
			 (int)(n > 1024 ? 1024 : n), p);
	if (ch->stderr_bytes >= FXC_STDERR_LOG_MAX)
		log_warn("SFTP server (channel %d): more on stderr, not shown",
			 ch->idx);
	return (int)len;
}

void
fxc_xp_set_stderr_cb(struct fxc_chan *ch)
{
	memset(&ch->cb, 0, sizeof(ch->cb));
	ch->cb.userdata = ch;
	ch->cb.channel_data_function = stderr_cb;
	ssh_callbacks_init(&ch->cb);
	ssh_set_channel_callbacks(ch->ch, &ch->cb);
}
