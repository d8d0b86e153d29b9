/* path: pure string helpers for the FUSE side of sshmountfs.
 *
 * A "fuse path" is what libfuse hands the operations: absolute, "/" for the
 * mount's root, no trailing slash, no empty components. A "remote path" is
 * the server's absolute path: the mount's remote root joined with the fuse
 * path. Nothing here does I/O or keeps state; every function is safe from
 * any thread. Results are fresh heap strings the caller frees.
 *
 * Errors: 0 or -ENOMEM (-EINVAL where stated).
 */
#ifndef SSHMOUNTFS_FS_PATH_H
#define SSHMOUNTFS_FS_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* root + fpath: ("/base", "/a") -> "/base/a", ("/base", "/") -> "/base",
 * ("/", "/a") -> "/a". A trailing slash on root is ignored. */
int path_remote(const char *root, const char *fpath, char **out);

/* True when the last component of fpath is longer than NAME_MAX (255)
 * bytes: what every Linux filesystem refuses with ENAMETOOLONG. OpenSSH
 * would send BAD_MESSAGE for it (EINVAL), which misleads programs. */
bool path_name_too_long(const char *fpath);

/* The directory part of a fuse path: "/a/b" -> "/a", "/a" -> "/", "/" -> "/". */
int path_parent(const char *fpath, char **out);

/* The last component (a view into fpath): "/a/b" -> "b", "/" -> "". */
const char *path_base(const char *fpath);

/* fpath + "/" + name, without doubling the slash at the root. */
int path_child(const char *fpath, const char *name, char **out);

/* True when 'p' is 'dir' or lies below it ("/a/b" under "/a"; not "/ab").
 * Everything is under "/". */
bool path_is_under(const char *p, const char *dir);

/* For 'p' under 'from' (path_is_under), the same path under 'to':
 * ("/a/x/y", "/a", "/b") -> "/b/x/y". -EINVAL when p is not under from. */
int path_rebase(const char *p, const char *from, const char *to, char **out);

/* transform_symlinks: when 'target' is absolute and lies under the remote
 * 'root', returns in *out the equivalent relative target as seen from the
 * link's directory (the link is 'link_fpath', a fuse path), e.g. root
 * "/base", link "/d/l", target "/base/o/f" -> "../o/f". *out is NULL when
 * the target is left alone (relative, or outside root). */
int path_symlink_relative(const char *root, const char *link_fpath,
			  const char *target, char **out);

/* contain_symlinks (sshfs 3.7.6): true when a link target could lead out
 * of the mount: absolute, or with a ".." component anywhere. */
bool path_target_escapes(const char *target);

/* Escapes ',' and '\' with a backslash, as fusermount expects in fsname=. */
int path_escape_opt(const char *s, char **out);

#endif
