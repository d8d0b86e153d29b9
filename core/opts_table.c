/* opts_table: the -o vocabulary of sshmountfs, as tables.
 *
 * Every -o item is looked up, in this order:
 *   1. opt_table, exact name (sshfs's own options are case-sensitive);
 *   2. mount noise (noise_names), dropped silently;
 *   3. sshfs options without effect here (IGNORED_OPTS), one log line each;
 *   4. opt_table entries flagged ICASE, case-insensitively (the OpenSSH
 *      names, which ssh and sshfs match without case);
 *   5. the rest of sshfs's ssh whitelist (passthrough_names);
 *   6. otherwise: unknown, an error (a warning for a sloppy mount).
 * Step 2 comes before 4 so that fstab's "user"/"user=NAME" is noise while
 * "User=NAME" is the login name.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "opts.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum od_kind {
	K_SET,		/* bool field = lo; no value */
	K_YESNO,	/* bool field from yes/no */
	K_INT,		/* int field in [lo, hi] */
	K_UINT,		/* unsigned field in [lo, hi] */
	K_SECS,		/* double field: seconds >= 0 */
	K_STR,		/* char * field, replaced by the value */
	K_STRV,		/* struct opts_strv field, value appended */
	K_WORD,		/* int/enum field = index of the value in words */
	K_FN,		/* handler */
	K_FUSE,		/* item appended to fuse_opts; lo = FV_* value check */
	K_REFUSE,	/* known but unsupported: error with text */
};

/* flags */
#define V_NONE	1u	/* "name" only */
#define V_REQ	2u	/* "name=value", value not empty */
#define ICASE	4u	/* name matched without case (OpenSSH names) */

enum { FV_ANY, FV_SECS, FV_UINT };

typedef int opt_fn(struct opts *o, const char *key, const char *val,
		   char *err, size_t errlen);

struct optdesc {
	const char *name;
	unsigned char kind;
	unsigned char flags;
	size_t off;
	long long lo, hi;
	opt_fn *fn;
	const char *text;		/* K_REFUSE: why; K_WORD: the words, for errors */
	const char *const *words;	/* K_WORD: NULL-ended */
};

#define F(field) offsetof(struct opts, field)
#define SET(n, field, v)  { .name = n, .kind = K_SET, .flags = V_NONE, .off = F(field), .lo = v }
#define YESNO(n, field, fl) { .name = n, .kind = K_YESNO, .flags = V_REQ | (fl), .off = F(field) }
#define INT(n, field, l, h, fl) \
	{ .name = n, .kind = K_INT, .flags = V_REQ | (fl), .off = F(field), .lo = l, .hi = h }
#define UINT(n, field, l, h) \
	{ .name = n, .kind = K_UINT, .flags = V_REQ, .off = F(field), .lo = l, .hi = h }
#define SECS(n, field)	   { .name = n, .kind = K_SECS, .flags = V_REQ, .off = F(field) }
#define STR(n, field, fl)  { .name = n, .kind = K_STR, .flags = V_REQ | (fl), .off = F(field) }
#define STRV(n, field, fl) { .name = n, .kind = K_STRV, .flags = V_REQ | (fl), .off = F(field) }
#define WORD(n, field, what, ...) { .name = n, .kind = K_WORD, .flags = V_REQ, .off = F(field), \
	.text = what, .words = (const char *const[]){ __VA_ARGS__, NULL } }
#define FN(n, handler, fl) { .name = n, .kind = K_FN, .flags = fl, .fn = handler }
#define FUSE(n, fl, check) { .name = n, .kind = K_FUSE, .flags = fl, .lo = check }
#define REFUSE(n, why)	   { .name = n, .kind = K_REFUSE, .text = why }

_Static_assert(sizeof(enum opts_idmap) == sizeof(int) && sizeof(enum opts_nomap) == sizeof(int),
	       "K_WORD stores enums through an int");

#define SECS_MAX 1e7		/* about 115 days: anything larger is a typo */
#define IO_SIZE_MAX (16 * 1024 * 1024)

/* ---------------------------------------------------------------- values */

static int
bad_value(const char *key, const char *what, const char *val, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s must be %s, got '%s'", key, what, val);
	return -EINVAL;
}

static int
parse_num(const char *key, const char *val, long long lo, long long hi,
	  long long *out, char *err, size_t errlen)
{
	char *end;
	char what[96];
	long long v;

	errno = 0;
	v = strtoll(val, &end, 10);
	if (!isdigit((unsigned char)val[0]) || *end != '\0' || errno != 0 ||
	    v < lo || v > hi) {
		if (hi >= INT_MAX)
			snprintf(what, sizeof(what), "a whole number >= %lld", lo);
		else
			snprintf(what, sizeof(what), "%lld-%lld", lo, hi);
		return bad_value(key, what, val, err, errlen);
	}
	*out = v;
	return 0;
}

static int
parse_secs(const char *key, const char *val, double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (!(isdigit((unsigned char)val[0]) || val[0] == '.') || *end != '\0' ||
	    errno != 0 || !isfinite(v) || v < 0 || v > SECS_MAX)
		return bad_value(key, "a number of seconds >= 0", val, err, errlen);
	*out = v;
	return 0;
}

