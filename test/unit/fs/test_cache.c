/* Unit tests for fs/cache.c with a fake clock: timeouts per kind, our own
 * changes (create, remove, rename, write), the generation guard against
 * stale replies, negative lookups from complete listings, content stamps,
 * size-limit cleaning, cache=no, and concurrent use. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "tap.h"

static double fake_now;

static double
clock_fn(void *arg)
{
	(void)arg;
	return fake_now;
}

/* 'edit': our own name changes edit cached listings (-o exclusive). */
static struct cache *
mk_edit(bool enabled, unsigned max, bool edit)
{
	struct cache_config cfg = {
		.enabled = enabled, .stat_timeout = 20, .dir_timeout = 10,
		.link_timeout = 5, .max_size = max, .now = clock_fn,
		.edit_listings = edit,
	};
	struct cache *c = NULL;

	fake_now = 1000;
	cache_new(&cfg, &c);
	return c;
}

static struct cache *
mk(bool enabled, unsigned max)
{
	return mk_edit(enabled, max, false);
}

static struct stat
st_of(mode_t mode, off_t size, time_t mtime)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_size = size;
	st.st_mtim.tv_sec = mtime;
	return st;
}

static void
put_dir_gen(struct cache *c, const char *dir, const char *const *names, size_t n,
	    uint64_t gen)
{
	struct cache_dirent e[16];
	size_t i;

	for (i = 0; i < n; i++) {
		e[i].name = (char *)names[i];
		e[i].type = S_IFREG;
	}
	cache_put_dir(c, dir, e, n, gen);
}

static void
put_dir(struct cache *c, const char *dir, const char *const *names, size_t n)
{
	put_dir_gen(c, dir, names, n, cache_gen(c));
}

static int
collect(void *arg, const char *name, mode_t type)
{
	char *buf = arg;
	size_t n = strlen(buf);

	(void)type;
	snprintf(buf + n, 256 - n, "%s,", name);
	return 0;
}

static const char *
listing(struct cache *c, const char *dir, char *buf)
{
	buf[0] = '\0';
	if (!cache_get_dir(c, dir, collect, buf))
		return "(miss)";
	return buf;
}

static void
test_attr_timeout(void)
{
	struct cache *c = mk(true, 0);
	struct stat st = st_of(S_IFREG | 0644, 42, 7), got;

	TAP_CHECK(!cache_get_attr(c, "/a", &got));
	cache_put_attr(c, "/a", &st, cache_gen(c));
	TAP_CHECK(cache_get_attr(c, "/a", &got) && got.st_size == 42);
	fake_now += 19.9;
	TAP_CHECK(cache_get_attr(c, "/a", &got));
	fake_now += 0.2;
	TAP_CHECK(!cache_get_attr(c, "/a", &got));
	cache_free(c);
}

static void
test_generation_guard(void)
{
	struct cache *c = mk(true, 0);
	struct stat st = st_of(S_IFREG | 0644, 1, 1), got;
	uint64_t g = cache_gen(c);

	/* a write lands while an LSTAT is in flight: its reply is stale */
	cache_invalidate_attr(c, "/f");
	cache_put_attr(c, "/f", &st, g);
	TAP_CHECK(!cache_get_attr(c, "/f", &got));
	cache_put_attr(c, "/f", &st, cache_gen(c));
	TAP_CHECK(cache_get_attr(c, "/f", &got));
	cache_invalidate_attr(c, "/f");
	TAP_CHECK(!cache_get_attr(c, "/f", &got));
	cache_free(c);
}

