/* batch: see batch.h. */
#include "batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rfs_int.h"

void
batch_init(struct batch *b)
{
	int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < BATCH_MAX; i++)
		wire_buf_init(&b->pkt[i], FXP_MAX_OUT_PACKET);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
}

struct wire_buf *
batch_next(struct batch *b)
{
	return b->n < BATCH_MAX ? &b->pkt[b->n++] : NULL;
}

static void
batch_done(void *arg, int err, const struct fxp_reply *reply)
{
	struct batch_arg *a = arg;
	struct batch *b = a->b;
	struct fxc_result *res = &b->res[a->i];

	fxc_result_keep(res, err, reply);
	res->gen = fxc_generation(b->c);
	pthread_mutex_lock(&b->mu);
	b->left--;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

int
batch_start(struct fxc *c, int chan, struct batch *b)
{
	int i, sent = 0, first = -EIO;

	b->c = c;
	b->started = true;
	for (i = 0; i < b->n; i++) {
		int r;

		b->arg[i].b = b;
		b->arg[i].i = i;
		pthread_mutex_lock(&b->mu);
		b->left++;
		pthread_mutex_unlock(&b->mu);
		r = fxc_submit_on(c, chan, b->gen, i == 0 ? b->first_flags : 0, &b->pkt[i],
				  batch_done, &b->arg[i]);
		if (r < 0) {
			b->res[i].err = r == -ENOTCONN ? r : -EIO;
			if (sent == 0 && first == -EIO)
				first = b->res[i].err;
			pthread_mutex_lock(&b->mu);
			b->left--;
			pthread_mutex_unlock(&b->mu);
			continue;
		}
		sent++;
	}
	return sent ? 0 : first;
}

void
batch_wait(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->left > 0)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

int
batch_run(struct fxc *c, int chan, struct batch *b)
{
	int r = batch_start(c, chan, b);

	batch_wait(b);
	return r;
}

static void
batch_dropped(void *arg, int err, const struct fxp_reply *reply)
{
	(void)arg;
	(void)err;
	(void)reply;
}

int
batch_send(struct fxc *c, int chan, struct batch *b)
{
	int i, sent = 0;

	b->c = c;
	for (i = 0; i < b->n; i++)
		if (fxc_submit_on(c, chan, b->gen, 0, &b->pkt[i], batch_dropped, NULL) == 0)
			sent++;
	return sent ? 0 : -EIO;
}

void
batch_free(struct batch *b)
{
	int i;

	batch_wait(b);
	for (i = 0; i < BATCH_MAX; i++) {
		wire_buf_free(&b->pkt[i]);
		free(b->res[i].buf);
		b->res[i].buf = NULL;
	}
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

/* A decoder's verdict on slot i, by rfs's rule. */
static int
batch_check(const struct batch *b, int i, int r)
{
	if (r == -EBADMSG || r == -EPROTO)
		return rfs_violation(b->c, r, &b->res[i].reply);
	return r;
}

int
batch_status(const struct batch *b, int i)
{
	if (b->res[i].err < 0)
		return b->res[i].err;
	return batch_check(b, i, fxp_reply_errno(&b->res[i].reply, FXP_STATUS));
}

int
batch_handle(const struct batch *b, int i, int chan, struct rfs_handle *h)
{
	const uint8_t *p;
	uint32_t len;
	int r;

	if (b->res[i].err < 0)
		return b->res[i].err;
	if ((r = batch_check(b, i, fxp_reply_errno(&b->res[i].reply, FXP_HANDLE))) < 0 ||
	    (r = batch_check(b, i, fxp_dec_handle(&b->res[i].reply, &p, &len))) < 0)
		return r;
	h->chan = chan;
	h->gen = b->res[i].gen;
	h->len = len;
	memcpy(h->data, p, len);
	return 0;
}

int
batch_attrs(const struct batch *b, int i, struct fxp_attr *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	if (b->res[i].err < 0)
		return b->res[i].err;
	if ((r = batch_check(b, i, fxp_reply_errno(&b->res[i].reply, FXP_ATTRS))) < 0)
		return r;
	return batch_check(b, i, fxp_dec_attrs(&b->res[i].reply, a));
}