static int
parse_yesno(const char *key, const char *val, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcasecmp(val, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(val, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return bad_value(key, "yes or no", val, err, errlen);
}

/* Index of val in a NULL-ended word list (case-insensitive), or -1. */
static int
word_index(const char *val, const char *const *words)
{
	int i;

	for (i = 0; words[i]; i++)
		if (strcasecmp(val, words[i]) == 0)
			return i;
	return -1;
}

/* Durations of the reachability check: decimal seconds or "N ms". */
static int
parse_duration_ms(const char *key, const char *val, long long lo_ms, long long hi_ms,
		  int *out, char *err, size_t errlen)
{
	char what[96];
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (end != val && strcmp(end, "ms") == 0)
		v /= 1000.0;
	else if (end != val && strcmp(end, "s") == 0)
		end += 1;
	else if (*end != '\0')
		end = NULL;
	if (end == NULL || !(isdigit((unsigned char)val[0]) || val[0] == '.') ||
	    errno != 0 || !isfinite(v) || v * 1000.0 < (double)lo_ms ||
	    v * 1000.0 > (double)hi_ms) {
		snprintf(what, sizeof(what), "a duration from %gs to %gs (seconds, or N ms)",
			 (double)lo_ms / 1000.0, (double)hi_ms / 1000.0);
		return bad_value(key, what, val, err, errlen);
	}
	*out = (int)(v * 1000.0 + 0.5);	/* v >= 0 here */
	return 0;
}

/* -------------------------------------------------------------- handlers */

static int
h_hostkey(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	/* "ask" has no one to ask: it is yes. "off" is OpenSSH's synonym of no. */
	static const char *const words[] = { "yes", "ask", "accept-new", "no", "off", NULL };
	static const enum opts_hostkey_policy map[] = {
		OPTS_HOSTKEY_YES, OPTS_HOSTKEY_YES, OPTS_HOSTKEY_ACCEPT_NEW,
		OPTS_HOSTKEY_NO, OPTS_HOSTKEY_NO,
	};
	int i = word_index(val, words);

	if (i < 0)
		return bad_value(key, "yes, accept-new, no or ask", val, err, errlen);
	o->hostkey_policy = map[i];
	o->hostkey_policy_set = true;
	return 0;
}

static int
h_loglevel(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	enum log_level lvl;

	if (log_level_parse(val, &lvl) != 0)
		return bad_value(key, "QUIET, FATAL, ERROR, INFO, VERBOSE or DEBUG1-3",
				 val, err, errlen);
	o->log_level = (int)lvl;
	return 0;
}

static int
h_user(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	if (isspace((unsigned char)val[0]) || val[0] == '-' || strpbrk(val, " \t") != NULL)
		return bad_value(key, "a user name", val, err, errlen);
	if (o->user_from_spec)
		return 0;	/* user@host wins, as typed on the command line */
	return opts_set_string(&o->user, val);
}

static int
h_ciphers(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	char *c;
	int r;

	if (strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789@.,:_+-") != strlen(val))
		return bad_value(key, "a list of cipher names", val, err, errlen);
	r = opts_set_string(&o->ciphers, val);
	/* ':' is accepted as a separator because ',' splits the -o list. */
	for (c = o->ciphers; r == 0 && *c; c++)
		if (*c == ':')
			*c = ',';
	return r;
}

/* uid= and gid=: numeric, as libfuse takes them; (uid_t)-1 means "unset" */
static int
h_id(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	long long v;
	int r = parse_num(key, val, 0, (long long)UINT32_MAX - 1, &v, err, errlen);

	if (r == 0 && key[0] == 'u') {
		o->uid = (uid_t)v;
		o->uid_set = true;
	} else if (r == 0) {
		o->gid = (gid_t)v;
		o->gid_set = true;
	}
	return r;
}

static int
h_umask(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 8);
	if (!isdigit((unsigned char)val[0]) || *end != '\0' || errno != 0 ||
	    v < 0 || v > 0777)
		return bad_value(key, "an octal mode from 000 to 777", val, err, errlen);
	o->umask = (mode_t)v;
	o->umask_set = true;
	return 0;
}

static int
h_cache_timeout(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	double v;
	int r = parse_secs(key, val, &v, err, errlen);

	if (r == 0) {
		o->cache_stat_timeout = v;
		o->cache_dir_timeout = v;
		o->cache_link_timeout = v;
	}
	return r;
}

/* Command names go into a shell script on the remote side: allow only
 * what a command name needs, and nothing a shell would interpret. */
static int
check_command_name(const char *key, const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || name[0] == '-' || n > 255 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._+/-") != n) {
		snprintf(err, errlen, "%s: '%s' is not a command name (letters, digits "
			 "and ._+/- only; separate names with ':')", key, name);
		return -EINVAL;
	}
	return 0;
}

static int
add_check_command(struct opts *o, const char *key, const char *name, char *err, size_t errlen)
{
	size_t i;
	int r = check_command_name(key, name, err, errlen);

	if (r != 0)
		return r;
	for (i = 0; i < o->check_commands.n; i++)
		if (strcmp(o->check_commands.v[i], name) == 0)
			return 0;
	return opts_strv_add(&o->check_commands, name);
}

/* check_commands=no | yes | a:b:c (also a\,b from an escaped comma). */
static int
h_check_commands(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	char *copy, *p, *next;
	bool b;
	char scratch[8];
	int r = 0;

	if (parse_yesno(key, val, &b, scratch, sizeof(scratch)) == 0) {
		o->check_commands_off = !b;
		return 0;
	}
	copy = strdup(val);
	if (copy == NULL)
		return -ENOMEM;
	for (p = copy; r == 0 && p != NULL; p = next) {
		next = strpbrk(p, ":,");
		if (next != NULL)
			*next++ = '\0';
		if (*p != '\0')
			r = add_check_command(o, key, p, err, errlen);
	}
	free(copy);
	return r;
}

static int
h_reach_timeout(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	return parse_duration_ms(key, val, 100, 600000, &o->reach_timeout_ms, err, errlen);
}

static int
h_reach_pause(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	return parse_duration_ms(key, val, 0, 60000, &o->reach_pause_ms, err, errlen);
}

static int
h_debug(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	(void)key, (void)val, (void)err, (void)errlen;
	o->debug = true;
	o->foreground = true;
	return 0;
}

static int
h_contain(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	(void)val, (void)err, (void)errlen;
	o->contain_symlinks = strcmp(key, "contain_symlinks") == 0;
	o->contain_symlinks_set = true;
	return 0;
}

/* ----------------------------------------------------------------- table */

#define PASSIVE_WHY "sshmountfs cannot speak SFTP over its own stdin/stdout; " \
	"use ssh_command=CMD to run a command whose stdin/stdout is an SFTP server"
#define FUSE3_WHY "it is handled by mount.fuse3: use the file system type " \
	"fuse.sshmountfs in fstab to get it"

static const struct optdesc opt_table[] = {
	/* connection (OpenSSH names: case-insensitive) */
	INT("port", port, 1, 65535, ICASE),
	FN("User", h_user, V_REQ | ICASE),
	STRV("IdentityFile", identity_files, ICASE),
	FN("Ciphers", h_ciphers, V_REQ | ICASE),
	FN("Cipher", h_ciphers, V_REQ | ICASE),
	STR("UserKnownHostsFile", known_hosts, ICASE),
	FN("StrictHostKeyChecking", h_hostkey, V_REQ | ICASE),
	INT("ServerAliveInterval", server_alive_interval, 0, 86400, ICASE),
	INT("ServerAliveCountMax", server_alive_count_max, 0, 1000, ICASE),
	INT("ConnectTimeout", connect_timeout, 0, 86400, ICASE),
	STR("ProxyCommand", proxy_command, ICASE),
	STR("ProxyJump", proxy_jump, ICASE),
	FN("LogLevel", h_loglevel, V_REQ | ICASE),
	YESNO("Compression", compression, ICASE),
	YESNO("BatchMode", batch_mode, ICASE),
	/* how to reach the SFTP server */
	SET("password_stdin", password_stdin, true),
	INT("passphrase_fd", passphrase_fd, 0, INT_MAX, 0),
	STR("sftp_server", sftp_server, 0),
	STR("ssh_command", ssh_command, 0),
	INT("directport", directport, 1, 65535, 0),
	INT("max_conns", max_conns, 1, 64, 0),
	INT("channels", channels, 1, 64, 0),
	SET("reconnect", reconnect, true),
	SET("noreconnect", reconnect, false),
	INT("reconnect_timeout", reconnect_timeout, 0, 86400, 0),
	/* remote server process */
	SET("nice", nice, true),
	SET("ionice", ionice, true),
	SET("nocache", nocache, true),
	/* pre-mount checks */
	SET("full_check", full_check, true),
	FN("check_commands", h_check_commands, V_REQ),
	INT("reach_tries", reach_tries, 1, 100, 0),
	FN("reach_timeout", h_reach_timeout, V_REQ),
	FN("reach_pause", h_reach_pause, V_REQ),
	/* filesystem */
	WORD("idmap", idmap, "none, user or file", "none", "user", "file"),
	STR("uidfile", uidfile, 0),
	STR("gidfile", gidfile, 0),
	WORD("nomap", nomap, "ignore or error", "ignore", "error"),
	FN("uid", h_id, V_REQ),
	FN("gid", h_id, V_REQ),
	FN("umask", h_umask, V_REQ),
	SET("allow_other", allow_other, true),
	SET("allow_root", allow_root, true),
	SET("default_permissions", default_permissions, true),
	SET("follow_symlinks", follow_symlinks, true),
	SET("transform_symlinks", transform_symlinks, true),
	FN("contain_symlinks", h_contain, V_NONE),
	FN("no_contain_symlinks", h_contain, V_NONE),
	SET("disable_hardlink", disable_hardlink, true),
	SET("kernel_cache", kernel_cache, true),
	SET("auto_cache", auto_cache, true),
	SET("noauto_cache", auto_cache, false),
	SET("direct_io", direct_io, true),
	SET("ro", ro, true),
	SET("rw", ro, false),
	UINT("max_read", max_read, 0, IO_SIZE_MAX),
	UINT("max_write", max_write, 0, IO_SIZE_MAX),
	/* caching: sshfs's names and its legacy cache_* spellings */
	YESNO("cache", cache, 0),
	YESNO("dir_cache", cache, 0),
	FN("cache_timeout", h_cache_timeout, V_REQ),
	FN("dcache_timeout", h_cache_timeout, V_REQ),
	SECS("cache_stat_timeout", cache_stat_timeout),
	SECS("dcache_stat_timeout", cache_stat_timeout),
	SECS("cache_dir_timeout", cache_dir_timeout),
	SECS("dcache_dir_timeout", cache_dir_timeout),
	SECS("cache_link_timeout", cache_link_timeout),
	SECS("dcache_link_timeout", cache_link_timeout),
	UINT("cache_max_size", cache_max_size, 0, UINT_MAX),
	UINT("dcache_max_size", cache_max_size, 0, UINT_MAX),
	SET("exclusive", exclusive, true),
	/* process */
	FN("debug", h_debug, V_NONE),
	FN("sshfs_debug", h_debug, V_NONE),
	/* libfuse 3.14 options passed through untouched (fuse_lib_opts,
	 * fuse_mount_opts, the mount flags, fuse_helper_opts, and the
	 * options of the built-in subdir and iconv modules) */
	FUSE("fsname", V_REQ, FV_ANY),
	FUSE("subtype", V_REQ, FV_ANY),
	FUSE("attr_timeout", V_REQ, FV_SECS),
	FUSE("entry_timeout", V_REQ, FV_SECS),
	FUSE("negative_timeout", V_REQ, FV_SECS),
	FUSE("ac_attr_timeout", V_REQ, FV_SECS),
	FUSE("noforget", V_NONE, FV_ANY),
	FUSE("remember", V_REQ, FV_UINT),
	FUSE("no_rofd_flush", V_NONE, FV_ANY),
	FUSE("modules", V_REQ, FV_ANY),
	FUSE("subdir", V_REQ, FV_ANY),
	FUSE("rellinks", V_NONE, FV_ANY),
	FUSE("norellinks", V_NONE, FV_ANY),
	FUSE("from_code", V_REQ, FV_ANY),
	FUSE("to_code", V_REQ, FV_ANY),
	FUSE("max_threads", V_REQ, FV_UINT),
	FUSE("max_idle_threads", V_REQ, FV_UINT),
	FUSE("clone_fd", V_NONE, FV_ANY),
	FUSE("auto_unmount", V_NONE, FV_ANY),
	FUSE("context", V_REQ, FV_ANY),
	FUSE("fscontext", V_REQ, FV_ANY),
	FUSE("defcontext", V_REQ, FV_ANY),
	FUSE("rootcontext", V_REQ, FV_ANY),
	FUSE("dev", V_NONE, FV_ANY),
	FUSE("nodev", V_NONE, FV_ANY),
	FUSE("suid", V_NONE, FV_ANY),
	FUSE("nosuid", V_NONE, FV_ANY),
	FUSE("exec", V_NONE, FV_ANY),
	FUSE("noexec", V_NONE, FV_ANY),
	FUSE("atime", V_NONE, FV_ANY),
	FUSE("noatime", V_NONE, FV_ANY),
	FUSE("async", V_NONE, FV_ANY),
	FUSE("sync", V_NONE, FV_ANY),
	FUSE("dirsync", V_NONE, FV_ANY),
	/* known, and refused with the reason */
	REFUSE("passive", PASSIVE_WHY),
	REFUSE("slave", PASSIVE_WHY),
	REFUSE("vsock", "sshmountfs connects over SSH only (AF_VSOCK is not supported)"),
	REFUSE("setuid", FUSE3_WHY),
	REFUSE("drop_privileges", FUSE3_WHY),
};

/* fstab / mount(8) options that reach helpers and mean nothing to a FUSE
 * file system (mount(8), fstab(5), systemd.mount(5)). '=': takes a value; '-': prefix. */
static const char *const noise_names[] = {
	"_netdev", "nofail", "noauto", "auto", "user", "user=", "nouser", "users",
	"nousers", "owner", "group", "defaults", "nobootwait", "comment=", "helper=",
	"uhelper=", "x-", "X-", NULL,
};

/* sshfs's ssh_opts[] whitelist minus the names opt_table models, plus the
 * current name of PubkeyAcceptedKeyTypes. Spelled as OpenSSH spells them:
 * the ssh layer gets "Name=value" with this spelling. */
static const char *const passthrough_names[] = {
	"AddressFamily", "BindAddress", "BindInterface", "CertificateFile",
	"ChallengeResponseAuthentication", "CheckHostIP", "CompressionLevel",
	"ConnectionAttempts", "ControlMaster", "ControlPath", "ControlPersist",
	"FingerprintHash", "GlobalKnownHostsFile", "GSSAPIAuthentication",
	"GSSAPIDelegateCredentials", "HostbasedAuthentication", "HostbasedKeyTypes",
	"HostKeyAlgorithms", "HostKeyAlias", "HostName", "IdentitiesOnly",
	"IdentityAgent", "IPQoS", "KbdInteractiveAuthentication",
	"KbdInteractiveDevices", "KexAlgorithms", "LocalCommand", "MACs",
	"NoHostAuthenticationForLocalhost", "NumberOfPasswordPrompts",
	"PasswordAuthentication", "PermitLocalCommand", "PKCS11Provider",
	"PreferredAuthentications", "ProxyUseFdpass", "PubkeyAcceptedAlgorithms",
	"PubkeyAcceptedKeyTypes", "PubkeyAuthentication", "RekeyLimit",
	"RevokedHostKeys", "RhostsRSAAuthentication", "RSAAuthentication",
	"SmartcardDevice", "TCPKeepAlive", "UpdateHostKeys", "UsePrivilegedPort",
	"VerifyHostKeyDNS", "VisualHostKey", NULL,
};

/* ------------------------------------------------------- without effect */

static int
v_count(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	long long v;

	(void)o;
	return parse_num(key, val, 0, INT_MAX, &v, err, errlen);
}

static int
v_protocol(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	(void)o;
	if (strcmp(val, "2") != 0)
		return bad_value(key, "2 (SSH protocol 1 is not supported)", val, err, errlen);
	return 0;
}

static int
v_writeback(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	(void)o;
	if (strcmp(val, "no") != 0)
		return bad_value(key, "no (a writeback cache loses data over SFTP)",
				 val, err, errlen);
	return 0;
}

/* X(name, value flags, value check, why it means nothing here) */
#define IGNORED_OPTS(X) \
	X("workaround", V_REQ, NULL, "renames, truncation and attributes need no workarounds") \
	X("sshfs_sync", V_NONE, NULL, "write errors are always reported at flush, fsync and close") \
	X("no_readahead", V_NONE, NULL, "read-ahead adapts to the access pattern") \
	X("sync_readdir", V_NONE, NULL, "directory reads are always safe to pipeline") \
	X("ssh_protocol", V_REQ, v_protocol, "SSH protocol 2 is the only one") \
	X("sshfs_verbose", V_NONE, NULL, "errors are always shown") \
	X("writeback_cache", V_REQ, v_writeback, "there is no writeback cache") \
	X("unreliable_append", V_NONE, NULL, "there is no writeback cache") \
	X("delay_connect", V_NONE, NULL, "sshmountfs connects and checks before mounting") \
	X("no_check_root", V_NONE, NULL, "the remote folder is always checked before mounting") \
	X("nonempty", V_NONE, NULL, "libfuse 3 mounts over non-empty directories anyway") \
	X("cache_clean_interval", V_REQ, v_count, "cache entries expire by their timeouts") \
	X("cache_min_clean_interval", V_REQ, v_count, "cache entries expire by their timeouts") \
	X("dcache_clean_interval", V_REQ, v_count, "cache entries expire by their timeouts") \
	X("dcache_min_clean_interval", V_REQ, v_count, "cache entries expire by their timeouts") \
	X("hard_remove", V_NONE, NULL, "a libfuse 2 option; sshmountfs sets it itself") \
	X("use_ino", V_NONE, NULL, "a libfuse 2 option; sshmountfs sets it itself") \
	X("readdir_ino", V_NONE, NULL, "a libfuse 2 option; sshmountfs sets it itself") \
	X("intr", V_NONE, NULL, "a libfuse 2 option; sshmountfs sets it itself") \
	X("intr_signal", V_REQ, v_count, "a libfuse 2 option; sshmountfs sets it itself")

struct ignored {
	const char *name;
	unsigned flags;
	opt_fn *check;
	const char *why;
};

#define IGN_NAME(n, fl, check, why) n,
#define IGN_ROW(n, fl, check, why) { n, fl, check, why },
static const char *const ignored_names[] = { IGNORED_OPTS(IGN_NAME) NULL };
static const struct ignored ignored[] = { IGNORED_OPTS(IGN_ROW) };

_Static_assert(ARRAY_LEN(ignored) <= 8 * sizeof(unsigned long long),
	       "opts.ignored_logged has one bit per ignored option");

const char *const *
opts_ignored_names(void)
{
	return ignored_names;
}

const char *const *
opts_noise_names(void)
{
	return noise_names;
}

/* ------------------------------------------------------------- applying */

static int
check_value_form(const char *key, const char *val, unsigned flags, char *err, size_t errlen)
{
	if ((flags & V_NONE) && val != NULL) {
		snprintf(err, errlen, "option '%s' takes no value (got '%s=%s')", key, key, val);
		return -EINVAL;
	}
	if ((flags & V_REQ) && (val == NULL || *val == '\0')) {
		snprintf(err, errlen, "option '%s' needs a value (%s=VALUE)", key, key);
		return -EINVAL;
	}
	return 0;
}

static int
apply_fuse(struct opts *o, const struct optdesc *d, const char *item, const char *key,
	   const char *val, char *err, size_t errlen)
{
	double secs;
	long long n;
	int r = 0;

	if (d->lo == FV_SECS)
		r = parse_secs(key, val, &secs, err, errlen);
	else if (d->lo == FV_UINT)
		r = parse_num(key, val, 0, UINT_MAX, &n, err, errlen);
	return r != 0 ? r : opts_strv_add(&o->fuse_opts, item);
}

static int
apply_desc(struct opts *o, const struct optdesc *d, const char *item, const char *key,
	   const char *val, char *err, size_t errlen)
{
	char *field = (char *)o + d->off;
	long long n;
	int r;

	if (d->kind == K_REFUSE) {
		snprintf(err, errlen, "option '%s' is not supported: %s", key, d->text);
		return -EINVAL;
	}
	r = check_value_form(key, val, d->flags, err, errlen);
	if (r != 0)
		return r;
	switch (d->kind) {
	case K_SET:
		*(bool *)field = d->lo != 0;
		return 0;
	case K_YESNO:
		return parse_yesno(key, val, (bool *)field, err, errlen);
	case K_INT:
	case K_UINT:
		r = parse_num(key, val, d->lo, d->hi, &n, err, errlen);
		if (r == 0 && d->kind == K_INT)
			*(int *)field = (int)n;
		else if (r == 0)
			*(unsigned *)field = (unsigned)n;
		return r;
	case K_SECS:
		return parse_secs(key, val, (double *)field, err, errlen);
	case K_STR:
		return opts_set_string((char **)field, val);
	case K_STRV:
		return opts_strv_add((struct opts_strv *)field, val);
	case K_WORD:
		/* the enums are numbered as the words (OPTS_IDMAP_NONE = 0, ...) */
		r = word_index(val, d->words);
		if (r < 0)
			return bad_value(key, d->text, val, err, errlen);
		*(int *)field = r;
		return 0;
	case K_FN:
		return d->fn(o, key, val, err, errlen);
	case K_FUSE:
		return apply_fuse(o, d, item, key, val, err, errlen);
	}
	return -EINVAL;
}

static const struct optdesc *
find_desc(const char *key, bool icase)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(opt_table); i++) {
		const struct optdesc *d = &opt_table[i];

		if (icase ? (d->flags & ICASE) && strcasecmp(d->name, key) == 0
			  : strcmp(d->name, key) == 0)
			return d;
	}
	return NULL;
}

