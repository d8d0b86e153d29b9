/* wire: bounded big-endian reader and growable writer (contract in wire.h).
 *
 * The reader never trusts a length: every check is written as
 * "n > left" with left = len - off, which cannot overflow. A failing getter
 * leaves the cursor where it was, so a caller can report the offset of the
 * bad field.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* Consumes n bytes and returns where they start, or NULL if fewer remain. */
static const uint8_t *
wire_take(struct wire_rd *rd, size_t n)
{
	const uint8_t *p;

	if (wire_rd_left(rd) < n)
		return NULL;
	p = rd->p + rd->off;
	rd->off += n;
	return p;
}

int
wire_get_u8(struct wire_rd *rd, uint8_t *out)
{
	const uint8_t *p = wire_take(rd, 1);

	*out = p != NULL ? p[0] : 0;
	return p != NULL ? 0 : -EBADMSG;
}

int
wire_get_u32(struct wire_rd *rd, uint32_t *out)
{
	const uint8_t *p = wire_take(rd, 4);

	*out = p != NULL ? wire_peek_u32(p) : 0;
	return p != NULL ? 0 : -EBADMSG;
}

int
wire_get_u64(struct wire_rd *rd, uint64_t *out)
{
	const uint8_t *p = wire_take(rd, 8);

	*out = p != NULL ? (uint64_t)wire_peek_u32(p) << 32 | wire_peek_u32(p + 4) : 0;
	return p != NULL ? 0 : -EBADMSG;
}

int
wire_get_string_direct(struct wire_rd *rd, const uint8_t **s, uint32_t *len)
{
	size_t left = wire_rd_left(rd);
	uint32_t n;

	*s = NULL;
	*len = 0;
	if (left < 4)
		return -EBADMSG;
	n = wire_peek_u32(rd->p + rd->off);
	/* left - 4 cannot wrap: left >= 4 here. */
	if (n > left - 4)
		return -EBADMSG;
	*s = rd->p + rd->off + 4;
	*len = n;
	rd->off += 4 + (size_t)n;
	return 0;
}

int
wire_get_cstring(struct wire_rd *rd, char **out, uint32_t max)
{
	size_t save = rd->off;
	const uint8_t *s;
	uint32_t n;
	char *copy;
	int r;

	*out = NULL;
	if ((r = wire_get_string_direct(rd, &s, &n)) != 0)
		return r;
	if (n > max || memchr(s, '\0', n) != NULL) {
		rd->off = save;
		return -EBADMSG;
	}
	if ((copy = malloc((size_t)n + 1)) == NULL) {
		rd->off = save;
		return -ENOMEM;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	*out = copy;
	return 0;
}

void
wire_buf_init(struct wire_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
wire_buf_free(struct wire_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Grows the storage to hold at least 'need' bytes (need <= max). */
static int
wire_grow(struct wire_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *np;

	while (cap < need)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	if (cap > b->max)
		cap = b->max;
	if ((np = realloc(b->p, cap)) == NULL)
		return -ENOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

int
wire_reserve(struct wire_buf *b, size_t n, uint8_t **p)
{
	int r;

	*p = NULL;
	/* b->len <= b->max always holds, so the subtraction cannot wrap. */
	if (n > b->max - b->len)
		return -EMSGSIZE;
	if (b->len + n > b->cap && (r = wire_grow(b, b->len + n)) != 0)
		return r;
	*p = b->p + b->len;
	b->len += n;
	return 0;
}

int
wire_put_u8(struct wire_buf *b, uint8_t v)
{
	return wire_put_bytes(b, &v, 1);
}

int
wire_put_u32(struct wire_buf *b, uint32_t v)
{
	uint8_t be[4];

	wire_poke_u32(be, v);
	return wire_put_bytes(b, be, 4);
}

int
wire_put_u64(struct wire_buf *b, uint64_t v)
{
	uint8_t be[8];

	wire_poke_u32(be, (uint32_t)(v >> 32));
	wire_poke_u32(be + 4, (uint32_t)v);
	return wire_put_bytes(b, be, 8);
}

int
wire_put_bytes(struct wire_buf *b, const void *src, size_t n)
{
	uint8_t *p;
	int r;

	if ((r = wire_reserve(b, n, &p)) != 0)
		return r;
	if (n > 0)
		memcpy(p, src, n);
	return 0;
}

int
wire_put_string(struct wire_buf *b, const void *src, size_t n)
{
	uint8_t *p;
	int r;

	if (n > UINT32_MAX || n > SIZE_MAX - 4)
		return -EMSGSIZE;
	/* One reservation, so a failure never leaves half a field behind. */
	if ((r = wire_reserve(b, 4 + n, &p)) != 0)
		return r;
	wire_poke_u32(p, (uint32_t)n);
	if (n > 0)
		memcpy(p + 4, src, n);
	return 0;
}

int
wire_put_cstring(struct wire_buf *b, const char *s)
{
	return wire_put_string(b, s, strlen(s));
}
