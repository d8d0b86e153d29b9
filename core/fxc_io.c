/* fxc_io.c: the I/O thread of one fxc.
 *
 * It alone touches libssh (the session and its channels) or the transport
 * fds. Each turn of the loop takes the submitted requests, routes them to
 * channels, moves what the in-flight budget allows to the send queues
 * (assigning ids), writes without blocking, drains every channel, frames
 * and matches replies, then sleeps in poll() on the transport, the eventfd
 * (submissions) and the timerfd (deadlines, keepalive).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libssh/server.h>	/* ssh_send_keepalive(), a client call declared there */

#include "fxc_int.h"
#include "log.h"
#include "util.h"

#define TBL_MIN 256u
/* Bounded work per turn so that timers and new submissions get a look-in
 * under a continuous stream of replies. */
#define DRAIN_PASSES 8
/* An SSH pass takes in one slice of the socket (see FXC_SSH_SLICE): as
 * many as 8 passes over 4 channels did before channels were read only
 * when they have data. */
#define DRAIN_PASSES_SSH 32
#define WRITEV_MAX 64
/* libssh 0.10 reads the socket MAX_BUF_SIZE (4 KiB) at a time, one read
 * per poll() it makes. */
#define FXC_SSH_SLICE 4096u

uint64_t
fxc_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
fxc_req_free(struct fxc_req *r)
{
	wire_buf_free(&r->pkt);
	free(r);
}

/* ---- request table ---- */

