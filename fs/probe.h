/* probe: proves that a fresh mount answers before anyone is told it is up.
 *
 * A child process stat()s the mount point: that goes through the kernel to
 * our own loop (FUSE_INIT, then GETATTR of the root) exactly as a user's
 * first access would. A child, not a thread, so that a mount that never
 * answers can be given up on: the child is killed after the timeout
 * (a process waiting on FUSE dies on SIGKILL).
 *
 * Thread: any thread except a FUSE worker (the loop must be free to run).
 */
#ifndef SSHMOUNTFS_FS_PROBE_H
#define SSHMOUNTFS_FS_PROBE_H

/* 0 when stat(mountpoint) succeeded within timeout_ms; -ETIMEDOUT, or the
 * negative errno of the stat. 'fuse_fd' (the session's /dev/fuse
 * descriptor, or -1) is closed in the child so that it never keeps a
 * mount alive whose server is gone. */
int probe_mount(const char *mountpoint, int timeout_ms, int fuse_fd);

#endif
