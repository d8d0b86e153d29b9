/* cli: what every sshmountfs-tool subcommand shares: exit statuses, error
 * messages for people, number and host parsing, and the connection options
 * (-p, -F, -o) turned into one struct opts for core/sshc.
 *
 * Messages go to stderr as "sshmountfs-tool CMD: what failed" followed by
 * an indented line saying what to do. Thread: main thread only.
 */
#ifndef SSHMOUNTFS_TOOLS_CLI_H
#define SSHMOUNTFS_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "opts.h"
#include "sshc.h"

#define CLI_PROG "sshmountfs-tool"

/* Exit statuses, documented in sshmountfs-tool(1); scripts rely on them. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_USAGE = 1,		/* bad option, argument or -o value */
	CLI_EXIT_EXISTS = 2,		/* refused: the target file already exists */
	CLI_EXIT_CONNECT = 3,		/* host unreachable, not SSH, no common algorithm */
	CLI_EXIT_AUTH = 4,		/* login or passphrase failed */
	CLI_EXIT_MISMATCH = 5,		/* key differs from the expected/recorded one */
	CLI_EXIT_UNKNOWN_HOST = 6,	/* host key not in known_hosts */
	CLI_EXIT_LOCAL = 7,		/* local file, key or system error */
	CLI_EXIT_REMOTE = 8,		/* a remote command or transfer failed */
	CLI_EXIT_AGENT = 9,		/* ssh-agent / ssh-add missing or failed */
};

/* Prints "sshmountfs-tool CMD: <fmt>" and, when hint is not NULL, "  hint". */
void cli_error(const char *cmd, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints the error, then "Try 'sshmountfs-tool CMD --help'."; returns
 * CLI_EXIT_USAGE so callers can `return cli_usage(...)`. */
int cli_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Decimal number in [min, max], nothing else in the string. 0 or -EINVAL. */
int cli_parse_ulong(const char *s, unsigned long min, unsigned long max,
		    unsigned long *out);

/* "[user@]HOST[:PORT]" where HOST may be "[v6addr]" (then ":PORT" may
 * follow) or a bare IPv6 address (more than one colon, no port). */
struct cli_host {
	char *user;	/* NULL when not given */
	char *host;	/* without brackets */
	int port;	/* 0 when not given */
};

/* Fills h (strings heap-allocated; cli_host_free). With allow_user false a
 * "user@" part is an error. Refuses hosts that start with '-' or contain
 * whitespace, control or shell characters. 0 or -EINVAL with err set. */
int cli_parse_host(const char *spec, bool allow_user, struct cli_host *h,
		   char *err, size_t errlen);
void cli_host_free(struct cli_host *h);

/* The connection options every network subcommand takes, in order. */
struct cli_conn {
	int port;		/* -p; 0 = not given */
	const char *config;	/* -F FILE */
	struct opts_strv lists;	/* each -o argument, applied in order */
};

void cli_conn_init(struct cli_conn *c);
void cli_conn_free(struct cli_conn *c);

/* Handles -p/-F/-o for a getopt loop: returns 1 when 'opt' was one of them
 * (stored), 0 when not, -EINVAL for a bad value (message printed). */
int cli_conn_option(const char *cmd, struct cli_conn *c, int opt, const char *arg);

/* Builds *o (opts_init'ed here; opts_free by the caller) from the -o lists,
 * -F, then the host spec's user/host/port and -p on top. A port in the
 * spec and a different -p is an error. Returns 0 or CLI_EXIT_USAGE with the
 * message printed. */
int cli_conn_opts(const char *cmd, const struct cli_conn *c, const struct cli_host *h,
		  struct opts *o);

/* Maps an sshc failure to an exit status. */
int cli_exit_for_sshc(const struct sshc_error *e);

/* Prints the sshc failure under this command's name; returns its exit status. */
int cli_sshc_fail(const char *cmd, const struct sshc_error *e);

/* The invoking user's home directory from the password database.
 * 0, -ENOENT, -ENAMETOOLONG. */
int cli_home_dir(char *buf, size_t len);

/* The invoking user's ~/.ssh from the password database (not $HOME: autofs
 * and systemd run without a useful one). With create, makes it 0700 when
 * missing. 0, -ENOENT (no passwd entry), -ENAMETOOLONG or -errno of mkdir. */
int cli_ssh_dir(char *buf, size_t len, bool create);

/* The first of the n file names that exists in that ~/.ssh and that
 * access(2) allows with 'amode' (F_OK, R_OK), as a path into buf.
 * 0, or -ENOENT when none does (or there is no ~/.ssh). */
int cli_ssh_dir_find(const char *const *names, size_t n, int amode, char *buf, size_t len);

/* Writes s quoted for a POSIX shell (fish: for fish) into buf: bare when
 * it holds only safe characters, else in single quotes. -ENAMETOOLONG when
 * buf is too short. */
int cli_shell_quote(const char *s, bool fish, char *buf, size_t len);

/* For getopt_long with an optstring starting with ':': reports the option
 * getopt returned '?' or ':' for (unknown, or missing its value) and
 * returns CLI_EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);

struct option;

/* What cli_getopt() needs to read one subcommand's options. */
struct cli_optspec {
	const char *cmd;		/* for messages */
	const char *shortopts;		/* getopt_long's, starting with ':' */
	const struct option *longopts;	/* NULL-terminated */
	struct cli_conn *conn;		/* takes -p/-F/-o when not NULL */
	/* The command's own option 'opt' with its value 'arg' (NULL for a
	 * flag): 0 when taken, else the exit status to stop with, message
	 * printed. Not called for 'h', -p/-F/-o, '?' or ':'. */
	int (*take)(const char *cmd, void *ctx, int opt, const char *arg);
	void *ctx;			/* passed to take */
	const char *operand;		/* the one operand taken ("HOST", "FILE"),
					 * named so in messages; NULL: none */
	bool operand_optional;		/* it may be left out */
};

/* The getopt_long loop every subcommand runs over its argv (argv[0] is the
 * subcommand's name; parsing restarts, so it may run more than once per
 * process), then the operand count. 'h' (-h, --help) stops it at once.
 * Returns 0 with optind at the operand (argc when it is left out), -1 for
 * --help (the caller prints its help text), or an exit status with the
 * message printed: an unknown option, a missing value, what take or
 * cli_conn_option refused, an operand missing ("which HOST?"), one too
 * many ("one HOST only"), or any when none is taken. Not reentrant. */
int cli_getopt(const struct cli_optspec *sp, int argc, char **argv);

/* Parses a --passphrase-fd style value: a number naming an open
 * descriptor. 0 or CLI_EXIT_USAGE with the message printed. */
int cli_parse_fd(const char *cmd, const char *opt, const char *arg, int *fd);

/* Refuses text with control characters (comments, key lines). */
bool cli_printable(const char *s);

/* Prints help text and returns CLI_EXIT_OK. */
int cli_help(const char *text);

/* The running executable's absolute path (for SSH_ASKPASS=self).
 * 0 or -errno. */
int cli_self_path(char *buf, size_t len);

#endif
