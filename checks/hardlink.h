/* hardlink: the remote filesystem makes hard links through SFTP.
 *
 * BiT proved hard links with two remote rsync runs and `ls -i`. We speak SFTP: in a fresh directory named with a random
 * id inside the remote path, create a file, link it with
 * hardlink@openssh.com, then prove the two names are one file: the new name
 * is a regular file (not a symlink), and what is written through one name
 * is read back through the other. Where a shell exists, `stat -c %h:%i` over
 * an exec channel also shows one inode with two links. The directory and
 * both names are removed in every case, also after a failure.
 *
 * Thread: any thread except fxc's I/O thread; blocking. 'shell' (may be
 * NULL) is a connection fxc does not own.
 */
#ifndef SSHMOUNTFS_CHECKS_HARDLINK_H
#define SSHMOUNTFS_CHECKS_HARDLINK_H

#include "checks.h"
#include "fxc.h"
#include "sshc.h"

enum chk_link_reason {
	CHK_LINK_OK = 0,
	CHK_LINK_UNSUPPORTED,	/* "no-hardlink-extension": the server does not offer it */
	CHK_LINK_DENIED,	/* "link-denied": the server refused the link request */
	CHK_LINK_NOT_SAME,	/* "not-same-file": the two names are different files */
	CHK_LINK_SETUP,		/* "setup-failed": the test directory or file could not be made */
	CHK_LINK_COUNT
};

const char *chk_link_reason_name(int reason);

/* 0 passed, -1 failed. */
int chk_hardlink(struct fxc *c, const char *root, struct sshc *shell, struct chk_result *res);

/* Reads `stat -c %h:%i A B` output: 1 both lines name one inode with at
 * least two links, 0 two different files, -1 unreadable. */
int chk_stat_same_inode(const char *out);

#endif
