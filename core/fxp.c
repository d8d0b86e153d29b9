/* fxp: the SFTP version 3 codec (contract in fxp.h).
 *
 * Encoders build one packet per wire_buf, always at offset 0: the length
 * field at [0..3], the type at [4], the request id at [5..8]. That fixed
 * shape is what lets fxc assign ids after encoding and lets fxp_end() patch
 * the length without remembering where the packet began.
 *
 * Decoders see server bytes only through wire_rd, so no length can reach
 * past the packet; counts are checked against the smallest encoding of one
 * element before anything is iterated.
 */
#include <errno.h>
#include <string.h>

#include "fxp.h"

/* OpenSSH's cap on extended attribute pairs (sftp-common.c decode_attrib). */
#define FXP_MAX_ATTR_EXT 0x100000u
/* A NAME entry is at least filename + longname + ATTRS flags. */
#define FXP_MIN_NAME_ENTRY 12u
/* statvfs@openssh.com f_flag bits (PROTOCOL §4.4). */
#define FXP_STATVFS_RDONLY 0x1
#define FXP_STATVFS_NOSUID 0x2

/* ---- framing ---- */

long
fxp_frame(const uint8_t *p, size_t avail)
{
	uint32_t len;

	if (avail < 4)
		return 0;
	len = wire_peek_u32(p);
	/* Judge the length before waiting for the body: a hostile size must
	 * fail now, not after we buffered half a gigabyte. */
	if (len == 0)
		return -EBADMSG;
	if (len > FXP_MAX_PACKET)
		return -EMSGSIZE;
	if (avail - 4 < len)
		return 0;
	return 4 + (long)len;
}

int
fxp_parse(const uint8_t *pkt, size_t pktlen, struct fxp_reply *r)
{
	struct wire_rd rd;
	uint32_t len;
	int e;

	memset(r, 0, sizeof(*r));
	wire_rd_init(&rd, pkt, pktlen);
	if ((e = wire_get_u32(&rd, &len)) != 0 || len == 0 ||
	    len != wire_rd_left(&rd) || len > FXP_MAX_PACKET)
		return -EBADMSG;
	if ((e = wire_get_u8(&rd, &r->type)) != 0)
		return e;
	if (r->type != FXP_VERSION &&
	    (e = wire_get_u32(&rd, &r->id)) != 0) {
		r->type = 0;
		return e;
	}
	r->body = rd.p + rd.off;
	r->len = wire_rd_left(&rd);
	return 0;
}

/* ---- encoding ---- */

int
fxp_begin(struct wire_buf *b, uint8_t type)
{
	uint8_t *p;
	int r;

	if (b->len != 0)
		return -EINVAL;
	if (b->max == 0)
		b->max = FXP_MAX_OUT_PACKET;
	if ((r = wire_reserve(b, 9, &p)) != 0)
		return r;
	wire_poke_u32(p, 0);
	p[4] = type;
	wire_poke_u32(p + 5, 0);
	return 0;
}

int
fxp_end(struct wire_buf *b)
{
	if (b->len < 5 || b->len - 4 > UINT32_MAX)
		return -EINVAL;
	wire_poke_u32(b->p, (uint32_t)(b->len - 4));
	return 0;
}

void
fxp_set_id(struct wire_buf *b, uint32_t id)
{
	if (b->len >= 9)
		wire_poke_u32(b->p + 5, id);
}

uint32_t
fxp_get_id(const struct wire_buf *b)
{
	return b->len >= 9 ? wire_peek_u32(b->p + 5) : 0;
}

int
fxp_enc_init(struct wire_buf *b)
{
	int r;

	/* INIT has no id: the uint32 after the type is the version, so the
	 * id slot fxp_begin() reserved holds it. */
	if ((r = fxp_begin(b, FXP_INIT)) != 0)
		return r;
	wire_poke_u32(b->p + 5, 3);
	return fxp_end(b);
}

/* Request bodies are described as field lists and written by one loop, so
 * each encoder states the wire layout of its request and nothing else. */
enum fxp_fkind { FXP_F_STR, FXP_F_U32, FXP_F_U64, FXP_F_ATTR };

