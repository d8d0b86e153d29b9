/* agent: ssh-agent's output in its three forms, and the agent client
 * against a fake agent on a UNIX socket that answers well, badly, or not
 * at all (every reply is hostile input). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "tap.h"
#include "wire.h"

static char sockpath[108];

static void
test_parse(void)
{
	char *s, *p;

	TAP_EQ_INT(agent_parse_output("SSH_AUTH_SOCK=/tmp/ssh-X/agent.1; export SSH_AUTH_SOCK;\n"
				      "SSH_AGENT_PID=42; export SSH_AGENT_PID;\n"
				      "echo Agent pid 42;\n", &s, &p), 0);
	TAP_CHECK(!strcmp(s, "/tmp/ssh-X/agent.1") && !strcmp(p, "42"));
	free(s);
	free(p);
	TAP_EQ_INT(agent_parse_output("setenv SSH_AUTH_SOCK /tmp/a b;\nsetenv SSH_AGENT_PID 7;\n",
				      &s, &p), 0);
	TAP_CHECK(!strcmp(s, "/tmp/a b") && !strcmp(p, "7"));
	free(s);
	free(p);
	TAP_EQ_INT(agent_parse_output("export SSH_AUTH_SOCK=/s;\nexport SSH_AGENT_PID=9;\n", &s, &p), 0);
	TAP_CHECK(!strcmp(s, "/s") && !strcmp(p, "9"));
	free(s);
	free(p);
	TAP_EQ_INT(agent_parse_output("SSH_AUTH_SOCK=/s; export SSH_AUTH_SOCK;\n", &s, &p), 0);
	TAP_CHECK(!strcmp(s, "/s") && p == NULL);
	free(s);
	TAP_EQ_INT(agent_parse_output("SSH_AUTH_SOCK=/s;\nSSH_AGENT_PID=abc;\n", &s, &p), 0);
	TAP_CHECK(p == NULL);	/* not a number: dropped */
	free(s);
	TAP_EQ_INT(agent_parse_output("echo hello\n", &s, &p), -EINVAL);
	TAP_EQ_INT(agent_parse_output("export SSH_AUTH_SOCK;\n", &s, &p), -EINVAL);
	TAP_EQ_INT(agent_parse_output("XSSH_AUTH_SOCK=/s;\n", &s, &p), -EINVAL);
}

/* A fake agent that serves one connection with 'reply' (len bytes,
 * written as is), after reading one request; delay_ms before answering. */
static pid_t
fake_agent(const void *reply, size_t len, int delay_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	unlink(sockpath);
	memcpy(sa.sun_path, sockpath, strlen(sockpath) + 1);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		uint8_t buf[4096];
		int c = accept(ls, NULL, NULL);
		size_t got = 0;
		ssize_t n;

		/* the whole request (length, then body: two sends), or the
		 * client's second send races our exit and fails with EPIPE */
		while (c >= 0 && got < sizeof(buf) &&
		       (got < 4 || got < 4 + wire_peek_u32(buf)) &&
		       (n = read(c, buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)n;
		if (delay_ms)
			usleep((useconds_t)delay_ms * 1000);
		if (c >= 0 && len && write(c, reply, len) < 0)
			_exit(1);
		_exit(0);
	}
	close(ls);
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* An IDENTITIES_ANSWER with n keys "blobK"/"comment K" */
static size_t
answer(uint8_t *out, size_t cap, uint32_t n, uint32_t claimed)
{
	struct wire_buf b;
	size_t len;

	wire_buf_init(&b, cap - 4);
	wire_put_u8(&b, 12);
	wire_put_u32(&b, claimed);
	for (uint32_t i = 0; i < n; i++) {
		char blob[24], comment[24];

		snprintf(blob, sizeof(blob), "blob%u", i);
		snprintf(comment, sizeof(comment), "comment %u", i);
		wire_put_cstring(&b, blob);
		wire_put_cstring(&b, comment);
	}
	wire_poke_u32(out, (uint32_t)b.len);
	memcpy(out + 4, b.p, b.len);
	len = b.len + 4;
	wire_buf_free(&b);
	return len;
}

static void
test_client(void)
{
	uint8_t r[512];
	struct agent_ids ids;
	size_t n;
	pid_t pid;

	n = answer(r, sizeof(r), 2, 2);
	pid = fake_agent(r, n, 0);
	TAP_EQ_INT(agent_list(sockpath, 2000, &ids), 0);
	TAP_EQ_INT(ids.n, 2);
	TAP_CHECK(ids.n == 2 && !strcmp(ids.v[1].comment, "comment 1"));
	TAP_CHECK(agent_ids_has(&ids, (const uint8_t *)"blob1", 5));
	TAP_CHECK(!agent_ids_has(&ids, (const uint8_t *)"blob2", 5));
	agent_ids_free(&ids);
	reap(pid);

	n = answer(r, sizeof(r), 1, 3);	/* claims more keys than it sends */
	pid = fake_agent(r, n, 0);
	TAP_EQ_INT(agent_list(sockpath, 2000, &ids), -EPROTO);
	reap(pid);

	n = answer(r, sizeof(r), 0, 100000);	/* absurd key count */
	pid = fake_agent(r, n, 0);
	TAP_EQ_INT(agent_list(sockpath, 2000, &ids), -EPROTO);
	reap(pid);

	memcpy(r, "\0\0\0\1\5", 5);	/* SSH_AGENT_FAILURE */
	pid = fake_agent(r, 5, 0);
	TAP_EQ_INT(agent_list(sockpath, 2000, &ids), -EPROTO);
	reap(pid);

	memcpy(r, "\x7f\0\0\0\x0c", 5);	/* a length far over the cap */
	pid = fake_agent(r, 5, 0);
	TAP_EQ_INT(agent_list(sockpath, 2000, &ids), -EPROTO);
	reap(pid);

	pid = fake_agent(r, 0, 0);	/* closes without a word */
	TAP_EQ_INT(agent_list(sockpath, 2000, &ids), -EPROTO);
	reap(pid);

	n = answer(r, sizeof(r), 0, 0);
	pid = fake_agent(r, n, 3000);	/* too slow */
	{
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		TAP_EQ_INT(agent_list(sockpath, 300, &ids), -ETIMEDOUT);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		TAP_CHECK(t1.tv_sec - t0.tv_sec < 2);
	}
	reap(pid);

	memcpy(r, "\0\0\0\1\6", 5);
	pid = fake_agent(r, 5, 0);
	TAP_EQ_INT(agent_remove(sockpath, 2000, (const uint8_t *)"blob0", 5), 0);
	reap(pid);
	memcpy(r, "\0\0\0\1\5", 5);
	pid = fake_agent(r, 5, 0);
	TAP_EQ_INT(agent_remove(sockpath, 2000, (const uint8_t *)"blob0", 5), -ESRCH);
	reap(pid);

	unlink(sockpath);
	TAP_EQ_INT(agent_list(sockpath, 500, &ids), -ENOENT);
	TAP_EQ_INT(agent_list("", 500, &ids), -ENOENT);
	TAP_EQ_INT(agent_list(NULL, 500, &ids), -ENOENT);
	TAP_EQ_INT(agent_list("/dev/null", 500, &ids), -ECONNREFUSED);
}

int
main(void)
{
	char dir[] = "/tmp/smtool-agent-XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return 1;
	snprintf(sockpath, sizeof(sockpath), "%s/sock", dir);
	test_parse();
	test_client();
	unlink(sockpath);
	rmdir(dir);
	return tap_done();
}
