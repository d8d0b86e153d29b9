/* hostkey: see hostkey.h. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "hostkey.h"

#define HASH_MAGIC "|1|"
#define SHA1_LEN 20

int
hostkey_name(const char *host, int port, char *out, size_t len)
{
	int n = port && port != 22 ? snprintf(out, len, "[%s]:%d", host, port) :
				     snprintf(out, len, "%s", host);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int
b64_encode(const uint8_t *p, size_t n, char *out, size_t len)
{
	if (sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) > len)
		return -ENAMETOOLONG;
	sodium_bin2base64(out, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

static int
hmac_name(const uint8_t *salt, size_t saltlen, const char *name, uint8_t md[SHA1_LEN])
{
	unsigned mdlen = 0;

	if (!HMAC(EVP_sha1(), salt, (int)saltlen, (const unsigned char *)name, strlen(name),
		  md, &mdlen) || mdlen != SHA1_LEN)
		return -EIO;
	return 0;
}

int
hostkey_hash_name(const char *name, const uint8_t salt[HOSTKEY_SALT_LEN], char *out,
		  size_t len)
{
	uint8_t s[HOSTKEY_SALT_LEN], md[SHA1_LEN];
	char sb[64], hb[64];
	int n;

	if (sodium_init() < 0)
		return -EIO;
	if (salt)
		memcpy(s, salt, sizeof(s));
	else
		randombytes_buf(s, sizeof(s));
	if (hmac_name(s, sizeof(s), name, md) < 0 ||
	    b64_encode(s, sizeof(s), sb, sizeof(sb)) < 0 ||
	    b64_encode(md, sizeof(md), hb, sizeof(hb)) < 0)
		return -EIO;
	n = snprintf(out, len, HASH_MAGIC "%s|%s", sb, hb);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* "|1|salt|hash" against name. */
static bool
hashed_matches(const char *field, const char *name)
{
	const char *salt = field + strlen(HASH_MAGIC), *bar = strchr(salt, '|');
	uint8_t s[64], want[64], md[SHA1_LEN];
	size_t slen = 0, wlen = 0;

	if (!bar || sodium_init() < 0 ||
	    sodium_base642bin(s, sizeof(s), salt, (size_t)(bar - salt), NULL, &slen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    sodium_base642bin(want, sizeof(want), bar + 1, strlen(bar + 1), NULL, &wlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    slen != HOSTKEY_SALT_LEN || wlen != SHA1_LEN)
		return false;
	return hmac_name(s, slen, name, md) == 0 && memcmp(md, want, SHA1_LEN) == 0;
}

/* OpenSSH's host patterns: '*' any run, '?' one character, no classes
 * (so "[host]:port" is matched literally), case-insensitive. */
static bool
wild(const char *p, size_t plen, const char *s)
{
	const char *star = NULL, *resume = NULL, *end = p + plen;

	while (*s) {
		if (p < end && (*p == '?' || tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (p < end && *p == '*') {
			star = ++p;
			resume = s;
		} else if (star) {
			p = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (p < end && *p == '*')
		p++;
	return p == end;
}

bool
hostkey_field_matches(const char *field, const char *name)
{
	bool hit = false;

	if (!strncmp(field, HASH_MAGIC, strlen(HASH_MAGIC)))
		return hashed_matches(field, name);
	for (const char *p = field; *p;) {
		size_t n = strcspn(p, ",");
		bool neg = *p == '!';

		if (wild(p + neg, n - neg, name)) {
			if (neg)
				return false;
			hit = true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return hit;
}

int
hostkey_format_line(const char *name, bool hash, const char *type, const char *b64, char **out)
{
	char hashed[128];
	size_t n;

	*out = NULL;
	if (hash) {
		int rc = hostkey_hash_name(name, NULL, hashed, sizeof(hashed));

		if (rc < 0)
			return rc;
		name = hashed;
	}
	n = strlen(name) + strlen(type) + strlen(b64) + 3;
	*out = malloc(n);
	if (!*out)
		return -ENOMEM;
	snprintf(*out, n, "%s %s %s", name, type, b64);
	return 0;
}

/* Splits the next whitespace-separated token off *p. */
static char *
token(char **p)
{
	char *s = *p, *t;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	t = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return t;
}

static void
scan_line(char *line, int no, const char *name, const char *type, const char *b64,
	  struct hostkey_scan *out)
{
	char *p = line, *marker = NULL, *hosts, *ktype, *kb64;

	hosts = token(&p);
	if (!hosts || *hosts == '#')
		return;
	if (*hosts == '@') {
		marker = hosts;
		hosts = token(&p);
	}
	ktype = token(&p);
	kb64 = token(&p);
	if (!hosts || !ktype || !kb64)
		return;
	if (marker && !strcmp(marker, "@revoked")) {
		if (!strcmp(ktype, type) && !strcmp(kb64, b64) && !out->revoked_line)
			out->revoked_line = no;
		return;
	}
	if (marker || !hostkey_field_matches(hosts, name) || strcmp(ktype, type))
		return;
	if (!strcmp(kb64, b64)) {
		if (!out->same_line)
			out->same_line = no;
	} else if (!out->changed_line) {
		out->changed_line = no;
	}
}

int
hostkey_scan(FILE *f, const char *name, const char *type, const char *b64,
	     struct hostkey_scan *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	errno = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		out->lines++;
		out->ends_without_newline = line[n - 1] != '\n';
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		scan_line(line, out->lines, name, type, b64, out);
	}
	free(line);
	if (ferror(f))
		return errno == ENOMEM ? -ENOMEM : -EIO;
	return 0;
}
