/* ctl: stopping a live mount cleanly, from a signal or from our own code.
 *
 * SIGTERM, SIGINT and SIGHUP (in whatever thread they land) write one byte
 * to a pipe; a control thread then ends the session (fuse_session_exit)
 * and unmounts lazily (umount2 MNT_DETACH as root, fusermount3 -u -z
 * otherwise). The kernel then fails the loop's reads, so fuse_loop_mt()
 * returns however many workers were blocked; libfuse's own handlers only
 * interrupt the thread they happen to hit. SIGPIPE is ignored.
 *
 * The signal handler needs the pipe's descriptor in a static: the one
 * piece of process-wide state here (like the logger), set by ctl_start()
 * and cleared by ctl_finish().
 *
 * Thread: ctl_start/ctl_finish from main(); ctl_stop from any thread.
 */
#ifndef SSHMOUNTFS_FS_CTL_H
#define SSHMOUNTFS_FS_CTL_H

#include <pthread.h>
#include <stdbool.h>

struct fuse_session;

struct ctl {
	int fd[2];
	pthread_t thread;
	bool started;
	struct fuse_session *se;
	void (*on_stop)(void *arg);	/* run by the control thread first */
	void *on_stop_arg;
	char *mountpoint;
	bool unmounted;		/* the control thread unmounted (read after ctl_finish) */
};

/* Installs the handlers and starts the control thread. 0 or -errno.
 * on_stop (may be NULL) runs on the control thread when a stop arrives,
 * before the session ends: the mount stops waiting for a lost link there,
 * or the loop would wait for the workers blocked on it. */
int ctl_start(struct ctl *c, struct fuse_session *se, const char *mountpoint,
	      void (*on_stop)(void *arg), void *arg);

/* Asks for the mount to end (as a signal would). */
void ctl_stop(struct ctl *c);

/* After the loop returned: stops the thread, restores default handlers. */
void ctl_finish(struct ctl *c);

/* Unmounts 'mountpoint' lazily; 0 or -errno. */
int ctl_unmount(const char *mountpoint);

#endif
