/* fxc.c: the public side of the SFTP client engine: setup (INIT/VERSION,
 * extensions, limits), submission from any thread, the blocking wrapper,
 * and teardown. The I/O thread lives in fxc_io.c, the transports in
 * fxc_xport.c; fxc_int.h describes the request life cycle.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fxc_int.h"
#include "log.h"
#include "sshc.h"
#include "util.h"

#define FXC_DEF_TIMEOUT_MS 30000u
#define FXC_DEF_KEEPALIVE_MS 15000u
#define FXC_DEF_KEEPALIVE_MAX 3u
#define FXC_DEF_INFLIGHT (8u * 1024 * 1024)
/* DATA header: length, type, id, string length. */
#define FXC_DATA_OVERHEAD 13u

/* PROTOCOL §4: an extension is used only when name and version match. */
static const struct {
	const char *name, *version;
	unsigned bit;
} fxc_ext_tab[] = {
	{ "posix-rename@openssh.com", "1", FXC_EXT_POSIX_RENAME },
	{ "statvfs@openssh.com", "2", FXC_EXT_STATVFS },
	{ "fstatvfs@openssh.com", "2", FXC_EXT_FSTATVFS },
	{ "hardlink@openssh.com", "1", FXC_EXT_HARDLINK },
	{ "fsync@openssh.com", "1", FXC_EXT_FSYNC },
	{ "lsetstat@openssh.com", "1", FXC_EXT_LSETSTAT },
	{ "limits@openssh.com", "1", FXC_EXT_LIMITS },
	{ "expand-path@openssh.com", "1", FXC_EXT_EXPAND_PATH },
	{ "home-directory", "1", FXC_EXT_HOME_DIR },
	{ "copy-data", "1", FXC_EXT_COPY_DATA },
	{ "users-groups-by-id@openssh.com", "1", FXC_EXT_USERS_GROUPS },
};

/* ---- setup ---- */

static void
ext_cb(const char *name, size_t nlen, const char *data, size_t dlen, void *arg)
{
	struct fxc_chan *ch = arg;
	size_t i;

	for (i = 0; i < sizeof(fxc_ext_tab) / sizeof(fxc_ext_tab[0]); i++) {
		const char *n = fxc_ext_tab[i].name, *v = fxc_ext_tab[i].version;

		if (strlen(n) == nlen && memcmp(n, name, nlen) == 0 &&
		    strlen(v) == dlen && memcmp(v, data, dlen) == 0)
			ch->ext |= fxc_ext_tab[i].bit;
	}
}

/* Quotes the start of what arrived, so the user sees the banner or MOTD
 * that a chatty login shell printed. */
static void
quote_rx(const struct fxc_chan *ch, char *q, size_t qlen)
{
	size_t i, o = 0;

	for (i = 0; i < ch->rx_len && i < 48 && o + 5 < qlen; i++) {
		uint8_t b = ch->rx[i];

		if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\')
			q[o++] = (char)b;
		else
			o += (size_t)snprintf(q + o, qlen - o, "\\x%02x", b);
	}
	q[o < qlen ? o : qlen - 1] = '\0';
}

static int
not_sftp(const struct fxc_chan *ch, const char *what, char *err, size_t errlen)
{
	char q[256];

	quote_rx(ch, q, sizeof(q));
	snprintf(err, errlen,
		 "channel %d: %s instead of the SFTP version packet "
		 "(received \"%s\"); the remote shell may be printing text "
		 "for non-interactive sessions: make sure its startup files "
		 "(~/.bashrc, ~/.profile) print nothing unless interactive",
		 ch->idx, what, q);
	return -EPROTO;
}

/* Removes the first 'n' bytes of the rx buffer (a consumed packet). */
static void
rx_consume(struct fxc_chan *ch, size_t n)
{
	memmove(ch->rx, ch->rx + n, ch->rx_len - n);
	ch->rx_len -= n;
}

/* Blocks until one whole packet is at the start of ch->rx. */
static int
recv_packet(struct fxc *c, struct fxc_chan *ch, uint64_t deadline,
	    struct fxp_reply *r, size_t *plen, bool first, char *err, size_t errlen)
{
	long n;
	int rc;

