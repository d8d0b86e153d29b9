/* login: see login.h. */
#include <stdio.h>
#include <string.h>

#include "login.h"
#include "result.h"

static const char *const login_names[CHK_LOGIN_COUNT] = {
	[CHK_LOGIN_OK] = "ok",
	[CHK_LOGIN_DENIED] = "denied",
	[CHK_LOGIN_PASSPHRASE] = "passphrase-needed",
	[CHK_LOGIN_ERROR] = "error",
};

const char *
chk_login_reason_name(int reason)
{
	return chk_reason_lookup(login_names, CHK_LOGIN_COUNT, reason);
}

static int
reason_of(const struct sshc_error *e)
{
	switch (e->code) {
	case SSHC_E_AUTH:
		return CHK_LOGIN_DENIED;
	case SSHC_E_PASSPHRASE:
		return CHK_LOGIN_PASSPHRASE;
	default:
		return CHK_LOGIN_ERROR;
	}
}

int
chk_login(struct sshc *s, const char *who, struct chk_result *res)
{
	static const char *const hints[CHK_LOGIN_COUNT] = {
		[CHK_LOGIN_DENIED] = "install your public key on the server "
				     "(sshmountfs-tool copy-id), or give IdentityFile=",
		[CHK_LOGIN_PASSPHRASE] = "unlock the key in ssh-agent (sshmountfs-tool agent-unlock), "
					 "or give passphrase_fd=N or SSH_ASKPASS",
		[CHK_LOGIN_ERROR] = "check the connection and the server's log",
	};
	struct sshc_error e;
	int reason;

	chk_res_begin(res, CHK_LOGIN);
	memset(&e, 0, sizeof(e));
	if (sshc_authenticate(s, &e) == 0) {
		chk_res_pass(res, "logged in as %s", who);
		return 0;
	}
	reason = reason_of(&e);
	chk_res_fail(res, reason, login_names[reason], e.hint[0] ? e.hint : hints[reason],
		     "%s", e.msg[0] ? e.msg : "authentication failed");
	snprintf(res->detail, sizeof(res->detail), "%s", e.detail);
	return -1;
}
