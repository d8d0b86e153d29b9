/* cipher: the configured Ciphers= work with both ends.
 *
 * BiT's checkCipher logged in with `-o Ciphers=X`. Our
 * connection is made with the configured list only, so a connection that
 * got through key exchange has already proven it; this check names the
 * cipher negotiated and, when the list has several entries, tries each one
 * alone (a key exchange, no login) to say which of them the server takes.
 * When key exchange fails, the message lists what the server offers (from
 * libssh's "server [...]" text).
 *
 * Thread: blocking; the connection's thread, before fxc takes it.
 */
#ifndef SSHMOUNTFS_CHECKS_CIPHER_H
#define SSHMOUNTFS_CHECKS_CIPHER_H

#include <stddef.h>

#include "checks.h"
#include "sshc.h"

enum chk_cipher_reason {
	CHK_CIPHER_OK = 0,
	CHK_CIPHER_NO_COMMON,	/* "no-common-cipher": key exchange found none */
	CHK_CIPHER_UNSUPPORTED,	/* "unsupported-cipher": libssh does not know it */
	CHK_CIPHER_COUNT
};

const char *chk_cipher_reason_name(int reason);

/* After a connect that passed key exchange: names the negotiated cipher,
 * and with several configured ciphers, tries each alone. 0 passed. */
int chk_cipher(const struct opts *o, struct sshc *s, struct chk_result *res);

/* A failed connect whose sshc error is SSHC_E_KEX or a refused Ciphers=
 * (SSHC_E_CONFIG naming it): fills res. Always -1. */
int chk_cipher_fail(const struct opts *o, const struct sshc_error *e, struct chk_result *res);

/* Pulls the server's list for the encryption method out of a libssh kex
 * error ("... no match for method encryption client->server: server
 * [a,b], client [c]"). 0 with buf filled, -ENOENT when absent. */
int chk_kex_server_list(const char *msg, char *buf, size_t len);

#endif
