/* keyfile: see keyfile.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"
#include "sshc.h"
#include "wire.h"

#define LINE_MAX_LEN (64 * 1024)

/* libssh asks through this when a key is encrypted and no passphrase was
 * given; refusing keeps OpenSSL from prompting on the terminal by itself. */
static int
no_prompt(const char *prompt, char *buf, size_t len, int echo, int verify, void *ud)
{
	(void)prompt; (void)buf; (void)len; (void)echo; (void)verify; (void)ud;
	return -1;
}

int
keyfile_load_private(const char *path, const struct secret *pass, ssh_key *out)
{
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	rc = ssh_pki_import_privkey_file(path, pass ? pass->s : NULL, no_prompt, NULL, out);
	if (rc == SSH_OK)
		return 0;
	*out = NULL;
	if (rc == SSH_EOF)
		return access(path, R_OK) < 0 ? -errno : -EINVAL;
	/* SSH_ERROR: a wrong or missing passphrase, or no key at all. Tell
	 * them apart by what libssh can read without the secret. */
	{
		ssh_key pub = NULL;
		int is_key = ssh_pki_import_pubkey_file(path, &pub) == SSH_OK;
		char head[64] = "";
		FILE *f = fopen(path, "re");

		ssh_key_free(pub);
		if (f) {
			if (!fgets(head, sizeof(head), f))
				head[0] = '\0';
			fclose(f);
		}
		if (is_key || strstr(head, "ENCRYPTED") || strstr(head, "PRIVATE KEY"))
			return -EACCES;
	}
	return -EINVAL;
}

static char *
read_first_line(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0 || n > LINE_MAX_LEN) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

int
keyfile_parse_publine(const char *line, char **type, char **b64, char **comment)
{
	const char *p = line, *t, *b;
	size_t tl, bl;
	ssh_key key = NULL;
	int rc = -EINVAL;

	*type = *b64 = *comment = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	t = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	tl = (size_t)(p - t);
	while (*p == ' ' || *p == '\t')
		p++;
	b = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	bl = (size_t)(p - b);
	while (*p == ' ' || *p == '\t')
		p++;
	if (!tl || !bl)
		return -EINVAL;
	*type = strndup(t, tl);
	*b64 = strndup(b, bl);
	if (*p)
		*comment = strdup(p);
	if (!*type || !*b64 || (*p && !*comment))
		goto fail;
	if (ssh_key_type_from_name(*type) == SSH_KEYTYPE_UNKNOWN ||
	    ssh_pki_import_pubkey_base64(*b64, ssh_key_type_from_name(*type), &key) != SSH_OK)
		goto fail;
	ssh_key_free(key);
	return 0;
fail:
	rc = (*type && *b64) ? -EINVAL : -ENOMEM;
	free(*type);
	free(*b64);
	free(*comment);
	*type = *b64 = *comment = NULL;
	return rc;
}

/* The comment of a one-line public key file, if path is one. */
static char *
pub_comment(const char *path, ssh_key key)
{
	char *line = read_first_line(path), *type, *b64, *comment = NULL;
	ssh_key k = NULL;

	if (!line)
		return NULL;
	if (keyfile_parse_publine(line, &type, &b64, &comment) == 0) {
		/* only if it is the same key */
		if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &k) != SSH_OK ||
		    ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) != 0) {
			free(comment);
			comment = NULL;
		}
		ssh_key_free(k);
		free(type);
		free(b64);
	}
	free(line);
	return comment;
}

static int
load_any(const char *path, ssh_key *key)
{
	ssh_key priv = NULL;

	if (ssh_pki_import_pubkey_file(path, key) == SSH_OK)
		return 0;
	*key = NULL;
	if (keyfile_load_private(path, NULL, &priv) < 0)
		return -EINVAL;
	if (ssh_pki_export_privkey_to_pubkey(priv, key) != SSH_OK) {
		*key = NULL;
		ssh_key_free(priv);
		return -EINVAL;
	}
	ssh_key_free(priv);
	return 0;
}

int
keyfile_load_public(const char *path, struct keyfile_pub *out, char *err, size_t errlen)
{
	char pubpath[4096];
	struct stat st;
	bool via_pub = false;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (access(path, R_OK) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	if (load_any(path, &out->key) < 0) {
		if (access(pubpath, R_OK) < 0 || load_any(pubpath, &out->key) < 0) {
			snprintf(err, errlen, "%s holds no key that can be read without its "
				 "passphrase, and there is no readable %s", path, pubpath);
			return -EINVAL;
		}
		via_pub = true;
	}
	out->comment = pub_comment(via_pub ? pubpath : path, out->key);
	if (!out->comment && !via_pub && access(pubpath, R_OK) == 0)
		out->comment = pub_comment(pubpath, out->key);
	out->bits = keyfile_bits(out->key);
	out->short_type = keyfile_short_type(out->key);
	return 0;
}

void
keyfile_pub_free(struct keyfile_pub *p)
{
	ssh_key_free(p->key);
	free(p->comment);
	memset(p, 0, sizeof(*p));
}

int
keyfile_blob(ssh_key key, uint8_t **blob, size_t *len)
{
	char *b64 = NULL;
	size_t cap, n = 0;
	int rc = -EINVAL;

	*blob = NULL;
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -EINVAL;
	cap = strlen(b64);
	*blob = malloc(cap + 1);
	if (!*blob)
		rc = -ENOMEM;
	else if (sodium_base642bin(*blob, cap, b64, cap, NULL, &n, NULL,
				   sodium_base64_VARIANT_ORIGINAL) == 0)
		rc = 0;
	ssh_string_free_char(b64);
	if (rc < 0) {
		free(*blob);
		*blob = NULL;
	}
	*len = n;
	return rc;
}

/* Bit length of an mpint's magnitude. */
static unsigned
mpint_bits(const uint8_t *p, uint32_t len)
{
	while (len && *p == 0) {
		p++;
		len--;
	}
	if (!len)
		return 0;
	unsigned bits = (len - 1) * 8;
	for (uint8_t top = *p; top; top >>= 1)
		bits++;
	return bits;
}

unsigned
keyfile_bits(ssh_key key)
{
	uint8_t *blob;
	size_t len;
	struct wire_rd rd;
	const uint8_t *s;
	uint32_t sl;
	unsigned bits = 0;

	switch (ssh_key_type(key)) {
	case SSH_KEYTYPE_ED25519:
		return 256;
	case SSH_KEYTYPE_ECDSA_P256:
		return 256;
	case SSH_KEYTYPE_ECDSA_P384:
		return 384;
	case SSH_KEYTYPE_ECDSA_P521:
		return 521;
	default:
		break;
	}
	if (keyfile_blob(key, &blob, &len) < 0)
		return 0;
	/* ssh-rsa: string type, mpint e, mpint n */
	wire_rd_init(&rd, blob, len);
	if (wire_get_string_direct(&rd, &s, &sl) == 0 && sl == 7 && !memcmp(s, "ssh-rsa", 7) &&
	    wire_get_string_direct(&rd, &s, &sl) == 0 && wire_get_string_direct(&rd, &s, &sl) == 0)
		bits = mpint_bits(s, sl);
	free(blob);
	return bits;
}

const char *
keyfile_short_type(ssh_key key)
{
	const char *n = sshc_key_type_short(ssh_key_type(key));

	return n ? n : "UNKNOWN";
}
