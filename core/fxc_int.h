/* fxc_int.h: internals shared by fxc.c (API, setup), fxc_io.c (the I/O
 * thread) and fxc_xport.c (transports). Not a contract for anyone else.
 *
 * Where a request lives:
 *   submitted   c->sq (submit queue, protected by c->lock), no id yet
 *   WAITING     its channel's waitq: over the in-flight budget, no id yet
 *   TX          its channel's txq with an id in the table, maybe partly
 *               written (r->sent bytes)
 *   SENT        only in the table, waiting for the reply
 *   expired     (a flag on TX or SENT) its deadline passed and done() was
 *               called, but the server may still answer: it stays in the
 *               table (a tombstone) so the late reply is consumed silently,
 *               then it is freed
 * Every request that has not completed is also on c->dl, in submission
 * order, which is deadline order because every request gets the same
 * timeout.
 */
#ifndef SSHMOUNTFS_CORE_FXC_INT_H
#define SSHMOUNTFS_CORE_FXC_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <libssh/libssh.h>
#include <libssh/callbacks.h>

#include "fxc.h"

/* sshd allows 10 sessions per connection (MaxSessions); keep room for the
 * checks' exec channels. */
#define FXC_MAX_CHANNELS 8

/* On libssh 0.10.x a read with a large count sets the channel's receive
 * window to that count; 8 MiB was measured to fill a
 * 20 ms link. The rx buffer holds that plus one partial packet. */
#define FXC_SSH_WINDOW (8u * 1024 * 1024)
#define FXC_SSH_RXCAP (FXC_SSH_WINDOW + FXP_MAX_PACKET)
/* fd transports read in large gulps; pipes hold 64 KiB anyway. */
#define FXC_FD_RXCAP (1024u * 1024 + FXP_MAX_PACKET)

/* Reply bytes counted in the budget for requests other than READ (which
 * count their length): a READDIR answer holds up to 100 entries (OpenSSH),
 * the others are small. */
#define FXC_COST_SMALL 512u
#define FXC_COST_READDIR (32u * 1024)

enum fxc_state { FXC_WAITING = 1, FXC_TX, FXC_SENT };

struct fxc_req {
	TAILQ_ENTRY(fxc_req) q;		/* channel waitq or txq */
	TAILQ_ENTRY(fxc_req) d;		/* c->dl */
	struct fxc_req *snext;		/* submit queue */
	struct wire_buf pkt;		/* freed once fully written */
	size_t sent;			/* bytes of pkt written */
	uint64_t deadline;		/* monotonic us */
	uint64_t t_sent;		/* when fully written, for RTT logs */
	fxc_done_fn *done;
	void *arg;
	uint32_t id;
	uint32_t cost;			/* reply bytes counted in the budget */
	int chan;			/* -1 until routed */
	int want_chan;			/* as submitted, for a resend after a reconnect */
	uint32_t gen;			/* fxc_submit_on's generation, 0 = any */
	uint8_t type;
	uint8_t state;			/* enum fxc_state */
	uint8_t flags;			/* FXC_ONCE */
	bool expired;
	bool keep;			/* keep pkt once written: may be sent again */
};

TAILQ_HEAD(fxc_reqq, fxc_req);

/* Pending requests by id: open addressing on id & mask. Ids are handed out
 * so that no two live ones share a slot, which makes lookup one probe and
 * the full 32-bit id the generation check. */
struct fxc_tbl {
	struct fxc_req **slot;
	uint32_t mask;
	uint32_t used;
	uint32_t next_id;
};

struct fxc_chan {
	int idx;
	ssh_channel ch;			/* NULL on the fd transport */
	struct ssh_channel_callbacks_struct cb;	/* stderr only */
	uint8_t *rx;
	size_t rx_len, rx_cap;
	struct fxc_reqq waitq, txq;
	uint64_t inflight;		/* cost of requests with an id */
	uint64_t waiting;		/* cost of waitq */
	uint64_t unsent;		/* bytes of txq not written yet */
	unsigned ext;			/* from this channel's VERSION */
	uint64_t win_count;		/* count of the last window-growing read */
	uint64_t win_read;		/* bytes read since then */
	uint64_t load_pub;		/* chan_load() for other threads; atomic */
	uint64_t stderr_bytes;		/* what the server wrote to stderr */
	bool has_data;			/* libssh buffered stdout data for it
					 * (its data callback, I/O thread) */
};

struct fxc_transport {
	struct sshc *conn;		/* NULL for fds */
	ssh_channel ch[FXC_MAX_CHANNELS];
	int nch;
	int rfd, wfd;
	pid_t child;
};

