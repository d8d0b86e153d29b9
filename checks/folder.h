/* folder: the remote folder is there (created when missing, parents too),
 * is a directory, searchable and writable by the login user.
 *
 * Back In Time's checkRemoteFolder (common/sshtools.py) ran a shell script,
 * which broke on fish login shells (#1905), shells without `test` (#1745)
 * and hosts whose SFTP root is not the shell's home (#1674). This one
 * speaks SFTP only, so it sees exactly what the mount will see. Writable
 * is proven by creating and removing a file (mode bits lie under ACLs,
 * read-only mounts and root squash); searchable by asking for a name inside
 * (EACCES, not ENOENT, when the directory cannot be searched).
 *
 * Thread: any thread except fxc's I/O thread; blocking.
 */
#ifndef SSHMOUNTFS_CHECKS_FOLDER_H
#define SSHMOUNTFS_CHECKS_FOLDER_H

#include "checks.h"
#include "fxc.h"

enum chk_folder_reason {
	CHK_FOLDER_OK = 0,
	CHK_FOLDER_NOT_DIR,		/* "not-a-directory" */
	CHK_FOLDER_NOT_WRITABLE,	/* "not-writable" */
	CHK_FOLDER_NOT_SEARCHABLE,	/* "not-searchable" */
	CHK_FOLDER_CREATE_FAILED,	/* "create-failed": mkdir of it or a parent failed */
	CHK_FOLDER_NO_HOME,		/* "no-home": the remote home could not be found */
	CHK_FOLDER_NO_SFTP,		/* "no-sftp": the SFTP server did not start */
	CHK_FOLDER_IO,			/* "io": the connection failed during the check */
	CHK_FOLDER_COUNT
};

const char *chk_folder_reason_name(int reason);

/* The absolute remote root for 'path' (NULL, "", ".", "./", "~", relative,
 * "~/rel" or absolute), given the remote home 'home' (needed only for the
 * relative forms; may be NULL otherwise). Trailing slashes go, "./" and
 * "~/" prefixes go, "//" collapses. *out is heap. 0, -EINVAL (relative
 * path without a home), -ENOMEM. */
int chk_root_path(const char *home, const char *path, char **out);

/* True when chk_root_path needs the home for 'path'. */
bool chk_root_needs_home(const char *path);

/* Runs the check on 'root' (absolute). 'need_write' false (read-only
 * mounts) skips the writability proof. With 'must_write' false, a folder
 * the login user can read but not write passes (res->warning says so)
 * instead of failing "not-writable". With 'lingering' (the session goes
 * on to serve a mount) the probe file's CLOSE and REMOVE are sent without
 * waiting for their replies, which saves the mount one round trip; the
 * engine completes them later. Returns 0 passed (res->msg says whether it
 * was created), -1 failed. */
int chk_folder(struct fxc *c, const char *root, bool need_write, bool must_write,
	       bool lingering, struct chk_result *res);

/* Fails res as "no-sftp" / "no-home" for plan.c. */
void chk_folder_fail(struct chk_result *res, int reason, const char *what);

#endif
