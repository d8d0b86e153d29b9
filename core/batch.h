/* batch: a few requests sent back to back on one channel and waited for
 * together. The server runs one channel's requests in order, so a request
 * and the STAT that must see its result cost one round trip, not two
 * (sshfs pipelines OPEN and LSTAT the same way), and the folder check asks
 * its three questions in one.
 *
 * For core/ and checks/: fs/ asks rfs.h for the compound operations built
 * on this, never for packets.
 *
 * Replies are decoded by rfs's rule: a malformed reply (or one of the
 * wrong type) kills the connection and is -EIO (rfs.h).
 *
 * Thread: any thread but fxc's I/O thread (batch_run and batch_wait block
 * until every reply is in; fxc's deadlines bound the wait). Errors: 0 or a
 * negative errno; per-request results are in the slots.
 */
#ifndef SSHMOUNTFS_CORE_BATCH_H
#define SSHMOUNTFS_CORE_BATCH_H

#include <pthread.h>
#include <stdbool.h>

#include "fxc.h"
#include "fxp.h"
#include "rfs.h"

#define BATCH_MAX 4

struct batch;

struct batch_arg {
	struct batch *b;
	int i;
};

struct batch {
	struct fxc *c;		/* set by batch_start / batch_send */
	uint32_t gen;		/* requests on a handle: its generation (fxc_submit_on) */
	unsigned first_flags;	/* FXC_ONCE when the first request is not safe twice */
	int n;
	struct wire_buf pkt[BATCH_MAX];
	struct fxc_result res[BATCH_MAX];	/* filled by batch_run / batch_wait */
	struct batch_arg arg[BATCH_MAX];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int left;
	bool started;
};

/* Starts an empty batch. */
void batch_init(struct batch *b);
/* The buffer for the next request (encode into it with fxp_enc_*). NULL
 * when full. */
struct wire_buf *batch_next(struct batch *b);
/* Sends all on 'chan' (with b->gen and b->first_flags, see fxc_submit_on)
 * and waits for every reply. 0, or -EIO (-ENOTCONN for a gone generation)
 * when nothing could be sent (the results then say so too). */
int batch_run(struct fxc *c, int chan, struct batch *b);
/* The two halves of batch_run, to do other work while the replies travel. */
int batch_start(struct fxc *c, int chan, struct batch *b);
void batch_wait(struct batch *b);
/* Sends all on 'chan' and does not wait: the replies are dropped (a
 * clean-up whose outcome nobody needs). 0, or -EIO when nothing could be
 * sent. */
int batch_send(struct fxc *c, int chan, struct batch *b);
/* Waits for what was started and frees the results (always call it). */
void batch_free(struct batch *b);

/* Decoders for the usual replies of slot i. */
int batch_status(const struct batch *b, int i);
int batch_handle(const struct batch *b, int i, int chan, struct rfs_handle *h);
int batch_attrs(const struct batch *b, int i, struct fxp_attr *a);

#endif
