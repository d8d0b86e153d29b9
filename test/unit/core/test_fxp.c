/* Unit tests of core/fxp: every encoder parsed back, every decoder fed
 * valid and malformed replies, the status table and the attr<->stat
 * conversions. Replies are built with the same wire/fxp writers the client
 * uses for requests (fxp_begin() is type-agnostic), so a bug in one side
 * shows up as a mismatch against hand-written bytes in the other tests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"
#include "tap.h"

/* Starts a reply of 'type' with request id 'id'. */
static void
rep_begin(struct wire_buf *b, uint8_t type, uint32_t id)
{
	wire_buf_init(b, FXP_MAX_PACKET + 64);
	if (fxp_begin(b, type) != 0)
		abort();
	fxp_set_id(b, id);
}

/* Ends the packet and parses it; returns fxp_parse's result. */
static int
rep_end(struct wire_buf *b, struct fxp_reply *r)
{
	if (fxp_end(b) != 0)
		abort();
	return fxp_parse(b->p, b->len, r);
}

/* A VERSION packet with 'n' strings after the version (pairs if even). */
static int
mk_version(struct wire_buf *b, struct fxp_reply *r, const char *const *s, int n)
{
	int i;

	wire_buf_init(b, 4096);
	if (fxp_begin(b, FXP_VERSION) != 0)
		abort();
	/* VERSION has no id: the slot fxp_begin() reserved is the version. */
	wire_poke_u32(b->p + 5, 3);
	for (i = 0; i < n; i++)
		if (wire_put_cstring(b, s[i]) != 0)
			abort();
	return rep_end(b, r);
}

/* ---- framing ---- */

static void
test_frame(void)
{
	uint8_t p[16] = { 0, 0, 0, 5, FXP_STATUS, 0, 0, 0, 1, 0, 0, 0, 1 };

	TAP_EQ_INT(fxp_frame(p, 0), 0);
	TAP_EQ_INT(fxp_frame(p, 3), 0);
	TAP_EQ_INT(fxp_frame(p, 4), 0);
	TAP_EQ_INT(fxp_frame(p, 8), 0);
	TAP_EQ_INT(fxp_frame(p, 9), 9);
	TAP_EQ_INT(fxp_frame(p, 16), 9);	/* the next packet starts at 9 */
	wire_poke_u32(p, 0);
	TAP_EQ_INT(fxp_frame(p, 4), -EBADMSG);	/* zero length: no type byte */
	wire_poke_u32(p, FXP_MAX_PACKET);
	TAP_EQ_INT(fxp_frame(p, 16), 0);	/* allowed, incomplete */
	wire_poke_u32(p, FXP_MAX_PACKET + 1);
	TAP_EQ_INT(fxp_frame(p, 4), -EMSGSIZE);	/* refused before the body */
	wire_poke_u32(p, 0xffffffffu);
	TAP_EQ_INT(fxp_frame(p, 4), -EMSGSIZE);
}

static void
test_parse(void)
{
	uint8_t p[16] = { 0, 0, 0, 5, FXP_STATUS, 0, 0, 0, 7 };
	struct fxp_reply r;

	TAP_EQ_INT(fxp_parse(p, 9, &r), 0);
	TAP_EQ_INT(r.type, FXP_STATUS);
	TAP_EQ_INT(r.id, 7);
	TAP_EQ_INT(r.len, 0);
	TAP_EQ_INT(fxp_parse(p, 8, &r), -EBADMSG);	/* length past the end */
	TAP_EQ_INT(fxp_parse(p, 10, &r), -EBADMSG);	/* trailing byte */
	TAP_EQ_INT(fxp_parse(p, 3, &r), -EBADMSG);
	TAP_EQ_INT(fxp_parse(p, 0, &r), -EBADMSG);
	/* A type but no room for an id. */
	wire_poke_u32(p, 3);
	TAP_EQ_INT(fxp_parse(p, 7, &r), -EBADMSG);
	/* VERSION needs no id. */
	wire_poke_u32(p, 1);
	p[4] = FXP_VERSION;
	TAP_EQ_INT(fxp_parse(p, 5, &r), 0);
	TAP_EQ_INT(r.type, FXP_VERSION);
	TAP_EQ_INT(r.id, 0);
	TAP_EQ_INT(r.len, 0);
	/* Zero length. */
	wire_poke_u32(p, 0);
	TAP_EQ_INT(fxp_parse(p, 4, &r), -EBADMSG);
}

/* ---- encoders, parsed back ---- */

