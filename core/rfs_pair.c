/* rfs_pair: an operation and the attributes after it in one round trip,
 * and requests sent now and collected later (contracts in rfs.h). Built on
 * batch.h: the requests go back to back on one channel, which the server
 * runs in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "rfs_int.h"

/* Runs the two encoded requests of b on chan; the first one's status is
 * returned (its HANDLE into h when h is not NULL), the second's ATTRS go to
 * *after (flags 0 when it failed). */
static int
pair_run(struct fxc *c, int chan, struct batch *b, int enc, struct rfs_handle *h,
	 struct fxp_attr *after)
{
	int r = enc;

	memset(after, 0, sizeof(*after));
	if (r == 0)
		r = batch_run(c, chan, b);
	if (r == 0)
		r = h ? batch_handle(b, 0, chan, h) : batch_status(b, 0);
	if (r == 0 && batch_attrs(b, 1, after) < 0)
		memset(after, 0, sizeof(*after));
	batch_free(b);
	return r;
}

int
rfs_open_lstat(struct fxc *c, int chan, const char *path, uint32_t pflags,
	       const struct fxp_attr *a, struct rfs_handle *h, struct fxp_attr *after)
{
	struct batch b;
	int r;

	if (chan < 0 || chan >= fxc_nchannels(c))
		chan = rfs_pick_chan(c, path);
	batch_init(&b);
	b.first_flags = rfs_open_flags(pflags);
	r = fxp_enc_open(batch_next(&b), path, pflags, a);
	r = r ?: fxp_enc_path(batch_next(&b), FXP_LSTAT, path);
	r = pair_run(c, chan, &b, r, h, after);
	return r == 0 ? 0 : rfs_open_errno(c, path, pflags, r);
}

int
rfs_mkdir_lstat(struct fxc *c, const char *path, const struct fxp_attr *a,
		struct fxp_attr *after)
{
	struct batch b;
	int r;

	batch_init(&b);
	b.first_flags = FXC_ONCE;
	r = fxp_enc_path_attr(batch_next(&b), FXP_MKDIR, path, a);
	r = r ?: fxp_enc_path(batch_next(&b), FXP_LSTAT, path);
	r = pair_run(c, rfs_pick_chan(c, path), &b, r, NULL, after);
	return r == 0 ? 0 : rfs_mkdir_errno(c, path, r);
}

int
rfs_setstat_stat(struct fxc *c, const char *path, const struct fxp_attr *a, bool lset,
		 bool follow, struct fxp_attr *after)
{
	struct batch b;
	int r;

	memset(after, 0, sizeof(*after));
	if (lset && !fxc_has(c, FXC_EXT_LSETSTAT))
		return -EOPNOTSUPP;
	batch_init(&b);
	r = lset ? fxp_enc_lsetstat(batch_next(&b), path, a)
		 : fxp_enc_path_attr(batch_next(&b), FXP_SETSTAT, path, a);
	r = r ?: fxp_enc_path(batch_next(&b), follow ? FXP_STAT : FXP_LSTAT, path);
	return pair_run(c, rfs_pick_chan(c, path), &b, r, NULL, after);
}

int
rfs_fsetstat_fstat(struct fxc *c, const struct rfs_handle *h, const struct fxp_attr *a,
		   struct fxp_attr *after)
{
	struct batch b;
	int r;

	batch_init(&b);
	b.gen = h->gen;
	r = fxp_enc_fsetstat(batch_next(&b), h->data, h->len, a);
	r = r ?: fxp_enc_handle(batch_next(&b), FXP_FSTAT, h->data, h->len);
	return pair_run(c, h->chan, &b, r, NULL, after);
}

struct rfs_pending {
	struct batch b;
};

struct rfs_pending *
rfs_fstat_send(struct fxc *c, const struct rfs_handle *h)
{
	struct rfs_pending *p = malloc(sizeof(*p));

	if (p == NULL)
		return NULL;
	batch_init(&p->b);
	p->b.gen = h->gen;
	if (fxp_enc_handle(batch_next(&p->b), FXP_FSTAT, h->data, h->len) == 0)
		(void)batch_start(c, h->chan, &p->b);
	return p;
}

int
rfs_fstat_collect(struct rfs_pending *p, struct fxp_attr *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	if (p == NULL)
		return -ENOMEM;
	batch_wait(&p->b);
	r = p->b.started ? batch_attrs(&p->b, 0, a) : -EIO;
	if (r < 0)
		memset(a, 0, sizeof(*a));
	batch_free(&p->b);
	free(p);
	return r;
}

int
rfs_open_each(struct fxc *c, const char *path, uint32_t pflags, const int *chans, int n,
	      struct rfs_handle *out)
{
	struct batch b[RFS_OPEN_EACH_MAX];
	int i, opened = 0;

	if (n > RFS_OPEN_EACH_MAX)
		n = RFS_OPEN_EACH_MAX;
	for (i = 0; i < n; i++) {
		batch_init(&b[i]);
		b[i].first_flags = rfs_open_flags(pflags);
		if (fxp_enc_open(batch_next(&b[i]), path, pflags, NULL) == 0)
			(void)batch_start(c, chans[i], &b[i]);
	}
	for (i = 0; i < n; i++) {
		batch_wait(&b[i]);
		if (b[i].started && batch_handle(&b[i], 0, chans[i], &out[opened]) == 0)
			opened++;
		batch_free(&b[i]);
	}
	return opened;
}
