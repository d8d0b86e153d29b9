/* Unit tests for fs/readahead.c: sequential detection, window growth and
 * reset, bounds at the file size, the chunks to drop. */
#include <stdint.h>

#include "readahead.h"
#include "tap.h"

#define CH 1000u

static void
test_sequential_growth(void)
{
	struct readahead s;
	struct readahead_plan p;

	readahead_init(&s, CH, 2 * CH, 16 * CH);
	readahead_on_read(&s, 0, 500, READAHEAD_UNKNOWN_SIZE, &p);
	TAP_CHECK(p.seq);
	TAP_EQ_INT(p.want_from, 0);
	TAP_EQ_INT(p.want_to, 3 * CH);		/* the read's chunk + 2 ahead, aligned */
	readahead_on_read(&s, 500, 500, READAHEAD_UNKNOWN_SIZE, &p);
	TAP_CHECK(p.seq);
	TAP_EQ_INT(s.win, 4 * CH);		/* doubled */
	TAP_EQ_INT(p.want_to, 5 * CH);
	readahead_on_read(&s, 1000, 1000, READAHEAD_UNKNOWN_SIZE, &p);
	readahead_on_read(&s, 2000, 1000, READAHEAD_UNKNOWN_SIZE, &p);
	readahead_on_read(&s, 3000, 1000, READAHEAD_UNKNOWN_SIZE, &p);
	TAP_EQ_INT(s.win, 16 * CH);		/* capped */
	TAP_EQ_INT(p.want_from, 3 * CH);
	TAP_EQ_INT(p.want_to, 20 * CH);
	TAP_EQ_INT(p.drop_below, 2 * CH);	/* one chunk kept behind */
}

static void
test_out_of_order_and_random(void)
{
	struct readahead s;
	struct readahead_plan p;

	readahead_init(&s, CH, 2 * CH, 16 * CH);
	readahead_on_read(&s, 0, 1000, READAHEAD_UNKNOWN_SIZE, &p);
	readahead_on_read(&s, 2000, 1000, READAHEAD_UNKNOWN_SIZE, &p);	/* skipped ahead a bit */
	TAP_CHECK(p.seq);
	readahead_on_read(&s, 1000, 1000, READAHEAD_UNKNOWN_SIZE, &p);	/* the late one */
	TAP_CHECK(p.seq);
	TAP_EQ_INT(s.next, 3000);
	readahead_on_read(&s, 900000, 100, READAHEAD_UNKNOWN_SIZE, &p);	/* far away */
	TAP_CHECK(!p.seq);
	TAP_EQ_INT(p.drop_below, UINT64_MAX);
	TAP_EQ_INT(s.win, 2 * CH);
	readahead_on_read(&s, 900100, 100, READAHEAD_UNKNOWN_SIZE, &p);	/* a new stream */
	TAP_CHECK(p.seq);
	TAP_EQ_INT(s.win, 2 * CH);		/* starts small again */
}

static void
test_first_read_not_at_zero(void)
{
	struct readahead s;
	struct readahead_plan p;

	readahead_init(&s, CH, 2 * CH, 16 * CH);
	readahead_on_read(&s, 5000, 100, READAHEAD_UNKNOWN_SIZE, &p);
	TAP_CHECK(!p.seq);
	readahead_on_read(&s, 5100, 100, READAHEAD_UNKNOWN_SIZE, &p);
	TAP_CHECK(p.seq);
}

static void
test_file_size_bound(void)
{
	struct readahead s;
	struct readahead_plan p;

	readahead_init(&s, CH, 2 * CH, 16 * CH);
	readahead_on_read(&s, 0, 100, 1500, &p);
	TAP_EQ_INT(p.want_to, 2 * CH);		/* up to the chunk holding EOF */
	readahead_on_read(&s, 100, 100, 50, &p);	/* the hint is stale: the read still counts */
	TAP_EQ_INT(p.want_to, CH);
	readahead_reset(&s);
	readahead_on_read(&s, 0, 10, 0, &p);		/* empty file */
	TAP_EQ_INT(p.want_from, 0);
	TAP_EQ_INT(p.want_to, CH);
}

static void
test_reset_and_rounding(void)
{
	struct readahead s;
	struct readahead_plan p;

	readahead_init(&s, CH, 1500, 1999);
	TAP_EQ_INT(s.min_win, 2 * CH);
	TAP_EQ_INT(s.max_win, 2 * CH);
	TAP_EQ_INT(readahead_floor(&s, 2999), 2000);
	TAP_EQ_INT(readahead_ceil(&s, 2001), 3000);
	TAP_EQ_INT(readahead_ceil(&s, 3000), 3000);
	readahead_on_read(&s, 0, 10, READAHEAD_UNKNOWN_SIZE, &p);
	readahead_on_read(&s, 10, 10, READAHEAD_UNKNOWN_SIZE, &p);
	readahead_reset(&s);
	TAP_CHECK(!s.started);
	readahead_on_read(&s, 20, 10, READAHEAD_UNKNOWN_SIZE, &p);
	TAP_CHECK(!p.seq);			/* after a write the stream restarts */
	readahead_on_read(&s, UINT64_MAX - 5, 100, READAHEAD_UNKNOWN_SIZE, &p);	/* no overflow */
	TAP_CHECK(p.want_to >= p.want_from);
}

int
main(void)
{
	test_sequential_growth();
	test_out_of_order_and_random();
	test_first_read_not_at_zero();
	test_file_size_bound();
	test_reset_and_rounding();
	return tap_done();
}
