/* io: see io.h.
 *
 * Chunk life: a chunk is on its file's list (one reference), has a READ in
 * flight (one reference) and may have readers waiting for it (one each).
 * Dropping a chunk takes it off the list; whoever drops the last reference
 * frees it. All chunk fields are under the file's mutex.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

struct io_chunk {
	struct io_chunk *next;
	struct io_file *f;
	uint64_t off;
	uint32_t len;		/* requested */
	uint32_t got;		/* received so far */
	uint8_t *data;
	int refs;
	bool listed;
	bool done;
	bool eof;		/* the server had no more bytes */
	int err;
};

struct io_file {
	struct fxc *fxc;
	struct rfs_handle h;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	bool readable, writable, append;
	bool wrote;		/* a write went through this handle */
	bool dirty;		/* written since the last FSTAT we sent */
	uint64_t seq_end;	/* end of the last write */
	uint64_t seq_bytes;	/* bytes written sequentially so far */
	bool stripe_tried;
	int nstripes;		/* extra handles, on other channels */
	struct rfs_handle stripe[IO_MAX_STRIPES];
	uint64_t size_hint;	/* size at open, grown by our writes */
	uint64_t append_off;	/* next O_APPEND offset */
	bool append_stale;	/* append_off must be learned again */
	struct writeback wb;
	struct readahead ra;
	struct io_chunk *chunks;
	/* Preloaded (io.h): the contents while they are current, and the
	 * handle opened on demand (open_mu serialises that open). */
	bool preloaded, has_handle;
	uint8_t *pre;
	size_t pre_len;
	bool pre_valid;
	io_open_fn *open_fn;
	void *open_arg;
	pthread_mutex_t open_mu;
};

struct io_wreq {
	struct io_file *f;
	uint32_t len;
};

int
io_file_new(struct fxc *c, const struct rfs_handle *h, int flags, uint64_t size,
	    struct io_file **out)
{
	struct io_file *f = calloc(1, sizeof(*f));
	int acc = flags & O_ACCMODE;
	uint32_t chunk;

	*out = NULL;
	if (f == NULL)
		return -ENOMEM;
	f->fxc = c;
	f->h = *h;
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->open_mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->has_handle = true;
	f->refs = 1;
	f->readable = acc == O_RDONLY || acc == O_RDWR;
	f->writable = acc == O_WRONLY || acc == O_RDWR;
	f->append = (flags & O_APPEND) != 0;
	f->append_stale = f->append;
	f->size_hint = size;
	f->append_off = size == READAHEAD_UNKNOWN_SIZE ? 0 : size;
	writeback_init(&f->wb, IO_WRITE_LIMIT);
	chunk = fxc_max_read(c);
	if (chunk == 0)
		chunk = FXP_DEFAULT_IO_SIZE;
	readahead_init(&f->ra, chunk, (uint64_t)chunk * IO_MIN_WINDOW_CHUNKS, IO_MAX_WINDOW);
	*out = f;
	return 0;
}

int
io_file_new_preloaded(struct fxc *c, uint8_t *data, size_t len, io_open_fn *open_fn,
		      void *arg, struct io_file **out)
{
	struct rfs_handle none = { .chan = -1 };
	int r = io_file_new(c, &none, O_RDONLY, len, out);

	if (r < 0) {
		free(data);
		return r;
	}
	(*out)->preloaded = true;
	(*out)->has_handle = false;
	(*out)->pre = data;
	(*out)->pre_len = len;
	(*out)->pre_valid = true;
	(*out)->open_fn = open_fn;
	(*out)->open_arg = arg;
	return 0;
}

/* The remote handle, opened now for a preloaded file that had none. */
static int
need_handle(struct io_file *f)
{
	struct rfs_handle h;
	int r = 0;

	if (!f->preloaded)
		return 0;
	pthread_mutex_lock(&f->open_mu);
	pthread_mutex_lock(&f->mu);
	if (f->has_handle) {
		pthread_mutex_unlock(&f->mu);
		goto out;
	}
	pthread_mutex_unlock(&f->mu);
	if ((r = f->open_fn(f->open_arg, f, &h)) == 0) {
		pthread_mutex_lock(&f->mu);
		f->h = h;
		f->has_handle = true;
		pthread_mutex_unlock(&f->mu);
	}
out:
	pthread_mutex_unlock(&f->open_mu);
	return r;
}

