/* keygen: see keygen.h.
 *
 * The "openssh-key-v1" container (OpenSSH's PROTOCOL.key):
 *   "openssh-key-v1\0" string cipher, string kdfname, string kdfoptions,
 *   uint32 1, string public-blob, string private-section
 * where the private section is
 *   uint32 check, uint32 check, the key's private fields, string comment,
 *   padding 1, 2, 3, ... up to the cipher's block size
 * and is encrypted as a whole when a passphrase is given.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "kdf.h"
#include "keyfile.h"
#include "keygen.h"
#include "util.h"

#define SBUF_CAP (32 * 1024)	/* a 16384-bit RSA private section is ~10 KiB */
#define SALT_LEN 16
#define AES_KEY_LEN 32
#define AES_IV_LEN 16
#define PEM_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define PEM_END "-----END OPENSSH PRIVATE KEY-----\n"
#define PEM_COLS 70

/* A fixed-size buffer in guarded memory: private key bytes never pass
 * through realloc, which would leave unwiped copies behind. Errors are
 * sticky so a sequence of puts is checked once. */
struct sbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

struct keymat {
	enum keygen_type type;
	const char *name;	/* key type name on the wire */
	const char *curve;	/* ECDSA curve identifier */
	uint8_t *ed;		/* Ed25519: pk[32] then sk[64] (seed || pk), guarded */
	EVP_PKEY *pkey;		/* ECDSA, RSA */
};

static int
sbuf_init(struct sbuf *b, size_t cap)
{
	b->p = sodium_malloc(cap);
	b->len = 0;
	b->cap = cap;
	b->err = b->p ? 0 : -ENOMEM;
	return b->err;
}

static void
sbuf_free(struct sbuf *b)
{
	if (b->p) {
		sodium_memzero(b->p, b->cap);
		sodium_free(b->p);
	}
	b->p = NULL;
}

static uint8_t *
sbuf_room(struct sbuf *b, size_t n)
{
	uint8_t *p;

	if (b->err || n > b->cap - b->len) {
		b->err = b->err ? b->err : -EMSGSIZE;
		return NULL;
	}
	p = b->p + b->len;
	b->len += n;
	return p;
}

static void
put_u32(struct sbuf *b, uint32_t v)
{
	uint8_t *p = sbuf_room(b, 4);

	if (p) {
		p[0] = v >> 24;
		p[1] = v >> 16;
		p[2] = v >> 8;
		p[3] = v;
	}
}

static void
put_bytes(struct sbuf *b, const void *d, size_t n)
{
	uint8_t *p = sbuf_room(b, n);

	if (p && n)
		memcpy(p, d, n);
}

static void
put_string(struct sbuf *b, const void *d, size_t n)
{
	put_u32(b, (uint32_t)n);
	put_bytes(b, d, n);
}

static void
put_cstring(struct sbuf *b, const char *s)
{
	put_string(b, s, strlen(s));
}

/* mpint: big-endian magnitude, with a leading zero byte when the top bit
 * is set so the value does not read as negative. */
static void
put_bn(struct sbuf *b, const BIGNUM *bn)
{
	int n = BN_num_bytes(bn);
	int pad = n > 0 && BN_num_bits(bn) % 8 == 0;
	uint8_t *p;

	put_u32(b, (uint32_t)(n + pad));
	p = sbuf_room(b, (size_t)(n + pad));
	if (!p)
		return;
	if (pad)
		*p++ = 0;
	BN_bn2bin(bn, p);
}

static void
put_param(struct sbuf *b, const EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;

	if (!EVP_PKEY_get_bn_param(k, param, &bn)) {
		b->err = b->err ? b->err : -EIO;
		return;
	}
	put_bn(b, bn);
	BN_clear_free(bn);
}

static void
put_ec_point(struct sbuf *b, const EVP_PKEY *k)
{
	uint8_t q[256];
	size_t n = 0;

	/* SSH wants the uncompressed point (0x04 || X || Y). */
	if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, q, sizeof(q), &n) ||
	    n == 0 || q[0] != 0x04) {
		b->err = b->err ? b->err : -EIO;
		return;
	}
	put_string(b, q, n);
}

static void
put_public(struct sbuf *b, const struct keymat *km)
{
	put_cstring(b, km->name);
	switch (km->type) {
	case KEYGEN_ED25519:
		put_string(b, km->ed, crypto_sign_PUBLICKEYBYTES);
		break;
	case KEYGEN_ECDSA:
		put_cstring(b, km->curve);
		put_ec_point(b, km->pkey);
		break;
	case KEYGEN_RSA:
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_E);
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_N);
		break;
	}
}

