/* Unit tests of core/wire: the bounded reader and the capped writer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "wire.h"

static void
test_ints_round_trip(void)
{
	struct wire_buf b;
	struct wire_rd rd;
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;

	wire_buf_init(&b, 64);
	TAP_EQ_INT(wire_put_u8(&b, 0xab), 0);
	TAP_EQ_INT(wire_put_u32(&b, 0x01020304u), 0);
	TAP_EQ_INT(wire_put_u64(&b, 0x1122334455667788ull), 0);
	TAP_EQ_INT(b.len, 13);
	TAP_CHECK(memcmp(b.p, "\xab\x01\x02\x03\x04\x11\x22\x33\x44\x55\x66\x77\x88", 13) == 0);

	wire_rd_init(&rd, b.p, b.len);
	TAP_EQ_INT(wire_get_u8(&rd, &u8), 0);
	TAP_EQ_INT(u8, 0xab);
	TAP_EQ_INT(wire_get_u32(&rd, &u32), 0);
	TAP_EQ_INT(u32, 0x01020304u);
	TAP_EQ_INT(wire_get_u64(&rd, &u64), 0);
	TAP_CHECK(u64 == 0x1122334455667788ull);
	TAP_EQ_INT(wire_rd_left(&rd), 0);
	/* Past the end: each getter fails, clears its output, keeps the cursor. */
	u8 = 7;
	u32 = 7;
	u64 = 7;
	TAP_EQ_INT(wire_get_u8(&rd, &u8), -EBADMSG);
	TAP_EQ_INT(u8, 0);
	TAP_EQ_INT(wire_get_u32(&rd, &u32), -EBADMSG);
	TAP_EQ_INT(u32, 0);
	TAP_EQ_INT(wire_get_u64(&rd, &u64), -EBADMSG);
	TAP_CHECK(u64 == 0);
	TAP_EQ_INT(rd.off, 13);
	wire_buf_free(&b);
}

