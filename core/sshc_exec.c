/* sshc_exec() (one command on an exec channel) and
 * sshc_open_sftp_channel(). See sshc.h.
 */
#include "sshc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sshc_int.h"
#include "util.h"

#define SSHC_EXEC_OUT_MAX (1024 * 1024)

/* ---- channels ---------------------------------------------------------------- */

struct exec_out {
	char *buf;
	size_t len;
	bool truncated;
	char err[512];		/* the start of stderr, for the message */
	size_t errlen;
};

static int
exec_open(struct sshc *s, const char *command, ssh_channel *out, struct sshc_error *e)
{
	ssh_channel ch = ssh_channel_new(s->ss);

	*out = NULL;
	if (ch == NULL)
		return sshc_err_set(e, SSHC_E_CHANNEL, "cannot create a channel: %s",
				    ssh_get_error(s->ss));
	if (ssh_channel_open_session(ch) != SSH_OK) {
		sshc_err_set(e, SSHC_E_CHANNEL, "%s refused to open a session channel: %s",
			     s->host_port, ssh_get_error(s->ss));
		ssh_channel_free(ch);
		return sshc_code_errno(SSHC_E_CHANNEL);
	}
	if (ssh_channel_request_exec(ch, command) != SSH_OK) {
		sshc_err_set(e, SSHC_E_CHANNEL, "%s refused to run a command: %s", s->host_port,
			     ssh_get_error(s->ss));
		sshc_hint_set(e, "the account may be restricted (ForceCommand, a restricted shell)");
		ssh_channel_close(ch);
		ssh_channel_free(ch);
		return sshc_code_errno(SSHC_E_CHANNEL);
	}
	*out = ch;
	return 0;
}

static void
exec_keep(struct exec_out *o, const char *data, size_t n, bool is_err)
{
	size_t room;

	if (is_err) {
		room = sizeof(o->err) - 1 - o->errlen;
		n = n < room ? n : room;
		memcpy(o->err + o->errlen, data, n);
		o->errlen += n;
		o->err[o->errlen] = '\0';
		return;
	}
	room = SSHC_EXEC_OUT_MAX - o->len;
	if (n > room) {
		o->truncated = true;
		n = room;
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
}

/* Drains stdout and stderr until EOF or the deadline. stderr is read
 * too, so a chatty command cannot stall on a full channel window. */
static int
exec_drain(ssh_channel ch, struct exec_out *o, long deadline)
{
	char buf[16384];
	int n;

	for (;;) {
		long left = deadline - util_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, left < 100 ? (int)left : 100);
		if (n < 0 && n != SSH_AGAIN)
			return -EIO;
		if (n > 0)
			exec_keep(o, buf, (size_t)n, false);
		while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 1)) > 0)
			exec_keep(o, buf, (size_t)n, true);
		if (ssh_channel_is_eof(ch) && ssh_channel_poll(ch, 0) <= 0 &&
		    ssh_channel_poll(ch, 1) <= 0)
			return 0;
		if (ssh_channel_is_closed(ch))
			return 0;
	}
}

static int
exec_feed(ssh_channel ch, const char *input)
{
	size_t len = input ? strlen(input) : 0, off = 0;

	while (off < len) {
		int n = ssh_channel_write(ch, input + off, (uint32_t)(len - off));
		if (n < 0)
			return -EIO;
		off += (size_t)n;
	}
	return ssh_channel_send_eof(ch) == SSH_OK ? 0 : -EIO;
}

static int
exec_result(struct sshc *s, const char *command, int rc, struct exec_out *o,
	    struct sshc_error *e)
{
	sshc_printable_copy(e->detail, sizeof(e->detail), o->err, o->errlen);
	if (rc == -ETIMEDOUT) {
		sshc_err_set(e, SSHC_E_IO, "the command '%.80s' on %s did not finish within %ld s",
			     command, s->host_port, s->timeout);
		return rc;
	}
	if (rc < 0)
		return sshc_err_set(e, SSHC_E_IO, "running '%.80s' on %s failed: %s", command,
				    s->host_port, ssh_get_error(s->ss));
	if (o->truncated)
		log_debug("output of '%s' cut at %d bytes", command, SSHC_EXEC_OUT_MAX);
	return 0;
}

int
sshc_exec(struct sshc *s, const char *command, const char *input, char **out, int *status,
	  struct sshc_error *e)
{
	struct exec_out o;
	ssh_channel ch;
	int rc;

	sshc_err_clear(e);
	*out = NULL;
	*status = -1;
	memset(&o, 0, sizeof(o));
	o.buf = malloc(SSHC_EXEC_OUT_MAX + 1);
	if (o.buf == NULL)
		return sshc_err_set(e, SSHC_E_IO, "out of memory");
	rc = exec_open(s, command, &ch, e);
	if (rc < 0) {
		free(o.buf);
		return rc;
	}
	rc = exec_feed(ch, input);
	if (rc == 0)
		rc = exec_drain(ch, &o, util_now_ms() + s->timeout * 1000L);
	if (rc == 0)
		*status = ssh_channel_get_exit_status(ch);
	rc = exec_result(s, command, rc, &o, e);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	o.buf[o.len] = '\0';
	if (rc < 0)
		free(o.buf);
	else
		*out = o.buf;
	return rc;
}

