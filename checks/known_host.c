/* known_host: see known_host.h. */
#include <stdio.h>
#include <string.h>

#include "known_host.h"
#include "result.h"

static const char *const host_names[CHK_HOST_COUNT] = {
	[CHK_HOST_OK] = "ok",
	[CHK_HOST_UNKNOWN] = "unknown-host-key",
	[CHK_HOST_CHANGED] = "changed-host-key",
	[CHK_HOST_ERROR] = "known-hosts-error",
};

const char *
chk_host_reason_name(int reason)
{
	return chk_reason_lookup(host_names, CHK_HOST_COUNT, reason);
}

int
chk_host_reason_of(const struct sshc_error *e)
{
	switch (e->code) {
	case SSHC_E_HOSTKEY_UNKNOWN:
		return CHK_HOST_UNKNOWN;
	case SSHC_E_HOSTKEY_CHANGED:
		return CHK_HOST_CHANGED;
	default:
		return CHK_HOST_ERROR;
	}
}

int
chk_known_host(struct sshc *s, struct chk_result *res)
{
	struct sshc_error e;
	const char *fp;
	int reason;

	chk_res_begin(res, CHK_KNOWN_HOST);
	memset(&e, 0, sizeof(e));
	if (sshc_verify_host(s, &e) == 0) {
		fp = sshc_fingerprint(s);
		chk_res_pass(res, "host key %s accepted", fp ? fp : "(no fingerprint)");
		return 0;
	}
	reason = chk_host_reason_of(&e);
	chk_res_fail(res, reason, host_names[reason],
		     e.hint[0] ? e.hint : "run: sshmountfs-tool known-hosts-add HOST[:PORT]",
		     "%s", e.msg[0] ? e.msg : "the host key could not be verified");
	snprintf(res->detail, sizeof(res->detail), "%s", e.detail);
	return -1;
}