struct fxp_field {
	enum fxp_fkind kind;
	const void *p;		/* FXP_F_STR bytes, FXP_F_ATTR attributes */
	uint64_t v;		/* FXP_F_STR length, or the integer */
};

#define F_CSTR(s) { FXP_F_STR, (s), strlen(s) }
#define F_STR(p, n) { FXP_F_STR, (p), (n) }
#define F_U32(x) { FXP_F_U32, NULL, (x) }
#define F_U64(x) { FXP_F_U64, NULL, (x) }
#define F_ATTR(a) { FXP_F_ATTR, (a), 0 }
#define NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

static int
fxp_put_field(struct wire_buf *b, const struct fxp_field *f)
{
	static const struct fxp_attr none;

	switch (f->kind) {
	case FXP_F_STR:
		return wire_put_string(b, f->p, f->v);
	case FXP_F_U32:
		return wire_put_u32(b, (uint32_t)f->v);
	case FXP_F_U64:
		return wire_put_u64(b, f->v);
	case FXP_F_ATTR:
		return fxp_attr_encode(b, f->p != NULL ? f->p : &none);
	}
	return -EINVAL;
}

/* One whole packet: type, zero id, the extension name when 'ext' is set,
 * then the fields. On failure the buffer is left empty, ready for reuse. */
static int
fxp_encode(struct wire_buf *b, uint8_t type, const char *ext,
	   const struct fxp_field *f, size_t n)
{
	size_t i;
	int r;

	if ((r = fxp_begin(b, type)) != 0)
		return r;
	if (ext != NULL)
		r = wire_put_cstring(b, ext);
	for (i = 0; i < n && r == 0; i++)
		r = fxp_put_field(b, &f[i]);
	if (r == 0)
		r = fxp_end(b);
	if (r != 0)
		b->len = 0;
	return r;
}

int
fxp_enc_path(struct wire_buf *b, uint8_t type, const char *path)
{
	const struct fxp_field f[] = { F_CSTR(path) };

	return fxp_encode(b, type, NULL, f, NFIELDS(f));
}

int
fxp_enc_path2(struct wire_buf *b, uint8_t type, const char *a, const char *c)
{
	const struct fxp_field f[] = { F_CSTR(a), F_CSTR(c) };

	return fxp_encode(b, type, NULL, f, NFIELDS(f));
}

int
fxp_enc_handle(struct wire_buf *b, uint8_t type, const uint8_t *h, uint32_t hlen)
{
	const struct fxp_field f[] = { F_STR(h, hlen) };

	return fxp_encode(b, type, NULL, f, NFIELDS(f));
}

int
fxp_enc_open(struct wire_buf *b, const char *path, uint32_t pflags,
	     const struct fxp_attr *a)
{
	const struct fxp_field f[] = { F_CSTR(path), F_U32(pflags), F_ATTR(a) };

	return fxp_encode(b, FXP_OPEN, NULL, f, NFIELDS(f));
}

int
fxp_enc_read(struct wire_buf *b, const uint8_t *h, uint32_t hlen,
	     uint64_t off, uint32_t len)
{
	const struct fxp_field f[] = { F_STR(h, hlen), F_U64(off), F_U32(len) };

	return fxp_encode(b, FXP_READ, NULL, f, NFIELDS(f));
}

int
fxp_enc_write(struct wire_buf *b, const uint8_t *h, uint32_t hlen,
	      uint64_t off, const void *data, uint32_t len)
{
	const struct fxp_field f[] = {
		F_STR(h, hlen), F_U64(off), F_STR(data, len)
	};

	return fxp_encode(b, FXP_WRITE, NULL, f, NFIELDS(f));
}

int
fxp_enc_path_attr(struct wire_buf *b, uint8_t type, const char *path,
		  const struct fxp_attr *a)
{
	const struct fxp_field f[] = { F_CSTR(path), F_ATTR(a) };

	return fxp_encode(b, type, NULL, f, NFIELDS(f));
}

int
fxp_enc_fsetstat(struct wire_buf *b, const uint8_t *h, uint32_t hlen,
		 const struct fxp_attr *a)
{
	const struct fxp_field f[] = { F_STR(h, hlen), F_ATTR(a) };

	return fxp_encode(b, FXP_FSETSTAT, NULL, f, NFIELDS(f));
}

