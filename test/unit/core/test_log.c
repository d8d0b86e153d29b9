/* Unit tests of core/log: level names, the stderr format, thresholds,
 * sanitising, libssh's lines routed in at DEBUG, and syslog mode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "log.h"
#include "tap.h"

static int g_pipe[2];
static int g_saved_stderr;

/* stderr goes into a pipe for the duration of a test. */
static void
capture_start(void)
{
	if (pipe2(g_pipe, O_NONBLOCK) < 0)
		abort();
	g_saved_stderr = dup(2);
	dup2(g_pipe[1], 2);
}

static void
capture_end(char *buf, size_t size)
{
	ssize_t n;

	dup2(g_saved_stderr, 2);
	close(g_saved_stderr);
	close(g_pipe[1]);
	n = read(g_pipe[0], buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(g_pipe[0]);
}

static void
test_parse(void)
{
	static const struct { const char *name; int want; } ok[] = {
		{ "QUIET", LOG_LVL_ERROR }, { "fatal", LOG_LVL_ERROR }, { "Error", LOG_LVL_ERROR },
		{ "INFO", LOG_LVL_INFO }, { "verbose", LOG_LVL_INFO }, { "DEBUG", LOG_LVL_DEBUG },
		{ "debug1", LOG_LVL_DEBUG }, { "DEBUG2", LOG_LVL_DEBUG }, { "DEBUG3", LOG_LVL_DEBUG },
	};
	enum log_level l = LOG_LVL_WARN;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		l = LOG_LVL_WARN;
		TAP_EQ_INT(log_level_parse(ok[i].name, &l), 0);
		TAP_EQ_INT(l, ok[i].want);
	}
	l = LOG_LVL_WARN;
	TAP_EQ_INT(log_level_parse("DEBUG4", &l), -EINVAL);
	TAP_EQ_INT(log_level_parse("", &l), -EINVAL);
	TAP_EQ_INT(log_level_parse(NULL, &l), -EINVAL);
	TAP_EQ_INT(l, LOG_LVL_WARN);	/* untouched on error */
}

static void
test_stderr(void)
{
	char out[1024];

	log_init("tst", LOG_LVL_INFO);
	TAP_EQ_INT(log_level(), LOG_LVL_INFO);
	TAP_EQ_INT(log_libssh_verbosity(), SSH_LOG_NOLOG);
	capture_start();
	log_info("hello %d", 5);
	log_debug("not shown %d", 6);
	log_error("trailing newline\n");
	log_cont(LOG_LVL_ERROR, "  a hint");
	log_warn("bell\a and esc\033[1m");
	capture_end(out, sizeof(out));
	TAP_CHECK(strcmp(out, "tst: hello 5\ntst: trailing newline\n  a hint\n"
			 "tst: bell? and esc?[1m\n") == 0);
	if (strcmp(out, "tst: hello 5\ntst: trailing newline\n  a hint\n"
		   "tst: bell? and esc?[1m\n") != 0)
		printf("#   got '%s'\n", out);

	log_init("tst", LOG_LVL_ERROR);
	capture_start();
	log_warn("hidden");
	log_error("shown");
	capture_end(out, sizeof(out));
	TAP_CHECK(strcmp(out, "tst: shown\n") == 0);
}

/* At DEBUG libssh's own lines come through the callback, prefixed. */
static void
test_libssh(void)
{
	char out[8192], cfg[] = "/tmp/test_log.XXXXXX";
	ssh_session s;
	int fd;

	fd = mkstemp(cfg);
	if (fd < 0 || write(fd, "Host *\n  ForwardX11Trusted yes\n", 31) != 31)
		abort();
	close(fd);
	log_init("tst", LOG_LVL_DEBUG);
	TAP_EQ_INT(log_libssh_verbosity(), SSH_LOG_PROTOCOL);
	s = ssh_new();
	ssh_options_set(s, SSH_OPTIONS_HOST, "localhost");
	capture_start();
	ssh_options_parse_config(s, cfg);
	capture_end(out, sizeof(out));
	TAP_CHECK(strstr(out, "tst: libssh: ") != NULL);
	TAP_CHECK(strstr(out, "forwardx11trusted") != NULL || strstr(out, "ForwardX11Trusted") != NULL);
	if (strstr(out, "tst: libssh: ") == NULL)
		printf("#   got '%s'\n", out);

	log_init("tst", LOG_LVL_INFO);
	capture_start();
	ssh_options_parse_config(s, cfg);
	capture_end(out, sizeof(out));
	TAP_CHECK(out[0] == '\0');	/* nothing from libssh below DEBUG */
	ssh_free(s);
	unlink(cfg);
}

static void
test_syslog(void)
{
	char out[256];

	log_init("tst", LOG_LVL_INFO);
	log_to_syslog();
	capture_start();
	log_error("to syslog, not stderr");
	capture_end(out, sizeof(out));
	TAP_CHECK(out[0] == '\0');
}

int
main(void)
{
	test_parse();
	test_stderr();
	test_libssh();
	test_syslog();
	return tap_done();
}