/* Which of our changes make which in-flight replies stale. */
static void
test_stale_rules(void)
{
	static const char *const names[] = { "x" };
	struct cache *c = mk(true, 0);
	struct stat st = st_of(S_IFREG | 0644, 1, 1), got;
	char buf[256];
	uint64_t g;
	int i;

	g = cache_gen(c);
	cache_invalidate_attr(c, "/b");
	cache_put_attr(c, "/a", &st, g);		/* another file: kept */
	TAP_CHECK(cache_get_attr(c, "/a", &got));
	g = cache_gen(c);
	cache_removed(c, "/d");
	cache_put_attr(c, "/d/x", &st, g);		/* under a removed dir: dropped */
	TAP_CHECK(!cache_get_attr(c, "/d/x", &got));
	g = cache_gen(c);
	cache_renamed(c, "/e", "/f", S_IFDIR);
	cache_put_attr(c, "/f/y", &st, g);		/* under a rename target */
	TAP_CHECK(!cache_get_attr(c, "/f/y", &got));
	g = cache_gen(c);
	cache_created(c, "/g/new", S_IFREG, false);
	put_dir_gen(c, "/g", names, 1, g);		/* a name changed in it */
	TAP_CHECK(strcmp(listing(c, "/g", buf), "(miss)") == 0);
	g = cache_gen(c);
	cache_invalidate_attr(c, "/g/x");		/* only x's attributes */
	put_dir_gen(c, "/g", names, 1, g);
	TAP_CHECK(strcmp(listing(c, "/g", buf), "x,") == 0);
	g = cache_gen(c);
	cache_created(c, "/g/sub/deep", S_IFREG, false);	/* not a name of /g */
	put_dir_gen(c, "/h", names, 1, g);
	TAP_CHECK(strcmp(listing(c, "/h", buf), "x,") == 0);
	g = cache_gen(c);
	for (i = 0; i < 300; i++)			/* more than the ring remembers */
		cache_invalidate_attr(c, "/other");
	cache_put_attr(c, "/z", &st, g);
	TAP_CHECK(!cache_get_attr(c, "/z", &got));	/* too old to tell: dropped */
	cache_put_attr(c, "/z", &st, cache_gen(c));
	TAP_CHECK(cache_get_attr(c, "/z", &got));
	cache_free(c);
}

static void
test_replace(void)
{
	struct cache *c = mk(true, 0);
	struct stat st = st_of(S_IFREG | 0600, 9, 9), old = st_of(S_IFREG | 0644, 1, 1), got;
	uint64_t g;

	cache_put_attr(c, "/f", &old, cache_gen(c));
	g = cache_gen(c);
	cache_replace_attr(c, "/f", &st, g);		/* nothing in between */
	TAP_CHECK(cache_get_attr(c, "/f", &got) && got.st_mode == (S_IFREG | 0600));
	TAP_CHECK(cache_gen(c) != g);			/* in-flight replies are stale */
	g = cache_gen(c);
	cache_invalidate_attr(c, "/other");		/* unrelated: no harm */
	cache_replace_attr(c, "/f", &st, g);
	TAP_CHECK(cache_get_attr(c, "/f", &got));
	g = cache_gen(c);
	cache_invalidate_attr(c, "/f");			/* the same file meanwhile */
	cache_replace_attr(c, "/f", &old, g);
	TAP_CHECK(!cache_get_attr(c, "/f", &got));	/* dropped, not the old value */
	cache_put_attr(c, "/f", &old, cache_gen(c));
	cache_replace_attr(c, "/f", NULL, cache_gen(c));
	TAP_CHECK(!cache_get_attr(c, "/f", &got));
	cache_free(c);
}

