/* fxc: the asynchronous SFTP v3 client engine.
 *
 * One struct fxc serves one transport: an SSH connection with N SFTP
 * channels, or one byte-stream pair of fds (a local sftp-server, an
 * ssh_command=, a directport= socket, a test's hostile server). A single
 * I/O thread per fxc alone touches libssh and the fds: it polls the socket,
 * an eventfd for submissions and a timerfd for deadlines and keepalive,
 * writes queued packets without blocking (keeping partial writes), reads
 * and frames replies, and completes requests by id in any order.
 *
 * Any thread may submit. Every request gets a deadline; when it passes the
 * request completes with -ETIMEDOUT. When the transport dies (read/write
 * error, EOF, protocol violation, keepalive unanswered) every pending and
 * every later request completes with -EIO at once; nothing waits forever.
 *
 * Protocol violations (unknown id, bad length, malformed reply) kill the
 * connection, never the process.
 *
 * Flow control: each channel has a budget of reply bytes in flight
 * (inflight_bytes): a READ counts its length, a READDIR 32 KiB, anything
 * else 512 bytes. Requests past the budget wait in the channel's queue;
 * one channel sends in submission order, so the server sees the requests
 * on one handle in the order they were submitted.
 */
#ifndef SSHMOUNTFS_FXC_H
#define SSHMOUNTFS_FXC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fxp.h"
#include "wire.h"

struct sshc;
struct fxc;
struct fxc_transport;

/* Extensions announced by the server in VERSION (name and version match). */
enum fxc_ext {
	FXC_EXT_POSIX_RENAME = 1u << 0,	/* posix-rename@openssh.com "1" */
	FXC_EXT_STATVFS = 1u << 1,	/* statvfs@openssh.com "2" */
	FXC_EXT_FSTATVFS = 1u << 2,	/* fstatvfs@openssh.com "2" */
	FXC_EXT_HARDLINK = 1u << 3,	/* hardlink@openssh.com "1" */
	FXC_EXT_FSYNC = 1u << 4,	/* fsync@openssh.com "1" */
	FXC_EXT_LSETSTAT = 1u << 5,	/* lsetstat@openssh.com "1" */
	FXC_EXT_LIMITS = 1u << 6,	/* limits@openssh.com "1" */
	FXC_EXT_EXPAND_PATH = 1u << 7,	/* expand-path@openssh.com "1" */
	FXC_EXT_HOME_DIR = 1u << 8,	/* home-directory "1" */
	FXC_EXT_COPY_DATA = 1u << 9,	/* copy-data "1" */
	FXC_EXT_USERS_GROUPS = 1u << 10, /* users-groups-by-id@openssh.com "1" */
};

/* Makes a new transport for a connection whose link died (reconnection).
 * Runs on fxc's reconnect thread, never on the I/O thread; may block, each
 * call bounded by its own connect and login timeouts. Never prompts.
 * Returns 0 with *out set (fxc then sends INIT and takes it), or a negative
 * errno with err filled, for people:
 *   -EKEYREJECTED  the server's host key is not the one verified at mount
 *                  time: reconnection stops for good (FXC_LINK_FAILED);
 *   -EACCES        the login was refused: after reconnect_max_logins of
 *                  these in a row reconnection stops for good;
 *   anything else  transient (host unreachable, refused, timed out): tried
 *                  again with backoff. */
typedef int fxc_redial_fn(void *arg, struct fxc_transport **out, char *err, size_t errlen);

struct fxc_config {
	unsigned request_timeout_ms;	/* per-request deadline; 0 = 30000 */
	unsigned keepalive_ms;		/* probe after this long without input (over SSH
					 * sshd is asked, not the SFTP server); 0 = 15000 */
	unsigned keepalive_count_max;	/* dead after this many such intervals with
					 * requests outstanding and no byte received; 0 = 3 */
	uint32_t max_read, max_write;	/* caps on top of the server's limits; 0 = none */
	unsigned inflight_bytes;	/* per-channel budget of outstanding read bytes; 0 = 8 MiB */

