/* readahead: see readahead.h. */
#include "readahead.h"

uint64_t
readahead_floor(const struct readahead *s, uint64_t off)
{
	return off - off % s->chunk;
}

uint64_t
readahead_ceil(const struct readahead *s, uint64_t off)
{
	uint64_t f = readahead_floor(s, off);

	if (f == off)
		return off;
	return f > UINT64_MAX - s->chunk ? f : f + s->chunk;
}

void
readahead_init(struct readahead *s, uint32_t chunk, uint64_t min_win, uint64_t max_win)
{
	s->chunk = chunk ? chunk : 1;
	s->min_win = readahead_ceil(s, min_win ? min_win : s->chunk);
	s->max_win = readahead_ceil(s, max_win);
	if (s->max_win < s->min_win)
		s->max_win = s->min_win;
	readahead_reset(s);
}

void
readahead_reset(struct readahead *s)
{
	s->win = s->min_win;
	s->next = 0;
	s->started = false;
	s->seq = false;
}

static bool
is_sequential(const struct readahead *s, uint64_t off)
{
	uint64_t lo;

	if (!s->started)
		return off == 0;
	lo = s->next > s->win ? s->next - s->win : 0;
	return off >= lo && off <= s->next + s->win;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
readahead_on_read(struct readahead *s, uint64_t off, size_t size, uint64_t file_size,
	   struct readahead_plan *p)
{
	uint64_t end = add_sat(off, size), ahead;

	p->seq = is_sequential(s, off);
	if (!p->seq) {
		s->win = s->min_win;
		s->next = end;
		s->started = true;
		s->seq = false;
		p->drop_below = UINT64_MAX;	/* everything */
		p->want_from = p->want_to = 0;
		return;
	}
	if (s->started && s->seq && s->win < s->max_win)
		s->win = s->win * 2 > s->max_win ? s->max_win : s->win * 2;
	s->started = true;
	s->seq = true;
	if (end > s->next)
		s->next = end;
	ahead = add_sat(s->next, s->win);
	if (file_size != READAHEAD_UNKNOWN_SIZE && ahead > file_size)
		ahead = file_size;
	if (ahead < end)
		ahead = end;
	p->want_from = readahead_floor(s, off);
	p->want_to = readahead_ceil(s, ahead);
	/* Keep one chunk behind the read for slightly out-of-order arrivals. */
	p->drop_below = p->want_from > s->chunk ? p->want_from - s->chunk : 0;
}
