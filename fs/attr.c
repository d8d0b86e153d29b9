/* attr: see attr.h. */
#include "attr.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>	/* R_OK W_OK X_OK */

int
attr_to_stat(const struct attr_cfg *cfg, const struct fxp_attr *a, struct stat *st)
{
	uint32_t uid = cfg->self_uid, gid = cfg->self_gid;
	int r = 0, r2 = 0;

	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0644;
	if (a->flags & FXA_PERMISSIONS) {
		st->st_mode = a->perm;
		if ((st->st_mode & S_IFMT) == 0)
			st->st_mode |= S_IFREG;
	}
	if (a->flags & FXA_SIZE)
		/* A hostile size past INT64_MAX must not turn negative. */
		st->st_size = a->size > INT64_MAX ? INT64_MAX : (off_t)a->size;
	if (a->flags & FXA_UIDGID) {
		r = idmap_to_local(cfg->idmap, IDMAP_UID, a->uid, &uid);
		r2 = idmap_to_local(cfg->idmap, IDMAP_GID, a->gid, &gid);
	}
	st->st_uid = uid;
	st->st_gid = gid;
	if (a->flags & FXA_ACMODTIME) {
		st->st_atim.tv_sec = a->atime;
		st->st_mtim.tv_sec = a->mtime;
		st->st_ctim.tv_sec = a->mtime;
	}
	st->st_nlink = 1;
	st->st_blksize = ATTR_BLKSIZE;
	/* Whole ATTR_BLKSIZE blocks, in 512-byte units (as sshfs): du shows
	 * roughly what the files take on the server's disk. */
	st->st_blocks = (blkcnt_t)(((uint64_t)st->st_size + ATTR_BLKSIZE - 1) /
				   ATTR_BLKSIZE * (ATTR_BLKSIZE / 512));
	if (cfg->set_uid)
		st->st_uid = cfg->uid;
	if (cfg->set_gid)
		st->st_gid = cfg->gid;
	if (cfg->set_umask)
		st->st_mode = (st->st_mode & S_IFMT) | (0777 & ~cfg->umask);
	return r < 0 ? r : r2;
}

static bool
in_group(gid_t g, gid_t gid, const gid_t *groups, int ngroups)
{
	int i;

	if (g == gid)
		return true;
	for (i = 0; i < ngroups; i++)
		if (groups[i] == g)
			return true;
	return false;
}

int
attr_access(const struct stat *st, int mask, uid_t uid, gid_t gid,
	    const gid_t *groups, int ngroups)
{
	mode_t bits;
	int need = 0;

	mask &= R_OK | W_OK | X_OK;
	if (mask == 0)
		return 0;
	if (uid == 0) {
		if ((mask & X_OK) && !S_ISDIR(st->st_mode) &&
		    !(st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return -EACCES;
		return 0;
	}
	if (st->st_uid == uid)
		bits = (st->st_mode >> 6) & 7;
	else if (in_group(st->st_gid, gid, groups, ngroups))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	if (mask & R_OK)
		need |= 4;
	if (mask & W_OK)
		need |= 2;
	if (mask & X_OK)
		need |= 1;
	return ((int)bits & need) == need ? 0 : -EACCES;
}
