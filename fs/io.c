/* io: see io.h.
 *
 * Chunk life: a chunk is on its file's list (one reference), has a READ in
 * flight (one reference) and may have readers waiting for it (one each).
 * Dropping a chunk takes it off the list; whoever drops the last reference
 * frees it. All chunk fields are under the file's mutex.
 *
 * Write life: a write is on its file's list (f->wq, in the order sent)
 * from before it is sent until its reply; it holds a file reference and
 * its writeback reservation meanwhile. A reply of -ENOTCONN leaves it on
 * the list, lost; the one thread that reopens the file (f->reopening)
 * sends the lost ones again in list order, or gives them up.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bgthread.h"
#include "wire.h"

/* Reopens one request may go through before it gives up with -EIO (a link
 * that keeps dying right after each reconnection). */
#define IO_MAX_REOPEN 3
/* write_piece: queued, but on a handle whose link is gone. */
#define IO_QUEUED_LOST 1

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
	uint32_t gen;		/* generation of the handle its READ went on */
};

struct io_wreq {
	struct io_wreq *next, *prev;	/* f->wq, in the order sent */
	struct io_file *f;
	uint64_t off;
	uint32_t len;
	uint32_t gen;		/* generation of the handle it was sent on */
	bool lost;		/* its link died; waits to be sent again */
	bool held;		/* the file's OPEN is not answered yet */
	bool setstat;		/* an FSETSTAT of 'attr', not a WRITE */
	struct fxp_attr attr;
	uint8_t data[];		/* kept until the server acknowledges it */
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
	pthread_mutex_t open_mu;

	/* reconnection (io.h) */
	int flags;		/* open(2) flags */
	struct io_hooks hooks;	/* reopen NULL: none */
	bool reopening;		/* a thread is reopening or replaying */
	bool healing;		/* a healer thread runs for lost writes */
	int dead;		/* 0, or what every later use returns */
	bool dead_close;	/* flush and close report it too */
	uint64_t acked_end;	/* end of the furthest acknowledged write */
	struct fxp_attr seen;	/* last attributes from the server (flags 0: none) */
	struct io_wreq wq;	/* sentinel: writes not yet acknowledged */

	/* a create whose OPEN travels (io_file_new_pending) */
	bool pending;		/* no handle yet: writes are held */
	bool refused;		/* its OPEN failed */
	uint64_t held_bytes;	/* of the held writes */
};

int
io_file_new(struct fxc *c, const struct rfs_handle *h, int flags, uint64_t size,
	    const struct io_hooks *hooks, struct io_file **out)
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
	f->flags = flags;
	if (hooks)
		f->hooks = *hooks;
	f->wq.next = f->wq.prev = &f->wq;
	writeback_init(&f->wb, IO_WRITE_LIMIT);
	chunk = fxc_max_read(c);
	if (chunk == 0)
		chunk = FXP_DEFAULT_IO_SIZE;
	readahead_init(&f->ra, chunk, (uint64_t)chunk * IO_MIN_WINDOW_CHUNKS, IO_MAX_WINDOW);
	*out = f;
	return 0;
}

int
io_file_new_preloaded(struct fxc *c, uint8_t *data, size_t len, const struct io_hooks *hooks,
		      struct io_file **out)
{
	struct rfs_handle none = { .chan = -1 };
	int r = io_file_new(c, &none, O_RDONLY, len, hooks, out);

	if (r < 0) {
		free(data);
		return r;
	}
	(*out)->preloaded = true;
	(*out)->has_handle = false;
	(*out)->pre = data;
	(*out)->pre_len = len;
	(*out)->pre_valid = true;
	return 0;
}

/* Waits for a pending create's handle (io_file_new_pending): 0, or the
 * OPEN's error. */
static int
wait_opened(struct io_file *f)
{
	int r = 0;

	pthread_mutex_lock(&f->mu);
	while (f->pending)
		pthread_cond_wait(&f->cv, &f->mu);
	if (!f->has_handle)
		r = f->dead;
	pthread_mutex_unlock(&f->mu);
	return r;
}