	while ((n = fxp_frame(ch->rx, ch->rx_len)) == 0) {
		rc = fxc_xp_recv(c, ch, deadline, err, errlen);
		if (rc == 0 && first && ch->rx_len > 0)
			return not_sftp(ch, "the channel closed", err, errlen);
		if (rc == 0) {
			snprintf(err, errlen, "channel %d: the SFTP server closed "
				 "the connection during setup (is the sftp "
				 "subsystem or the server command right?)", ch->idx);
			return -EIO;
		}
		if (rc < 0)
			return rc;
	}
	if (n < 0 && first)
		return not_sftp(ch, "garbage arrived", err, errlen);
	if (n < 0 || fxp_parse(ch->rx, (size_t)n, r) < 0) {
		snprintf(err, errlen, "channel %d: malformed packet from the "
			 "SFTP server during setup", ch->idx);
		return -EPROTO;
	}
	*plen = (size_t)n;
	return 0;
}

static int
read_version(struct fxc *c, struct fxc_chan *ch, uint64_t deadline,
	     char *err, size_t errlen)
{
	struct fxp_reply r;
	uint32_t version = 0;
	size_t plen;
	int rc;

	rc = recv_packet(c, ch, deadline, &r, &plen, true, err, errlen);
	if (rc < 0)
		return rc;
	if (r.type != FXP_VERSION)
		return not_sftp(ch, "a packet of another type arrived", err, errlen);
	rc = fxp_dec_version(&r, &version, ext_cb, ch);
	if (rc < 0) {
		snprintf(err, errlen, "channel %d: malformed SFTP version packet",
			 ch->idx);
		return -EPROTO;
	}
	if (version != 3) {
		snprintf(err, errlen, "channel %d: the server speaks SFTP version "
			 "%u; sshmountfs needs version 3", ch->idx, version);
		return -EPROTONOSUPPORT;
	}
	rx_consume(ch, plen);
	return 0;
}

/* Sends INIT on every channel, and on channel 0 the limits@openssh.com
 * request right behind it (id 1, before any id the I/O thread hands out):
 * the server answers INIT first, so the limits come one round trip
 * earlier than if they were asked after VERSION. A server without the
 * extension answers it with a STATUS, which is read and dropped. */
static int
send_init(struct fxc *c, uint64_t deadline, char *err, size_t errlen)
{
	struct wire_buf b;
	int i, rc;

	wire_buf_init(&b, 64);
	rc = fxp_enc_init(&b);
	for (i = 0; rc == 0 && i < c->nch; i++)
		rc = fxc_xp_send(c, &c->chan[i], b.p, b.len, deadline, err, errlen);
	wire_buf_free(&b);
	wire_buf_init(&b, 0);
	if (rc == 0)
		rc = fxp_enc_ext_begin(&b, "limits@openssh.com");
	if (rc == 0)
		rc = fxp_end(&b);
	if (rc == 0) {
		fxp_set_id(&b, 1);
		rc = fxc_xp_send(c, &c->chan[0], b.p, b.len, deadline, err, errlen);
	}
	wire_buf_free(&b);
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "cannot encode INIT");
	return rc;
}

/* Collects the VERSIONs; the extensions used are those every channel has. */
static int
handshake(struct fxc *c, uint64_t deadline, char *err, size_t errlen)
{
	int i, rc;

	rc = send_init(c, deadline, err, errlen);
	c->ext = ~0u;
	for (i = 0; rc == 0 && i < c->nch; i++) {
		rc = read_version(c, &c->chan[i], deadline, err, errlen);
		c->ext &= c->chan[i].ext;
	}
	if (rc < 0)
		c->ext = 0;
	return rc;
}

