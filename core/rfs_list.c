/* rfs_list: a whole directory with pipelined READDIRs (contract in rfs.h).
 *
 * The state lives on the heap: once the end is seen, rfs_list() returns
 * without waiting for the READDIRs still in flight (they all answer EOF
 * anyway); the last of their callbacks frees the state.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rfs_int.h"
#include "wire.h"

struct ls;

struct ls_slot {
	struct ls *l;
	bool done;
	struct fxc_result res;
};

struct ls {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct fxc *c;
	struct rfs_handle h;
	struct ls_slot slot[RFS_LIST_INFLIGHT];
	unsigned sent, handled, window, inflight;
	bool stop;
	bool abandoned;		/* the caller left; the last callback frees */
};

static void
ls_free(struct ls *l)
{
	for (unsigned i = 0; i < RFS_LIST_INFLIGHT; i++)
		fxc_result_free(&l->slot[i].res);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* On the I/O thread: keeps the reply (a view valid during the call). */
static void
readdir_done(void *arg, int err, const struct fxp_reply *reply)
{
	struct ls_slot *s = arg;
	struct ls *l = s->l;
	bool last;

	pthread_mutex_lock(&l->mu);
	if (!l->abandoned)
		fxc_result_keep(&s->res, err, reply);
	s->done = true;
	l->inflight--;
	last = l->abandoned && l->inflight == 0;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (last)
		ls_free(l);
}

/* Sends READDIRs until the window is full (caller holds l->mu). */
static void
fill_window(struct ls *l)
{
	while (!l->stop && l->sent - l->handled < l->window) {
		struct ls_slot *s = &l->slot[l->sent % RFS_LIST_INFLIGHT];
		struct wire_buf b = { 0 };
		int r;

		fxc_result_free(&s->res);
		memset(s, 0, sizeof(*s));
		s->l = l;
		l->sent++;
		l->inflight++;
		r = fxp_enc_handle(&b, FXP_READDIR, l->h.data, l->h.len);
		pthread_mutex_unlock(&l->mu);
		if (r == 0)
			r = fxc_submit_on(l->c, l->h.chan, l->h.gen, 0, &b, readdir_done, s);
		wire_buf_free(&b);
		pthread_mutex_lock(&l->mu);
		if (r < 0) {
			s->res.err = r;
			s->done = true;
			l->inflight--;
			l->stop = true;
		}
	}
}

/* True for a reply that ends the listing (EOF or an error). */
static bool
is_last(const struct ls_slot *s)
{
	return s->res.err < 0 || s->res.reply.type != FXP_NAME;
}

struct skip_dots {
	rfs_dirent_fn *fn;
	void *arg;
};

static int
skip_dots(void *arg, const char *name, const struct fxp_attr *a)
{
	struct skip_dots *sd = arg;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	return sd->fn(sd->arg, name, a);
}

/* Feeds one reply to fn. 0 to go on, 1 at the end, a negative errno, or
 * fn's non-zero verdict. */
static int
handle_reply(struct ls *l, const struct fxc_result *res, struct skip_dots *sd)
{
	int r;

	if (res->err < 0)
		return res->err;
	r = fxp_reply_errno(&res->reply, FXP_NAME);
	if (r == -ENODATA)
		return 1;
	if (r == 0)
		r = rfs_walk_names(&res->reply, skip_dots, sd);
	if (r == -EBADMSG || r == -EPROTO)
		return rfs_violation(l->c, r, &res->reply);
	return r < 0 ? r : 0;
}

/* After a batch: more READDIRs only when no reply already in says the
 * listing is over (each extra one would cost a wait at the end). */
static void
grow_and_fill(struct ls *l)
{
	for (unsigned i = l->handled; i != l->sent; i++) {
		struct ls_slot *s = &l->slot[i % RFS_LIST_INFLIGHT];

		if (s->done && is_last(s)) {
			l->stop = true;
			return;
		}
	}
	if (l->window < RFS_LIST_INFLIGHT)
		l->window *= 2;
	fill_window(l);
}

static int
run(struct ls *l, struct skip_dots *sd)
{
	int result = 0, r = 0;

	pthread_mutex_lock(&l->mu);
	fill_window(l);
	while (l->handled < l->sent && r == 0) {
		struct ls_slot *s = &l->slot[l->handled % RFS_LIST_INFLIGHT];
		struct fxc_result res;

		while (!s->done)
			pthread_cond_wait(&l->cv, &l->mu);
		res = s->res;
		memset(&s->res, 0, sizeof(s->res));
		l->handled++;
		pthread_mutex_unlock(&l->mu);
		r = handle_reply(l, &res, sd);
		fxc_result_free(&res);
		pthread_mutex_lock(&l->mu);
		if (r != 0) {
			l->stop = true;
			if (r < 0)
				result = r;
		} else {
			grow_and_fill(l);
		}
	}
	pthread_mutex_unlock(&l->mu);
	return result;
}

/* Leaves l to its callbacks (or frees it when none is pending). */
static void
abandon(struct ls *l)
{
	bool now;

	pthread_mutex_lock(&l->mu);
	l->abandoned = true;
	now = l->inflight == 0;
	pthread_mutex_unlock(&l->mu);
	if (now)
		ls_free(l);
}

int
rfs_list(struct fxc *c, const char *path, rfs_dirent_fn *fn, void *arg)
{
	struct skip_dots sd = { fn, arg };
	struct ls *l = calloc(1, sizeof(*l));
	int r;

	if (l == NULL)
		return -ENOMEM;
	l->c = c;
	l->window = 2;
	if ((r = rfs_opendir(c, path, &l->h)) < 0) {
		free(l);
		return r;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	r = run(l, &sd);
	/* CLOSE goes after the READDIRs still in flight on the channel. */
	rfs_close_async(c, &l->h);
	abandon(l);
	return r;
}
