/* Unit tests of core/rfs against a scripted SFTP server on a socketpair
 * (fxc's fd transport): the errno recovery probes, the extension fallbacks,
 * SYMLINK argument order, the pipelined read/write with short reads, empty
 * DATA and errors, READDIR name filtering, and malformed replies killing the
 * connection. The integration tests cover the same paths against OpenSSH;
 * here each server answer is chosen, so the branches OpenSSH never takes
 * are exercised too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fxc.h"
#include "fxp.h"
#include "log.h"
#include "rfs.h"
#include "tap.h"

#define FILE_SIZE 10000u	/* the scripted server's one file */
#define IO_SIZE 1000u		/* cfg max_read/max_write: 10 chunks */
#define MAX_LOG 256

/* One request as the server saw it. */
struct seen {
	uint8_t type;
	char a[64], b[64];	/* first two strings (paths, ext name + arg) */
};

struct srv;
/* Answers one request; returns 0, or -1 to stop serving. */
typedef int handler_fn(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd,
		       const struct seen *q);

struct srv {
	int fd;
	bool openssh;		/* announce the OpenSSH extensions */
	handler_fn *handler;
	pthread_t tid;
	pthread_mutex_t lock;
	struct seen log[MAX_LOG];	/* protected by lock */
	int nlog;			/* protected by lock */
	int reads;			/* READ requests answered */
	int flag;			/* per-test state */
};

/* ---- the scripted server ---- */

static void
srv_send(struct srv *s, struct wire_buf *b)
{
	size_t off = 0;
	ssize_t n;

	if (fxp_end(b) != 0)
		abort();
	while (off < b->len && (n = write(s->fd, b->p + off, b->len - off)) > 0)
		off += (size_t)n;
	wire_buf_free(b);
}

static void
reply_begin(struct wire_buf *b, uint8_t type, uint32_t id)
{
	wire_buf_init(b, FXP_MAX_PACKET);
	if (fxp_begin(b, type) != 0)
		abort();
	fxp_set_id(b, id);
}

static void
reply_status(struct srv *s, uint32_t id, uint32_t code)
{
	struct wire_buf b;

	reply_begin(&b, FXP_STATUS, id);
	if (wire_put_u32(&b, code) != 0 || wire_put_cstring(&b, "msg") != 0 ||
	    wire_put_cstring(&b, "") != 0)
		abort();
	srv_send(s, &b);
}

static void
reply_attrs(struct srv *s, uint32_t id, uint32_t perm, uint64_t size)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS | FXA_SIZE, .perm = perm, .size = size };
	struct wire_buf b;

	reply_begin(&b, FXP_ATTRS, id);
	if (fxp_attr_encode(&b, &a) != 0)
		abort();
	srv_send(s, &b);
}

static void
reply_handle(struct srv *s, uint32_t id)
{
	struct wire_buf b;

	reply_begin(&b, FXP_HANDLE, id);
	if (wire_put_string(&b, "H1", 2) != 0)
		abort();
	srv_send(s, &b);
}

/* NAME with 'n' names; count overrides the count field when nonzero. */
static void
reply_names(struct srv *s, uint32_t id, const char *const *names, uint32_t n, uint32_t count)
{
	struct fxp_attr a = { .flags = FXA_PERMISSIONS, .perm = 0100644 };
	struct wire_buf b;
	uint32_t i;

	reply_begin(&b, FXP_NAME, id);
	if (wire_put_u32(&b, count ? count : n) != 0)
		abort();
	for (i = 0; i < n; i++)
		if (wire_put_string(&b, names[i], strlen(names[i])) != 0 ||
		    wire_put_cstring(&b, "") != 0 || fxp_attr_encode(&b, &a) != 0)
			abort();
	srv_send(s, &b);
}

static uint8_t
pattern(uint64_t off)
{
	return (uint8_t)(off * 13 + off / 253);
}

static void
reply_data(struct srv *s, uint32_t id, uint64_t off, uint32_t len)
{
	struct wire_buf b;
	uint8_t *p;
	uint32_t i;

	reply_begin(&b, FXP_DATA, id);
	if (wire_put_u32(&b, len) != 0 || wire_reserve(&b, len, &p) != 0)
		abort();
	for (i = 0; i < len; i++)
		p[i] = pattern(off + i);
	srv_send(s, &b);
}

static void
reply_version(struct srv *s)
{
	static const char *const exts[] = {
		"posix-rename@openssh.com", "1", "hardlink@openssh.com", "1",
		"limits@openssh.com", "1", "statvfs@openssh.com", "2",
	};
	struct wire_buf b;
	size_t i;

	wire_buf_init(&b, 4096);
	if (fxp_begin(&b, FXP_VERSION) != 0)
		abort();
	wire_poke_u32(b.p + 5, 3);
	for (i = 0; s->openssh && i < sizeof(exts) / sizeof(exts[0]); i++)
		if (wire_put_cstring(&b, exts[i]) != 0)
			abort();
	srv_send(s, &b);
}

