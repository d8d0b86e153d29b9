/* kdf: see kdf.h. */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <sodium.h>

#include "kdf.h"

#define PI_WORDS 1042		/* 18 P entries + 4 x 256 S-box entries */
#define PI_GUARD 64		/* extra bits so truncation errors stay below the output */
#define HASH_WORDS 8
#define HASH_SIZE (HASH_WORDS * 4)

struct blf {
	uint32_t p[18];
	uint32_t s[4][256];
};

/* atan(1/x) * 2^bits, by the alternating series; every term is truncated,
 * which the guard bits absorb. */
static int
atan_inv(BIGNUM *sum, unsigned x, int bits)
{
	BIGNUM *power = BN_new(), *term = BN_new();
	int rc = -ENOMEM;

	BN_zero(sum);
	if (!power || !term || !BN_one(power) ||
	    !BN_lshift(power, power, bits) || BN_div_word(power, x) == (BN_ULONG)-1)
		goto out;
	for (unsigned long k = 0; !BN_is_zero(power); k++) {
		if (!BN_copy(term, power) || BN_div_word(term, 2 * k + 1) == (BN_ULONG)-1)
			goto out;
		if (!((k & 1) ? BN_sub(sum, sum, term) : BN_add(sum, sum, term)))
			goto out;
		if (BN_div_word(power, (BN_ULONG)x * x) == (BN_ULONG)-1)
			goto out;
	}
	rc = 0;
out:
	BN_free(power);
	BN_free(term);
	return rc;
}

int
kdf_pi_words(uint32_t *out, size_t n)
{
	int bits = PI_WORDS * 32 + PI_GUARD;
	BIGNUM *pi, *a, *b;
	unsigned char bytes[PI_WORDS * 4];
	int rc = -ENOMEM;

	if (n > PI_WORDS)
		return -EINVAL;
	pi = BN_new();
	a = BN_new();
	b = BN_new();
	if (!pi || !a || !b)
		goto out;
	/* pi = 16 atan(1/5) - 4 atan(1/239) */
	if (atan_inv(a, 5, bits) < 0 || atan_inv(b, 239, bits) < 0 ||
	    !BN_mul_word(a, 16) || !BN_mul_word(b, 4) || !BN_sub(pi, a, b))
		goto out;
	/* drop the integer part 3 and the guard bits */
	if (!BN_mask_bits(pi, bits) || !BN_rshift(pi, pi, PI_GUARD) ||
	    BN_bn2binpad(pi, bytes, sizeof(bytes)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint32_t)bytes[4 * i] << 24 | (uint32_t)bytes[4 * i + 1] << 16 |
			 (uint32_t)bytes[4 * i + 2] << 8 | bytes[4 * i + 3];
	rc = 0;
out:
	BN_free(pi);
	BN_free(a);
	BN_free(b);
	return rc;
}

static uint32_t
blf_f(const struct blf *c, uint32_t x)
{
	return ((c->s[0][x >> 24] + c->s[1][(x >> 16) & 0xff]) ^ c->s[2][(x >> 8) & 0xff]) +
	       c->s[3][x & 0xff];
}

static void
blf_encipher(const struct blf *c, uint32_t *xl, uint32_t *xr)
{
	uint32_t l = *xl, r = *xr;

	l ^= c->p[0];
	for (int i = 1; i <= 16; i += 2) {
		r ^= blf_f(c, l) ^ c->p[i];
		l ^= blf_f(c, r) ^ c->p[i + 1];
	}
	r ^= c->p[17];
	*xl = r;
	*xr = l;
}

/* Next big-endian word of data, wrapping around (Blowfish_stream2word). */
static uint32_t
stream_word(const uint8_t *data, size_t len, size_t *j)
{
	uint32_t w = 0;

	for (int i = 0; i < 4; i++) {
		if (*j >= len)
			*j = 0;
		w = w << 8 | data[(*j)++];
	}
	return w;
}

/* Key into P, then re-encrypt the whole state, mixing 'data' in when given
 * (eksblowfish's ExpandKey(state, salt, key); without data it is the plain
 * Blowfish key schedule). */
static void
blf_expand(struct blf *c, const uint8_t *data, size_t dlen, const uint8_t *key, size_t klen)
{
	size_t j = 0;
	uint32_t l = 0, r = 0;
	uint32_t *slot;

	for (int i = 0; i < 18; i++)
		c->p[i] ^= stream_word(key, klen, &j);
	j = 0;
	for (int i = 0; i < 18 + 4 * 256; i += 2) {
		if (data) {
			l ^= stream_word(data, dlen, &j);
			r ^= stream_word(data, dlen, &j);
		}
		blf_encipher(c, &l, &r);
		slot = i < 18 ? &c->p[i] : &c->s[(i - 18) / 256][(i - 18) % 256];
		slot[0] = l;
		slot[1] = r;
	}
}

static void
bcrypt_hash(const uint32_t *pi, const uint8_t *sha2pass, const uint8_t *sha2salt,
	    uint8_t out[HASH_SIZE])
{
	static const char magic[HASH_SIZE] = "OxychromaticBlowfishSwatDynamite";
	struct blf st;
	uint32_t cdata[HASH_WORDS];
	size_t j = 0;

	memcpy(st.p, pi, sizeof(st.p));
	memcpy(st.s, pi + 18, sizeof(st.s));
	blf_expand(&st, sha2salt, 64, sha2pass, 64);
	for (int i = 0; i < 64; i++) {
		blf_expand(&st, NULL, 0, sha2salt, 64);
		blf_expand(&st, NULL, 0, sha2pass, 64);
	}
	for (int i = 0; i < HASH_WORDS; i++)
		cdata[i] = stream_word((const uint8_t *)magic, sizeof(magic), &j);
	for (int i = 0; i < 64; i++)
		for (int k = 0; k < HASH_WORDS; k += 2)
			blf_encipher(&st, &cdata[k], &cdata[k + 1]);
	for (int i = 0; i < HASH_WORDS; i++) {
		out[4 * i + 0] = cdata[i] & 0xff;
		out[4 * i + 1] = (cdata[i] >> 8) & 0xff;
		out[4 * i + 2] = (cdata[i] >> 16) & 0xff;
		out[4 * i + 3] = cdata[i] >> 24;
	}
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(cdata, sizeof(cdata));
}

/* One output block: rounds of bcrypt_hash chained through SHA-512, XORed. */
static int
pbkdf_block(const uint32_t *pi, const uint8_t *sha2pass, const uint8_t *salt,
	    size_t saltlen, uint32_t count, unsigned rounds, uint8_t out[HASH_SIZE])
{
	crypto_hash_sha512_state h;
	uint8_t sha2salt[64], tmp[HASH_SIZE], cnt[4] = {
		count >> 24, count >> 16, count >> 8, count };

	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, salt, saltlen);
	crypto_hash_sha512_update(&h, cnt, sizeof(cnt));
	crypto_hash_sha512_final(&h, sha2salt);
	bcrypt_hash(pi, sha2pass, sha2salt, tmp);
	memcpy(out, tmp, HASH_SIZE);
	for (unsigned r = 1; r < rounds; r++) {
		crypto_hash_sha512(sha2salt, tmp, HASH_SIZE);
		bcrypt_hash(pi, sha2pass, sha2salt, tmp);
		for (int i = 0; i < HASH_SIZE; i++)
			out[i] ^= tmp[i];
	}
	sodium_memzero(tmp, sizeof(tmp));
	sodium_memzero(sha2salt, sizeof(sha2salt));
	return 0;
}