static void
put_private(struct sbuf *b, const struct keymat *km)
{
	put_cstring(b, km->name);
	switch (km->type) {
	case KEYGEN_ED25519:
		put_string(b, km->ed, crypto_sign_PUBLICKEYBYTES);
		put_string(b, km->ed + crypto_sign_PUBLICKEYBYTES, crypto_sign_SECRETKEYBYTES);
		break;
	case KEYGEN_ECDSA:
		put_cstring(b, km->curve);
		put_ec_point(b, km->pkey);
		put_param(b, km->pkey, OSSL_PKEY_PARAM_PRIV_KEY);
		break;
	case KEYGEN_RSA:
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_N);
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_E);
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_D);
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);	/* iqmp */
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_FACTOR1);		/* p */
		put_param(b, km->pkey, OSSL_PKEY_PARAM_RSA_FACTOR2);		/* q */
		break;
	}
}

int
keygen_type_parse(const char *name, enum keygen_type *out)
{
	if (!strcasecmp(name, "ed25519") || !strcmp(name, "ssh-ed25519"))
		*out = KEYGEN_ED25519;
	else if (!strcasecmp(name, "ecdsa"))
		*out = KEYGEN_ECDSA;
	else if (!strcasecmp(name, "rsa") || !strcmp(name, "ssh-rsa"))
		*out = KEYGEN_RSA;
	else
		return -EINVAL;
	return 0;
}