static bool
is_noise(const char *key, const char *val)
{
	size_t i, n;

	for (i = 0; noise_names[i]; i++) {
		n = strlen(noise_names[i]);
		if (noise_names[i][n - 1] == '-') {
			if (strncmp(key, noise_names[i], n) == 0)
				return true;
		} else if (noise_names[i][n - 1] == '=') {
			if (strncmp(key, noise_names[i], n - 1) == 0 && key[n - 1] == '\0' &&
			    val != NULL)
				return true;
		} else if (strcmp(key, noise_names[i]) == 0 && val == NULL) {
			return true;
		}
	}
	return false;
}

/* 1 when key is an ignored option (applied, or err filled and <0), else 0. */
static int
apply_ignored(struct opts *o, const char *key, const char *val, char *err, size_t errlen)
{
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(ignored); i++)
		if (strcmp(ignored[i].name, key) == 0)
			break;
	if (i == ARRAY_LEN(ignored))
		return 0;
	r = check_value_form(key, val, ignored[i].flags, err, errlen);
	if (r == 0 && ignored[i].check != NULL)
		r = ignored[i].check(o, key, val, err, errlen);
	if (r != 0)
		return r;
	if (!(o->ignored_logged & (1ull << i))) {
		o->ignored_logged |= 1ull << i;
		log_info("option '%s' has no effect in sshmountfs: %s", key, ignored[i].why);
	}
	return 1;
}

