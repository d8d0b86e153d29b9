/* opts: the one option model for every entry point (sshmountfs's command
 * line, mount.sshmountfs, autofs map entries, sshmountfs-tool).
 *
 * Names and meanings follow sshfs 3.7 so existing command lines and fstab
 * lines work unchanged. Each entry point turns its input into calls of
 * opts_parse_cmdline() / opts_apply_list(); nothing else reads argv.
 *
 * Errors: functions return 0 or a negative errno and, on failure, write a
 * message for people into err (naming the option and what to do).
 * Thread: an opts belongs to main() until the mount starts; afterwards it is
 * read-only and may be read from any thread.
 */
#ifndef SSHMOUNTFS_OPTS_H
#define SSHMOUNTFS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OPTS_ERR_LEN 512

/* A NULL-terminated, heap-allocated list of strings. */
struct opts_strv {
	char **v;
	size_t n;
};

enum opts_hostkey_policy {
	OPTS_HOSTKEY_YES = 0,		/* default: unknown or changed key refused */
	OPTS_HOSTKEY_ACCEPT_NEW,	/* unknown key recorded, changed refused */
	OPTS_HOSTKEY_NO,		/* unknown accepted (not recorded), changed refused */
};

enum opts_idmap { OPTS_IDMAP_NONE = 0, OPTS_IDMAP_USER, OPTS_IDMAP_FILE };
enum opts_nomap { OPTS_NOMAP_IGNORE = 0, OPTS_NOMAP_ERROR };

struct opts {
	/* --- what to mount --- */
	char *host;		/* as typed (may be a ~/.ssh/config alias); IPv6 without brackets */
	char *user;		/* from user@host or User=; NULL = config or local user */
	int port;		/* 0 = config or 22 */
	char *path;		/* remote path; NULL or "" = the remote home */
	char *mountpoint;	/* absolute after parsing */

	/* --- ssh --- */
	char *ssh_config;		/* -F FILE; NULL = ~/.ssh/config */
	bool compression;		/* -C, Compression=yes */
	struct opts_strv identity_files; /* IdentityFile= (repeatable) */
	char *ciphers;			/* Ciphers= comma list */
	char *known_hosts;		/* UserKnownHostsFile= */
	enum opts_hostkey_policy hostkey_policy; /* StrictHostKeyChecking= */
	bool hostkey_policy_set;
	int server_alive_interval;	/* seconds; 0 = engine default */
	int server_alive_count_max;	/* default 3 */
	int connect_timeout;		/* seconds; 0 = default (10) */
	char *proxy_command;		/* ProxyCommand= */
	char *proxy_jump;		/* ProxyJump= */
	int log_level;			/* enum log_level; -1 = unset */
	bool batch_mode;		/* BatchMode=yes, or forced without a terminal */
	bool password_stdin;		/* read the password from stdin */
	int passphrase_fd;		/* -1 = none; passphrase_fd=N */
	char *sftp_server;		/* sftp_server=: subsystem name or a path run as a command */
	char *ssh_command;		/* ssh_command=: SFTP over this command's stdin/stdout */
	int directport;			/* directport=: plain TCP to an sftp-server; 0 = off */
	struct opts_strv ssh_passthrough; /* other known ssh options "Name=value", applied to libssh where it can */

	/* --- remote server process --- */
	bool nice, ionice, nocache;	/* run sftp-server under nice -n 19 / ionice -c2 -n7 / nocache */

	/* --- pre-mount checks --- */
	bool full_check;		/* -o full_check: the seed's first_run plan */
	bool check_commands_off;	/* check_commands=no */
	struct opts_strv check_commands; /* check_commands=a,b: also probe these */
	int reach_tries;		/* reachable: tries (default 5) */
	int reach_timeout_ms;		/* per try (default 2000) */
	int reach_pause_ms;		/* between tries (default 500) */

	/* --- filesystem --- */
	enum opts_idmap idmap;
	char *uidfile, *gidfile;
	enum opts_nomap nomap;
	bool uid_set, gid_set, umask_set;
	uid_t uid;
	gid_t gid;
	mode_t umask;
	bool allow_other, allow_root, default_permissions;
	bool follow_symlinks, transform_symlinks;
	bool cache;			/* cache=yes|no, dir_cache= (default yes) */
	double cache_stat_timeout;	/* seconds (default 20) */
	double cache_dir_timeout;
	double cache_link_timeout;
	int max_conns;			/* SSH connections (default 1) */
	int channels;			/* SFTP channels per connection (default 4) */
	bool kernel_cache, auto_cache, direct_io, ro;
	bool disable_hardlink;
	unsigned max_read, max_write;	/* SFTP request sizes; 0 = server limits */

	/* --- process --- */
	bool foreground;		/* -f */
	bool debug;			/* -d, debug, sshfs_debug: implies foreground */
	bool single_thread;		/* -s */
	bool show_help, show_version;	/* -h/--help, -V/--version */

	/* Options for libfuse itself, "-o" items in order (fsname=, subtype=,
	 * attr_timeout=, entry_timeout=, max_threads=, ...), ready to pass. */
	struct opts_strv fuse_opts;
};

/* Fills in every default. Must be called before anything else. */
void opts_init(struct opts *o);
/* Frees what the parse allocated and re-initialises (NULL-safe). */
void opts_free(struct opts *o);

/* Parses sshmountfs's command line:
 *   [user@]host:[path] MOUNTPOINT [-p PORT] [-C] [-F FILE] [-o opt,...] [-f] [-d] [-s] [-h] [-V]
 * Options may come before, between or after the positional arguments.
 * Sets show_help / show_version and returns 0 for -h / -V without requiring
 * the positionals. Unknown options are an error naming the option.
 * Returns 0 or -EINVAL with err filled. */
int opts_parse_cmdline(struct opts *o, int argc, char **argv, char *err, size_t errlen);

/* Applies one comma-separated -o list ("a=b,c"); a backslash escapes a comma.
 * Ignored mount noise (_netdev, nofail, noauto, auto, user, users, defaults,
 * x-*, comment=) is dropped silently; sshfs options that mean nothing here
 * (workaround=, sshfs_sync, no_readahead, sync_readdir, ssh_protocol=, ...)
 * are accepted with one log line each. */
int opts_apply_list(struct opts *o, const char *list, char *err, size_t errlen);

/* Splits "[user@]host:[path]" (IPv6 literal in brackets) into o->user,
 * o->host, o->path. Refuses a host that starts with '-' or contains
 * whitespace or shell metacharacters. */
int opts_parse_remote(struct opts *o, const char *spec, char *err, size_t errlen);

/* True for the sshfs options accepted but without effect (for --help). */
const char *const *opts_ignored_names(void);

/* Prints the option summary for --help to 'f' (a FILE *). */
void opts_print_help(void *f);

/* Appends a copy of s to a list. 0 or -ENOMEM. */
int opts_strv_add(struct opts_strv *l, const char *s);
void opts_strv_free(struct opts_strv *l);

#endif
