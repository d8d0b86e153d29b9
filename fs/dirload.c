/* dirload: see dirload.h.
 *
 * The load state lives on the heap: once EOF has been seen, dirload()
 * returns without waiting for the READDIRs still in flight (they all answer
 * EOF anyway); the last of their callbacks frees the state.
 */
#include "dirload.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "rfs.h"
#include "wire.h"

struct dl;

struct dl_slot {
	struct dl *d;
	bool done;
	int err;
	uint8_t type;
	uint32_t id;
	uint8_t *body;
	size_t len;
};

struct dl {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct fxc *c;
	struct rfs_handle h;
	struct dl_slot slot[DIRLOAD_MAX_INFLIGHT];
	unsigned sent, handled, window, inflight;
	bool stop;
	bool abandoned;		/* the caller left; the last callback frees */
};

static void
dl_free(struct dl *d)
{
	unsigned i;

	for (i = 0; i < DIRLOAD_MAX_INFLIGHT; i++)
		free(d->slot[i].body);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

static void
readdir_done(void *arg, int err, const struct fxp_reply *reply)
{
	struct dl_slot *s = arg;
	struct dl *d = s->d;
	bool last;

	pthread_mutex_lock(&d->mu);
	s->err = err;
	if (err == 0 && !d->abandoned) {
		s->type = reply->type;
		s->id = reply->id;
		s->len = reply->len;
		if ((s->body = malloc(reply->len ? reply->len : 1)) == NULL)
			s->err = -ENOMEM;
		else
			memcpy(s->body, reply->body, reply->len);
	}
	s->done = true;
	d->inflight--;
	last = d->abandoned && d->inflight == 0;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	if (last)
		dl_free(d);
}

/* Sends READDIRs until the window is full (caller holds d->mu). */
static void
fill_window(struct dl *d)
{
	while (!d->stop && d->sent - d->handled < d->window) {
		struct dl_slot *s = &d->slot[d->sent % DIRLOAD_MAX_INFLIGHT];
		struct wire_buf b;
		int r;

		free(s->body);
		memset(s, 0, sizeof(*s));
		s->d = d;
		d->sent++;
		d->inflight++;
		wire_buf_init(&b, FXP_MAX_OUT_PACKET);
		r = fxp_enc_handle(&b, FXP_READDIR, d->h.data, d->h.len);
		pthread_mutex_unlock(&d->mu);
		if (r == 0)
			r = fxc_submit(d->c, d->h.chan, &b, readdir_done, s);
		wire_buf_free(&b);
		pthread_mutex_lock(&d->mu);
		if (r < 0) {
			s->err = r;
			s->done = true;
			d->inflight--;
			d->stop = true;
		}
	}
}

/* True for a reply that ends the listing (EOF or an error). */
static bool
is_last(const struct dl_slot *s)
{
	return s->err < 0 || s->type != FXP_NAME;
}

/* Feeds one NAME reply to fn. 0, a negative errno, or 1 at EOF. */
static int
handle_reply(const struct dl_slot *s, dirload_fn *fn, void *arg)
{
	struct fxp_reply r = { .type = s->type, .id = s->id, .body = s->body, .len = s->len };
	struct fxp_names it;
	struct fxp_name n;
	char name[1024];
	int k;

	if (s->err < 0)
		return s->err;
	if (r.type != FXP_NAME) {
		k = fxp_reply_errno(&r, FXP_NAME);
		return k == -ENODATA ? 1 : (k < 0 ? k : -EIO);
	}
	if (fxp_names_begin(&r, &it) < 0)
		return -EIO;
	while ((k = fxp_names_next(&it, &n)) == 1) {
		if (!fxp_name_is_safe(n.name, n.name_len) || n.name_len >= sizeof(name))
			continue;
		memcpy(name, n.name, n.name_len);
		name[n.name_len] = '\0';
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if ((k = fn(arg, name, &n.attr)) != 0)
			return k < 0 ? k : -EIO;
	}
	return k < 0 ? -EIO : 0;
}

/* After a batch: more READDIRs only when no reply already in says the
 * listing is over (each extra one would cost a wait at the end). */
static void
grow_and_fill(struct dl *d)
{
	unsigned i;

	for (i = d->handled; i != d->sent; i++) {
		struct dl_slot *s = &d->slot[i % DIRLOAD_MAX_INFLIGHT];

		if (s->done && is_last(s)) {
			d->stop = true;
			return;
		}
	}
	if (d->window < DIRLOAD_MAX_INFLIGHT)
		d->window *= 2;
	fill_window(d);
}

static int
run(struct dl *d, dirload_fn *fn, void *arg)
{
	int result = 0, r = 0;

	pthread_mutex_lock(&d->mu);
	fill_window(d);
	while (d->handled < d->sent && r == 0) {
		struct dl_slot *s = &d->slot[d->handled % DIRLOAD_MAX_INFLIGHT];
		struct dl_slot copy;

		while (!s->done)
			pthread_cond_wait(&d->cv, &d->mu);
		copy = *s;
		s->body = NULL;
		d->handled++;
		pthread_mutex_unlock(&d->mu);
		r = handle_reply(&copy, fn, arg);
		free(copy.body);
		pthread_mutex_lock(&d->mu);
		if (r != 0) {
			d->stop = true;
			if (r < 0)
				result = r;
		} else {
			grow_and_fill(d);
		}
	}
	pthread_mutex_unlock(&d->mu);
	return result;
}

/* Leaves d to its callbacks (or frees it when none is pending). */
static void
abandon(struct dl *d)
{
	bool now;

	pthread_mutex_lock(&d->mu);
	d->abandoned = true;
	now = d->inflight == 0;
	pthread_mutex_unlock(&d->mu);
	if (now)
		dl_free(d);
}

int
dirload(struct fxc *c, const char *rpath, dirload_fn *fn, void *arg)
{
	struct dl *d = calloc(1, sizeof(*d));
	int r;

	if (d == NULL)
		return -ENOMEM;
	d->c = c;
	d->window = 2;
	if ((r = rfs_opendir(c, rpath, &d->h)) < 0) {
		free(d);
		return r;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	r = run(d, fn, arg);
	/* CLOSE goes after the READDIRs still in flight on the channel. */
	io_close_async(c, &d->h);
	abandon(d);
	return r;
}