static void
expect_string(struct wire_rd *rd, const void *want, size_t n, const char *what)
{
	const uint8_t *s;
	uint32_t len;
	int ok;

	ok = wire_get_string_direct(rd, &s, &len) == 0 && len == n &&
	     (n == 0 || memcmp(s, want, n) == 0);
	tap_point(ok, what, __FILE__, __LINE__);
}

/* An unsigned integer of 'bytes' (4 or 8) bytes. */
static void
expect_uint(struct wire_rd *rd, int bytes, uint64_t want, const char *what)
{
	uint32_t v32;
	uint64_t v;
	int ok;

	if (bytes == 4) {
		ok = wire_get_u32(rd, &v32) == 0;
		v = v32;
	} else
		ok = wire_get_u64(rd, &v) == 0;
	tap_point(ok && v == want, what, __FILE__, __LINE__);
}

#define expect_u32(rd, want, what) expect_uint(rd, 4, want, what)
#define expect_u64(rd, want, what) expect_uint(rd, 8, want, what)

/* Parses b as a packet of 'type' and opens a reader on its body. */
static void
parsed(struct wire_buf *b, uint8_t type, uint32_t id, struct wire_rd *rd)
{
	struct fxp_reply r;

	fxp_set_id(b, id);
	TAP_EQ_INT(fxp_parse(b->p, b->len, &r), 0);
	TAP_EQ_INT(r.type, type);
	TAP_EQ_INT(r.id, id);
	TAP_EQ_INT(fxp_get_id(b), id);
	wire_rd_init(rd, r.body, r.len);
}

static void
test_enc_basic(void)
{
	static const uint8_t init[] = { 0, 0, 0, 5, 1, 0, 0, 0, 3 };
	static const uint8_t h[] = { 0xde, 0xad, 0, 1 };
	struct wire_buf b;
	struct wire_rd rd;

	wire_buf_init(&b, 0);
	TAP_EQ_INT(fxp_enc_init(&b), 0);
	TAP_CHECK(b.len == sizeof(init) && memcmp(b.p, init, sizeof(init)) == 0);
	TAP_EQ_INT(fxp_enc_init(&b), -EINVAL);	/* one packet per buffer */
	wire_buf_free(&b);

	wire_buf_init(&b, 0);
	TAP_EQ_INT(fxp_enc_path(&b, FXP_LSTAT, "/a/b"), 0);
	parsed(&b, FXP_LSTAT, 42, &rd);
	expect_string(&rd, "/a/b", 4, "LSTAT path");
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);

	TAP_EQ_INT(fxp_enc_path2(&b, FXP_SYMLINK, "target", "link"), 0);
	parsed(&b, FXP_SYMLINK, 0xffffffffu, &rd);
	expect_string(&rd, "target", 6, "SYMLINK first");
	expect_string(&rd, "link", 4, "SYMLINK second");
	wire_buf_free(&b);

	TAP_EQ_INT(fxp_enc_handle(&b, FXP_CLOSE, h, sizeof(h)), 0);
	parsed(&b, FXP_CLOSE, 1, &rd);
	expect_string(&rd, h, sizeof(h), "CLOSE handle");
	wire_buf_free(&b);

	TAP_EQ_INT(fxp_enc_read(&b, h, sizeof(h), 0x123456789ull, 32768), 0);
	parsed(&b, FXP_READ, 2, &rd);
	expect_string(&rd, h, sizeof(h), "READ handle");
	expect_u64(&rd, 0x123456789ull, "READ offset");
	expect_u32(&rd, 32768, "READ len");
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);

	TAP_EQ_INT(fxp_enc_write(&b, h, sizeof(h), 77, "data!", 5), 0);
	parsed(&b, FXP_WRITE, 3, &rd);
	expect_string(&rd, h, sizeof(h), "WRITE handle");
	expect_u64(&rd, 77, "WRITE offset");
	expect_string(&rd, "data!", 5, "WRITE data");
	wire_buf_free(&b);
}

