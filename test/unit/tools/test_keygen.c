/* keygen + keyfile: every type written, read back by libssh, with and
 * without a passphrase; refusal to overwrite; describing keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"
#include "keygen.h"
#include "secret.h"
#include "sshc.h"
#include "tap.h"

static char dir[] = "/tmp/smtool-keygen-XXXXXX";

static void
path(char *b, size_t n, const char *name)
{
	snprintf(b, n, "%s/%s", dir, name);
}

static void
one(const char *name, enum keygen_type t, unsigned bits, unsigned want_bits,
    const char *short_type, const struct secret *pass)
{
	struct keygen_spec spec = { .type = t, .bits = bits, .comment = "unit test",
				    .passphrase = pass, .rounds = 2 };
	char p[256], pp[300], err[256] = "", *line = NULL, *fp = NULL;
	struct keyfile_pub pub;
	ssh_key priv = NULL;
	struct stat st;

	path(p, sizeof(p), name);
	snprintf(pp, sizeof(pp), "%s.pub", p);
	TAP_EQ_INT(keygen_generate(p, &spec, &line, err, sizeof(err)), 0);
	TAP_CHECK(line && strstr(line, " unit test"));
	TAP_CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	TAP_CHECK(stat(pp, &st) == 0 && (st.st_mode & 0777) == 0644);
	TAP_EQ_INT(keyfile_load_public(p, &pub, err, sizeof(err)), 0);
	TAP_EQ_INT(pub.bits, want_bits);
	TAP_CHECK(!strcmp(pub.short_type, short_type));
	TAP_CHECK(pub.comment && !strcmp(pub.comment, "unit test"));
	TAP_EQ_INT(sshc_key_fingerprint(pub.key, SSH_PUBLICKEY_HASH_SHA256, &fp), 0);
	TAP_CHECK(fp && !strncmp(fp, "SHA256:", 7) && strlen(fp) == 7 + 43);
	free(fp);
	if (pass) {
		struct secret *wrong = NULL;

		TAP_EQ_INT(keyfile_load_private(p, NULL, &priv), -EACCES);
		secret_from_bytes("nope", 4, &wrong);
		TAP_EQ_INT(keyfile_load_private(p, wrong, &priv), -EACCES);
		secret_free(wrong);
	}
	TAP_EQ_INT(keyfile_load_private(p, pass, &priv), 0);
	TAP_CHECK(priv && ssh_key_cmp(priv, pub.key, SSH_KEY_CMP_PUBLIC) == 0);
	ssh_key_free(priv);
	keyfile_pub_free(&pub);
	free(line);
	/* never overwritten */
	TAP_EQ_INT(keygen_generate(p, &spec, &line, err, sizeof(err)), -EEXIST);
	TAP_CHECK(line == NULL && strstr(err, "already exists"));
}

static void
test_refusals(void)
{
	struct keygen_spec spec = { .type = KEYGEN_ECDSA, .bits = 300 };
	char p[256], err[256], *line = NULL;
	unsigned bits;
	enum keygen_type t;
	FILE *f;

	path(p, sizeof(p), "lone");
	TAP_EQ_INT(keygen_generate(p, &spec, &line, err, sizeof(err)), -EINVAL);
	spec.bits = 0;
	path(p, sizeof(p), "lone.pub");
	f = fopen(p, "w");
	fclose(f);
	path(p, sizeof(p), "lone");
	TAP_EQ_INT(keygen_generate(p, &spec, &line, err, sizeof(err)), -EEXIST);
	TAP_CHECK(access(p, F_OK) < 0);
	path(p, sizeof(p), "no/such/dir/k");
	TAP_EQ_INT(keygen_generate(p, &spec, &line, err, sizeof(err)), -ENOENT);
	TAP_EQ_INT(keygen_type_parse("RSA", &t), 0);
	TAP_EQ_INT(t, KEYGEN_RSA);
	TAP_EQ_INT(keygen_type_parse("dsa", &t), -EINVAL);
	bits = 0;
	TAP_EQ_INT(keygen_check_bits(KEYGEN_RSA, &bits), 0);
	TAP_EQ_INT(bits, 3072);
	bits = 512;
	TAP_EQ_INT(keygen_check_bits(KEYGEN_RSA, &bits), -EINVAL);
	bits = 384;
	TAP_EQ_INT(keygen_check_bits(KEYGEN_ED25519, &bits), -EINVAL);
}

static void
test_publine(void)
{
	char *t, *b, *c;

	TAP_EQ_INT(keyfile_parse_publine("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM5+tlQCLq64fehwJdTvv"
					 "qesaGGdTCBPPbej7DjEf/HP my key", &t, &b, &c), 0);
	TAP_CHECK(!strcmp(t, "ssh-ed25519") && !strcmp(c, "my key"));
	free(t);
	free(b);
	free(c);
	TAP_EQ_INT(keyfile_parse_publine("ssh-ed25519 AAAAnotakey", &t, &b, &c), -EINVAL);
	TAP_EQ_INT(keyfile_parse_publine("nonsense", &t, &b, &c), -EINVAL);
	TAP_EQ_INT(keyfile_parse_publine("", &t, &b, &c), -EINVAL);
}

int
main(void)
{
	struct secret *pass = NULL;

	if (!mkdtemp(dir) || secret_init() < 0)
		return 1;
	secret_from_bytes("unit pass", 9, &pass);
	one("ed", KEYGEN_ED25519, 0, 256, "ED25519", NULL);
	one("ec", KEYGEN_ECDSA, 0, 256, "ECDSA", NULL);
	one("ec521", KEYGEN_ECDSA, 521, 521, "ECDSA", pass);
	one("rsa", KEYGEN_RSA, 1024, 1024, "RSA", NULL);
	one("rsa_enc", KEYGEN_RSA, 2048, 2048, "RSA", pass);
	one("ed_enc", KEYGEN_ED25519, 0, 256, "ED25519", pass);
	test_refusals();
	test_publine();
	secret_free(pass);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "%s", dir);
		/* the files are ours: remove them without a shell */
		const char *names[] = { "ed", "ec", "ec521", "rsa", "rsa_enc", "ed_enc", "lone" };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char p[256];

			snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
			unlink(p);
			strncat(p, ".pub", sizeof(p) - strlen(p) - 1);
			unlink(p);
		}
		rmdir(cmd);
	}
	return tap_done();
}