/* Serves a read from preloaded contents still current; false otherwise. */
static bool
read_preloaded(struct io_file *f, char *buf, size_t size, uint64_t off, ssize_t *got)
{
	bool ok;

	if (!f->preloaded)
		return false;
	pthread_mutex_lock(&f->mu);
	ok = f->pre_valid;
	if (ok) {
		size_t n = off >= f->pre_len ? 0 : f->pre_len - (size_t)off;

		if (n > size)
			n = size;
		if (n > 0)
			memcpy(buf, f->pre + off, n);
		*got = (ssize_t)n;
	}
	pthread_mutex_unlock(&f->mu);
	return ok;
}

/* The contents changed through another descriptor (caller holds f->mu). */
static void
drop_preloaded(struct io_file *f)
{
	f->pre_valid = false;
	free(f->pre);
	f->pre = NULL;
	f->pre_len = 0;
}

void
io_file_get(struct io_file *f)
{
	pthread_mutex_lock(&f->mu);
	f->refs++;
	pthread_mutex_unlock(&f->mu);
}

static void
file_destroy(struct io_file *f)
{
	writeback_destroy(&f->wb);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	pthread_mutex_destroy(&f->open_mu);
	free(f->pre);
	free(f);
}

struct fxc *
io_file_fxc(const struct io_file *f)
{
	return f->fxc;
}

const struct rfs_handle *
io_file_handle(const struct io_file *f)
{
	return &f->h;
}

void
io_file_put(struct io_file *f)
{
	int left;

	pthread_mutex_lock(&f->mu);
	left = --f->refs;
	if (left == 1)
		pthread_cond_broadcast(&f->cv);	/* io_release may wait for this */
	pthread_mutex_unlock(&f->mu);
	if (left == 0)
		file_destroy(f);
}

/* ---- chunks (caller holds f->mu) ---- */

static void
chunk_unref(struct io_chunk *k)
{
	if (--k->refs == 0) {
		free(k->data);
		free(k);
	}
}

/* Takes k off the list; the list's reference is now the caller's. */
static void
chunk_detach(struct io_file *f, struct io_chunk *k)
{
	struct io_chunk **pp;

	for (pp = &f->chunks; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			k->listed = false;
			return;
		}
	}
}

static void
chunk_unlist(struct io_file *f, struct io_chunk *k)
{
	chunk_detach(f, k);
	chunk_unref(k);
}

static void
drop_chunks_below(struct io_file *f, uint64_t below)
{
	struct io_chunk *k = f->chunks, *next;

	for (; k; k = next) {
		next = k->next;
		if (below == UINT64_MAX || k->off + k->len <= below)
			chunk_unlist(f, k);
	}
}

static struct io_chunk *
chunk_find(struct io_file *f, uint64_t off)
{
	struct io_chunk *k;

	for (k = f->chunks; k; k = k->next)
		if (k->off == off)
			return k;
	return NULL;
}

/* ---- reads ---- */

static void chunk_read_done(void *arg, int err, const uint8_t *data, uint32_t len);

/* Sends the READ for the rest of k (from k->got); called without f->mu.
 * On failure completes the chunk with the error. */
static void
chunk_submit(struct io_file *f, struct io_chunk *k, uint32_t from)
{
	int r = rfs_read_async(f->fxc, &f->h, k->off + from, k->len - from,
			       chunk_read_done, k);

	if (r < 0)
		chunk_read_done(k, r, NULL, 0);
}

static void
chunk_read_done(void *arg, int err, const uint8_t *data, uint32_t len)
{
	struct io_chunk *k = arg;
	struct io_file *f = k->f;
	bool more = false;
	uint32_t from = 0;

	pthread_mutex_lock(&f->mu);
	if (err < 0) {
		k->err = err;
	} else if (len == 0) {
		k->eof = true;
	} else {
		if (len > k->len - k->got)
			len = k->len - k->got;	/* a server sending more than asked */
		memcpy(k->data + k->got, data, len);
		k->got += len;
		/* Short: OpenSSH means end of file, which the size we know
		 * confirms; otherwise (another server, or the file grew) ask
		 * for the rest rather than end a read early, also for a chunk
		 * already dropped from the list: a reader may be waiting on
		 * it, and a short chunk would read as the end of the file. */
		if (f->size_hint != READAHEAD_UNKNOWN_SIZE && k->off + k->got >= f->size_hint)
			k->eof = k->got < k->len;
		else
			more = k->got < k->len;
		from = k->got;
	}
	if (!more) {
		k->done = true;
		pthread_cond_broadcast(&f->cv);
		chunk_unref(k);
	}
	pthread_mutex_unlock(&f->mu);
	if (more)
		chunk_submit(f, k, from);
	else
		io_file_put(f);
}