static void
test_dir_and_negative(void)
{
	static const char *const names[] = { "b", "a", "c" };
	struct cache *c = mk_edit(true, 0, true);
	char buf[256];

	TAP_CHECK(strcmp(listing(c, "/d", buf), "(miss)") == 0);
	TAP_CHECK(!cache_lookup_negative(c, "/d/zz"));
	put_dir(c, "/d", names, 3);
	TAP_CHECK(strcmp(listing(c, "/d", buf), "a,b,c,") == 0);
	/* a listing from the server never says "no such name" */
	TAP_CHECK(!cache_lookup_negative(c, "/d/zz"));
	/* one made by our mkdir does, while fresh */
	cache_created(c, "/n", S_IFDIR, true);
	cache_created(c, "/n/a", S_IFREG, false);
	TAP_CHECK(cache_lookup_negative(c, "/n/zz"));
	TAP_CHECK(!cache_lookup_negative(c, "/n/a"));
	TAP_CHECK(!cache_lookup_negative(c, "/other/zz"));
	TAP_CHECK(!cache_lookup_negative(c, "/"));
	fake_now += 10.5;	/* dir_timeout 10 */
	TAP_CHECK(strcmp(listing(c, "/d", buf), "(miss)") == 0);
	TAP_CHECK(!cache_lookup_negative(c, "/n/zz"));
	cache_free(c);
}

static void
test_created_removed(void)
{
	static const char *const names[] = { "a" };
	struct cache *c = mk_edit(true, 0, true);
	struct stat st = st_of(S_IFREG | 0644, 1, 1), got;
	char buf[256];

	put_dir(c, "/d", names, 1);
	cache_created(c, "/d/new", S_IFREG, false);
	TAP_CHECK(strcmp(listing(c, "/d", buf), "a,new,") == 0);
	/* mkdir: the new directory is known to be empty */
	cache_created(c, "/d/sub", S_IFDIR, true);
	TAP_CHECK(strcmp(listing(c, "/d/sub", buf), "") == 0);
	TAP_CHECK(cache_lookup_negative(c, "/d/sub/x"));
	cache_created(c, "/d/sub/x", S_IFREG, false);
	TAP_CHECK(!cache_lookup_negative(c, "/d/sub/x"));
	/* removal drops the subtree and the name */
	cache_put_attr(c, "/d/sub/x", &st, cache_gen(c));
	cache_removed(c, "/d/sub");
	TAP_CHECK(!cache_get_attr(c, "/d/sub/x", &got));
	TAP_CHECK(strcmp(listing(c, "/d/sub", buf), "(miss)") == 0);
	TAP_CHECK(strcmp(listing(c, "/d", buf), "a,new,") == 0);
	/* created in a directory without a listing: nothing to update */
	cache_created(c, "/e/f", S_IFREG, false);
	TAP_CHECK(strcmp(listing(c, "/e", buf), "(miss)") == 0);
	cache_free(c);
}

/* A name added or removed by us changes the parent's mtime and ctime:
 * its attributes go, and a reply about them in flight is not cached. */
/* By default (as sshfs) a name we add or remove drops the parent's
 * listing: the next readdir asks the server and sees others' names too. */
static void
test_own_changes_drop_listing(void)
{
	static const char *const names[] = { "a" };
	struct cache *c = mk(true, 0);
	char buf[256];

	put_dir(c, "/d", names, 1);
	cache_created(c, "/d/new", S_IFREG, false);
	TAP_CHECK(strcmp(listing(c, "/d", buf), "(miss)") == 0);
	put_dir(c, "/d", names, 1);
	cache_removed(c, "/d/a");
	TAP_CHECK(strcmp(listing(c, "/d", buf), "(miss)") == 0);
	put_dir(c, "/d", names, 1);
	put_dir(c, "/e", names, 1);
	cache_renamed(c, "/d/a", "/e/b", S_IFREG);
	TAP_CHECK(strcmp(listing(c, "/d", buf), "(miss)") == 0);
	TAP_CHECK(strcmp(listing(c, "/e", buf), "(miss)") == 0);
	/* and mkdir leaves no listing of the new directory */
	cache_created(c, "/f", S_IFDIR, false);
	TAP_CHECK(strcmp(listing(c, "/f", buf), "(miss)") == 0);
	TAP_CHECK(!cache_lookup_negative(c, "/f/x"));
	cache_free(c);
}