int
kdf_bcrypt_pbkdf(const char *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
		 uint8_t *key, size_t keylen, unsigned rounds)
{
	uint32_t pi[PI_WORDS];
	uint8_t sha2pass[64], out[HASH_SIZE];
	size_t stride, amt, left = keylen;
	int rc;

	if (rounds < 1 || passlen == 0 || saltlen == 0 || saltlen > (1u << 20) ||
	    keylen == 0 || keylen > HASH_SIZE * HASH_SIZE)
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOMEM;
	rc = kdf_pi_words(pi, PI_WORDS);
	if (rc < 0)
		return rc;
	/* Output byte i of block 'count' goes to key[i * stride + count - 1]:
	 * every block contributes to the whole key, so no block can be
	 * skipped by an attacker who needs only part of it. */
	stride = (keylen + HASH_SIZE - 1) / HASH_SIZE;
	amt = (keylen + stride - 1) / stride;
	crypto_hash_sha512(sha2pass, (const uint8_t *)pass, passlen);
	for (uint32_t count = 1; left > 0; count++) {
		size_t i;

		pbkdf_block(pi, sha2pass, salt, saltlen, count, rounds, out);
		if (amt > left)
			amt = left;
		for (i = 0; i < amt; i++) {
			size_t dest = i * stride + (count - 1);

			if (dest >= keylen)
				break;
			key[dest] = out[i];
		}
		left -= i;
	}
	sodium_memzero(sha2pass, sizeof(sha2pass));
	sodium_memzero(out, sizeof(out));
	return 0;
}
