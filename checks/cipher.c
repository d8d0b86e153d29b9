/* cipher: see cipher.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cipher.h"
#include "result.h"

static const char *const cipher_names[CHK_CIPHER_COUNT] = {
	[CHK_CIPHER_OK] = "ok",
	[CHK_CIPHER_NO_COMMON] = "no-common-cipher",
	[CHK_CIPHER_UNSUPPORTED] = "unsupported-cipher",
};

const char *
chk_cipher_reason_name(int reason)
{
	return chk_reason_lookup(cipher_names, CHK_CIPHER_COUNT, reason);
}

/* libssh says "server [a,b]"; sshc rewrites it as "the server offers a,b;". */
int
chk_kex_server_list(const char *msg, char *buf, size_t len)
{
	const char *s, *end;

	if (!msg || len == 0)
		return -ENOENT;
	if ((s = strstr(msg, "server [")) != NULL) {
		s += 8;
		end = strchr(s, ']');
	} else if ((s = strstr(msg, "server offers ")) != NULL) {
		s += 14;
		end = s + strcspn(s, "; \n");
	} else {
		return -ENOENT;
	}
	if (!end || end == s)
		return -ENOENT;
	snprintf(buf, len, "%.*s", (int)(end - s), s);
	return 0;
}

int
chk_cipher_fail(const struct opts *o, const struct sshc_error *e, struct chk_result *res)
{
	char offers[400];
	const char *want = o->ciphers ? o->ciphers : "(libssh's default list)";

	chk_res_begin(res, CHK_CIPHER);
	if (e->code == SSHC_E_CONFIG) {
		/* sshc's message usually names the option already. */
		if (strstr(e->msg, "Ciphers="))
			snprintf(offers, sizeof(offers), "%.390s", e->msg);
		else
			snprintf(offers, sizeof(offers), "Ciphers=%.150s: %.200s", want, e->msg);
		chk_res_fail(res, CHK_CIPHER_UNSUPPORTED, cipher_names[CHK_CIPHER_UNSUPPORTED],
			     "use a cipher both ends know: chacha20-poly1305@openssh.com, "
			     "aes128-gcm@openssh.com, aes256-ctr ...", "%s", offers);
		return -1;
	}
	if (chk_kex_server_list(e->msg, offers, sizeof(offers)) < 0 &&
	    chk_kex_server_list(e->detail, offers, sizeof(offers)) < 0) {
		chk_res_fail(res, CHK_CIPHER_NO_COMMON, cipher_names[CHK_CIPHER_NO_COMMON],
			     "choose one the server offers with -o Ciphers=, or drop Ciphers=",
			     "cipher %s failed: %s", want, e->msg);
		return -1;
	}
	chk_res_fail(res, CHK_CIPHER_NO_COMMON, cipher_names[CHK_CIPHER_NO_COMMON],
		     "choose one the server offers with -o Ciphers=, or drop Ciphers=",
		     "cipher %s failed: the server offers %s", want, offers);
	return -1;
}

/* One key exchange with 'cipher' alone. 0 when it works. */
static int
try_one(const struct opts *o, const char *cipher, char *why, size_t wlen)
{
	struct opts one = *o;	/* shallow: sshc_new only reads it */
	struct sshc_error e;
	struct sshc *s = NULL;
	char offers[300];
	int r;

	memset(&e, 0, sizeof(e));
	one.ciphers = (char *)cipher;
	r = sshc_new(&one, &s, &e);
	if (r == 0)
		r = sshc_connect(s, &e);
	sshc_free(s);
	if (r == 0)
		return 0;
	if (e.code == SSHC_E_KEX && chk_kex_server_list(e.msg, offers, sizeof(offers)) == 0)
		snprintf(why, wlen, "not offered by the server");
	else if (e.code == SSHC_E_CONFIG)
		snprintf(why, wlen, "unknown to libssh");
	else
		snprintf(why, wlen, "%.150s", e.msg);
	return -1;
}

/* Tries each cipher of a list alone; appends "x: why; " for the failing
 * ones to 'bad'. */
static void
try_each(const struct opts *o, char *bad, size_t blen)
{
	char *list = strdup(o->ciphers), *rest = list, *c, why[200];
	size_t k = 0;

	if (!list)
		return;
	while ((c = strsep(&rest, ",")) != NULL) {
		if (!c[0] || try_one(o, c, why, sizeof(why)) == 0 || k >= blen)
			continue;
		k += (size_t)snprintf(bad + k, blen - k, "%s%s: %s", k ? "; " : "", c, why);
	}
	free(list);
}

int
chk_cipher(const struct opts *o, struct sshc *s, struct chk_result *res)
{
	const char *got = sshc_cipher(s);
	char bad[300] = "";

	chk_res_begin(res, CHK_CIPHER);
	if (!got)
		got = "(unknown)";
	if (!o->ciphers) {
		chk_res_pass(res, "negotiated %s (default list)", got);
		return 0;
	}
	if (strchr(o->ciphers, ','))
		try_each(o, bad, sizeof(bad));
	if (bad[0])
		chk_res_pass(res, "negotiated %s with Ciphers=%s; unusable alone: %s",
			     got, o->ciphers, bad);
	else
		chk_res_pass(res, "negotiated %s with Ciphers=%s", got, o->ciphers);
	return 0;
}