static uint32_t
io_size(bool have, uint64_t server, uint64_t server_pkt, uint32_t cap)
{
	uint64_t v = have ? FXP_MAX_OUT_PACKET - 1024 : FXP_DEFAULT_IO_SIZE;

	if (have && server != 0 && server < v)
		v = server;
	if (have && server_pkt > 1024 && server_pkt - 1024 < v)
		v = server_pkt - 1024;
	if (cap != 0 && cap < v)
		v = cap;
	return (uint32_t)v;
}

/* The answer to send_init()'s limits request on channel 0. A server that
 * announces the extension but refuses it gets the 32 KiB default. */
static int
recv_limits(struct fxc *c, uint64_t deadline, struct fxp_limits *l,
	    char *err, size_t errlen)
{
	struct fxc_chan *ch = &c->chan[0];
	struct fxp_reply r;
	size_t plen;
	int rc;

	rc = recv_packet(c, ch, deadline, &r, &plen, false, err, errlen);
	if (rc < 0)
		return rc;
	if (r.id != 1) {
		snprintf(err, errlen, "reply to limits@openssh.com has id %u", r.id);
		return -EPROTO;
	}
	if ((c->ext & FXC_EXT_LIMITS) && fxp_dec_limits(&r, l) < 0) {
		log_warn("the server announced limits@openssh.com but did not "
			 "answer it; using %u-byte requests", FXP_DEFAULT_IO_SIZE);
		c->ext &= ~(unsigned)FXC_EXT_LIMITS;
	}
	rx_consume(ch, plen);
	return 0;
}

static int
setup_limits(struct fxc *c, uint64_t deadline, char *err, size_t errlen)
{
	struct fxp_limits l;
	bool have;
	int rc;

	memset(&l, 0, sizeof(l));
	rc = recv_limits(c, deadline, &l, err, errlen);
	if (rc < 0)
		return rc;
	have = (c->ext & FXC_EXT_LIMITS) != 0;
	c->max_read = io_size(have, l.max_read, l.max_packet, c->cfg.max_read);
	c->max_write = io_size(have, l.max_write, l.max_packet, c->cfg.max_write);
	log_debug("fxc: %d channel(s), extensions 0x%x, read %u, write %u",
		  c->nch, c->ext, c->max_read, c->max_write);
	return 0;
}

static void
config_defaults(struct fxc_config *d, const struct fxc_config *cfg)
{
	memset(d, 0, sizeof(*d));
	if (cfg != NULL)
		*d = *cfg;
	if (d->request_timeout_ms == 0)
		d->request_timeout_ms = FXC_DEF_TIMEOUT_MS;
	if (d->keepalive_ms == 0)
		d->keepalive_ms = FXC_DEF_KEEPALIVE_MS;
	if (d->keepalive_count_max == 0)
		d->keepalive_count_max = FXC_DEF_KEEPALIVE_MAX;
	if (d->inflight_bytes == 0)
		d->inflight_bytes = FXC_DEF_INFLIGHT;
}

/* Writes to a pipe whose reader died raise SIGPIPE, and MSG_NOSIGNAL does
 * not exist for pipes: a daemon must not die of it. Only the default
 * action is replaced, never a handler the program installed. */
static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

