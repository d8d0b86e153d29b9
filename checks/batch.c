/* batch: see batch.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t pending;
};

struct slot {
	struct waiter *w;
	struct fxc_result *res;
};

void
chk_batch_init(struct chk_batch *b)
{
	memset(b, 0, sizeof(*b));
}

struct wire_buf *
chk_batch_next(struct chk_batch *b)
{
	if (b->n >= CHK_BATCH_MAX)
		return NULL;
	wire_buf_init(&b->pkt[b->n], FXP_MAX_OUT_PACKET);
	return &b->pkt[b->n++];
}

/* Runs on the I/O thread: copies the reply, which is a view valid only
 * during this call. */
static void
done(void *arg, int err, const struct fxp_reply *reply)
{
	struct slot *s = arg;

	s->res->err = err;
	if (err == 0) {
		s->res->buf = malloc(reply->len ? reply->len : 1);
		if (s->res->buf) {
			memcpy(s->res->buf, reply->body, reply->len);
			s->res->reply = *reply;
			s->res->reply.body = s->res->buf;
		} else {
			s->res->err = -ENOMEM;
		}
	}
	pthread_mutex_lock(&s->w->mu);
	if (--s->w->pending == 0)
		pthread_cond_signal(&s->w->cv);
	pthread_mutex_unlock(&s->w->mu);
}

int
chk_batch_run(struct fxc *c, int chan, struct chk_batch *b)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, b->n };
	struct slot slots[CHK_BATCH_MAX];
	size_t sent = 0;

	/* 'pending' counts every packet up front, so a reply that arrives
	 * while later packets are still being queued cannot end the wait. */
	for (size_t i = 0; i < b->n; i++) {
		slots[i].w = &w;
		slots[i].res = &b->res[i];
		b->res[i].err = -EIO;
		if (fxc_submit(c, chan, &b->pkt[i], done, &slots[i]) == 0) {
			sent++;
			continue;
		}
		pthread_mutex_lock(&w.mu);
		w.pending--;
		pthread_mutex_unlock(&w.mu);
	}
	pthread_mutex_lock(&w.mu);
	while (w.pending > 0)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	return sent ? 0 : -EIO;
}

void
chk_batch_free(struct chk_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		wire_buf_free(&b->pkt[i]);
		free(b->res[i].buf);
		b->res[i].buf = NULL;
	}
	b->n = 0;
}