static void
test_enc_attrs(void)
{
	static const uint8_t h[] = { 9 };
	struct fxp_attr a = { 0 }, d;
	struct wire_buf b;
	struct wire_rd rd;

	a.flags = FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME |
		  FXA_EXTENDED;
	a.size = 1ull << 40;
	a.uid = 1000;
	a.gid = 100;
	a.perm = 0100644;
	a.atime = 1700000000;
	a.mtime = 1700000001;

	wire_buf_init(&b, 0);
	TAP_EQ_INT(fxp_enc_open(&b, "/f", FXF_WRITE | FXF_CREAT | FXF_EXCL, &a), 0);
	parsed(&b, FXP_OPEN, 5, &rd);
	expect_string(&rd, "/f", 2, "OPEN path");
	expect_u32(&rd, FXF_WRITE | FXF_CREAT | FXF_EXCL, "OPEN pflags");
	TAP_EQ_INT(fxp_attr_decode(&rd, &d), 0);
	/* EXTENDED is never sent: we have no pairs to send. */
	TAP_EQ_INT(d.flags, a.flags & ~FXA_EXTENDED);
	TAP_CHECK(d.size == a.size && d.uid == a.uid && d.gid == a.gid &&
		  d.perm == a.perm && d.atime == a.atime && d.mtime == a.mtime);
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);

	/* NULL attrs in OPEN: an empty ATTRS block. */
	TAP_EQ_INT(fxp_enc_open(&b, "/g", FXF_READ, NULL), 0);
	parsed(&b, FXP_OPEN, 6, &rd);
	expect_string(&rd, "/g", 2, "OPEN path");
	expect_u32(&rd, FXF_READ, "OPEN pflags");
	expect_u32(&rd, 0, "OPEN attr flags 0");
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);

	a.flags = FXA_PERMISSIONS;
	TAP_EQ_INT(fxp_enc_path_attr(&b, FXP_MKDIR, "/d", &a), 0);
	parsed(&b, FXP_MKDIR, 7, &rd);
	expect_string(&rd, "/d", 2, "MKDIR path");
	expect_u32(&rd, FXA_PERMISSIONS, "MKDIR attr flags");
	expect_u32(&rd, 0100644, "MKDIR perm");
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);

	a.flags = FXA_SIZE;
	TAP_EQ_INT(fxp_enc_fsetstat(&b, h, 1, &a), 0);
	parsed(&b, FXP_FSETSTAT, 8, &rd);
	expect_string(&rd, h, 1, "FSETSTAT handle");
	expect_u32(&rd, FXA_SIZE, "FSETSTAT flags");
	expect_u64(&rd, 1ull << 40, "FSETSTAT size");
	wire_buf_free(&b);

	a.flags = FXA_UIDGID;
	TAP_EQ_INT(fxp_enc_lsetstat(&b, "/l", &a), 0);
	parsed(&b, FXP_EXTENDED, 9, &rd);
	expect_string(&rd, "lsetstat@openssh.com", 20, "lsetstat name");
	expect_string(&rd, "/l", 2, "lsetstat path");
	expect_u32(&rd, FXA_UIDGID, "lsetstat flags");
	expect_u32(&rd, 1000, "lsetstat uid");
	expect_u32(&rd, 100, "lsetstat gid");
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);
}

static void
test_enc_ext(void)
{
	static const uint8_t rh[] = { 1, 2 }, wh[] = { 3, 4, 5 };
	struct wire_buf b;
	struct wire_rd rd;

	wire_buf_init(&b, 0);
	TAP_EQ_INT(fxp_enc_ext_path(&b, "statvfs@openssh.com", "/"), 0);
	parsed(&b, FXP_EXTENDED, 10, &rd);
	expect_string(&rd, "statvfs@openssh.com", 19, "statvfs name");
	expect_string(&rd, "/", 1, "statvfs path");
	wire_buf_free(&b);

	TAP_EQ_INT(fxp_enc_ext_path2(&b, "posix-rename@openssh.com", "/a", "/b"), 0);
	parsed(&b, FXP_EXTENDED, 11, &rd);
	expect_string(&rd, "posix-rename@openssh.com", 24, "posix-rename name");
	expect_string(&rd, "/a", 2, "posix-rename old");
	expect_string(&rd, "/b", 2, "posix-rename new");
	wire_buf_free(&b);

	TAP_EQ_INT(fxp_enc_ext_handle(&b, "fsync@openssh.com", rh, 2), 0);
	parsed(&b, FXP_EXTENDED, 12, &rd);
	expect_string(&rd, "fsync@openssh.com", 17, "fsync name");
	expect_string(&rd, rh, 2, "fsync handle");
	wire_buf_free(&b);

	TAP_EQ_INT(fxp_enc_copy_data(&b, rh, 2, 10, 0, wh, 3, 20), 0);
	parsed(&b, FXP_EXTENDED, 13, &rd);
	expect_string(&rd, "copy-data", 9, "copy-data name");
	expect_string(&rd, rh, 2, "copy-data read handle");
	expect_u64(&rd, 10, "copy-data read offset");
	expect_u64(&rd, 0, "copy-data length");
	expect_string(&rd, wh, 3, "copy-data write handle");
	expect_u64(&rd, 20, "copy-data write offset");
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);

	/* A request built by hand through fxp_enc_ext_begin + fxp_end. */
	TAP_EQ_INT(fxp_enc_ext_begin(&b, "limits@openssh.com"), 0);
	TAP_EQ_INT(fxp_end(&b), 0);
	parsed(&b, FXP_EXTENDED, 14, &rd);
	expect_string(&rd, "limits@openssh.com", 18, "limits name");
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	wire_buf_free(&b);
}

