/* cli: host arguments, numbers, shell quoting and the option loop. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

static int
host(const char *spec, bool user, const char *wu, const char *wh, int wp)
{
	struct cli_host h;
	char err[256];
	int ok;

	if (cli_parse_host(spec, user, &h, err, sizeof(err)) < 0)
		return 0;
	ok = ((!wu && !h.user) || (wu && h.user && !strcmp(wu, h.user))) &&
	     !strcmp(wh, h.host) && h.port == wp;
	cli_host_free(&h);
	return ok;
}

static int
bad_host(const char *spec, bool user)
{
	struct cli_host h;
	char err[256] = "";

	return cli_parse_host(spec, user, &h, err, sizeof(err)) == -EINVAL && err[0];
}

static void
test_host(void)
{
	TAP_CHECK(host("example.org", false, NULL, "example.org", 0));
	TAP_CHECK(host("example.org:2222", false, NULL, "example.org", 2222));
	TAP_CHECK(host("bob@example.org:22", true, "bob", "example.org", 22));
	TAP_CHECK(host("[::1]:2200", false, NULL, "::1", 2200));
	TAP_CHECK(host("[fe80::1%eth0]", false, NULL, "fe80::1%eth0", 0));
	TAP_CHECK(host("::1", false, NULL, "::1", 0));
	TAP_CHECK(host("2001:db8::7", true, NULL, "2001:db8::7", 0));
	TAP_CHECK(host("a.b@c@host", true, "a.b@c", "host", 0));
	TAP_CHECK(bad_host("bob@host", false));
	TAP_CHECK(bad_host("host:0", false));
	TAP_CHECK(bad_host("host:65536", false));
	TAP_CHECK(bad_host("host:", false));
	TAP_CHECK(bad_host("host:22x", false));
	TAP_CHECK(bad_host("-oProxyCommand=x", false));
	TAP_CHECK(bad_host("ho st", false));
	TAP_CHECK(bad_host("host;rm", false));
	TAP_CHECK(bad_host("$(x)", false));
	TAP_CHECK(bad_host("", false));
	TAP_CHECK(bad_host("[::1", false));
	TAP_CHECK(bad_host("[::1]x", false));
	TAP_CHECK(bad_host("@host", true));
	TAP_CHECK(bad_host("-u@host", true));
	TAP_CHECK(bad_host("u'x@host", true));
}

static void
test_numbers(void)
{
	unsigned long v = 0;

	TAP_EQ_INT(cli_parse_ulong("42", 1, 100, &v), 0);
	TAP_EQ_INT(v, 42);
	TAP_EQ_INT(cli_parse_ulong("0", 1, 100, &v), -EINVAL);
	TAP_EQ_INT(cli_parse_ulong("101", 1, 100, &v), -EINVAL);
	TAP_EQ_INT(cli_parse_ulong("-1", 0, 100, &v), -EINVAL);
	TAP_EQ_INT(cli_parse_ulong(" 1", 0, 100, &v), -EINVAL);
	TAP_EQ_INT(cli_parse_ulong("1x", 0, 100, &v), -EINVAL);
	TAP_EQ_INT(cli_parse_ulong("", 0, 100, &v), -EINVAL);
	TAP_EQ_INT(cli_parse_ulong("99999999999999999999999", 0, ~0UL, &v), -EINVAL);
	TAP_CHECK(cli_printable("plain text"));
	TAP_CHECK(!cli_printable("new\nline"));
	TAP_CHECK(!cli_printable("del\x7f"));
}

static int
quoted(const char *s, bool fish, const char *want)
{
	char b[128];

	return cli_shell_quote(s, fish, b, sizeof(b)) == 0 && !strcmp(b, want);
}

static void
test_quote(void)
{
	char small[4];

	TAP_CHECK(quoted("/tmp/ssh-X/agent.12", false, "/tmp/ssh-X/agent.12"));
	TAP_CHECK(quoted("a b", false, "'a b'"));
	TAP_CHECK(quoted("it's", false, "'it'\\''s'"));
	TAP_CHECK(quoted("it's", true, "'it\\'s'"));
	TAP_CHECK(quoted("a\\b", false, "'a\\b'"));
	TAP_CHECK(quoted("a\\b", true, "'a\\\\b'"));
	TAP_CHECK(quoted("$HOME", false, "'$HOME'"));
	TAP_CHECK(quoted("", false, "''"));
	TAP_EQ_INT(cli_shell_quote("abcdef", false, small, sizeof(small)), -ENAMETOOLONG);
	TAP_EQ_INT(cli_shell_quote("a b c", false, small, sizeof(small)), -ENAMETOOLONG);
}

struct seen {
	int x;
	const char *v;
};

/* -x counts, -v VALUE is kept unless it is "bad". */
static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct seen *s = ctx;

	if (c == 'x')
		s->x++;
	else if (c == 'v' && !strcmp(arg, "bad"))
		return cli_usage(cmd, "-v bad");
	else if (c == 'v')
		s->v = arg;
	return 0;
}

/* Runs the loop over a NULL-terminated list, with one operand 'what'
 * (optional when 'opt'). */
static int
getopt_run(struct seen *s, struct cli_conn *conn, const char *what, bool opt, char **argv)
{
	static const struct option lo[] = {
		{ "value", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = "test", .shortopts = ":xv:p:F:o:h", .longopts = lo, .conn = conn,
		.take = take, .ctx = s, .operand = what, .operand_optional = opt,
	};
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(s, 0, sizeof(*s));
	return cli_getopt(&sp, argc, argv);
}

static void
test_getopt(void)
{
	char *ok[] = { "cmd", "-x", "--value", "V", "-p", "2222", "-o", "A=1", "-x", "HOST", NULL };
	char *help[] = { "cmd", "-x", "--help", "--bogus", NULL };
	char *unknown[] = { "cmd", "--bogus", NULL };
	char *missing[] = { "cmd", "-v", NULL };
	char *refused[] = { "cmd", "-v", "bad", NULL };
	char *port[] = { "cmd", "-p", "99999", NULL };
	char *two[] = { "cmd", "A", "B", NULL };
	struct cli_conn conn;
	struct seen s;

	cli_conn_init(&conn);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", false, ok), 0);
	TAP_CHECK(s.x == 2 && s.v && !strcmp(s.v, "V"));
	TAP_CHECK(conn.port == 2222 && conn.lists.n == 1);
	TAP_EQ_INT(optind, 9);
	TAP_EQ_INT(getopt_run(&s, &conn, NULL, false, ok), CLI_EXIT_USAGE);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", false, help), -1);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", false, unknown), CLI_EXIT_USAGE);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", false, missing), CLI_EXIT_USAGE);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", false, refused), CLI_EXIT_USAGE);
	TAP_CHECK(s.v == NULL);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", false, port), CLI_EXIT_USAGE);
	/* operands: one too many, one missing, an optional one left out */
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", true, two), CLI_EXIT_USAGE);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", false, missing + 1), CLI_EXIT_USAGE);
	TAP_EQ_INT(getopt_run(&s, &conn, "HOST", true, missing + 1), 0);
	TAP_EQ_INT(getopt_run(&s, &conn, NULL, false, missing + 1), 0);
	/* without a cli_conn, -p goes to take, which ignores it here */
	TAP_EQ_INT(getopt_run(&s, NULL, "HOST", false, ok), 0);
	TAP_CHECK(s.x == 2);
	cli_conn_free(&conn);
}

int
main(void)
{
	test_host();
	test_numbers();
	test_quote();
	test_getopt();
	return tap_done();
}
