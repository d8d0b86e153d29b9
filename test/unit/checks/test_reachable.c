/* reachable: banner classification, ProxyJump parsing, and the probe
 * against real listeners on 127.0.0.1 (closed, HTTP, silent, SSH-like). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reachable.h"
#include "result.h"
#include "util.h"
#include "tap.h"

struct srv {
	int lfd, port;
	const char *say;	/* NULL: say nothing */
	int accepted;
};

static int
listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static void *
serve(void *arg)
{
	struct srv *s = arg;
	char buf[256];
	int c = accept(s->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	s->accepted++;
	if (s->say)
		(void)!write(c, s->say, strlen(s->say));
	/* Read until the client goes away (bounded by the client's timeout). */
	while (read(c, buf, sizeof(buf)) > 0)
		;
	close(c);
	return NULL;
}

static void
run_against(const char *say, int timeout_ms, struct chk_result *res, bool keep, int *fd, int *acc)
{
	struct srv s = { .say = say };
	pthread_t th;
	struct chk_reach_cfg cfg = { .host = "127.0.0.1", .tries = 3, .timeout_ms = timeout_ms,
				     .pause_ms = 10, .want_banner = true, .keep_fd = keep };

	s.lfd = listen_any(&s.port);
	cfg.port = s.port;
	pthread_create(&th, NULL, serve, &s);
	chk_reachable(&cfg, res, fd);
	if (fd && *fd >= 0)
		shutdown(*fd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(s.lfd);
	*acc = s.accepted;
}

static void
test_live(void)
{
	struct chk_result res;
	int fd = -1, acc = 0, port, lfd;
	char buf[64];
	double t0;

	run_against("SSH-2.0-OpenSSH_9.2p1 Debian\r\n", 2000, &res, true, &fd, &acc);
	TAP_EQ_INT(res.outcome, CHK_PASSED);
	TAP_EQ_INT(res.attempts, 1);
	TAP_CHECK(strstr(res.msg, "SSH-2.0-OpenSSH_9.2p1") != NULL);
	TAP_CHECK(fd >= 0);
	/* The banner is still unread: libssh will read it. */
	TAP_EQ_INT(recv(fd, buf, 4, 0), 4);
	TAP_CHECK(memcmp(buf, "SSH-", 4) == 0);
	close(fd);

	run_against("HTTP/1.0 400 Bad Request\r\n\r\n", 2000, &res, false, NULL, &acc);
	TAP_EQ_INT(res.outcome, CHK_FAILED);
	TAP_CHECK(strcmp(res.reason_name, "not-ssh") == 0);
	TAP_CHECK(strstr(res.msg, "HTTP/1.0 400 Bad Request") != NULL);
	TAP_EQ_INT(acc, 1);	/* not retried */

	t0 = util_now_s();
	run_against(NULL, 300, &res, false, NULL, &acc);
	TAP_CHECK(strcmp(res.reason_name, "no-banner") == 0);
	TAP_CHECK(util_now_s() - t0 < 2.0);

	/* Some servers print lines before their version line. */
	run_against("hello there\r\nSSH-2.0-x\r\n", 2000, &res, false, NULL, &acc);
	TAP_EQ_INT(res.outcome, CHK_PASSED);

	/* A closed port: refused, three tries, pauses between. */
	lfd = listen_any(&port);
	close(lfd);
	{
		struct chk_reach_cfg cfg = { .host = "127.0.0.1", .port = port, .tries = 3,
					     .timeout_ms = 500, .pause_ms = 200, .want_banner = true };

		t0 = util_now_s();
		TAP_EQ_INT(chk_reachable(&cfg, &res, NULL), -1);
		TAP_CHECK(strcmp(res.reason_name, "connection-refused") == 0);
		TAP_EQ_INT(res.attempts, 3);
		TAP_CHECK(res.seconds >= 0.39 && res.seconds < 1.5);
		TAP_CHECK(util_now_s() - t0 >= 0.39);
		TAP_CHECK(strstr(res.msg, "connection refused (3 tries") != NULL);
	}
	{
		struct chk_reach_cfg cfg = { .host = "no-such-host.invalid", .port = 22, .tries = 3,
					     .timeout_ms = 500, .pause_ms = 10, .want_banner = true };

		TAP_EQ_INT(chk_reachable(&cfg, &res, NULL), -1);
		TAP_CHECK(strcmp(res.reason_name, "dns") == 0);
		/* EAI_AGAIN (no resolver reachable) is retried, EAI_NONAME not. */
		TAP_CHECK(res.attempts >= 1 && res.attempts <= 3);
	}
}

static void
test_classify(void)
{
	char first[64];

	TAP_EQ_INT(chk_banner_classify("SSH-2.0-x\r\n", 11, first, sizeof(first)), 1);
	TAP_EQ_INT(chk_banner_classify("SSH-", 4, first, sizeof(first)), 1);
	TAP_EQ_INT(chk_banner_classify("SS", 2, first, sizeof(first)), 0);
	TAP_EQ_INT(chk_banner_classify("HTTP/1.1 400\r\n", 14, first, sizeof(first)), -1);
	TAP_CHECK(strcmp(first, "HTTP/1.1 400") == 0);
	TAP_EQ_INT(chk_banner_classify("a\nb\nSSH-2.0-y\n", 14, first, sizeof(first)), 1);
	TAP_EQ_INT(chk_banner_classify("\x01\x02\n", 3, first, sizeof(first)), -1);
	TAP_CHECK(strcmp(first, "??") == 0);
}

static void
test_jump(void)
{
	char h[64];
	int port = 0;

	TAP_EQ_INT(chk_parse_jump("bob@jump.example:2200,other", h, sizeof(h), &port), 0);
	TAP_CHECK(strcmp(h, "jump.example") == 0);
	TAP_EQ_INT(port, 2200);
	TAP_EQ_INT(chk_parse_jump("jump", h, sizeof(h), &port), 0);
	TAP_EQ_INT(port, 22);
	TAP_EQ_INT(chk_parse_jump("u@[::1]:23", h, sizeof(h), &port), 0);
	TAP_CHECK(strcmp(h, "::1") == 0);
	TAP_EQ_INT(port, 23);
	TAP_EQ_INT(chk_parse_jump("jump:x", h, sizeof(h), &port), -EINVAL);
	TAP_EQ_INT(chk_parse_jump("[::1", h, sizeof(h), &port), -EINVAL);
}

static void
test_names(void)
{
	TAP_CHECK(strcmp(chk_reach_reason_name(CHK_REACH_REFUSED), "connection-refused") == 0);
	TAP_CHECK(strcmp(chk_reach_reason_name(CHK_REACH_TIMEOUT), "timeout") == 0);
	TAP_CHECK(strcmp(chk_reach_reason_name(CHK_REACH_DNS), "dns") == 0);
	TAP_CHECK(strcmp(chk_reach_reason_name(CHK_REACH_NOT_SSH), "not-ssh") == 0);
	TAP_CHECK(strcmp(chk_reach_reason_name(99), "unknown") == 0);
}

int
main(void)
{
	test_classify();
	test_jump();
	test_names();
	test_live();
	return tap_done();
}