static void
test_enc_caps(void)
{
	static const uint8_t h[4];
	struct wire_buf b;
	uint8_t *big;

	big = calloc(1, FXP_MAX_OUT_PACKET);
	TAP_CHECK(big != NULL);
	wire_buf_init(&b, 0);
	/* 261120 (OpenSSH's write limit) fits in a 256 KiB packet. */
	TAP_EQ_INT(fxp_enc_write(&b, h, 4, 0, big, 261120), 0);
	TAP_CHECK(b.len <= FXP_MAX_OUT_PACKET);
	wire_buf_free(&b);
	TAP_EQ_INT(fxp_enc_write(&b, h, 4, 0, big, FXP_MAX_OUT_PACKET), -EMSGSIZE);
	wire_buf_free(&b);
	/* A caller-chosen max is kept. */
	wire_buf_init(&b, 16);
	TAP_EQ_INT(fxp_enc_path(&b, FXP_STAT, "/a/long/path"), -EMSGSIZE);
	TAP_EQ_INT(b.len, 0);	/* nothing half-built left behind */
	TAP_EQ_INT(fxp_enc_path(&b, FXP_STAT, "/a"), 0);
	wire_buf_free(&b);
	/* fxp_enc_ext_begin is an fxp_enc_* helper too: a name that does not
	 * fit leaves the buffer empty, so it can be used again. */
	wire_buf_init(&b, 16);
	TAP_EQ_INT(fxp_enc_ext_begin(&b, "limits@openssh.com"), -EMSGSIZE);
	TAP_EQ_INT(b.len, 0);
	TAP_EQ_INT(fxp_enc_ext_begin(&b, "x"), 0);
	wire_buf_free(&b);
	free(big);
	/* fxp_end on an empty buffer. */
	wire_buf_init(&b, 0);
	TAP_EQ_INT(fxp_end(&b), -EINVAL);
	fxp_set_id(&b, 5);	/* no packet: a no-op, not a crash */
	TAP_EQ_INT(fxp_get_id(&b), 0);
}

/* ---- VERSION ---- */

struct ext_seen {
	int n;
	char names[8][64];
	char data[8][16];
};

static void
on_ext(const char *name, size_t nlen, const char *data, size_t dlen, void *arg)
{
	struct ext_seen *e = arg;

	if (e->n < 8 && nlen < 64 && dlen < 16) {
		memcpy(e->names[e->n], name, nlen);
		e->names[e->n][nlen] = '\0';
		memcpy(e->data[e->n], data, dlen);
		e->data[e->n][dlen] = '\0';
	}
	e->n++;
}

static void
test_version(void)
{
	static const char *const ok[] = {
		"posix-rename@openssh.com", "1", "statvfs@openssh.com", "2",
		"limits@openssh.com", "1",
	};
	static const char *const odd[] = { "hardlink@openssh.com", "1", "fsync@openssh.com" };
	struct ext_seen seen;
	struct fxp_reply r;
	struct wire_buf b;
	uint32_t v;

	memset(&seen, 0, sizeof(seen));
	TAP_EQ_INT(mk_version(&b, &r, ok, 6), 0);
	TAP_EQ_INT(fxp_dec_version(&r, &v, on_ext, &seen), 0);
	TAP_EQ_INT(v, 3);
	TAP_EQ_INT(seen.n, 3);
	TAP_CHECK(strcmp(seen.names[0], "posix-rename@openssh.com") == 0);
	TAP_CHECK(strcmp(seen.data[1], "2") == 0);
	TAP_CHECK(strcmp(seen.names[2], "limits@openssh.com") == 0);
	wire_buf_free(&b);

	/* No extensions at all. */
	memset(&seen, 0, sizeof(seen));
	TAP_EQ_INT(mk_version(&b, &r, ok, 0), 0);
	TAP_EQ_INT(fxp_dec_version(&r, &v, on_ext, &seen), 0);
	TAP_EQ_INT(seen.n, 0);
	wire_buf_free(&b);

	/* Odd pairs: refused, and no callback ran for the good first pair. */
	memset(&seen, 0, sizeof(seen));
	TAP_EQ_INT(mk_version(&b, &r, odd, 3), 0);
	TAP_EQ_INT(fxp_dec_version(&r, &v, on_ext, &seen), -EBADMSG);
	TAP_EQ_INT(seen.n, 0);
	TAP_EQ_INT(v, 0);
	/* A VERSION cut inside the version number. */
	r.len = 2;
	TAP_EQ_INT(fxp_dec_version(&r, &v, on_ext, &seen), -EBADMSG);
	wire_buf_free(&b);

	rep_begin(&b, FXP_STATUS, 1);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_version(&r, &v, on_ext, &seen), -EPROTO);
	wire_buf_free(&b);
}

