/* rfs: typed remote-filesystem operations on top of fxc.
 *
 * Each function builds the request with fxp, sends it with fxc and decodes
 * the reply: blocking calls for metadata, and asynchronous READ/WRITE for the
 * data path. Extensions are used when the server announces them, with a
 * fallback (or -EOPNOTSUPP) otherwise. The errno values OpenSSH folds into
 * SSH_FX_FAILURE are recovered here where users see them (EEXIST on mkdir,
 * ENOTEMPTY on rmdir, EEXIST on exclusive create, ...).
 *
 * All functions return 0 (or a byte count) or a negative errno, and may be
 * called from any thread except fxc's I/O thread (async callbacks run there).
 * A reply that is malformed or of the wrong type kills the connection
 * (fxc_kill) and the call returns -EIO, as every later one will. The SFTP
 * status mapping is fxp_status_errno(): FAILURE is -EPERM unless refined.
 *
 * Reconnection (fxc.h): a request on a handle is tied to the handle's
 * generation; once that connection is gone it returns -ENOTCONN (the
 * caller reopens by path, see fs/io.h); rfs_close too (the server process
 * that held the handle is gone, and the handle with it). Path requests
 * wait for the link and are sent again. A request that is not safe to
 * apply twice (remove, rmdir, mkdir, rename, symlink, link, exclusive
 * create) whose reply was lost with the link is decided here by looking at
 * the server's state where the outcome is certain, and is -EIO otherwise:
 * never applied twice, never -ECONNABORTED to the caller. The rules:
 *   remove, rmdir      0 when the name is gone (LSTAT: ENOENT), else -EIO;
 *   mkdir              0 when a directory is there, else -EIO;
 *   rename             0 when 'from' is gone and 'to' is there, else -EIO;
 *   symlink            0 when linkpath is a symlink to target, else -EIO;
 *   link               -EIO (a name at 'to' may be another's);
 *   exclusive create   -EIO (a file there may be another's).
 * A handle's gen is the generation its OPEN/OPENDIR reply came on.
 */
#ifndef SSHMOUNTFS_RFS_H
#define SSHMOUNTFS_RFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "fxc.h"
#include "fxp.h"

/* An open remote file or directory. All requests on one handle go to the
 * channel it was opened on, so the server sees them in order. */
struct rfs_handle {
	int chan;
	uint32_t gen;		/* fxc_generation the handle belongs to */
	uint32_t len;
	uint8_t data[FXP_MAX_HANDLE];
};

int rfs_stat(struct fxc *c, const char *path, struct fxp_attr *a);
int rfs_lstat(struct fxc *c, const char *path, struct fxp_attr *a);
int rfs_fstat(struct fxc *c, const struct rfs_handle *h, struct fxp_attr *a);
int rfs_setstat(struct fxc *c, const char *path, const struct fxp_attr *a);
/* On the symlink itself (lsetstat@openssh.com); -EOPNOTSUPP without it. */
int rfs_lsetstat(struct fxc *c, const char *path, const struct fxp_attr *a);
int rfs_fsetstat(struct fxc *c, const struct rfs_handle *h, const struct fxp_attr *a);

/* 'chan' -1 picks one (a hash of the path, so a file keeps to one server
 * process without shared state). pflags are FXF_*; 'a' may be NULL.
 * FAILURE is refined by an LSTAT: -EEXIST for CREAT|EXCL on an existing
 * path, -EISDIR when opening a directory for writing. */
int rfs_open(struct fxc *c, int chan, const char *path, uint32_t pflags,
	     const struct fxp_attr *a, struct rfs_handle *h);
int rfs_opendir(struct fxc *c, const char *path, struct rfs_handle *h);
/* The channel rfs_open(c, -1, path, ...) and rfs_opendir() use for 'path':
 * for callers that send their own requests for a path and want them on the
 * server process its handles use. Only OPEN and OPENDIR are routed this
 * way; other path requests go to the least loaded channel. Any thread. */
int rfs_pick_chan(struct fxc *c, const char *path);
int rfs_close(struct fxc *c, const struct rfs_handle *h);
/* Sends CLOSE without waiting (directories, temporary handles, a file's
 * last use). It travels behind the handle's earlier requests on its
 * channel. Never fails visibly: a dead connection closes everything. */
void rfs_close_async(struct fxc *c, const struct rfs_handle *h);

/* One READDIR batch: calls fn for each entry whose name is safe (no '/',
 * no NUL, not empty, at most 1023 bytes; "." and ".." are passed through for
 * the caller to skip). Returns the number of entries in the batch (dropped
 * ones included, so a batch of only bad names does not look like the end),
 * 0 at the end of the directory. A non-zero return from fn stops the batch:
 * a negative one is returned as is. A malformed batch kills the connection
 * (-EIO). */
typedef int rfs_dirent_fn(void *arg, const char *name, const struct fxp_attr *a);
int rfs_readdir(struct fxc *c, const struct rfs_handle *h, rfs_dirent_fn *fn, void *arg);