int
io_wait_opened(struct io_file *f)
{
	return wait_opened(f);
}

/* The remote handle, opened now for a preloaded file that had none (and
 * a pending create's, once it arrived). */
static int
need_handle(struct io_file *f)
{
	struct rfs_handle h;
	int r = wait_opened(f);

	if (r < 0 || !f->preloaded)
		return r;
	pthread_mutex_lock(&f->open_mu);
	pthread_mutex_lock(&f->mu);
	if (f->has_handle) {
		pthread_mutex_unlock(&f->mu);
		goto out;
	}
	pthread_mutex_unlock(&f->mu);
	if (f->hooks.reopen == NULL)
		r = -EIO;
	else if ((r = f->hooks.reopen(f->hooks.arg, f, &h)) == 0) {
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

void
io_file_handle(struct io_file *f, struct rfs_handle *h)
{
	pthread_mutex_lock(&f->mu);
	while (f->pending)
		pthread_cond_wait(&f->cv, &f->mu);
	*h = f->h;
	pthread_mutex_unlock(&f->mu);
}

int
io_file_flags(const struct io_file *f)
{
	return f->flags;
}

/* Caller holds f->mu. */
static void
note_seen(struct io_file *f, const struct fxp_attr *a)
{
	if ((a->flags & FXA_PERMISSIONS) != 0)
		f->seen = *a;
}

void
io_file_seen(struct io_file *f, const struct fxp_attr *a)
{
	pthread_mutex_lock(&f->mu);
	note_seen(f, a);
	pthread_mutex_unlock(&f->mu);
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
	struct rfs_handle h;
	int r;

	pthread_mutex_lock(&f->mu);
	h = f->h;
	k->gen = h.gen;
	pthread_mutex_unlock(&f->mu);
	r = rfs_read_async(f->fxc, &h, k->off + from, k->len - from, chunk_read_done, k);
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
 * Returns bytes copied (0 at EOF) or a negative errno (*gen: the
 * generation its READ went on); *stop is set when the chunk ended early
 * (EOF). Caller holds f->mu; may wait. */
static ssize_t
copy_from_chunk(struct io_file *f, uint64_t coff, char *buf, uint64_t off,
		size_t size, bool *stop, uint32_t *gen)
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
		*gen = k->gen;
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
		const struct readahead_plan *p, uint32_t *gen)
{
	uint64_t coff, done = 0;
	bool stop = false;

	drop_chunks_below(f, p->drop_below);
	want_chunks(f, p->want_from, p->want_to);
	for (coff = readahead_floor(&f->ra, off); done < size && !stop; coff += f->ra.chunk) {
		ssize_t r = copy_from_chunk(f, coff, buf + done, off + done,
					    size - (size_t)done, &stop, gen);

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

/* ---- reconnection (io.h) ---- */

static int io_recover(struct io_file *f, bool handle_failed, uint32_t gen, bool final);

/* A lost write on a handle of generation gen (0: any). Caller holds f->mu. */
static bool
lost_on(struct io_file *f, uint32_t gen)
{
	struct io_wreq *w;

	for (w = f->wq.next; w != &f->wq; w = w->next)
		if (w->lost && (gen == 0 || w->gen == gen))
			return true;
	return false;
}

/* 'r' is what a request on a handle of generation 'gen' returned. True when
 * the file was reopened and the request must be sent again; otherwise *r
 * is final (never -ENOTCONN). */
static bool
io_again(struct io_file *f, uint32_t gen, ssize_t *r, int *tries)
{
	int rr;

	if (*r != -ENOTCONN)
		return false;
	if ((*tries)++ >= IO_MAX_REOPEN) {
		*r = -EIO;
		return false;
	}
	if ((rr = io_recover(f, true, gen, false)) < 0) {
		*r = rr;
		return false;
	}
	return true;
}

int
io_reopen(struct io_file *f, uint32_t gen)
{
	return io_recover(f, true, gen, false);
}

/* Waits for the handle's writes, sending again those whose link died.
 * 'final' (release): what cannot be sent now is given up. */
static int
io_drain(struct io_file *f, bool final)
{
	int r, tries = 0;

	while ((r = writeback_drain(&f->wb)) == -ENOTCONN) {
		/* a link that dies again right after each reconnection */
		if (tries++ >= IO_MAX_REOPEN && !final)
			return -EIO;
		if ((r = io_recover(f, false, 0, final || tries > IO_MAX_REOPEN)) < 0 && !final)
			return r;
	}
	return r;
}

/* The handle's error for a use after it died (0 while alive). */
static int
io_dead(struct io_file *f)
{
	int r;

	pthread_mutex_lock(&f->mu);
	r = f->dead;
	pthread_mutex_unlock(&f->mu);
	return r;
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
	return n > 0 ? io_drain(f, false) : 0;
}

static ssize_t
read_once(struct io_file *f, char *buf, size_t size, uint64_t off, uint32_t *gen)
{
	struct readahead_plan p;
	struct rfs_handle h;
	ssize_t r;

	if ((r = settle(f)) < 0)
		return r;
	pthread_mutex_lock(&f->mu);
	if (f->dead) {
		r = f->dead;
		pthread_mutex_unlock(&f->mu);
		return r;
	}
	*gen = f->h.gen;
	readahead_on_read(&f->ra, off, size, f->wrote ? READAHEAD_UNKNOWN_SIZE : f->size_hint, &p);
	if (p.seq) {
		r = read_sequential(f, buf, size, off, &p, gen);
		pthread_mutex_unlock(&f->mu);
		return r;
	}
	drop_chunks_below(f, UINT64_MAX);
	h = f->h;
	pthread_mutex_unlock(&f->mu);
	return rfs_read(f->fxc, &h, off, buf, size);
}

ssize_t
io_read(struct io_file *f, char *buf, size_t size, uint64_t off)
{
	uint32_t gen = 0;
	int tries = 0;
	ssize_t r;

	if (size == 0)
		return 0;
	if (read_preloaded(f, buf, size, off, &r))
		return r;
	if ((r = need_handle(f)) < 0)
		return r;
	do
		r = read_once(f, buf, size, off, &gen);
	while (io_again(f, gen, &r, &tries));
	return r;
}

/* ---- writes ---- */

/* The healer of a file whose writes were lost: reopens it and sends them
 * again as soon as the link is back, rather than at the program's next
 * call (a program that wrote and then waits, or a reader of the server's
 * copy, must not wait for that). A failure that is not final leaves the
 * rest to the next call, as without it. */
static void *
healer(void *arg)
{
	struct io_file *f = arg;
	int rounds = 0;
	bool again;

	do {
		(void)io_recover(f, false, 0, false);
		pthread_mutex_lock(&f->mu);
		/* writes lost again on the new link while we replayed */
		again = f->dead == 0 && lost_on(f, 0) && ++rounds < IO_MAX_REOPEN;
		f->healing = again;
		pthread_mutex_unlock(&f->mu);
	} while (again);
	io_file_put(f);
	return NULL;
}

/* Starts the healer (f->healing set and a reference taken for it). */
static void
start_healer(struct io_file *f)
{
	pthread_t t;

	if (bgthread_start(&t, healer, f) == 0) {
		pthread_detach(t);
		return;
	}
	pthread_mutex_lock(&f->mu);
	f->healing = false;	/* the next call replays them */
	pthread_mutex_unlock(&f->mu);
	io_file_put(f);		/* never the last: the lost writes hold f */
}

static void
write_done(void *arg, int err)
{
	struct io_wreq *w = arg;
	struct io_file *f = w->f;
	bool heal;

	pthread_mutex_lock(&f->mu);
	if (err == -ENOTCONN && f->dead == 0) {
		/* kept, reservation and all, for the reopened handle; counted
		 * under f->mu, as replay() uncounts it */
		w->lost = true;
		writeback_lost(&f->wb);
		heal = !f->healing;
		if (heal) {
			f->healing = true;
			f->refs++;	/* the healer's */
		}
		pthread_mutex_unlock(&f->mu);
		if (heal)
			start_healer(f);
		return;
	}
	w->prev->next = w->next;
	w->next->prev = w->prev;
	if (err == 0 && w->off + w->len > f->acked_end)
		f->acked_end = w->off + w->len;
	pthread_mutex_unlock(&f->mu);
	writeback_done(&f->wb, w->len, err == -ENOTCONN ? -EIO : err);
	free(w);
	io_file_put(f);
}

/* The handle a WRITE at 'off' travels on (see io.h: striping). Caller
 * holds f->mu. */
static const struct rfs_handle *
write_handle(struct io_file *f, uint64_t off)
{
	unsigned n = (unsigned)f->nstripes + 1, i = (unsigned)((off / IO_STRIPE) % n);

	return i == 0 ? &f->h : &f->stripe[i - 1];
}

/* Sends w on h. A dead link only makes it lost (0); -ENOTCONN is returned
 * for the caller that replays, which must reopen again. */
static int
write_send(struct io_file *f, struct io_wreq *w, const struct rfs_handle *h)
{
	int r = w->setstat ? rfs_fsetstat_async(f->fxc, h, &w->attr, write_done, w)
			   : rfs_write_async(f->fxc, h, w->off, w->data, w->len, write_done, w);

	if (r < 0)
		write_done(w, r);
	return r;
}

/* Sends one piece (len <= max write, within one stripe unit). Returns 0;
 * or IO_QUEUED_LOST when it is queued but its handle's link is already
 * gone (the caller reopens now, so that a file that cannot be reopened
 * fails this write rather than a later call); or -ENOTCONN, with nothing
 * queued, while earlier writes wait to be sent again. */
static int
write_piece(struct io_file *f, const char *p, uint32_t len, uint64_t off)
{
	struct io_wreq *w;
	struct rfs_handle h;
	bool held;
	int r;

	/* Held writes of a pending create are bounded per file apart from
	 * the writeback limit: past IO_HELD_LIMIT the writer waits for the
	 * handle (asyncmeta bounds how many creates are pending). */
	pthread_mutex_lock(&f->mu);
	while (f->pending && f->held_bytes > 0 && f->held_bytes + len > IO_HELD_LIMIT)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	if ((r = writeback_reserve(&f->wb, len)) < 0)
		return r;
	if ((w = malloc(sizeof(*w) + len)) == NULL) {
		writeback_done(&f->wb, len, 0);
		return -ENOMEM;
	}
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->off = off;
	w->len = len;
	memcpy(w->data, p, len);
	io_file_get(f);
	pthread_mutex_lock(&f->mu);
	w->prev = f->wq.prev;
	w->next = &f->wq;
	f->wq.prev->next = w;
	f->wq.prev = w;
	h = *write_handle(f, off);
	w->gen = h.gen;
	if (f->pending) {
		/* sent by io_file_opened, in order */
		w->held = true;
		f->held_bytes += len;
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	/* During a replay a new write waits its turn behind the lost ones. */
	held = w->lost = f->reopening;
	if (held)
		writeback_lost(&f->wb);
	pthread_mutex_unlock(&f->mu);
	if (held)
		return 0;
	r = write_send(f, w, &h);
	return r == -ENOTCONN ? IO_QUEUED_LOST : r;
}

ssize_t
io_write(struct io_file *f, const char *buf, size_t size, uint64_t off)
{
	uint32_t max = fxc_max_write(f->fxc);
	size_t done = 0;
	int r, tries = 0;

	if (max == 0)
		max = FXP_DEFAULT_IO_SIZE;
	pthread_mutex_lock(&f->mu);
	if (f->dead) {
		r = f->dead;
		pthread_mutex_unlock(&f->mu);
		return r;
	}
	if (f->append) {
		off = f->append_off;
		f->append_off += size;
	}
	pthread_mutex_unlock(&f->mu);
	io_note_write(f, off, size);
	while (done < size) {
		uint64_t at = off + done, unit_end = at - at % IO_STRIPE + IO_STRIPE;
		uint64_t n = size - done > max ? max : size - done;

		pthread_mutex_lock(&f->mu);
		if (f->nstripes > 0 && at + n > unit_end)
			n = unit_end - at;	/* a piece never spans two stripes */
		pthread_mutex_unlock(&f->mu);
		r = write_piece(f, buf + done, (uint32_t)n, at);
		if (r == -ENOTCONN || r == IO_QUEUED_LOST) {
			if (tries++ >= IO_MAX_REOPEN)
				return -EIO;
			if (io_recover(f, false, 0, false) < 0)
				return -EIO;
			if (r == -ENOTCONN)
				continue;	/* this piece was not queued */
			r = 0;
		}
		if (r < 0)
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
	       fxc_nchannels(f->fxc) > 1 && f->dead == 0 && !f->reopening;
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
	 * while the caller (a write) runs this. A reconnection in between
	 * left handles of another generation: not ours to use. */
	pthread_mutex_lock(&f->mu);
	for (i = 0; i < n; i++) {
		if (f->nstripes < IO_MAX_STRIPES && h[i].gen == f->h.gen && !f->reopening) {
			f->stripe[f->nstripes++] = h[i];
		} else {
			pthread_mutex_unlock(&f->mu);
			rfs_close_async(f->fxc, &h[i]);
			pthread_mutex_lock(&f->mu);
		}
	}
	pthread_mutex_unlock(&f->mu);
}

/* ---- a create answered before its OPEN (io.h) ---- */

int
io_file_new_pending(struct fxc *c, int chan, int flags, const struct io_hooks *hooks,
		    struct io_file **out)
{
	struct rfs_handle none = { .chan = chan, .gen = fxc_generation(c) };
	int r = io_file_new(c, &none, flags, 0, hooks, out);

	if (r == 0)
		(*out)->pending = true;
	return r;
}

/* The OPEN failed: the file is dead with its error, and its held
 * requests end with it. */
static void
open_failed(struct io_file *f, int err)
{
	struct io_wreq *w, *next, *gone = NULL;

	pthread_mutex_lock(&f->mu);
	for (w = f->wq.next; w != &f->wq; w = next) {
		next = w->next;
		w->prev->next = w->next;
		w->next->prev = w->prev;
		w->next = gone;
		gone = w;
	}
	f->dead = err == -ENOTCONN || err == -ECONNABORTED ? -EIO : err;
	f->dead_close = true;
	f->has_handle = false;
	f->refused = true;
	f->pending = false;
	f->held_bytes = 0;
	pthread_cond_broadcast(&f->cv);
	err = f->dead;
	pthread_mutex_unlock(&f->mu);
	for (w = gone; w; w = next) {
		next = w->next;
		writeback_done(&f->wb, w->len, err);
		free(w);
		io_file_put(f);	/* never the last: the caller holds one */
	}
}

void
io_file_opened(struct io_file *f, int err, const struct rfs_handle *h)
{
	struct io_wreq *w;
	struct rfs_handle cur;

	if (err < 0 || h == NULL) {
		open_failed(f, err < 0 ? err : -EIO);
		return;
	}
	pthread_mutex_lock(&f->mu);
	f->h = *h;
	/* In the order they were held; a write arriving meanwhile is held
	 * too and sent here after them (f->pending stays set until none is
	 * left, so nothing overtakes them). */
	for (;;) {
		for (w = f->wq.next; w != &f->wq && !w->held; w = w->next)
			;
		if (w == &f->wq)
			break;
		w->held = false;
		f->held_bytes -= w->len;
		cur = f->h;
		w->gen = cur.gen;
		pthread_mutex_unlock(&f->mu);
		(void)write_send(f, w, &cur);	/* a dead link makes it lost */
		pthread_mutex_lock(&f->mu);
	}
	f->pending = false;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

bool
io_file_refused(struct io_file *f)
{
	bool r;

	pthread_mutex_lock(&f->mu);
	r = f->refused;
	pthread_mutex_unlock(&f->mu);
	return r;
}

int
io_setattr_held(struct io_file *f, const struct fxp_attr *a)
{
	struct io_wreq *w;

	pthread_mutex_lock(&f->mu);
	if (!f->pending) {
		pthread_mutex_unlock(&f->mu);
		return 1;
	}
	pthread_mutex_unlock(&f->mu);
	if (writeback_reserve(&f->wb, 0) < 0)
		return 1;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		writeback_done(&f->wb, 0, 0);
		return 1;
	}
	w->f = f;
	w->setstat = true;
	w->attr = *a;
	pthread_mutex_lock(&f->mu);
	if (!f->pending) {	/* the handle came meanwhile */
		pthread_mutex_unlock(&f->mu);
		writeback_done(&f->wb, 0, 0);
		free(w);
		return 1;
	}
	w->held = true;
	w->prev = f->wq.prev;
	w->next = &f->wq;
	f->wq.prev->next = w;
	f->wq.prev = w;
	f->refs++;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* ---- reopening ---- */

/* Whether a is the file this handle had open (the rule in io.h). Caller
 * holds f->mu. */
static bool
same_file(const struct io_file *f, const struct fxp_attr *a)
{
	const struct fxp_attr *s = &f->seen;

	if (!(a->flags & FXA_PERMISSIONS) || (a->perm & S_IFMT) != S_IFREG)
		return false;
	if (!(a->flags & FXA_SIZE) || a->size < f->acked_end)
		return false;
	if ((s->flags & FXA_UIDGID) && (a->flags & FXA_UIDGID) &&
	    (a->uid != s->uid || a->gid != s->gid))
		return false;
	if ((s->flags & FXA_ACMODTIME) && (a->flags & FXA_ACMODTIME) && a->mtime < s->mtime)
		return false;
	return true;
}

/* Errors of the reopen that another try later could fix: the link did not
 * come back in time, or memory. Anything else is final. */
static bool
transient(int r)
{
	return r == -EIO || r == -ETIMEDOUT || r == -ENOMEM || r == -EAGAIN || r == -ENOTCONN;
}

/* Opens the file again and takes the new handle when it is the same file.
 * Returns 0, a transient error, or a final one with *why set. Caller has
 * set f->reopening. */
static int
reopen(struct io_file *f, const char **why)
{
	struct rfs_handle nh;
	struct fxp_attr a;
	bool append_lost;
	int r;

	/* Every write sent on the dead handle is answered or lost before the
	 * lost ones are sent again, in order. */
	writeback_wait_lost(&f->wb);
	pthread_mutex_lock(&f->mu);
	append_lost = f->append && lost_on(f, 0);
	pthread_mutex_unlock(&f->mu);
	if (append_lost) {
		*why = "O_APPEND writes were in flight when the link died";
		return -EIO;
	}
	if (f->hooks.reopen == NULL) {
		*why = "it cannot be reopened";
		return -EIO;
	}
	if ((r = f->hooks.reopen(f->hooks.arg, f, &nh)) < 0) {
		if (r == -ESTALE)
			*why = "it was unlinked while open";
		else if (r == -ENOENT)
			*why = "it was removed on the server";
		else if (!transient(r))
			*why = "it cannot be opened again";
		return r;
	}
	if ((r = rfs_fstat(f->fxc, &nh, &a)) < 0) {
		rfs_close_async(f->fxc, &nh);
		return r;
	}
	pthread_mutex_lock(&f->mu);
	if (!same_file(f, &a)) {
		pthread_mutex_unlock(&f->mu);
		rfs_close_async(f->fxc, &nh);
		*why = "it was replaced on the server";
		return -EIO;
	}
	f->h = nh;
	f->nstripes = 0;	/* of the old link; striping starts again */
	f->stripe_tried = false;
	note_seen(f, &a);
	drop_chunks_below(f, UINT64_MAX);
	readahead_reset(&f->ra);
	f->append_stale = f->append;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* Sends the lost writes again in the order they were first sent; the last
 * step clears f->reopening. -ENOTCONN when the new link died too. */
static int
replay(struct io_file *f)
{
	for (;;) {
		struct io_wreq *w;
		struct rfs_handle h;

		pthread_mutex_lock(&f->mu);
		for (w = f->wq.next; w != &f->wq && !w->lost; w = w->next)
			;
		if (w == &f->wq) {
			f->reopening = false;
			pthread_cond_broadcast(&f->cv);
			pthread_mutex_unlock(&f->mu);
			return 0;
		}
		w->lost = false;
		writeback_found(&f->wb);
		h = *write_handle(f, w->off);
		w->gen = h.gen;
		pthread_mutex_unlock(&f->mu);
		if (write_send(f, w, &h) == -ENOTCONN)
			return -ENOTCONN;
	}
}

/* The handle is dead for 'why': later uses fail, lost writes are given up
 * (the program learns it at its next write, flush or close) and logged. */
static void
give_up(struct io_file *f, const char *why, bool unlinked)
{
	struct io_wreq *w, *next, *lost = NULL;
	uint64_t bytes = 0;

	pthread_mutex_lock(&f->mu);
	for (w = f->wq.next; w != &f->wq; w = next) {
		next = w->next;
		if (!w->lost)
			continue;
		w->prev->next = w->next;
		w->next->prev = w->prev;
		w->next = lost;
		lost = w;
		bytes += w->len;
		writeback_found(&f->wb);
	}
	f->dead = -EIO;
	f->dead_close = bytes > 0 || (f->wrote && !unlinked);
	f->reopening = false;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->hooks.lost)
		f->hooks.lost(f->hooks.arg, f, why, bytes);
	for (; lost; lost = next) {
		next = lost->next;
		writeback_done(&f->wb, lost->len, -EIO);
		free(lost);
		io_file_put(f);
	}
}

/* Brings the file back after a request met a dead link: once per
 * generation (other threads wait here for the one that does it), then the
 * lost writes are sent again. 'handle_failed': a request on a handle of
 * generation 'gen' returned -ENOTCONN; otherwise writes were lost.
 * Returns 0 (send again) or -EIO; 'final' gives up what cannot be done now. */
static int
io_recover(struct io_file *f, bool handle_failed, uint32_t gen, bool final)
{
	const char *why = NULL;
	bool need;
	int r, tries;

	pthread_mutex_lock(&f->mu);
	while (f->reopening)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->dead) {
		r = f->dead;
		pthread_mutex_unlock(&f->mu);
		return r;
	}
	need = (handle_failed && f->h.gen == gen) || lost_on(f, f->h.gen);
	if (!need && !lost_on(f, 0)) {
		pthread_mutex_unlock(&f->mu);
		return 0;	/* someone else reopened it */
	}
	f->reopening = true;
	pthread_mutex_unlock(&f->mu);
	for (tries = 0;; tries++) {
		r = need ? reopen(f, &why) : 0;
		if (r == 0)
			r = replay(f);
		if (r != -ENOTCONN || why != NULL || tries >= IO_MAX_REOPEN)
			break;
		need = true;
	}
	if (r == 0)
		return 0;
	if (why != NULL || final) {
		give_up(f, why ? why : "the link did not come back in time", r == -ESTALE);
	} else {
		pthread_mutex_lock(&f->mu);
		f->reopening = false;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
	return -EIO;
}

/* ---- flush, fsync, attributes ---- */

/* A flush's result: the writes', or the dead handle's when it must be
 * reported at close (io.h). */
static int
flush_result(struct io_file *f, int r)
{
	if (r == 0) {
		pthread_mutex_lock(&f->mu);
		if (f->dead_close)
			r = f->dead;
		pthread_mutex_unlock(&f->mu);
	}
	return r;
}

int
io_flush(struct io_file *f)
{
	return flush_result(f, io_drain(f, false));
}

int
io_flush_last(struct io_file *f)
{
	return flush_result(f, io_drain(f, true));
}

int
io_flush_stat(struct io_file *f, struct fxp_attr *a)
{
	struct rfs_pending *p;
	struct rfs_handle h;
	bool dirty;
	int r;

	memset(a, 0, sizeof(*a));
	pthread_mutex_lock(&f->mu);
	dirty = f->dirty && f->dead == 0;
	f->dirty = false;
	pthread_mutex_unlock(&f->mu);
	if (!dirty)
		return flush_result(f, io_drain(f, false));
	if ((r = settle(f)) < 0)
		return r;
	io_file_handle(f, &h);
	p = rfs_fstat_send(f->fxc, &h);
	r = io_drain(f, false);
	/* a->flags 0 when it failed (the link too: the writes were sent again
	 * after it) */
	if (rfs_fstat_collect(p, a) == 0) {
		pthread_mutex_lock(&f->mu);
		note_seen(f, a);
		pthread_mutex_unlock(&f->mu);
	}
	return flush_result(f, r);
}

int
io_fsync(struct io_file *f)
{
	struct rfs_handle h;
	int tries = 0;
	ssize_t r = io_flush(f);

	if (r < 0 || (r = need_handle(f)) < 0)
		return (int)r;
	if (!fxc_has(f->fxc, FXC_EXT_FSYNC))
		return 0;	/* acknowledged writes are all we can promise */
	do {
		io_file_handle(f, &h);
		r = rfs_fsync(f->fxc, &h);
	} while (io_again(f, h.gen, &r, &tries));
	return r == -EOPNOTSUPP ? 0 : (int)r;
}

int
io_fstat(struct io_file *f, struct fxp_attr *a)
{
	struct rfs_handle h;
	int tries = 0;
	ssize_t r = need_handle(f);

	if (r < 0 || (r = settle(f)) < 0)
		return (int)r;
	do {
		if ((r = io_dead(f)) < 0)
			return (int)r;
		io_file_handle(f, &h);
		r = rfs_fstat(f->fxc, &h, a);
	} while (io_again(f, h.gen, &r, &tries));
	if (r == 0) {
		pthread_mutex_lock(&f->mu);
		note_seen(f, a);
		pthread_mutex_unlock(&f->mu);
	}
	return (int)r;
}

int
io_setattr_stat(struct io_file *f, const struct fxp_attr *a, struct fxp_attr *got)
{
	bool size = (a->flags & FXA_SIZE) != 0;
	struct rfs_handle h;
	int tries = 0;
	ssize_t r;

	memset(got, 0, sizeof(*got));
	if ((r = need_handle(f)) < 0 || (r = settle(f)) < 0)
		return (int)r;
	pthread_mutex_lock(&f->mu);
	if (size) {
		drop_chunks_below(f, UINT64_MAX);
		readahead_reset(&f->ra);
		f->wrote = true;
	}
	f->dirty = false;
	pthread_mutex_unlock(&f->mu);
	/* Sent again after a reconnection: setting the same attributes twice
	 * leaves them as once. */
	do {
		if ((r = io_dead(f)) < 0)
			return (int)r;
		io_file_handle(f, &h);
		r = rfs_fsetstat_fstat(f->fxc, &h, a, got);
	} while (io_again(f, h.gen, &r, &tries));
	pthread_mutex_lock(&f->mu);
	if (r == 0 && size) {
		f->size_hint = a->size;
		f->append_off = a->size;
		f->acked_end = a->size;
	}
	if (r == 0)
		note_seen(f, got);
	pthread_mutex_unlock(&f->mu);
	return (int)r;
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
	int r = io_flush_last(f), i;
	bool opened;

	pthread_mutex_lock(&f->mu);
	drop_chunks_below(f, UINT64_MAX);
	/* A path operation that found the file before it left the registry
	 * (getattr, truncate) may still send on the handle: the server would
	 * answer a closed handle with FAILURE. Wait for those, and for READs
	 * still in flight; nothing new can find the file now. */
	while (f->refs > 1 || f->pending)
		pthread_cond_wait(&f->cv, &f->mu);
	opened = f->has_handle;
	pthread_mutex_unlock(&f->mu);
	/* Handles of a link that died are gone with it; closing them fails
	 * quietly. */
	for (i = 0; i < f->nstripes; i++)
		rfs_close_async(f->fxc, &f->stripe[i]);
	if (opened)
		rfs_close_async(f->fxc, &f->h);
	io_file_put(f);
	return r;
}
