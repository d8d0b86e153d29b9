/* Unit test of the fxc engine.
 *
 * Most cases run fxc over a socketpair against a fake server thread that
 * speaks real SFTP framing and misbehaves on purpose: answers out of order,
 * goes silent, answers late, sends garbage, hangs up. The last case runs
 * the real OpenSSH sftp-server through fxc_transport_cmd().
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fxc.h"
#include "fxp.h"
#include "log.h"
#include "tap.h"

#define SFTP_SERVER "/usr/lib/openssh/sftp-server"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- the fake server ---- */

struct pkt {
	uint8_t type;
	uint32_t id;
	uint8_t body[4096];
	uint32_t len;
};

struct fake;
typedef void fake_fn(struct fake *f);

struct fake {
	int fd;
	pthread_t th;
	fake_fn *run;
	const char *hello;	/* sent instead of VERSION when set */
	/* shared with the test; plain ints accessed with __atomic */
	int nreq;		/* requests received */
	int release;		/* requests the server may answer */
	int go;			/* scenario step */
	int probes;		/* STAT "/" seen */
	int order_ok;		/* ids arrived increasing */
};

static int
xread(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t r = read(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
xwrite(int fd, const void *p, size_t n)
{
	return write(fd, p, n) == (ssize_t)n ? 0 : -1;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads one packet; bodies longer than the buffer are skipped. */
static int
srv_read(struct fake *f, struct pkt *k)
{
	uint8_t h[5], skip[4096];
	uint32_t len, left;

	if (xread(f->fd, h, 5) < 0)
		return -1;
	len = get32(h);
	k->type = h[4];
	k->id = 0;
	left = len - 1;
	if (k->type != FXP_INIT) {
		if (xread(f->fd, h, 4) < 0)
			return -1;
		k->id = get32(h);
		left -= 4;
	}
	k->len = left < sizeof(k->body) ? left : sizeof(k->body);
	if (xread(f->fd, k->body, k->len) < 0)
		return -1;
	for (left -= k->len; left > 0; left -= (uint32_t)sizeof(skip) < left ? sizeof(skip) : left)
		if (xread(f->fd, skip, left < sizeof(skip) ? left : sizeof(skip)) < 0)
			return -1;
	return 0;
}

static int
srv_send(struct fake *f, uint8_t type, uint32_t id, const void *body, uint32_t blen)
{
	uint8_t h[9];

	put32(h, 5 + blen);
	h[4] = type;
	put32(h + 5, id);
	if (xwrite(f->fd, h, 9) < 0)
		return -1;
	return blen ? xwrite(f->fd, body, blen) : 0;
}

/* STATUS whose message echoes the request's first string (the path), so
 * the client can check it got its own answer. */
static int
srv_echo(struct fake *f, const struct pkt *k)
{
	uint8_t b[4096 + 16];
	uint32_t n = k->len >= 4 ? get32(k->body) : 0;

	if (n > k->len - 4 || n > 4000)
		n = 0;
	put32(b, FX_OK);
	put32(b + 4, n);
	memcpy(b + 8, k->body + 4, n);
	put32(b + 8 + n, 0);
	return srv_send(f, FXP_STATUS, k->id, b, 12 + n);
}

static void
put_str(uint8_t *b, size_t *o, const char *s)
{
	put32(b + *o, (uint32_t)strlen(s));
	memcpy(b + *o + 4, s, strlen(s));
	*o += 4 + strlen(s);
}

static int
srv_hello(struct fake *f)
{
	uint8_t b[512];
	size_t o = 9;
	struct pkt k;

	if (srv_read(f, &k) < 0 || k.type != FXP_INIT)
		return -1;
	if (f->hello != NULL)
		return xwrite(f->fd, f->hello, strlen(f->hello));
	put32(b + 5, 3);
	put_str(b, &o, "posix-rename@openssh.com");
	put_str(b, &o, "1");
	put_str(b, &o, "statvfs@openssh.com");
	put_str(b, &o, "1");	/* wrong version: must stay off */
	put_str(b, &o, "hardlink@openssh.com");
	put_str(b, &o, "1");
	put32(b, (uint32_t)o - 4);
	b[4] = FXP_VERSION;
	if (xwrite(f->fd, b, o) < 0)
		return -1;
	/* The client asks for limits@openssh.com right behind INIT, before it
	 * knows whether the server has it: answer as a server without it. */
	if (srv_read(f, &k) < 0 || k.type != FXP_EXTENDED || k.id != 1)
		return -1;
	put32(b, FX_OP_UNSUPPORTED);
	put32(b + 4, 0);
	put32(b + 8, 0);
	return srv_send(f, FXP_STATUS, k.id, b, 12);
}

static bool
is_probe(const struct pkt *k)
{
	return k->type == FXP_STAT && k->len == 5 && k->body[4] == '/';
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;

	if (srv_hello(f) == 0 && f->run != NULL)
		f->run(f);
	shutdown(f->fd, SHUT_RDWR);
	return NULL;
}

static int
ld(int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
st(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Waits (bounded) until *p >= v. */
static bool
wait_for(int *p, int v, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (ld(p) < v) {
		if (now_ms() > end)
			return false;
		sleep_ms(2);
	}
	return true;
}

static int
start_fake(struct fake *f, fake_fn *run, const struct fxc_config *cfg,
	   struct fxc **c, char *err, size_t errlen)
{
	struct fxc_transport *t;
	int sv[2], rc;

	memset(f, 0, sizeof(*f));
	f->run = run;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -errno;
	f->fd = sv[1];
	if (pthread_create(&f->th, NULL, fake_main, f) != 0)
		return -EAGAIN;
	rc = fxc_transport_fds(sv[0], sv[0], 0, &t);
	if (rc == 0)
		rc = fxc_start(t, cfg, c, err, errlen);
	if (rc < 0)
		printf("# start: %s\n", err);
	return rc;
}

static void
stop_fake(struct fake *f, struct fxc *c)
{
	fxc_free(c);
	pthread_join(f->th, NULL);
	close(f->fd);
}

/* ---- client side helpers ---- */

struct done_rec {
	int calls;
	int err;
	int order;		/* position in completion order */
	char echo[64];
	uint64_t at;		/* now_ms() of the call */
};

static int order_seq;

static void
rec_done(void *arg, int err, const struct fxp_reply *r)
{
	struct done_rec *d = arg;

	d->err = err;
	d->order = __atomic_fetch_add(&order_seq, 1, __ATOMIC_RELAXED);
	d->at = now_ms();
	if (err == 0 && r->type == FXP_STATUS && r->len >= 8) {
		uint32_t n = get32(r->body + 4);

		if (n < sizeof(d->echo) && 8 + n <= r->len)
			memcpy(d->echo, r->body + 8, n);
	}
	__atomic_add_fetch(&d->calls, 1, __ATOMIC_RELEASE);
}

static int
submit_stat_chan(struct fxc *c, int chan, uint32_t gen, unsigned flags, const char *path,
		 struct done_rec *d)
{
	struct wire_buf b;
	int rc;

	wire_buf_init(&b, 0);
	rc = fxp_enc_path(&b, FXP_STAT, path);
	if (rc == 0)
		rc = fxc_submit_on(c, chan, gen, flags, &b, rec_done, d);
	wire_buf_free(&b);
	return rc;
}

static int
submit_stat(struct fxc *c, int chan, const char *path, struct done_rec *d)
{
	return submit_stat_chan(c, chan, 0, 0, path, d);
}

static int
submit_stat_on(struct fxc *c, uint32_t gen, unsigned flags, const char *path,
	       struct done_rec *d)
{
	return submit_stat_chan(c, 0, gen, flags, path, d);
}

/* ---- cases ---- */

static void
run_reverse(struct fake *f)
{
	struct pkt k[8];
	uint32_t last = 0;
	int i;

	f->order_ok = 1;
	for (i = 0; i < 8; i++) {
		if (srv_read(f, &k[i]) < 0)
			return;
		/* The path ends in the submission index: check the order. */
		if (i > 0 && (k[i].id <= last || k[i].body[k[i].len - 1] != '0' + i))
			f->order_ok = 0;
		last = k[i].id;
	}
	for (i = 7; i >= 0; i--)
		srv_echo(f, &k[i]);
	while (srv_read(f, &k[0]) == 0)
		srv_echo(f, &k[0]);
}

static void
test_handshake_and_order(void)
{
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec d[8];
	char err[512], path[16];
	int i, rc;

	rc = start_fake(&f, run_reverse, NULL, &c, err, sizeof(err));
	TAP_EQ_INT(rc, 0);
	if (rc < 0)
		return;
	TAP_CHECK(fxc_has(c, FXC_EXT_POSIX_RENAME));
	TAP_CHECK(fxc_has(c, FXC_EXT_HARDLINK));
	TAP_CHECK(!fxc_has(c, FXC_EXT_STATVFS));	/* version "1" != "2" */
	TAP_CHECK(!fxc_has(c, FXC_EXT_LIMITS));
	TAP_EQ_INT(fxc_max_read(c), 32768);
	TAP_EQ_INT(fxc_max_write(c), 32768);
	TAP_EQ_INT(fxc_nchannels(c), 1);
	memset(d, 0, sizeof(d));
	order_seq = 0;
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_EQ_INT(submit_stat(c, -1, path, &d[i]), 0);
	}
	for (i = 0; i < 8; i++)
		TAP_CHECK(wait_for(&d[i].calls, 1, 3000));
	TAP_CHECK(ld(&f.order_ok));
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_EQ_INT(d[i].err, 0);
		TAP_EQ_INT(d[i].order, 7 - i);		/* out of order */
		TAP_CHECK(strstr(d[i].echo, path) != NULL);
		TAP_EQ_INT(d[i].calls, 1);
	}
	stop_fake(&f, c);
}

/* Holds requests until the test releases them, then answers in order. */
static void
run_hold(struct fake *f)
{
	struct pkt q[64];
	int n = 0, sent = 0;

	for (;;) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };

		if (n < 64 && poll(&p, 1, 5) > 0) {
			if (srv_read(f, &q[n]) < 0)
				return;
			if (is_probe(&q[n]))
				__atomic_add_fetch(&f->probes, 1, __ATOMIC_RELEASE);
			__atomic_add_fetch(&f->nreq, 1, __ATOMIC_RELEASE);
			n++;
		}
		while (sent < n && sent < ld(&f->release))
			if (srv_echo(f, &q[sent++]) < 0)
				return;
		if (sent == 64)
			return;
	}
}

static void
test_deadline_and_late_reply(void)
{
	struct fxc_config cfg = { .request_timeout_ms = 300 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec d, d2;
	char err[512];
	uint64_t t0;

	if (start_fake(&f, run_hold, &cfg, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(&d, 0, sizeof(d));
	memset(&d2, 0, sizeof(d2));
	t0 = now_ms();
	TAP_EQ_INT(submit_stat(c, 0, "/late", &d), 0);
	TAP_CHECK(wait_for(&d.calls, 1, 3000));
	TAP_EQ_INT(d.err, -ETIMEDOUT);
	TAP_CHECK(d.at - t0 >= 290 && d.at - t0 <= 1300);
	/* The late reply must be swallowed, and the link stays up. */
	st(&f.release, 2);
	TAP_EQ_INT(submit_stat(c, 0, "/next", &d2), 0);
	TAP_CHECK(wait_for(&d2.calls, 1, 3000));
	TAP_EQ_INT(d2.err, 0);
	TAP_CHECK(strstr(d2.echo, "/next") != NULL);
	TAP_CHECK(fxc_alive(c));
	TAP_EQ_INT(d.calls, 1);
	stop_fake(&f, c);
}

static int
submit_read(struct fxc *c, uint32_t len, struct done_rec *d)
{
	struct wire_buf b;
	int rc;

	wire_buf_init(&b, 0);
	rc = fxp_enc_read(&b, (const uint8_t *)"h", 1, 0, len);
	if (rc == 0)
		rc = fxc_submit(c, 0, &b, rec_done, d);
	wire_buf_free(&b);
	return rc;
}

static void
test_budget(void)
{
	/* Each READ of 200000 costs 200013: four fit in 1000000, five do not. */
	struct fxc_config cfg = { .inflight_bytes = 1000000 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec d[10];
	char err[512];
	int i;

	if (start_fake(&f, run_hold, &cfg, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(d, 0, sizeof(d));
	for (i = 0; i < 10; i++)
		TAP_EQ_INT(submit_read(c, 200000, &d[i]), 0);
	TAP_CHECK(wait_for(&f.nreq, 4, 3000));
	sleep_ms(200);
	TAP_EQ_INT(ld(&f.nreq), 4);
	st(&f.release, 1);
	/* the first answer frees room for exactly one more */
	TAP_CHECK(wait_for(&f.nreq, 5, 3000));
	sleep_ms(200);
	TAP_EQ_INT(ld(&f.nreq), 5);
	TAP_EQ_INT(d[0].calls, 1);
	TAP_EQ_INT(d[4].calls, 0);
	st(&f.release, 100);
	for (i = 0; i < 10; i++) {
		TAP_CHECK(wait_for(&d[i].calls, 1, 3000));
		TAP_EQ_INT(d[i].err, 0);
	}
	TAP_EQ_INT(ld(&f.nreq), 10);
	stop_fake(&f, c);
}

/* Reads requests, then does something hostile to the client. */
static void
run_hostile(struct fake *f)
{
	static const uint8_t huge[] = { 0x00, 0x10, 0x00, 0x00, 101 };
	struct pkt k;

	while (ld(&f->nreq) < 3) {
		if (srv_read(f, &k) < 0)
			return;
		__atomic_add_fetch(&f->nreq, 1, __ATOMIC_RELEASE);
	}
	while (ld(&f->go) == 0)
		sleep_ms(2);
	switch (ld(&f->go)) {
	case 1:	/* length past FXP_MAX_PACKET */
		xwrite(f->fd, huge, sizeof(huge));
		break;
	case 2:	/* a reply nobody asked for */
		srv_echo(f, &(struct pkt){ .type = FXP_STAT, .id = 999999 });
		break;
	case 3:	/* hang up */
		break;
	case 4:	/* a packet too short to hold an id */
		xwrite(f->fd, "\0\0\0\1e", 5);
		break;
	}
	/* keep the socket open for a while: the client must not wait for EOF */
	sleep_ms(ld(&f->go) == 3 ? 0 : 1000);
}

struct caller {
	struct fxc *c;
	int rc;
	uint64_t at;
};

static void *
caller_main(void *arg)
{
	struct caller *k = arg;
	struct fxc_result res;
	struct wire_buf b;

	wire_buf_init(&b, 0);
	k->rc = fxp_enc_path(&b, FXP_LSTAT, "/x");
	if (k->rc == 0)
		k->rc = fxc_call(k->c, -1, &b, &res);
	k->at = now_ms();
	wire_buf_free(&b);
	fxc_result_free(&res);
	return NULL;
}

static void
test_hostile(int how)
{
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec d;
	struct caller k[2];
	pthread_t th[2];
	char err[512];
	uint64_t t0;
	int i;

	if (start_fake(&f, run_hostile, NULL, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(&d, 0, sizeof(d));
	TAP_EQ_INT(submit_stat(c, -1, "/a", &d), 0);
	for (i = 0; i < 2; i++) {
		k[i].c = c;
		pthread_create(&th[i], NULL, caller_main, &k[i]);
	}
	TAP_CHECK(wait_for(&f.nreq, 3, 3000));
	t0 = now_ms();
	st(&f.go, how);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	TAP_CHECK(wait_for(&d.calls, 1, 3000));
	TAP_EQ_INT(d.err, -EIO);
	for (i = 0; i < 2; i++) {
		TAP_EQ_INT(k[i].rc, -EIO);
		TAP_CHECK(k[i].at - t0 < 2000);
	}
	TAP_CHECK(!fxc_alive(c));
	memset(&d, 0, sizeof(d));
	TAP_EQ_INT(submit_stat(c, -1, "/b", &d), -EIO);
	TAP_EQ_INT(d.calls, 0);
	stop_fake(&f, c);
}

/* Answers everything except keepalive probes. */
static void
run_echo(struct fake *f)
{
	struct pkt k;

	while (srv_read(f, &k) == 0) {
		__atomic_add_fetch(&f->nreq, 1, __ATOMIC_RELEASE);
		if (is_probe(&k)) {
			__atomic_add_fetch(&f->probes, 1, __ATOMIC_RELEASE);
			if (ld(&f->go) == 1)
				continue;
		}
		if (ld(&f->go) == 2)
			continue;
		srv_echo(f, &k);
	}
}

struct storm {
	struct fxc *c;
	int ok;
};

static void *
storm_main(void *arg)
{
	struct storm *s = arg;
	char path[64], want[64];
	int i;

	for (i = 0; i < 200; i++) {
		struct fxc_result res;
		struct wire_buf b;

		snprintf(path, sizeof(path), "/t%p/%d", (void *)s, i);
		wire_buf_init(&b, 0);
		if (fxp_enc_path(&b, FXP_STAT, path) == 0 &&
		    fxc_call(s->c, -1, &b, &res) == 0 &&
		    res.reply.type == FXP_STATUS && res.reply.len >= 8 + strlen(path)) {
			memcpy(want, res.reply.body + 8, strlen(path));
			want[strlen(path)] = '\0';
			if (strcmp(want, path) == 0)
				s->ok++;
		}
		wire_buf_free(&b);
		fxc_result_free(&res);
	}
	return NULL;
}

static void
test_many_callers(void)
{
	struct fake f;
	struct fxc *c = NULL;
	struct storm s[8];
	pthread_t th[8];
	struct fxc_stats stats;
	char err[512];
	int i, total = 0;

	if (start_fake(&f, run_echo, NULL, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	for (i = 0; i < 8; i++) {
		s[i].c = c;
		s[i].ok = 0;
		pthread_create(&th[i], NULL, storm_main, &s[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		total += s[i].ok;
	}
	TAP_EQ_INT(total, 1600);
	fxc_get_stats(c, &stats);
	TAP_CHECK(stats.requests >= 1600 && stats.replies >= 1600);
	TAP_EQ_INT(stats.inflight, 0);
	TAP_CHECK(stats.bytes_in > 0 && stats.bytes_out > 0);
	stop_fake(&f, c);
}

struct reentry {
	struct fxc *c;
	int call_rc, submit_rc, calls;
	struct done_rec inner;
};

/* Completions run on the I/O thread: a blocking call there would wait for
 * itself, a submit is fine. */
static void
reentry_done(void *arg, int err, const struct fxp_reply *r)
{
	struct reentry *x = arg;
	struct fxc_result res;
	struct wire_buf b;

	(void)err;
	(void)r;
	wire_buf_init(&b, 0);
	fxp_enc_path(&b, FXP_STAT, "/inner");
	x->call_rc = fxc_call(x->c, 0, &b, &res);
	x->submit_rc = fxc_submit(x->c, 0, &b, rec_done, &x->inner);
	wire_buf_free(&b);
	__atomic_add_fetch(&x->calls, 1, __ATOMIC_RELEASE);
}

static void
test_reentry(void)
{
	struct fake f;
	struct reentry x;
	struct wire_buf b;
	char err[512];

	memset(&x, 0, sizeof(x));
	if (start_fake(&f, run_echo, NULL, &x.c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	TAP_EQ_INT(fxc_least_loaded(x.c), 0);
	wire_buf_init(&b, 0);
	fxp_enc_path(&b, FXP_STAT, "/outer");
	TAP_EQ_INT(fxc_submit(x.c, 0, &b, reentry_done, &x), 0);
	wire_buf_free(&b);
	TAP_CHECK(wait_for(&x.calls, 1, 3000));
	TAP_EQ_INT(x.call_rc, -EDEADLK);
	TAP_EQ_INT(x.submit_rc, 0);
	TAP_CHECK(wait_for(&x.inner.calls, 1, 3000));
	TAP_EQ_INT(x.inner.err, 0);
	TAP_CHECK(strstr(x.inner.echo, "/inner") != NULL);
	stop_fake(&f, x.c);
}

static void
test_keepalive(void)
{
	struct fxc_config cfg = { .keepalive_ms = 100, .keepalive_count_max = 3,
				  .request_timeout_ms = 10000 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec d;
	char err[512];
	uint64_t t0;

	if (start_fake(&f, run_echo, &cfg, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	/* idle: probes go out and are answered; the link stays up */
	TAP_CHECK(wait_for(&f.probes, 2, 2000));
	TAP_CHECK(fxc_alive(c));
	/* the server goes quiet: dead after about 3 x 100 ms, long before
	 * the 10 s request deadline */
	memset(&d, 0, sizeof(d));
	st(&f.go, 2);
	t0 = now_ms();
	TAP_EQ_INT(submit_stat(c, -1, "/q", &d), 0);
	TAP_CHECK(wait_for(&d.calls, 1, 3000));
	TAP_EQ_INT(d.err, -EIO);
	TAP_CHECK(d.at - t0 >= 250 && d.at - t0 < 2500);
	TAP_CHECK(!fxc_alive(c));
	stop_fake(&f, c);
}

static void
test_kill(void)
{
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec d[3];
	char err[512];
	int i;

	if (start_fake(&f, run_hold, NULL, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(d, 0, sizeof(d));
	for (i = 0; i < 3; i++)
		TAP_EQ_INT(submit_stat(c, 0, "/k", &d[i]), 0);
	TAP_CHECK(wait_for(&f.nreq, 3, 3000));
	fxc_kill(c);
	TAP_CHECK(!fxc_alive(c));
	/* without redial a handle's request is -EIO too, not -ENOTCONN */
	TAP_EQ_INT(submit_stat_on(c, 1, 0, "/k", &d[0]), -EIO);
	for (i = 0; i < 3; i++) {
		TAP_CHECK(wait_for(&d[i].calls, 1, 1000));
		TAP_EQ_INT(d[i].err, -EIO);
	}
	stop_fake(&f, c);
}

static void
test_free_fails_pending(void)
{
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec d;
	char err[512];

	if (start_fake(&f, run_hold, NULL, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(&d, 0, sizeof(d));
	TAP_EQ_INT(submit_stat(c, 0, "/f", &d), 0);
	TAP_CHECK(wait_for(&f.nreq, 1, 3000));
	stop_fake(&f, c);
	TAP_EQ_INT(d.calls, 1);
	TAP_EQ_INT(d.err, -EIO);
}

/* Separate pipes, as with a spawned server: the server stops reading its
 * input but keeps its output open. The client must notice (POLLERR on its
 * write end) instead of spinning or waiting for the deadline. */
struct pipesrv {
	int in, out;		/* server side: requests in, replies out */
	int closed;
	uint64_t closed_at;
};

static void *
pipesrv_main(void *arg)
{
	struct pipesrv *ps = arg;
	struct fake f;
	struct pkt k;

	memset(&f, 0, sizeof(f));
	f.fd = ps->in;
	if (srv_read(&f, &k) == 0) {
		xwrite(ps->out, "\0\0\0\5\2\0\0\0\3", 9);	/* VERSION 3 */
		srv_read(&f, &k);				/* limits@ */
		/* STATUS OP_UNSUPPORTED to id 1 */
		xwrite(ps->out, "\0\0\0\21\145\0\0\0\1\0\0\0\10\0\0\0\0\0\0\0\0", 21);
		srv_read(&f, &k);				/* the STAT */
	}
	close(ps->in);
	__atomic_store_n(&ps->closed_at, now_ms(), __ATOMIC_RELEASE);
	st(&ps->closed, 1);
	sleep_ms(1500);
	close(ps->out);
	return NULL;
}

static void
test_pipe_reader_gone(void)
{
	struct fxc_config cfg = { .request_timeout_ms = 20000 };
	struct pipesrv ps;
	struct fxc_transport *t;
	struct fxc *c = NULL;
	struct done_rec d;
	pthread_t th;
	char err[512];
	int req[2], rep[2];
	uint64_t t0;

	memset(&ps, 0, sizeof(ps));
	memset(&d, 0, sizeof(d));
	if (pipe(req) < 0 || pipe(rep) < 0)
		return;
	ps.in = req[0];
	ps.out = rep[1];
	pthread_create(&th, NULL, pipesrv_main, &ps);
	TAP_EQ_INT(fxc_transport_fds(rep[0], req[1], 0, &t), 0);
	TAP_EQ_INT(fxc_start(t, &cfg, &c, err, sizeof(err)), 0);
	if (c != NULL) {
		TAP_EQ_INT(submit_stat(c, 0, "/p", &d), 0);
		TAP_CHECK(wait_for(&ps.closed, 1, 3000));
		TAP_CHECK(wait_for(&d.calls, 1, 3000));
		t0 = __atomic_load_n(&ps.closed_at, __ATOMIC_ACQUIRE);
		TAP_EQ_INT(d.err, -EIO);
		TAP_CHECK(d.at >= t0 && d.at - t0 < 2000);
		TAP_CHECK(!fxc_alive(c));
	}
	fxc_free(c);
	pthread_join(th, NULL);
}

static void
test_chatty_shell(void)
{
	struct fake f;
	struct fxc *c = NULL;
	char err[512] = "";
	int rc;

	memset(&f, 0, sizeof(f));
	f.hello = "Welcome to host!\nLast login: yesterday\n";
	{
		struct fxc_transport *t;
		int sv[2];

		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		f.fd = sv[1];
		pthread_create(&f.th, NULL, fake_main, &f);
		fxc_transport_fds(sv[0], sv[0], 0, &t);
		rc = fxc_start(t, NULL, &c, err, sizeof(err));
	}
	TAP_CHECK(rc < 0);
	TAP_CHECK(c == NULL);
	TAP_CHECK(strstr(err, "shell") != NULL);
	TAP_CHECK(strstr(err, "Welcome") != NULL);
	printf("# %s\n", err);
	pthread_join(f.th, NULL);
	close(f.fd);
}

/* ---- the real sftp-server ---- */

static void
test_sftp_server(void)
{
	char *argv[] = { SFTP_SERVER, NULL };
	struct fxc_config cfg = { .max_write = 100000 };
	struct fxc_transport *t = NULL;
	struct fxc *c = NULL;
	struct fxc_result res;
	struct fxp_attr a;
	struct wire_buf b;
	char err[512] = "";
	int rc;

	if (access(SFTP_SERVER, X_OK) != 0) {
		printf("# skip: no %s\n", SFTP_SERVER);
		return;
	}
	rc = fxc_transport_cmd(argv, &t, err, sizeof(err));
	TAP_EQ_INT(rc, 0);
	rc = fxc_start(t, &cfg, &c, err, sizeof(err));
	TAP_EQ_INT(rc, 0);
	if (rc < 0) {
		printf("# %s\n", err);
		return;
	}
	TAP_CHECK(fxc_has(c, FXC_EXT_LIMITS));
	TAP_CHECK(fxc_has(c, FXC_EXT_POSIX_RENAME | FXC_EXT_STATVFS |
			  FXC_EXT_FSTATVFS | FXC_EXT_HARDLINK | FXC_EXT_FSYNC));
	TAP_CHECK(fxc_has(c, FXC_EXT_LSETSTAT | FXC_EXT_EXPAND_PATH |
			  FXC_EXT_HOME_DIR | FXC_EXT_COPY_DATA));
	TAP_EQ_INT(fxc_max_read(c), 261120);
	TAP_EQ_INT(fxc_max_write(c), 100000);	/* capped by the config */
	wire_buf_init(&b, 0);
	TAP_EQ_INT(fxp_enc_path(&b, FXP_STAT, "/"), 0);
	rc = fxc_call(c, -1, &b, &res);
	wire_buf_free(&b);
	TAP_EQ_INT(rc, 0);
	TAP_EQ_INT(res.reply.type, FXP_ATTRS);
	TAP_EQ_INT(fxp_dec_attrs(&res.reply, &a), 0);
	TAP_CHECK(S_ISDIR(a.perm));
	fxc_result_free(&res);
	wire_buf_init(&b, 0);
	TAP_EQ_INT(fxp_enc_path(&b, FXP_LSTAT, "/nonexistent/fxc-test"), 0);
	rc = fxc_call(c, -1, &b, &res);
	wire_buf_free(&b);
	TAP_EQ_INT(rc, 0);
	TAP_EQ_INT(fxp_reply_errno(&res.reply, FXP_ATTRS), -ENOENT);
	fxc_result_free(&res);
	fxc_free(c);
}

static void
test_bad_command(void)
{
	char *argv[] = { "/nonexistent/sftp-server", NULL };
	struct fxc_transport *t = NULL;
	char err[512] = "";

	TAP_EQ_INT(fxc_transport_cmd(argv, &t, err, sizeof(err)), -ENOENT);
	TAP_CHECK(t == NULL);
	TAP_CHECK(strstr(err, "/nonexistent/sftp-server") != NULL);
}

/* ---- reconnection ---- */

/* A redial that starts a new fake server (run_echo) per call, after failing
 * 'fail_first' times with 'fail_err', or always failing with 'fail_err'
 * when fail_first < 0; 'block_ms' makes each call hang first (a stuck
 * connect). */
struct rdial {
	int calls, returned;
	int fail_first;
	int fail_err;
	unsigned block_ms;
	int nf;
	struct fake f[8];
};

static int
rd_fn(void *arg, struct fxc_transport **out, char *err, size_t errlen)
{
	struct rdial *rd = arg;
	int n = __atomic_add_fetch(&rd->calls, 1, __ATOMIC_ACQ_REL);
	struct fake *f;
	int sv[2], rc;

	if (rd->block_ms)
		sleep_ms(rd->block_ms);
	if (rd->fail_first < 0 || n <= rd->fail_first || rd->nf == 8) {
		snprintf(err, errlen, "test: refused (%d)", n);
		__atomic_add_fetch(&rd->returned, 1, __ATOMIC_ACQ_REL);
		return rd->fail_err;
	}
	f = &rd->f[rd->nf];
	memset(f, 0, sizeof(*f));
	f->run = run_echo;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -errno;
	f->fd = sv[1];
	if (pthread_create(&f->th, NULL, fake_main, f) != 0)
		return -EAGAIN;
	rd->nf++;
	rc = fxc_transport_fds(sv[0], sv[0], 0, out);
	__atomic_add_fetch(&rd->returned, 1, __ATOMIC_ACQ_REL);
	return rc;
}

static void
rd_join(struct rdial *rd)
{
	int i;

	for (i = 0; i < rd->nf; i++) {
		pthread_join(rd->f[i].th, NULL);
		close(rd->f[i].fd);
	}
}

static enum fxc_link
link_of(struct fxc *c)
{
	struct fxc_stats s;

	fxc_get_stats(c, &s);
	return s.link;
}

static bool
wait_link(struct fxc *c, enum fxc_link l, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (link_of(c) != l) {
		if (now_ms() > end)
			return false;
		sleep_ms(5);
	}
	return true;
}

/* The link dies (EOF) with requests in every state: a sent path request
 * is sent again, a sent handle request gets -ENOTCONN, a sent FXC_ONCE one
 * -ECONNABORTED, an FXC_ONCE one that was still waiting for budget goes out
 * on the new link; one submitted during the outage waits and is sent. */
static void
test_rc_classify(void)
{
	static struct rdial rd;
	struct fxc_config cfg = { .inflight_bytes = 3 * 512, .redial = rd_fn,
				  .redial_arg = &rd, .reconnect_timeout_ms = 5000 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec a, b, cc, d, e, g;
	struct fxc_stats s;
	char err[512];

	memset(&rd, 0, sizeof(rd));
	if (start_fake(&f, run_hold, &cfg, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&cc, 0, sizeof(cc));
	memset(&d, 0, sizeof(d));
	memset(&e, 0, sizeof(e));
	memset(&g, 0, sizeof(g));
	TAP_EQ_INT(fxc_generation(c), 1);
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/a", &a), 0);
	TAP_EQ_INT(submit_stat_on(c, 1, 0, "/b", &b), 0);
	TAP_EQ_INT(submit_stat_on(c, 0, FXC_ONCE, "/c", &cc), 0);
	TAP_EQ_INT(submit_stat_on(c, 0, FXC_ONCE, "/d", &d), 0);	/* over budget */
	TAP_CHECK(wait_for(&f.nreq, 3, 3000));
	sleep_ms(50);
	TAP_EQ_INT(ld(&f.nreq), 3);
	shutdown(f.fd, SHUT_RDWR);
	TAP_CHECK(wait_for(&b.calls, 1, 3000));
	TAP_EQ_INT(b.err, -ENOTCONN);
	TAP_CHECK(wait_for(&a.calls, 1, 3000));
	TAP_EQ_INT(a.err, 0);
	TAP_CHECK(strstr(a.echo, "/a") != NULL);
	TAP_CHECK(wait_for(&cc.calls, 1, 3000));
	TAP_EQ_INT(cc.err, -ECONNABORTED);
	TAP_CHECK(wait_for(&d.calls, 1, 3000));
	TAP_EQ_INT(d.err, 0);
	TAP_CHECK(strstr(d.echo, "/d") != NULL);
	TAP_EQ_INT(fxc_generation(c), 2);
	/* the old generation's handles are gone for good */
	TAP_EQ_INT(submit_stat_on(c, 1, 0, "/e", &e), -ENOTCONN);
	TAP_EQ_INT(submit_stat_on(c, 2, 0, "/g", &g), 0);
	TAP_CHECK(wait_for(&g.calls, 1, 3000));
	TAP_EQ_INT(g.err, 0);
	TAP_CHECK(fxc_alive(c));
	fxc_get_stats(c, &s);
	TAP_EQ_INT(s.link, FXC_LINK_UP);
	TAP_EQ_INT(s.reconnects, 1);
	TAP_EQ_INT(s.generation, 2);
	TAP_CHECK(s.rtt_us > 0);
	TAP_EQ_INT(ld(&rd.calls), 1);
	TAP_EQ_INT(a.calls + b.calls + cc.calls + d.calls, 4);
	stop_fake(&f, c);
	rd_join(&rd);
}

/* fxc_kill is a lost link too; while it is down the deadline does not run:
 * a request with a 300 ms deadline waits through a 1.5 s outage (two
 * refused redials: at once, +0.5 s, +1 s) and then succeeds. */
static void
test_rc_deadline_suspended(void)
{
	static struct rdial rd;
	struct fxc_config cfg = { .request_timeout_ms = 300, .redial = rd_fn,
				  .redial_arg = &rd, .reconnect_timeout_ms = 10000 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec a, h;
	char err[512];
	uint64_t t0;

	memset(&rd, 0, sizeof(rd));
	rd.fail_first = 2;
	rd.fail_err = -ECONNREFUSED;
	if (start_fake(&f, run_echo, &cfg, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(&a, 0, sizeof(a));
	memset(&h, 0, sizeof(h));
	t0 = now_ms();
	fxc_kill(c);
	TAP_CHECK(fxc_alive(c));
	TAP_EQ_INT(submit_stat_on(c, 1, 0, "/h", &h), -ENOTCONN);
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/a", &a), 0);
	TAP_CHECK(wait_for(&a.calls, 1, 5000));
	TAP_EQ_INT(a.err, 0);
	TAP_CHECK(a.at - t0 >= 1200);
	TAP_EQ_INT(ld(&rd.calls), 3);
	TAP_EQ_INT(link_of(c), FXC_LINK_UP);
	stop_fake(&f, c);
	rd_join(&rd);
}

/* reconnect_timeout: requests waiting when the outage reaches it fail with
 * -EIO, new ones fail at once (FXC_LINK_DOWN), and when the link is back
 * everything works again. */
static void
test_rc_timeout(void)
{
	static struct rdial rd;
	struct fxc_config cfg = { .redial = rd_fn, .redial_arg = &rd,
				  .reconnect_timeout_ms = 400 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec a, b, g;
	struct fxc_stats s;
	char err[512];
	uint64_t t0;

	memset(&rd, 0, sizeof(rd));
	rd.fail_first = 3;	/* back after 0 + 0.5 + 1 + 2 s */
	rd.fail_err = -ETIMEDOUT;
	if (start_fake(&f, run_echo, &cfg, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&g, 0, sizeof(g));
	t0 = now_ms();
	fxc_kill(c);
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/a", &a), 0);
	TAP_CHECK(wait_for(&a.calls, 1, 3000));
	TAP_EQ_INT(a.err, -EIO);
	TAP_CHECK(a.at - t0 >= 350 && a.at - t0 < 2500);	/* generous: shared CI */
	TAP_EQ_INT(link_of(c), FXC_LINK_DOWN);
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/b", &b), -EIO);
	TAP_CHECK(fxc_alive(c));
	fxc_get_stats(c, &s);
	TAP_CHECK(strstr(s.last_error, "test: refused") != NULL);
	TAP_CHECK(wait_link(c, FXC_LINK_UP, 10000));
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/g", &g), 0);
	TAP_CHECK(wait_for(&g.calls, 1, 3000));
	TAP_EQ_INT(g.err, 0);
	TAP_EQ_INT(ld(&rd.calls), 4);
	stop_fake(&f, c);
	rd_join(&rd);
}

/* A started fxc over a fake server whose link was just killed, redialling
 * through rd (each call blocking block_ms, then failing with fail_err),
 * and one path request "/a" waiting for the link in *a. 0, or -1 after a
 * failed check. */
static int
rc_killed(struct rdial *rd, int fail_err, unsigned block_ms, const struct fxc_config *cfg,
	  struct fake *f, struct fxc **c, struct done_rec *a)
{
	char err[512];

	memset(rd, 0, sizeof(*rd));
	rd->fail_first = -1;
	rd->fail_err = fail_err;
	rd->block_ms = block_ms;
	memset(a, 0, sizeof(*a));
	if (start_fake(f, run_echo, cfg, c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return -1;
	}
	fxc_kill(*c);
	TAP_EQ_INT(submit_stat_on(*c, 0, 0, "/a", a), 0);
	return 0;
}

/* A changed host key stops at once; refused logins after
 * reconnect_max_logins in a row. Then FXC_LINK_FAILED: not alive, -EIO. */
static void
test_rc_failed(int err_code)
{
	static struct rdial rd;
	struct fxc_config cfg = { .redial = rd_fn, .redial_arg = &rd,
				  .reconnect_timeout_ms = 10000, .reconnect_max_logins = 2 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec a, b;

	if (rc_killed(&rd, err_code, 0, &cfg, &f, &c, &a) < 0)
		return;
	memset(&b, 0, sizeof(b));
	TAP_CHECK(wait_for(&a.calls, 1, 3000));
	TAP_EQ_INT(a.err, -EIO);
	TAP_EQ_INT(link_of(c), FXC_LINK_FAILED);
	TAP_CHECK(!fxc_alive(c));
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/b", &b), -EIO);
	TAP_EQ_INT(submit_stat_on(c, 1, 0, "/b", &b), -EIO);	/* for good, handles too */
	sleep_ms(700);
	TAP_EQ_INT(ld(&rd.calls), err_code == -EACCES ? 2 : 1);
	stop_fake(&f, c);
	rd_join(&rd);
}

/* fxc_free during an outage whose redial hangs returns within ~2 s; the
 * request waiting fails with -EIO. */
static void
test_rc_free_blocked(void)
{
	static struct rdial rd;
	struct fxc_config cfg = { .redial = rd_fn, .redial_arg = &rd,
				  .reconnect_timeout_ms = 10000 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec a;
	uint64_t t0;

	if (rc_killed(&rd, -ETIMEDOUT, 3500, &cfg, &f, &c, &a) < 0)
		return;
	TAP_CHECK(wait_for(&rd.calls, 1, 3000));
	t0 = now_ms();
	stop_fake(&f, c);
	TAP_CHECK(now_ms() - t0 < 3300);	/* ~2 s, not the 3.5 s redial */
	TAP_EQ_INT(a.calls, 1);
	TAP_EQ_INT(a.err, -EIO);
	/* the abandoned redial ends and frees the engine (ASan checks) */
	TAP_CHECK(wait_for(&rd.returned, 1, 5000));
	sleep_ms(100);
}

/* fxc_stop_waiting during an outage: what waits fails with -EIO at once,
 * reconnection stops for good; on a live link it changes nothing until the
 * link is lost, which is then final. */
static void
test_rc_stop_waiting(void)
{
	static struct rdial rd;
	struct fxc_config cfg = { .redial = rd_fn, .redial_arg = &rd,
				  .reconnect_timeout_ms = 10000 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec a, b;
	uint64_t t0;
	int calls;

	if (rc_killed(&rd, -ECONNREFUSED, 0, &cfg, &f, &c, &a) < 0)
		return;
	memset(&b, 0, sizeof(b));
	TAP_CHECK(wait_for(&rd.calls, 1, 3000));
	sleep_ms(100);
	TAP_EQ_INT(a.calls, 0);
	t0 = now_ms();
	fxc_stop_waiting(c);
	TAP_CHECK(wait_for(&a.calls, 1, 1000));
	TAP_EQ_INT(a.err, -EIO);
	TAP_CHECK(a.at - t0 < 1000);
	TAP_EQ_INT(link_of(c), FXC_LINK_FAILED);
	TAP_CHECK(!fxc_alive(c));
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/b", &b), -EIO);
	calls = ld(&rd.calls);
	sleep_ms(1200);
	TAP_EQ_INT(ld(&rd.calls), calls);	/* no more redials */
	stop_fake(&f, c);
	rd_join(&rd);
}

/* A link that says nothing at all (no reply, no probe answered) for two
 * keepalive intervals when a request's deadline comes is dead: with redial
 * the request is sent again on a new link instead of failing with
 * -ETIMEDOUT. */
static void
test_rc_silent_link_at_deadline(void)
{
	static struct rdial rd;
	struct fxc_config cfg = { .request_timeout_ms = 600, .keepalive_ms = 300,
				  .keepalive_count_max = 20, .redial = rd_fn,
				  .redial_arg = &rd, .reconnect_timeout_ms = 5000 };
	struct fake f;
	struct fxc *c = NULL;
	struct done_rec a;
	char err[512];

	memset(&rd, 0, sizeof(rd));
	memset(&a, 0, sizeof(a));
	if (start_fake(&f, run_hold, &cfg, &c, err, sizeof(err)) < 0) {
		TAP_CHECK(!"start");
		return;
	}
	TAP_EQ_INT(submit_stat_on(c, 0, 0, "/a", &a), 0);
	TAP_CHECK(wait_for(&a.calls, 1, 4000));
	TAP_EQ_INT(a.err, 0);
	TAP_CHECK(strstr(a.echo, "/a") != NULL);
	TAP_EQ_INT(fxc_generation(c), 2);
	stop_fake(&f, c);
	rd_join(&rd);
}

/* The real sftp-server, killed and redialled: same limits, generation 2. */
static int
rd_sftp(void *arg, struct fxc_transport **out, char *err, size_t errlen)
{
	char *argv[] = { SFTP_SERVER, NULL };

	__atomic_add_fetch((int *)arg, 1, __ATOMIC_ACQ_REL);
	return fxc_transport_cmd(argv, out, err, errlen);
}

static int
stat_root(struct fxc *c)
{
	struct fxc_result res;
	struct wire_buf b;
	int rc;

	wire_buf_init(&b, 0);
	rc = fxp_enc_path(&b, FXP_STAT, "/");
	if (rc == 0)
		rc = fxc_call(c, -1, &b, &res);
	wire_buf_free(&b);
	if (rc == 0 && res.reply.type != FXP_ATTRS)
		rc = -EPROTO;
	fxc_result_free(&res);
	return rc;
}

static void
test_rc_sftp_server(void)
{
	static int calls;
	char *argv[] = { SFTP_SERVER, NULL };
	struct fxc_config cfg = { .redial = rd_sftp, .redial_arg = &calls,
				  .reconnect_timeout_ms = 5000 };
	struct fxc_transport *t = NULL;
	struct fxc *c = NULL;
	char err[512] = "";
	uint32_t mr;

	if (access(SFTP_SERVER, X_OK) != 0) {
		printf("# skip: no %s\n", SFTP_SERVER);
		return;
	}
	TAP_EQ_INT(fxc_transport_cmd(argv, &t, err, sizeof(err)), 0);
	if (fxc_start(t, &cfg, &c, err, sizeof(err)) != 0) {
		TAP_CHECK(!"start");
		return;
	}
	mr = fxc_max_read(c);
	TAP_EQ_INT(stat_root(c), 0);
	fxc_kill(c);
	TAP_EQ_INT(stat_root(c), 0);
	TAP_EQ_INT(fxc_generation(c), 2);
	TAP_EQ_INT(calls, 1);
	TAP_EQ_INT(fxc_max_read(c), mr);
	fxc_free(c);
}

int
main(void)
{
	log_init("test_fxc", getenv("FXC_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	alarm(100);	/* a hang is a failure, never a stuck test run */
	test_handshake_and_order();
	test_deadline_and_late_reply();
	test_budget();
	test_hostile(1);
	test_hostile(2);
	test_hostile(3);
	test_hostile(4);
	test_many_callers();
	test_reentry();
	test_keepalive();
	test_kill();
	test_free_fails_pending();
	test_pipe_reader_gone();
	test_chatty_shell();
	test_sftp_server();
	test_bad_command();
	test_rc_classify();
	test_rc_deadline_suspended();
	test_rc_timeout();
	test_rc_failed(-EKEYREJECTED);
	test_rc_failed(-EACCES);
	test_rc_free_blocked();
	test_rc_stop_waiting();
	test_rc_silent_link_at_deadline();
	test_rc_sftp_server();
	return tap_done();
}
