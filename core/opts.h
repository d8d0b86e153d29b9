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
/* Default OPTS_NOMAP_ERROR, as in sshfs (main() sets NOMAP_ERROR). */
enum opts_nomap { OPTS_NOMAP_IGNORE = 0, OPTS_NOMAP_ERROR };

struct opts {
	/* --- what to mount --- */
	char *host;		/* as typed (may be a ~/.ssh/config alias); IPv6 without brackets */
	char *user;		/* from user@host or User=; NULL = config or local user.
				 * user@host wins over User= whatever the order. */
	bool user_from_spec;	/* user came from user@host (User= then leaves it) */
	int port;		/* 0 = config or 22 */
	char *path;		/* remote path; NULL or "" = the remote home */
	char *mountpoint;	/* absolute after parsing (realpath when it exists);
				 * /dev/fd/N (mount.fuse3 drop_privileges) kept as is */

	/* --- ssh --- */
	char *ssh_config;		/* -F FILE; NULL = ~/.ssh/config */
	bool compression;		/* -C, Compression=yes */
	struct opts_strv identity_files; /* IdentityFile= (repeatable) */
	char *ciphers;			/* Ciphers=/Cipher=, comma list ("a\,b" or "a:b"
					 * in -o; stored with commas) */
	char *known_hosts;		/* UserKnownHostsFile= */
	enum opts_hostkey_policy hostkey_policy; /* StrictHostKeyChecking=yes|accept-new|no;
					 * "ask" is yes (no host-key prompts), "off" no */
	bool hostkey_policy_set;
	int server_alive_interval;	/* seconds; 0 = engine default */
	int server_alive_count_max;	/* default 3 */
	int connect_timeout;		/* seconds; 0 = default (10) */
	char *proxy_command;		/* ProxyCommand= */
	char *proxy_jump;		/* ProxyJump= */
	int log_level;			/* enum log_level; -1 = unset */
	bool batch_mode;		/* BatchMode=yes. Only what was asked: the ssh layer
					 * itself never prompts without a terminal. */
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
	struct opts_strv check_commands; /* also probe these remote commands.
					 * -o splits at commas, so the list is
					 * check_commands=rsync:flock, or repeated
					 * check_commands= items, or escaped commas
					 * (rsync\,flock); names are [A-Za-z0-9._+/-] */
	int reach_tries;		/* reachable: tries (default 5) */
	int reach_timeout_ms;		/* per try (default 2000): reach_timeout=SECS */
	int reach_pause_ms;		/* between tries (default 500): reach_pause=SECS
					 * (SECS: decimal seconds, or N"ms") */

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
	bool contain_symlinks;		/* sshfs 3.7.6 contain_symlinks / no_contain_symlinks */
	bool contain_symlinks_set;	/* given at all: the fs picks the default otherwise */
	bool cache;			/* cache=yes|no, dir_cache= (default yes) */
	double cache_stat_timeout;	/* seconds (default 20) */
	double cache_dir_timeout;
	double cache_link_timeout;
	unsigned cache_max_size;	/* cache_max_size=, dcache_max_size=; 0 = fs default */
	bool exclusive;			/* -o exclusive: the user promises no other writer,
					 * so the caches may answer speculatively (see
					 * fs/cache.h and fs/prefetch.h) */
	int max_conns;			/* SSH connections (default 1) */
	int channels;			/* SFTP channels per connection (default 4) */
	bool reconnect;			/* reconnect (default) / noreconnect: redial a
					 * lost link (core/fxc.h "reconnection") */
	int reconnect_timeout;		/* seconds operations wait for a lost link
					 * (default 60; 0 = fail at once) */
	bool kernel_cache, auto_cache, direct_io, ro;
	bool disable_hardlink;
	unsigned max_read, max_write;	/* SFTP request sizes; 0 = server limits */

	/* --- process --- */
	bool foreground;		/* -f */
	bool debug;			/* -d, debug, sshfs_debug: implies foreground */
	bool single_thread;		/* -s */
	bool show_help, show_version;	/* -h/--help, -V/--version */

	/* --- mount(8) helper flags (opts_parse_mount only) --- */
	bool fake;			/* -f: check everything, mount nothing, exit 0 */
	bool sloppy;			/* -s: unknown -o items warn instead of failing */
	bool verbose;			/* -v */
	bool no_mtab;			/* -n: accepted; there is no mtab to write */
	char *mount_ns;			/* -N NS: the helper enters it or refuses */
	char *mount_type;		/* -t TYPE as given (fuse.sshmountfs, ...) */

	/* Which "no effect" options were already logged (one line per name). */
	unsigned long long ignored_logged;

	/* Options for libfuse itself, "-o" items in order, unescaped, ready to
	 * pass: ONLY the pure pass-through ones (fsname=, subtype=,
	 * attr_timeout=, entry_timeout=, negative_timeout=, ac_attr_timeout=,
	 * noforget, remember=, no_rofd_flush, modules=, subdir=, max_threads=,
	 * max_idle_threads=, clone_fd, auto_unmount, SELinux *context=, and the
	 * mount flags dev nodev suid nosuid exec noexec atime noatime async
	 * sync dirsync). Options that are ALSO libfuse options but that we
	 * model (allow_other, allow_root, default_permissions, kernel_cache,
	 * auto_cache, noauto_cache, direct_io, ro, rw, uid=, gid=, umask=,
	 * max_read=, max_write=) live only in their fields: the fs decides how
	 * to pass them. Join with opts_fuse_optstring(). */
	struct opts_strv fuse_opts;
};

/* Fills in every default. Must be called before anything else. */
void opts_init(struct opts *o);
/* Frees what the parse allocated and re-initialises (NULL-safe). */
void opts_free(struct opts *o);