/* ---- STATUS and the errno table ---- */

static void
test_status(void)
{
	struct fxp_reply r;
	struct wire_buf b;
	const uint8_t *msg;
	uint32_t code, mlen;

	rep_begin(&b, FXP_STATUS, 3);
	TAP_EQ_INT(wire_put_u32(&b, FX_NO_SUCH_FILE), 0);
	TAP_EQ_INT(wire_put_cstring(&b, "No such file"), 0);
	TAP_EQ_INT(wire_put_cstring(&b, "en"), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_status(&r, &code, &msg, &mlen), 0);
	TAP_EQ_INT(code, FX_NO_SUCH_FILE);
	TAP_CHECK(mlen == 12 && memcmp(msg, "No such file", 12) == 0);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_HANDLE), -ENOENT);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_STATUS), -ENOENT);
	/* Cut inside the message: malformed. */
	r.len = 4 + 4 + 3;
	TAP_EQ_INT(fxp_dec_status(&r, &code, &msg, &mlen), -EBADMSG);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_STATUS), -EBADMSG);
	/* Code only (old servers): accepted. */
	r.len = 4;
	TAP_EQ_INT(fxp_dec_status(&r, &code, &msg, &mlen), 0);
	TAP_CHECK(msg == NULL && mlen == 0);
	/* Not even a code. */
	r.len = 3;
	TAP_EQ_INT(fxp_dec_status(&r, &code, &msg, &mlen), -EBADMSG);
	wire_buf_free(&b);

	rep_begin(&b, FXP_STATUS, 4);
	TAP_EQ_INT(wire_put_u32(&b, FX_OK), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_STATUS), 0);
	/* OK where a HANDLE was due is a protocol error, not success. */
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_HANDLE), -EPROTO);
	wire_buf_free(&b);

	rep_begin(&b, FXP_STATUS, 5);
	TAP_EQ_INT(wire_put_u32(&b, FX_EOF), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_DATA), -ENODATA);
	wire_buf_free(&b);

	rep_begin(&b, FXP_HANDLE, 6);
	TAP_EQ_INT(wire_put_string(&b, "h", 1), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_HANDLE), 0);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_DATA), -EPROTO);
	TAP_EQ_INT(fxp_reply_errno(&r, FXP_STATUS), -EPROTO);
	TAP_EQ_INT(fxp_dec_status(&r, &code, &msg, &mlen), -EPROTO);
	wire_buf_free(&b);
}

