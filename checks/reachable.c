/* reachable: see reachable.h. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reachable.h"
#include "result.h"
#include "util.h"

static const char *const reach_names[CHK_REACH_COUNT] = {
	[CHK_REACH_OK] = "ok",
	[CHK_REACH_DNS] = "dns",
	[CHK_REACH_REFUSED] = "connection-refused",
	[CHK_REACH_TIMEOUT] = "timeout",
	[CHK_REACH_UNREACHABLE] = "unreachable",
	[CHK_REACH_NOT_SSH] = "not-ssh",
	[CHK_REACH_NO_BANNER] = "no-banner",
	[CHK_REACH_INTERNAL] = "internal",
	[CHK_REACH_CONFIG] = "ssh-config",
	[CHK_REACH_SSH] = "ssh-connect",
};

const char *
chk_reach_reason_name(int reason)
{
	return chk_reason_lookup(reach_names, CHK_REACH_COUNT, reason);
}

static int
ms_left(double deadline)
{
	double left = (deadline - util_now_s()) * 1000.0;

	return left <= 0 ? 0 : (int)left + 1;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One non-blocking connect, bounded by the deadline. Returns the socket
 * (blocking again) or a negative errno (-ETIMEDOUT at the deadline). */
static int
connect_one(const struct addrinfo *ai, double deadline)
{
	int fd, r, err = 0, one = 1;
	socklen_t elen = sizeof(err);
	struct pollfd p;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	p.fd = fd;
	p.events = POLLOUT;
	do
		r = poll(&p, 1, ms_left(deadline));
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err) {
		close(fd);
		return -err;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Tries every address until one connects; the error kept is the most
 * telling one (refused beats unreachable beats timeout). */
static int
connect_any(const struct addrinfo *list, double deadline, int *reason)
{
	int fd, best = CHK_REACH_TIMEOUT;

	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd >= 0)
			return fd;
		if (fd == -ECONNREFUSED)
			best = CHK_REACH_REFUSED;
		else if ((fd == -ENETUNREACH || fd == -EHOSTUNREACH) && best != CHK_REACH_REFUSED)
			best = CHK_REACH_UNREACHABLE;
		else if (fd != -ETIMEDOUT && best == CHK_REACH_TIMEOUT)
			best = fd == -EMFILE || fd == -ENFILE || fd == -EAFNOSUPPORT ?
			       CHK_REACH_INTERNAL : CHK_REACH_UNREACHABLE;
		if (ms_left(deadline) == 0)
			break;
	}
	*reason = best;
	return -1;
}

int
chk_parse_jump(const char *spec, char *host, size_t hostlen, int *port)
{
	size_t n = strcspn(spec, ",");
	const char *at, *h, *end, *colon;
	char *e;
	long p = 22;

	at = memchr(spec, '@', n);
	h = at ? at + 1 : spec;
	end = spec + n;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (!close)
			return -EINVAL;
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		if (colon == NULL && close + 1 != end)
			return -EINVAL;
		h++;
		end = close;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		if (colon)
			end = colon;
	}
	if (colon) {
		p = strtol(colon + 1, &e, 10);
		if (e != spec + n || p <= 0 || p > 65535)
			return -EINVAL;
	}
	if (end <= h || (size_t)(end - h) >= hostlen)
		return -EINVAL;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	*port = (int)p;
	return 0;
}

static void
copy_line(char *dst, size_t dlen, const char *s, size_t n)
{
	size_t k = 0;

	if (!dst || dlen == 0)
		return;
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	for (size_t i = 0; i < n && k + 1 < dlen && i < 120; i++)
		dst[k++] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
	dst[k] = '\0';
}

int
chk_banner_classify(const char *buf, size_t len, char *first, size_t firstlen)
{
	const char *s = buf, *end = buf + len, *nl;
	bool any = false;

	if (first && firstlen)
		first[0] = '\0';
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!any)
			copy_line(first, firstlen, s, nl ? (size_t)(nl - s) : (size_t)(end - s));
		if ((size_t)(end - s) >= 4 && memcmp(s, "SSH-", 4) == 0)
			return 1;
		if (!nl)
			break;
		any = true;
		s = nl + 1;
	}
	return any ? -1 : 0;
}

/* Peeks at what the peer says first. 1 SSH, -1 something else, 0 silence
 * until the deadline (or a close without a word). */
static int
peek_banner(int fd, double deadline, char *first, size_t firstlen)
{
	char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	ssize_t n = 0;
	int c = 0, r;

	for (;;) {
		do
			r = poll(&p, 1, ms_left(deadline));
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return c;
		n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
		if (n <= 0)
			return c;
		c = chk_banner_classify(buf, (size_t)n, first, firstlen);
		/* A non-SSH line may still precede the version line (RFC 4253
		 * allows that of servers), so decide only when the peer hangs
		 * up, the buffer is full, or it goes quiet for a moment. */
		if (c == 1 || (size_t)n == sizeof(buf) || (p.revents & (POLLRDHUP | POLLHUP)))
			return c;
		if (c == -1 && deadline - util_now_s() > 0.3)
			deadline = util_now_s() + 0.3;
		if (ms_left(deadline) == 0)
			return c;
		/* poll() reports the unread bytes at once: wait a little for
		 * more instead of spinning. */
		p.revents = 0;
		sleep_ms(5);
	}
}

