/* status: see status.h. */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "asyncmeta.h"
#include "bgthread.h"
#include "fsopts.h"
#include "log.h"
#include "mountinfo.h"
#include "statsock.h"

/* A client gets this long to send its request line: one at a time is
 * served, and a silent one must not keep others waiting long. */
#define STATUS_CLIENT_MS 2000

/* ---- rendering ---- */

/* Appends to a fixed buffer; remembers overflow instead of failing each call. */
struct out {
	char *buf;
	size_t len, used;
	bool full;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used) {
		o->full = true;
		return;
	}
	o->used += (size_t)n;
}

static int
finish(struct out *o)
{
	return o->full ? -ENOSPC : (int)o->used;
}

/* A JSON string: quotes, backslashes and control bytes escaped; other
 * bytes as they are (remote paths are whatever the server uses). */
static void
put_jstr(struct out *o, const char *s)
{
	put(o, "\"");
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			put(o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			put(o, "\\u%04x", ch);
		else
			put(o, "%c", ch);
	}
	put(o, "\"");
}

const char *
status_link_name(enum fxc_link l)
{
	switch (l) {
	case FXC_LINK_UP:
		return "connected";
	case FXC_LINK_RECONNECTING:
		return "reconnecting";
	case FXC_LINK_DOWN:
		return "down";
	case FXC_LINK_FAILED:
		return "failed";
	}
	return "failed";
}

int
status_worst(const struct status_info *in)
{
	int i, w = in->nconn > 0 ? 0 : -1;

	for (i = 1; i < in->nconn; i++)
		if (in->conn[i].link > in->conn[w].link)
			w = i;
	return w;
}

/* When the reported state began: the engine's, or the mount's start when
 * the engine never changed state. */
static int64_t
since_of(const struct status_info *in, const struct fxc_stats *st)
{
	return st->link_since > 0 ? st->link_since : in->started;
}

/* The stats whose state the mount reports (all zero without engines). */
static const struct fxc_stats *
worst_stats(const struct status_info *in)
{
	static const struct fxc_stats none;
	int w = status_worst(in);

	return w >= 0 ? &in->conn[w] : &none;
}

struct totals {
	uint64_t requests, replies, bytes_in, bytes_out;
	unsigned inflight, reconnects;
};

static void
sum(const struct status_info *in, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < in->nconn; i++) {
		t->requests += in->conn[i].requests;
		t->replies += in->conn[i].replies;
		t->bytes_in += in->conn[i].bytes_in;
		t->bytes_out += in->conn[i].bytes_out;
		t->inflight += in->conn[i].inflight;
		t->reconnects += in->conn[i].reconnects;
	}
}

static void
put_link_json(struct out *o, const struct status_info *in, const struct fxc_stats *st)
{
	put(o, "\"state\":\"%s\",\"since\":%" PRId64 ",\"last_error\":",
	    status_link_name(st->link), since_of(in, st));
	put_jstr(o, st->last_error);
}

int
status_json(const struct status_info *in, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	const struct fxc_stats *st = worst_stats(in);
	int w = status_worst(in);
	struct totals t;

	sum(in, &t);
	put(&o, "{\"remote\":");
	put_jstr(&o, in->remote);
	put(&o, ",");
	put_link_json(&o, in, st);
	put(&o, ",\"reconnects\":%u,\"generation\":%" PRIu32 ",\"rtt_us\":%" PRIu64
	    ",\"uptime_s\":%" PRId64, t.reconnects, w >= 0 ? in->conn[0].generation : 0,
	    w >= 0 ? in->conn[0].rtt_us : 0, in->now - in->started);
	put(&o, ",\"requests\":%" PRIu64 ",\"replies\":%" PRIu64 ",\"bytes_in\":%" PRIu64
	    ",\"bytes_out\":%" PRIu64 ",\"inflight\":%u", t.requests, t.replies, t.bytes_in,
	    t.bytes_out, t.inflight);
	put(&o, ",\"open_files\":%u,\"queued_write_bytes\":%" PRIu64, in->open_files,
	    in->queued_write_bytes);
	put(&o, ",\"cache\":{\"attr_hits\":%" PRIu64 ",\"attr_misses\":%" PRIu64
	    ",\"dir_hits\":%" PRIu64 ",\"dir_misses\":%" PRIu64 "}", in->cache.attr_hits,
	    in->cache.attr_misses, in->cache.dir_hits, in->cache.dir_misses);
	put(&o, ",\"queued_ops\":%" PRIu64 ",\"pending_ops\":%u,\"refused_ops\":%" PRIu64,
	    in->queued_ops, in->pending_ops, in->refused_ops);
	put(&o, ",\"options\":{\"reconnect\":%s,\"reconnect_timeout\":%u,\"exclusive\":%s,"
	    "\"cache\":%s}", in->reconnect ? "true" : "false", in->reconnect_timeout,
	    in->exclusive ? "true" : "false", in->cache_on ? "true" : "false");
	put(&o, ",\"engines\":[");
	for (int i = 0; i < in->nconn; i++) {
		const struct fxc_stats *e = &in->conn[i];

		put(&o, "%s{", i ? "," : "");
		put_link_json(&o, in, e);
		put(&o, ",\"reconnects\":%u,\"generation\":%" PRIu32 ",\"rtt_us\":%" PRIu64
		    ",\"requests\":%" PRIu64 ",\"replies\":%" PRIu64 ",\"bytes_in\":%" PRIu64
		    ",\"bytes_out\":%" PRIu64 ",\"inflight\":%u}", e->reconnects, e->generation,
		    e->rtt_us, e->requests, e->replies, e->bytes_in, e->bytes_out, e->inflight);
	}
	put(&o, "]}\n");
	return finish(&o);
}

