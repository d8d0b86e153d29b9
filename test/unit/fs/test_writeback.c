/* Unit tests for fs/writeback.c: the in-flight bound blocks and releases
 * writers, the first error is sticky, drain waits for everything. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "writeback.h"

static void
sleep_ms(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

struct blocked {
	struct writeback *w;
	atomic_int state;	/* 0 waiting, 1 got through, 2 error */
	int r;
};

static void *
reserve_thread(void *arg)
{
	struct blocked *b = arg;

	b->r = writeback_reserve(b->w, 60);
	atomic_store(&b->state, b->r == 0 ? 1 : 2);
	return NULL;
}

static void
test_bound(void)
{
	struct writeback w;
	struct blocked b = { .w = &w };
	pthread_t t;

	writeback_init(&w, 100);
	TAP_EQ_INT(writeback_reserve(&w, 60), 0);
	TAP_EQ_INT(writeback_pending(&w), 1);
	pthread_create(&t, NULL, reserve_thread, &b);
	sleep_ms(50);
	TAP_EQ_INT(atomic_load(&b.state), 0);	/* 60 + 60 > 100: waits */
	writeback_done(&w, 60, 0);
	pthread_join(t, NULL);
	TAP_EQ_INT(atomic_load(&b.state), 1);
	writeback_done(&w, 60, 0);
	/* one request larger than the limit goes alone */
	TAP_EQ_INT(writeback_reserve(&w, 500), 0);
	writeback_done(&w, 500, 0);
	TAP_EQ_INT(writeback_drain(&w), 0);
	TAP_EQ_INT(w.total, 620);
	writeback_destroy(&w);
}

static void
test_sticky_error(void)
{
	struct writeback w;
	struct blocked b = { .w = &w };
	pthread_t t;

	writeback_init(&w, 100);
	TAP_EQ_INT(writeback_reserve(&w, 60), 0);
	pthread_create(&t, NULL, reserve_thread, &b);
	sleep_ms(30);
	writeback_done(&w, 60, -ENOSPC);		/* the waiter learns it at once */
	pthread_join(t, NULL);
	TAP_EQ_INT(b.r, -ENOSPC);
	TAP_EQ_INT(writeback_reserve(&w, 1), -ENOSPC);
	TAP_EQ_INT(writeback_drain(&w), -ENOSPC);
	TAP_EQ_INT(writeback_drain(&w), -ENOSPC);	/* still there at close */
	writeback_fail(&w, -EIO);			/* the first one wins */
	TAP_EQ_INT(writeback_drain(&w), -ENOSPC);
	writeback_destroy(&w);
}

struct completer {
	struct writeback *w;
	int n;
};

static void *
complete_later(void *arg)
{
	struct completer *c = arg;
	int i;

	for (i = 0; i < c->n; i++) {
		sleep_ms(2);
		writeback_done(c->w, 10, 0);
	}
	return NULL;
}

static void *
complete_one(void *arg)
{
	sleep_ms(30);
	writeback_done(arg, 30, 0);
	return NULL;
}

static void
test_drain_waits(void)
{
	struct writeback w;
	struct completer c = { .w = &w, .n = 20 };
	pthread_t t;
	int i;

	writeback_init(&w, 0);
	TAP_EQ_INT(w.limit, 8u << 20);
	for (i = 0; i < 20; i++)
		writeback_reserve(&w, 10);
	pthread_create(&t, NULL, complete_later, &c);
	TAP_EQ_INT(writeback_drain(&w), 0);
	TAP_EQ_INT(writeback_pending(&w), 0);		/* all 20 were answered */
	pthread_join(t, NULL);
	writeback_destroy(&w);
}

static void *
drain_thread(void *arg)
{
	struct blocked *b = arg;

	b->r = writeback_drain(b->w);
	atomic_store(&b->state, 1);
	return NULL;
}

/* A request whose link died stays counted, wakes drain and reserve with
 * -ENOTCONN (even over a sticky error: lost data comes first for drain),
 * and once found again is finished like any other. */
static void
test_lost(void)
{
	struct writeback w;
	struct blocked b = { .w = &w };
	pthread_t t;

	writeback_init(&w, 100);
	TAP_EQ_INT(writeback_reserve(&w, 60), 0);
	TAP_EQ_INT(writeback_reserve(&w, 30), 0);
	pthread_create(&t, NULL, drain_thread, &b);
	sleep_ms(30);
	TAP_EQ_INT(atomic_load(&b.state), 0);		/* two in flight: waits */
	writeback_lost(&w);				/* the 60 lost its link */
	pthread_join(t, NULL);
	TAP_EQ_INT(b.r, -ENOTCONN);
	TAP_EQ_INT(writeback_reserve(&w, 1), -ENOTCONN);
	TAP_EQ_INT(writeback_pending(&w), 2);		/* still counted */

	/* wait_lost returns once the other one is answered */
	pthread_create(&t, NULL, complete_one, &w);
	writeback_wait_lost(&w);
	TAP_EQ_INT(writeback_pending(&w), 1);
	pthread_join(t, NULL);

	writeback_found(&w);				/* sent again */
	TAP_EQ_INT(writeback_reserve(&w, 40), 0);	/* 60 + 40 fits */
	writeback_done(&w, 40, 0);
	writeback_done(&w, 60, 0);
	TAP_EQ_INT(writeback_drain(&w), 0);

	/* lost after a sticky error: drain still says lost first */
	TAP_EQ_INT(writeback_reserve(&w, 10), 0);
	writeback_fail(&w, -ENOSPC);
	writeback_lost(&w);
	TAP_EQ_INT(writeback_drain(&w), -ENOTCONN);
	TAP_EQ_INT(writeback_reserve(&w, 10), -ENOSPC);
	writeback_found(&w);				/* given up */
	writeback_done(&w, 10, -EIO);
	TAP_EQ_INT(writeback_drain(&w), -ENOSPC);
	TAP_EQ_INT(writeback_pending(&w), 0);
	writeback_destroy(&w);
}

int
main(void)
{
	test_bound();
	test_sticky_error();
	test_drain_waits();
	test_lost();
	return tap_done();
}