/* A whole directory (rfs_list.c): OPENDIR, then READDIRs pipelined on the
 * handle's channel (the server answers them in order), from 2 growing to
 * RFS_LIST_INFLIGHT in flight, until EOF; CLOSE is sent without waiting.
 * On a link with latency a 2000-entry directory costs about two round
 * trips instead of twenty. fn gets each safe entry as rfs_readdir's does,
 * without "." and ".."; a non-zero return stops the listing and, when
 * negative, is returned. Errors: OPENDIR's or READDIR's negative errno; a
 * malformed batch kills the connection (-EIO), as everywhere in rfs.
 * Blocks the calling thread; fn runs on it. */
#define RFS_LIST_INFLIGHT 16
int rfs_list(struct fxc *c, const char *path, rfs_dirent_fn *fn, void *arg);

/* Reads/writes 'len' bytes at 'off', split into chunks of the server's
 * size that are all submitted at once and waited for together. rfs_read
 * reads each chunk with rfs_read_async (its rule below) and returns the
 * bytes read (short only at EOF); a short DATA reply has its remainder
 * requested again; an error in any chunk before EOF fails the whole read.
 * rfs_write returns len or the error of the lowest failing chunk (later
 * chunks may still have been written). */
ssize_t rfs_read(struct fxc *c, const struct rfs_handle *h, uint64_t off, void *buf, size_t len);
ssize_t rfs_write(struct fxc *c, const struct rfs_handle *h, uint64_t off, const void *buf, size_t len);

/* Async single-chunk READ (len <= fxc_max_read): the one READ reader of
 * the tree (rfs_read and fs/io.c's read-ahead use it). cb gets the data (a
 * view, valid during the call; 1..len bytes, possibly short), 0 bytes only
 * at EOF (STATUS EOF), or a negative errno. The rule for odd replies: an
 * empty DATA is asked again once; a second one in a row, more data than
 * asked for, or a malformed reply kill the connection and give -EIO. */
typedef void rfs_read_fn(void *arg, int err, const uint8_t *data, uint32_t len);
int rfs_read_async(struct fxc *c, const struct rfs_handle *h, uint64_t off,
		   uint32_t len, rfs_read_fn *cb, void *arg);
/* Async single-chunk WRITE (len <= fxc_max_write); data is copied before
 * return. cb gets 0 or a negative errno. */
typedef void rfs_status_fn(void *arg, int err);
int rfs_write_async(struct fxc *c, const struct rfs_handle *h, uint64_t off,
		    const void *data, uint32_t len, rfs_status_fn *cb, void *arg);

/* Path requests sent without waiting (-o exclusive's queue, fs/asyncmeta.h):
 * submitted on 'chan' (-1: the least loaded one) now, so requests the
 * caller submits on one channel reach the server, and are run by its one
 * server process, in submission order. cb gets the server's status as is
 * (FAILURE is -EPERM: no probe can refine it on fxc's I/O thread, where cb
 * runs), or -EIO / -ETIMEDOUT. path2 is RENAME's new name or SYMLINK's
 * target; 'a' is MKDIR's and the SETSTATs' attributes. Each is tied to
 * the generation current at submission: when that link is lost, every one
 * not answered completes with -ENOTCONN (applied or not: unknown), none is
 * sent on the next link, so the server never applies a later one without
 * an earlier one; -ENOTCONN at once (cb not called) while the link is down. RENAME is
 * posix-rename (-EOPNOTSUPP without it: the caller renames the blocking
 * way), LSETSTAT needs lsetstat@openssh.com (-EOPNOTSUPP). Returns 0 (cb
 * will be called) or a negative errno (cb will not). */
enum rfs_async_op {
	RFS_A_MKDIR,
	RFS_A_RMDIR,
	RFS_A_REMOVE,
	RFS_A_RENAME,
	RFS_A_SYMLINK,
	RFS_A_SETSTAT,
	RFS_A_LSETSTAT,
};
int rfs_path_async(struct fxc *c, int chan, enum rfs_async_op op, const char *path,
		   const char *path2, const struct fxp_attr *a, rfs_status_fn *cb, void *arg);
/* OPEN sent without waiting, on 'chan', for -o exclusive's creates
 * (fs/asyncmeta.h): tied to the current generation like rfs_path_async
 * (lost with the link: -ENOTCONN, never sent again). cb gets 0 and the
 * handle (valid during the call), or the server's status as is (FAILURE
 * is -EPERM: no probe on the I/O thread) with h NULL. Returns 0 (cb will
 * be called) or a negative errno (cb will not). */
typedef void rfs_handle_fn(void *arg, int err, const struct rfs_handle *h);
int rfs_open_async(struct fxc *c, int chan, const char *path, uint32_t pflags,
		   const struct fxp_attr *a, rfs_handle_fn *cb, void *arg);
/* FSETSTAT sent without waiting (behind the handle's earlier requests on
 * its channel); cb as rfs_write_async's. */
int rfs_fsetstat_async(struct fxc *c, const struct rfs_handle *h, const struct fxp_attr *a,
		       rfs_status_fn *cb, void *arg);