static void
test_parent_times(void)
{
	struct cache *c = mk(true, 0);
	struct stat dir = st_of(S_IFDIR | 0755, 4096, 5), got;
	uint64_t g;

	cache_put_attr(c, "/d", &dir, cache_gen(c));
	cache_put_attr(c, "/", &dir, cache_gen(c));
	cache_created(c, "/d/f", S_IFREG, false);
	TAP_CHECK(!cache_get_attr(c, "/d", &got));
	TAP_CHECK(cache_get_attr(c, "/", &got));	/* the grandparent did not change */
	cache_put_attr(c, "/d", &dir, cache_gen(c));
	cache_removed(c, "/d/f");
	TAP_CHECK(!cache_get_attr(c, "/d", &got));
	cache_put_attr(c, "/d", &dir, cache_gen(c));
	cache_put_attr(c, "/e", &dir, cache_gen(c));
	cache_renamed(c, "/d/g", "/e/g", S_IFREG);
	TAP_CHECK(!cache_get_attr(c, "/d", &got));
	TAP_CHECK(!cache_get_attr(c, "/e", &got));
	cache_created(c, "/top", S_IFDIR, false);
	TAP_CHECK(!cache_get_attr(c, "/", &got));
	g = cache_gen(c);				/* a getattr of /d leaves */
	cache_created(c, "/d/h", S_IFREG, false);	/* then we add a name */
	cache_put_attr(c, "/d", &dir, g);		/* its old answer arrives */
	TAP_CHECK(!cache_get_attr(c, "/d", &got));
	g = cache_gen(c);
	cache_created(c, "/d/h/deep", S_IFREG, false);	/* not a name of /d */
	cache_put_attr(c, "/d", &dir, g);
	TAP_CHECK(cache_get_attr(c, "/d", &got));
	cache_free(c);
}

static void
test_renamed(void)
{
	static const char *const d1[] = { "x", "y" };
	static const char *const d2[] = { "z" };
	struct cache *c = mk_edit(true, 0, true);
	struct stat st = st_of(S_IFDIR | 0755, 0, 1), got;
	char buf[256];

	put_dir(c, "/d1", d1, 2);
	put_dir(c, "/d2", d2, 1);
	cache_put_attr(c, "/d1/x", &st, cache_gen(c));
	cache_put_attr(c, "/d1/x/in", &st, cache_gen(c));
	cache_renamed(c, "/d1/x", "/d2/w", S_IFDIR);
	TAP_CHECK(!cache_get_attr(c, "/d1/x", &got));
	TAP_CHECK(!cache_get_attr(c, "/d1/x/in", &got));
	TAP_CHECK(strcmp(listing(c, "/d1", buf), "y,") == 0);
	TAP_CHECK(strcmp(listing(c, "/d2", buf), "w,z,") == 0);
	/* rename over an existing name keeps one entry */
	cache_renamed(c, "/d1/y", "/d2/z", S_IFREG);
	TAP_CHECK(strcmp(listing(c, "/d2", buf), "w,z,") == 0);
	TAP_CHECK(strcmp(listing(c, "/d1", buf), "") == 0);
	cache_invalidate_tree(c, "/d2/w");
	TAP_CHECK(strcmp(listing(c, "/d2", buf), "(miss)") == 0);
	cache_free(c);
}

static void
test_links(void)
{
	struct cache *c = mk(true, 0);
	char *t = NULL;

	cache_put_link(c, "/l", "target", cache_gen(c));
	TAP_CHECK(cache_get_link(c, "/l", &t) && strcmp(t, "target") == 0);
	free(t);
	fake_now += 5.1;	/* link_timeout 5 */
	TAP_CHECK(!cache_get_link(c, "/l", &t) && t == NULL);
	cache_put_link(c, "/l", "t2", cache_gen(c));
	cache_removed(c, "/l");
	TAP_CHECK(!cache_get_link(c, "/l", &t));
	cache_free(c);
}