struct fxc {
	/* set up before the I/O thread starts, read-only afterwards */
	struct fxc_config cfg;
	struct fxc_transport xp;
	ssh_session sess;		/* NULL on the fd transport */
	int nch;
	struct fxc_chan chan[FXC_MAX_CHANNELS];
	int xnch;			/* I/O thread: channels of the current link
					 * (<= nch after a reconnect) */
	unsigned ext;
	uint32_t max_read, max_write;
	int efd, tfd;
	pthread_t thread;
	bool thread_started;
	unsigned long io_self;		/* pthread_self() of the I/O thread; atomic */

	/* Lock order: c->lock is a leaf; never held while calling done(). */
	pthread_mutex_t lock;
	struct fxc_req *sq_head;	/* protected by lock */
	struct fxc_req **sq_tail;	/* protected by lock */
	bool dead;			/* protected by lock; atomic reads */
	bool stop, kill;		/* atomic */

	/* I/O thread only */
	struct fxc_tbl tbl;
	struct fxc_reqq dl;
	bool io_dead;			/* everything has been failed */
	bool again;			/* skip the next poll's sleep */
	bool rx_ready;			/* fd transport: poll saw input */
	bool wr_hup;			/* fd transport: the write side broke */
	bool fast_timer;
	bool probe_out;
	uint64_t last_rx, busy_since, last_probe;	/* monotonic us */
	int ack_fd;			/* the TCP socket under the transport, or -1 */
	uint64_t rx_count;		/* transport bytes in (fd transports) */
	uint64_t rx_at_tx;		/* in-byte count when we last sent */
	uint64_t rx_acked;		/* in-byte count when an ACK was pushed */
	struct ssh_counter_struct sock_ctr, pkt_ctr;	/* libssh fills these */
	uint64_t seen_sock_in;

	/* Reconnection. The reconnect thread (fxc.c) dials and does the
	 * handshake on a scratch fxc, then hands it over in swap_in; only the
	 * I/O thread swaps it in. Protected by lock unless said otherwise. */
	pthread_t rthread;
	bool rthread_started;
	pthread_cond_t rcond;		/* reconnect thread's wake-up, with lock */
	bool want_redial;		/* the link died: old_xp is to be closed */
	struct fxc_transport old_xp;
	struct fxc *swap_in;		/* a ready link for the I/O thread */
	bool give_up;			/* the reconnect thread stopped for good */
	bool quit;			/* fxc_stop_waiting(); atomic reads */
	bool rec_done, orphan;		/* reconnect thread exited / fxc_free left it */
	enum fxc_link link;
	int64_t link_since;
	unsigned reconnects;
	char last_error[160];
	uint32_t gen;			/* written under lock; atomic reads */
	uint64_t rtt_us;		/* atomic */
	/* I/O thread only */
	bool down;			/* no transport: between a loss and a swap */
	bool held_fail;			/* down past reconnect_timeout (FXC_LINK_DOWN) */
	uint64_t lost_at;		/* monotonic us */
	char lost_why[160];
	struct fxc_reqq held;		/* waiting for the link, in submission order */
	struct fxc_reqq aborted;	/* FXC_ONCE requests lost after sending */
	uint64_t rtt_t0;		/* a small request in flight being timed */
	uint32_t rtt_id;

	/* counters, atomic */
	uint64_t st_requests, st_replies, st_bytes_out, st_bytes_in;
	unsigned st_live;
};

/* fxc_io.c */
void *fxc_io_main(void *arg);
/* Puts the transport of c->xp into service (nonblocking, counters, ACK
 * socket); before the I/O thread starts and on it after a swap. */
void fxc_link_prepare(struct fxc *c);
/* fxc.c: frees a scratch fxc of the reconnect thread (or c itself). */
void fxc_destroy(struct fxc *c);
uint64_t fxc_now_us(void);
int fxc_timer_arm(struct fxc *c, bool fast);
void fxc_req_free(struct fxc_req *r);

/* fxc_xport.c: blocking setup I/O and teardown */
int fxc_xp_send(struct fxc *c, struct fxc_chan *ch, const uint8_t *p, size_t len,
		uint64_t deadline, char *err, size_t errlen);
int fxc_xp_recv(struct fxc *c, struct fxc_chan *ch, uint64_t deadline,
		char *err, size_t errlen);
void fxc_xp_close(struct fxc_transport *xp);
void fxc_xp_set_stderr_cb(struct fxc_chan *ch);

#endif
