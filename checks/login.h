/* login: authentication works without a person at hand (agent, key files,
 * a passphrase from passphrase_fd= or askpass, password_stdin).
 *
 * BiT's checkLogin ran `ssh ... exit` and showed ssh's stderr. Here sshc_authenticate reports each key it tried and why it
 * failed (needs a passphrase, rejected by the server), and that list goes
 * into the result's detail.
 *
 * Thread: blocking; the connection's thread, before fxc takes it.
 */
#ifndef SSHMOUNTFS_CHECKS_LOGIN_H
#define SSHMOUNTFS_CHECKS_LOGIN_H

#include "checks.h"
#include "sshc.h"

enum chk_login_reason {
	CHK_LOGIN_OK = 0,
	CHK_LOGIN_DENIED,	/* "denied": no method or key was accepted */
	CHK_LOGIN_PASSPHRASE,	/* "passphrase-needed": a key is locked and no passphrase came */
	CHK_LOGIN_ERROR,	/* "error": the connection failed during authentication */
	CHK_LOGIN_COUNT
};

const char *chk_login_reason_name(int reason);

/* 0 passed, -1 failed. */
int chk_login(struct sshc *s, const char *who, struct chk_result *res);

#endif