static int
apply_passthrough(struct opts *o, const char *name, const char *key, const char *val,
		  char *err, size_t errlen)
{
	char *item;
	int r = check_value_form(key, val, V_REQ, err, errlen);

	if (r != 0)
		return r;
	if (asprintf(&item, "%s=%s", name, val) < 0)
		return -ENOMEM;
	r = opts_strv_add(&o->ssh_passthrough, item);
	free(item);
	return r;
}

static const char *
passthrough_name(const char *key)
{
	size_t i;

	for (i = 0; passthrough_names[i]; i++)
		if (strcasecmp(passthrough_names[i], key) == 0)
			return passthrough_names[i];
	return NULL;
}

static int
apply_unknown(struct opts *o, const char *key, char *err, size_t errlen)
{
	if (o->sloppy) {
		log_warn("ignoring unknown option '%s' (sloppy mount)", key);
		return 0;
	}
	snprintf(err, errlen, "unknown option '%s' (see sshmountfs --help)", key);
	return -EINVAL;
}

static int
apply_split(struct opts *o, const char *item, const char *key, const char *val,
	    char *err, size_t errlen)
{
	const struct optdesc *d = find_desc(key, false);
	const char *name;
	int r;

	if (d != NULL)
		return apply_desc(o, d, item, key, val, err, errlen);
	if (is_noise(key, val))
		return 0;
	r = apply_ignored(o, key, val, err, errlen);
	if (r != 0)
		return r < 0 ? r : 0;
	d = find_desc(key, true);
	if (d != NULL)
		return apply_desc(o, d, item, key, val, err, errlen);
	name = passthrough_name(key);
	if (name != NULL)
		return apply_passthrough(o, name, key, val, err, errlen);
	return apply_unknown(o, key, err, errlen);
}

