/* random-id: the seed's randomId(size=6, chars=A-Z0-9), from libsodium's
 * generator through checks/randid (the same code names the checks' temp
 * files). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "randid.h"

#define CMD "random-id"
#define MAX_SIZE 4096
#define MAX_CHARS 256

static const char help[] =
	"Usage: " CLI_PROG " random-id [--size N] [--chars SET]\n"
	"Print a random string of N characters drawn uniformly (libsodium's\n"
	"randombytes_uniform, no modulo bias) from SET.\n"
	"\n"
	"  -s, --size N            length, 1-4096 (default 6)\n"
	"  -c, --chars SET         printable ASCII characters, each at most once,\n"
	"                          1-94 of them (default A-Z0-9)\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 printed, 1 usage.\n";

/* A set with repeats would silently weight some characters. */
static const char *
check_set(const char *set)
{
	if (!*set)
		return "the set is empty";
	for (const char *p = set; *p; p++) {
		if (*p < 0x21 || *p > 0x7e)
			return "only printable ASCII characters other than space may be used";
		if (strchr(p + 1, *p))
			return "a character is listed twice";
	}
	return NULL;
}

struct rid_args {
	const char *chars;
	unsigned long size;
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct rid_args *a = ctx;
	const char *why;

	switch (c) {
	case 's':
		if (cli_parse_ulong(arg, 1, MAX_SIZE, &a->size) < 0)
			return cli_usage(cmd, "--size %s: a length from 1 to %d", arg, MAX_SIZE);
		break;
	case 'c':
		if ((why = check_set(arg)))
			return cli_usage(cmd, "--chars: %s", why);
		a->chars = arg;
		break;
	}
	return 0;
}

int
cmd_random_id(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "chars", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rid_args a = { .chars = RANDID_CHARS, .size = RANDID_SIZE };
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":s:c:h",
		.longopts = lo,
		.take = take,
		.ctx = &a,
	};
	char buf[MAX_SIZE + 1];
	int rc;

	rc = cli_getopt(&sp, argc, argv);
	if (rc)
		return rc < 0 ? cli_help(help) : rc;
	if (strlen(a.chars) > MAX_CHARS || randid_make(buf, sizeof(buf), a.size, a.chars) < 0) {
		cli_error(CMD, NULL, "the random generator is not usable");
		return CLI_EXIT_LOCAL;
	}
	printf("%s\n", buf);
	return CLI_EXIT_OK;
}
