/* reachable: is something listening on host:port, and is it an SSH server?
 *
 * Back In Time's checkPingHost, done properly: a
 * TCP connect (no ICMP, so it works where ping is blocked), 'tries' tries of
 * 'timeout_ms' each with 'pause_ms' between, retried only for failures that
 * may pass (refused, timeout, unreachable, a temporary DNS failure). It then
 * reads the peer's identification line with MSG_PEEK, so that the same
 * socket can be handed to libssh, which must read the banner itself.
 * A probe socket that is not handed on gets our own identification string
 * before it is closed, so sshd does not log "did not receive identification
 * string" (BiT #1030: fail2ban banned users for that).
 *
 * Thread: blocking; any thread. No global state.
 */
#ifndef SSHMOUNTFS_CHECKS_REACHABLE_H
#define SSHMOUNTFS_CHECKS_REACHABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"

enum chk_reach_reason {
	CHK_REACH_OK = 0,
	CHK_REACH_DNS,		/* "dns": the name does not resolve */
	CHK_REACH_REFUSED,	/* "connection-refused": nothing listens */
	CHK_REACH_TIMEOUT,	/* "timeout": no answer to the connect */
	CHK_REACH_UNREACHABLE,	/* "unreachable": no route to the host or network */
	CHK_REACH_NOT_SSH,	/* "not-ssh": it answered something else */
	CHK_REACH_NO_BANNER,	/* "no-banner": connected, but no identification line came */
	CHK_REACH_INTERNAL,	/* "internal": socket() and the like failed */
	CHK_REACH_CONFIG,	/* "ssh-config": the ssh options or config file are unusable */
	CHK_REACH_SSH,		/* "ssh-connect": the SSH connection failed after the probe passed */
	CHK_REACH_COUNT
};

const char *chk_reach_reason_name(int reason);

struct chk_reach_cfg {
	const char *host;	/* name or address (IPv6 without brackets) */
	int port;
	int tries;		/* >= 1 */
	int timeout_ms;		/* per try, connect and banner together */
	int pause_ms;		/* between tries */
	bool want_banner;	/* false for directport= (an sftp-server says nothing first) */
	bool keep_fd;		/* hand the connected socket back in *fd */
	const char *what;	/* how to name the target in messages, e.g. "jump host" (NULL = none) */
};

/* Runs the probe into res (res->attempts = tries made). Returns 0 when it
 * passed (with keep_fd, *fd is the connected socket, the banner still
 * unread; the caller owns it), -1 when it failed. */
int chk_reachable(const struct chk_reach_cfg *cfg, struct chk_result *res, int *fd);

/* The first hop of a ProxyJump= value "[user@]host[:port][,...]" (IPv6
 * literal in brackets): host into buf, *port (22 when absent). 0 or -EINVAL. */
int chk_parse_jump(const char *spec, char *host, size_t hostlen, int *port);

/* What the start of a stream holds:
 * 1 a line starting with "SSH-" (an SSH server, RFC 4253 §4.2),
 * 0 no complete line yet, -1 complete lines but none of them SSH's.
 * 'first' (may be NULL) gets the first line, printable, for messages. */
int chk_banner_classify(const char *buf, size_t len, char *first, size_t firstlen);

#endif