/* Adds a pending chunk at 'off' to the list (caller holds f->mu); NULL on
 * allocation failure. The caller submits it after unlocking. */
static struct io_chunk *
chunk_new(struct io_file *f, uint64_t off)
{
	struct io_chunk *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	if ((k->data = malloc(f->ra.chunk)) == NULL) {
		free(k);
		return NULL;
	}
	k->f = f;
	k->off = off;
	k->len = f->ra.chunk;
	k->refs = 2;		/* the list and the READ */
	k->listed = true;
	k->next = f->chunks;
	f->chunks = k;
	f->refs++;		/* the READ holds the file */
	return k;
}

#define IO_MAX_BATCH 64

/* Creates the missing chunks of [from, to) and sends their READs. */
static void
want_chunks(struct io_file *f, uint64_t from, uint64_t to)
{
	struct io_chunk *batch[IO_MAX_BATCH];
	size_t n = 0, i;
	uint64_t off;

	for (off = from; off < to && n < IO_MAX_BATCH; off += f->ra.chunk) {
		if (chunk_find(f, off))
			continue;
		if ((batch[n] = chunk_new(f, off)) == NULL)
			break;
		n++;
	}
	pthread_mutex_unlock(&f->mu);
	for (i = 0; i < n; i++)
		chunk_submit(f, batch[i], 0);
	pthread_mutex_lock(&f->mu);
}

/* Copies what the chunk at 'coff' holds for [off, off+size) into buf.
 * Returns bytes copied (0 at EOF) or a negative errno; *stop is set when
 * the chunk ended early (EOF). Caller holds f->mu; may wait. */
static ssize_t
copy_from_chunk(struct io_file *f, uint64_t coff, char *buf, uint64_t off,
		size_t size, bool *stop)
{
	struct io_chunk *k = chunk_find(f, coff);
	uint64_t start, end;
	ssize_t r;

	if (k == NULL) {
		want_chunks(f, coff, coff + f->ra.chunk);
		if ((k = chunk_find(f, coff)) == NULL)
			return -ENOMEM;
	}
	k->refs++;
	while (!k->done)
		pthread_cond_wait(&f->cv, &f->mu);
	start = off > k->off ? off : k->off;
	end = off + size < k->off + k->got ? off + size : k->off + k->got;
	if (k->err < 0) {
		r = k->err;
		if (k->listed) {	/* a later read asks again */
			chunk_detach(f, k);
			k->refs--;	/* the list's; ours keeps it alive */
		}
	} else {
		r = end > start ? (ssize_t)(end - start) : 0;
		if (r > 0)
			memcpy(buf + (start - off), k->data + (start - k->off), (size_t)r);
		*stop = k->got < k->len;
	}
	chunk_unref(k);
	return r;
}

static ssize_t
read_sequential(struct io_file *f, char *buf, size_t size, uint64_t off,
		const struct readahead_plan *p)
{
	uint64_t coff, done = 0;
	bool stop = false;

	drop_chunks_below(f, p->drop_below);
	want_chunks(f, p->want_from, p->want_to);
	for (coff = readahead_floor(&f->ra, off); done < size && !stop; coff += f->ra.chunk) {
		ssize_t r = copy_from_chunk(f, coff, buf + done, off + done,
					    size - (size_t)done, &stop);

		/* Not a short read: FUSE takes one for the end of the file
		 * (the kernel shrinks its size), and the program sees EOF. */
		if (r < 0)
			return r;
		done += (uint64_t)r;
		if (r == 0)
			break;
	}
	return (ssize_t)done;
}

/* Before anything that must see every write: with stripes, the writes on
 * the other channels are not ordered before it, so wait for them. */
static int
settle(struct io_file *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->nstripes;
	pthread_mutex_unlock(&f->mu);
	return n > 0 ? writeback_drain(&f->wb) : 0;
}

ssize_t
io_read(struct io_file *f, char *buf, size_t size, uint64_t off)
{
	struct readahead_plan p;
	ssize_t r;

	if (size == 0)
		return 0;
	if (read_preloaded(f, buf, size, off, &r))
		return r;
	if ((r = need_handle(f)) < 0 || (r = settle(f)) < 0)
		return r;
	pthread_mutex_lock(&f->mu);
	readahead_on_read(&f->ra, off, size, f->wrote ? READAHEAD_UNKNOWN_SIZE : f->size_hint, &p);
	if (p.seq) {
		r = read_sequential(f, buf, size, off, &p);
		pthread_mutex_unlock(&f->mu);
		return r;
	}
	drop_chunks_below(f, UINT64_MAX);
	pthread_mutex_unlock(&f->mu);
	return rfs_read(f->fxc, &f->h, off, buf, size);
}

