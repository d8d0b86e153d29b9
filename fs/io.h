/* io: the data path of one open remote file: pipelined reads with
 * sequential read-ahead, write-behind, flush/fsync/truncate ordering, and
 * an asynchronous CLOSE.
 *
 * Reads: a sequential stream (readahead.h) is served from a per-handle
 * cache of aligned chunks, each one SFTP READ of the server's maximum size,
 * kept requested a window ahead of the reader (2 chunks growing to
 * IO_MAX_WINDOW). Other reads go straight to the server, split into
 * pipelined READs by rfs_read().
 *
 * Writes: split into WRITEs of the server's maximum size, queued with
 * rfs_write_async() and answered at once (write-behind, writeback.h). All
 * requests of a handle travel on its channel, which the server executes in
 * order, so a later READ, FSTAT or FSETSTAT on the handle sees earlier
 * WRITEs without waiting for them. A write drops the read-ahead chunks.
 *
 * Striping: one channel's flow-control window (sshd gives 2 MiB) caps a
 * single file's writes at about 2 MiB per round trip. After a file has
 * taken IO_STRIPE_AFTER bytes of sequential writes, the fs opens it again
 * on the other channels (io_wants_stripes / io_add_stripes) and WRITEs go
 * to handle (offset / IO_STRIPE) % n: the same region always travels on
 * the same channel, so overlapping writes stay in order. Anything that
 * must see every write (READ, FSTAT, FSETSTAT, fsync, close) first waits
 * for the writes in flight on the other channels.
 *
 * O_APPEND: OpenSSH's FXF_APPEND is not something to rely on across
 * servers (some ignore it and write at the offset given), so the handle
 * keeps its own end-of-file offset and writes there. It learns the size
 * (io_append_sync) before its first write and again after another handle
 * of the mount changed the file (io_drop_readahead), once the writes those
 * handles were told succeeded have landed (fileops.c waits for them).
 * Appends from other clients in between are not seen.
 *
 * Preloaded files (io_file_new_preloaded): a read-only open whose whole
 * contents were read ahead (content.h) is served from them with no request
 * and no remote handle. The handle is opened (through the caller's
 * io_hooks.reopen, which knows the path) only when something needs it: an
 * fstat, fsetstat, fsync or copy, or a read after another descriptor of
 * the mount changed the file (io_drop_readahead/io_note_write drop the
 * contents).
 *
 * Lifetime: io_file_new() gives one reference (the FUSE handle); in-flight
 * requests and path operations that found the file in the registry hold
 * more. io_release() (called once the file left the registry) drains
 * writes, waits for the other references, sends CLOSE without waiting for
 * it, and drops the FUSE reference.
 *
 * Reconnection (core/fxc.h): a handle belongs to one connection
 * generation; once that link is gone every request on it returns
 * -ENOTCONN. The first thread that meets this reopens the file, once per
 * generation (the others wait for it and then send again): by its current
 * path (io_hooks.reopen: the registry's path, which follows our renames),
 * with its open flags minus O_CREAT, O_EXCL and O_TRUNC, on the same fxc.
 * The new handle is taken only when an FSTAT of it shows the same file:
 *   - a regular file,
 *   - whose size is at least the end of the furthest write this handle
 *     had acknowledged (or the size its last acknowledged truncate set,
 *     when that came later),
 *   - and, when this handle has seen the file's attributes from the server
 *     (an FSTAT, a truncate, create's LSTAT): the same uid and gid, and an
 *     mtime no older than the one seen (our own writes only move it on).
 * Then the request is sent again. Stripe handles are dropped (striping
 * starts again by itself).
 *
 * Every WRITE keeps a copy of its data until the server acknowledges it
 * (bounded by IO_WRITE_LIMIT, like the writes in flight: the copy doubles
 * the memory those take). WRITEs whose link died are "lost"
 * (writeback.h): they are sent again on the reopened handle in the order
 * they were first sent, before any newer write, so the server's file ends
 * up as without the outage. A WRITE the old server applied but whose reply
 * was lost is applied twice at the same offset: the same bytes. Lost
 * writes are sent again as soon as the link is back, by a helper thread of
 * the file's own (bgthread.h), not only at the program's next call.
 *
 * When that cannot be guaranteed the handle is dead: every later use
 * returns -EIO, lost writes are given up (the sticky write error becomes
 * -EIO) and io_hooks.lost logs it. That is: an O_APPEND handle with writes
 * lost (other appenders may have moved the end meanwhile); the file
 * removed, replaced (the rule above) or not reopenable on the server
 * (-ENOENT, -EACCES, -EISDIR...); a file unlinked while open (hidden.h:
 * the server process that held it is gone). Flush and close report -EIO
 * too when the handle was written, except for an unlinked file whose
 * writes had all been acknowledged (nothing was lost). A link that does not
 * come back in time (reconnect_timeout: the reopen fails with -EIO) is not
 * final: the call returns -EIO, lost writes are kept and the next use tries
 * again; only io_release gives them up then. A request never returns
 * -ENOTCONN to its caller.
 *
 * Thread: every function may be called from any FUSE thread concurrently;
 * callbacks run on fxc's I/O thread and never block.
 */
