/* mountinfo: reading the kernel's table of mounts (/proc/self/mountinfo)
 * without touching the mounts themselves: a stat() of a FUSE mount point
 * waits for its daemon, which may be waiting for a dead link.
 *
 * Thread: any. Pure apart from mountinfo_read().
 */
#ifndef SSHMOUNTFS_CORE_MOUNTINFO_H
#define SSHMOUNTFS_CORE_MOUNTINFO_H

#include <stddef.h>

/* One line of the table: "id parent maj:min root mountpoint opts
 * [optional...] - fstype source super". */
struct mountinfo_entry {
	unsigned major, minor;	/* the filesystem's device (st_dev of its files) */
	char fstype[64];	/* "fuse.sshmountfs"; cut at 63 bytes */
	char source[512];	/* escapes decoded; cut at 511 bytes */
	long user_id;		/* "user_id=N" of the super options (FUSE: who
				 * mounted it); -1 when absent */
};

/* The whole of /proc/self/mountinfo as one string (heap, caller frees),
 * or NULL with errno set. */
char *mountinfo_read(void);

/* The last mount listed at exactly 'dir' (the one on top, the one a path
 * lookup reaches) whose type starts with 'fstype_prefix' (NULL: any),
 * in 'text' (mountinfo's format; escapes such as \040 are decoded).
 * 0 with *out filled, or -ENOENT. */
int mountinfo_find(const char *text, const char *dir, const char *fstype_prefix,
		   struct mountinfo_entry *out);

#endif