void
fxc_destroy(struct fxc *c)
{
	int i;

	if (c->sess != NULL)
		ssh_set_counters(c->sess, NULL, NULL);
	fxc_xp_close(&c->xp);
	for (i = 0; i < FXC_MAX_CHANNELS; i++)
		free(c->chan[i].rx);
	free(c->tbl.slot);
	if (c->efd >= 0)
		close(c->efd);
	if (c->tfd >= 0)
		close(c->tfd);
	fxc_xp_close(&c->old_xp);
	/* a new link the I/O thread did not take before it stopped */
	if (c->swap_in != NULL)
		fxc_destroy(c->swap_in);
	pthread_cond_destroy(&c->rcond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int
chan_init(struct fxc *c, int i)
{
	struct fxc_chan *ch = &c->chan[i];

	ch->idx = i;
	ch->ch = c->xp.ch[i];
	ch->rx_cap = ch->ch != NULL ? FXC_SSH_RXCAP : FXC_FD_RXCAP;
	ch->rx = malloc(ch->rx_cap);
	TAILQ_INIT(&ch->waitq);
	TAILQ_INIT(&ch->txq);
	if (ch->ch != NULL)
		fxc_xp_set_stderr_cb(ch);
	return ch->rx != NULL ? 0 : -ENOMEM;
}

/* Allocates c and takes t's contents; t itself is freed. */
static int
fxc_new(struct fxc_transport *t, const struct fxc_config *cfg, struct fxc **out)
{
	struct fxc *c = calloc(1, sizeof(*c));
	int i, rc = 0;

	*out = NULL;
	if (c == NULL) {
		fxc_xp_close(t);
		free(t);
		return -ENOMEM;
	}
	c->xp = *t;
	free(t);
	c->efd = c->tfd = c->ack_fd = -1;
	c->old_xp.rfd = c->old_xp.wfd = -1;
	pthread_mutex_init(&c->lock, NULL);
	{
		pthread_condattr_t ca;

		/* rec_sleep() waits on CLOCK_MONOTONIC deadlines */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->rcond, &ca);
		pthread_condattr_destroy(&ca);
	}
	c->sq_tail = &c->sq_head;
	TAILQ_INIT(&c->dl);
	TAILQ_INIT(&c->held);
	TAILQ_INIT(&c->aborted);
	c->gen = 1;
	c->link = FXC_LINK_UP;
	c->link_since = (int64_t)time(NULL);
	config_defaults(&c->cfg, cfg);
	c->sess = c->xp.conn != NULL ? sshc_session(c->xp.conn) : NULL;
	c->nch = c->xnch = c->xp.nch;
	for (i = 0; rc == 0 && i < c->nch; i++)
		rc = chan_init(c, i);
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rc == 0 && (c->efd < 0 || c->tfd < 0))
		rc = -errno;
	if (rc < 0) {
		fxc_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- reconnection: the reconnect thread ---- */

#define REC_FIRST_DELAY_MS 500u
#define REC_MAX_DELAY_MS 10000u
#define FXC_DEF_MAX_LOGINS 3u
/* How long fxc_free() waits for a redial in progress (fxc.h). */
#define REC_FREE_WAIT_MS 2000u

static void wake(struct fxc *c);

/* fxc_free() or fxc_stop_waiting(): no (more) redials. */
static bool
stopping(const struct fxc *c)
{
	return __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&c->quit, __ATOMIC_ACQUIRE);
}

/* INIT/VERSION/limits on a new transport, on a scratch fxc that the I/O
 * thread later takes the link from. The new server must offer what the
 * running mount already relies on (extensions, read and write sizes, which
 * other threads read without a lock and which never change): *permanent
 * says when it does not. */
static int
rec_prepare(struct fxc *c, struct fxc_transport *t, struct fxc **out, bool *permanent,
	    char *err, size_t errlen)
{
	struct fxc *n;
	uint64_t deadline;
	int rc;

	*out = NULL;
	rc = fxc_new(t, &c->cfg, &n);
	if (rc < 0) {
		snprintf(err, errlen, "fxc: %s", strerror(-rc));
		return rc;
	}
	deadline = fxc_now_us() + (uint64_t)c->cfg.request_timeout_ms * 1000;
	rc = handshake(n, deadline, err, errlen);
	if (rc == 0)
		rc = setup_limits(n, deadline, err, errlen);
	if (rc == 0 && ((n->ext & c->ext) != c->ext || n->max_read < c->max_read ||
			n->max_write < c->max_write)) {
		snprintf(err, errlen, "the new SFTP server offers less than the one "
			 "mounted (extensions 0x%x of 0x%x, read %u of %u, write %u of %u)",
			 n->ext & c->ext, c->ext, n->max_read, c->max_read, n->max_write,
			 c->max_write);
		*permanent = true;
		rc = -EPROTO;
	}
	if (rc == -EPROTONOSUPPORT)
		*permanent = true;
	if (rc < 0) {
		fxc_destroy(n);
		return rc;
	}
	*out = n;
	return 0;
}

static void
set_error(struct fxc *c, const char *msg)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s", msg);
}

