/* fxp: the SFTP version 3 codec (draft-ietf-secsh-filexfer-02 plus the
 * OpenSSH extensions of PROTOCOL §4).
 *
 * Pure functions: no I/O, no threads, no global state. Encoders append one
 * whole packet (uint32 length, byte type, uint32 id = 0, payload) to a
 * wire_buf; the client assigns the id later with fxp_set_id(). Decoders take
 * a complete packet that came from a server and treat every byte as hostile:
 * every length is bounded by what remains, counts are capped, views point
 * into the packet (valid while it lives; never freed by the caller).
 *
 * Errors: 0 on success or a negative errno: -EBADMSG for malformed input,
 * -EPROTO for a well-formed reply of the wrong type, -EMSGSIZE for a packet
 * over FXP_MAX_PACKET, -ENOMEM.
 */
#ifndef SSHMOUNTFS_FXP_H
#define SSHMOUNTFS_FXP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "wire.h"

/* Largest packet (length field value) we accept from a server. OpenSSH
 * never sends more than 256 KiB (SFTP_MAX_MSG_LENGTH); other servers may
 * batch long NAME replies, so we allow twice that and no more. */
#define FXP_MAX_PACKET (512u * 1024u)
/* Largest packet we send (OpenSSH's sftp-server refuses more than 256 KiB). */
#define FXP_MAX_OUT_PACKET (256u * 1024u)
/* SFTP handles are at most 256 bytes (draft-02 §3). */
#define FXP_MAX_HANDLE 256u
/* Default READ/WRITE size for servers without limits@openssh.com. */
#define FXP_DEFAULT_IO_SIZE 32768u

enum fxp_type {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4, FXP_READ = 5,
	FXP_WRITE = 6, FXP_LSTAT = 7, FXP_FSTAT = 8, FXP_SETSTAT = 9,
	FXP_FSETSTAT = 10, FXP_OPENDIR = 11, FXP_READDIR = 12, FXP_REMOVE = 13,
	FXP_MKDIR = 14, FXP_RMDIR = 15, FXP_REALPATH = 16, FXP_STAT = 17,
	FXP_RENAME = 18, FXP_READLINK = 19, FXP_SYMLINK = 20,
	FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104,
	FXP_ATTRS = 105, FXP_EXTENDED = 200, FXP_EXTENDED_REPLY = 201,
};

enum fxp_status {
	FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3,
	FX_FAILURE = 4, FX_BAD_MESSAGE = 5, FX_NO_CONNECTION = 6,
	FX_CONNECTION_LOST = 7, FX_OP_UNSUPPORTED = 8,
};

/* OPEN pflags */
enum {
	FXF_READ = 0x01, FXF_WRITE = 0x02, FXF_APPEND = 0x04, FXF_CREAT = 0x08,
	FXF_TRUNC = 0x10, FXF_EXCL = 0x20,
};

/* ATTRS flags */
enum {
	FXA_SIZE = 0x1, FXA_UIDGID = 0x2, FXA_PERMISSIONS = 0x4,
	FXA_ACMODTIME = 0x8,
};
/* Not in the enum: an enumerator must fit an int (C11 6.7.2.2). */
#define FXA_EXTENDED 0x80000000u

/* A decoded attribute block. Only fields whose flag is set are meaningful;
 * extended pairs are skipped on decode and never encoded. */
struct fxp_attr {
	uint32_t flags;
	uint64_t size;
	uint32_t uid, gid;
	uint32_t perm;		/* st_mode bits, including the file type */
	uint32_t atime, mtime;
};

/* A reply packet as framed from the stream: views into the packet. */
struct fxp_reply {
	uint8_t type;
	uint32_t id;		/* 0 for VERSION */
	const uint8_t *body;	/* payload after the id */
	size_t len;
};

/* ---- framing ---- */

/* Looks at the start of a receive buffer. Returns the total size of the
 * first packet (4 + length) when it is complete, 0 when more bytes are
 * needed, -EMSGSIZE when the length field exceeds FXP_MAX_PACKET, -EBADMSG
 * when it is 0 (no type byte). */
long fxp_frame(const uint8_t *p, size_t avail);

/* Parses one complete packet (as returned by fxp_frame) into *r. Every
 * type except VERSION must carry an id. 0 or -EBADMSG. */
int fxp_parse(const uint8_t *pkt, size_t pktlen, struct fxp_reply *r);

/* ---- encoding (the packet is appended to b) ---- */

/* Starts a packet of 'type' with a zero id; fxp_end() patches the length.
 * Use these to build any request the helpers below do not cover.
 * A wire_buf holds exactly one packet, at offset 0: fxp_begin() on a
 * non-empty buffer is -EINVAL. A buffer whose max is 0 (zero-initialised or
 * wire_buf_init(b, 0)) gets FXP_MAX_OUT_PACKET; a request that would not
 * fit is -EMSGSIZE. Every fxp_enc_* helper follows the same rules, and on
 * failure leaves the buffer empty (len 0, storage kept) for reuse. */
int fxp_begin(struct wire_buf *b, uint8_t type);
int fxp_end(struct wire_buf *b);
/* Sets the request id of the packet that starts at b->p. */
void fxp_set_id(struct wire_buf *b, uint32_t id);
uint32_t fxp_get_id(const struct wire_buf *b);

int fxp_enc_init(struct wire_buf *b);	/* INIT, version 3, no id */
/* LSTAT, STAT, OPENDIR, REMOVE, RMDIR, REALPATH, READLINK */
int fxp_enc_path(struct wire_buf *b, uint8_t type, const char *path);
/* RENAME (old, new) and SYMLINK: OpenSSH wants (target, linkpath), the
 * reverse of the draft; the caller passes them in wire order. */
