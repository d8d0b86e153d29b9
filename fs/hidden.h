/* hidden: files unlinked or replaced while open, without .fuse_hidden files
 * on the server.
 *
 * libfuse's high-level API only keeps a path for a node that has a name:
 * with hard_remove, an unlinked open file has none, and fstat, fchmod,
 * futimens and lseek(SEEK_DATA) (which the kernel sends by inode, not by
 * handle) fail with ESTALE before any operation of ours runs. So libfuse
 * runs without hard_remove: when a program unlinks an open file, or renames
 * another file over it, libfuse "hides" the node: it asks getattr whether
 * the name ".fuse_hiddenXXXXXXXXYYYYYYYY" is free, renames the file there,
 * and unlinks that name at the last close.
 *
 * Those hidden names never reach the server. Our rename to a hidden name
 * moves the open files to it in the ofile registry only (ofile_hide); for an
 * unlink, the file is then REMOVEd on the server at once (so the folder can
 * be removed while the file is open), and for a rename over the file, the
 * RENAME that follows replaces it atomically on the server. Path operations
 * on the hidden name go through the file's open handle (FSTAT/FSETSTAT),
 * and the last close's unlink of it is answered locally.
 *
 * Telling these apart needs the FUSE request a libfuse callback serves:
 * hidden_install() puts a reader on the session that notes each request's
 * opcode for the thread that serves it.
 *
 * Thread: any; the state is per thread.
 */
#ifndef SSHMOUNTFS_FS_HIDDEN_H
#define SSHMOUNTFS_FS_HIDDEN_H

#include <stdbool.h>

#include "fuseapi.h"

/* Installs the opcode-noting reader on se (before the loop runs). 0 or a
 * negative errno; without it hidden names fall back to libfuse's own
 * behaviour (a real rename on the server, as sshfs). */
int hidden_install(struct fuse_session *se);

/* What a rename to 'to' is. */
enum hidden_kind {
	HIDDEN_NONE,		/* an ordinary rename */
	HIDDEN_UNLINK,		/* an unlink of an open file: REMOVE 'from' */
	HIDDEN_REPLACE,		/* a rename over an open file follows */
};

/* getattr of 'path': true when it is libfuse probing for a free hidden
 * name (answer ENOENT without asking the server: the name is never made
 * there). */
bool hidden_probe(const char *path);

/* The kind of rename(from, to); clears the probe. */
enum hidden_kind hidden_rename(const char *to);

/* True when unlink(path) is libfuse dropping a hidden name at the last
 * close: nothing exists on the server under it. */
bool hidden_release_unlink(const char *path);

/* True when 'path' has the form of a hidden name. */
bool hidden_is_name(const char *path);

/* The open file (referenced: io_file_put) that a path operation on a hidden
 * name must go through, or NULL when 'path' is not one. */
struct io_file *hidden_file(struct fs_ctx *c, const char *path);

#endif