#ifndef SSHMOUNTFS_FS_IO_H
#define SSHMOUNTFS_FS_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fxc.h"
#include "readahead.h"
#include "rfs.h"
#include "writeback.h"

#define IO_MIN_WINDOW_CHUNKS 2
#define IO_MAX_WINDOW (8u << 20)
#define IO_WRITE_LIMIT (16u << 20)	/* write-behind bytes in flight per file */
#define IO_MAX_STRIPES 8		/* extra handles for striped writes */
#define IO_STRIPE (1u << 20)		/* bytes per stripe unit */
#define IO_STRIPE_AFTER (2u << 20)	/* sequential bytes before striping */

/* Opaque outside io.c. */
struct io_file;

/* What io needs from the open-file registry to survive a reconnection.
 * Both are called on a FUSE thread, without any io lock held. */
struct io_hooks {
	/* Opens f's file again (see above) into *h: 0, or -ESTALE when f has
	 * no path any more (unlinked while open), or rfs_open's error. */
	int (*reopen)(void *arg, struct io_file *f, struct rfs_handle *h);
	/* f is dead for 'why'; 'lost' bytes of writes the program was told
	 * had succeeded never reached the server. For logging (error level
	 * with the path when lost > 0). */
	void (*lost)(void *arg, struct io_file *f, const char *why, uint64_t lost);
	void *arg;
};

/* Wraps an open handle. 'size' is the file size at open (READAHEAD_UNKNOWN_SIZE
 * when unknown); it seeds O_APPEND and bounds read-ahead. flags are the
 * open(2) flags. hooks (copied; NULL: the handle dies with its link) say
 * how to reopen it. 0 or -ENOMEM. */
int io_file_new(struct fxc *c, const struct rfs_handle *h, int flags, uint64_t size,
		const struct io_hooks *hooks, struct io_file **out);

/* The open(2) flags the file was opened with. */
int io_file_flags(const struct io_file *f);

/* The file's attributes as the server gave them right after the open
 * (create's LSTAT): the reopen rule compares against them. */
void io_file_seen(struct io_file *f, const struct fxp_attr *a);

/* A request of the caller's own on a copy of f's handle (io_file_handle)
 * returned -ENOTCONN: reopens f (once for that generation, as above).
 * Returns 0 when the caller may send again with a fresh copy, or -EIO. */
int io_reopen(struct io_file *f, uint32_t gen);

/* A preloaded read-only file (see above): 'data' (len bytes, malloc'd,
 * may be NULL when len is 0) becomes the file's; hooks->reopen gives the
 * handle when one is needed (and again after a reconnection). 0 or
 * -ENOMEM (data is freed either way on failure). */
int io_file_new_preloaded(struct fxc *c, uint8_t *data, size_t len, const struct io_hooks *hooks,
			  struct io_file **out);

/* A create answered before its OPEN (-o exclusive, fs/asyncmeta.h): a
 * file with no handle yet, on 'chan' of c, empty. Writes are held, with
 * their data, in order (at most IO_HELD_LIMIT bytes, then the writer
 * waits for the handle; and within IO_WRITE_LIMIT) and so are FSETSTATs
 * (io_setattr_held); everything else that needs the handle (read, fstat,
 * fsync, a handle setattr, io_file_handle, release) waits for it.
 * io_file_opened gives the OPEN's outcome: on fxc's I/O thread, it sends
 * what is held on the handle in order before anything the file sends
 * later, or, on an error, makes the file dead with it (its held writes
 * fail, flush and close report it; -ENOTCONN becomes -EIO: the OPEN is
 * never sent again). */
#define IO_HELD_LIMIT (1u << 20)
int io_file_new_pending(struct fxc *c, int chan, int flags, const struct io_hooks *hooks,
			struct io_file **out);