static const char *
target_word(const struct chk_reach_cfg *cfg)
{
	return cfg->what ? cfg->what : "host";
}

static int
resolve(const struct chk_reach_cfg *cfg, struct addrinfo **list, int *gai)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	char port[16];

	snprintf(port, sizeof(port), "%d", cfg->port);
	*gai = getaddrinfo(cfg->host, port, &hints, list);
	return *gai == 0 ? 0 : -1;
}

static int
fail_dns(const struct chk_reach_cfg *cfg, struct chk_result *res, int gai)
{
	chk_res_fail(res, CHK_REACH_DNS, reach_names[CHK_REACH_DNS],
		     "check the host name (and HostName in ~/.ssh/config), or use its address",
		     "cannot resolve %s %s: %s", target_word(cfg), cfg->host, gai_strerror(gai));
	return -1;
}

static int
fail_connect(const struct chk_reach_cfg *cfg, struct chk_result *res, int reason)
{
	static const char *const what[] = {
		[CHK_REACH_REFUSED] = "connection refused",
		[CHK_REACH_TIMEOUT] = "no answer",
		[CHK_REACH_UNREACHABLE] = "no route",
		[CHK_REACH_INTERNAL] = "cannot open a socket",
	};
	const char *hint = reason == CHK_REACH_REFUSED ?
		"is the SSH server running, and is the port right (-p PORT)?" :
		"is the host up and the address right? A firewall may drop the packets";

	chk_res_fail(res, reason, reach_names[reason], hint,
		     "%s %s port %d: %s (%d %s, %d ms each)", target_word(cfg), cfg->host,
		     cfg->port, what[reason], res->attempts,
		     res->attempts == 1 ? "try" : "tries", cfg->timeout_ms);
	return -1;
}

static int
fail_banner(const struct chk_reach_cfg *cfg, struct chk_result *res, int c, const char *first)
{
	if (c < 0)
		chk_res_fail(res, CHK_REACH_NOT_SSH, reach_names[CHK_REACH_NOT_SSH],
			     "the port belongs to another service; give the SSH port with -p PORT",
			     "%s %s port %d is not an SSH server (it said \"%s\")",
			     target_word(cfg), cfg->host, cfg->port, first);
	else
		chk_res_fail(res, CHK_REACH_NO_BANNER, reach_names[CHK_REACH_NO_BANNER],
			     "the port accepts connections but no SSH server answers on it; "
			     "check the port (-p PORT) and the server's load (MaxStartups)",
			     "%s %s port %d is not an SSH server (no identification line within %d ms)",
			     target_word(cfg), cfg->host, cfg->port, cfg->timeout_ms);
	return -1;
}

/* Finishes a probe socket we do not hand on (BiT #1030). */
static void
close_politely(int fd)
{
	static const char ident[] = "SSH-2.0-sshmountfs_check\r\n";

	(void)!send(fd, ident, sizeof(ident) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static int
pass(const struct chk_reach_cfg *cfg, struct chk_result *res, int fd, int *out,
     const char *banner)
{
	if (cfg->keep_fd && out)
		*out = fd;
	else if (cfg->want_banner)
		close_politely(fd);
	else
		close(fd);
	if (cfg->want_banner)
		chk_res_pass(res, "%s:%d answers: %s", cfg->host, cfg->port, banner);
	else
		chk_res_pass(res, "%s:%d accepts connections", cfg->host, cfg->port);
	return 0;
}

int
chk_reachable(const struct chk_reach_cfg *cfg, struct chk_result *res, int *out)
{
	struct addrinfo *list = NULL;
	char first[128] = "";
	int fd, gai = 0, reason = CHK_REACH_TIMEOUT, c;
	int tries = cfg->tries > 0 ? cfg->tries : 1;
	double deadline;

	chk_res_begin(res, CHK_REACHABLE);
	if (out)
		*out = -1;
	for (int t = 0; t < tries; t++) {
		if (t > 0)
			sleep_ms(cfg->pause_ms);
		res->attempts = t + 1;
		deadline = util_now_s() + cfg->timeout_ms / 1000.0;
		if (resolve(cfg, &list, &gai) < 0) {
			if (gai == EAI_AGAIN && t + 1 < tries)
				continue;
			return fail_dns(cfg, res, gai);
		}
		fd = connect_any(list, deadline, &reason);
		freeaddrinfo(list);
		if (fd < 0) {
			if (reason == CHK_REACH_INTERNAL)
				break;
			continue;
		}
		if (!cfg->want_banner)
			return pass(cfg, res, fd, out, NULL);
		c = peek_banner(fd, deadline, first, sizeof(first));
		if (c == 1)
			return pass(cfg, res, fd, out, first);
		close(fd);
		return fail_banner(cfg, res, c, first);
	}
	return fail_connect(cfg, res, reason);
}
