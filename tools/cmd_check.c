/* check [user@]host:[path]: the pre-mount checks without mounting (the
 * seed's preMountCheck(first_run=True)). Prints each check with its outcome
 * and time; --json prints the stable list documented in checks/report.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "cli.h"
#include "cmds.h"

#define CMD "check"

/* Exit statuses: 0 all passed; 1 usage; 7 internal error; 10 + the id of
 * the check that failed (checks.h order). */
#define CHECK_EXIT_FAILED_BASE 10

static const char help[] =
	"Usage: " CLI_PROG " check [user@]host:[path] [-p PORT] [-F FILE] [-o OPT,...]\n"
	"                          [--light] [--json]\n"
	"Run the pre-mount checks of sshmountfs without mounting: the full plan\n"
	"(reachable, known-host, login, cipher, commands, hardlink, folder), or\n"
	"with --light the plan every mount runs (reachable, known-host, login,\n"
	"folder). The -o options are sshmountfs's (check_commands=a,b,\n"
	"check_commands=no, nice, ionice, nocache, sftp_server=, Ciphers=, ...).\n"
	"A missing remote folder is created, as the mount would.\n"
	"\n"
	"  -p PORT       SSH port\n"
	"  -F FILE       ssh config file instead of ~/.ssh/config\n"
	"  -o OPT,...    sshmountfs options\n"
	"      --light   only the light plan\n"
	"      --json    print a JSON list, one object per check:\n"
	"                {\"check\", \"outcome\" (passed|failed|skipped|not-run),\n"
	"                 \"reason\", \"message\", \"hint\", \"detail\", \"warning\",\n"
	"                 \"seconds\", \"attempts\"}\n"
	"  -h, --help    this text\n"
	"\n"
	"Exit status: 0 every check passed (or was skipped), 1 usage, 7 internal\n"
	"error, 10 reachable, 11 known-host, 12 login, 13 cipher, 14 commands,\n"
	"15 hardlink, 16 folder failed.\n";

/* host:path into o, with -p/-F/-o applied through cli.c. */
static int
build_opts(const struct cli_conn *conn, const char *spec, struct opts *o)
{
	struct opts tmp;
	struct cli_host h = { 0 };
	char err[OPTS_ERR_LEN] = "";
	int rc;

	opts_init(&tmp);
	if (opts_parse_remote(&tmp, spec, err, sizeof(err)) < 0) {
		opts_free(&tmp);
		return cli_usage(CMD, "%s: %s", spec, err);
	}
	h.user = tmp.user;
	h.host = tmp.host;
	rc = cli_conn_opts(CMD, conn, &h, o);
	if (rc == 0 && tmp.path && tmp.path[0] && opts_set_string(&o->path, tmp.path) < 0) {
		cli_error(CMD, NULL, "out of memory");
		rc = CLI_EXIT_LOCAL;
	}
	opts_free(&tmp);
	return rc;
}

static int
run(const struct opts *o, bool light, bool json)
{
	struct chk_result res[CHK_COUNT];
	int r = chk_run(o, light ? CHK_PLAN_LIGHT : CHK_PLAN_FULL, res, NULL);
	int failed = chk_failed(res);

	if (json)
		chk_report_json(stdout, res);
	else
		chk_report_text(stdout, res);
	fflush(stdout);
	if (failed >= 0) {
		chk_report_failure(res);
		return CHECK_EXIT_FAILED_BASE + failed;
	}
	if (r < 0) {
		cli_error(CMD, NULL, "the checks could not run: %s", strerror(-r));
		return CLI_EXIT_LOCAL;
	}
	return CLI_EXIT_OK;
}

struct check_args {
	struct cli_conn conn;
	bool json, light;
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct check_args *a = ctx;

	(void)cmd;
	(void)arg;
	if (c == 'J')
		a->json = true;
	else if (c == 'L')
		a->light = true;
	return 0;
}

static int
parse_args(int argc, char **argv, struct check_args *a)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "light", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":p:F:o:h",
		.longopts = lo,
		.conn = &a->conn,
		.take = take,
		.ctx = a,
		.operand = "[user@]host:[path]",
	};

	return cli_getopt(&sp, argc, argv);
}

int
cmd_check(int argc, char **argv)
{
	struct check_args a = { .json = false };
	struct opts o;
	int rc;

	cli_conn_init(&a.conn);
	opts_init(&o);
	rc = parse_args(argc, argv, &a);
	if (rc == -1)
		rc = cli_help(help);
	else if (rc == 0 && (rc = build_opts(&a.conn, argv[optind], &o)) == 0)
		rc = run(&o, a.light, a.json);
	opts_free(&o);
	cli_conn_free(&a.conn);
	return rc;
}