/* Reads one whole packet into *buf (malloc'ed); 0 at EOF. */
static size_t
srv_read_packet(struct srv *s, uint8_t **buf)
{
	uint8_t hdr[4];
	size_t got = 0, len;
	ssize_t n;

	while (got < 4 && (n = read(s->fd, hdr + got, 4 - got)) > 0)
		got += (size_t)n;
	if (got < 4)
		return 0;
	len = wire_peek_u32(hdr);
	if ((*buf = malloc(len)) == NULL)
		abort();
	for (got = 0; got < len && (n = read(s->fd, *buf + got, len - got)) > 0;)
		got += (size_t)n;
	if (got < len) {
		free(*buf);
		return 0;
	}
	return len;
}

/* Copies a string field into a log slot (cut to fit; views are enough). */
static void
take_str(struct wire_rd *rd, char *out, size_t outlen)
{
	const uint8_t *p;
	uint32_t n;

	out[0] = '\0';
	if (wire_get_string_direct(rd, &p, &n) != 0)
		return;
	if (n >= outlen)
		n = (uint32_t)outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static int
srv_one(struct srv *s, const uint8_t *pkt, size_t len)
{
	struct wire_rd rd, peek;
	struct seen q = { .type = pkt[0] };
	uint32_t id;

	wire_rd_init(&rd, pkt + 1, len - 1);
	if (q.type == FXP_INIT) {
		reply_version(s);
		return 0;
	}
	if (wire_get_u32(&rd, &id) != 0)
		return -1;
	peek = rd;
	take_str(&peek, q.a, sizeof(q.a));
	take_str(&peek, q.b, sizeof(q.b));
	if (q.type == FXP_EXTENDED && strcmp(q.a, "limits@openssh.com") == 0) {
		struct wire_buf b;

		reply_begin(&b, FXP_EXTENDED_REPLY, id);
		if (wire_put_u64(&b, 262144) != 0 || wire_put_u64(&b, 261120) != 0 ||
		    wire_put_u64(&b, 261120) != 0 || wire_put_u64(&b, 100) != 0)
			abort();
		srv_send(s, &b);
		return 0;
	}
	pthread_mutex_lock(&s->lock);
	if (s->nlog < MAX_LOG)
		s->log[s->nlog++] = q;
	pthread_mutex_unlock(&s->lock);
	return s->handler(s, q.type, id, &rd, &q);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	uint8_t *pkt;
	size_t len;
	int r = 0;

	while (r == 0 && (len = srv_read_packet(s, &pkt)) > 0) {
		r = srv_one(s, pkt, len);
		free(pkt);
	}
	return NULL;
}

/* ---- harness ---- */

static struct fxc *
start(struct srv *s, handler_fn *h, bool openssh)
{
	struct fxc_config cfg = { .request_timeout_ms = 5000, .max_read = IO_SIZE,
				  .max_write = IO_SIZE };
	struct fxc_transport *t;
	struct fxc *c = NULL;
	char err[256];
	int sv[2];

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->handler = h;
	s->openssh = openssh;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	s->fd = sv[1];
	pthread_create(&s->tid, NULL, srv_main, s);
	if (fxc_transport_fds(sv[0], sv[0], 0, &t) != 0 ||
	    fxc_start(t, &cfg, &c, err, sizeof(err)) != 0) {
		printf("# start: %s\n", err);
		abort();
	}
	return c;
}

static void
stop(struct srv *s, struct fxc *c)
{
	fxc_free(c);
	pthread_join(s->tid, NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
}

/* The type of the k-th logged request (0 when there is none). */
static uint8_t
logged(struct srv *s, int k, struct seen *out)
{
	uint8_t t = 0;

	pthread_mutex_lock(&s->lock);
	if (k < s->nlog) {
		t = s->log[k].type;
		if (out != NULL)
			*out = s->log[k];
	}
	pthread_mutex_unlock(&s->lock);
	return t;
}

static int
nlogged(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->nlog;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- metadata: errno recovery ---- */

/* Everything fails with FAILURE; "/exists" is a file, "/dir" a directory
 * whose listing holds 'flag' real entries. */
static int
h_failures(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd,
	   const struct seen *q)
{
	static const char *const full[] = { ".", "..", "x" }, *const empty[] = { ".", ".." };

	(void)rd;
	if (type == FXP_LSTAT || type == FXP_STAT) {
		if (strcmp(q->a, "/exists") == 0)
			reply_attrs(s, id, 0100644, 1);
		else if (strcmp(q->a, "/dir") == 0 || strcmp(q->a, "/dir2") == 0)
			reply_attrs(s, id, 040755, 0);
		else
			reply_status(s, id, FX_NO_SUCH_FILE);
	} else if (type == FXP_OPENDIR)
		reply_handle(s, id);
	else if (type == FXP_READDIR) {
		if (s->reads++ > 0)
			reply_status(s, id, FX_EOF);
		else if (s->flag)
			reply_names(s, id, full, 3, 0);
		else
			reply_names(s, id, empty, 2, 0);
	} else if (type == FXP_CLOSE)
		reply_status(s, id, FX_OK);
	else
		reply_status(s, id, FX_FAILURE);
	return 0;
}

static void
test_errno_recovery(void)
{
	struct rfs_handle h;
	struct srv s;
	struct fxc *c = start(&s, h_failures, true);

	TAP_EQ_INT(rfs_mkdir(c, "/exists", 0755), -EEXIST);
	TAP_EQ_INT(rfs_mkdir(c, "/nothere", 0755), -EPERM);	/* FAILURE, no probe hit */
	TAP_EQ_INT(rfs_open(c, -1, "/exists", FXF_WRITE | FXF_CREAT | FXF_EXCL, NULL, &h), -EEXIST);
	TAP_EQ_INT(rfs_open(c, -1, "/dir", FXF_WRITE, NULL, &h), -EISDIR);
	TAP_EQ_INT(rfs_open(c, -1, "/exists", FXF_READ, NULL, &h), -EPERM);
	TAP_EQ_INT(rfs_remove(c, "/dir"), -EISDIR);
	TAP_EQ_INT(rfs_remove(c, "/exists"), -EPERM);
	TAP_EQ_INT(rfs_rmdir(c, "/exists"), -ENOTDIR);
	s.flag = 1;
	s.reads = 0;
	TAP_EQ_INT(rfs_rmdir(c, "/dir"), -ENOTEMPTY);
	s.flag = 0;
	s.reads = 0;
	TAP_EQ_INT(rfs_rmdir(c, "/dir"), -EPERM);	/* empty: not ENOTEMPTY */
	TAP_EQ_INT(rfs_symlink(c, "t", "/exists"), -EEXIST);
	TAP_EQ_INT(rfs_link(c, "/a", "/exists"), -EEXIST);
	/* posix-rename FAILURE between a dir and a file. */
	TAP_EQ_INT(rfs_rename(c, "/dir", "/exists", false), -ENOTDIR);
	TAP_EQ_INT(rfs_rename(c, "/exists", "/dir", false), -EISDIR);
	s.flag = 1;
	s.reads = 0;
	TAP_EQ_INT(rfs_rename(c, "/dir2", "/dir", false), -ENOTEMPTY);
	stop(&s, c);
}

/* ---- extensions, fallbacks, argument order ---- */

static int
h_ok(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd, const struct seen *q)
{
	static const char *const home[] = { "/home/u" };

	(void)rd;
	if (type == FXP_LSTAT && strcmp(q->a, "/taken") == 0)
		reply_attrs(s, id, 0100644, 0);
	else if (type == FXP_LSTAT)
		reply_status(s, id, FX_NO_SUCH_FILE);
	else if (type == FXP_REALPATH)
		reply_names(s, id, home, 1, 0);
	else if (type == FXP_EXTENDED && strcmp(q->a, "posix-rename@openssh.com") == 0)
		reply_status(s, id, s->flag ? FX_OP_UNSUPPORTED : FX_OK);
	else
		reply_status(s, id, FX_OK);
	return 0;
}

static void
test_symlink_order(void)
{
	struct seen q;
	struct srv s;
	struct fxc *c;

	c = start(&s, h_ok, true);
	TAP_EQ_INT(rfs_symlink(c, "target", "/link"), 0);
	TAP_EQ_INT(logged(&s, 0, &q), FXP_SYMLINK);
	TAP_CHECK(strcmp(q.a, "target") == 0 && strcmp(q.b, "/link") == 0);	/* OpenSSH */
	stop(&s, c);

	c = start(&s, h_ok, false);
	TAP_EQ_INT(rfs_symlink(c, "target", "/link"), 0);
	TAP_EQ_INT(logged(&s, 0, &q), FXP_SYMLINK);
	TAP_CHECK(strcmp(q.a, "/link") == 0 && strcmp(q.b, "target") == 0);	/* draft-02 */
	stop(&s, c);
}

static void
test_rename_paths(void)
{
	struct seen q;
	struct srv s;
	struct fxc *c = start(&s, h_ok, true);
	char *home = NULL;

	TAP_EQ_INT(rfs_rename(c, "/a", "/b", false), 0);
	TAP_EQ_INT(logged(&s, 0, &q), FXP_EXTENDED);
	TAP_CHECK(strcmp(q.a, "posix-rename@openssh.com") == 0 && strcmp(q.b, "/a") == 0);
	TAP_EQ_INT(nlogged(&s), 1);
	/* Refused posix-rename: the plain RENAME follows. */
	s.flag = 1;
	TAP_EQ_INT(rfs_rename(c, "/a", "/b", false), 0);
	TAP_EQ_INT(logged(&s, 1, NULL), FXP_EXTENDED);
	TAP_EQ_INT(logged(&s, 2, &q), FXP_RENAME);
	TAP_CHECK(strcmp(q.a, "/a") == 0 && strcmp(q.b, "/b") == 0);
	/* noreplace: an existing target is refused before any rename. */
	TAP_EQ_INT(rfs_rename(c, "/a", "/taken", true), -EEXIST);
	TAP_EQ_INT(logged(&s, 3, NULL), FXP_LSTAT);
	TAP_EQ_INT(nlogged(&s), 4);
	TAP_EQ_INT(rfs_rename(c, "/a", "/free", true), 0);
	TAP_EQ_INT(logged(&s, 5, NULL), FXP_RENAME);
	/* No lsetstat, fsync, copy-data announced: nothing is sent. */
	TAP_EQ_INT(rfs_lsetstat(c, "/a", &(struct fxp_attr){ 0 }), -EOPNOTSUPP);
	TAP_EQ_INT(nlogged(&s), 6);
	/* home: no home-directory/expand-path, so REALPATH ".". */
	TAP_EQ_INT(rfs_home(c, &home), 0);
	TAP_CHECK(home != NULL && strcmp(home, "/home/u") == 0);
	TAP_EQ_INT(logged(&s, 6, &q), FXP_REALPATH);
	TAP_CHECK(strcmp(q.a, ".") == 0);
	free(home);
	stop(&s, c);

	c = start(&s, h_ok, false);
	TAP_EQ_INT(rfs_rename(c, "/a", "/b", false), 0);
	TAP_EQ_INT(logged(&s, 0, NULL), FXP_RENAME);	/* no posix-rename */
	TAP_EQ_INT(rfs_link(c, "/a", "/b"), -EOPNOTSUPP);
	TAP_EQ_INT(nlogged(&s), 1);
	stop(&s, c);
}

/* ---- READDIR filtering, malformed replies ---- */

static int
h_names(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd, const struct seen *q)
{
	static const char *const names[] = { "a", "b/c", "", ".", "..", "d e" };

	(void)rd;
	(void)q;
	if (type == FXP_OPENDIR)
		reply_handle(s, id);
	else if (type == FXP_READDIR && s->reads++ == 0)
		reply_names(s, id, names, 6, 0);
	else if (type == FXP_READDIR)
		reply_status(s, id, FX_EOF);
	else if (type == FXP_REALPATH)
		reply_names(s, id, names, 1, 1000000000u);	/* a lying count */
	else
		reply_status(s, id, FX_OK);
	return 0;
}

static int
collect(void *arg, const char *name, const struct fxp_attr *a)
{
	char *acc = arg;
	size_t l = strlen(acc);

	(void)a;
	snprintf(acc + l, 256 - l, "[%s]", name);
	return 0;
}

static void
test_readdir_and_violations(void)
{
	struct rfs_handle h;
	char acc[256] = "";
	char *out = NULL;
	struct srv s;
	struct fxc *c = start(&s, h_names, true);

	TAP_EQ_INT(rfs_opendir(c, "/", &h), 0);
	TAP_EQ_INT(rfs_readdir(c, &h, collect, acc), 6);	/* entries in the batch */
	TAP_CHECK(strcmp(acc, "[a][.][..][d e]") == 0);
	printf("# listed %s\n", acc);
	TAP_EQ_INT(rfs_readdir(c, &h, collect, acc), 0);	/* EOF */
	TAP_EQ_INT(rfs_close(c, &h), 0);
	TAP_CHECK(fxc_alive(c));
	/* A NAME whose count the packet cannot hold kills the connection. */
	TAP_EQ_INT(rfs_realpath(c, "/x", &out), -EIO);
	TAP_CHECK(out == NULL);
	TAP_CHECK(!fxc_alive(c));
	TAP_EQ_INT(rfs_mkdir(c, "/y", 0700), -EIO);
	stop(&s, c);
}

/* ---- the data path ---- */

enum { D_HONEST, D_SHORT, D_ZERO, D_FAIL_5000, D_ZERO_ONCE, D_TOO_MUCH };

struct dsrv {
	struct srv s;			/* first: handlers get &dsrv.s */
	bool zeroed[FILE_SIZE / IO_SIZE + 1];
	uint64_t written;
	bool bad_data;
};

static int
h_read(struct srv *s, uint32_t id, uint64_t off, uint32_t len)
{
	struct dsrv *d = (struct dsrv *)s;

	if (s->flag == D_FAIL_5000 && off == 5000) {
		reply_status(s, id, FX_FAILURE);
		return 0;
	}
	if (off >= FILE_SIZE) {
		reply_status(s, id, FX_EOF);
		return 0;
	}
	if (len > FILE_SIZE - off)
		len = (uint32_t)(FILE_SIZE - off);
	if (s->flag == D_SHORT && len > 300)
		len = 300;
	if (s->flag == D_ZERO)
		len = 0;
	if (s->flag == D_ZERO_ONCE && off % (2 * IO_SIZE) == IO_SIZE &&
	    !d->zeroed[off / IO_SIZE]) {
		d->zeroed[off / IO_SIZE] = true;
		len = 0;
	}
	if (s->flag == D_TOO_MUCH)
		len += 7;
	reply_data(s, id, off, len);
	return 0;
}

static int
h_write(struct srv *s, uint32_t id, uint64_t off, const uint8_t *p, uint32_t n)
{
	struct dsrv *d = (struct dsrv *)s;
	uint32_t i;

	if (s->flag == D_FAIL_5000 && off == 5000) {
		reply_status(s, id, FX_FAILURE);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (p[i] != pattern(off + i))
			d->bad_data = true;
	d->written += n;
	reply_status(s, id, FX_OK);
	return 0;
}

static int
h_data(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd, const struct seen *q)
{
	const uint8_t *hp, *p;
	uint32_t hl, n;
	uint64_t off;

	(void)q;
	if (type == FXP_OPEN) {
		reply_handle(s, id);
		return 0;
	}
	if (type != FXP_READ && type != FXP_WRITE) {
		reply_status(s, id, FX_OK);
		return 0;
	}
	if (wire_get_string_direct(rd, &hp, &hl) != 0 || wire_get_u64(rd, &off) != 0)
		return -1;
	s->reads++;
	if (type == FXP_READ)
		return wire_get_u32(rd, &n) != 0 ? -1 : h_read(s, id, off, n);
	return wire_get_string_direct(rd, &p, &n) != 0 ? -1 : h_write(s, id, off, p, n);
}

static int
buf_matches(const uint8_t *b, uint64_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != pattern(off + i))
			return 0;
	return 1;
}

/* Whether the connection of the last read_mode / read_async_mode was
 * still up after the read (a protocol violation kills it). */
static bool last_alive;

/* Opens the file on a fresh server in 'mode' and reads [off, off+len). */
static ssize_t
read_mode(int mode, uint64_t off, size_t len, uint8_t *buf, int *requests)
{
	struct dsrv d;
	struct rfs_handle h;
	struct fxc *c = start(&d.s, h_data, true);
	ssize_t r;

	memset((char *)&d + sizeof(d.s), 0, sizeof(d) - sizeof(d.s));
	d.s.flag = mode;
	if (rfs_open(c, -1, "/f", FXF_READ, NULL, &h) != 0)
		abort();
	r = rfs_read(c, &h, off, buf, len);
	last_alive = fxc_alive(c);
	(void)rfs_close(c, &h);
	*requests = d.s.reads;
	stop(&d.s, c);
	return r;
}

static void
test_read(void)
{
	uint8_t *buf = malloc(3 * FILE_SIZE);
	int n;

	TAP_CHECK(buf != NULL);
	TAP_EQ_INT(read_mode(D_HONEST, 0, FILE_SIZE, buf, &n), FILE_SIZE);
	TAP_CHECK(buf_matches(buf, 0, FILE_SIZE));
	TAP_EQ_INT(n, FILE_SIZE / IO_SIZE);	/* one READ per chunk */
	/* Past the end: short count at EOF, the rest untouched. */
	TAP_EQ_INT(read_mode(D_HONEST, 5500, 2 * FILE_SIZE, buf, &n), FILE_SIZE - 5500);
	TAP_CHECK(buf_matches(buf, 5500, FILE_SIZE - 5500));
	TAP_EQ_INT(read_mode(D_HONEST, FILE_SIZE, 100, buf, &n), 0);
	/* Short reads: the remainder of each chunk is requested again. */
	memset(buf, 0, FILE_SIZE);
	TAP_EQ_INT(read_mode(D_SHORT, 0, FILE_SIZE, buf, &n), FILE_SIZE);
	TAP_CHECK(buf_matches(buf, 0, FILE_SIZE));
	TAP_EQ_INT(n, 4 * (FILE_SIZE / IO_SIZE));	/* 300+300+300+100 */
	/* One empty DATA per chunk is tolerated, two in a row are not. */
	memset(buf, 0, FILE_SIZE);
	TAP_EQ_INT(read_mode(D_ZERO_ONCE, 0, FILE_SIZE, buf, &n), FILE_SIZE);
	TAP_CHECK(buf_matches(buf, 0, FILE_SIZE));
	TAP_EQ_INT(n, FILE_SIZE / IO_SIZE + 5);
	TAP_CHECK(last_alive);
	/* Two in a row, or more than asked, break the protocol: the
	 * connection is killed and the read is -EIO (rfs's one rule). */
	TAP_EQ_INT(read_mode(D_ZERO, 0, FILE_SIZE, buf, &n), -EIO);
	TAP_CHECK(!last_alive);
	TAP_CHECK(n >= 2);
	TAP_EQ_INT(read_mode(D_TOO_MUCH, 0, FILE_SIZE, buf, &n), -EIO);
	TAP_CHECK(!last_alive);
	/* An error in the middle fails the read, though later chunks came. */
	TAP_EQ_INT(read_mode(D_FAIL_5000, 0, FILE_SIZE, buf, &n), -EPERM);
	TAP_EQ_INT(n, FILE_SIZE / IO_SIZE);
	/* ... but not a read that ends before it. */
	TAP_EQ_INT(read_mode(D_FAIL_5000, 0, 5000, buf, &n), 5000);
	free(buf);
}

/* What an rfs_read_async callback saw. */
struct arec {
	int calls;			/* atomic */
	int err;
	uint32_t len;
	bool match;
	uint64_t off;
};

static void
arec_cb(void *arg, int err, const uint8_t *data, uint32_t len)
{
	struct arec *a = arg;

	a->err = err;
	a->len = len;
	a->match = data == NULL || buf_matches(data, a->off, len);
	__atomic_add_fetch(&a->calls, 1, __ATOMIC_RELEASE);
}

/* Bounded wait for the callback (the request deadline is 5 s). */
static bool
arec_wait(struct arec *a)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	int i;

	for (i = 0; i < 5000; i++) {
		if (__atomic_load_n(&a->calls, __ATOMIC_ACQUIRE) > 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* One async READ of [off, off+len) on a fresh server in 'mode'. */
static void
read_async_mode(int mode, uint64_t off, uint32_t len, struct arec *a)
{
	struct dsrv d;
	struct rfs_handle h;
	struct fxc *c = start(&d.s, h_data, true);

	memset((char *)&d + sizeof(d.s), 0, sizeof(d) - sizeof(d.s));
	memset(a, 0, sizeof(*a));
	a->off = off;
	d.s.flag = mode;
	if (rfs_open(c, -1, "/f", FXF_READ, NULL, &h) != 0)
		abort();
	TAP_EQ_INT(rfs_read_async(c, &h, off, len, arec_cb, a), 0);
	TAP_CHECK(arec_wait(a));
	last_alive = fxc_alive(c);
	(void)rfs_close(c, &h);
	stop(&d.s, c);
}

static void
test_read_async(void)
{
	struct arec a;

	read_async_mode(D_HONEST, 100, 500, &a);
	TAP_CHECK(a.err == 0 && a.len == 500 && a.match);
	read_async_mode(D_HONEST, FILE_SIZE - 10, 500, &a);
	TAP_CHECK(a.err == 0 && a.len == 10 && a.match);	/* short at the end */
	read_async_mode(D_HONEST, FILE_SIZE, 500, &a);
	TAP_CHECK(a.err == 0 && a.len == 0);		/* EOF */
	/* More than asked for is a broken server, as for rfs_read: the
	 * callback must never see more bytes than the caller has room for. */
	read_async_mode(D_TOO_MUCH, 0, 500, &a);
	TAP_EQ_INT(a.err, -EIO);
	TAP_EQ_INT(a.len, 0);
	TAP_EQ_INT(a.calls, 1);
	TAP_CHECK(!last_alive);
	/* An empty DATA is not the end of the file: asked again once (the
	 * callback sees the data), and a second one in a row breaks the
	 * protocol; a reader must never take it for EOF. */
	read_async_mode(D_ZERO_ONCE, IO_SIZE, 500, &a);
	TAP_CHECK(a.err == 0 && a.len == 500 && a.match && a.calls == 1);
	TAP_CHECK(last_alive);
	read_async_mode(D_ZERO, 0, 500, &a);
	TAP_EQ_INT(a.err, -EIO);
	TAP_EQ_INT(a.calls, 1);
	TAP_CHECK(!last_alive);
}

static void
test_write(void)
{
	uint8_t *buf = malloc(FILE_SIZE);
	struct rfs_handle h;
	struct dsrv d;
	struct fxc *c;
	uint32_t i;

	for (i = 0; i < FILE_SIZE; i++)
		buf[i] = pattern(i);
	c = start(&d.s, h_data, true);
	memset((char *)&d + sizeof(d.s), 0, sizeof(d) - sizeof(d.s));
	TAP_EQ_INT(rfs_open(c, -1, "/f", FXF_WRITE, NULL, &h), 0);
	TAP_EQ_INT(h.chan, rfs_pick_chan(c, "/f"));
	TAP_EQ_INT(rfs_write(c, &h, 0, buf, FILE_SIZE), FILE_SIZE);
	TAP_EQ_INT(d.s.reads, FILE_SIZE / IO_SIZE);
	TAP_EQ_INT(d.written, FILE_SIZE);
	TAP_CHECK(!d.bad_data);
	TAP_EQ_INT(rfs_write(c, &h, 123, buf + 123, 4567), 4567);
	TAP_CHECK(!d.bad_data);
	TAP_EQ_INT(rfs_write(c, &h, 0, buf, 0), 0);
	d.s.flag = D_FAIL_5000;
	TAP_EQ_INT(rfs_write(c, &h, 0, buf, FILE_SIZE), -EPERM);
	TAP_EQ_INT(rfs_close(c, &h), 0);
	stop(&d.s, c);
	free(buf);
}

/* ---- an operation and the attributes after it (rfs_pair.c) ---- */

/* "/new" can be made and is then a directory, "/f" a file of 7 bytes,
 * "/exists" refuses creation (FAILURE) but exists. */
static int
h_pairs(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd, const struct seen *q)
{
	(void)rd;
	if (type == FXP_MKDIR || type == FXP_OPEN)
		if (strcmp(q->a, "/exists") == 0)
			reply_status(s, id, FX_FAILURE);
		else if (type == FXP_OPEN)
			reply_handle(s, id);
		else
			reply_status(s, id, FX_OK);
	else if (type == FXP_LSTAT || type == FXP_STAT)
		reply_attrs(s, id, strcmp(q->a, "/new") == 0 ? 040700 : 0100600, 7);
	else if (type == FXP_FSTAT)
		reply_attrs(s, id, 0100640, 9);
	else
		reply_status(s, id, FX_OK);
	return 0;
}

static void
test_pairs(void)
{
	struct fxp_attr mode = { .flags = FXA_PERMISSIONS, .perm = 0700 }, after;
	struct rfs_handle h, each[3];
	struct rfs_pending *p;
	struct seen q;
	struct srv s;
	struct fxc *c = start(&s, h_pairs, true);
	int chans[3] = { 0, 0, 0 }, n;

	TAP_EQ_INT(rfs_mkdir_lstat(c, "/new", &mode, &after), 0);
	TAP_CHECK(logged(&s, 0, &q) == FXP_MKDIR && strcmp(q.a, "/new") == 0);
	TAP_CHECK(logged(&s, 1, &q) == FXP_LSTAT && strcmp(q.a, "/new") == 0);
	TAP_CHECK((after.flags & FXA_PERMISSIONS) && after.perm == 040700);
	/* FAILURE on an existing path is EEXIST (an LSTAT tells) */
	TAP_EQ_INT(rfs_mkdir_lstat(c, "/exists", &mode, &after), -EEXIST);
	TAP_EQ_INT(after.flags, 0);

	TAP_EQ_INT(rfs_open_lstat(c, -1, "/f", FXF_WRITE | FXF_CREAT | FXF_EXCL, &mode, &h,
				  &after), 0);
	TAP_CHECK(after.size == 7 && h.len > 0);
	TAP_EQ_INT(rfs_open_lstat(c, -1, "/exists", FXF_WRITE | FXF_CREAT | FXF_EXCL, &mode, &h,
				  &after), -EEXIST);

	TAP_EQ_INT(rfs_setstat_stat(c, "/f", &mode, false, true, &after), 0);
	TAP_CHECK(logged(&s, nlogged(&s) - 2, &q) == FXP_SETSTAT);
	TAP_CHECK(logged(&s, nlogged(&s) - 1, &q) == FXP_STAT && after.size == 7);
	/* no lsetstat@openssh.com announced: nothing is sent */
	n = nlogged(&s);
	TAP_EQ_INT(rfs_setstat_stat(c, "/f", &mode, true, false, &after), -EOPNOTSUPP);
	TAP_EQ_INT(nlogged(&s), n);

	TAP_EQ_INT(rfs_fsetstat_fstat(c, &h, &mode, &after), 0);
	TAP_CHECK(logged(&s, nlogged(&s) - 2, NULL) == FXP_FSETSTAT);
	TAP_CHECK(after.size == 9 && after.perm == 0100640);

	p = rfs_fstat_send(c, &h);
	TAP_EQ_INT(rfs_fstat_collect(p, &after), 0);
	TAP_CHECK(after.size == 9);

	TAP_EQ_INT(rfs_open_each(c, "/f", FXF_WRITE, chans, 3, each), 3);
	TAP_EQ_INT(rfs_open_each(c, "/exists", FXF_WRITE, chans, 2, each), 0);
	stop(&s, c);
}

/* ---- reconnection: requests not safe to apply twice ---- */

/* The first server never answers: the link dies with the request sent. */
static int
h_silent(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd, const struct seen *q)
{
	(void)s, (void)type, (void)id, (void)rd, (void)q;
	return 0;
}

/* The server after the reconnect: names under /there exist (directories
 * under /there/d, symlinks to "t" under /there/l, files elsewhere), the
 * rest does not. */
static int
h_after(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd, const struct seen *q)
{
	static const char *const target[] = { "t" };

	(void)rd;
	if (type == FXP_LSTAT || type == FXP_STAT) {
		if (strncmp(q->a, "/there", 6) != 0)
			reply_status(s, id, FX_NO_SUCH_FILE);
		else
			reply_attrs(s, id, strncmp(q->a, "/there/d", 8) == 0 ? 040755 : 0100644, 0);
	} else if (type == FXP_READLINK && strncmp(q->a, "/there/l", 8) == 0) {
		reply_names(s, id, target, 1, 0);
	} else {
		reply_status(s, id, FX_FAILURE);	/* nothing is applied twice */
	}
	return 0;
}

static int
rc_redial(void *arg, struct fxc_transport **out, char *err, size_t errlen)
{
	struct srv *s = arg;
	int sv[2];

	(void)err, (void)errlen;
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->handler = h_after;
	s->openssh = true;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	s->fd = sv[1];
	pthread_create(&s->tid, NULL, srv_main, s);
	return fxc_transport_fds(sv[0], sv[0], 0, out);
}

enum rc_op { RC_REMOVE, RC_RMDIR, RC_MKDIR, RC_RENAME, RC_SYMLINK, RC_LINK, RC_EXCL };

struct rc_case {
	enum rc_op op;
	const char *a, *b;
	int want;
	struct fxc *c;
	int got;
};

static void *
rc_run(void *arg)
{
	struct rc_case *k = arg;
	struct rfs_handle h;

	switch (k->op) {
	case RC_REMOVE: k->got = rfs_remove(k->c, k->a); break;
	case RC_RMDIR: k->got = rfs_rmdir(k->c, k->a); break;
	case RC_MKDIR: k->got = rfs_mkdir(k->c, k->a, 0755); break;
	case RC_RENAME: k->got = rfs_rename(k->c, k->a, k->b, false); break;
	case RC_SYMLINK: k->got = rfs_symlink(k->c, k->b, k->a); break;
	case RC_LINK: k->got = rfs_link(k->c, k->a, k->b); break;
	case RC_EXCL:
		k->got = rfs_open(k->c, -1, k->a, FXF_WRITE | FXF_CREAT | FXF_EXCL, NULL, &h);
		break;
	}
	return NULL;
}

/* Each case: the request goes out, the link dies before the answer, the
 * new server shows a state, and rfs decides from it (rfs.h). */
static void
test_reconnect_once(void)
{
	static struct rc_case cases[] = {
		{ RC_REMOVE, "/gone/f", NULL, 0, NULL, 1 },
		{ RC_REMOVE, "/there/f", NULL, -EIO, NULL, 1 },
		{ RC_RMDIR, "/gone/d", NULL, 0, NULL, 1 },
		{ RC_RMDIR, "/there/d", NULL, -EIO, NULL, 1 },
		{ RC_MKDIR, "/there/d1", NULL, 0, NULL, 1 },
		{ RC_MKDIR, "/there/f1", NULL, -EIO, NULL, 1 },
		{ RC_MKDIR, "/gone/d1", NULL, -EIO, NULL, 1 },
		{ RC_RENAME, "/gone/a", "/there/b", 0, NULL, 1 },
		{ RC_RENAME, "/there/a", "/there/b", -EIO, NULL, 1 },
		{ RC_RENAME, "/gone/a", "/gone/b", -EIO, NULL, 1 },
		{ RC_SYMLINK, "/there/l1", "t", 0, NULL, 1 },
		{ RC_SYMLINK, "/there/f2", "t", -EIO, NULL, 1 },
		{ RC_LINK, "/there/a", "/there/b", -EIO, NULL, 1 },
		{ RC_EXCL, "/there/new", NULL, -EIO, NULL, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rc_case *k = &cases[i];
		struct fxc_config cfg = { .request_timeout_ms = 5000, .reconnect_timeout_ms = 5000,
					  .redial = rc_redial };
		struct srv s1, s2;
		struct fxc_transport *t;
		char err[256], name[96];
		pthread_t th;
		int sv[2], n;

		memset(&s1, 0, sizeof(s1));
		pthread_mutex_init(&s1.lock, NULL);
		s1.handler = h_silent;
		s1.openssh = true;
		cfg.redial_arg = &s2;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			abort();
		s1.fd = sv[1];
		pthread_create(&s1.tid, NULL, srv_main, &s1);
		if (fxc_transport_fds(sv[0], sv[0], 0, &t) != 0 ||
		    fxc_start(t, &cfg, &k->c, err, sizeof(err)) != 0)
			abort();
		pthread_create(&th, NULL, rc_run, k);
		for (n = 0; n < 2000; n++) {
			pthread_mutex_lock(&s1.lock);
			bool seen = s1.nlog > 0;
			pthread_mutex_unlock(&s1.lock);
			if (seen)
				break;
			usleep(1000);
		}
		fxc_kill(k->c);
		pthread_join(th, NULL);
		snprintf(name, sizeof(name), "reconnect: op %d %s -> %d", (int)k->op, k->a, k->want);
		tap_point(k->got == k->want, name, __FILE__, __LINE__);
		if (k->got != k->want)
			printf("#   got %d\n", k->got);
		TAP_EQ_INT(fxc_generation(k->c), 2);
		stop(&s1, k->c);
		pthread_join(s2.tid, NULL);
		close(s2.fd);
		pthread_mutex_destroy(&s2.lock);
	}
}

/* A handle from the first link is dead on the second: -ENOTCONN at once,
 * for every kind of request on it; a new one carries the new generation. */
static int
h_open(struct srv *s, uint8_t type, uint32_t id, struct wire_rd *rd, const struct seen *q)
{
	(void)rd, (void)q;
	if (type == FXP_OPEN)
		reply_handle(s, id);
	else
		reply_status(s, id, FX_OK);
	return 0;
}

static void
test_reconnect_handles(void)
{
	struct srv s1, s2;
	struct fxc_config cfg = { .request_timeout_ms = 5000, .reconnect_timeout_ms = 5000,
				  .redial = rc_redial, .redial_arg = &s2 };
	struct fxc_transport *t;
	struct rfs_handle h, h2;
	struct fxp_attr a;
	struct fxc *c = NULL;
	char err[256], buf[16];
	int sv[2];

	memset(&s1, 0, sizeof(s1));
	pthread_mutex_init(&s1.lock, NULL);
	s1.handler = h_open;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	s1.fd = sv[1];
	pthread_create(&s1.tid, NULL, srv_main, &s1);
	if (fxc_transport_fds(sv[0], sv[0], 0, &t) != 0 ||
	    fxc_start(t, &cfg, &c, err, sizeof(err)) != 0)
		abort();
	TAP_EQ_INT(rfs_open(c, -1, "/f", FXF_READ, NULL, &h), 0);
	TAP_EQ_INT(h.gen, 1);
	fxc_kill(c);
	TAP_EQ_INT(rfs_lstat(c, "/there/x", &a), 0);	/* waits for the new link */
	TAP_EQ_INT(rfs_fstat(c, &h, &a), -ENOTCONN);
	TAP_EQ_INT(rfs_read(c, &h, 0, buf, sizeof(buf)), -ENOTCONN);
	TAP_EQ_INT(rfs_write(c, &h, 0, buf, sizeof(buf)), -ENOTCONN);
	TAP_EQ_INT(rfs_close(c, &h), -ENOTCONN);
	TAP_EQ_INT(rfs_fsync(c, &h), -EOPNOTSUPP);
	TAP_EQ_INT(rfs_fsetstat_fstat(c, &h, &a, &a), -ENOTCONN);
	s2.handler = h_open;
	TAP_EQ_INT(rfs_open(c, -1, "/f", FXF_READ, NULL, &h2), 0);
	TAP_EQ_INT(h2.gen, 2);
	TAP_EQ_INT(rfs_close(c, &h2), 0);
	stop(&s1, c);
	pthread_join(s2.tid, NULL);
	close(s2.fd);
	pthread_mutex_destroy(&s2.lock);
}

int
main(void)
{
	log_init("test_rfs", LOG_LVL_ERROR);
	test_errno_recovery();
	test_symlink_order();
	test_rename_paths();
	test_readdir_and_violations();
	test_read();
	test_read_async();
	test_write();
	test_pairs();
	test_reconnect_once();
	test_reconnect_handles();
	return tap_done();
}