/* Sleeps ms (0: not at all) unless stopped; with c->lock held. */
static void
rec_sleep(struct fxc *c, unsigned ms)
{
	struct timespec ts;

	if (ms == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!stopping(c) &&
	       pthread_cond_timedwait(&c->rcond, &c->lock, &ts) != ETIMEDOUT) {
	}
}

/* One outage: redial until a link is handed to the I/O thread, reconnection
 * stops for good, or fxc_free(). Called and returns with c->lock held;
 * never holds it while dialling. */
static void
rec_outage(struct fxc *c)
{
	unsigned delay = 0, refused = 0, max_logins = c->cfg.reconnect_max_logins;
	char err[256];

	if (max_logins == 0)
		max_logins = FXC_DEF_MAX_LOGINS;
	for (;;) {
		struct fxc_transport *t = NULL, old = c->old_xp;
		struct fxc *n = NULL;
		bool permanent = false;
		int rc;

		rec_sleep(c, delay);
		if (stopping(c))
			return;
		memset(&c->old_xp, 0, sizeof(c->old_xp));
		c->old_xp.rfd = c->old_xp.wfd = -1;
		pthread_mutex_unlock(&c->lock);
		/* The dead link is closed here: sshc_free() or reaping a
		 * child may block, which the I/O thread must not. */
		fxc_xp_close(&old);
		err[0] = '\0';
		/* closing may have taken a while: fxc_free() must not find a
		 * redial that starts after it stopped waiting */
		rc = stopping(c) ? -ECANCELED : c->cfg.redial(c->cfg.redial_arg, &t, err, sizeof(err));
		if (rc == 0 && stopping(c)) {
			fxc_xp_close(t);
			free(t);
			rc = -ECANCELED;
		} else if (rc == 0) {
			rc = rec_prepare(c, t, &n, &permanent, err, sizeof(err));
		}
		pthread_mutex_lock(&c->lock);
		if (rc == 0 && !stopping(c)) {
			c->swap_in = n;
			c->want_redial = false;
			wake(c);
			return;
		}
		if (n != NULL) {
			pthread_mutex_unlock(&c->lock);
			fxc_destroy(n);
			pthread_mutex_lock(&c->lock);
		}
		if (stopping(c))
			return;
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "%s", strerror(-rc));
		set_error(c, err);
		refused = rc == -EACCES ? refused + 1 : 0;
		if (rc == -EKEYREJECTED || permanent || refused >= max_logins) {
			log_error("SFTP connection lost for good: %s%s", err,
				  refused >= max_logins ? " (stopped after refused logins, "
				  "to avoid a lockout)" : "");
			c->give_up = true;
			c->want_redial = false;
			__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
			wake(c);
			return;
		}
		log_debug("fxc: reconnection attempt failed: %s", err);
		delay = delay == 0 ? REC_FIRST_DELAY_MS : delay * 2;
		if (delay > REC_MAX_DELAY_MS)
			delay = REC_MAX_DELAY_MS;
	}
}

static void *
rec_main(void *arg)
{
	struct fxc *c = arg;
	bool orphan;

	pthread_mutex_lock(&c->lock);
	while (!stopping(c)) {
		if (c->want_redial)
			rec_outage(c);
		else
			pthread_cond_wait(&c->rcond, &c->lock);
	}
	c->rec_done = true;
	orphan = c->orphan;
	pthread_mutex_unlock(&c->lock);
	/* fxc_free() gave up waiting for a blocked redial: c is ours. */
	if (orphan)
		fxc_destroy(c);
	return NULL;
}

/* Stops the reconnect thread; false when it is still blocked in a redial
 * after REC_FREE_WAIT_MS, in which case it frees c itself when that ends. */
