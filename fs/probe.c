/* probe: see probe.h. */
#include "probe.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_POLL_NS 2000000L	/* 2 ms */

int
probe_mount(const char *mountpoint, int timeout_ms, int fuse_fd)
{
	struct timespec pause = { 0, PROBE_POLL_NS };
	long waited_ns = 0;
	pid_t pid;
	int st;

	if ((pid = fork()) < 0)
		return -errno;
	if (pid == 0) {
		struct stat sb;

		/* Only async-signal-safe calls in a child of a threaded process.
		 * The child must not keep the session alive if we die. */
		if (fuse_fd >= 0)
			close(fuse_fd);
		_exit(stat(mountpoint, &sb) == 0 ? 0 : (errno & 0xff ? errno & 0xff : EIO));
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (waited_ns / 1000000L >= timeout_ms) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		nanosleep(&pause, NULL);
		waited_ns += PROBE_POLL_NS;
	}
	if (!WIFEXITED(st))
		return -EIO;
	return -WEXITSTATUS(st);
}