/* FAILURE refined: mkdir -> -EEXIST when the path exists; rmdir ->
 * -ENOTDIR for a non-directory, -ENOTEMPTY when a listing finds an entry;
 * remove -> -EISDIR for a directory. */
int rfs_mkdir(struct fxc *c, const char *path, mode_t mode);
int rfs_rmdir(struct fxc *c, const char *path);
int rfs_remove(struct fxc *c, const char *path);
/* Replaces an existing 'to' atomically with posix-rename when available
 * (when it is announced but refused, the plain RENAME is tried). Without
 * posix-rename, an existing 'to' makes OpenSSH refuse and that error is
 * returned: no non-atomic remove-then-rename emulation.
 * 'noreplace' refuses with -EEXIST when 'to' exists: an LSTAT check, then
 * the plain RENAME (which OpenSSH runs as link()+unlink() for regular
 * files, refusing an existing target atomically). For other file types the
 * check and the rename are NOT atomic: a 'to' created in between is
 * replaced. FAILURE is refined to ENOTDIR/EISDIR/ENOTEMPTY by probes. */
int rfs_rename(struct fxc *c, const char *from, const char *to, bool noreplace);
/* Creates 'linkpath' pointing at 'target'. Servers announcing any
 * @openssh.com extension get OpenSSH's (target, linkpath) order, others
 * draft-02's (linkpath, target). FAILURE with linkpath present: -EEXIST. */
int rfs_symlink(struct fxc *c, const char *target, const char *linkpath);
/* *target is heap-allocated; caller frees. */
int rfs_readlink(struct fxc *c, const char *path, char **target);
/* hardlink@openssh.com; -EOPNOTSUPP without it. */
int rfs_link(struct fxc *c, const char *from, const char *to);
/* *out is heap-allocated; caller frees. */
int rfs_realpath(struct fxc *c, const char *path, char **out);
/* The remote home (home-directory, expand-path "~", or REALPATH "."). */
int rfs_home(struct fxc *c, char **out);
/* fsync@openssh.com; -EOPNOTSUPP without it. */
int rfs_fsync(struct fxc *c, const struct rfs_handle *h);
/* statvfs@openssh.com; -EOPNOTSUPP without it. */
int rfs_statvfs(struct fxc *c, const char *path, struct statvfs *st);
/* copy-data; -EOPNOTSUPP without it. len 0 = to EOF. Both handles must
 * be on one channel (one server process): -EXDEV otherwise. */
int rfs_copy_data(struct fxc *c, const struct rfs_handle *in, uint64_t off_in,
		  uint64_t len, const struct rfs_handle *out, uint64_t off_out);

/* ---- an operation and the attributes after it (rfs_pair.c) ----
 *
 * The STAT travels right behind the operation on the same channel, so the
 * server runs it after the operation: one round trip instead of two (sshfs
 * pipelines OPEN and LSTAT the same way). 'after' gets the attributes the
 * operation left, or after->flags 0 when that STAT failed. The operation's
 * own result is returned, with FAILURE refined as the single call's. */

/* OPEN as rfs_open (chan -1 picks by path), LSTAT of path behind it. */
int rfs_open_lstat(struct fxc *c, int chan, const char *path, uint32_t pflags,
		   const struct fxp_attr *a, struct rfs_handle *h, struct fxp_attr *after);
/* MKDIR with attributes a (a->perm: the mode), LSTAT behind it. */
int rfs_mkdir_lstat(struct fxc *c, const char *path, const struct fxp_attr *a,
		    struct fxp_attr *after);
/* SETSTAT (LSETSTAT when 'lset': the symlink itself; -EOPNOTSUPP without
 * lsetstat@openssh.com), then STAT (LSTAT when !follow). */
int rfs_setstat_stat(struct fxc *c, const char *path, const struct fxp_attr *a, bool lset,
		     bool follow, struct fxp_attr *after);
/* FSETSTAT, then FSTAT, on the handle's channel (behind its WRITEs). */
int rfs_fsetstat_fstat(struct fxc *c, const struct rfs_handle *h, const struct fxp_attr *a,
		       struct fxp_attr *after);

/* An FSTAT sent now and collected later: it travels behind the requests
 * already queued on the handle's channel (WRITEs), so the caller can wait
 * for other things meanwhile. rfs_fstat_send never fails visibly (an FSTAT
 * that could not be sent is collected as -EIO); rfs_fstat_collect waits,
 * fills *a (flags 0 on error), frees p and returns 0 or a negative errno. */
struct rfs_pending;
struct rfs_pending *rfs_fstat_send(struct fxc *c, const struct rfs_handle *h);
int rfs_fstat_collect(struct rfs_pending *p, struct fxp_attr *a);

/* OPENs path on each of chans[0..n) at once (n <= RFS_OPEN_EACH_MAX), all
 * in flight together, and waits: the ones that opened are in out[] (in
 * the order of chans) and their number is returned. */
#define RFS_OPEN_EACH_MAX 8
int rfs_open_each(struct fxc *c, const char *path, uint32_t pflags, const int *chans, int n,
		  struct rfs_handle *out);

#endif