/* Where one channel is on its way to running the SFTP server. */
enum chan_stage { STAGE_OPEN, STAGE_REQUEST, STAGE_READY, STAGE_REFUSED_OPEN,
		  STAGE_REFUSED_REQUEST };

/* One nonblocking step; leaves *st where the channel got to. */
static void
chan_step(ssh_channel ch, const char *server_cmd, enum chan_stage *st)
{
	int rc;

	if (*st == STAGE_OPEN) {
		rc = ssh_channel_open_session(ch);
		if (rc == SSH_AGAIN)
			return;
		*st = rc == SSH_OK ? STAGE_REQUEST : STAGE_REFUSED_OPEN;
	}
	if (*st == STAGE_REQUEST) {
		rc = server_cmd ? ssh_channel_request_exec(ch, server_cmd)
				: ssh_channel_request_subsystem(ch, "sftp");
		if (rc == SSH_AGAIN)
			return;
		*st = rc == SSH_OK ? STAGE_READY : STAGE_REFUSED_REQUEST;
	}
}

/* Drives every channel until each is ready or refused, or the deadline. */
static void
chans_progress(struct sshc *s, const char *server_cmd, int n, ssh_channel *ch,
	       enum chan_stage *st)
{
	long deadline = util_now_ms() + s->timeout * 1000L;
	struct pollfd p;
	int pending;

	for (;;) {
		pending = 0;
		for (int i = 0; i < n; i++) {
			chan_step(ch[i], server_cmd, &st[i]);
			pending += st[i] < STAGE_READY;
		}
		if (pending == 0 || util_now_ms() >= deadline)
			return;
		p.fd = ssh_get_fd(s->ss);
		/* sshd sends its post-login messages (hostkeys-00, DEBUG) just
		 * before the open confirmations and, with Nagle on, holds the
		 * confirmations until those are acknowledged: without this the
		 * set-up waits for our delayed ACK (40 ms at loopback). */
		(void)util_tcp_ack_now(p.fd);
		p.events = POLLIN;
		if (ssh_get_poll_flags(s->ss) & SSH_WRITE_PENDING)
			p.events |= POLLOUT;
		p.revents = 0;
		(void)poll(&p, 1, 50);
	}
}

static int
chans_refused(struct sshc *s, const char *server_cmd, enum chan_stage st,
	      struct sshc_error *e)
{
	if (st == STAGE_REFUSED_OPEN || st == STAGE_OPEN) {
		sshc_err_set(e, SSHC_E_CHANNEL, "%s refused to open a session channel: %s",
			     s->host_port, ssh_get_error(s->ss));
	} else if (server_cmd != NULL) {
		sshc_err_set(e, SSHC_E_CHANNEL, "%s refused to run a command: %s", s->host_port,
			     ssh_get_error(s->ss));
		sshc_hint_set(e, "the account may be restricted (ForceCommand, a restricted shell)");
	} else {
		sshc_err_set(e, SSHC_E_CHANNEL, "%s refused the sftp subsystem: %s", s->host_port,
			     ssh_get_error(s->ss));
		sshc_hint_set(e, "the server needs \"Subsystem sftp ...\" in sshd_config; or name the "
			      "server program with -o sftp_server=/usr/lib/openssh/sftp-server");
	}
	return sshc_code_errno(SSHC_E_CHANNEL);
}

int
sshc_open_sftp_channels(struct sshc *s, const char *server_cmd, int n, ssh_channel *out,
			struct sshc_error *e)
{
	enum chan_stage st[SSHC_MAX_SFTP_CHANNELS];
	ssh_channel ch[SSHC_MAX_SFTP_CHANNELS];
	enum chan_stage worst = STAGE_READY;
	int got = 0;

	sshc_err_clear(e);
	if (n < 1 || n > SSHC_MAX_SFTP_CHANNELS)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		st[i] = STAGE_OPEN;
		ch[i] = ssh_channel_new(s->ss);
		if (ch[i] == NULL) {
			n = i;
			break;
		}
	}
	/* All opens and requests in flight at once: a channel costs the same
	 * two round trips whether one or eight are asked for. */
	ssh_set_blocking(s->ss, 0);
	chans_progress(s, server_cmd, n, ch, st);
	ssh_set_blocking(s->ss, 1);
	for (int i = 0; i < n; i++) {
		if (st[i] == STAGE_READY) {
			out[got++] = ch[i];
			continue;
		}
		worst = st[i];
		ssh_channel_close(ch[i]);
		ssh_channel_free(ch[i]);
	}
	if (got > 0)
		return got;
	if (n == 0)
		return sshc_err_set(e, SSHC_E_CHANNEL, "cannot create a channel: %s",
				    ssh_get_error(s->ss));
	return chans_refused(s, server_cmd, worst, e);
}

int
sshc_open_sftp_channel(struct sshc *s, const char *server_cmd, ssh_channel *out,
		       struct sshc_error *e)
{
	int rc = sshc_open_sftp_channels(s, server_cmd, 1, out, e);

	if (rc < 0)
		*out = NULL;
	return rc < 0 ? rc : 0;
}