static void
test_stamps(void)
{
	struct cache *c = mk(true, 0);
	struct stat a = st_of(S_IFREG | 0644, 10, 100), b = st_of(S_IFREG | 0644, 10, 101);

	TAP_CHECK(!cache_stamp_match(c, "/f", &a));
	cache_stamp_set(c, "/f", &a);
	TAP_CHECK(cache_stamp_match(c, "/f", &a));
	TAP_CHECK(!cache_stamp_match(c, "/f", &b));	/* mtime changed on the server */
	b.st_mtim.tv_sec = 100;
	b.st_size = 11;
	TAP_CHECK(!cache_stamp_match(c, "/f", &b));	/* size changed */
	fake_now += 1e6;	/* stamps do not expire */
	TAP_CHECK(cache_stamp_match(c, "/f", &a));
	cache_invalidate_attr(c, "/f");		/* attrs only */
	TAP_CHECK(cache_stamp_match(c, "/f", &a));
	cache_stamp_clear(c, "/f");
	TAP_CHECK(!cache_stamp_match(c, "/f", &a));
	cache_stamp_set(c, "/f", &a);
	cache_removed(c, "/f");
	TAP_CHECK(!cache_stamp_match(c, "/f", &a));
	cache_free(c);
}

static void
test_limit(void)
{
	struct cache *c = mk(true, 100);
	struct stat st = st_of(S_IFREG, 1, 1), got;
	char p[32];
	int i, hits = 0;

	for (i = 0; i < 1000; i++) {
		snprintf(p, sizeof(p), "/f%d", i);
		cache_put_attr(c, p, &st, cache_gen(c));
	}
	TAP_CHECK(cache_size(c) <= 100);
	TAP_CHECK(cache_get_attr(c, "/f999", &got));
	for (i = 0; i < 1000; i++) {
		snprintf(p, sizeof(p), "/f%d", i);
		hits += cache_get_attr(c, p, &got);
	}
	TAP_CHECK(hits > 0 && hits <= 100);
	cache_free(c);
}

static void
test_disabled(void)
{
	static const char *const names[] = { "a" };
	struct cache *c = mk(false, 0);
	struct stat st = st_of(S_IFREG, 1, 1), got;
	char buf[256], *t;

	cache_put_attr(c, "/a", &st, cache_gen(c));
	TAP_CHECK(!cache_get_attr(c, "/a", &got));
	put_dir(c, "/", names, 1);
	TAP_CHECK(strcmp(listing(c, "/", buf), "(miss)") == 0);
	TAP_CHECK(!cache_lookup_negative(c, "/zz"));
	cache_put_link(c, "/l", "x", cache_gen(c));
	TAP_CHECK(!cache_get_link(c, "/l", &t));
	cache_stamp_set(c, "/a", &st);
	TAP_CHECK(!cache_stamp_match(c, "/a", &st));
	cache_free(c);
}

static void *
hammer(void *arg)
{
	struct cache *c = arg;
	struct stat st = st_of(S_IFREG, 1, 1), got;
	char p[32];
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "/d/f%d", i % 300);
		switch (i % 5) {
		case 0: cache_put_attr(c, p, &st, cache_gen(c)); break;
		case 1: cache_get_attr(c, p, &got); break;
		case 2: cache_created(c, p, S_IFREG, false); break;
		case 3: cache_removed(c, p); break;
		default: cache_lookup_negative(c, p); break;
		}
	}
	return NULL;
}

static void
test_threads(void)
{
	static const char *const names[] = { "f1" };
	struct cache *c = mk(true, 200);
	pthread_t t[4];
	int i;

	put_dir(c, "/d", names, 1);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, c);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	TAP_CHECK(cache_size(c) <= 200);
	cache_free(c);
}

int
main(void)
{
	test_attr_timeout();
	test_generation_guard();
	test_replace();
	test_stale_rules();
	test_dir_and_negative();
	test_own_changes_drop_listing();
	test_parent_times();
	test_created_removed();
	test_renamed();
	test_links();
	test_stamps();
	test_limit();
	test_disabled();
	test_threads();
	return tap_done();
}
