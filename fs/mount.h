/* mount: from passing checks to a served, then cleanly ended, mount.
 *
 *   chk_run (light plan, or full with -o full_check) -> the started engine
 *   and the absolute remote root; more connections for max_conns; the
 *   directory read-ahead workers; idmap=user's remote ids; fuse_new with
 *   fsopts' arguments; fuse_mount; control thread (ctl.h); a probe thread
 *   that proves the mount answers and only then calls daemon_ready(); the
 *   loop; then unmount (if the kernel has not already), close everything,
 *   return.
 *
 * Exit codes (mount(8)): 0 after a mount that was up and ended normally
 * (unmounted or stopped by a signal); 1 for problems with the options
 * libfuse refuses; 32 when the checks, the mount or the probe failed.
 * On any failure after fuse_mount() the mount is removed before returning.
 *
 * Thread: main() only, after daemon_start() (threads start here).
 */
#ifndef SSHMOUNTFS_FS_MOUNT_H
#define SSHMOUNTFS_FS_MOUNT_H

#include "daemon.h"
#include "fsctx.h"
#include "opts.h"

#define MOUNT_EXIT_USAGE 1
#define MOUNT_EXIT_FAILED 32
#define MOUNT_PROBE_TIMEOUT_MS 30000

/* c was set up by fsctx_init() (and its idmap=file loaded). */
int mount_serve(struct fs_ctx *c, const struct opts *o, struct daemon *d);

#endif