	/* Reconnection (see "reconnection" below). redial NULL: a dead link
	 * stays dead and everything fails with -EIO, as without reconnect. */
	fxc_redial_fn *redial;
	void *redial_arg;		/* passed to redial; owned by the caller, must
					 * outlive the fxc and any redial still
					 * running when fxc_free() returned (it waits
					 * for one at most about 2 s) */
	unsigned reconnect_timeout_ms;	/* how long requests wait for the link to
					 * come back; 0 = they fail with -EIO at once
					 * (reconnection still goes on behind them) */
	unsigned reconnect_max_logins;	/* refused logins in a row before giving
					 * up; 0 = 3 */
};

/* ---- transports: each constructor returns a transport for fxc_start() ---- */

/* SFTP over 'nchannels' channels (1..8) of an authenticated connection,
 * opened here (blocking). Each channel runs the "sftp" subsystem, or
 * 'server_cmd' through exec (for sftp_server=/path and nice/ionice/nocache).
 * When the server refuses some channels (MaxSessions) the ones opened are
 * used and a warning is logged; when it refuses the first, err says why.
 * Takes ownership of conn on success and on failure. */
int fxc_transport_ssh(struct sshc *conn, int nchannels, const char *server_cmd,
		      struct fxc_transport **out, char *err, size_t errlen);

/* SFTP over a pair of fds (may be the same socket), switched to
 * O_NONBLOCK. 'child', when > 0, is a process reaped by fxc_free() (after
 * closing the fds; SIGTERM after 1 s, SIGKILL after 2 s). Takes ownership
 * of the fds (and the child) on success and on failure. */
int fxc_transport_fds(int rfd, int wfd, pid_t child, struct fxc_transport **out);

/* Runs 'argv' (posix_spawnp: PATH search, no shell) with pipes on
 * stdin/stdout; stderr is inherited, other fds are not. Used for
 * ssh_command= and local sftp-server processes. -ENOENT/-EACCES when the
 * program cannot be run, with err naming it. */
int fxc_transport_cmd(char *const argv[], struct fxc_transport **out,
		      char *err, size_t errlen);

/* ---- lifetime ---- */

/* Sends INIT on every channel, reads VERSION (protocol 3 required), queries
 * limits@openssh.com when announced, then starts the I/O thread. Must be
 * called after any fork() (threads do not survive it). Takes ownership of
 * t on success and on failure. On failure err says what happened (e.g. the
 * remote shell printing text before the SFTP server starts: -EPROTO).
 * Setup is bounded by request_timeout_ms. Sets SIGPIPE to SIG_IGN when it
 * is SIG_DFL: writes to a dead pipe must fail with EPIPE, not kill us. */
int fxc_start(struct fxc_transport *t, const struct fxc_config *cfg,
	      struct fxc **out, char *err, size_t errlen);

/* Fails everything pending with -EIO (their done() runs on the I/O thread
 * before it exits), stops the I/O thread, closes the channels, frees the
 * sshc, reaps the child. NULL-safe. Must not be called from a completion
 * callback (it joins the I/O thread), nor while another thread may still
 * call into c. */
void fxc_free(struct fxc *c);

/* Makes the connection fail now, as if the link had died (tests, SIGTERM):
 * fxc_alive() is false and fxc_submit() fails on return; pending requests
 * complete with -EIO on the I/O thread right after. With cfg.redial it is a
 * lost link instead ("reconnection" below): handle requests get -ENOTCONN
 * from the return on, the rest wait for the new link. Any thread, and from
 * a completion callback. */
void fxc_kill(struct fxc *c);