void io_file_opened(struct io_file *f, int err, const struct rfs_handle *h);
/* True when f's OPEN failed (io_file_opened with an error). */
bool io_file_refused(struct io_file *f);
/* Waits until f is not pending; 0, or the OPEN's error. */
int io_wait_opened(struct io_file *f);
/* While f is pending: holds an FSETSTAT of 'a' behind its held writes
 * and returns 0. 1 when f is not pending (the caller goes the usual
 * way). Its error is kept as a write's (sticky, at flush and close). */
int io_setattr_held(struct io_file *f, const struct fxp_attr *a);

void io_file_get(struct io_file *f);
void io_file_put(struct io_file *f);

/* The engine and a copy of the file's current handle (for requests of the
 * caller's own on the same server process: copy-data, a second open). The
 * handle changes when the file is reopened after a reconnection. A
 * preloaded file's handle is valid only after io_fstat succeeded. */
struct fxc *io_file_fxc(const struct io_file *f);
void io_file_handle(struct io_file *f, struct rfs_handle *h);

/* Returns the bytes read (short only at end of file) or a negative errno. */
ssize_t io_read(struct io_file *f, char *buf, size_t size, uint64_t off);

/* Queues the write; returns size, or the handle's first write error, or a
 * negative errno when it could not be queued. */
ssize_t io_write(struct io_file *f, const char *buf, size_t size, uint64_t off);

/* True once: the file should now be opened on the other channels for
 * striped writes (see above). The caller opens them (it knows the path)
 * and hands the handles to io_add_stripes(). */
bool io_wants_stripes(struct io_file *f);
/* Adds write handles on other channels (copied); n may be 0. Handles of
 * another connection generation than the file's are closed instead. */
void io_add_stripes(struct io_file *f, const struct rfs_handle *h, int n);

/* Waits for the handle's writes; returns their first error or 0. */
int io_flush(struct io_file *f);

/* io_flush for the last close: writes that cannot be sent again now (the
 * link is still down) are given up, and io_hooks.lost says so while the
 * caller still has the file registered under its path. */
int io_flush_last(struct io_file *f);

/* io_flush, and when the handle was written since its last FSTAT, an
 * FSTAT sent before waiting (it travels behind the WRITEs, so it costs no
 * extra round trip): *a gets the attributes after the writes (a->flags 0
 * when not fetched). */
int io_flush_stat(struct io_file *f, struct fxp_attr *a);

/* io_flush, then fsync@openssh.com when the server has it. */
int io_fsync(struct io_file *f);

/* FSTAT on the handle (ordered after its writes). */
int io_fstat(struct io_file *f, struct fxp_attr *a);

/* FSETSTAT on the handle (ordered after its writes) with an FSTAT right
 * behind it: one round trip, and *got holds the attributes afterwards
 * (got->flags 0 when the FSTAT failed). A size change also resets
 * read-ahead and the O_APPEND offset. Returns the FSETSTAT's result. */
int io_setattr_stat(struct io_file *f, const struct fxp_attr *a, struct fxp_attr *got);

/* Bytes of writes the program was told succeeded that the server has not
 * acknowledged yet (status output). Does not wait for the link. */
uint64_t io_file_queued(struct io_file *f);

/* Whether a write (or truncate, or copy) went through the handle. */
bool io_file_wrote(struct io_file *f);

/* The file's end as the handle knows it: the size at open grown by its
 * writes and set by its truncates; READAHEAD_UNKNOWN_SIZE when unknown. */
uint64_t io_file_end(struct io_file *f);

/* The file changed through another handle: drops the handle's read-ahead
 * and, for O_APPEND, the end-of-file offset it knew. */
void io_drop_readahead(struct io_file *f);

/* True when an O_APPEND handle must learn the size before its next write. */
bool io_append_stale(struct io_file *f);

/* FSTAT (after the handle's own writes) to set the O_APPEND offset; the
 * caller first waits for other handles' writes it must see. */
int io_append_sync(struct io_file *f);

/* The server changed [off, off+len) behind the handle's back (copy-data
 * into it): drops read-ahead and counts as a write. */
void io_note_write(struct io_file *f, uint64_t off, uint64_t len);

/* Drains writes (after a reconnection: replays them, or gives them up
 * when the file cannot be reopened now), closes the remote handle
 * asynchronously and drops the caller's reference. Returns the handle's
 * sticky write error (the kernel ignores it; callers may log it). */
int io_release(struct io_file *f);


#endif
