/* kdf: Blowfish's pi state and bcrypt_pbkdf against a key ssh-keygen made
 * (OpenSSH 9.2, "ssh-keygen -t ed25519 -a 4 -N 'correct horse'"): the
 * derived key must decrypt its private section so that the two check words
 * agree and the key type and comment appear. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "kdf.h"
#include "tap.h"
#include "wire.h"

static const char vector_b64[] =
	"b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABBUkC6zUA"
	"blAJ612rxLe+1cAAAABAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIM5+tlQCLq64fehw"
	"JdTvvqesaGGdTCBPPbej7DjEf/HPAAAAkJJR3q01ef0SY0KrS8iFkx4fOvWRz6eYASzCgB"
	"MM01x5x795Jxw3jl+d8oXAI5t02rPT2xxE/VxkpDVbmm0cUc7fnKV0J3/0MqPp/s/aMZlD"
	"dNgchjwlW/YQk3rYdFwJoOMNdekD3AzZBdpdemRTfpaNjCTXVa0m1hOdIKmL50q0q8DKPq"
	"m4VJXaAb8x6zzOKw==";

struct vec {
	uint8_t raw[1024];
	size_t len;
	const uint8_t *salt, *priv;
	uint32_t saltlen, privlen, rounds;
};

static int
parse_vector(struct vec *v)
{
	struct wire_rd rd;
	const uint8_t *s, *opts;
	uint32_t n, optlen, nkeys;

	if (sodium_base642bin(v->raw, sizeof(v->raw), vector_b64, strlen(vector_b64), NULL,
			      &v->len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	wire_rd_init(&rd, v->raw + 15, v->len - 15);	/* after "openssh-key-v1\0" */
	if (wire_get_string_direct(&rd, &s, &n) || n != 10 || memcmp(s, "aes256-ctr", 10) ||
	    wire_get_string_direct(&rd, &s, &n) || n != 6 || memcmp(s, "bcrypt", 6) ||
	    wire_get_string_direct(&rd, &opts, &optlen) || wire_get_u32(&rd, &nkeys) ||
	    nkeys != 1 || wire_get_string_direct(&rd, &s, &n) ||
	    wire_get_string_direct(&rd, &v->priv, &v->privlen))
		return -1;
	wire_rd_init(&rd, opts, optlen);
	if (wire_get_string_direct(&rd, &v->salt, &v->saltlen) || wire_get_u32(&rd, &v->rounds))
		return -1;
	return 0;
}

/* Decrypts the first 'len' bytes of the private section with pass. */
static int
decrypt(const struct vec *v, const char *pass, uint8_t *out, size_t len)
{
	uint8_t kiv[48];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (kdf_bcrypt_pbkdf(pass, strlen(pass), v->salt, v->saltlen, kiv, sizeof(kiv),
			     v->rounds) < 0)
		return -1;
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_ctr(), NULL, kiv, kiv + 32) == 1 &&
	     EVP_DecryptUpdate(c, out, &n, v->priv, (int)len) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static void
test_pi(void)
{
	uint32_t pi[1042];

	TAP_EQ_INT(kdf_pi_words(pi, 1042), 0);
	TAP_CHECK(pi[0] == 0x243f6a88u);	/* P-array */
	TAP_CHECK(pi[1] == 0x85a308d3u);
	TAP_CHECK(pi[17] == 0x8979fb1bu);
	TAP_CHECK(pi[18] == 0xd1310ba6u);	/* first S-box */
	TAP_CHECK(pi[1041] == 0x3ac372e6u);	/* last word of the fourth S-box */
	TAP_EQ_INT(kdf_pi_words(pi, 1043), -EINVAL);
}

static void
test_vector(void)
{
	struct vec v;
	uint8_t plain[160];

	TAP_EQ_INT(parse_vector(&v), 0);
	TAP_EQ_INT(v.rounds, 4);
	TAP_EQ_INT(v.saltlen, 16);
	TAP_CHECK(v.privlen <= sizeof(plain));
	TAP_EQ_INT(decrypt(&v, "correct horse", plain, v.privlen), 0);
	TAP_CHECK(memcmp(plain, plain + 4, 4) == 0);	/* check words agree */
	TAP_CHECK(memcmp(plain + 12, "ssh-ed25519", 11) == 0);
	TAP_CHECK(memmem(plain, v.privlen, "kdf-vector", 10) != NULL);
	TAP_EQ_INT(decrypt(&v, "correct horsE", plain, v.privlen), 0);
	TAP_CHECK(memcmp(plain, plain + 4, 4) != 0);	/* wrong passphrase */
}

static void
test_args(void)
{
	uint8_t key[64], salt[16] = { 1 };

	TAP_EQ_INT(kdf_bcrypt_pbkdf("p", 1, salt, sizeof(salt), key, 48, 0), -EINVAL);
	TAP_EQ_INT(kdf_bcrypt_pbkdf("", 0, salt, sizeof(salt), key, 48, 1), -EINVAL);
	TAP_EQ_INT(kdf_bcrypt_pbkdf("p", 1, salt, 0, key, 48, 1), -EINVAL);
	TAP_EQ_INT(kdf_bcrypt_pbkdf("p", 1, salt, sizeof(salt), key, 0, 1), -EINVAL);
	TAP_EQ_INT(kdf_bcrypt_pbkdf("p", 1, salt, sizeof(salt), key, 1025, 1), -EINVAL);
	/* deterministic, and every output byte depends on the rounds */
	{
		uint8_t a[48], b[48], c[48];

		TAP_EQ_INT(kdf_bcrypt_pbkdf("pw", 2, salt, sizeof(salt), a, sizeof(a), 2), 0);
		TAP_EQ_INT(kdf_bcrypt_pbkdf("pw", 2, salt, sizeof(salt), b, sizeof(b), 2), 0);
		TAP_EQ_INT(kdf_bcrypt_pbkdf("pw", 2, salt, sizeof(salt), c, sizeof(c), 3), 0);
		TAP_CHECK(memcmp(a, b, sizeof(a)) == 0);
		TAP_CHECK(memcmp(a, c, sizeof(a)) != 0);
	}
}

int
main(void)
{
	test_pi();
	test_vector();
	test_args();
	return tap_done();
}
