/* writeback: see writeback.h. */
#include "writeback.h"

#include <errno.h>

#define WRITEBACK_DEFAULT_LIMIT (8u << 20)

void
writeback_init(struct writeback *w, uint64_t limit)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->limit = limit ? limit : WRITEBACK_DEFAULT_LIMIT;
	w->bytes = 0;
	w->count = 0;
	w->err = 0;
	w->total = 0;
	w->draining = 0;
	w->lost = 0;
}

void
writeback_destroy(struct writeback *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

int
writeback_reserve(struct writeback *w, uint64_t len)
{
	int r;

	pthread_mutex_lock(&w->mu);
	while (w->err == 0 && w->lost == 0 &&
	       (w->draining || (w->count > 0 && w->bytes + len > w->limit)))
		pthread_cond_wait(&w->cv, &w->mu);
	r = w->err ? w->err : w->lost ? -ENOTCONN : 0;
	if (r == 0) {
		w->bytes += len;
		w->count++;
		w->total += len;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

void
writeback_done(struct writeback *w, uint64_t len, int err)
{
	pthread_mutex_lock(&w->mu);
	w->bytes -= len;
	w->count--;
	if (err < 0 && w->err == 0)
		w->err = err;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
writeback_fail(struct writeback *w, int err)
{
	pthread_mutex_lock(&w->mu);
	if (err < 0 && w->err == 0)
		w->err = err;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int
writeback_drain(struct writeback *w)
{
	int r;

	pthread_mutex_lock(&w->mu);
	w->draining++;
	while (w->count > 0 && w->lost == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	if (--w->draining == 0)
		pthread_cond_broadcast(&w->cv);	/* writers held back */
	r = w->lost ? -ENOTCONN : w->err;
	pthread_mutex_unlock(&w->mu);
	return r;
}

void
writeback_lost(struct writeback *w)
{
	pthread_mutex_lock(&w->mu);
	w->lost++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
writeback_found(struct writeback *w)
{
	pthread_mutex_lock(&w->mu);
	w->lost--;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
writeback_wait_lost(struct writeback *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->count > w->lost)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

unsigned
writeback_pending(struct writeback *w)
{
	unsigned n;

	pthread_mutex_lock(&w->mu);
	n = w->count;
	pthread_mutex_unlock(&w->mu);
	return n;
}

uint64_t
writeback_pending_bytes(struct writeback *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->mu);
	n = w->bytes;
	pthread_mutex_unlock(&w->mu);
	return n;
}
