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
	struct wb *w;
	atomic_int state;	/* 0 waiting, 1 got through, 2 error */
	int r;
};

static void *
reserve_thread(void *arg)
{
	struct blocked *b = arg;

	b->r = wb_reserve(b->w, 60);
	atomic_store(&b->state, b->r == 0 ? 1 : 2);
	return NULL;
}

static void
test_bound(void)
{
	struct wb w;
	struct blocked b = { .w = &w };
	pthread_t t;

	wb_init(&w, 100);
	TAP_EQ_INT(wb_reserve(&w, 60), 0);
	TAP_EQ_INT(wb_pending(&w), 1);
	pthread_create(&t, NULL, reserve_thread, &b);
	sleep_ms(50);
	TAP_EQ_INT(atomic_load(&b.state), 0);	/* 60 + 60 > 100: waits */
	wb_done(&w, 60, 0);
	pthread_join(t, NULL);
	TAP_EQ_INT(atomic_load(&b.state), 1);
	wb_done(&w, 60, 0);
	/* one request larger than the limit goes alone */
	TAP_EQ_INT(wb_reserve(&w, 500), 0);
	wb_done(&w, 500, 0);
	TAP_EQ_INT(wb_drain(&w), 0);
	TAP_EQ_INT(w.total, 620);
	wb_destroy(&w);
}

static void
test_sticky_error(void)
{
	struct wb w;
	struct blocked b = { .w = &w };
	pthread_t t;

	wb_init(&w, 100);
	TAP_EQ_INT(wb_reserve(&w, 60), 0);
	pthread_create(&t, NULL, reserve_thread, &b);
	sleep_ms(30);
	wb_done(&w, 60, -ENOSPC);		/* the waiter learns it at once */
	pthread_join(t, NULL);
	TAP_EQ_INT(b.r, -ENOSPC);
	TAP_EQ_INT(wb_reserve(&w, 1), -ENOSPC);
	TAP_EQ_INT(wb_drain(&w), -ENOSPC);
	TAP_EQ_INT(wb_drain(&w), -ENOSPC);	/* still there at close */
	wb_fail(&w, -EIO);			/* the first one wins */
	TAP_EQ_INT(wb_drain(&w), -ENOSPC);
	wb_destroy(&w);
}

struct completer {
	struct wb *w;
	int n;
};

static void *
complete_later(void *arg)
{
	struct completer *c = arg;
	int i;

	for (i = 0; i < c->n; i++) {
		sleep_ms(2);
		wb_done(c->w, 10, 0);
	}
	return NULL;
}

static void
test_drain_waits(void)
{
	struct wb w;
	struct completer c = { .w = &w, .n = 20 };
	pthread_t t;
	int i;

	wb_init(&w, 0);
	TAP_EQ_INT(w.limit, 8u << 20);
	for (i = 0; i < 20; i++)
		wb_reserve(&w, 10);
	pthread_create(&t, NULL, complete_later, &c);
	TAP_EQ_INT(wb_drain(&w), 0);
	TAP_EQ_INT(wb_pending(&w), 0);		/* all 20 were answered */
	pthread_join(t, NULL);
	wb_destroy(&w);
}

int
main(void)
{
	test_bound();
	test_sticky_error();
	test_drain_waits();
	return tap_done();
}