int
opts_apply_one(struct opts *o, const char *item, char *err, size_t errlen)
{
	const char *eq = strchr(item, '=');
	char *key;
	const unsigned char *p;
	int r;

	for (p = (const unsigned char *)item; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "option '%.*s' contains a control character",
				 eq ? (int)(eq - item) : (int)strlen(item), item);
			return -EINVAL;
		}
	}
	key = eq ? strndup(item, (size_t)(eq - item)) : strdup(item);
	if (key == NULL)
		return -ENOMEM;
	if (*key == '\0') {
		snprintf(err, errlen, "option '%s' has no name before '='", item);
		r = -EINVAL;
	} else {
		r = apply_split(o, item, key, eq ? eq + 1 : NULL, err, errlen);
	}
	free(key);
	return r;
}

/* Unescapes one item of a -o list into out (as fuse_opt does) and returns
 * the position after it: at the separating comma's successor or at the end.
 * NULL with err filled on an escaped NUL. */
static const char *
next_item(const char *s, char *out, char *err, size_t errlen)
{
	char *d = out;

	for (; *s && *s != ','; s++) {
		if (s[0] != '\\' || s[1] == '\0') {
			*d++ = *s;
			continue;
		}
		s++;
		if (s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7') {
			*d = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
			if (*d++ == '\0') {
				snprintf(err, errlen, "option list has an escaped NUL byte (\\000)");
				return NULL;
			}
			s += 2;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
	return *s == ',' ? s + 1 : s;
}

int
opts_apply_list(struct opts *o, const char *list, char *err, size_t errlen)
{
	char *item = malloc(strlen(list) + 1);
	const char *s = list;
	int r = 0;

	if (item == NULL)
		return -ENOMEM;
	while (r == 0 && *s) {
		s = next_item(s, item, err, errlen);
		if (s == NULL)
			r = -EINVAL;
		else if (*item != '\0')
			r = opts_apply_one(o, item, err, errlen);
	}
	free(item);
	return r;
}

/* ------------------------------------------------------------------ help */

/* Comma list, wrapped before column 79, indented by four. */
static void
print_list(FILE *f, const char *const *names)
{
	size_t col = 4, w, i;

	fputs("    ", f);
	for (i = 0; names[i]; i++) {
		w = strlen(names[i]) + (names[i + 1] ? 1 : 0);
		if (i > 0 && col + 1 + w > 78) {
			fputs("\n    ", f);
			col = 4;
		} else if (i > 0) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%s%s", names[i], names[i + 1] ? "," : "");
		col += w;
	}
	fputs("\n", f);
}

static void
print_fuse_list(FILE *f)
{
	const char *names[ARRAY_LEN(opt_table) + 1];
	char buf[ARRAY_LEN(opt_table)][32];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_LEN(opt_table); i++) {
		if (opt_table[i].kind != K_FUSE)
			continue;
		snprintf(buf[n], sizeof(buf[n]), "%s%s", opt_table[i].name,
			 (opt_table[i].flags & V_REQ) ? "=" : "");
		names[n] = buf[n];
		n++;
	}
	names[n] = NULL;
	print_list(f, names);
}

static const char help_main[] =
"usage: sshmountfs [user@]host:[path] MOUNTPOINT [options]\n"
"       sshmountfs -h | --help | -V | --version\n"
"\n"
"Mounts PATH of HOST on MOUNTPOINT over one SSH connection (SFTP). An empty\n"
"PATH is the remote home; IPv6 addresses go in brackets: [::1]:/srv.\n"
"\n"
"General:\n"
"  -h, --help             this help\n"
"  -V, --version          print the version\n"
"  -f                     stay in the foreground\n"
"  -d, -o debug           debug output, implies -f (also -o sshfs_debug)\n"
"  -s                     single-threaded\n"
"  -o OPT[,OPT...]        options below; '\\,' is a literal comma\n"
"\n"
"Connection (OpenSSH names are case-insensitive; ~/.ssh/config applies first):\n"
"  -p PORT, -o port=PORT  SSH port\n"
"  -C                     same as -o Compression=yes\n"
"  -F FILE                ssh_config file instead of ~/.ssh/config\n"
"  -o User=NAME           login name (user@host wins)\n"
"  -o IdentityFile=FILE   private key; may be repeated\n"
"  -o Ciphers=LIST        cipher names, separated by ':' (or '\\,')\n"
"  -o UserKnownHostsFile=FILE\n"
"  -o StrictHostKeyChecking=yes|accept-new|no   (ask means yes; default yes)\n"
"  -o ServerAliveInterval=SECS, -o ServerAliveCountMax=N   (default count 3)\n"
"  -o ConnectTimeout=SECS\n"
"  -o ProxyCommand=CMD, -o ProxyJump=[user@]host[:port]\n"
"  -o LogLevel=QUIET|FATAL|ERROR|INFO|VERBOSE|DEBUG|DEBUG1-3\n"
"  -o BatchMode=yes|no    never prompt (never prompts without a terminal anyway)\n"
"  -o password_stdin      read the password from standard input\n"
"  -o passphrase_fd=N     read the key passphrase from file descriptor N\n"
"  -o sftp_server=NAME|PATH  subsystem name, or a server path run as a command\n"
"  -o ssh_command=CMD     speak SFTP over CMD's stdin/stdout instead of SSH\n"
"  -o directport=PORT     plain TCP to an sftp-server, no SSH (unencrypted)\n"
"  -o max_conns=N         SSH connections (default 1)\n"
"  -o channels=N          SFTP channels per connection (default 4)\n"
"  -o reconnect           redial a lost connection (the default); noreconnect: do not\n"
"  -o reconnect_timeout=SECS  how long operations wait for a lost connection\n"
"                         before failing with EIO (default 60; 0 = at once)\n"
"  Other ssh_config options, passed to the SSH layer as Name=value:\n";

static const char help_fs[] =
"\n"
"Remote server process:\n"
"  -o nice, -o ionice, -o nocache   run the sftp-server under nice -n 19,\n"
"                         ionice -c2 -n7, nocache\n"
"\n"
"Filesystem:\n"
"  -o idmap=none|user|file   map remote ids: none (default), the remote\n"
"                         user to you, or by files:\n"
"  -o uidfile=FILE, -o gidfile=FILE   name:id lines (idmap=file needs one)\n"
"  -o nomap=ignore|error  ids missing from the files (default error)\n"
"  -o uid=N, -o gid=N, -o umask=OCTAL   force owner and mode bits\n"
"  -o allow_other, -o allow_root, -o default_permissions\n"
"  -o follow_symlinks     show symlinks as their targets\n"
"  -o transform_symlinks  make absolute targets under the mount relative\n"
"  -o contain_symlinks, -o no_contain_symlinks\n"
"                         refuse (or allow) symlink targets leaving the mount\n"
"  -o disable_hardlink    link() fails with ENOSYS\n"
"  -o ro, -o rw           read-only / read-write\n"
"  -o kernel_cache, -o auto_cache, -o noauto_cache, -o direct_io\n"
"  -o max_read=BYTES, -o max_write=BYTES   SFTP request sizes (0 = server limit)\n"
"\n"
"Caching (sshfs's names; dcache_* spellings work too):\n"
"  -o cache=yes|no        attribute, directory and symlink cache (dir_cache=)\n"
"  -o cache_timeout=SECS  all three timeouts below (default 20)\n"
"  -o cache_stat_timeout=SECS   attributes\n"
"  -o cache_dir_timeout=SECS    directory listings\n"
"  -o cache_link_timeout=SECS   symlink targets\n"
"  -o cache_max_size=N    entries\n"
"  -o exclusive           promise that nothing else changes the tree while it is\n"
"                         mounted: directory read-ahead for walks, background\n"
"                         listing loads and negative lookups in directories made\n"
"                         here; changes by others may then stay unseen for up to\n"
"                         cache_dir_timeout / cache_stat_timeout (off by default:\n"
"                         never staler than sshfs); and asynchronous metadata:\n"
"                         mkdir, unlink, rmdir, rename, symlink, setattr and\n"
"                         close answered at once and sent in order, errors\n"
"                         reported at the next close/fsync (see the man page)\n"
"\n"
"Checks before mounting:\n"
"  -o full_check          every check (login, cipher, commands, hard links, ...)\n"
"  -o check_commands=no|CMD[:CMD...]   skip the command probe, or also probe\n"
"                         these commands (repeat the option, or use ':')\n"
"  -o reach_tries=N       tries to reach the host (default 5)\n"
"  -o reach_timeout=SECS  per try (default 2; '500ms' works too)\n"
"  -o reach_pause=SECS    between tries (default 0.5)\n"
"\n"
"libfuse options passed through:\n";

void
opts_print_help(void *fp)
{
	FILE *f = fp;

	fputs(help_main, f);
	print_list(f, passthrough_names);
	fputs(help_fs, f);
	print_fuse_list(f);
	fputs("\nsshfs options accepted without effect (one log line each;\n"
	      "ssh_protocol=2 and writeback_cache=no only):\n", f);
	print_list(f, ignored_names);
	fputs("\nMount options ignored silently (x- and X- stand for any option "
	      "starting so):\n", f);
	print_list(f, noise_names);
	fputs("\nNot supported: passive, slave, vsock=; setuid= and drop_privileges need\n"
	      "the fstab type fuse.sshmountfs (mount.fuse3).\n", f);
}
