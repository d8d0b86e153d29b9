/* attr: SFTP attributes to struct stat as the kernel should see them, and
 * the permission check for access() when the kernel does not do it.
 *
 * SFTP v3 has no inode numbers, link counts, ctime or sub-second times:
 * st_nlink is 1, st_ctime is the mtime, st_ino is left to libfuse. Owners
 * go through the idmap; uid=/gid=/umask= overrides apply last (libfuse
 * applies them too; doing it here keeps access() and readdir consistent).
 *
 * Pure functions; thread-safe.
 */
#ifndef SSHMOUNTFS_FS_ATTR_H
#define SSHMOUNTFS_FS_ATTR_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "rfs.h"	/* struct fxp_attr */
#include "idmap.h"

#define ATTR_BLKSIZE 4096

struct attr_cfg {
	const struct idmap *idmap;
	uid_t self_uid;		/* owner shown when the server sends none */
	gid_t self_gid;
	bool set_uid, set_gid, set_umask;
	uid_t uid;
	gid_t gid;
	mode_t umask;
};

/* Fills *st from a. Missing fields: mode S_IFREG|0644, size 0, owner of
 * the mount's process, times 0.
 * -EPERM when an owner has no mapping under nomap=error (*st still filled
 * with the unmapped ids). */
int attr_to_stat(const struct attr_cfg *cfg, const struct fxp_attr *a, struct stat *st);

/* POSIX permission check of 'mask' (R_OK|W_OK|X_OK, or F_OK) for a caller
 * with uid/gid and supplementary groups against st. Root passes R/W always
 * and X when any x bit is set or st is a directory. 0 or -EACCES. */
int attr_access(const struct stat *st, int mask, uid_t uid, gid_t gid,
		const gid_t *groups, int ngroups);

#endif