/* "12.3 MiB" */
static void
put_bytes(struct out *o, uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		put(o, "%" PRIu64 " B", n);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	put(o, "%.1f %s", v, unit[u]);
}

/* "3 h 4 min" style, coarse: people read it at a glance. */
static void
put_duration(struct out *o, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		put(o, "%" PRId64 " s", s);
	else if (s < 7200)
		put(o, "%" PRId64 " min %" PRId64 " s", s / 60, s % 60);
	else if (s < 172800)
		put(o, "%" PRId64 " h %" PRId64 " min", s / 3600, s / 60 % 60);
	else
		put(o, "%" PRId64 " days %" PRId64 " h", s / 86400, s / 3600 % 24);
}

static void
put_time(struct out *o, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char b[40];

	if (gmtime_r(&tt, &tm) && strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", &tm))
		put(o, "%s", b);
	else
		put(o, "%" PRId64, t);
}

static void
put_rate(struct out *o, const char *what, uint64_t hits, uint64_t misses)
{
	if (hits + misses == 0)
		put(o, "%s no lookups", what);
	else
		put(o, "%s %.0f%% hits (%" PRIu64 " of %" PRIu64 ")", what,
		    100.0 * (double)hits / (double)(hits + misses), hits, hits + misses);
}

static void
put_rtt(struct out *o, uint64_t us)
{
	if (us == 0)
		put(o, "not measured yet");
	else
		put(o, "%.1f ms", (double)us / 1000.0);
}

static void
put_state_text(struct out *o, const struct status_info *in, const struct fxc_stats *st)
{
	int64_t since = since_of(in, st);

	put(o, "%s since ", status_link_name(st->link));
	put_time(o, since);
	put(o, " (");
	put_duration(o, in->now - since);
	put(o, ")");
	if (st->link != FXC_LINK_UP && st->last_error[0])
		put(o, "; last error: %s", st->last_error);
}

int
status_text(const struct status_info *in, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	const struct fxc_stats *st = worst_stats(in);
	int w = status_worst(in);
	struct totals t;

	sum(in, &t);
	put(&o, "remote:      %s\nstate:       ", in->remote ? in->remote : "");
	put_state_text(&o, in, st);
	put(&o, "\nreconnects:  %u (connection generation %" PRIu32 ")\nround trip:  ",
	    t.reconnects, w >= 0 ? in->conn[0].generation : 0);
	put_rtt(&o, w >= 0 ? in->conn[0].rtt_us : 0);
	put(&o, "\ntraffic:     ");
	put_bytes(&o, t.bytes_in);
	put(&o, " in, ");
	put_bytes(&o, t.bytes_out);
	put(&o, " out, %" PRIu64 " requests, %u in flight\nopen files:  %u, ",
	    t.requests, t.inflight, in->open_files);
	put_bytes(&o, in->queued_write_bytes);
	put(&o, " of writes not yet acknowledged\ncache:       ");
	if (!in->cache_on) {
		put(&o, "off");
	} else {
		put_rate(&o, "attributes", in->cache.attr_hits, in->cache.attr_misses);
		put(&o, ", ");
		put_rate(&o, "listings", in->cache.dir_hits, in->cache.dir_misses);
	}
	if (in->exclusive)
		put(&o, "\nqueued:      %" PRIu64 " operations answered at once, %u not yet "
		    "answered by the server, %" PRIu64 " refused (logged; reported at the next "
		    "close or fsync)", in->queued_ops, in->pending_ops, in->refused_ops);
	put(&o, "\nuptime:      ");
	put_duration(&o, in->now - in->started);
	put(&o, "\noptions:     %s", in->reconnect ? "reconnect" : "noreconnect");
	if (in->reconnect)
		put(&o, ", reconnect_timeout=%u", in->reconnect_timeout);
	put(&o, ", cache=%s%s\n", in->cache_on ? "yes" : "no", in->exclusive ? ", exclusive" : "");
	for (int i = 0; in->nconn > 1 && i < in->nconn; i++) {
		const struct fxc_stats *e = &in->conn[i];

		put(&o, "connection %d: ", i + 1);
		put_state_text(&o, in, e);
		put(&o, ", %u reconnects, round trip ", e->reconnects);
		put_rtt(&o, e->rtt_us);
		put(&o, ", ");
		put_bytes(&o, e->bytes_in);
		put(&o, " in, ");
		put_bytes(&o, e->bytes_out);
		put(&o, " out, %" PRIu64 " requests\n", e->requests);
	}
	return finish(&o);
}

/* ---- the server ---- */

static void
snapshot(struct status *s, struct status_info *in)
{
	struct fs_ctx *c = s->c;

	memset(in, 0, sizeof(*in));
	in->remote = s->remote;
	in->now = (int64_t)time(NULL);
	in->started = s->since;
	in->nconn = c->nconn;
	for (int i = 0; i < c->nconn; i++) {
		fxc_get_stats(c->conn[i], &in->conn[i]);
		/* An engine without reconnection whose link died is failed for
		 * good (fxc.h), whatever its counters last said. */
		if (!fxc_alive(c->conn[i]) && in->conn[i].link == FXC_LINK_UP)
			in->conn[i].link = FXC_LINK_FAILED;
	}
	ofile_count(&c->files, &in->open_files, &in->queued_write_bytes);
	cache_get_stats(c->cache, &in->cache);
	in->cache_on = s->o->cache;
	in->exclusive = s->o->exclusive;
	in->reconnect = s->o->reconnect;
	in->reconnect_timeout = s->o->reconnect_timeout > 0 ? (unsigned)s->o->reconnect_timeout : 0;
	asyncmeta_status(&c->am, &in->refused_ops, &in->queued_ops, &in->pending_ops);
}

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* the client went away or stopped reading */
		p += w;
		n -= (size_t)w;
	}
}