/* ---- what the server offers ---- */
unsigned fxc_extensions(const struct fxc *c);	/* enum fxc_ext bits */
bool fxc_has(const struct fxc *c, enum fxc_ext e);
uint32_t fxc_max_read(const struct fxc *c);	/* READ length to request */
uint32_t fxc_max_write(const struct fxc *c);	/* WRITE data length per packet */
int fxc_nchannels(const struct fxc *c);
bool fxc_alive(const struct fxc *c);		/* false once the link died */

/* The channel with the fewest bytes queued and in flight right now (a hint:
 * it is what chan -1 would pick). For choosing where to open a file. */
int fxc_least_loaded(struct fxc *c);

/* ---- requests ---- */

/* Called exactly once per submitted request, on the I/O thread. 'err' is 0
 * when a reply arrived (then *reply is valid only during the call; its type
 * is whatever the server sent), or -ETIMEDOUT / -EIO (or, when memory runs
 * out, -ENOMEM) with reply NULL. Must not block, must not call fxc_free()
 * or fxc_call(); may call fxc_submit(). */
typedef void fxc_done_fn(void *arg, int err, const struct fxp_reply *reply);

/* Queues one request. 'pkt' holds exactly one packet built by an fxp_enc_*
 * function; fxc takes its storage (leaves *pkt empty) and assigns the id.
 * 'chan' picks the channel (0..n-1), or -1 for the least loaded one. Returns
 * 0 (done will be called), or, with done not called and *pkt untouched (the
 * caller still frees it): -EIO when the connection is already dead, -EINVAL
 * for a bad channel, a NULL done or a buffer that is not exactly one
 * request packet of at most FXP_MAX_OUT_PACKET bytes, -ENOMEM. Any thread.
 * The deadline starts now, also for a request that waits for budget. */
int fxc_submit(struct fxc *c, int chan, struct wire_buf *pkt,
	       fxc_done_fn *done, void *arg);

/* ---- reconnection ----
 *
 * With cfg.redial set, a link that dies (EOF, reset, write error, keepalive
 * unanswered, protocol violation, fxc_kill) is not the end: one reconnect
 * thread per fxc calls redial at once, then with exponential backoff
 * (0.5 s doubling to a 10 s cap), never holding c->lock while it waits, and
 * swaps the new transport in: INIT/VERSION again, the same channel count or
 * fewer (requests for a channel that is gone go to another one), and the
 * generation (fxc_generation) grows by one. The server must offer at least
 * the extensions and read/write sizes in use; if it offers less, that
 * counts as a permanent failure (FXC_LINK_FAILED, logged).
 *
 * What happens to requests when the link dies:
 *   - a request tied to a generation (fxc_submit_on with gen != 0: one that
 *     carries a handle, which means nothing to another server process)
 *     completes with -ENOTCONN as soon as that generation is gone, whether
 *     it was sent or not, and at once when submitted after that: the
 *     caller reopens the file and sends again;
 *   - any other request not yet fully written is kept and sent on the new
 *     link;
 *   - any other request fully written but unanswered is sent again on the
 *     new link, unless it was submitted with FXC_ONCE (not safe to apply
 *     twice: REMOVE, RMDIR, MKDIR, RENAME, SYMLINK, LINK, OPEN with EXCL):
 *     that one completes with -ECONNABORTED once the new link is up (the
 *     caller finds out from the server's state what happened);
 *   - while the link is down, new requests wait. A request's deadline does
 *     not run while it waits for the link; it starts again when the request
 *     is sent. When the outage has lasted reconnect_timeout_ms, everything
 *     waiting completes with -EIO and new requests fail with -EIO at once
 *     (fxc_submit returns it) until the link is back (FXC_LINK_DOWN);
 *     reconnection goes on at the backoff cap behind them.
 *   - stopped for good (FXC_LINK_FAILED), or without redial: everything
 *     pending and later completes with -EIO.
 * fxc_alive() is false only in FXC_LINK_FAILED (and without redial, once
 * the link died). Each reconnection is logged once (log_info: the cause and
 * the downtime); each failed attempt at debug level; giving up at error.
 * fxc_free() during an outage returns promptly (within about 2 s even when
 * a redial is blocked in connect or login).
 */

