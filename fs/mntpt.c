/* mntpt: see mntpt.h. */
#include "mntpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mountinfo.h"

bool
mntpt_is_mounted(const char *mountinfo, const char *dir, const char *fstype_prefix)
{
	struct mountinfo_entry e;

	return mountinfo_find(mountinfo, dir, fstype_prefix, &e) == 0;
}

int
mntpt_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char *info;
	bool ours;

	if (strncmp(dir, "/dev/fd/", 8) == 0)
		return 0;
	if (stat(dir, &st) < 0) {
		int e = errno;

		if (e == ENOTCONN)
			snprintf(err, errlen, "mount point %s is a dead FUSE mount "
				 "(Transport endpoint is not connected); unmount it first: "
				 "fusermount3 -u %s", dir, dir);
		else if (e == ENOENT)
			snprintf(err, errlen, "mount point %s does not exist", dir);
		else
			snprintf(err, errlen, "mount point %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mount point %s is not a directory", dir);
		return -ENOTDIR;
	}
	info = mountinfo_read();
	ours = info && mntpt_is_mounted(info, dir, "fuse.sshmountfs");
	free(info);
	if (ours) {
		snprintf(err, errlen, "%s is already mounted by sshmountfs "
			 "(unmount it first: fusermount3 -u %s)", dir, dir);
		return -EBUSY;
	}
	return 0;
}
