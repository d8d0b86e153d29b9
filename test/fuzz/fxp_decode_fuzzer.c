/* libFuzzer target for the SFTP reply decoder (core/fxp, core/wire).
 *
 * The input is treated two ways, because a fuzzer that must first learn the
 * framing reaches the body decoders slowly:
 *   1. as a byte stream from a server: framed packet by packet with
 *      fxp_frame()/fxp_parse(), each packet then decoded as its own type;
 *   2. as the body of a reply: the first byte picks nothing, the rest is
 *      handed to every body decoder as if it were that reply type.
 * Every decoder runs on every body regardless of the type byte, so a bug in
 * one cannot hide behind another's type check. Nothing here may crash, leak
 * or read out of bounds; results are only sanity-checked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_ext(const char *name, size_t nlen, const char *d, size_t dlen, void *arg)
{
	size_t *total = arg;

	/* Touch the views so ASan checks they lie inside the packet. */
	if (nlen > 0 && name[nlen - 1] == '\x01')
		(*total)++;
	if (dlen > 0 && d[0] == '\x02')
		(*total)++;
	*total += nlen + dlen;
}

static void
touch(const uint8_t *p, uint32_t n)
{
	volatile uint8_t sink = 0;

	if (n > 0)
		sink ^= p[0] ^ p[n - 1];
	(void)sink;
}

static void
decode_names(const struct fxp_reply *r)
{
	struct fxp_names it;
	struct fxp_name n;
	uint32_t steps = 0;
	int e;

	if (fxp_names_begin(r, &it) != 0)
		return;
	while ((e = fxp_names_next(&it, &n)) == 1) {
		touch((const uint8_t *)n.name, n.name_len);
		touch((const uint8_t *)n.longname, n.longname_len);
		(void)fxp_name_is_safe(n.name, n.name_len);
		touch((const uint8_t *)&n.attr, sizeof(n.attr));
		if (++steps > it.count)
			abort();	/* the iterator must end at its count */
	}
}

/* Runs every body decoder on r, as whatever type each wants. */
static void
decode_as_all(const struct fxp_reply *in)
{
	struct fxp_reply r = *in;
	struct fxp_limits lim;
	struct fxp_attr a;
	struct statvfs sv;
	const uint8_t *p;
	uint32_t n, code, ver;
	size_t total = 0;
	struct wire_rd rd;

	r.type = FXP_VERSION;
	(void)fxp_dec_version(&r, &ver, on_ext, &total);
	r.type = FXP_STATUS;
	if (fxp_dec_status(&r, &code, &p, &n) == 0)
		touch(p, n);
	(void)fxp_reply_errno(&r, FXP_STATUS);
	(void)fxp_reply_errno(&r, FXP_HANDLE);
	(void)fxp_status_name(code);
	r.type = FXP_HANDLE;
	if (fxp_dec_handle(&r, &p, &n) == 0) {
		if (n > FXP_MAX_HANDLE)
			abort();
		touch(p, n);
	}
	r.type = FXP_DATA;
	if (fxp_dec_data(&r, &p, &n) == 0)
		touch(p, n);
	r.type = FXP_ATTRS;
	if (fxp_dec_attrs(&r, &a) == 0)
		touch((const uint8_t *)&a, sizeof(a));
	r.type = FXP_NAME;
	decode_names(&r);
	r.type = FXP_EXTENDED_REPLY;
	(void)fxp_dec_statvfs(&r, &sv);
	(void)fxp_dec_limits(&r, &lim);
	/* Attribute blocks back to back, as in a NAME list. */
	wire_rd_init(&rd, r.body, r.len);
	while (wire_rd_left(&rd) > 0 && fxp_attr_decode(&rd, &a) == 0)
		;
}

/* Decodes r according to its own type, as the client would. */
static void
decode_as_typed(const struct fxp_reply *r)
{
	(void)fxp_type_name(r->type);
	(void)fxp_reply_errno(r, FXP_HANDLE);
	(void)fxp_reply_errno(r, FXP_DATA);
	(void)fxp_reply_errno(r, FXP_NAME);
	(void)fxp_reply_errno(r, FXP_ATTRS);
	(void)fxp_reply_errno(r, FXP_EXTENDED_REPLY);
	decode_as_all(r);
}

static void
decode_stream(const uint8_t *data, size_t size)
{
	struct fxp_reply r;
	size_t off = 0;
	long n;

	while ((n = fxp_frame(data + off, size - off)) > 0) {
		if ((size_t)n > size - off || n > (long)FXP_MAX_PACKET + 4)
			abort();	/* framing must stay inside the input */
		if (fxp_parse(data + off, (size_t)n, &r) == 0)
			decode_as_typed(&r);
		off += (size_t)n;
	}
}

static void
decode_cstrings(const uint8_t *data, size_t size)
{
	struct wire_rd rd;
	char *s;

	wire_rd_init(&rd, data, size);
	while (wire_get_cstring(&rd, &s, 4096) == 0) {
		if (strlen(s) > 4096)
			abort();
		free(s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fxp_reply body;

	decode_stream(data, size);
	memset(&body, 0, sizeof(body));
	body.body = data;
	body.len = size;
	decode_as_all(&body);
	decode_cstrings(data, size);
	return 0;
}