int
fxp_enc_ext_begin(struct wire_buf *b, const char *name)
{
	int r;

	if ((r = fxp_begin(b, FXP_EXTENDED)) != 0)
		return r;
	/* Like every fxp_enc_*: no half-built packet left on failure. */
	if ((r = wire_put_cstring(b, name)) != 0)
		b->len = 0;
	return r;
}

int
fxp_enc_ext_path(struct wire_buf *b, const char *name, const char *path)
{
	const struct fxp_field f[] = { F_CSTR(path) };

	return fxp_encode(b, FXP_EXTENDED, name, f, NFIELDS(f));
}

int
fxp_enc_ext_path2(struct wire_buf *b, const char *name, const char *a, const char *c)
{
	const struct fxp_field f[] = { F_CSTR(a), F_CSTR(c) };

	return fxp_encode(b, FXP_EXTENDED, name, f, NFIELDS(f));
}

int
fxp_enc_ext_handle(struct wire_buf *b, const char *name, const uint8_t *h, uint32_t hlen)
{
	const struct fxp_field f[] = { F_STR(h, hlen) };

	return fxp_encode(b, FXP_EXTENDED, name, f, NFIELDS(f));
}

int
fxp_enc_lsetstat(struct wire_buf *b, const char *path, const struct fxp_attr *a)
{
	const struct fxp_field f[] = { F_CSTR(path), F_ATTR(a) };

	return fxp_encode(b, FXP_EXTENDED, "lsetstat@openssh.com", f, NFIELDS(f));
}

int
fxp_enc_copy_data(struct wire_buf *b, const uint8_t *rh, uint32_t rhlen,
		  uint64_t roff, uint64_t len, const uint8_t *wh, uint32_t whlen,
		  uint64_t woff)
{
	const struct fxp_field f[] = {
		F_STR(rh, rhlen), F_U64(roff), F_U64(len), F_STR(wh, whlen),
		F_U64(woff)
	};

	return fxp_encode(b, FXP_EXTENDED, "copy-data", f, NFIELDS(f));
}

int
fxp_attr_encode(struct wire_buf *b, const struct fxp_attr *a)
{
	/* We never send extended pairs, so the flag must not claim any. */
	uint32_t f = a->flags & (FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS |
				 FXA_ACMODTIME);
	int r;

	if ((r = wire_put_u32(b, f)) != 0)
		return r;
	if ((f & FXA_SIZE) && (r = wire_put_u64(b, a->size)) != 0)
		return r;
	if ((f & FXA_UIDGID) &&
	    ((r = wire_put_u32(b, a->uid)) != 0 ||
	     (r = wire_put_u32(b, a->gid)) != 0))
		return r;
	if ((f & FXA_PERMISSIONS) && (r = wire_put_u32(b, a->perm)) != 0)
		return r;
	if ((f & FXA_ACMODTIME) &&
	    ((r = wire_put_u32(b, a->atime)) != 0 ||
	     (r = wire_put_u32(b, a->mtime)) != 0))
		return r;
	return 0;
}

/* ---- decoding ---- */

/* Skips 'count' extended (type, data) string pairs. */
static int
fxp_attr_skip_ext(struct wire_rd *rd)
{
	const uint8_t *s;
	uint32_t count, i, n;
	int r;

	if ((r = wire_get_u32(rd, &count)) != 0)
		return r;
	/* Each pair takes at least 8 bytes; a larger count is a lie. */
	if (count > FXP_MAX_ATTR_EXT || count > wire_rd_left(rd) / 8)
		return -EBADMSG;
	for (i = 0; i < count; i++) {
		if ((r = wire_get_string_direct(rd, &s, &n)) != 0 ||
		    (r = wire_get_string_direct(rd, &s, &n)) != 0)
			return r;
	}
	return 0;
}

