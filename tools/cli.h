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

/* Writes s quoted for a POSIX shell (fish: for fish) into buf: bare when
 * it holds only safe characters, else in single quotes. -ENAMETOOLONG when
 * buf is too short. */
int cli_shell_quote(const char *s, bool fish, char *buf, size_t len);

/* For getopt_long with an optstring starting with ':': reports the option
 * getopt returned '?' or ':' for (unknown, or missing its value) and
 * returns CLI_EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);

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