/* The end of the mount (SIGTERM, unmount) during an outage: stops waiting
 * for the link. When it is down now, or goes down later, reconnection
 * stops for good (FXC_LINK_FAILED): what waits for it and what comes fails
 * with -EIO at once, and a redial still under way is discarded. A link
 * that is up stays up (writes can still be flushed). Any thread. */
void fxc_stop_waiting(struct fxc *c);

/* Requests submitted with this flag are not sent twice (see above). */
#define FXC_ONCE 1u

/* As fxc_submit, with 'gen' (0 = any generation; otherwise the generation
 * the request's handle belongs to: -ENOTCONN, done not called, when that
 * generation is already gone) and 'flags' (FXC_ONCE or 0). */
int fxc_submit_on(struct fxc *c, int chan, uint32_t gen, unsigned flags, struct wire_buf *pkt,
		  fxc_done_fn *done, void *arg);

/* The current connection generation: 1 for the first link, +1 for each
 * reconnection. Any thread. Inside a done() callback it is the generation
 * the reply came on. */
uint32_t fxc_generation(const struct fxc *c);

enum fxc_link {
	FXC_LINK_UP = 0,	/* connected */
	FXC_LINK_RECONNECTING,	/* lost; requests wait (reconnect_timeout) */
	FXC_LINK_DOWN,		/* lost longer than reconnect_timeout: requests fail,
				 * reconnection goes on */
	FXC_LINK_FAILED,	/* given up for good (host key, logins, no redial) */
};

/* A copy of a reply, for blocking calls. */
struct fxc_result {
	int err;		/* 0, -ETIMEDOUT, -EIO, -ENOTCONN or -ECONNABORTED */
	uint32_t gen;		/* the generation the reply came on (when err is 0) */
	struct fxp_reply reply;	/* views into buf */
	uint8_t *buf;
};

/* As fxc_call, with fxc_submit_on's 'gen' and 'flags'. */
int fxc_call_on(struct fxc *c, int chan, uint32_t gen, unsigned flags, struct wire_buf *pkt,
		struct fxc_result *res);

/* Submits and waits for the reply (any thread except the I/O thread, where
 * it returns -EDEADLK). Returns res->err (0, or as fxc_submit() and done()
 * above); when 0, res->reply is a copy valid until fxc_result_free(). Many
 * threads may wait at once. Never waits forever: every request completes
 * by its deadline or when the link dies. */
int fxc_call(struct fxc *c, int chan, struct wire_buf *pkt, struct fxc_result *res);
void fxc_result_free(struct fxc_result *res);

/* Fills *res from a completion (err, reply) by copying the reply, as
 * fxc_call() does: for callers that gather several replies themselves.
 * res->err becomes err, or -ENOMEM when the copy fails. Callable from a
 * completion callback; free with fxc_result_free(). */
void fxc_result_keep(struct fxc_result *res, int err, const struct fxp_reply *reply);

/* Counters for -d and the benchmarks (keepalive probes included). Bytes are
 * SFTP packet bytes. Any thread; the values are read without a lock. */
struct fxc_stats {
	uint64_t requests, replies, bytes_out, bytes_in;
	unsigned inflight;	/* submitted and not completed */
	/* The link, for status output (read under c->lock). */
	enum fxc_link link;
	int64_t link_since;	/* time(2) of the last change of 'link' */
	unsigned reconnects;	/* successful reconnections */
	uint32_t generation;
	uint64_t rtt_us;	/* smoothed round trip of small requests; 0 = none yet */
	char last_error[160];	/* why the link was last lost or a redial failed; "" */
};
void fxc_get_stats(struct fxc *c, struct fxc_stats *st);

#endif
