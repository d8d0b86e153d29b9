/* wire: bounded big-endian reader and growable writer for SSH/SFTP data.
 *
 * Every byte read through wire_rd may come from a hostile peer: each getter
 * either consumes a whole field or fails with -EBADMSG and consumes nothing
 * useful (the reader is then considered spent). Bounds checks are written so
 * they cannot overflow (n > len - off). No function here allocates except
 * wire_get_cstring() and the wire_buf writers. Thread: none of its own; a
 * reader or buffer belongs to one thread at a time.
 */
#ifndef SSHMOUNTFS_WIRE_H
#define SSHMOUNTFS_WIRE_H

#include <stddef.h>
#include <stdint.h>

struct wire_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void wire_rd_init(struct wire_rd *rd, const void *p, size_t len)
{
	rd->p = p;
	rd->len = len;
	rd->off = 0;
}

static inline size_t wire_rd_left(const struct wire_rd *rd)
{
	return rd->len - rd->off;
}

/* Getters: clear *out first, then consume the field. 0 or -EBADMSG. */
int wire_get_u8(struct wire_rd *rd, uint8_t *out);
int wire_get_u32(struct wire_rd *rd, uint32_t *out);
int wire_get_u64(struct wire_rd *rd, uint64_t *out);
/* A string as a view into the reader's memory: valid while the underlying
 * packet lives. Caller does not free. */
int wire_get_string_direct(struct wire_rd *rd, const uint8_t **s, uint32_t *len);
/* A string copied into a fresh NUL-terminated heap buffer; refuses embedded
 * NULs and strings longer than 'max' bytes (-EBADMSG). Caller frees *out.
 * -ENOMEM on allocation failure. */
int wire_get_cstring(struct wire_rd *rd, char **out, uint32_t max);

/* Big-endian pokes/peeks for fixed offsets (packet length, request id). */
static inline void wire_poke_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static inline uint32_t wire_peek_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A growable output buffer with a hard maximum ('max', curl's toobig). */
struct wire_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
};

/* Prepares an empty buffer that may grow to 'max' bytes. No allocation yet. */
void wire_buf_init(struct wire_buf *b, size_t max);
/* Frees the storage and leaves an empty buffer (NULL-safe). */
void wire_buf_free(struct wire_buf *b);
/* Reserves n bytes at the end and returns them in *p for the caller to fill.
 * 0, -ENOMEM, or -EMSGSIZE past 'max'. */
int wire_reserve(struct wire_buf *b, size_t n, uint8_t **p);
int wire_put_u8(struct wire_buf *b, uint8_t v);
int wire_put_u32(struct wire_buf *b, uint32_t v);
int wire_put_u64(struct wire_buf *b, uint64_t v);
int wire_put_bytes(struct wire_buf *b, const void *p, size_t n);
/* uint32 length + bytes. -EMSGSIZE when n does not fit a uint32. */
int wire_put_string(struct wire_buf *b, const void *p, size_t n);
int wire_put_cstring(struct wire_buf *b, const char *s);

#endif