int fxp_enc_path2(struct wire_buf *b, uint8_t type, const char *a, const char *c);
/* CLOSE, FSTAT, READDIR */
int fxp_enc_handle(struct wire_buf *b, uint8_t type, const uint8_t *h, uint32_t hlen);
int fxp_enc_open(struct wire_buf *b, const char *path, uint32_t pflags,
		 const struct fxp_attr *a);
int fxp_enc_read(struct wire_buf *b, const uint8_t *h, uint32_t hlen,
		 uint64_t off, uint32_t len);
int fxp_enc_write(struct wire_buf *b, const uint8_t *h, uint32_t hlen,
		  uint64_t off, const void *data, uint32_t len);
/* SETSTAT and MKDIR (path, ATTRS) */
int fxp_enc_path_attr(struct wire_buf *b, uint8_t type, const char *path,
		      const struct fxp_attr *a);
int fxp_enc_fsetstat(struct wire_buf *b, const uint8_t *h, uint32_t hlen,
		     const struct fxp_attr *a);
/* EXTENDED requests. 'name' is the extension name, e.g. "statvfs@openssh.com". */
int fxp_enc_ext_begin(struct wire_buf *b, const char *name);   /* then put args, fxp_end() */
int fxp_enc_ext_path(struct wire_buf *b, const char *name, const char *path);
int fxp_enc_ext_path2(struct wire_buf *b, const char *name, const char *a, const char *c);
int fxp_enc_ext_handle(struct wire_buf *b, const char *name, const uint8_t *h, uint32_t hlen);
int fxp_enc_lsetstat(struct wire_buf *b, const char *path, const struct fxp_attr *a);
int fxp_enc_copy_data(struct wire_buf *b, const uint8_t *rh, uint32_t rhlen,
		      uint64_t roff, uint64_t len, const uint8_t *wh, uint32_t whlen,
		      uint64_t woff);
/* Appends an ATTRS block (no packet framing). */
int fxp_attr_encode(struct wire_buf *b, const struct fxp_attr *a);

/* ---- decoding ---- */

/* VERSION: calls ext(name, data, arg) for each extension pair.
 * 0, -EBADMSG, -EPROTO (not a VERSION packet). */
int fxp_dec_version(const struct fxp_reply *r, uint32_t *version,
		    void (*ext)(const char *name, size_t nlen, const char *data,
				size_t dlen, void *arg), void *arg);
/* Maps a reply that should be 'expected' to an errno: 0 when r->type is
 * 'expected'; for STATUS the mapped code (FX_OK gives 0 only when 'expected'
 * is FXP_STATUS; FX_EOF gives -ENODATA); -EPROTO for any other type. */
int fxp_reply_errno(const struct fxp_reply *r, uint8_t expected);
int fxp_dec_status(const struct fxp_reply *r, uint32_t *code,
		   const uint8_t **msg, uint32_t *msglen);
int fxp_dec_handle(const struct fxp_reply *r, const uint8_t **h, uint32_t *hlen);
int fxp_dec_data(const struct fxp_reply *r, const uint8_t **d, uint32_t *dlen);
int fxp_dec_attrs(const struct fxp_reply *r, struct fxp_attr *a);
/* Reads an ATTRS block from a reader: clears *a first; extended pairs are
 * skipped, their count capped at 0x100000. */
int fxp_attr_decode(struct wire_rd *rd, struct fxp_attr *a);

/* NAME replies: an iterator over the entries. fxp_names_begin() checks that
 * the count cannot exceed what the packet could hold (12 bytes per entry
 * minimum) and returns it in it->count. fxp_names_next() returns 1 with the
 * next entry, 0 after the last, or -EBADMSG. Names are views, not
 * NUL-terminated. */
struct fxp_names {
	struct wire_rd rd;
	uint32_t count;
	uint32_t done;
};
struct fxp_name {
	const char *name;
	uint32_t name_len;
	const char *longname;
	uint32_t longname_len;
	struct fxp_attr attr;
};
int fxp_names_begin(const struct fxp_reply *r, struct fxp_names *it);
int fxp_names_next(struct fxp_names *it, struct fxp_name *n);

/* A READDIR entry name must not contain '/' or NUL and must not be empty. */
bool fxp_name_is_safe(const char *name, uint32_t len);

/* statvfs@openssh.com / fstatvfs@openssh.com replies (11 x uint64). */
int fxp_dec_statvfs(const struct fxp_reply *r, struct statvfs *st);

/* limits@openssh.com reply. */
struct fxp_limits {
	uint64_t max_packet, max_read, max_write, max_handles;
};
int fxp_dec_limits(const struct fxp_reply *r, struct fxp_limits *l);

/* ---- mapping ---- */

/* SFTP status code to a negative errno, in one place: OK 0, EOF -ENODATA,
 * NO_SUCH_FILE -ENOENT, PERMISSION_DENIED -EACCES, FAILURE -EPERM (as sshfs;
 * OpenSSH folds EEXIST, ENOTEMPTY, ENOSPC, EROFS... into it), BAD_MESSAGE
 * -EINVAL (OpenSSH sends it for EINVAL and ENAMETOOLONG), NO_CONNECTION
 * -ENOTCONN, CONNECTION_LOST -ECONNABORTED, OP_UNSUPPORTED -EOPNOTSUPP,
 * anything else -EIO. */
int fxp_status_errno(uint32_t code);
/* Human name of a status code ("no such file"); never NULL. */
const char *fxp_status_name(uint32_t code);
/* Name of a packet type for logs ("OPEN"); "?" when unknown. */
const char *fxp_type_name(uint8_t type);

/* Sets the fields of 'a' selected by 'flags' from 'st'. */
void fxp_stat_to_attr(const struct stat *st, uint32_t flags, struct fxp_attr *a);

#endif