static void
test_truncated_ints(void)
{
	static const uint8_t three[] = { 1, 2, 3 };
	static const uint8_t seven[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct wire_rd rd;
	uint32_t u32;
	uint64_t u64;

	wire_rd_init(&rd, three, sizeof(three));
	TAP_EQ_INT(wire_get_u32(&rd, &u32), -EBADMSG);
	TAP_EQ_INT(rd.off, 0);
	wire_rd_init(&rd, seven, sizeof(seven));
	TAP_EQ_INT(wire_get_u64(&rd, &u64), -EBADMSG);
	TAP_EQ_INT(wire_get_u32(&rd, &u32), 0);
	TAP_EQ_INT(u32, 0x01020304);
	TAP_EQ_INT(wire_rd_left(&rd), 3);
}

static void
test_strings(void)
{
	struct wire_buf b;
	struct wire_rd rd;
	const uint8_t *s;
	uint32_t n;
	char *c;

	wire_buf_init(&b, 1024);
	TAP_EQ_INT(wire_put_cstring(&b, "hello"), 0);
	TAP_EQ_INT(wire_put_string(&b, "", 0), 0);
	TAP_EQ_INT(wire_put_string(&b, "a\0b", 3), 0);
	TAP_EQ_INT(wire_put_bytes(&b, "xyz", 3), 0);
	TAP_EQ_INT(b.len, 4 + 5 + 4 + 4 + 3 + 3);

	wire_rd_init(&rd, b.p, b.len);
	TAP_EQ_INT(wire_get_string_direct(&rd, &s, &n), 0);
	TAP_EQ_INT(n, 5);
	TAP_CHECK(s != NULL && memcmp(s, "hello", 5) == 0);
	TAP_EQ_INT(wire_get_cstring(&rd, &c, 100), 0);
	TAP_CHECK(c != NULL && c[0] == '\0');
	free(c);
	/* An embedded NUL is refused by the cstring getter, cursor kept. */
	TAP_EQ_INT(wire_get_cstring(&rd, &c, 100), -EBADMSG);
	TAP_CHECK(c == NULL);
	TAP_EQ_INT(rd.off, 13);
	TAP_EQ_INT(wire_get_string_direct(&rd, &s, &n), 0);
	TAP_EQ_INT(n, 3);
	TAP_EQ_INT(wire_rd_left(&rd), 3);
	wire_buf_free(&b);
}

static void
test_string_lengths_hostile(void)
{
	/* Length 0xffffffff with 4 bytes after it: must not wrap. */
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd' };
	/* Length 5 with 4 bytes after it. */
	static const uint8_t past[] = { 0, 0, 0, 5, 'a', 'b', 'c', 'd' };
	/* Length 4 exactly. */
	static const uint8_t exact[] = { 0, 0, 0, 4, 'a', 'b', 'c', 'd' };
	struct wire_rd rd;
	const uint8_t *s;
	uint32_t n;
	char *c;

	wire_rd_init(&rd, huge, sizeof(huge));
	TAP_EQ_INT(wire_get_string_direct(&rd, &s, &n), -EBADMSG);
	TAP_CHECK(s == NULL && n == 0 && rd.off == 0);
	TAP_EQ_INT(wire_get_cstring(&rd, &c, UINT32_MAX), -EBADMSG);
	TAP_CHECK(c == NULL);
	wire_rd_init(&rd, past, sizeof(past));
	TAP_EQ_INT(wire_get_string_direct(&rd, &s, &n), -EBADMSG);
	wire_rd_init(&rd, past, 3);
	TAP_EQ_INT(wire_get_string_direct(&rd, &s, &n), -EBADMSG);
	wire_rd_init(&rd, exact, sizeof(exact));
	/* The cap of the copying getter applies. */
	TAP_EQ_INT(wire_get_cstring(&rd, &c, 3), -EBADMSG);
	TAP_EQ_INT(rd.off, 0);
	TAP_EQ_INT(wire_get_cstring(&rd, &c, 4), 0);
	TAP_CHECK(c != NULL && strcmp(c, "abcd") == 0);
	free(c);
	/* Zero-length input. */
	wire_rd_init(&rd, exact, 0);
	TAP_EQ_INT(wire_get_string_direct(&rd, &s, &n), -EBADMSG);
}

static void
test_buf_caps(void)
{
	struct wire_buf b;
	uint8_t *p;
	size_t i;

	wire_buf_init(&b, 10);
	TAP_EQ_INT(wire_put_u64(&b, 1), 0);
	TAP_EQ_INT(wire_put_u32(&b, 1), -EMSGSIZE);
	TAP_EQ_INT(b.len, 8);
	/* A string that does not fit leaves nothing of itself behind. */
	TAP_EQ_INT(wire_put_string(&b, "", 0), -EMSGSIZE);
	TAP_EQ_INT(b.len, 8);
	TAP_EQ_INT(wire_put_u8(&b, 1), 0);
	TAP_EQ_INT(wire_put_u8(&b, 2), 0);
	TAP_EQ_INT(wire_put_u8(&b, 3), -EMSGSIZE);
	TAP_EQ_INT(wire_reserve(&b, SIZE_MAX, &p), -EMSGSIZE);
	TAP_CHECK(p == NULL);
	TAP_EQ_INT(b.len, 10);
	TAP_CHECK(b.cap <= 10);
	wire_buf_free(&b);
	TAP_CHECK(b.p == NULL && b.len == 0);
	wire_buf_free(NULL);

	/* Growth across many reallocations keeps earlier bytes. */
	wire_buf_init(&b, 100000);
	for (i = 0; i < 20000; i++)
		if (wire_put_u32(&b, (uint32_t)i) != 0)
			break;
	TAP_EQ_INT(i, 20000);
	TAP_EQ_INT(wire_peek_u32(b.p + 4 * 12345), 12345);
	TAP_EQ_INT(wire_put_bytes(&b, "x", 20001), -EMSGSIZE);
	TAP_EQ_INT(wire_put_string(&b, NULL, (size_t)UINT32_MAX + 1), -EMSGSIZE);
	wire_buf_free(&b);

	/* max 0: nothing fits. */
	wire_buf_init(&b, 0);
	TAP_EQ_INT(wire_put_u8(&b, 1), -EMSGSIZE);
	wire_buf_free(&b);
}

static void
test_poke_peek(void)
{
	uint8_t p[4];

	wire_poke_u32(p, 0xdeadbeefu);
	TAP_CHECK(memcmp(p, "\xde\xad\xbe\xef", 4) == 0);
	TAP_CHECK(wire_peek_u32(p) == 0xdeadbeefu);
}

int
main(void)
{
	test_ints_round_trip();
	test_truncated_ints();
	test_strings();
	test_string_lengths_hostile();
	test_buf_caps();
	test_poke_peek();
	return tap_done();
}