/* ---- writes ---- */

static void
write_done(void *arg, int err)
{
	struct io_wreq *w = arg;
	struct io_file *f = w->f;

	writeback_done(&f->wb, w->len, err);
	free(w);
	io_file_put(f);
}

/* The handle a WRITE at 'off' travels on (see io.h: striping). */
static const struct rfs_handle *
write_handle(struct io_file *f, uint64_t off)
{
	unsigned n = (unsigned)f->nstripes + 1, i = (unsigned)((off / IO_STRIPE) % n);

	return i == 0 ? &f->h : &f->stripe[i - 1];
}

/* Sends one piece (len <= max write, within one stripe unit). */
static int
write_piece(struct io_file *f, const char *p, uint32_t len, uint64_t off)
{
	struct io_wreq *w;
	int r;

	if ((r = writeback_reserve(&f->wb, len)) < 0)
		return r;
	if ((w = malloc(sizeof(*w))) == NULL) {
		writeback_done(&f->wb, len, 0);
		return -ENOMEM;
	}
	w->f = f;
	w->len = len;
	io_file_get(f);
	r = rfs_write_async(f->fxc, write_handle(f, off), off, p, len, write_done, w);
	if (r < 0) {
		writeback_fail(&f->wb, r);
		write_done(w, r);
	}
	return r;
}

ssize_t
io_write(struct io_file *f, const char *buf, size_t size, uint64_t off)
{
	uint32_t max = fxc_max_write(f->fxc);
	size_t done = 0;
	int r;

	if (max == 0)
		max = FXP_DEFAULT_IO_SIZE;
	pthread_mutex_lock(&f->mu);
	if (f->append) {
		off = f->append_off;
		f->append_off += size;
	}
	pthread_mutex_unlock(&f->mu);
	io_note_write(f, off, size);
	while (done < size) {
		uint64_t at = off + done, unit_end = at - at % IO_STRIPE + IO_STRIPE;
		uint64_t n = size - done > max ? max : size - done;

		if (f->nstripes > 0 && at + n > unit_end)
			n = unit_end - at;	/* a piece never spans two stripes */
		if ((r = write_piece(f, buf + done, (uint32_t)n, at)) < 0)
			return r;
		done += n;
	}
	return (ssize_t)size;
}

bool
io_wants_stripes(struct io_file *f)
{
	bool want;

	pthread_mutex_lock(&f->mu);
	want = !f->stripe_tried && !f->append && f->seq_bytes >= IO_STRIPE_AFTER &&
	       fxc_nchannels(f->fxc) > 1;
	if (want)
		f->stripe_tried = true;
	pthread_mutex_unlock(&f->mu);
	return want;
}

void
io_add_stripes(struct io_file *f, const struct rfs_handle *h, int n)
{
	int i;

	/* Writes are serialised per file by the kernel; none is being routed
	 * while the caller (a write) runs this. */
	pthread_mutex_lock(&f->mu);
	for (i = 0; i < n && f->nstripes < IO_MAX_STRIPES; i++)
		f->stripe[f->nstripes++] = h[i];
	pthread_mutex_unlock(&f->mu);
}


int
io_flush(struct io_file *f)
{
	return writeback_drain(&f->wb);
}

int
io_flush_stat(struct io_file *f, struct fxp_attr *a)
{
	struct rfs_pending *p;
	bool dirty;
	int r;

	memset(a, 0, sizeof(*a));
	pthread_mutex_lock(&f->mu);
	dirty = f->dirty;
	f->dirty = false;
	pthread_mutex_unlock(&f->mu);
	if (!dirty)
		return writeback_drain(&f->wb);
	if ((r = settle(f)) < 0)
		return r;
	p = rfs_fstat_send(f->fxc, &f->h);
	r = writeback_drain(&f->wb);
	(void)rfs_fstat_collect(p, a);	/* a->flags 0 when it failed */
	return r;
}

int
io_fsync(struct io_file *f)
{
	int r = writeback_drain(&f->wb);

	if (r < 0 || (r = need_handle(f)) < 0)
		return r;
	if (!fxc_has(f->fxc, FXC_EXT_FSYNC))
		return 0;	/* acknowledged writes are all we can promise */
	r = rfs_fsync(f->fxc, &f->h);
	return r == -EOPNOTSUPP ? 0 : r;
}