static void
test_status_table(void)
{
	static const struct { uint32_t code; int err; } tab[] = {
		{ FX_OK, 0 }, { FX_EOF, -ENODATA }, { FX_NO_SUCH_FILE, -ENOENT },
		{ FX_PERMISSION_DENIED, -EACCES }, { FX_FAILURE, -EPERM },
		{ FX_BAD_MESSAGE, -EINVAL }, { FX_NO_CONNECTION, -ENOTCONN },
		{ FX_CONNECTION_LOST, -ECONNABORTED },
		{ FX_OP_UNSUPPORTED, -EOPNOTSUPP }, { 9, -EIO }, { 0xffffffffu, -EIO },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		TAP_EQ_INT(fxp_status_errno(tab[i].code), tab[i].err);
	TAP_CHECK(strcmp(fxp_status_name(FX_NO_SUCH_FILE), "no such file") == 0);
	TAP_CHECK(fxp_status_name(12345) != NULL);
	TAP_CHECK(strcmp(fxp_type_name(FXP_OPEN), "OPEN") == 0);
	TAP_CHECK(strcmp(fxp_type_name(FXP_EXTENDED_REPLY), "EXTENDED_REPLY") == 0);
	TAP_CHECK(strcmp(fxp_type_name(0), "?") == 0);
	TAP_CHECK(strcmp(fxp_type_name(50), "?") == 0);
	TAP_CHECK(strcmp(fxp_type_name(255), "?") == 0);
}

/* ---- HANDLE, DATA, ATTRS ---- */

static void
test_handle_data(void)
{
	static uint8_t big[FXP_MAX_HANDLE + 1];
	const uint8_t *p;
	struct fxp_reply r;
	struct wire_buf b;
	uint32_t n;

	rep_begin(&b, FXP_HANDLE, 1);
	TAP_EQ_INT(wire_put_string(&b, big, FXP_MAX_HANDLE), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_handle(&r, &p, &n), 0);
	TAP_EQ_INT(n, FXP_MAX_HANDLE);
	r.len -= 1;	/* length past the end */
	TAP_EQ_INT(fxp_dec_handle(&r, &p, &n), -EBADMSG);
	TAP_CHECK(p == NULL && n == 0);
	wire_buf_free(&b);

	rep_begin(&b, FXP_HANDLE, 1);
	TAP_EQ_INT(wire_put_string(&b, big, sizeof(big)), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_handle(&r, &p, &n), -EBADMSG);	/* over 256 */
	TAP_EQ_INT(fxp_dec_data(&r, &p, &n), -EPROTO);
	wire_buf_free(&b);

	rep_begin(&b, FXP_DATA, 2);
	TAP_EQ_INT(wire_put_string(&b, "abc", 3), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_data(&r, &p, &n), 0);
	TAP_CHECK(n == 3 && memcmp(p, "abc", 3) == 0);
	/* 0xffffffff data length with 3 bytes behind it. */
	wire_poke_u32((uint8_t *)r.body, 0xffffffffu);
	TAP_EQ_INT(fxp_dec_data(&r, &p, &n), -EBADMSG);
	wire_buf_free(&b);

	rep_begin(&b, FXP_DATA, 3);
	TAP_EQ_INT(wire_put_string(&b, "", 0), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_data(&r, &p, &n), 0);
	TAP_EQ_INT(n, 0);
	wire_buf_free(&b);
}

static void
test_attrs(void)
{
	struct fxp_attr a = { 0 }, d;
	struct fxp_reply r;
	struct wire_buf b;

	a.flags = FXA_SIZE | FXA_PERMISSIONS | FXA_ACMODTIME;
	a.size = 12345;
	a.perm = 040755;
	a.atime = 1;
	a.mtime = 2;
	rep_begin(&b, FXP_ATTRS, 1);
	TAP_EQ_INT(fxp_attr_encode(&b, &a), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	memset(&d, 0xaa, sizeof(d));
	TAP_EQ_INT(fxp_dec_attrs(&r, &d), 0);
	TAP_EQ_INT(d.flags, a.flags);
	TAP_CHECK(d.size == 12345 && d.perm == 040755 && d.atime == 1 && d.mtime == 2);
	TAP_CHECK(d.uid == 0 && d.gid == 0);	/* cleared, not left as 0xaa */
	r.len -= 1;	/* truncated mtime */
	TAP_EQ_INT(fxp_dec_attrs(&r, &d), -EBADMSG);
	wire_buf_free(&b);

	/* Extended pairs are skipped; what follows is still read correctly. */
	rep_begin(&b, FXP_ATTRS, 2);
	TAP_EQ_INT(wire_put_u32(&b, FXA_SIZE | FXA_EXTENDED), 0);
	TAP_EQ_INT(wire_put_u64(&b, 99), 0);
	TAP_EQ_INT(wire_put_u32(&b, 2), 0);
	TAP_EQ_INT(wire_put_cstring(&b, "a@x"), 0);
	TAP_EQ_INT(wire_put_cstring(&b, "1"), 0);
	TAP_EQ_INT(wire_put_cstring(&b, "b@x"), 0);
	TAP_EQ_INT(wire_put_cstring(&b, ""), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_attrs(&r, &d), 0);
	TAP_CHECK(d.size == 99 && (d.flags & FXA_EXTENDED));
	r.len -= 1;	/* the last pair cut */
	TAP_EQ_INT(fxp_dec_attrs(&r, &d), -EBADMSG);
	wire_buf_free(&b);

	/* A huge extended count is refused without iterating. */
	rep_begin(&b, FXP_ATTRS, 3);
	TAP_EQ_INT(wire_put_u32(&b, FXA_EXTENDED), 0);
	TAP_EQ_INT(wire_put_u32(&b, 0xffffffffu), 0);
	TAP_EQ_INT(wire_put_u64(&b, 0), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_attrs(&r, &d), -EBADMSG);
	wire_buf_free(&b);

	/* A count just over what the bytes can hold (2 pairs need 16). */
	rep_begin(&b, FXP_ATTRS, 4);
	TAP_EQ_INT(wire_put_u32(&b, FXA_EXTENDED), 0);
	TAP_EQ_INT(wire_put_u32(&b, 2), 0);
	TAP_EQ_INT(wire_put_u64(&b, 0), 0);
	TAP_EQ_INT(wire_put_u32(&b, 0), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_attrs(&r, &d), -EBADMSG);
	wire_buf_free(&b);

	rep_begin(&b, FXP_NAME, 5);
	TAP_EQ_INT(wire_put_u32(&b, 0), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_attrs(&r, &d), -EPROTO);
	wire_buf_free(&b);
}

/* ---- NAME ---- */

static void
put_name(struct wire_buf *b, const char *name, uint32_t size)
{
	struct fxp_attr a = { .flags = FXA_SIZE, .size = size };

	if (wire_put_cstring(b, name) != 0 || wire_put_cstring(b, "long") != 0 ||
	    fxp_attr_encode(b, &a) != 0)
		abort();
}

static void
test_names(void)
{
	struct fxp_names it;
	struct fxp_name n;
	struct fxp_reply r;
	struct wire_buf b;

	rep_begin(&b, FXP_NAME, 1);
	TAP_EQ_INT(wire_put_u32(&b, 3), 0);
	put_name(&b, "a", 1);
	put_name(&b, "..", 2);
	put_name(&b, "x/y", 3);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_names_begin(&r, &it), 0);
	TAP_EQ_INT(it.count, 3);
	TAP_EQ_INT(fxp_names_next(&it, &n), 1);
	TAP_CHECK(n.name_len == 1 && n.name[0] == 'a' && n.attr.size == 1);
	TAP_CHECK(n.longname_len == 4 && memcmp(n.longname, "long", 4) == 0);
	TAP_CHECK(fxp_name_is_safe(n.name, n.name_len));
	TAP_EQ_INT(fxp_names_next(&it, &n), 1);
	TAP_CHECK(n.name_len == 2 && n.attr.size == 2);
	TAP_CHECK(fxp_name_is_safe(n.name, n.name_len));	/* ".." is the caller's */
	TAP_EQ_INT(fxp_names_next(&it, &n), 1);
	TAP_CHECK(!fxp_name_is_safe(n.name, n.name_len));	/* contains '/' */
	TAP_EQ_INT(fxp_names_next(&it, &n), 0);
	TAP_EQ_INT(fxp_names_next(&it, &n), 0);

	/* The last entry cut short: the iterator fails, then stays ended. */
	r.len -= 2;
	TAP_EQ_INT(fxp_names_begin(&r, &it), 0);
	TAP_EQ_INT(fxp_names_next(&it, &n), 1);
	TAP_EQ_INT(fxp_names_next(&it, &n), 1);
	TAP_EQ_INT(fxp_names_next(&it, &n), -EBADMSG);
	TAP_CHECK(n.name == NULL);
	TAP_EQ_INT(fxp_names_next(&it, &n), 0);
	wire_buf_free(&b);

	/* A count the packet cannot hold: refused before iterating. */
	rep_begin(&b, FXP_NAME, 2);
	TAP_EQ_INT(wire_put_u32(&b, 1000000000u), 0);
	put_name(&b, "a", 1);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_names_begin(&r, &it), -EBADMSG);
	TAP_EQ_INT(it.count, 0);
	TAP_EQ_INT(fxp_names_next(&it, &n), 0);
	wire_buf_free(&b);

	/* Count 2 with one real entry: passes the size bound only if the
	 * packet were large enough, here it is not. */
	rep_begin(&b, FXP_NAME, 3);
	TAP_EQ_INT(wire_put_u32(&b, 2), 0);
	put_name(&b, "abcdefghijklmnopqrstuvwxyz", 1);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_names_begin(&r, &it), 0);
	TAP_EQ_INT(fxp_names_next(&it, &n), 1);
	TAP_EQ_INT(fxp_names_next(&it, &n), -EBADMSG);
	wire_buf_free(&b);

	/* Zero entries, and a NAME with no count at all. */
	rep_begin(&b, FXP_NAME, 4);
	TAP_EQ_INT(wire_put_u32(&b, 0), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_names_begin(&r, &it), 0);
	TAP_EQ_INT(fxp_names_next(&it, &n), 0);
	r.len = 0;
	TAP_EQ_INT(fxp_names_begin(&r, &it), -EBADMSG);
	r.type = FXP_ATTRS;
	TAP_EQ_INT(fxp_names_begin(&r, &it), -EPROTO);
	wire_buf_free(&b);

	TAP_CHECK(!fxp_name_is_safe("", 0));
	TAP_CHECK(!fxp_name_is_safe(NULL, 0));
	TAP_CHECK(!fxp_name_is_safe("a\0b", 3));
	TAP_CHECK(!fxp_name_is_safe("/", 1));
	TAP_CHECK(fxp_name_is_safe("a b", 3));
}