int
fxp_attr_decode(struct wire_rd *rd, struct fxp_attr *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = wire_get_u32(rd, &a->flags)) != 0)
		return r;
	if ((a->flags & FXA_SIZE) && (r = wire_get_u64(rd, &a->size)) != 0)
		return r;
	if ((a->flags & FXA_UIDGID) &&
	    ((r = wire_get_u32(rd, &a->uid)) != 0 ||
	     (r = wire_get_u32(rd, &a->gid)) != 0))
		return r;
	if ((a->flags & FXA_PERMISSIONS) &&
	    (r = wire_get_u32(rd, &a->perm)) != 0)
		return r;
	if ((a->flags & FXA_ACMODTIME) &&
	    ((r = wire_get_u32(rd, &a->atime)) != 0 ||
	     (r = wire_get_u32(rd, &a->mtime)) != 0))
		return r;
	if ((a->flags & FXA_EXTENDED) && (r = fxp_attr_skip_ext(rd)) != 0)
		return r;
	return 0;
}

static void
fxp_reader(const struct fxp_reply *r, struct wire_rd *rd)
{
	wire_rd_init(rd, r->body, r->len);
}

/* Walks the (name, data) pairs after the version; 'ext' NULL only checks. */
static int
fxp_version_pairs(struct wire_rd *rd,
		  void (*ext)(const char *name, size_t nlen, const char *data,
			      size_t dlen, void *arg), void *arg)
{
	const uint8_t *name, *data;
	uint32_t nlen, dlen;
	int r;

	while (wire_rd_left(rd) > 0) {
		if ((r = wire_get_string_direct(rd, &name, &nlen)) != 0 ||
		    (r = wire_get_string_direct(rd, &data, &dlen)) != 0)
			return r;
		if (ext != NULL)
			ext((const char *)name, nlen, (const char *)data, dlen, arg);
	}
	return 0;
}

int
fxp_dec_version(const struct fxp_reply *r, uint32_t *version,
		void (*ext)(const char *name, size_t nlen, const char *data,
			    size_t dlen, void *arg), void *arg)
{
	struct wire_rd rd;
	size_t start;
	int e;

	*version = 0;
	if (r->type != FXP_VERSION)
		return -EPROTO;
	fxp_reader(r, &rd);
	if ((e = wire_get_u32(&rd, version)) != 0)
		return e;
	/* Validate every pair before reporting any, so a malformed VERSION
	 * cannot leave the caller with half its extensions switched on. */
	start = rd.off;
	if ((e = fxp_version_pairs(&rd, NULL, NULL)) != 0) {
		*version = 0;
		return e;
	}
	rd.off = start;
	return fxp_version_pairs(&rd, ext, arg);
}

int
fxp_dec_status(const struct fxp_reply *r, uint32_t *code,
	       const uint8_t **msg, uint32_t *msglen)
{
	struct wire_rd rd;
	const uint8_t *lang;
	uint32_t langlen;
	int e;

	*code = 0;
	*msg = NULL;
	*msglen = 0;
	if (r->type != FXP_STATUS)
		return -EPROTO;
	fxp_reader(r, &rd);
	if ((e = wire_get_u32(&rd, code)) != 0)
		return e;
	/* Some old servers end the packet after the code; accept that, but
	 * a message that is present must be whole. */
	if (wire_rd_left(&rd) == 0)
		return 0;
	if ((e = wire_get_string_direct(&rd, msg, msglen)) != 0)
		return e;
	if (wire_rd_left(&rd) == 0)
		return 0;
	return wire_get_string_direct(&rd, &lang, &langlen);
}

int
fxp_reply_errno(const struct fxp_reply *r, uint8_t expected)
{
	const uint8_t *msg;
	uint32_t code, mlen;
	int e;

	if (r->type == expected && expected != FXP_STATUS)
		return 0;
	if (r->type != FXP_STATUS)
		return -EPROTO;
	if ((e = fxp_dec_status(r, &code, &msg, &mlen)) != 0)
		return e;
	if (code == FX_OK)
		return expected == FXP_STATUS ? 0 : -EPROTO;
	return fxp_status_errno(code);
}

int
fxp_dec_handle(const struct fxp_reply *r, const uint8_t **h, uint32_t *hlen)
{
	struct wire_rd rd;
	int e;

	*h = NULL;
	*hlen = 0;
	if (r->type != FXP_HANDLE)
		return -EPROTO;
	fxp_reader(r, &rd);
	if ((e = wire_get_string_direct(&rd, h, hlen)) != 0)
		return e;
	if (*hlen > FXP_MAX_HANDLE) {
		*h = NULL;
		*hlen = 0;
		return -EBADMSG;
	}
	return 0;
}