int
io_fstat(struct io_file *f, struct fxp_attr *a)
{
	int r = need_handle(f);

	if (r == 0)
		r = settle(f);
	return r < 0 ? r : rfs_fstat(f->fxc, &f->h, a);
}

int
io_setattr_stat(struct io_file *f, const struct fxp_attr *a, struct fxp_attr *got)
{
	bool size = (a->flags & FXA_SIZE) != 0;
	int r;

	memset(got, 0, sizeof(*got));
	if ((r = need_handle(f)) < 0 || (r = settle(f)) < 0)
		return r;
	pthread_mutex_lock(&f->mu);
	if (size) {
		drop_chunks_below(f, UINT64_MAX);
		readahead_reset(&f->ra);
		f->wrote = true;
	}
	f->dirty = false;
	pthread_mutex_unlock(&f->mu);
	r = rfs_fsetstat_fstat(f->fxc, &f->h, a, got);
	if (r == 0 && size) {
		pthread_mutex_lock(&f->mu);
		f->size_hint = a->size;
		f->append_off = a->size;
		pthread_mutex_unlock(&f->mu);
	}
	return r;
}

uint64_t
io_file_queued(struct io_file *f)
{
	return writeback_pending_bytes(&f->wb);
}

bool
io_file_wrote(struct io_file *f)
{
	bool w;

	pthread_mutex_lock(&f->mu);
	w = f->wrote;
	pthread_mutex_unlock(&f->mu);
	return w;
}

uint64_t
io_file_end(struct io_file *f)
{
	uint64_t end;

	pthread_mutex_lock(&f->mu);
	end = f->size_hint;
	pthread_mutex_unlock(&f->mu);
	return end;
}

void
io_drop_readahead(struct io_file *f)
{
	pthread_mutex_lock(&f->mu);
	drop_chunks_below(f, UINT64_MAX);
	readahead_reset(&f->ra);
	f->append_stale = f->append;
	drop_preloaded(f);
	pthread_mutex_unlock(&f->mu);
}

bool
io_append_stale(struct io_file *f)
{
	bool stale;

	pthread_mutex_lock(&f->mu);
	stale = f->append_stale;
	pthread_mutex_unlock(&f->mu);
	return stale;
}

int
io_append_sync(struct io_file *f)
{
	struct fxp_attr a;
	int r;

	/* Cleared first: a change by another handle while the FSTAT travels
	 * marks it again. */
	pthread_mutex_lock(&f->mu);
	f->append_stale = false;
	pthread_mutex_unlock(&f->mu);
	if ((r = io_fstat(f, &a)) < 0) {
		pthread_mutex_lock(&f->mu);
		f->append_stale = true;
		pthread_mutex_unlock(&f->mu);
		return r;
	}
	pthread_mutex_lock(&f->mu);
	f->append_off = (a.flags & FXA_SIZE) ? a.size : 0;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

void
io_note_write(struct io_file *f, uint64_t off, uint64_t len)
{
	pthread_mutex_lock(&f->mu);
	f->wrote = true;
	f->dirty = true;
	f->seq_bytes = off == f->seq_end ? f->seq_bytes + len : 0;
	f->seq_end = off + len;
	drop_preloaded(f);
	drop_chunks_below(f, UINT64_MAX);
	readahead_reset(&f->ra);
	if (f->size_hint == READAHEAD_UNKNOWN_SIZE || off + len > f->size_hint)
		f->size_hint = off + len;
	pthread_mutex_unlock(&f->mu);
}

int
io_release(struct io_file *f)
{
	int r = writeback_drain(&f->wb), i;
	bool opened;

	pthread_mutex_lock(&f->mu);
	drop_chunks_below(f, UINT64_MAX);
	/* A path operation that found the file before it left the registry
	 * (getattr, truncate) may still send on the handle: the server would
	 * answer a closed handle with FAILURE. Wait for those, and for READs
	 * still in flight; nothing new can find the file now. */
	while (f->refs > 1)
		pthread_cond_wait(&f->cv, &f->mu);
	opened = f->has_handle;
	pthread_mutex_unlock(&f->mu);
	for (i = 0; i < f->nstripes; i++)
		rfs_close_async(f->fxc, &f->stripe[i]);
	if (opened)
		rfs_close_async(f->fxc, &f->h);
	io_file_put(f);
	return r;
}