/* ---- statvfs, limits ---- */

static void
test_statvfs_limits(void)
{
	struct fxp_limits l;
	struct statvfs st;
	struct fxp_reply r;
	struct wire_buf b;
	uint64_t i;

	rep_begin(&b, FXP_EXTENDED_REPLY, 1);
	for (i = 1; i <= 11; i++)
		TAP_EQ_INT(wire_put_u64(&b, i == 10 ? 3 : i * 1000), 0);
	TAP_EQ_INT(rep_end(&b, &r), 0);
	TAP_EQ_INT(fxp_dec_statvfs(&r, &st), 0);
	TAP_CHECK(st.f_bsize == 1000 && st.f_frsize == 2000 && st.f_blocks == 3000);
	TAP_CHECK(st.f_bfree == 4000 && st.f_bavail == 5000 && st.f_files == 6000);
	TAP_CHECK(st.f_ffree == 7000 && st.f_favail == 8000 && st.f_fsid == 9000);
	TAP_CHECK(st.f_flag == (ST_RDONLY | ST_NOSUID));
	TAP_EQ_INT(st.f_namemax, 11000);
	r.len -= 1;
	TAP_EQ_INT(fxp_dec_statvfs(&r, &st), -EBADMSG);
	/* Four u64 are enough for limits. */
	TAP_EQ_INT(fxp_dec_limits(&r, &l), 0);
	TAP_CHECK(l.max_packet == 1000 && l.max_read == 2000 &&
		  l.max_write == 3000 && l.max_handles == 4000);
	r.len = 31;
	TAP_EQ_INT(fxp_dec_limits(&r, &l), -EBADMSG);
	TAP_CHECK(l.max_read == 0);
	r.type = FXP_STATUS;
	TAP_EQ_INT(fxp_dec_limits(&r, &l), -EPROTO);
	TAP_EQ_INT(fxp_dec_statvfs(&r, &st), -EPROTO);
	wire_buf_free(&b);
}