int
fxp_dec_data(const struct fxp_reply *r, const uint8_t **d, uint32_t *dlen)
{
	struct wire_rd rd;

	*d = NULL;
	*dlen = 0;
	if (r->type != FXP_DATA)
		return -EPROTO;
	fxp_reader(r, &rd);
	return wire_get_string_direct(&rd, d, dlen);
}

int
fxp_dec_attrs(const struct fxp_reply *r, struct fxp_attr *a)
{
	struct wire_rd rd;

	memset(a, 0, sizeof(*a));
	if (r->type != FXP_ATTRS)
		return -EPROTO;
	fxp_reader(r, &rd);
	return fxp_attr_decode(&rd, a);
}

int
fxp_names_begin(const struct fxp_reply *r, struct fxp_names *it)
{
	int e;

	memset(it, 0, sizeof(*it));
	if (r->type != FXP_NAME)
		return -EPROTO;
	fxp_reader(r, &it->rd);
	if ((e = wire_get_u32(&it->rd, &it->count)) != 0)
		return e;
	if (it->count > wire_rd_left(&it->rd) / FXP_MIN_NAME_ENTRY) {
		it->count = 0;
		return -EBADMSG;
	}
	return 0;
}

int
fxp_names_next(struct fxp_names *it, struct fxp_name *n)
{
	const uint8_t *s, *l;
	int e;

	memset(n, 0, sizeof(*n));
	if (it->done >= it->count)
		return 0;
	if ((e = wire_get_string_direct(&it->rd, &s, &n->name_len)) != 0 ||
	    (e = wire_get_string_direct(&it->rd, &l, &n->longname_len)) != 0 ||
	    (e = fxp_attr_decode(&it->rd, &n->attr)) != 0) {
		memset(n, 0, sizeof(*n));
		it->done = it->count;	/* a broken list ends here */
		return e;
	}
	n->name = (const char *)s;
	n->longname = (const char *)l;
	it->done++;
	return 1;
}

bool
fxp_name_is_safe(const char *name, uint32_t len)
{
	return name != NULL && len > 0 && memchr(name, '/', len) == NULL &&
	       memchr(name, '\0', len) == NULL;
}

int
fxp_dec_statvfs(const struct fxp_reply *r, struct statvfs *st)
{
	uint64_t v[11];
	struct wire_rd rd;
	int e, i;

	memset(st, 0, sizeof(*st));
	if (r->type != FXP_EXTENDED_REPLY)
		return -EPROTO;
	fxp_reader(r, &rd);
	for (i = 0; i < 11; i++)
		if ((e = wire_get_u64(&rd, &v[i])) != 0)
			return e;
	st->f_bsize = v[0];
	st->f_frsize = v[1];
	st->f_blocks = v[2];
	st->f_bfree = v[3];
	st->f_bavail = v[4];
	st->f_files = v[5];
	st->f_ffree = v[6];
	st->f_favail = v[7];
	st->f_fsid = v[8];
	st->f_flag = ((v[9] & FXP_STATVFS_RDONLY) ? ST_RDONLY : 0) |
		     ((v[9] & FXP_STATVFS_NOSUID) ? ST_NOSUID : 0);
	st->f_namemax = v[10];
	return 0;
}

int
fxp_dec_limits(const struct fxp_reply *r, struct fxp_limits *l)
{
	struct wire_rd rd;
	int e;

	memset(l, 0, sizeof(*l));
	if (r->type != FXP_EXTENDED_REPLY)
		return -EPROTO;
	fxp_reader(r, &rd);
	if ((e = wire_get_u64(&rd, &l->max_packet)) != 0 ||
	    (e = wire_get_u64(&rd, &l->max_read)) != 0 ||
	    (e = wire_get_u64(&rd, &l->max_write)) != 0 ||
	    (e = wire_get_u64(&rd, &l->max_handles)) != 0) {
		memset(l, 0, sizeof(*l));
		return e;
	}
	return 0;
}

/* ---- mapping ---- */