/* Parses sshmountfs's command line:
 *   [user@]host:[path] MOUNTPOINT [-p PORT] [-C] [-F FILE] [-o opt,...] [-f] [-d] [-s] [-h] [-V]
 * Options may come before, between or after the positional arguments;
 * "-oLIST" and "-o LIST", "-pPORT" and "-p PORT", "-FFILE" and "-F FILE";
 * "--" ends the options. -v (sshfs 3.7.3's verbose) is accepted without
 * effect. argv[0] is the program name and is skipped.
 * Sets show_help / show_version and returns 0 for -h / -V (wherever they
 * are) without requiring or checking anything else.
 * Otherwise exactly two positionals are required; the mount point is made
 * absolute; opts_finalize() runs at the end.
 * Unknown options are an error naming the option.
 * Returns 0 or -EINVAL (-ENOMEM) with err filled. */
int opts_parse_cmdline(struct opts *o, int argc, char **argv, char *err, size_t errlen);

/* Parses a mount(8) helper command line (argv[0] is the helper's name):
 *   mount.sshmountfs SPEC DIR [-sfnv] [-N NS] [-o opts]... [-t TYPE]
 * Flags mean what mount(8) means: -f fake, -s sloppy, -n no mtab,
 * -v verbose (never FUSE's foreground/single-thread); they may be bundled
 * ("-sfnv") and may come anywhere. SPEC is "[user@]host:[path]" or the
 * legacy "sshmountfs#[user@]host:[path]" (also "sshfs#..."); another type
 * before '#' is an error. Sloppy turns unknown -o items into warnings
 * (bad values stay errors). opts_finalize() runs at the end.
 * Returns 0 or -EINVAL (-ENOMEM) with err filled. */
int opts_parse_mount(struct opts *o, int argc, char **argv, char *err, size_t errlen);

/* Cross-option checks and implications, after every option is in:
 *   idmap=file needs uidfile= or gidfile= (as sshfs);
 *   password_stdin excludes ssh_command= and passphrase_fd=0;
 *   ssh_command= and directport= exclude each other;
 *   nice/ionice/nocache need an SSH connection (not ssh_command=/directport=);
 *   allow_other and allow_root exclude each other (libfuse refuses both);
 *   debug implies foreground.
 * BatchMode is not forced here when there is no terminal: the ssh layer
 * never prompts without one. Idempotent. 0 or -EINVAL with err filled. */
int opts_finalize(struct opts *o, char *err, size_t errlen);

/* Applies one comma-separated -o list ("a=b,c"). Escapes as libfuse's
 * fuse_opt: a backslash makes the next character literal ("a\,b"), "\NNN"
 * is an octal byte (fstab's \040); empty items are skipped.
 * Ignored mount noise (_netdev, nofail, noauto, auto, user, user=NAME,
 * nouser, users, nousers, owner, group, defaults, nobootwait, helper=,
 * uhelper=, x-*, X-*, comment=) is dropped silently. sshfs options that mean
 * nothing here (opts_ignored_names()) are accepted with one log_info line per
 * name and opts. OpenSSH options of sshfs's whitelist not modelled in a field
 * go to ssh_passthrough as "CanonicalName=value" (names are
 * case-insensitive, as in ssh). Note "user=NAME" (lower case) is mount noise
 * while "User=NAME" sets the login name. Items with control characters are
 * refused. Stops at the first error; earlier items stay applied. */
int opts_apply_list(struct opts *o, const char *list, char *err, size_t errlen);

/* Applies one already unescaped item ("name" or "name=value").
 * 0 or -EINVAL (-ENOMEM) with err filled. */
int opts_apply_one(struct opts *o, const char *item, char *err, size_t errlen);

/* Splits "[user@]host:[path]" (IPv6 literal in brackets) into o->user,
 * o->host, o->path. The user ends at the last '@' before the host, so it may
 * contain '@'; a user from the spec sets user_from_spec (User= then leaves
 * it). An empty path (host:) leaves o->path NULL: the remote home.
 * Refuses a host that starts with '-' or has anything but letters, digits,
 * '.', '-', '_' (plus ':' and '%' inside brackets): "invalid hostname ...",
 * so nothing shell- or option-like gets through (sshfs CVE-2026-48711).
 * Refuses a user starting with '-' or containing whitespace.
 * On error o is unchanged. 0, -EINVAL or -ENOMEM. */
int opts_parse_remote(struct opts *o, const char *spec, char *err, size_t errlen);

/* The sshfs options accepted but without effect (for --help), NULL-ended:
 * workaround=, sshfs_sync, no_readahead, sync_readdir, ssh_protocol=2,
 * sshfs_verbose, writeback_cache=no, unreliable_append,
 * delay_connect, no_check_root, nonempty, the clean intervals, and libfuse
 * 2's hard_remove, use_ino, readdir_ino, intr, intr_signal=. */
const char *const *opts_ignored_names(void);

/* The mount options dropped silently (for --help), NULL-ended; a name
 * ending in '-' is a prefix ("x-"), one ending in '=' takes a value. */
const char *const *opts_noise_names(void);

/* Joins fuse_opts into one -o argument for libfuse, escaping comma and backslash
 * as fuse_opt expects. *out is NULL when the list is empty; else the caller
 * frees it. 0 or -ENOMEM. */
int opts_fuse_optstring(const struct opts *o, char **out);

/* Replaces *field with a copy of value (NULL clears). 0 or -ENOMEM. */
int opts_set_string(char **field, const char *value);

/* Prints the option summary for --help to 'f' (a FILE *). */
void opts_print_help(void *f);

/* Appends a copy of s to a list. 0 or -ENOMEM. */
int opts_strv_add(struct opts_strv *l, const char *s);
void opts_strv_free(struct opts_strv *l);

#endif