/* ---- stat -> attr (fs/attr.c converts the other way) ---- */

static void
test_stat_attr(void)
{
	struct fxp_attr back = { 0 };
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_size = 1025;
	st.st_uid = 1001;
	st.st_gid = 1002;
	st.st_mode = 0120777;
	st.st_atim.tv_sec = 0xfffffff0u;
	st.st_mtim.tv_sec = 1700000000;
	fxp_stat_to_attr(&st, FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS |
			 FXA_ACMODTIME | FXA_EXTENDED, &back);
	TAP_EQ_INT(back.flags, FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME);
	TAP_CHECK(back.size == 1025 && back.uid == 1001 && back.gid == 1002);
	TAP_EQ_INT(back.perm, 0777);	/* the type is not settable */
	TAP_CHECK(back.atime == 0xfffffff0u && back.mtime == 1700000000);

	/* Only the selected fields change. */
	memset(&back, 0, sizeof(back));
	st.st_mode = 0100600;
	fxp_stat_to_attr(&st, FXA_PERMISSIONS, &back);
	TAP_EQ_INT(back.flags, FXA_PERMISSIONS);
	TAP_EQ_INT(back.perm, 0600);
	TAP_CHECK(back.size == 0 && back.uid == 0 && back.mtime == 0);
}

int
main(void)
{
	test_frame();
	test_parse();
	test_enc_basic();
	test_enc_attrs();
	test_enc_ext();
	test_enc_caps();
	test_version();
	test_status();
	test_status_table();
	test_handle_data();
	test_attrs();
	test_names();
	test_statvfs_limits();
	test_stat_attr();
	return tap_done();
}