/* OpenSSH folds most errno values into FAILURE (errno_to_portable), so no
 * mapping can be exact. FAILURE becomes EPERM as in sshfs, which keeps
 * scripts written against sshfs behaving the same; rfs recovers EEXIST and
 * ENOTEMPTY where they matter. BAD_MESSAGE is what OpenSSH sends for EINVAL
 * and ENAMETOOLONG, so EINVAL tells the user more than EBADMSG would. */
static const struct {
	int err;
	const char *name;
} fxp_status_tab[] = {
	[FX_OK] = { 0, "ok" },
	[FX_EOF] = { -ENODATA, "end of file" },
	[FX_NO_SUCH_FILE] = { -ENOENT, "no such file" },
	[FX_PERMISSION_DENIED] = { -EACCES, "permission denied" },
	[FX_FAILURE] = { -EPERM, "failure" },
	[FX_BAD_MESSAGE] = { -EINVAL, "bad message" },
	[FX_NO_CONNECTION] = { -ENOTCONN, "no connection" },
	[FX_CONNECTION_LOST] = { -ECONNABORTED, "connection lost" },
	[FX_OP_UNSUPPORTED] = { -EOPNOTSUPP, "operation unsupported" },
};

#define FXP_NSTATUS (sizeof(fxp_status_tab) / sizeof(fxp_status_tab[0]))

int
fxp_status_errno(uint32_t code)
{
	return code < FXP_NSTATUS ? fxp_status_tab[code].err : -EIO;
}

const char *
fxp_status_name(uint32_t code)
{
	return code < FXP_NSTATUS ? fxp_status_tab[code].name : "unknown status";
}

static const char *const fxp_type_tab[] = {
	[FXP_INIT] = "INIT", [FXP_VERSION] = "VERSION", [FXP_OPEN] = "OPEN",
	[FXP_CLOSE] = "CLOSE", [FXP_READ] = "READ", [FXP_WRITE] = "WRITE",
	[FXP_LSTAT] = "LSTAT", [FXP_FSTAT] = "FSTAT", [FXP_SETSTAT] = "SETSTAT",
	[FXP_FSETSTAT] = "FSETSTAT", [FXP_OPENDIR] = "OPENDIR",
	[FXP_READDIR] = "READDIR", [FXP_REMOVE] = "REMOVE",
	[FXP_MKDIR] = "MKDIR", [FXP_RMDIR] = "RMDIR",
	[FXP_REALPATH] = "REALPATH", [FXP_STAT] = "STAT",
	[FXP_RENAME] = "RENAME", [FXP_READLINK] = "READLINK",
	[FXP_SYMLINK] = "SYMLINK", [FXP_STATUS] = "STATUS",
	[FXP_HANDLE] = "HANDLE", [FXP_DATA] = "DATA", [FXP_NAME] = "NAME",
	[FXP_ATTRS] = "ATTRS", [FXP_EXTENDED] = "EXTENDED",
	[FXP_EXTENDED_REPLY] = "EXTENDED_REPLY",
};

const char *
fxp_type_name(uint8_t type)
{
	const char *s = NULL;

	if (type < sizeof(fxp_type_tab) / sizeof(fxp_type_tab[0]))
		s = fxp_type_tab[type];
	return s != NULL ? s : "?";
}

void
fxp_stat_to_attr(const struct stat *st, uint32_t flags, struct fxp_attr *a)
{
	flags &= FXA_SIZE | FXA_UIDGID | FXA_PERMISSIONS | FXA_ACMODTIME;
	a->flags |= flags;
	if (flags & FXA_SIZE)
		a->size = (uint64_t)st->st_size;
	if (flags & FXA_UIDGID) {
		a->uid = st->st_uid;
		a->gid = st->st_gid;
	}
	/* The file type cannot be changed over SFTP; send permission bits only,
	 * as OpenSSH's client does. */
	if (flags & FXA_PERMISSIONS)
		a->perm = st->st_mode & 07777;
	/* v3 times are uint32 seconds: truncation is the protocol's limit. */
	if (flags & FXA_ACMODTIME) {
		a->atime = (uint32_t)st->st_atim.tv_sec;
		a->mtime = (uint32_t)st->st_mtim.tv_sec;
	}
}
