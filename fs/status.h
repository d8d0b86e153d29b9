/* status: the mount's state for `sshmountfs-tool status`, served on the
 * status socket (core/statsock.h says where and how) by a thread of its
 * own, started once the mount answers and stopped before teardown.
 *
 * Answering never touches the mount or waits for the link: it reads the
 * engines' counters (fxc_get_stats), the cache's atomics and the open-file
 * table, so it answers at once during an outage, when a stat() of the
 * mount point would wait. Only the uid the daemon runs as and root are
 * answered (SO_PEERCRED); others get "refused".
 *
 * The snapshot (struct status_info) and its two renderings are separate
 * from the socket so they can be tested without a mount.
 *
 * Thread: status_start/status_stop from main()'s thread; the server thread
 * reads fs_ctx's engines and tables, which outlive it.
 */
#ifndef SSHMOUNTFS_FS_STATUS_H
#define SSHMOUNTFS_FS_STATUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "fsctx.h"
#include "fxc.h"
#include "opts.h"

/* Everything a status reply says, taken at one moment. */
struct status_info {
	const char *remote;		/* user@host:path */
	int64_t now, started;		/* time(2) */
	int nconn;
	struct fxc_stats conn[FS_MAX_CONNS];
	unsigned open_files;
	uint64_t queued_write_bytes;
	struct cache_stats cache;
	bool cache_on, exclusive;
	bool reconnect;
	unsigned reconnect_timeout;	/* seconds */
	/* -o exclusive's queue (asyncmeta_status): operations answered at
	 * once and sent, not answered yet, refused by the server. */
	uint64_t queued_ops, refused_ops;
	unsigned pending_ops;
};

/* The mount's state: the worst of its engines' (the one whose state is
 * reported, with its 'since' and last error), as an index into conn[];
 * -1 without engines. */
int status_worst(const struct status_info *in);

/* "connected", "reconnecting", "down", "failed". */
const char *status_link_name(enum fxc_link l);

/* Renders 'in' as one JSON object (and a newline) / as text for people
 * into buf. Returns the length, or -ENOSPC when buf is too small. */
int status_json(const struct status_info *in, char *buf, size_t len);
int status_text(const struct status_info *in, char *buf, size_t len);

struct status {
	int fd, stop[2];
	pthread_t thread;
	bool started;
	struct fs_ctx *c;
	const struct opts *o;
	char *remote;
	int64_t since;
};

/* Finds the mount at o->mountpoint in /proc/self/mountinfo, listens on its
 * status socket and starts the server thread. 0, or a negative errno
 * (-ENOENT: not in the table, e.g. a /dev/fd/N mount point; -EADDRINUSE:
 * another process holds the name); the mount works without it. */
int status_start(struct status *s, struct fs_ctx *c, const struct opts *o);

/* Stops the thread and closes the socket. Safe when status_start failed
 * or was never called (s zeroed). */
void status_stop(struct status *s);

#endif