int
keygen_check_bits(enum keygen_type type, unsigned *bits)
{
	switch (type) {
	case KEYGEN_ED25519:
		if (*bits && *bits != 256)
			return -EINVAL;
		*bits = 256;
		return 0;
	case KEYGEN_ECDSA:
		if (!*bits)
			*bits = KEYGEN_ECDSA_DEFAULT_BITS;
		return *bits == 256 || *bits == 384 || *bits == 521 ? 0 : -EINVAL;
	case KEYGEN_RSA:
		if (!*bits)
			*bits = KEYGEN_RSA_DEFAULT_BITS;
		return *bits >= 1024 && *bits <= 16384 ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int
keymat_make(struct keymat *km, enum keygen_type type, unsigned bits)
{
	memset(km, 0, sizeof(*km));
	km->type = type;
	if (type == KEYGEN_ED25519) {
		km->name = "ssh-ed25519";
		km->ed = sodium_malloc(crypto_sign_PUBLICKEYBYTES + crypto_sign_SECRETKEYBYTES);
		if (!km->ed)
			return -ENOMEM;
		return crypto_sign_keypair(km->ed, km->ed + crypto_sign_PUBLICKEYBYTES) ? -EIO : 0;
	}
	if (type == KEYGEN_RSA) {
		km->name = "ssh-rsa";
		km->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else {
		km->name = bits == 256 ? "ecdsa-sha2-nistp256" :
			   bits == 384 ? "ecdsa-sha2-nistp384" : "ecdsa-sha2-nistp521";
		km->curve = km->name + strlen("ecdsa-sha2-");
		km->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
					     bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521");
	}
	return km->pkey ? 0 : -EIO;
}

static void
keymat_free(struct keymat *km)
{
	if (km->ed) {
		sodium_memzero(km->ed, crypto_sign_PUBLICKEYBYTES + crypto_sign_SECRETKEYBYTES);
		sodium_free(km->ed);
	}
	EVP_PKEY_free(km->pkey);
	memset(km, 0, sizeof(*km));
}

static int
encrypt_section(struct sbuf *priv, const struct secret *pass, const uint8_t *salt,
		unsigned rounds)
{
	uint8_t *kiv = sodium_malloc(AES_KEY_LEN + AES_IV_LEN);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, rc = -EIO;

	if (!kiv || !c) {
		rc = -ENOMEM;
		goto out;
	}
	rc = kdf_bcrypt_pbkdf(pass->s, pass->len, salt, SALT_LEN, kiv,
			      AES_KEY_LEN + AES_IV_LEN, rounds);
	if (rc < 0)
		goto out;
	rc = -EIO;
	/* CTR mode: same length out, in place is allowed. */
	if (EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, kiv, kiv + AES_KEY_LEN) == 1 &&
	    EVP_EncryptUpdate(c, priv->p, &n1, priv->p, (int)priv->len) == 1 &&
	    EVP_EncryptFinal_ex(c, priv->p + n1, &n2) == 1 && (size_t)(n1 + n2) == priv->len)
		rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (kiv) {
		sodium_memzero(kiv, AES_KEY_LEN + AES_IV_LEN);
		sodium_free(kiv);
	}
	return rc;
}

static void
put_kdf_header(struct sbuf *out, bool enc, const uint8_t *salt, unsigned rounds)
{
	put_bytes(out, "openssh-key-v1", sizeof("openssh-key-v1"));	/* with its NUL */
	put_cstring(out, enc ? "aes256-ctr" : "none");
	put_cstring(out, enc ? "bcrypt" : "none");
	if (!enc) {
		put_string(out, "", 0);
		return;
	}
	put_u32(out, 4 + SALT_LEN + 4);
	put_string(out, salt, SALT_LEN);
	put_u32(out, rounds);
}

/* Fills pub with the public blob and out with the whole container. */
static int
build_container(const struct keymat *km, const struct keygen_spec *spec,
		const char *comment, struct sbuf *pub, struct sbuf *out)
{
	bool enc = spec->passphrase && spec->passphrase->len > 0;
	unsigned rounds = spec->rounds ? spec->rounds : KEYGEN_DEFAULT_ROUNDS;
	uint32_t check = randombytes_random();
	uint8_t salt[SALT_LEN];
	struct sbuf priv;
	int rc;

	put_public(pub, km);
	if (pub->err)
		return pub->err;
	rc = sbuf_init(&priv, SBUF_CAP);
	if (rc < 0)
		return rc;
	/* The repeated check word lets a reader tell a wrong passphrase. */
	put_u32(&priv, check);
	put_u32(&priv, check);
	put_private(&priv, km);
	put_cstring(&priv, comment);
	for (uint8_t pad = 1; !priv.err && priv.len % (enc ? 16 : 8); pad++)
		put_bytes(&priv, &pad, 1);
	randombytes_buf(salt, sizeof(salt));
	rc = priv.err;
	if (!rc && enc)
		rc = encrypt_section(&priv, spec->passphrase, salt, rounds);
	if (!rc) {
		put_kdf_header(out, enc, salt, rounds);
		put_u32(out, 1);
		put_string(out, pub->p, pub->len);
		put_string(out, priv.p, priv.len);
		rc = out->err;
	}
	sbuf_free(&priv);
	return rc;
}

/* Base64 of b, in guarded memory; NULL on allocation failure. */
static char *
b64_guarded(const uint8_t *p, size_t len, size_t *outlen)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = sodium_malloc(n);

	if (!s)
		return NULL;
	sodium_bin2base64(s, n, p, len, sodium_base64_VARIANT_ORIGINAL);
	*outlen = strlen(s);
	return s;
}

static void
free_guarded(char *s, size_t len)
{
	if (s) {
		sodium_memzero(s, len);
		sodium_free(s);
	}
}

/* PEM-style armour at 70 columns into a guarded sbuf. */
static int
armor(const struct sbuf *container, struct sbuf *text)
{
	size_t blen;
	char *b64 = b64_guarded(container->p, container->len, &blen);

	if (!b64)
		return -ENOMEM;
	put_bytes(text, PEM_BEGIN, strlen(PEM_BEGIN));
	for (size_t off = 0; off < blen; off += PEM_COLS) {
		size_t n = blen - off < PEM_COLS ? blen - off : PEM_COLS;

		put_bytes(text, b64 + off, n);
		put_bytes(text, "\n", 1);
	}
	put_bytes(text, PEM_END, strlen(PEM_END));
	free_guarded(b64, blen + 1);
	return text->err;
}

static int
write_new(const char *path, mode_t mode, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int rc;

	if (fd < 0)
		return -errno;
	/* fchmod: the umask must not loosen (or tighten) what we promise. */
	rc = fchmod(fd, mode) < 0 ? -errno : util_write_all(fd, data, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc)
		unlink(path);
	return rc;
}

static void
default_comment(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s@%s", pw ? pw->pw_name : "user", host);
}

/* Reads the new file back through libssh and compares it with the .pub. */
static int
verify_written(const char *path, const struct secret *pass, const char *name, const char *b64)
{
	ssh_key priv = NULL, pub = NULL;
	int rc = -EIO;

	if (keyfile_load_private(path, pass && pass->len ? pass : NULL, &priv) == 0 &&
	    ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(name), &pub) == SSH_OK &&
	    ssh_key_cmp(priv, pub, SSH_KEY_CMP_PUBLIC) == 0)
		rc = 0;
	ssh_key_free(priv);
	ssh_key_free(pub);
	return rc;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Writes both files; on any failure neither is left. */
static int
write_pair(const char *path, const char *pubpath, const struct sbuf *text,
	   const char *publine, char *err, size_t errlen)
{
	size_t n = strlen(publine);
	char *line = malloc(n + 2);
	int rc;

	if (!line)
		return -ENOMEM;
	memcpy(line, publine, n);
	memcpy(line + n, "\n", 2);
	rc = write_new(path, 0600, text->p, text->len);
	if (rc < 0)
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(-rc));
	else if ((rc = write_new(pubpath, 0644, line, n + 1)) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", pubpath, strerror(-rc));
		unlink(path);
	}
	free(line);
	return rc;
}