static int
tbl_grow(struct fxc_tbl *t)
{
	uint32_t n = t->slot != NULL ? (t->mask + 1) * 2 : TBL_MIN;
	struct fxc_req **s;
	uint32_t i;

	if (n == 0)
		return -ENOMEM;
	s = calloc(n, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	/* Ids distinct modulo the old size stay distinct modulo twice it. */
	for (i = 0; t->slot != NULL && i <= t->mask; i++)
		if (t->slot[i] != NULL)
			s[t->slot[i]->id & (n - 1)] = t->slot[i];
	free(t->slot);
	t->slot = s;
	t->mask = n - 1;
	return 0;
}

/* Assigns r the next id whose slot is free; the table stays at most half
 * full, so the search is short. */
static int
tbl_add(struct fxc_tbl *t, struct fxc_req *r)
{
	if (t->slot == NULL || (t->used + 1) * 2 > t->mask + 1) {
		if (tbl_grow(t) < 0 && (t->slot == NULL || t->used > t->mask))
			return -ENOMEM;
	}
	while (t->slot[t->next_id & t->mask] != NULL)
		t->next_id++;
	r->id = t->next_id++;
	t->slot[r->id & t->mask] = r;
	t->used++;
	return 0;
}

static struct fxc_req *
tbl_find(const struct fxc_tbl *t, uint32_t id)
{
	struct fxc_req *r;

	if (t->slot == NULL)
		return NULL;
	r = t->slot[id & t->mask];
	return r != NULL && r->id == id ? r : NULL;
}

static void
tbl_del(struct fxc_tbl *t, struct fxc_req *r)
{
	t->slot[r->id & t->mask] = NULL;
	t->used--;
}

/* ---- completion and death ---- */

static void
complete(struct fxc *c, struct fxc_req *r, int err, const struct fxp_reply *rep)
{
	TAILQ_REMOVE(&c->dl, r, d);
	__atomic_sub_fetch(&c->st_live, 1, __ATOMIC_RELAXED);
	r->done(r->arg, err, rep);
}

/* Takes r out of its channel queue and the table, whatever its state. */
static void
unlink_req(struct fxc *c, struct fxc_req *r)
{
	struct fxc_chan *ch = &c->chan[r->chan];

	if (r->state == FXC_WAITING) {
		TAILQ_REMOVE(&ch->waitq, r, q);
		ch->waiting -= r->cost;
		return;
	}
	if (r->state == FXC_TX) {
		TAILQ_REMOVE(&ch->txq, r, q);
		ch->unsent -= r->pkt.len - r->sent;
	}
	ch->inflight -= r->cost;
	tbl_del(&c->tbl, r);
}

static struct fxc_req *
take_sq(struct fxc *c, bool mark_dead)
{
	struct fxc_req *r;

	pthread_mutex_lock(&c->lock);
	if (mark_dead) {
		__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
		if (c->link != FXC_LINK_FAILED)
			c->link_since = (int64_t)time(NULL);
		c->link = FXC_LINK_FAILED;
	}
	r = c->sq_head;
	c->sq_head = NULL;
	c->sq_tail = &c->sq_head;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Completes a request that is on no list of the I/O thread (the submit
 * queue, held, aborted) and frees it. */
static void
finish(struct fxc *c, struct fxc_req *r, int err)
{
	__atomic_sub_fetch(&c->st_live, 1, __ATOMIC_RELAXED);
	r->done(r->arg, err, NULL);
	fxc_req_free(r);
}

static void
finish_list(struct fxc *c, struct fxc_reqq *q, int err)
{
	struct fxc_req *r;

	while ((r = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, r, q);
		finish(c, r, err);
	}
}

/* What is left in the table are tombstones of expired requests. */
static void
free_tombstones(struct fxc *c)
{
	struct fxc_req *r;
	uint32_t i;

	for (i = 0; c->tbl.slot != NULL && i <= c->tbl.mask; i++) {
		if (c->tbl.slot[i] != NULL) {
			r = c->tbl.slot[i];
			unlink_req(c, r);
			fxc_req_free(r);
		}
	}
}

static void
fail_all(struct fxc *c)
{
	struct fxc_req *r, *next;

	for (r = take_sq(c, true); r != NULL; r = next) {
		next = r->snext;
		finish(c, r, -EIO);
	}
	while ((r = TAILQ_FIRST(&c->dl)) != NULL) {
		unlink_req(c, r);
		complete(c, r, -EIO, NULL);
		fxc_req_free(r);
	}
	free_tombstones(c);
	finish_list(c, &c->held, -EIO);
	finish_list(c, &c->aborted, -EIO);
}

static void
stop_timer(struct fxc *c)
{
	struct itimerspec z;

	memset(&z, 0, sizeof(z));
	timerfd_settime(c->tfd, 0, &z, NULL);
	c->fast_timer = false;
}

static void link_lost(struct fxc *c, const char *why);
static void go_down(struct fxc *c);

/* The link is unusable. Without redial (or when stopping) fail everything
 * now, and every later submit (fxc_submit sees c->dead); with redial the
 * reconnect thread takes over (link_lost). 'fmt' NULL means an orderly
 * stop. Returns -EIO so callers can 'return die(...)'. */
static int __attribute__((format(printf, 2, 3)))
die(struct fxc *c, const char *fmt, ...)
{
	va_list ap;
	char why[512];

	if (c->io_dead || (c->down && fmt != NULL))
		return -EIO;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		if (c->cfg.redial != NULL && !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
			link_lost(c, why);
			return -EIO;
		}
		log_error("SFTP connection lost: %s", why);
	}
	c->io_dead = true;
	fail_all(c);
	stop_timer(c);
	return -EIO;
}

/* ---- routing and the budget ---- */

static uint64_t
chan_load(const struct fxc_chan *ch)
{
	return ch->inflight + ch->waiting + ch->unsent;
}

static struct fxc_chan *
pick_chan(struct fxc *c)
{
	struct fxc_chan *best = &c->chan[0];
	int i;

	for (i = 1; i < c->xnch; i++)
		if (chan_load(&c->chan[i]) < chan_load(best))
			best = &c->chan[i];
	return best;
}

static void
admit(struct fxc *c, struct fxc_req *r)
{
	struct fxc_chan *ch;

	/* A link with fewer channels than the first (fxc.h): a channel that
	 * is gone maps to the same one each time, so a handle's requests
	 * keep going to the server process that opened it. */
	if (r->chan >= c->xnch)
		r->chan %= c->xnch;
	ch = r->chan >= 0 ? &c->chan[r->chan] : pick_chan(c);

	r->chan = ch->idx;
	r->state = FXC_WAITING;
	TAILQ_INSERT_TAIL(&c->dl, r, d);
	TAILQ_INSERT_TAIL(&ch->waitq, r, q);
	ch->waiting += r->cost;
}

static void
take_submissions(struct fxc *c)
{
	struct fxc_req *r, *next;

	for (r = take_sq(c, false); r != NULL; r = next) {
		next = r->snext;
		r->snext = NULL;
		/* submitted just before a reconnect, on the old link's handle */
		if (r->gen != 0 && r->gen != c->gen)
			finish(c, r, -ENOTCONN);
		else
			admit(c, r);
	}
}

static int
tx_push(struct fxc *c, struct fxc_chan *ch, struct fxc_req *r)
{
	if (tbl_add(&c->tbl, r) < 0)
		return -ENOMEM;
	if (c->tbl.used == 1)
		c->busy_since = fxc_now_us();
	fxp_set_id(&r->pkt, r->id);
	r->state = FXC_TX;
	ch->inflight += r->cost;
	ch->unsent += r->pkt.len;
	TAILQ_INSERT_TAIL(&ch->txq, r, q);
	return 0;
}

/* Only the head may go: requests on a channel leave in submission order. */
static void
fill_chan(struct fxc *c, struct fxc_chan *ch)
{
	struct fxc_req *r;

	while ((r = TAILQ_FIRST(&ch->waitq)) != NULL) {
		if (ch->inflight > 0 &&
		    ch->inflight + r->cost > c->cfg.inflight_bytes)
			break;
		TAILQ_REMOVE(&ch->waitq, r, q);
		ch->waiting -= r->cost;
		if (tx_push(c, ch, r) < 0) {
			complete(c, r, -ENOMEM, NULL);
			fxc_req_free(r);
		}
	}
}

static void
fill_all(struct fxc *c)
{
	int i;

	for (i = 0; i < c->xnch; i++)
		fill_chan(c, &c->chan[i]);
}

/* ---- writing ---- */

/* Bytes the transport has taken in so far. */
static uint64_t
rx_total(const struct fxc *c)
{
	return c->sess != NULL ? c->sock_ctr.in_bytes : c->rx_count;
}

static void
wrote(struct fxc *c, struct fxc_chan *ch, struct fxc_req *r, size_t n)
{
	r->sent += n;
	ch->unsent -= n;
	__atomic_add_fetch(&c->st_bytes_out, n, __ATOMIC_RELAXED);
	c->rx_at_tx = rx_total(c);
	if (r->sent < r->pkt.len)
		return;
	TAILQ_REMOVE(&ch->txq, r, q);
	if (!r->keep)
		wire_buf_free(&r->pkt);
	r->state = FXC_SENT;
	if (log_level() >= LOG_LVL_DEBUG)
		r->t_sent = fxc_now_us();
	/* One small request at a time is timed, for the status output. */
	if (c->rtt_t0 == 0 && r->cost == FXC_COST_SMALL) {
		c->rtt_t0 = r->t_sent ? r->t_sent : fxc_now_us();
		c->rtt_id = r->id;
	}
}

static void
rtt_sample(struct fxc *c)
{
	uint64_t us = fxc_now_us() - c->rtt_t0;
	uint64_t old = __atomic_load_n(&c->rtt_us, __ATOMIC_RELAXED);

	c->rtt_t0 = 0;
	if (us == 0)
		us = 1;
	__atomic_store_n(&c->rtt_us, old == 0 ? us : (old * 7 + us) / 8, __ATOMIC_RELAXED);
}

/* ssh_channel_write() takes what the remote window allows (possibly 0, and
 * 0 during a rekey); the rest waits for a WINDOW_ADJUST, which arrives
 * through the drain. With no window at all it would poll the socket for
 * nothing, so it is not called then. */
static int
chan_write_ssh(struct fxc *c, struct fxc_chan *ch)
{
	struct fxc_req *r;

	while ((r = TAILQ_FIRST(&ch->txq)) != NULL) {
		size_t left = r->pkt.len - r->sent;
		int n;

		if (ssh_channel_window_size(ch->ch) == 0)
			break;
		n = ssh_channel_write(ch->ch, r->pkt.p + r->sent, (uint32_t)left);
		if (n < 0)
			return die(c, "channel %d: write: %s", ch->idx,
				   ssh_get_error(c->sess));
		if (n == 0)
			break;
		wrote(c, ch, r, (size_t)n);
		if ((size_t)n < left)
			break;
	}
	return 0;
}

static int
fd_write_once(struct fxc *c, struct fxc_chan *ch, bool *more)
{
	struct iovec iov[WRITEV_MAX];
	struct fxc_req *r;
	size_t total = 0;
	ssize_t w;
	int n = 0;

	*more = false;
	TAILQ_FOREACH(r, &ch->txq, q) {
		if (n == WRITEV_MAX)
			break;
		iov[n].iov_base = r->pkt.p + r->sent;
		iov[n].iov_len = r->pkt.len - r->sent;
		total += iov[n++].iov_len;
	}
	if (n == 0)
		return 0;
	w = writev(c->xp.wfd, iov, n);
	if (w < 0 && errno == EINTR) {
		*more = true;
		return 0;
	}
	if (w < 0 && errno == EAGAIN)
		return 0;
	if (w < 0)
		return die(c, "write to the SFTP server: %s", strerror(errno));
	*more = (size_t)w == total;
	while (w > 0) {
		size_t k;

		r = TAILQ_FIRST(&ch->txq);
		k = r->pkt.len - r->sent;
		if (k > (size_t)w)
			k = (size_t)w;
		wrote(c, ch, r, k);
		w -= (ssize_t)k;
	}
	return 0;
}

static int
xp_write(struct fxc *c)
{
	bool more = true;
	int i;

	if (c->sess == NULL) {
		while (more && !TAILQ_EMPTY(&c->chan[0].txq))
			if (fd_write_once(c, &c->chan[0], &more) < 0)
				return -EIO;
		return 0;
	}
	for (i = 0; i < c->xnch; i++)
		if (chan_write_ssh(c, &c->chan[i]) < 0)
			return -EIO;
	return 0;
}

/* ---- reading ---- */

static void
log_reply(const struct fxc_req *r, const struct fxp_reply *rep)
{
	double ms = r->t_sent ? (double)(fxc_now_us() - r->t_sent) / 1000.0 : 0;

	log_debug("fxc: ch%d id %u %s -> %s %.3f ms", r->chan, r->id,
		  fxp_type_name(r->type), fxp_type_name(rep->type), ms);
}

static int
dispatch(struct fxc *c, struct fxc_chan *ch, const struct fxp_reply *rep,
	 size_t plen)
{
	struct fxc_req *r;

	if (rep->type == FXP_VERSION)
		return die(c, "channel %d: unexpected VERSION packet", ch->idx);
	r = tbl_find(&c->tbl, rep->id);
	if (r == NULL || r->state != FXC_SENT || r->chan != ch->idx)
		return die(c, "channel %d: %s reply with unknown id %u",
			   ch->idx, fxp_type_name(rep->type), rep->id);
	unlink_req(c, r);
	if (c->rtt_t0 != 0 && r->id == c->rtt_id)
		rtt_sample(c);
	__atomic_add_fetch(&c->st_replies, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->st_bytes_in, plen, __ATOMIC_RELAXED);
	if (r->expired) {
		log_debug("fxc: ch%d id %u late %s reply dropped", ch->idx,
			  r->id, fxp_type_name(rep->type));
		fxc_req_free(r);
		return 0;
	}
	if (log_level() >= LOG_LVL_DEBUG)
		log_reply(r, rep);
	complete(c, r, 0, rep);
	fxc_req_free(r);
	return 0;
}

/* Completes every whole packet in ch->rx, keeps the partial tail. */
static int
parse_rx(struct fxc *c, struct fxc_chan *ch)
{
	struct fxp_reply rep;
	size_t off = 0;
	long n;

	while ((n = fxp_frame(ch->rx + off, ch->rx_len - off)) > 0) {
		if (fxp_parse(ch->rx + off, (size_t)n, &rep) < 0)
			return die(c, "channel %d: malformed %ld-byte packet",
				   ch->idx, n);
		if (dispatch(c, ch, &rep, (size_t)n) < 0)
			return -EIO;
		off += (size_t)n;
	}
	if (n < 0)
		return die(c, "channel %d: bad packet length %u", ch->idx,
			   wire_peek_u32(ch->rx + off));
	if (off > 0) {
		memmove(ch->rx, ch->rx + off, ch->rx_len - off);
		ch->rx_len -= off;
	}
	return 0;
}

/* On libssh 0.10 a read whose count exceeds what is buffered plus the
 * local window grows the window to that count (measured on 0.10.6): passing
 * the whole rx room (>= 8 MiB) keeps 8 MiB in flight. libssh would then
 * send a WINDOW_ADJUST on nearly every call, so the big count is passed
 * only once a quarter of the window has been consumed; in between the
 * count stays at what is still granted (the last big count minus what was
 * read since), which grows nothing. */
static uint32_t
read_count(struct fxc_chan *ch, size_t room)
{
	uint64_t granted;

	if (ch->win_count == 0 || ch->win_read >= FXC_SSH_WINDOW / 4 ||
	    ch->win_read >= ch->win_count) {
		ch->win_count = room;
		ch->win_read = 0;
		return (uint32_t)room;
	}
	granted = ch->win_count - ch->win_read;
	return (uint32_t)(granted < room ? granted : room);
}

/* One read of what libssh holds for ch; on an empty channel that is a
 * poll() of the socket, which makes libssh take in what arrived (for any
 * channel: its data callback sets has_data). *asked is the count passed.
 * The bytes taken, 0 for none, or -EIO after die(). 0.10 returns 0 for
 * "nothing yet", 0.11+ SSH_AGAIN; EOF also reads as 0 and is told apart
 * by check_open(). */
static int
chan_read_ssh(struct fxc *c, struct fxc_chan *ch, uint32_t *asked)
{
	size_t room = ch->rx_cap - ch->rx_len;
	int n;

	if (room == 0)
		return die(c, "channel %d: receive buffer full", ch->idx);
	*asked = read_count(ch, room);
	n = ssh_channel_read_timeout(ch->ch, ch->rx + ch->rx_len, *asked, 0, 0);
	if (n == 0 || n == SSH_AGAIN)
		return 0;
	if (n < 0)
		return die(c, "channel %d: read: %s", ch->idx, ssh_get_error(c->sess));
	ch->win_read += (uint64_t)n;
	ch->rx_len += (size_t)n;
	return parse_rx(c, ch) < 0 ? -EIO : n;
}

/* Takes all libssh holds for ch. A read that returns less than asked has
 * emptied libssh's buffer, so the loop ends without the extra read (and
 * poll()) that would only learn it is empty. */
static int
chan_drain_ssh(struct fxc *c, struct fxc_chan *ch)
{
	uint32_t asked = 0;
	int n;

	do {
		n = chan_read_ssh(c, ch, &asked);
	} while (n > 0 && (uint32_t)n == asked);
	if (n < 0)
		return -EIO;
	ch->has_data = false;
	return 0;
}

static int
check_open(struct fxc *c)
{
	int i;

	for (i = 0; i < c->xnch; i++)
		if (ssh_channel_is_eof(c->chan[i].ch) || ssh_channel_is_closed(c->chan[i].ch))
			return die(c, "channel %d: the SFTP server closed the channel", i);
	return 0;
}

/* Reads the channels libssh has data for, then, if poll() saw the socket
 * readable (or writable while libssh holds unsent bytes), makes libssh
 * take in what arrived (one read of channel 0, whose buffer is empty by
 * then) and goes round again while that filled a whole slice. Channels
 * without data are not touched, so a turn costs one poll() of the socket
 * however many channels there are. */
static int
drain_ssh(struct fxc *c)
{
	int pass, i;

	for (pass = 0; pass < DRAIN_PASSES_SSH; pass++) {
		uint64_t in;

		for (i = 0; i < c->xnch; i++)
			if (c->chan[i].has_data && chan_drain_ssh(c, &c->chan[i]) < 0)
				return -EIO;
		if (!c->rx_ready)
			return check_open(c);
		c->rx_ready = false;
		in = c->sock_ctr.in_bytes;
		if (chan_drain_ssh(c, &c->chan[0]) < 0)
			return -EIO;
		/* A read shorter than libssh's slice emptied the socket;
		 * what comes later wakes poll(). */
		if (c->sock_ctr.in_bytes - in >= FXC_SSH_SLICE)
			c->rx_ready = true;
	}
	c->again = true;
	return check_open(c);
}

static int
fd_drain(struct fxc *c)
{
	struct fxc_chan *ch = &c->chan[0];

	for (;;) {
		size_t room = ch->rx_cap - ch->rx_len;
		ssize_t n = read(c->xp.rfd, ch->rx + ch->rx_len, room);

		if (n > 0) {
			c->last_rx = fxc_now_us();
			c->rx_count += (uint64_t)n;
			ch->rx_len += (size_t)n;
			if (parse_rx(c, ch) < 0)
				return -EIO;
			if ((size_t)n < room)
				return 0;
			continue;
		}
		if (n == 0)
			return die(c, "the SFTP server closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return die(c, "read from the SFTP server: %s", strerror(errno));
	}
}

static int
xp_read(struct fxc *c)
{
	if (c->sess != NULL)
		return drain_ssh(c);
	if (!c->rx_ready)
		return 0;
	c->rx_ready = false;
	return fd_drain(c);
}

/* ---- timers: deadlines and keepalive ---- */

int
fxc_timer_arm(struct fxc *c, bool fast)
{
	unsigned ms = fast ? c->cfg.request_timeout_ms / 20 : c->cfg.keepalive_ms / 2;
	struct itimerspec its;

	/* Busy: fine enough for deadlines and the keepalive. Idle: only the
	 * keepalive needs waking up for. */
	if (fast && ms > c->cfg.keepalive_ms / 4)
		ms = c->cfg.keepalive_ms / 4;
	if (ms > 100 && fast)
		ms = 100;
	if (ms < 5)
		ms = 5;
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	c->fast_timer = fast;
	return timerfd_settime(c->tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void
expire_one(struct fxc *c, struct fxc_req *r)
{
	log_debug("fxc: ch%d id %u %s timed out", r->chan, r->id,
		  fxp_type_name(r->type));
	if (r->state == FXC_WAITING || (r->state == FXC_TX && r->sent == 0)) {
		/* The server never saw it: it never will. */
		unlink_req(c, r);
		complete(c, r, -ETIMEDOUT, NULL);
		fxc_req_free(r);
		return;
	}
	/* Partly or wholly sent: keep the id until the server answers. */
	r->expired = true;
	complete(c, r, -ETIMEDOUT, NULL);
}

static void
expire(struct fxc *c, uint64_t now)
{
	uint64_t ka = (uint64_t)c->cfg.keepalive_ms * 1000;
	struct fxc_req *r;

	while ((r = TAILQ_FIRST(&c->dl)) != NULL && r->deadline <= now) {
		/* Nothing at all heard for two keepalive intervals, probes
		 * included: the link is dead, not the request slow (sshd
		 * answers the probes of a busy server). With redial the
		 * request then waits for the new link instead of failing
		 * before reconnect_timeout. */
		if (c->cfg.redial != NULL && now - c->last_rx >= 2 * ka) {
			die(c, "no answer from the server for %llu ms",
			    (unsigned long long)(now - c->last_rx) / 1000);
			return;
		}
		expire_one(c, r);
	}
}

static void
probe_done(void *arg, int err, const struct fxp_reply *rep)
{
	struct fxc *c = arg;

	(void)err;
	(void)rep;
	c->probe_out = false;
}

/* Without SSH (ssh_command=, directport=) there is only the SFTP server to
 * ask: a cheap request that proves it (not just the peer) is alive. It
 * skips the budget: a full channel is exactly when it is needed. */
static void
send_probe(struct fxc *c, uint64_t now)
{
	struct fxc_chan *ch = pick_chan(c);
	struct fxc_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return;
	wire_buf_init(&r->pkt, 0);
	if (fxp_enc_path(&r->pkt, FXP_STAT, "/") < 0) {
		fxc_req_free(r);
		return;
	}
	r->type = FXP_STAT;
	r->cost = FXC_COST_SMALL;
	r->done = probe_done;
	r->arg = c;
	r->chan = ch->idx;
	r->deadline = now + (uint64_t)c->cfg.request_timeout_ms * 1000;
	TAILQ_INSERT_TAIL(&c->dl, r, d);
	__atomic_add_fetch(&c->st_requests, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->st_live, 1, __ATOMIC_RELAXED);
	if (tx_push(c, ch, r) < 0) {
		complete(c, r, -ENOMEM, NULL);
		fxc_req_free(r);
		return;
	}
	c->probe_out = true;
	c->last_probe = now;
	log_debug("fxc: keepalive probe on ch%d", ch->idx);
}

/* Over SSH the probe asks sshd itself (keepalive@openssh.com, as OpenSSH's
 * ServerAliveInterval does): sshd answers it while sftp-server is busy or
 * stopped, so a server that is merely slow (a long fsync, SIGSTOP) keeps
 * its connection; only a dead link or sshd goes quiet. Any byte counts as
 * an answer (note_rx). In nonblocking mode libssh's first call collects the
 * reply to the previous probe and the second sends a new one (or finds the
 * previous still unanswered, and sends nothing). Either may read packets,
 * so the loop looks at the channels again. */
static void
send_ssh_probe(struct fxc *c, uint64_t now)
{
	uint64_t seen = c->pkt_ctr.in_packets;

	ssh_send_keepalive(c->sess);
	ssh_send_keepalive(c->sess);
	c->last_probe = now;
	if (c->pkt_ctr.in_packets != seen) {
		c->again = true;
		c->rx_ready = true;
	}
	log_debug("fxc: keepalive probe to sshd");
}

static void
keepalive(struct fxc *c, uint64_t now)
{
	uint64_t ka = (uint64_t)c->cfg.keepalive_ms * 1000;
	uint64_t since = c->last_rx;

	if (c->tbl.used > 0 && c->busy_since > since)
		since = c->busy_since;
	if (c->tbl.used > 0 && now - since >= ka * c->cfg.keepalive_count_max) {
		die(c, "no answer from the server for %llu ms",
		    (unsigned long long)(now - since) / 1000);
		return;
	}
	if (now - since < ka || now - c->last_probe < ka)
		return;
	if (c->sess != NULL)
		send_ssh_probe(c, now);
	else if (!c->probe_out)
		send_probe(c, now);
}

static void
note_rx(struct fxc *c)
{
	if (c->sess != NULL && c->sock_ctr.in_bytes != c->seen_sock_in) {
		c->seen_sock_in = c->sock_ctr.in_bytes;
		c->last_rx = fxc_now_us();
	}
}

static void
tick(struct fxc *c)
{
	uint64_t now = fxc_now_us();

	if (c->io_dead)
		return;
	if (c->down) {
		if (!c->held_fail &&
		    now - c->lost_at >= (uint64_t)c->cfg.reconnect_timeout_ms * 1000)
			go_down(c);
		return;
	}
	note_rx(c);
	expire(c, now);
	if (c->down)
		return;
	keepalive(c, now);
	if (c->io_dead || c->down)
		return;
	if (c->fast_timer && TAILQ_EMPTY(&c->dl) && c->tbl.used == 0)
		fxc_timer_arm(c, false);
}

/* ---- reconnection (fxc.h): the I/O thread's side ---- */

void
fxc_link_prepare(struct fxc *c)
{
	if (c->sess != NULL) {
		ssh_set_counters(c->sess, &c->sock_ctr, &c->pkt_ctr);
		ssh_set_blocking(c->sess, 0);
	}
	c->last_rx = c->last_probe = fxc_now_us();
	/* Any transport over TCP (SSH, directport=); not pipes or a
	 * ProxyCommand's socketpair, which refuse the option. */
	c->ack_fd = c->sess != NULL ? ssh_get_fd(c->sess) : c->xp.rfd;
	if (c->ack_fd >= 0 && util_tcp_ack_now(c->ack_fd) < 0)
		c->ack_fd = -1;
}

/* The outage has lasted reconnect_timeout: what waits fails, and so will
 * what comes (FXC_LINK_DOWN) until the link is back. */
static void
go_down(struct fxc *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->link == FXC_LINK_RECONNECTING) {
		c->link = FXC_LINK_DOWN;
		c->link_since = (int64_t)time(NULL);
	}
	pthread_mutex_unlock(&c->lock);
	c->held_fail = true;
	if (c->cfg.reconnect_timeout_ms > 0)
		log_warn("SFTP connection still down after %u s (%s): operations fail "
			 "with EIO until it is back", c->cfg.reconnect_timeout_ms / 1000,
			 c->lost_why);
	finish_list(c, &c->held, -EIO);
	finish_list(c, &c->aborted, -EIO);
}

/* Sorts what was in flight by what may be done with it (fxc.h), hands the
 * dead transport to the reconnect thread and wakes it. */
static void
link_lost(struct fxc *c, const char *why)
{
	struct fxc_req *r;
	int i;

	c->down = true;
	c->lost_at = fxc_now_us();
	snprintf(c->lost_why, sizeof(c->lost_why), "%s", why);
	log_debug("fxc: SFTP connection lost: %s; reconnecting", why);
	c->rtt_t0 = 0;
	while ((r = TAILQ_FIRST(&c->dl)) != NULL) {
		bool sent = r->state == FXC_SENT || (r->state == FXC_TX && r->sent > 0);

		unlink_req(c, r);
		TAILQ_REMOVE(&c->dl, r, d);
		if (r->gen != 0) {
			finish(c, r, -ENOTCONN);
		} else if (r->state == FXC_SENT && !r->keep) {
			/* its bytes are gone (the keepalive probe): a new
			 * link gets its own */
			finish(c, r, -EIO);
		} else if (sent && (r->flags & FXC_ONCE)) {
			TAILQ_INSERT_TAIL(&c->aborted, r, q);
		} else {
			r->sent = 0;
			r->state = 0;
			r->chan = r->want_chan;
			TAILQ_INSERT_TAIL(&c->held, r, q);
		}
	}
	free_tombstones(c);
	for (i = 0; i < c->xnch; i++) {
		struct fxc_chan *ch = &c->chan[i];

		if (ch->ch != NULL)
			ssh_remove_channel_callbacks(ch->ch, &ch->cb);
		ch->ch = NULL;
		ch->rx_len = 0;
		ch->has_data = false;
		ch->win_count = ch->win_read = ch->stderr_bytes = 0;
		ch->inflight = ch->waiting = ch->unsent = 0;
	}
	if (c->sess != NULL)
		ssh_set_counters(c->sess, NULL, NULL);
	c->sess = NULL;
	c->ack_fd = -1;
	c->wr_hup = false;
	pthread_mutex_lock(&c->lock);
	c->old_xp = c->xp;
	c->want_redial = true;
	c->link = FXC_LINK_RECONNECTING;
	c->link_since = (int64_t)time(NULL);
	snprintf(c->last_error, sizeof(c->last_error), "%s", why);
	/* fxc_stop_waiting() came first: nothing waits for a new link */
	if (c->quit) {
		c->give_up = true;
		__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
	}
	pthread_cond_broadcast(&c->rcond);
	pthread_mutex_unlock(&c->lock);
	memset(&c->xp, 0, sizeof(c->xp));
	c->xp.rfd = c->xp.wfd = -1;
	if (c->cfg.reconnect_timeout_ms == 0)
		go_down(c);
	/* deadlines are off; the timer now watches reconnect_timeout */
	fxc_timer_arm(c, true);
}

/* Takes the link the reconnect thread prepared on n, then frees n. */
static void
swap_in(struct fxc *c, struct fxc *n)
{
	uint64_t now = fxc_now_us();
	int i, nch = n->nch < c->nch ? n->nch : c->nch;
	struct fxc_req *r;

	for (i = 0; i < n->nch; i++)
		if (n->chan[i].ch != NULL)
			ssh_remove_channel_callbacks(n->chan[i].ch, &n->chan[i].cb);
	for (i = 0; i < nch; i++) {
		struct fxc_chan *a = &c->chan[i], *b = &n->chan[i];
		uint8_t *rx = a->rx;
		size_t cap = a->rx_cap;

		a->ch = b->ch;
		a->rx = b->rx;
		a->rx_len = b->rx_len;
		a->rx_cap = b->rx_cap;
		b->rx = rx;
		b->rx_cap = cap;
		b->rx_len = 0;
		if (a->ch != NULL)
			fxc_xp_set_stderr_cb(a);
		a->has_data = true;
	}
	for (i = nch; i < c->nch; i++)
		__atomic_store_n(&c->chan[i].load_pub, UINT64_MAX, __ATOMIC_RELAXED);
	c->xp = n->xp;
	memset(&n->xp, 0, sizeof(n->xp));
	n->xp.rfd = n->xp.wfd = -1;
	c->sess = n->sess;
	n->sess = NULL;
	c->xnch = nch;
	memset(&c->sock_ctr, 0, sizeof(c->sock_ctr));
	memset(&c->pkt_ctr, 0, sizeof(c->pkt_ctr));
	c->seen_sock_in = c->rx_count = c->rx_at_tx = c->rx_acked = 0;
	fxc_link_prepare(c);
	c->down = false;
	c->held_fail = false;
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->gen, c->gen + 1, __ATOMIC_RELEASE);
	c->link = FXC_LINK_UP;
	c->link_since = (int64_t)time(NULL);
	c->reconnects++;
	pthread_mutex_unlock(&c->lock);
	log_info("SFTP connection re-established after %.1f s (lost: %s)",
		 (double)(now - c->lost_at) / 1e6, c->lost_why);
	finish_list(c, &c->aborted, -ECONNABORTED);
	while ((r = TAILQ_FIRST(&c->held)) != NULL) {
		TAILQ_REMOVE(&c->held, r, q);
		r->deadline = now + (uint64_t)c->cfg.request_timeout_ms * 1000;
		admit(c, r);
	}
	c->rx_ready = c->again = true;
	fxc_timer_arm(c, true);
	fxc_destroy(n);
}

/* A turn of the loop without a link: park submissions, then take a new
 * link or the news that there will be none. */
static void
down_turn(struct fxc *c)
{
	struct fxc_req *r, *next;
	struct fxc *n;
	bool give_up;

	for (r = take_sq(c, false); r != NULL; r = next) {
		next = r->snext;
		r->snext = NULL;
		if (r->gen != 0)
			finish(c, r, -ENOTCONN);
		else if (c->held_fail)
			finish(c, r, -EIO);
		else
			TAILQ_INSERT_TAIL(&c->held, r, q);
	}
	pthread_mutex_lock(&c->lock);
	n = c->swap_in;
	c->swap_in = NULL;
	give_up = c->give_up;
	pthread_mutex_unlock(&c->lock);
	if (give_up) {
		c->io_dead = true;
		fail_all(c);
		stop_timer(c);
		return;
	}
	if (n != NULL)
		swap_in(c, n);
}

/* ---- the loop ---- */

static void
publish_load(struct fxc *c)
{
	int i;

	for (i = 0; i < c->xnch; i++)
		__atomic_store_n(&c->chan[i].load_pub, chan_load(&c->chan[i]),
				 __ATOMIC_RELAXED);
}

static void
pump(struct fxc *c)
{
	uint64_t seen;

	take_submissions(c);
	fill_all(c);
	if (xp_write(c) < 0 || xp_read(c) < 0)
		return;
	/* Replies that made it are in; now the broken pipe may count. */
	if (c->wr_hup) {
		die(c, "the SFTP server stopped reading its input");
		return;
	}
	seen = c->pkt_ctr.in_packets;
	/* completions often submit the next request: send it now */
	take_submissions(c);
	fill_all(c);
	if (xp_write(c) < 0)
		return;
	/* A write may have made libssh read the socket too. */
	if (c->sess != NULL && c->pkt_ctr.in_packets != seen)
		c->again = true;
	note_rx(c);
	publish_load(c);
	if (!c->fast_timer && (c->tbl.used > 0 || !TAILQ_EMPTY(&c->dl)))
		fxc_timer_arm(c, true);
}

static bool
sq_pending(struct fxc *c)
{
	bool p;

	pthread_mutex_lock(&c->lock);
	p = c->sq_head != NULL;
	pthread_mutex_unlock(&c->lock);
	return p;
}

static int
xp_pollfds(struct fxc *c, struct pollfd *p)
{
	bool tx = !TAILQ_EMPTY(&c->chan[0].txq);

	if (c->io_dead || c->down)
		return 0;
	if (c->sess != NULL) {
		p[0].fd = ssh_get_fd(c->sess);
		p[0].events = POLLIN;
		/* After every send libssh asks for POLLOUT, only to learn it
		 * may send directly again; the poll() it makes when the reply
		 * comes tells it that too. So POLLOUT is waited for only while
		 * bytes are really left in its buffer: ssh_blocking_flush()
		 * looks without a system call when there are none. */
		if ((ssh_get_poll_flags(c->sess) & SSH_WRITE_PENDING) &&
		    ssh_blocking_flush(c->sess, 0) != SSH_OK)
			p[0].events |= POLLOUT;
		return 1;
	}
	p[0].fd = c->xp.rfd;
	p[0].events = POLLIN;
	if (c->xp.wfd == c->xp.rfd) {
		p[0].events |= tx ? POLLOUT : 0;
		return 1;
	}
	p[1].fd = c->xp.wfd;
	p[1].events = tx ? POLLOUT : 0;
	return 2;
}

/* Before sleeping with replies outstanding, acknowledge what came in: the
 * server's sshd (Nagle on, for sessions without a terminal) holds a small
 * reply back while its previous one is unacknowledged, and our kernel
 * would delay that ACK by up to 40 ms when we have nothing to send. Not
 * needed when nothing is outstanding: the server has nothing to hold. */
static void
ack_before_sleep(struct fxc *c)
{
	uint64_t in = rx_total(c);

	/* What arrived before our last send was acknowledged by it. */
	if (c->ack_fd < 0 || c->tbl.used == 0 || in == c->rx_at_tx || in == c->rx_acked)
		return;
	c->rx_acked = in;
	if (util_tcp_ack_now(c->ack_fd) < 0)
		c->ack_fd = -1;
}

static void
io_wait(struct fxc *c)
{
	uint64_t in;
	struct pollfd p[4];
	uint64_t v;
	int n, timeout;

	memset(p, 0, sizeof(p));
	p[0].fd = c->efd;
	p[0].events = POLLIN;
	p[1].fd = c->tfd;
	p[1].events = POLLIN;
	in = rx_total(c);
	n = 2 + xp_pollfds(c, p + 2);
	/* Its flush may have made libssh take in data, which poll() would
	 * no longer see on the socket. */
	if (rx_total(c) != in)
		c->again = c->rx_ready = true;
	timeout = c->again || sq_pending(c) ? 0 : -1;
	c->again = false;
	if (timeout < 0)
		ack_before_sleep(c);
	if (poll(p, (nfds_t)n, timeout) < 0)
		return;
	if (p[0].revents && read(c->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another turn already reset it */
	}
	if (n > 2 && (p[2].revents & (POLLIN | POLLHUP | POLLERR)))
		c->rx_ready = true;
	/* Only libssh's own poll() acts on POLLOUT (it asks for it while it
	 * has bytes to send): let the drain make it look. */
	if (n > 2 && c->sess != NULL && (p[2].revents & POLLOUT))
		c->rx_ready = true;
	/* A pipe whose reader went away polls POLLERR forever: without this
	 * the loop would spin while nothing is queued to write. */
	if (n > 3 && (p[3].revents & (POLLHUP | POLLERR))) {
		c->wr_hup = true;
		c->rx_ready = true;
	}
	if (p[1].revents && read(c->tfd, &v, sizeof(v)) == sizeof(v))
		tick(c);
}

void *
fxc_io_main(void *arg)
{
	struct fxc *c = arg;

	__atomic_store_n(&c->io_self, (unsigned long)pthread_self(), __ATOMIC_RELEASE);
	c->rx_ready = true;
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_exchange_n(&c->kill, false, __ATOMIC_ACQ_REL) &&
		    !c->io_dead && !c->down) {
			if (c->cfg.redial != NULL) {
				link_lost(c, "closed on request");
			} else {
				log_info("SFTP connection closed on request");
				die(c, NULL);
			}
		}
		if (c->down)
			down_turn(c);
		if (!c->io_dead && !c->down)
			pump(c);
		io_wait(c);
	}
	die(c, NULL);
	return NULL;
}
