/* daemon: fork-first daemonizing with failure propagation: the parent waits until the child says
 * the mount answers (exit 0) or failed (its exit code), and prints nothing
 * of its own on success.
 *
 * Until it is ready the child keeps the terminal: prompts work and its
 * messages reach the user. Its stderr is a pipe that a forwarding thread
 * copies to the original stderr; processes the child starts (ProxyCommand,
 * ssh_command=) inherit that pipe, not the caller's stderr, so once the
 * child is ready and drops the original descriptors, whoever reads the
 * caller's stdout/stderr (automount, systemd, a shell's $(...)) sees EOF at
 * once even while those processes live on.
 *
 * daemon_ready(): waits until everything written to stderr so far has been
 * forwarded, points stdin/stdout at /dev/null, drops the original stderr
 * (later output of the child and its helpers is discarded), setsid(),
 * chdir("/"), then sends status 0. daemon_fail(): the same draining, then
 * sends the exit code. Foreground mode (-f, -d): nothing is forked and both
 * calls only record the outcome.
 *
 * Thread: daemon_start() before any thread exists (fork); the others from
 * any one thread, once.
 */
#ifndef SSHMOUNTFS_FS_DAEMON_H
#define SSHMOUNTFS_FS_DAEMON_H

#include <pthread.h>
#include <stdbool.h>

struct daemon {
	bool foreground;
	bool done;		/* ready or failed was sent */
	int status_fd;		/* write end of the status pipe; -1 */
	int orig_err;		/* the caller's stderr; -1 once dropped */
	int err_rd;		/* read end of our stderr pipe; -1 */
	bool fwd_started;
	pthread_t fwd;
	pthread_mutex_t mu;
};

/* In the foreground: sets up d and returns 0. Otherwise forks; the parent
 * never returns (it exits with the child's status: 0 only after
 * daemon_ready(), the code of daemon_fail(), 32 when the child died
 * without saying); the child returns 0. -errno when fork or pipes fail
 * (still in the calling process, nothing forked). */
int daemon_start(struct daemon *d, bool foreground);

/* The mount answers: detach (see above) and let the parent exit 0. */
void daemon_ready(struct daemon *d);

/* Failure before ready: let the parent exit with 'code' (1, 2 or 32). */
void daemon_fail(struct daemon *d, int code);

#endif