static bool
rec_stop(struct fxc *c)
{
	struct timespec ts;

	if (!c->rthread_started)
		return true;
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->rcond);
	pthread_mutex_unlock(&c->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += REC_FREE_WAIT_MS / 1000;
	if (pthread_timedjoin_np(c->rthread, NULL, &ts) == 0)
		return true;
	pthread_mutex_lock(&c->lock);
	if (c->rec_done) {
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->rthread, NULL);
		return true;
	}
	c->orphan = true;
	pthread_mutex_unlock(&c->lock);
	pthread_detach(c->rthread);
	log_warn("fxc: a reconnection attempt is still under way; it is abandoned");
	return false;
}

static int
start_thread(struct fxc *c, char *err, size_t errlen)
{
	int rc;

	fxc_link_prepare(c);
	rc = fxc_timer_arm(c, false);
	if (rc == 0 && c->cfg.redial != NULL) {
		rc = -pthread_create(&c->rthread, NULL, rec_main, c);
		c->rthread_started = rc == 0;
	}
	if (rc == 0)
		rc = -pthread_create(&c->thread, NULL, fxc_io_main, c);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start the I/O thread: %s", strerror(-rc));
		return rc;
	}
	c->thread_started = true;
	return 0;
}

int
fxc_start(struct fxc_transport *t, const struct fxc_config *cfg,
	  struct fxc **out, char *err, size_t errlen)
{
	struct fxc *c;
	uint64_t deadline;
	int rc;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (t == NULL || t->nch < 1)
		return -EINVAL;
	rc = fxc_new(t, cfg, &c);
	if (rc < 0) {
		snprintf(err, errlen, "fxc: %s", strerror(-rc));
		return rc;
	}
	ignore_sigpipe();
	deadline = fxc_now_us() + (uint64_t)c->cfg.request_timeout_ms * 1000;
	rc = handshake(c, deadline, err, errlen);
	if (rc == 0)
		rc = setup_limits(c, deadline, err, errlen);
	if (rc == 0)
		rc = start_thread(c, err, errlen);
	if (rc < 0) {
		rec_stop(c);
		fxc_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

static void
wake(struct fxc *c)
{
	uint64_t one = 1;

	if (write(c->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already huge, the thread will wake. */
	}
}

void
fxc_free(struct fxc *c)
{
	if (c == NULL)
		return;
	if (c->thread_started) {
		__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
		wake(c);
		pthread_join(c->thread, NULL);
	}
	if (rec_stop(c))
		fxc_destroy(c);
}

void
fxc_stop_waiting(struct fxc *c)
{
	if (c == NULL || c->cfg.redial == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->quit, true, __ATOMIC_RELEASE);
	/* Down now: the I/O thread fails what waits (down_turn). Up: the
	 * next loss does it (link_lost). */
	if (c->link != FXC_LINK_UP && !c->give_up) {
		c->give_up = true;
		c->want_redial = false;
		__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
		snprintf(c->last_error, sizeof(c->last_error), "%s",
			 "the mount is ending: no more reconnection");
	}
	pthread_cond_broadcast(&c->rcond);
	pthread_mutex_unlock(&c->lock);
	wake(c);
}

/* With redial the link is lost, not the connection: handle-bound requests
 * get -ENOTCONN from here on, the rest wait (fxc.h). */
void
fxc_kill(struct fxc *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->cfg.redial == NULL) {
		__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
	} else if (c->link == FXC_LINK_UP) {
		c->link = FXC_LINK_RECONNECTING;
		c->link_since = (int64_t)time(NULL);
	}
	pthread_mutex_unlock(&c->lock);
	__atomic_store_n(&c->kill, true, __ATOMIC_RELEASE);
	wake(c);
}

/* ---- what the server offers ---- */

unsigned
fxc_extensions(const struct fxc *c)
{
	return c->ext;
}

bool
fxc_has(const struct fxc *c, enum fxc_ext e)
{
	return (c->ext & (unsigned)e) == (unsigned)e;
}

uint32_t
fxc_max_read(const struct fxc *c)
{
	return c->max_read;
}

uint32_t
fxc_max_write(const struct fxc *c)
{
	return c->max_write;
}

int
fxc_nchannels(const struct fxc *c)
{
	return c->nch;
}

int
fxc_least_loaded(struct fxc *c)
{
	uint64_t best = UINT64_MAX;
	int i, pick = 0;

	for (i = 0; i < c->nch; i++) {
		uint64_t l = __atomic_load_n(&c->chan[i].load_pub, __ATOMIC_RELAXED);

		if (l < best) {
			best = l;
			pick = i;
		}
	}
	return pick;
}

bool
fxc_alive(const struct fxc *c)
{
	return !__atomic_load_n(&c->dead, __ATOMIC_ACQUIRE);
}

/* ---- requests ---- */

static int
check_packet(const struct fxc *c, int chan, const struct wire_buf *pkt)
{
	if (chan < -1 || chan >= c->nch || pkt == NULL || pkt->p == NULL)
		return -EINVAL;
	if (pkt->len < 9 || pkt->len > FXP_MAX_OUT_PACKET ||
	    wire_peek_u32(pkt->p) != pkt->len - 4)
		return -EINVAL;
	if (pkt->p[4] == FXP_INIT || pkt->p[4] == FXP_VERSION)
		return -EINVAL;
	return 0;
}

/* What the reply may take of the channel's budget: a READ its length. */
static uint32_t
reply_cost(const struct wire_buf *pkt)
{
	uint8_t type = pkt->p[4];

	if (type == FXP_READ && pkt->len >= 25) {
		uint32_t len = wire_peek_u32(pkt->p + pkt->len - 4);

		if (len > FXP_MAX_PACKET)
			len = FXP_MAX_PACKET;
		return len + FXC_DATA_OVERHEAD;
	}
	return type == FXP_READDIR ? FXC_COST_READDIR : FXC_COST_SMALL;
}

static bool
on_io_thread(const struct fxc *c)
{
	return __atomic_load_n(&c->io_self, __ATOMIC_ACQUIRE) ==
	       (unsigned long)pthread_self();
}

/* The deadline is taken under the lock so that the submit queue, and
 * therefore c->dl, stays sorted by deadline. */
static int
enqueue(struct fxc *c, struct fxc_req *r)
{
	bool was_empty;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->dead)
		rc = -EIO;	/* for good: handles or not */
	/* A handle means nothing to another server process. */
	else if (r->gen != 0 && (r->gen != c->gen || c->link != FXC_LINK_UP))
		rc = -ENOTCONN;
	else if (c->link == FXC_LINK_DOWN)
		rc = -EIO;
	if (rc < 0) {
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	r->deadline = fxc_now_us() + (uint64_t)c->cfg.request_timeout_ms * 1000;
	was_empty = c->sq_head == NULL;
	*c->sq_tail = r;
	c->sq_tail = &r->snext;
	/* counted before the I/O thread can complete it */
	__atomic_add_fetch(&c->st_requests, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->st_live, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->lock);
	/* One eventfd write per batch: the I/O thread takes the whole queue,
	 * and it checks the queue itself before sleeping. */
	if (was_empty && !on_io_thread(c))
		wake(c);
	return 0;
}

int
fxc_submit(struct fxc *c, int chan, struct wire_buf *pkt,
	   fxc_done_fn *done, void *arg)
{
	return fxc_submit_on(c, chan, 0, 0, pkt, done, arg);
}

int
fxc_submit_on(struct fxc *c, int chan, uint32_t gen, unsigned flags, struct wire_buf *pkt,
	      fxc_done_fn *done, void *arg)
{
	struct fxc_req *r;
	int rc;

	if (c == NULL || done == NULL || (flags & ~FXC_ONCE) != 0)
		return -EINVAL;
	rc = check_packet(c, chan, pkt);
	if (rc < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->pkt = *pkt;
	r->chan = r->want_chan = chan;
	r->gen = gen;
	r->flags = (uint8_t)flags;
	/* Sent again after a reconnect, so its bytes outlive the write. */
	r->keep = gen == 0 && c->cfg.redial != NULL;
	r->type = pkt->p[4];
	r->cost = reply_cost(pkt);
	r->done = done;
	r->arg = arg;
	rc = enqueue(c, r);
	if (rc < 0) {
		free(r);
		return rc;
	}
	pkt->p = NULL;
	pkt->len = pkt->cap = 0;
	return 0;
}

/* ---- blocking calls ---- */

/* A blocking call's wait: one futex word instead of a mutex and a
 * condition variable, whose hand-over cost four futex calls per request
 * (signal, the waiter's wait, and the mutex contended on both sides).
 * States: 0 waiting, 2 the caller sleeps on it, 1 done. The I/O thread
 * wakes only a caller that sleeps. The word may be gone (the caller
 * returned) when FUTEX_WAKE runs: a wake on a dead address is harmless,
 * every futex waiter rechecks its word. */
struct waiter {
	int state;
	struct fxc_result *res;
	struct fxc *c;
};

static void
waiter_wait(struct waiter *w)
{
	int v;

	while ((v = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE)) != 1) {
		if (v == 0 && !__atomic_compare_exchange_n(&w->state, &v, 2, false,
							   __ATOMIC_ACQ_REL,
							   __ATOMIC_ACQUIRE))
			continue;
		syscall(SYS_futex, &w->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
	}
}

static void
waiter_wake(struct waiter *w)
{
	if (__atomic_exchange_n(&w->state, 1, __ATOMIC_ACQ_REL) == 2)
		syscall(SYS_futex, &w->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void
fxc_result_keep(struct fxc_result *res, int err, const struct fxp_reply *reply)
{
	res->err = err;
	if (err != 0)
		return;
	res->buf = malloc(reply->len > 0 ? reply->len : 1);
	if (res->buf == NULL) {
		res->err = -ENOMEM;
		return;
	}
	memcpy(res->buf, reply->body, reply->len);
	res->reply = *reply;
	res->reply.body = res->buf;
}

static void
call_done(void *arg, int err, const struct fxp_reply *reply)
{
	struct waiter *w = arg;

	fxc_result_keep(w->res, err, reply);
	w->res->gen = fxc_generation(w->c);
	waiter_wake(w);
}

int
fxc_call(struct fxc *c, int chan, struct wire_buf *pkt, struct fxc_result *res)
{
	return fxc_call_on(c, chan, 0, 0, pkt, res);
}

int
fxc_call_on(struct fxc *c, int chan, uint32_t gen, unsigned flags, struct wire_buf *pkt,
	    struct fxc_result *res)
{
	struct waiter w;
	int rc;

	memset(res, 0, sizeof(*res));
	if (c != NULL && on_io_thread(c))
		return res->err = -EDEADLK;
	memset(&w, 0, sizeof(w));
	w.res = res;
	w.c = c;
	rc = fxc_submit_on(c, chan, gen, flags, pkt, call_done, &w);
	if (rc == 0) {
		waiter_wait(&w);
		rc = res->err;
	}
	res->err = rc;
	return rc;
}

void
fxc_result_free(struct fxc_result *res)
{
	if (res == NULL)
		return;
	free(res->buf);
	memset(res, 0, sizeof(*res));
}

void
fxc_get_stats(struct fxc *c, struct fxc_stats *st)
{
	st->requests = __atomic_load_n(&c->st_requests, __ATOMIC_RELAXED);
	st->replies = __atomic_load_n(&c->st_replies, __ATOMIC_RELAXED);
	st->bytes_out = __atomic_load_n(&c->st_bytes_out, __ATOMIC_RELAXED);
	st->bytes_in = __atomic_load_n(&c->st_bytes_in, __ATOMIC_RELAXED);
	st->inflight = __atomic_load_n(&c->st_live, __ATOMIC_RELAXED);
	st->rtt_us = __atomic_load_n(&c->rtt_us, __ATOMIC_RELAXED);
	pthread_mutex_lock(&c->lock);
	st->link = c->link;
	st->link_since = c->link_since;
	st->reconnects = c->reconnects;
	st->generation = c->gen;
	snprintf(st->last_error, sizeof(st->last_error), "%s", c->last_error);
	pthread_mutex_unlock(&c->lock);
}

uint32_t
fxc_generation(const struct fxc *c)
{
	return __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
}
