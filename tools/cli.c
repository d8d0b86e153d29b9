/* cli: see cli.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void
vreport(const char *cmd, const char *hint, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s %s: ", CLI_PROG, cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (hint && *hint)
		fprintf(stderr, "  %s\n", hint);
}

void
cli_error(const char *cmd, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, hint, fmt, ap);
	va_end(ap);
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, NULL, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s %s --help'.\n", CLI_PROG, cmd);
	return CLI_EXIT_USAGE;
}

int
cli_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Host names, IPv4/IPv6 literals and ssh_config aliases; nothing a shell,
 * an option parser or a known_hosts line would read differently. */
static bool
host_ok(const char *h)
{
	if (!*h || *h == '-')
		return false;
	for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
		if (isalnum(*p) || strchr(".-_:%", *p) || *p >= 0x80)
			continue;
		return false;
	}
	return true;
}

static int
split_port(const char *s, struct cli_host *h, char *err, size_t errlen)
{
	unsigned long v;

	if (cli_parse_ulong(s, 1, 65535, &v) < 0) {
		snprintf(err, errlen, "'%s' is not a port number (1-65535)", s);
		return -EINVAL;
	}
	h->port = (int)v;
	return 0;
}

static int
split_hostport(char *rest, struct cli_host *h, char *err, size_t errlen)
{
	char *colon;

	if (*rest == '[') {
		char *close = strchr(rest, ']');

		if (!close || (close[1] && close[1] != ':')) {
			snprintf(err, errlen, "'%s': an IPv6 address in brackets must be "
				 "followed by nothing or :PORT", rest);
			return -EINVAL;
		}
		*close = '\0';
		if (close[1] == ':' && split_port(close + 2, h, err, errlen) < 0)
			return -EINVAL;
		h->host = strdup(rest + 1);
	} else {
		colon = strchr(rest, ':');
		/* One colon is host:port; more is a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			*colon = '\0';
			if (split_port(colon + 1, h, err, errlen) < 0)
				return -EINVAL;
		}
		h->host = strdup(rest);
	}
	if (!h->host)
		return -ENOMEM;
	if (!host_ok(h->host)) {
		snprintf(err, errlen, "'%s' is not a usable host name", h->host);
		return -EINVAL;
	}
	return 0;
}

int
cli_parse_host(const char *spec, bool allow_user, struct cli_host *h,
	       char *err, size_t errlen)
{
	char *copy, *rest, *at;
	int rc = -EINVAL;

	memset(h, 0, sizeof(*h));
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	at = strrchr(copy, '@');
	if (at) {
		*at = '\0';
		rest = at + 1;
		if (!allow_user) {
			snprintf(err, errlen, "'%s': this command takes no user name", spec);
			goto out;
		}
		if (!*copy || *copy == '-' || strpbrk(copy, " \t\n:/'\"\\$`")) {
			snprintf(err, errlen, "'%s' is not a usable user name", copy);
			goto out;
		}
		h->user = strdup(copy);
		if (!h->user) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = split_hostport(rest, h, err, errlen);
out:
	free(copy);
	if (rc < 0)
		cli_host_free(h);
	return rc;
}

void
cli_host_free(struct cli_host *h)
{
	free(h->user);
	free(h->host);
	memset(h, 0, sizeof(*h));
}

void
cli_conn_init(struct cli_conn *c)
{
	memset(c, 0, sizeof(*c));
}

void
cli_conn_free(struct cli_conn *c)
{
	opts_strv_free(&c->lists);
	memset(c, 0, sizeof(*c));
}

int
cli_conn_option(const char *cmd, struct cli_conn *c, int opt, const char *arg)
{
	unsigned long v;

	switch (opt) {
	case 'p':
		if (cli_parse_ulong(arg, 1, 65535, &v) < 0) {
			cli_usage(cmd, "-p %s: not a port number (1-65535)", arg);
			return -EINVAL;
		}
		c->port = (int)v;
		return 1;
	case 'F':
		c->config = arg;
		return 1;
	case 'o':
		if (opts_strv_add(&c->lists, arg) < 0) {
			cli_error(cmd, NULL, "out of memory");
			return -EINVAL;
		}
		return 1;
	}
	return 0;
}

int
cli_conn_opts(const char *cmd, const struct cli_conn *c, const struct cli_host *h,
	      struct opts *o)
{
	char err[OPTS_ERR_LEN] = "";

	opts_init(o);
	for (size_t i = 0; i < c->lists.n; i++) {
		if (opts_apply_list(o, c->lists.v[i], err, sizeof(err)) < 0)
			return cli_usage(cmd, "-o %s: %s", c->lists.v[i], err);
	}
	if (h->port && c->port && h->port != c->port)
		return cli_usage(cmd, "port %d in the host argument and -p %d disagree",
				 h->port, c->port);
	if (c->port)
		o->port = c->port;
	if (h->port)
		o->port = h->port;
	if ((c->config && opts_set_string(&o->ssh_config, c->config) < 0) ||
	    opts_set_string(&o->host, h->host) < 0 ||
	    (h->user && opts_set_string(&o->user, h->user) < 0)) {
		cli_error(cmd, NULL, "out of memory");
		return CLI_EXIT_LOCAL;
	}
	return 0;
}

int
cli_exit_for_sshc(const struct sshc_error *e)
{
	switch (e->code) {
	case SSHC_OK:
		return CLI_EXIT_OK;
	case SSHC_E_CONFIG:
		return CLI_EXIT_USAGE;
	case SSHC_E_DNS:
	case SSHC_E_REFUSED:
	case SSHC_E_TIMEOUT:
	case SSHC_E_NOT_SSH:
	case SSHC_E_KEX:
	case SSHC_E_IO:
		return CLI_EXIT_CONNECT;
	case SSHC_E_HOSTKEY_UNKNOWN:
		return CLI_EXIT_UNKNOWN_HOST;
	case SSHC_E_HOSTKEY_CHANGED:
		return CLI_EXIT_MISMATCH;
	case SSHC_E_AUTH:
	case SSHC_E_PASSPHRASE:
		return CLI_EXIT_AUTH;
	case SSHC_E_CHANNEL:
		return CLI_EXIT_REMOTE;
	}
	return CLI_EXIT_CONNECT;
}

int
cli_sshc_fail(const char *cmd, const struct sshc_error *e)
{
	cli_error(cmd, e->hint, "%s", e->msg[0] ? e->msg : "connection failed");
	if (e->detail[0])
		fprintf(stderr, "%s", e->detail);
	if (e->detail[0] && e->detail[strlen(e->detail) - 1] != '\n')
		fputc('\n', stderr);
	return cli_exit_for_sshc(e);
}

int
cli_home_dir(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());
	int n;

	if (!pw || !pw->pw_dir || !*pw->pw_dir)
		return -ENOENT;
	n = snprintf(buf, len, "%s", pw->pw_dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
cli_ssh_dir(char *buf, size_t len, bool create)
{
	int rc = cli_home_dir(buf, len);

	if (rc < 0)
		return rc;
	if (strlen(buf) + strlen("/.ssh") >= len)
		return -ENAMETOOLONG;
	strncat(buf, "/.ssh", len - strlen(buf) - 1);
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
cli_ssh_dir_find(const char *const *names, size_t n, int amode, char *buf, size_t len)
{
	char dir[4096];
	int k;

	if (cli_ssh_dir(dir, sizeof(dir), false) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		k = snprintf(buf, len, "%s/%s", dir, names[i]);
		if (k > 0 && (size_t)k < len && access(buf, amode) == 0)
			return 0;
	}
	return -ENOENT;
}

int
cli_shell_quote(const char *s, bool fish, char *buf, size_t len)
{
	size_t o = 0;
	bool plain = *s != '\0';

	for (const char *p = s; *p && plain; p++)
		plain = isalnum((unsigned char)*p) || strchr("/._-+=:,@", *p);
	if (plain) {
		if (strlen(s) >= len)
			return -ENAMETOOLONG;
		memcpy(buf, s, strlen(s) + 1);
		return 0;
	}
	/* sh takes nothing literally inside '...' but can close, escape and
	 * reopen; fish reads \' and \\ inside '...'. */
	if (len < 3)
		return -ENAMETOOLONG;
	buf[o++] = '\'';
	for (const char *p = s; *p; p++) {
		const char *piece = NULL;
		size_t n = 1;

		if (*p == '\'')
			piece = fish ? "\\'" : "'\\''";
		else if (*p == '\\' && fish)
			piece = "\\\\";
		if (piece)
			n = strlen(piece);
		if (o + n + 2 > len)
			return -ENAMETOOLONG;
		if (piece)
			memcpy(buf + o, piece, n);
		else
			buf[o] = *p;
		o += n;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return 0;
}

int
cli_bad_option(const char *cmd, int c, char **argv)
{
	const char *what = argv[optind - 1];

	if (c == ':')
		return cli_usage(cmd, "option '%s' needs a value", what);
	if (optopt && strncmp(what, "--", 2))
		return cli_usage(cmd, "unknown option '-%c'", optopt);
	return cli_usage(cmd, "unknown option '%s'", what);
}

static int
operands(const struct cli_optspec *sp, int argc, char **argv)
{
	int n = argc - optind;

	if (!sp->operand && n > 0)
		return cli_usage(sp->cmd, "unexpected argument '%s'", argv[optind]);
	if (n > 1)
		return cli_usage(sp->cmd, "one %s only", sp->operand);
	if (sp->operand && n == 0 && !sp->operand_optional)
		return cli_usage(sp->cmd, "which %s?", sp->operand);
	return 0;
}

int
cli_getopt(const struct cli_optspec *sp, int argc, char **argv)
{
	int c, rc;

	/* 0, not 1: glibc then starts over completely, whatever ran before */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, sp->shortopts, sp->longopts, NULL)) != -1) {
		if (c == 'h')
			return -1;
		if (c == '?' || c == ':')
			return cli_bad_option(sp->cmd, c, argv);
		if (sp->conn && (rc = cli_conn_option(sp->cmd, sp->conn, c, optarg)) != 0) {
			if (rc < 0)
				return CLI_EXIT_USAGE;
			continue;
		}
		if ((rc = sp->take(sp->cmd, sp->ctx, c, optarg)) != 0)
			return rc;
	}
	return operands(sp, argc, argv);
}

int
cli_parse_fd(const char *cmd, const char *opt, const char *arg, int *fd)
{
	unsigned long v;

	if (cli_parse_ulong(arg, 0, 65535, &v) < 0)
		return cli_usage(cmd, "%s %s: not a file descriptor number", opt, arg);
	if (fcntl((int)v, F_GETFD) < 0)
		return cli_usage(cmd, "%s %s: file descriptor %lu is not open", opt, arg, v);
	*fd = (int)v;
	return 0;
}

bool
cli_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int
cli_help(const char *text)
{
	fputs(text, stdout);
	return CLI_EXIT_OK;
}

int
cli_self_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}
