/* known_host: the server's host key is the one known_hosts has for it.
 *
 * BiT's checkKnownHosts ran `ssh-keygen -F` for `host` and `[host]:port`
 * in ~/.ssh/known_hosts only. Here libssh reads
 * the files sshc configured (UserKnownHostsFile=, the global file), with
 * plain and hashed entries and both forms, and the policy of
 * StrictHostKeyChecking= applies. Unknown and changed keys are told apart;
 * for a changed key sshc's message carries both fingerprints.
 *
 * Thread: blocking; the connection's thread, before fxc takes it.
 */
#ifndef SSHMOUNTFS_CHECKS_KNOWN_HOST_H
#define SSHMOUNTFS_CHECKS_KNOWN_HOST_H

#include "checks.h"
#include "sshc.h"

enum chk_host_reason {
	CHK_HOST_OK = 0,
	CHK_HOST_UNKNOWN,	/* "unknown-host-key" */
	CHK_HOST_CHANGED,	/* "changed-host-key" */
	CHK_HOST_ERROR,		/* "known-hosts-error": unreadable file, no key, ... */
	CHK_HOST_COUNT
};

const char *chk_host_reason_name(int reason);

/* Maps an sshc error to a host key reason (for a failure seen by
 * sshc_connect too). */
int chk_host_reason_of(const struct sshc_error *e);

/* 0 passed (msg names the key's fingerprint), -1 failed. */
int chk_known_host(struct sshc *s, struct chk_result *res);

#endif