static int
make_publine(const struct sbuf *pub, const char *name, const char *comment, char **publine,
	     char **b64out)
{
	size_t n = sodium_base64_ENCODED_LEN(pub->len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(n);
	size_t total;

	*publine = NULL;
	if (!b64)
		return -ENOMEM;
	sodium_bin2base64(b64, n, pub->p, pub->len, sodium_base64_VARIANT_ORIGINAL);
	total = strlen(name) + strlen(b64) + strlen(comment) + 3;
	*publine = malloc(total);
	if (!*publine) {
		free(b64);
		return -ENOMEM;
	}
	snprintf(*publine, total, "%s %s%s%s", name, b64, *comment ? " " : "", comment);
	*b64out = b64;
	return 0;
}

/* Generation, container and files, once the arguments are known good. */
static int
generate(const char *path, const char *pubpath, const struct keygen_spec *spec,
	 unsigned bits, const char *comment, char **publine, char *err, size_t errlen)
{
	struct keymat km;
	struct sbuf pub = { 0 }, out = { 0 }, text = { 0 };
	char *b64 = NULL;
	int rc;

	rc = keymat_make(&km, spec->type, bits);
	if (rc == 0 && (rc = sbuf_init(&pub, SBUF_CAP)) == 0 &&
	    (rc = sbuf_init(&out, SBUF_CAP)) == 0 && (rc = sbuf_init(&text, 2 * SBUF_CAP)) == 0)
		rc = build_container(&km, spec, comment, &pub, &out);
	if (rc == 0)
		rc = armor(&out, &text);
	if (rc == 0)
		rc = make_publine(&pub, km.name, comment, publine, &b64);
	if (rc < 0)
		snprintf(err, errlen, "cannot generate the key: %s", strerror(-rc));
	else if ((rc = write_pair(path, pubpath, &text, *publine, err, errlen)) == 0 &&
		 (rc = verify_written(path, spec->passphrase, km.name, b64)) < 0) {
		snprintf(err, errlen, "internal error: %s does not read back as the "
			 "key just generated; removed it", path);
		unlink(path);
		unlink(pubpath);
	}
	if (rc < 0) {
		free(*publine);
		*publine = NULL;
	}
	free(b64);
	sbuf_free(&pub);
	sbuf_free(&out);
	sbuf_free(&text);
	keymat_free(&km);
	return rc;
}

int
keygen_generate(const char *path, const struct keygen_spec *spec, char **publine,
		char *err, size_t errlen)
{
	char pubpath[4096], comment[512];
	unsigned bits = spec->bits;
	int rc;

	*publine = NULL;
	if (keygen_check_bits(spec->type, &bits) < 0) {
		snprintf(err, errlen, "%u bits is not a size for this key type", spec->bits);
		return -EINVAL;
	}
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >= sizeof(pubpath)) {
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	if (exists(path) || exists(pubpath)) {
		snprintf(err, errlen, "%s already exists", exists(path) ? path : pubpath);
		return -EEXIST;
	}
	if (spec->comment)
		snprintf(comment, sizeof(comment), "%s", spec->comment);
	else
		default_comment(comment, sizeof(comment));
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return -EIO;
	}
	rc = generate(path, pubpath, spec, bits, comment, publine, err, errlen);
	if (rc == -EEXIST)
		snprintf(err, errlen, "%s appeared while the key was made; nothing written", path);
	return rc;
}
