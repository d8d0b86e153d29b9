/* Unit tests of core/util: the monotonic clock in both units, and
 * util_write_all's whole writes and its errors. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static void
test_clock(void)
{
	struct timespec pause = { 0, 50 * 1000000L };
	long a = util_now_ms(), b;
	double s = util_now_s();

	nanosleep(&pause, NULL);
	b = util_now_ms();
	TAP_CHECK(b - a >= 50);
	TAP_CHECK(b - a < 5000);
	/* both units read the same clock */
	TAP_CHECK(util_now_s() - s >= 0.05);
	TAP_CHECK(util_now_s() * 1000.0 - (double)util_now_ms() < 50.0);
	TAP_CHECK((double)util_now_ms() - util_now_s() * 1000.0 < 50.0);
}

/* 1 MiB into a file arrives whole and in order. */
static void
test_write_file(void)
{
	char path[] = "/tmp/test_util.XXXXXX";
	size_t n = 1u << 20;
	uint8_t *buf = malloc(n), *back = malloc(n);
	int fd = mkstemp(path);
	struct stat st;

	TAP_CHECK(fd >= 0 && buf && back);
	if (fd < 0 || !buf || !back)
		abort();
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	TAP_EQ_INT(util_write_all(fd, buf, n), 0);
	TAP_EQ_INT(util_write_all(fd, buf, 0), 0);
	TAP_CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == n);
	TAP_CHECK(pread(fd, back, n, 0) == (ssize_t)n && memcmp(buf, back, n) == 0);
	close(fd);
	unlink(path);
	free(buf);
	free(back);
}

static void
test_write_errors(void)
{
	uint8_t big[1 << 17];
	int p[2];

	memset(big, 'x', sizeof(big));
	TAP_EQ_INT(util_write_all(-1, "x", 1), -EBADF);
	/* a full nonblocking pipe ends it with -EAGAIN, not a spin */
	TAP_CHECK(pipe2(p, O_NONBLOCK) == 0);
	TAP_EQ_INT(util_write_all(p[1], big, sizeof(big)), -EAGAIN);
	close(p[0]);
	/* no reader: -EPIPE (SIGPIPE ignored, as a daemon would) */
	signal(SIGPIPE, SIG_IGN);
	TAP_EQ_INT(util_write_all(p[1], "x", 1), -EPIPE);
	close(p[1]);
}

int
main(void)
{
	test_clock();
	test_write_file();
	test_write_errors();
	return tap_done();
}
