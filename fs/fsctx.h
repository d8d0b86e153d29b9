/* fsctx: the filesystem's state, owned by main() and handed to libfuse as
 * private data (fuse_get_context()->private_data in every operation).
 *
 * Connections: conn[0] carries path operations; open files are spread
 * round-robin over conn[0..nconn) (max_conns), each staying on the channel
 * it was opened on. The remote root is absolute.
 *
 * Thread: built before the loop starts, then read-only except for the
 * parts with their own locks (cache, files, next_conn).
 */
#ifndef SSHMOUNTFS_FS_FSCTX_H
#define SSHMOUNTFS_FS_FSCTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "asyncmeta.h"
#include "attr.h"
#include "cache.h"
#include "content.h"
#include "fxc.h"
#include "idmap.h"
#include "ofile.h"
#include "opts.h"
#include "prefetch.h"

#define FS_MAX_CONNS 8

struct fs_dir;

struct fs_ctx {
	const struct opts *o;
	struct fxc *conn[FS_MAX_CONNS];
	int nconn;
	atomic_uint next_conn;
	char *root;
	struct cache *cache;
	struct idmap idmap;
	struct attr_cfg acfg;
	struct ofile_table files;
	/* Open directory handles (dirops.c), freed at shutdown when the
	 * kernel never sent their release. */
	pthread_mutex_t dirs_mu;
	struct fs_dir *dirs;
	struct prefetch prefetch;
	struct content content;
	struct asyncmeta am;	/* -o exclusive's queue (asyncmeta.h) */
	bool follow_symlinks, transform_symlinks, contain_symlinks, disable_hardlink;
	bool default_permissions, kernel_cache, direct_io;
};

/* Sets up caches and tables from o. Takes ownership of 'root' (heap) but
 * not of the connections (fsctx_add_conn). The idmap is set separately
 * (fsctx_setup_idmap). 0 or -ENOMEM. */
int fsctx_init(struct fs_ctx *c, const struct opts *o, char *root);
/* Adds a started engine (ownership passes to c). 0 or -ENOSPC. */
int fsctx_add_conn(struct fs_ctx *c, struct fxc *fxc);
/* Closes files left open, frees everything, fxc_free() on each
 * connection. */
void fsctx_destroy(struct fs_ctx *c);

/* idmap=user needs the remote user's ids: the owner of the remote home
 * (as sshfs), asked over conn[0]. idmap=file loads uidfile/gidfile.
 * 0 or a negative errno with err filled. */
int fsctx_setup_idmap(struct fs_ctx *c, char *err, size_t errlen);

/* The engine for path operations, and the next one for an open (always
 * conn[0] under -o exclusive: its queue's order covers file handles too,
 * asyncmeta.h). */
struct fxc *fsctx_meta(struct fs_ctx *c);
struct fxc *fsctx_pick(struct fs_ctx *c);

/* True under -o exclusive: metadata goes through c->am (asyncmeta.h). */
bool fsctx_async(const struct fs_ctx *c);
/* The channel to open a file on: ASYNCMETA_CHAN under -o exclusive (behind
 * the queue), else -1 (rfs picks by path). */
int fsctx_open_chan(const struct fs_ctx *c);

/* The remote path of a fuse path (heap), for a request the caller sends and
 * waits for: under -o exclusive it first waits for the queue to drain
 * (asyncmeta.h), so the request sees, and never overtakes, the operations
 * the mount already answered. 0, -ENOMEM, or -ENAMETOOLONG for a last
 * component past NAME_MAX (path_name_too_long). */
int fsctx_remote(struct fs_ctx *c, const char *fpath, char **out);
/* The same without waiting: for requests that join the queue. */
int fsctx_remote_queued(struct fs_ctx *c, const char *fpath, char **out);
/* For an OPEN on fsctx_open_chan(): under -o exclusive it goes behind the
 * queue on the queue's channel, so it does not wait (fsctx_remote_queued;
 * it must not: a file's reopen may run while the queue settles that very
 * file); otherwise fsctx_remote. */
int fsctx_remote_open(struct fs_ctx *c, const char *fpath, char **out);

/* OpenSSH reports a full disk as FAILURE (-EPERM here): for r == -EPERM
 * from a WRITE, CREATE or MKDIR, asks the server (statvfs@openssh.com) about
 * the filesystem of 'fpath' (NULL: the mount's root) and returns -ENOSPC
 * when it has no free blocks or no free inodes; r otherwise (also without
 * the extension). Costs a round trip, only on that error. */
int fsctx_nospace(struct fs_ctx *c, const char *fpath, int r);

/* OpenSSH folds EFBIG into FAILURE (a truncate too large, a write that
 * crosses the limit): for r == -EPERM from a WRITE or a truncate that
 * takes the file to 'end' bytes, returns -EFBIG when 'end' is past
 * 2 GiB - 1 (below the limit of every filesystem in use: FAT32 4 GiB,
 * ext4 16 TiB), and r otherwise. Told apart by size only: an I/O error of
 * the server's disk on a file that large also reads as EFBIG. Call it
 * after fsctx_nospace (a full disk is ENOSPC). */
int fsctx_toobig(uint64_t end, int r);

/* -o exclusive's answers made up from what the mount knows (asyncmeta.h).
 * fsctx_known_raw: path's raw attributes as the cache has them (mapped
 * back through the idmap); false when not cached, when not exclusive, or
 * when uid=, gid= or umask= make the cached view lossy (then the caller
 * asks the server). fsctx_known_put: caches 'a' as path's attributes (what
 * they are once the queue reaches the server). */
bool fsctx_known_raw(struct fs_ctx *c, const char *path, struct fxp_attr *a);
void fsctx_known_put(struct fs_ctx *c, const char *path, const struct fxp_attr *a);

/* Attributes as the kernel sees them (attr_to_stat with our config). */
int fsctx_stat(struct fs_ctx *c, const struct fxp_attr *a, struct stat *st);

#endif
