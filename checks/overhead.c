/* chk-overhead: measures what the light plan adds to a plain connect.
 *
 *   chk-overhead [user@]host:[path] [-p PORT] [-o OPT,...] [-n ROUNDS]
 *
 * Alternates, ROUNDS times: (a) a plain session_open + STAT of the
 * root, as a mount without checks would do; (b) chk_run(CHK_PLAN_LIGHT),
 * which leaves the same started session. Prints the median of each and the
 * difference. Run it through test/tools/delayproxy.py to turn the
 * difference into round trips. A measuring tool, not a test; not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "folder.h"
#include "fxc.h"
#include "result.h"
#include "util.h"
#include "rfs.h"
#include "session.h"

static int
plain(const struct opts *o)
{
	struct fxc *c = NULL;
	struct fxp_attr a;
	char err[256], *home = NULL, *root = NULL;
	int r;

	r = session_open(o, NULL, &c, err, sizeof(err));
	if (r == 0 && chk_root_needs_home(o->path))
		r = rfs_home(c, &home);
	if (r == 0)
		r = chk_root_path(home, o->path, &root);
	if (r == 0)
		r = rfs_stat(c, root, &a);
	free(home);
	free(root);
	fxc_free(c);
	return r;
}

/* Per-check seconds of the light runs, to see where the time goes. */
struct per_check {
	double reach[1000], folder[1000];
};

static int
light(const struct opts *o, struct per_check *pc, int i)
{
	struct chk_result res[CHK_COUNT];
	struct chk_session ss;
	int r = chk_run(o, CHK_PLAN_LIGHT, res, &ss);

	if (r < 0)
		chk_report_failure(res);
	pc->reach[i] = res[CHK_REACHABLE].seconds;
	pc->folder[i] = res[CHK_FOLDER].seconds;
	chk_session_close(&ss);
	return r;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
parse(int argc, char **argv, struct opts *o, int *rounds)
{
	char err[OPTS_ERR_LEN];
	int c;

	while ((c = getopt(argc, argv, "p:o:n:")) != -1) {
		if (c == 'p')
			o->port = (int)strtol(optarg, NULL, 10);
		else if (c == 'n')
			*rounds = (int)strtol(optarg, NULL, 10);
		else if (c != 'o' || opts_apply_list(o, optarg, err, sizeof(err)) < 0)
			return -EINVAL;
	}
	if (optind != argc - 1 || opts_parse_remote(o, argv[optind], err, sizeof(err)) < 0)
		return -EINVAL;
	return *rounds > 0 && *rounds <= 1000 ? 0 : -EINVAL;
}

int
main(int argc, char **argv)
{
	static double tp[1000], tl[1000];
	static struct per_check pc;
	struct opts o;
	int rounds = 20;

	opts_init(&o);
	if (parse(argc, argv, &o, &rounds) < 0) {
		fprintf(stderr, "usage: chk-overhead [user@]host:[path] [-p PORT] [-o OPT] [-n ROUNDS]\n");
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		double t0 = util_now_s();

		if (plain(&o) < 0)
			return 2;
		tp[i] = util_now_s() - t0;
		t0 = util_now_s();
		if (light(&o, &pc, i) < 0)
			return 3;
		tl[i] = util_now_s() - t0;
	}
	qsort(tp, (size_t)rounds, sizeof(double), cmp);
	qsort(tl, (size_t)rounds, sizeof(double), cmp);
	qsort(pc.reach, (size_t)rounds, sizeof(double), cmp);
	qsort(pc.folder, (size_t)rounds, sizeof(double), cmp);
	printf("rounds %d: plain connect+stat median %.1f ms, light plan median %.1f ms, "
	       "overhead %.1f ms\n", rounds, tp[rounds / 2] * 1e3, tl[rounds / 2] * 1e3,
	       (tl[rounds / 2] - tp[rounds / 2]) * 1e3);
	printf("light plan medians: reachable probe %.1f ms, folder check %.1f ms\n",
	       pc.reach[rounds / 2] * 1e3, pc.folder[rounds / 2] * 1e3);
	opts_free(&o);
	return 0;
}