/* Reads the request line ("json" or "text"); false when none came in time. */
static bool
read_request(int fd, bool *json)
{
	char req[32];
	size_t n = 0;

	while (n < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(req, '\n', n))
			break;
	}
	req[n] = '\0';
	*json = strncmp(req, "json\n", 5) == 0;
	return *json || strncmp(req, "text\n", 5) == 0;
}

static void
answer(struct status *s, int fd)
{
	struct timeval tv = { STATUS_CLIENT_MS / 1000, (STATUS_CLIENT_MS % 1000) * 1000 };
	struct status_info *in;
	char head[64], *body;
	size_t cap = 16384;
	bool json;
	uid_t uid;
	int n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The request is read first even from a client about to be refused:
	 * closing with it unread would reset the connection before the client
	 * reads why. */
	if (!read_request(fd, &json))
		return;
	if (statsock_peer_uid(fd, &uid) < 0 || (uid != 0 && uid != geteuid())) {
		n = snprintf(head, sizeof(head), STATSOCK_MAGIC STATSOCK_REFUSED "\n");
		send_all(fd, head, (size_t)n);
		return;
	}
	if ((in = malloc(sizeof(*in))) == NULL || (body = malloc(cap)) == NULL) {
		free(in);
		return;
	}
	snapshot(s, in);
	n = json ? status_json(in, body, cap) : status_text(in, body, cap);
	if (n >= 0) {
		int w = status_worst(in);
		int h = snprintf(head, sizeof(head), STATSOCK_MAGIC "%s\n",
				 status_link_name(w >= 0 ? in->conn[w].link : FXC_LINK_FAILED));

		send_all(fd, head, (size_t)h);
		send_all(fd, body, (size_t)n);
	}
	free(body);
	free(in);
}

static void *
serve(void *arg)
{
	struct status *s = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN },
				       { .fd = s->stop[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if ((fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		answer(s, fd);
		close(fd);
	}
	return NULL;
}

int
status_start(struct status *s, struct fs_ctx *c, const struct opts *o)
{
	struct mountinfo_entry e;
	char *info;
	int r;

	memset(s, 0, sizeof(*s));
	s->fd = s->stop[0] = s->stop[1] = -1;
	s->c = c;
	s->o = o;
	s->since = (int64_t)time(NULL);
	if ((info = mountinfo_read()) == NULL)
		return -errno;
	r = mountinfo_find(info, o->mountpoint, "fuse", &e);
	free(info);
	if (r < 0)
		return r;
	if ((r = fsopts_source(o, &s->remote)) < 0)
		return r;
	if ((r = statsock_listen(e.major, e.minor, &s->fd)) < 0)
		goto fail;
	if (pipe2(s->stop, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = bgthread_start(&s->thread, serve, s)) < 0)
		goto fail;
	s->started = true;
	log_debug("status socket: @sshmountfs/%u:%u", e.major, e.minor);
	return 0;
fail:
	status_stop(s);
	return r;
}

void
status_stop(struct status *s)
{
	if (s->c == NULL)
		return;	/* never started */
	if (s->started) {
		char b = 'q';

		while (write(s->stop[1], &b, 1) < 0 && errno == EINTR)
			;
		pthread_join(s->thread, NULL);
		s->started = false;
	}
	for (int i = 0; i < 2; i++)
		if (s->stop[i] >= 0) {
			close(s->stop[i]);
			s->stop[i] = -1;
		}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	free(s->remote);
	s->remote = NULL;
}
