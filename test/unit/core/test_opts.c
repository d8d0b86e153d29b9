/* Unit tests of core/opts: every -o item and its effect, every error path
 * and its message, both command lines, the remote spec, escapes, noise,
 * options without effect (logged once), help, and the cross-option checks. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"
#include "tap.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OFF(f) offsetof(struct opts, f)

static char err[OPTS_ERR_LEN];

/* ------------------------------------------------------ helpers */

static const char *
strv_last(const struct opts_strv *l)
{
	return l->n ? l->v[l->n - 1] : NULL;
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Runs f with fd 2 going to a temporary file and returns what was written
 * (caller frees). The logger writes to stderr in the foreground. */
static char *
capture_stderr(void (*f)(void *), void *arg)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	long n;
	char *out;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	f(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = ftell(tmp);
	if (n < 0)
		n = 0;
	out = calloc(1, (size_t)n + 1);
	rewind(tmp);
	if (fread(out, 1, (size_t)n, tmp) != (size_t)n)
		out[0] = '\0';
	fclose(tmp);
	return out;
}

/* A test point's name: control characters would break the TAP line. */
static const char *
desc(const char *s)
{
	static char buf[256];
	size_t i;

	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;
	const char *p;

	for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static int
parse_argv(struct opts *o, int (*parse)(struct opts *, int, char **, char *, size_t),
	   const char *const *args)
{
	char *argv[64];
	int argc = 0;

	while (args[argc] != NULL && argc < 63) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return parse(o, argc, argv, err, sizeof(err));
}

#define CMDLINE(o, ...) parse_argv(o, opts_parse_cmdline, \
	(const char *const[]){ "sshmountfs", __VA_ARGS__, NULL })
#define MOUNTLINE(o, ...) parse_argv(o, opts_parse_mount, \
	(const char *const[]){ "mount.sshmountfs", __VA_ARGS__, NULL })

/* ------------------------------------------------------ defaults */

static void
test_defaults(void)
{
	struct opts o;

	opts_init(&o);
	TAP_EQ_INT(o.port, 0);
	TAP_EQ_INT(o.hostkey_policy, OPTS_HOSTKEY_YES);
	TAP_CHECK(!o.hostkey_policy_set);
	TAP_EQ_INT(o.server_alive_count_max, 3);
	TAP_EQ_INT(o.server_alive_interval, 0);
	TAP_CHECK(o.cache);
	TAP_CHECK(o.cache_stat_timeout == 20 && o.cache_dir_timeout == 20 &&
		  o.cache_link_timeout == 20);
	TAP_EQ_INT(o.max_conns, 1);
	TAP_EQ_INT(o.channels, 4);
	TAP_CHECK(o.reconnect);
	TAP_EQ_INT(o.reconnect_timeout, 60);
	TAP_EQ_INT(o.reach_tries, 5);
	TAP_EQ_INT(o.reach_timeout_ms, 2000);
	TAP_EQ_INT(o.reach_pause_ms, 500);
	TAP_EQ_INT(o.log_level, -1);
	TAP_EQ_INT(o.passphrase_fd, -1);
	TAP_EQ_INT(o.idmap, OPTS_IDMAP_NONE);
	TAP_EQ_INT(o.nomap, OPTS_NOMAP_ERROR);
	TAP_CHECK(!o.contain_symlinks_set && !o.ro && !o.foreground && !o.debug);
	TAP_CHECK(o.host == NULL && o.user == NULL && o.path == NULL && o.mountpoint == NULL);
	TAP_CHECK(o.fuse_opts.n == 0 && o.ssh_passthrough.n == 0 && o.identity_files.n == 0);
	opts_free(&o);
}

/* ------------------------------------------------------ one item, one effect */

enum ft { FT_BOOL, FT_INT, FT_UINT, FT_DBL, FT_STR, FT_STRV };

struct ok_case {
	const char *list;
	enum ft type;
	size_t off;
	long long i;
	double d;
	const char *s;
};

#define B(l, f, v)	{ l, FT_BOOL, OFF(f), v, 0, NULL }
#define I(l, f, v)	{ l, FT_INT, OFF(f), v, 0, NULL }
#define U(l, f, v)	{ l, FT_UINT, OFF(f), v, 0, NULL }
#define D(l, f, v)	{ l, FT_DBL, OFF(f), 0, v, NULL }
#define S(l, f, v)	{ l, FT_STR, OFF(f), 0, 0, v }
#define V(l, f, v)	{ l, FT_STRV, OFF(f), 0, 0, v }	/* last element of a list */

static const struct ok_case ok_cases[] = {
	/* connection */
	I("port=2222", port, 2222),
	I("Port=22", port, 22),
	I("PORT=1", port, 1),
	I("port=65535", port, 65535),
	S("User=alice", user, "alice"),
	S("user=alice,User=bob", user, "bob"),	/* lower-case user= is fstab noise */
	V("IdentityFile=/k/id_ed25519", identity_files, "/k/id_ed25519"),
	V("identityfile=/root/.ssh/id_rsa", identity_files, "/root/.ssh/id_rsa"),
	V("IdentityFile=/a,IdentityFile=/b", identity_files, "/b"),
	S("Ciphers=aes128-gcm@openssh.com", ciphers, "aes128-gcm@openssh.com"),
	S("Cipher=aes256-ctr", ciphers, "aes256-ctr"),
	S("Ciphers=aes128-ctr:aes256-ctr", ciphers, "aes128-ctr,aes256-ctr"),
	S("Ciphers=aes128-ctr\\,chacha20-poly1305@openssh.com", ciphers,
	  "aes128-ctr,chacha20-poly1305@openssh.com"),
	S("UserKnownHostsFile=/tmp/kh", known_hosts, "/tmp/kh"),
	I("StrictHostKeyChecking=yes", hostkey_policy, OPTS_HOSTKEY_YES),
	I("StrictHostKeyChecking=ask", hostkey_policy, OPTS_HOSTKEY_YES),
	I("StrictHostKeyChecking=accept-new", hostkey_policy, OPTS_HOSTKEY_ACCEPT_NEW),
	I("StrictHostKeyChecking=no", hostkey_policy, OPTS_HOSTKEY_NO),
	I("stricthostkeychecking=off", hostkey_policy, OPTS_HOSTKEY_NO),
	B("StrictHostKeyChecking=yes", hostkey_policy_set, true),
	I("ServerAliveInterval=15", server_alive_interval, 15),
	I("serveraliveinterval=240", server_alive_interval, 240),
	I("ServerAliveCountMax=5", server_alive_count_max, 5),
	I("ServerAliveCountMax=0", server_alive_count_max, 0),
	I("ConnectTimeout=5", connect_timeout, 5),
	S("ProxyCommand=nc %h %p", proxy_command, "nc %h %p"),
	S("ProxyJump=jump@gw:2222", proxy_jump, "jump@gw:2222"),
	I("LogLevel=Error", log_level, LOG_LVL_ERROR),
	I("LogLevel=DEBUG3", log_level, LOG_LVL_DEBUG),
	I("loglevel=info", log_level, LOG_LVL_INFO),
	B("Compression=yes", compression, true),
	B("Compression=yes,compression=no", compression, false),
	B("BatchMode=yes", batch_mode, true),
	B("BatchMode=no", batch_mode, false),
	B("password_stdin", password_stdin, true),
	I("passphrase_fd=7", passphrase_fd, 7),
	I("passphrase_fd=0", passphrase_fd, 0),
	S("sftp_server=/usr/bin/sudo /usr/lib/openssh/sftp-server", sftp_server,
	  "/usr/bin/sudo /usr/lib/openssh/sftp-server"),
	S("sftp_server=sftp", sftp_server, "sftp"),
	S("ssh_command=ssh -J pu@ph:22", ssh_command, "ssh -J pu@ph:22"),
	I("directport=1234", directport, 1234),
	I("max_conns=4", max_conns, 4),
	I("channels=8", channels, 8),
	B("reconnect", reconnect, true),
	B("noreconnect", reconnect, false),
	B("noreconnect,reconnect", reconnect, true),
	I("reconnect_timeout=0", reconnect_timeout, 0),
	I("reconnect_timeout=300", reconnect_timeout, 300),
	/* remote server process */
	B("nice", nice, true),
	B("ionice", ionice, true),
	B("nocache", nocache, true),
	/* checks */
	B("full_check", full_check, true),
	B("check_commands=no", check_commands_off, true),
	B("check_commands=no,check_commands=yes", check_commands_off, false),
	V("check_commands=rsync:flock", check_commands, "flock"),
	V("check_commands=rsync,check_commands=flock", check_commands, "flock"),
	V("check_commands=rsync\\,flock", check_commands, "flock"),
	V("check_commands=/usr/bin/rsync", check_commands, "/usr/bin/rsync"),
	I("reach_tries=3", reach_tries, 3),
	I("reach_timeout=1", reach_timeout_ms, 1000),
	I("reach_timeout=0.5", reach_timeout_ms, 500),
	I("reach_timeout=250ms", reach_timeout_ms, 250),
	I("reach_timeout=3s", reach_timeout_ms, 3000),
	I("reach_pause=0", reach_pause_ms, 0),
	I("reach_pause=0.2", reach_pause_ms, 200),
	/* filesystem */
	I("idmap=none", idmap, OPTS_IDMAP_NONE),
	I("idmap=user", idmap, OPTS_IDMAP_USER),
	I("idmap=file,uidfile=/u", idmap, OPTS_IDMAP_FILE),
	S("uidfile=/etc/sshmountfs/uids", uidfile, "/etc/sshmountfs/uids"),
	S("gidfile=/etc/sshmountfs/gids", gidfile, "/etc/sshmountfs/gids"),
	I("nomap=ignore", nomap, OPTS_NOMAP_IGNORE),
	I("nomap=error", nomap, OPTS_NOMAP_ERROR),
	U("uid=1000", uid, 1000),
	B("uid=0", uid_set, true),
	U("gid=100", gid, 100),
	B("gid=100", gid_set, true),
	U("umask=022", umask, 022),
	U("umask=0777", umask, 0777),
	B("umask=7", umask_set, true),
	B("allow_other", allow_other, true),
	B("allow_root", allow_root, true),
	B("default_permissions", default_permissions, true),
	B("follow_symlinks", follow_symlinks, true),
	B("transform_symlinks", transform_symlinks, true),
	B("contain_symlinks", contain_symlinks, true),
	B("contain_symlinks", contain_symlinks_set, true),
	B("contain_symlinks,no_contain_symlinks", contain_symlinks, false),
	B("no_contain_symlinks", contain_symlinks_set, true),
	B("disable_hardlink", disable_hardlink, true),
	B("exclusive", exclusive, true),
	B("kernel_cache", kernel_cache, true),
	B("auto_cache", auto_cache, true),
	B("auto_cache,noauto_cache", auto_cache, false),
	B("direct_io", direct_io, true),
	B("ro", ro, true),
	B("ro,rw", ro, false),
	U("max_read=65536", max_read, 65536),
	U("max_write=262144", max_write, 262144),
	U("max_read=0", max_read, 0),
	/* caching */
	B("cache=no", cache, false),
	B("cache=no,cache=yes", cache, true),
	B("dir_cache=no", cache, false),
	D("cache_timeout=7", cache_stat_timeout, 7),
	D("cache_timeout=7", cache_dir_timeout, 7),
	D("cache_timeout=7", cache_link_timeout, 7),
	D("dcache_timeout=9", cache_link_timeout, 9),
	D("cache_stat_timeout=2", cache_stat_timeout, 2),
	D("cache_stat_timeout=2", cache_dir_timeout, 20),
	D("cache_dir_timeout=2", cache_dir_timeout, 2),
	D("cache_link_timeout=0.5", cache_link_timeout, 0.5),
	D("dcache_stat_timeout=3", cache_stat_timeout, 3),
	D("dcache_dir_timeout=4", cache_dir_timeout, 4),
	D("dcache_link_timeout=0", cache_link_timeout, 0),
	U("cache_max_size=500", cache_max_size, 500),
	U("dcache_max_size=10000", cache_max_size, 10000),
	/* process */
	B("debug", debug, true),
	B("debug", foreground, true),
	B("sshfs_debug", debug, true),
	/* libfuse pass-through: the item as given */
	V("fsname=nas:/data", fuse_opts, "fsname=nas:/data"),
	V("fsname=a\\,b", fuse_opts, "fsname=a,b"),
	V("subtype=sshmountfs", fuse_opts, "subtype=sshmountfs"),
	V("attr_timeout=1.5", fuse_opts, "attr_timeout=1.5"),
	V("entry_timeout=0", fuse_opts, "entry_timeout=0"),
	V("negative_timeout=2", fuse_opts, "negative_timeout=2"),
	V("ac_attr_timeout=0", fuse_opts, "ac_attr_timeout=0"),
	V("noforget", fuse_opts, "noforget"),
	V("remember=10", fuse_opts, "remember=10"),
	V("no_rofd_flush", fuse_opts, "no_rofd_flush"),
	V("modules=subdir,subdir=/srv", fuse_opts, "subdir=/srv"),
	V("modules=iconv,from_code=UTF-8,to_code=LATIN1", fuse_opts, "to_code=LATIN1"),
	V("rellinks", fuse_opts, "rellinks"),
	V("max_threads=20", fuse_opts, "max_threads=20"),
	V("max_idle_threads=5", fuse_opts, "max_idle_threads=5"),
	V("clone_fd", fuse_opts, "clone_fd"),
	V("auto_unmount", fuse_opts, "auto_unmount"),
	V("context=system_u:object_r:tmp_t:s0", fuse_opts, "context=system_u:object_r:tmp_t:s0"),
	V("dev", fuse_opts, "dev"),
	V("nodev", fuse_opts, "nodev"),
	V("suid", fuse_opts, "suid"),
	V("nosuid", fuse_opts, "nosuid"),
	V("exec", fuse_opts, "exec"),
	V("noexec", fuse_opts, "noexec"),
	V("atime", fuse_opts, "atime"),
	V("noatime", fuse_opts, "noatime"),
	V("async", fuse_opts, "async"),
	V("sync", fuse_opts, "sync"),
	V("dirsync", fuse_opts, "dirsync"),
	/* other OpenSSH options: canonical spelling */
	V("HostKeyAlias=nas", ssh_passthrough, "HostKeyAlias=nas"),
	V("hostkeyalias=nas", ssh_passthrough, "HostKeyAlias=nas"),
	V("TCPKeepAlive=no", ssh_passthrough, "TCPKeepAlive=no"),
	V("ControlMaster=auto", ssh_passthrough, "ControlMaster=auto"),
	V("KexAlgorithms=curve25519-sha256", ssh_passthrough, "KexAlgorithms=curve25519-sha256"),
	V("IdentitiesOnly=yes", ssh_passthrough, "IdentitiesOnly=yes"),
	V("PubkeyAcceptedAlgorithms=+ssh-rsa", ssh_passthrough, "PubkeyAcceptedAlgorithms=+ssh-rsa"),
	V("AddressFamily=inet6", ssh_passthrough, "AddressFamily=inet6"),
	V("HostName=10.0.0.1", ssh_passthrough, "HostName=10.0.0.1"),
	/* escapes */
	S("ssh_command=my\\,cmd", ssh_command, "my,cmd"),
	S("ssh_command=a\\040b", ssh_command, "a b"),
	S("ssh_command=a\\\\b", ssh_command, "a\\b"),
	S("ssh_command=a\\qb", ssh_command, "aqb"),
	S("ssh_command=ab\\", ssh_command, "ab\\"),
	S(",,ssh_command=x,,", ssh_command, "x"),
};

/* A fresh opts with list applied; err holds the message. */
static int
fresh_apply(struct opts *o, const char *list)
{
	opts_init(o);
	err[0] = '\0';
	return opts_apply_list(o, list, err, sizeof(err));
}

static bool
ok_case_holds(const struct opts *o, const struct ok_case *c)
{
	const char *field = (const char *)o + c->off;

	switch (c->type) {
	case FT_BOOL: return *(const bool *)field == (c->i != 0);
	case FT_INT: return *(const int *)field == c->i;
	case FT_UINT: return *(const unsigned *)field == (unsigned)c->i;
	case FT_DBL: return *(const double *)field == c->d;
	case FT_STR: return str_eq(*(char *const *)field, c->s);
	case FT_STRV: return str_eq(strv_last((const struct opts_strv *)field), c->s);
	}
	return false;
}

static void
test_ok_table(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		struct opts o;
		int r = fresh_apply(&o, c->list);

		tap_point(r == 0 && ok_case_holds(&o, c), c->list, __FILE__, __LINE__);
		if (r != 0)
			printf("#   rc %d: %s\n", r, err);
		opts_free(&o);
	}
}

/* Things a single row cannot say. */
static void
test_lists_accumulate(void)
{
	struct opts o;

	opts_init(&o);
	TAP_EQ_INT(opts_apply_list(&o, "IdentityFile=/a,IdentityFile=/b", err, sizeof(err)), 0);
	TAP_EQ_INT(o.identity_files.n, 2);
	TAP_CHECK(str_eq(o.identity_files.v[0], "/a") && o.identity_files.v[2] == NULL);
	TAP_EQ_INT(opts_apply_list(&o, "check_commands=rsync:flock", err, sizeof(err)), 0);
	TAP_EQ_INT(opts_apply_list(&o, "check_commands=rsync,check_commands=nocache:",
				   err, sizeof(err)), 0);
	TAP_EQ_INT(o.check_commands.n, 3);	/* rsync once */
	TAP_CHECK(str_eq(o.check_commands.v[0], "rsync") && str_eq(o.check_commands.v[1], "flock") &&
		  str_eq(o.check_commands.v[2], "nocache"));
	TAP_EQ_INT(opts_apply_list(&o, "nodev,nosuid,fsname=x", err, sizeof(err)), 0);
	TAP_EQ_INT(o.fuse_opts.n, 3);
	TAP_CHECK(str_eq(o.fuse_opts.v[0], "nodev"));
	/* modelled libfuse options stay out of fuse_opts */
	TAP_EQ_INT(opts_apply_list(&o, "allow_other,default_permissions,kernel_cache,"
				   "auto_cache,direct_io,ro,uid=1,gid=1,umask=022,max_read=4096",
				   err, sizeof(err)), 0);
	TAP_EQ_INT(o.fuse_opts.n, 3);
	opts_free(&o);
}

/* ------------------------------------------------------ errors */

struct err_case {
	const char *list;
	const char *want;	/* substring of the message */
};

static const struct err_case err_cases[] = {
	{ "frobnicate", "unknown option 'frobnicate' (see sshmountfs --help)" },
	{ "frobnicate=3", "unknown option 'frobnicate'" },
	{ "ro,frobnicate", "unknown option 'frobnicate'" },
	{ "defaults=1", "unknown option 'defaults'" },
	{ "nofail=yes", "unknown option 'nofail'" },
	{ "blkdev", "unknown option 'blkdev'" },
	{ "fmask=022", "unknown option 'fmask'" },
	{ "=x", "has no name before '='" },
	{ "port=x", "port must be 1-65535, got 'x'" },
	{ "port=0", "port must be 1-65535, got '0'" },
	{ "port=65536", "port must be 1-65535, got '65536'" },
	{ "Port=-1", "Port must be 1-65535, got '-1'" },
	{ "port= 22", "port must be 1-65535, got ' 22'" },
	{ "port=22x", "got '22x'" },
	{ "port=", "option 'port' needs a value (port=VALUE)" },
	{ "port", "option 'port' needs a value" },
	{ "allow_other=1", "option 'allow_other' takes no value" },
	{ "ro=yes", "option 'ro' takes no value" },
	{ "debug=1", "option 'debug' takes no value" },
	{ "contain_symlinks=yes", "option 'contain_symlinks' takes no value" },
	{ "noforget=1", "option 'noforget' takes no value" },
	{ "nodev=1", "option 'nodev' takes no value" },
	{ "cache=maybe", "cache must be yes or no, got 'maybe'" },
	{ "dir_cache=2", "dir_cache must be yes or no, got '2'" },
	{ "Compression=fast", "Compression must be yes or no, got 'fast'" },
	{ "BatchMode=x", "BatchMode must be yes or no, got 'x'" },
	{ "StrictHostKeyChecking=sometimes",
	  "StrictHostKeyChecking must be yes, accept-new, no or ask, got 'sometimes'" },
	{ "LogLevel=LOUD", "LogLevel must be QUIET, FATAL, ERROR, INFO, VERBOSE or DEBUG1-3, got 'LOUD'" },
	{ "idmap=group", "idmap must be none, user or file, got 'group'" },
	{ "idmap", "option 'idmap' needs a value" },
	{ "nomap=warn", "nomap must be ignore or error, got 'warn'" },
	{ "uid=-1", "uid must be a whole number >= 0, got '-1'" },
	{ "uid=alice", "uid must be a whole number >= 0, got 'alice'" },
	{ "gid=4294967295", "gid must be a whole number >= 0, got '4294967295'" },
	{ "umask=999", "umask must be an octal mode from 000 to 777, got '999'" },
	{ "umask=0x22", "umask must be an octal mode" },
	{ "umask=1000", "umask must be an octal mode" },
	{ "cache_timeout=-5", "cache_timeout must be a number of seconds >= 0, got '-5'" },
	{ "cache_stat_timeout=abc", "cache_stat_timeout must be a number of seconds" },
	{ "dcache_dir_timeout=nan", "dcache_dir_timeout must be a number of seconds" },
	{ "cache_link_timeout=inf", "cache_link_timeout must be a number of seconds" },
	{ "cache_dir_timeout=1e99", "cache_dir_timeout must be a number of seconds" },
	{ "cache_max_size=-1", "cache_max_size must be" },
	{ "max_conns=0", "max_conns must be 1-64, got '0'" },
	{ "max_conns=65", "max_conns must be 1-64, got '65'" },
	{ "channels=0", "channels must be 1-64, got '0'" },
	{ "reconnect_timeout=-1", "reconnect_timeout must be 0-86400, got '-1'" },
	{ "reconnect_timeout=x", "reconnect_timeout must be 0-86400, got 'x'" },
	{ "reconnect_timeout=1.5", "reconnect_timeout must be 0-86400, got '1.5'" },
	{ "reconnect_timeout", "option 'reconnect_timeout' needs a value" },
	{ "noreconnect=1", "option 'noreconnect' takes no value" },
	{ "max_read=20000000", "max_read must be 0-16777216, got '20000000'" },
	{ "max_write=abc", "max_write must be 0-16777216, got 'abc'" },
	{ "ServerAliveInterval=abc", "ServerAliveInterval must be 0-86400, got 'abc'" },
	{ "ServerAliveCountMax=-1", "ServerAliveCountMax must be 0-1000" },
	{ "ConnectTimeout=1e3", "ConnectTimeout must be 0-86400, got '1e3'" },
	{ "directport=0", "directport must be 1-65535, got '0'" },
	{ "passphrase_fd=-1", "passphrase_fd must be a whole number >= 0, got '-1'" },
	{ "reach_tries=0", "reach_tries must be 1-100, got '0'" },
	{ "reach_tries=101", "reach_tries must be 1-100" },
	{ "reach_timeout=0.01", "reach_timeout must be a duration from 0.1s to 600s" },
	{ "reach_timeout=abc", "reach_timeout must be a duration" },
	{ "reach_timeout=5min", "reach_timeout must be a duration" },
	{ "reach_pause=61", "reach_pause must be a duration from 0s to 60s (seconds, or N ms), got '61'" },
	{ "check_commands=rm;ls", "check_commands: 'rm;ls' is not a command name" },
	{ "check_commands=$(reboot)", "'$(reboot)' is not a command name" },
	{ "check_commands=rsync:-rf", "'-rf' is not a command name" },
	{ "check_commands=a b", "'a b' is not a command name" },
	{ "check_commands=", "option 'check_commands' needs a value" },
	{ "Ciphers=aes128 ctr", "Ciphers must be a list of cipher names, got 'aes128 ctr'" },
	{ "Ciphers=$(x)", "Ciphers must be a list of cipher names" },
	{ "User=-oProxyCommand=x", "User must be a user name" },
	{ "User=a b", "User must be a user name, got 'a b'" },
	{ "User", "option 'User' needs a value" },
	{ "IdentityFile=", "option 'IdentityFile' needs a value" },
	{ "uidfile=", "option 'uidfile' needs a value" },
	{ "HostKeyAlias", "option 'HostKeyAlias' needs a value" },
	{ "controlpath=", "option 'controlpath' needs a value" },
	{ "ssh_protocol=1", "ssh_protocol must be 2 (SSH protocol 1 is not supported), got '1'" },
	{ "writeback_cache=yes", "writeback_cache must be no" },
	{ "writeback_cache", "option 'writeback_cache' needs a value" },
	{ "workaround", "option 'workaround' needs a value" },
	{ "sshfs_sync=1", "option 'sshfs_sync' takes no value" },
	{ "reconnect=yes", "option 'reconnect' takes no value" },
	{ "cache_clean_interval=x", "cache_clean_interval must be a whole number >= 0, got 'x'" },
	{ "intr_signal=-3", "intr_signal must be a whole number" },
	{ "passive", "option 'passive' is not supported: sshmountfs cannot speak SFTP" },
	{ "slave", "option 'slave' is not supported" },
	{ "vsock=3:22", "option 'vsock' is not supported" },
	{ "setuid=alice", "option 'setuid' is not supported: it is handled by mount.fuse3" },
	{ "drop_privileges", "fuse.sshmountfs" },
	{ "attr_timeout=x", "attr_timeout must be a number of seconds >= 0, got 'x'" },
	{ "entry_timeout=-1", "entry_timeout must be a number of seconds" },
	{ "max_threads=-2", "max_threads must be" },
	{ "remember=x", "remember must be" },
	{ "fsname=", "option 'fsname' needs a value" },
	{ "ProxyCommand=a\tb", "option 'ProxyCommand' contains a control character" },
	{ "ssh_command=a\nb", "contains a control character" },
	{ "fsname=a\\000b", "escaped NUL" },
	{ "ssh_command=a\\001b", "contains a control character" },
};

static void
test_err_table(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(err_cases); i++) {
		const struct err_case *c = &err_cases[i];
		struct opts o;
		int r = fresh_apply(&o, c->list);

		tap_point(r == -EINVAL && strstr(err, c->want) != NULL, desc(c->list),
			  __FILE__, __LINE__);
		if (r != -EINVAL || strstr(err, c->want) == NULL)
			printf("#   rc %d, message: %s\n#   want: %s\n", r, err, c->want);
		opts_free(&o);
	}
}

/* ------------------------------------------------------ noise and ignored */

static void
test_noise(void)
{
	static const char *const noise[] = {
		"_netdev", "nofail", "noauto", "auto", "user", "user=alice", "nouser",
		"users", "nousers", "owner", "group", "defaults", "nobootwait",
		"comment=systemd.automount", "x-systemd.automount",
		"x-systemd.mount-timeout=30", "X-mount.mkdir", "helper=udisks2", "uhelper=x",
	};
	struct opts o, fresh;
	size_t i;

	opts_init(&fresh);
	for (i = 0; i < ARRAY_LEN(noise); i++) {
		tap_point(fresh_apply(&o, noise[i]) == 0 &&
			  memcmp(&o, &fresh, sizeof(o)) == 0, noise[i], __FILE__, __LINE__);
		opts_free(&o);
	}
	/* a typical sshfs fstab line */
	opts_init(&o);
	TAP_EQ_INT(opts_apply_list(&o, "noauto,x-systemd.automount,_netdev,user,idmap=user,"
				   "transform_symlinks,identityfile=/k,port=45678,allow_other,"
				   "default_permissions,uid=1000,gid=1000", err, sizeof(err)), 0);
	TAP_CHECK(o.idmap == OPTS_IDMAP_USER && o.port == 45678 && o.uid == 1000 &&
		  o.allow_other && o.transform_symlinks && str_eq(strv_last(&o.identity_files), "/k"));
	TAP_EQ_INT(o.fuse_opts.n, 0);
	opts_free(&o);
}

/* A valid item for each option without effect; the test below checks that
 * opts_ignored_names() has no name this table lacks. */
static const char *const ignored_samples[] = {
	"workaround=rename:renamexdev", "sshfs_sync", "no_readahead", "sync_readdir",
	"ssh_protocol=2", "sshfs_verbose", "writeback_cache=no", "unreliable_append",
	"delay_connect", "no_check_root", "nonempty",
	"cache_clean_interval=60", "cache_min_clean_interval=5",
	"dcache_clean_interval=60", "dcache_min_clean_interval=5", "hard_remove",
	"use_ino", "readdir_ino", "intr", "intr_signal=10",
};

static const char *
sample_for(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < ARRAY_LEN(ignored_samples); i++)
		if (strncmp(ignored_samples[i], name, n) == 0 &&
		    (ignored_samples[i][n] == '\0' || ignored_samples[i][n] == '='))
			return ignored_samples[i];
	return NULL;
}

struct apply_twice {
	const char *item;
	int r1, r2;
	struct opts o;
};

static void
apply_twice_fn(void *arg)
{
	struct apply_twice *a = arg;

	a->r1 = opts_apply_list(&a->o, a->item, err, sizeof(err));
	a->r2 = opts_apply_list(&a->o, a->item, err, sizeof(err));
}

static void
cmdline_v_fn(void *arg)
{
	struct apply_twice *a = arg;

	a->r1 = CMDLINE(&a->o, "-v", "h:", "/tmp");
}

static void
sloppy_mount_fn(void *arg)
{
	struct apply_twice *a = arg;

	a->r1 = MOUNTLINE(&a->o, "h:", "/tmp", "-o", "frobnicate", "-sfnv");
}

static void
test_ignored_logged_once(void)
{
	const char *const *names = opts_ignored_names();
	char want[128];
	size_t i;

	for (i = 0; names[i]; i++) {
		struct apply_twice a = { .item = sample_for(names[i]) };
		char *out;

		if (a.item == NULL) {
			tap_point(0, names[i], __FILE__, __LINE__);
			printf("#   no sample for ignored option '%s'\n", names[i]);
			continue;
		}
		opts_init(&a.o);
		out = capture_stderr(apply_twice_fn, &a);
		snprintf(want, sizeof(want), "option '%s' has no effect in sshmountfs", names[i]);
		tap_point(a.r1 == 0 && a.r2 == 0 && count_of(out, want) == 1 &&
			  count_of(out, "\n") == 1, names[i], __FILE__, __LINE__);
		if (count_of(out, want) != 1)
			printf("#   log was: %s\n", out);
		free(out);
		opts_free(&a.o);
	}
	TAP_EQ_INT(i, ARRAY_LEN(ignored_samples));
	/* -v on the command line is sshfs 3.7.3's verbose: logged, no effect */
	{
		struct apply_twice a = { .item = "sshfs_verbose,sshfs_sync,sshfs_verbose" };
		char *out;

		opts_init(&a.o);
		out = capture_stderr(apply_twice_fn, &a);
		TAP_EQ_INT(count_of(out, "has no effect"), 2);
		free(out);
		opts_free(&a.o);
	}
}

/* ------------------------------------------------------ the remote spec */

struct remote_case {
	const char *spec;
	int rc;
	const char *user, *host, *path;	/* or, when rc != 0, host = message part */
};

static const struct remote_case remote_cases[] = {
	{ "host:", 0, NULL, "host", NULL },
	{ "host:/srv/data", 0, NULL, "host", "/srv/data" },
	{ "host:relative/dir", 0, NULL, "host", "relative/dir" },
	{ "alice@nas.local:/backups", 0, "alice", "nas.local", "/backups" },
	{ "a.b@corp.example@host:p", 0, "a.b@corp.example", "host", "p" },
	{ "u@h:/path/with@at:colon", 0, "u", "h", "/path/with@at:colon" },
	{ "[::1]:/srv", 0, NULL, "::1", "/srv" },
	{ "root@[::1]:", 0, "root", "::1", NULL },
	{ "u@[fe80::1%eth0]:x", 0, "u", "fe80::1%eth0", "x" },
	{ "[2001:db8::7]:a[1]", 0, NULL, "2001:db8::7", "a[1]" },
	{ "my_alias:", 0, NULL, "my_alias", NULL },
	{ "10.0.0.1:/", 0, NULL, "10.0.0.1", "/" },
	{ "host", -EINVAL, NULL, "must be [user@]host:[path]", NULL },
	{ ":/srv", -EINVAL, NULL, "missing host", NULL },
	{ "u@:/srv", -EINVAL, NULL, "missing host", NULL },
	{ "::1:/srv", -EINVAL, NULL, "IPv6 addresses go in brackets", NULL },
	{ "@host:", -EINVAL, NULL, "empty user name", NULL },
	{ "-oProxyCommand=x:", -EINVAL, NULL, "invalid hostname '-oProxyCommand=x'", NULL },
	{ "u@-host:", -EINVAL, NULL, "invalid hostname '-host'", NULL },
	{ "ho st:", -EINVAL, NULL, "invalid hostname", NULL },
	{ "host;reboot:", -EINVAL, NULL, "invalid hostname 'host;reboot'", NULL },
	{ "$(id):", -EINVAL, NULL, "invalid hostname", NULL },
	{ "h`x`:", -EINVAL, NULL, "invalid hostname", NULL },
	{ "[-oProxyCommand=x]:", -EINVAL, NULL, "invalid hostname", NULL },
	{ "[::1;x]:", -EINVAL, NULL, "invalid hostname", NULL },
	{ "[::1]", -EINVAL, NULL, "must be written [address]:path", NULL },
	{ "[::1]x:/p", -EINVAL, NULL, "must be written [address]:path", NULL },
	{ "u@x[::1]:p", -EINVAL, NULL, "unexpected text before '['", NULL },
	{ "-u@host:", -EINVAL, NULL, "invalid user name '-u'", NULL },
	{ "a b@host:", -EINVAL, NULL, "invalid user name 'a b'", NULL },
};

static void
test_remote(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(remote_cases); i++) {
		const struct remote_case *c = &remote_cases[i];
		struct opts o;
		int r;
		bool ok;

		opts_init(&o);
		err[0] = '\0';
		r = opts_parse_remote(&o, c->spec, err, sizeof(err));
		if (c->rc == 0)
			ok = r == 0 && str_eq(o.user, c->user) && str_eq(o.host, c->host) &&
			     str_eq(o.path, c->path);
		else
			ok = r == c->rc && strstr(err, c->host) != NULL && o.host == NULL;
		tap_point(ok, c->spec, __FILE__, __LINE__);
		if (!ok)
			printf("#   rc %d user %s host %s path %s err %s\n", r, o.user, o.host,
			       o.path, err);
		opts_free(&o);
	}
}

static void
test_user_precedence(void)
{
	struct opts o;

	/* user@host wins over User=, whichever comes first */
	opts_init(&o);
	TAP_EQ_INT(opts_apply_list(&o, "User=bob", err, sizeof(err)), 0);
	TAP_EQ_INT(opts_parse_remote(&o, "alice@h:", err, sizeof(err)), 0);
	TAP_CHECK(str_eq(o.user, "alice") && o.user_from_spec);
	TAP_EQ_INT(opts_apply_list(&o, "User=carol", err, sizeof(err)), 0);
	TAP_CHECK(str_eq(o.user, "alice"));
	opts_free(&o);
	/* without a user in the spec, User= stays */
	opts_init(&o);
	TAP_EQ_INT(opts_apply_list(&o, "User=bob", err, sizeof(err)), 0);
	TAP_EQ_INT(opts_parse_remote(&o, "h:", err, sizeof(err)), 0);
	TAP_CHECK(str_eq(o.user, "bob") && !o.user_from_spec);
	opts_free(&o);
}

/* ------------------------------------------------------ command line */

static void
test_bit_line(void)
{
	struct opts o;
	int r;

	opts_init(&o);
	r = CMDLINE(&o, "-o", "ServerAliveInterval=240", "-o", "LogLevel=Error",
		    "-o", "IdentityFile=/home/u/.ssh/id_rsa", "-p", "2222",
		    "-o", "Ciphers=aes128-gcm@openssh.com", "-o", "idmap=user",
		    "-o", "cache_dir_timeout=2", "-o", "cache_stat_timeout=2",
		    "u@nas:/backups", "/tmp");
	TAP_EQ_INT(r, 0);
	if (r != 0)
		printf("#   %s\n", err);
	TAP_EQ_INT(o.server_alive_interval, 240);
	TAP_EQ_INT(o.log_level, LOG_LVL_ERROR);
	TAP_CHECK(str_eq(strv_last(&o.identity_files), "/home/u/.ssh/id_rsa"));
	TAP_EQ_INT(o.port, 2222);
	TAP_CHECK(str_eq(o.ciphers, "aes128-gcm@openssh.com"));
	TAP_EQ_INT(o.idmap, OPTS_IDMAP_USER);
	TAP_CHECK(o.cache_dir_timeout == 2 && o.cache_stat_timeout == 2 &&
		  o.cache_link_timeout == 20);
	TAP_CHECK(str_eq(o.user, "u") && str_eq(o.host, "nas") && str_eq(o.path, "/backups"));
	TAP_CHECK(str_eq(o.mountpoint, "/tmp"));
	TAP_CHECK(!o.foreground && o.fuse_opts.n == 0 && o.ssh_passthrough.n == 0);
	opts_free(&o);

	/* BiT 1.5 with a proxy host */
	opts_init(&o);
	r = CMDLINE(&o, "-o", "ServerAliveInterval=240", "-p", "22", "-o", "idmap=user",
		    "u@nas:path", "/tmp", "-o", "ssh_command=ssh -J pu@ph:2222");
	TAP_EQ_INT(r, 0);
	TAP_CHECK(str_eq(o.ssh_command, "ssh -J pu@ph:2222") && str_eq(o.path, "path"));
	opts_free(&o);
}

static void
test_cmdline_forms(void)
{
	struct opts o;

	/* options after, between, glued */
	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "h:/x", "-oro,allow_other", "/tmp", "-p2200", "-f", "-s",
			   "-C", "-F", "/etc/ssh/cfg"), 0);
	TAP_CHECK(o.ro && o.allow_other && o.port == 2200 && o.foreground && o.single_thread &&
		  o.compression && str_eq(o.ssh_config, "/etc/ssh/cfg"));
	opts_free(&o);

	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "-F/x/cfg", "-d", "h:", "/tmp"), 0);
	TAP_CHECK(o.debug && o.foreground && str_eq(o.ssh_config, "/x/cfg") && o.path == NULL);
	opts_free(&o);

	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "--debug", "h:", "/tmp", "-o", "rw"), 0);
	TAP_CHECK(o.debug && !o.ro);
	opts_free(&o);

	/* "--" ends the options: a mountpoint may start with '-' */
	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "-o", "ro", "--", "h:", "-odd-dir"), 0);
	TAP_CHECK(o.ro && o.mountpoint && strstr(o.mountpoint, "/-odd-dir") != NULL &&
		  o.mountpoint[0] == '/');
	opts_free(&o);

	/* several -o, last wins for scalars */
	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "-o", "port=1", "-p", "2", "h:", "/tmp", "-o", "port=3"), 0);
	TAP_EQ_INT(o.port, 3);
	opts_free(&o);

	/* -v (sshfs 3.7.3's verbose) accepted, said to have no effect */
	{
		struct apply_twice a = { .item = NULL };
		char *out;

		opts_init(&a.o);
		out = capture_stderr(cmdline_v_fn, &a);
		TAP_EQ_INT(a.r1, 0);
		TAP_CHECK(strstr(out, "option 'sshfs_verbose' has no effect") != NULL);
		free(out);
		opts_free(&a.o);
	}
}

static void
test_cmdline_help_version(void)
{
	struct opts o;

	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "-h"), 0);
	TAP_CHECK(o.show_help && !o.show_version);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "--help"), 0);
	TAP_CHECK(o.show_help);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "-o", "frobnicate", "h:", "--version"), 0);
	TAP_CHECK(o.show_version && !o.show_help);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "-V"), 0);
	TAP_CHECK(o.show_version);
	opts_free(&o);
	/* after "--" it is a positional, not help */
	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "h:", "--", "-h"), 0);
	TAP_CHECK(!o.show_help && o.mountpoint && strstr(o.mountpoint, "/-h"));
	opts_free(&o);
}

struct cmd_err {
	const char *args[8];
	const char *want;
};

static const struct cmd_err cmd_errs[] = {
	{ { NULL }, "missing remote [user@]host:[path] and MOUNTPOINT" },
	{ { "h:/x", NULL }, "missing MOUNTPOINT (usage: sshmountfs [user@]host:[path] MOUNTPOINT" },
	{ { "-o", "ro", "h:", NULL }, "missing MOUNTPOINT" },
	{ { "h:", "/tmp", "extra", NULL }, "unexpected argument 'extra'" },
	{ { "h:", "/tmp", "-x", NULL }, "unknown option '-x' (see sshmountfs --help)" },
	{ { "--frob", "h:", "/tmp", NULL }, "unknown option '--frob'" },
	{ { "-fd", "h:", "/tmp", NULL }, "unknown option '-fd'" },
	{ { "h:", "/tmp", "-o", "frobnicate", NULL }, "unknown option 'frobnicate' (see sshmountfs --help)" },
	{ { "h:", "/tmp", "-p", "x", NULL }, "port must be 1-65535, got 'x'" },
	{ { "h:", "/tmp", "-p", "99999", NULL }, "port must be 1-65535, got '99999'" },
	{ { "h:", "/tmp", "-p", NULL }, "option '-p' needs a value (-p PORT)" },
	{ { "h:", "/tmp", "-o", NULL }, "option '-o' needs a value" },
	{ { "h:", "/tmp", "-F", NULL }, "option '-F' needs a value (-F FILE)" },
	{ { "h:", "/tmp", "-F", "", NULL }, "option '-F' needs a file name" },
	{ { "nohost", "/tmp", NULL }, "remote 'nohost' must be [user@]host:[path]" },
	{ { "-x-:", "/tmp", NULL }, "unknown option '-x-:'" },
	{ { "--", "-evil:", "/tmp", NULL }, "invalid hostname '-evil'" },
	{ { "h:", "", NULL }, "empty MOUNTPOINT" },
	{ { "h:", "/tmp", "-o", "idmap=file", NULL }, "idmap=file needs uidfile=FILE and/or gidfile=FILE" },
};

static void
test_cmdline_errors(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(cmd_errs); i++) {
		const struct cmd_err *c = &cmd_errs[i];
		const char *argv[10] = { "sshmountfs" };
		struct opts o;
		size_t k;
		int r;

		for (k = 0; c->args[k]; k++)
			argv[k + 1] = c->args[k];
		argv[k + 1] = NULL;
		opts_init(&o);
		r = parse_argv(&o, opts_parse_cmdline, argv);
		tap_point(r == -EINVAL && strstr(err, c->want) != NULL, c->want, __FILE__, __LINE__);
		if (r != -EINVAL || strstr(err, c->want) == NULL)
			printf("#   rc %d: %s\n", r, err);
		opts_free(&o);
	}
}

static void
test_mountpoint(void)
{
	char tmpl[] = "/tmp/test-opts-XXXXXX";
	char *dir = mkdtemp(tmpl);
	char *real, *want, *cwd = getcwd(NULL, 0);
	char sub[PATH_MAX], link[PATH_MAX];
	struct opts o;

	TAP_CHECK(dir != NULL && cwd != NULL);
	if (dir == NULL || cwd == NULL)
		return;
	real = realpath(dir, NULL);
	snprintf(sub, sizeof(sub), "%s/mnt", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	TAP_CHECK(mkdir(sub, 0700) == 0 && symlink("mnt", link) == 0 && chdir(dir) == 0);

	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "h:", "mnt"), 0);
	TAP_CHECK(asprintf(&want, "%s/mnt", real) > 0 && str_eq(o.mountpoint, want));
	opts_free(&o);

	opts_init(&o);	/* an existing one is resolved: a symlink becomes its target */
	TAP_EQ_INT(CMDLINE(&o, "h:", "./link/"), 0);
	TAP_CHECK(str_eq(o.mountpoint, want));
	free(want);
	opts_free(&o);

	opts_init(&o);	/* a missing one is made absolute; the fs complains later */
	TAP_EQ_INT(CMDLINE(&o, "h:", "nope//"), 0);
	TAP_CHECK(asprintf(&want, "%s/nope", real) > 0 && str_eq(o.mountpoint, want));
	free(want);
	opts_free(&o);

	opts_init(&o);
	TAP_EQ_INT(CMDLINE(&o, "h:", "/nonexistent/x"), 0);
	TAP_CHECK(str_eq(o.mountpoint, "/nonexistent/x"));
	opts_free(&o);

	opts_init(&o);	/* mount.fuse3 drop_privileges hands over /dev/fd/N */
	TAP_EQ_INT(CMDLINE(&o, "h:", "/dev/fd/5"), 0);
	TAP_CHECK(str_eq(o.mountpoint, "/dev/fd/5"));
	opts_free(&o);

	TAP_CHECK(chdir(cwd) == 0);
	unlink(link);
	rmdir(sub);
	rmdir(dir);
	free(real);
	free(cwd);
}

/* ------------------------------------------------------ mount(8) helper */

static void
test_mount_helper(void)
{
	struct opts o;
	char *out;

	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "alice@nas:/data", "/tmp", "-o",
			     "rw,nosuid,nodev,noexec,user=alice,_netdev,port=2222"), 0);
	TAP_CHECK(str_eq(o.user, "alice") && str_eq(o.host, "nas") && str_eq(o.path, "/data") &&
		  str_eq(o.mountpoint, "/tmp") && o.port == 2222 && !o.ro);
	TAP_CHECK(!o.fake && !o.sloppy && !o.verbose && !o.foreground && !o.single_thread);
	TAP_EQ_INT(o.fuse_opts.n, 3);
	opts_free(&o);

	/* -f is fake and -s sloppy here, never foreground / single-thread */
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "h:", "/tmp", "-f", "-s", "-n", "-v", "-o", "ro"), 0);
	TAP_CHECK(o.fake && o.sloppy && o.no_mtab && o.verbose && o.ro);
	TAP_CHECK(!o.foreground && !o.single_thread);
	opts_free(&o);

	{	/* bundled, and -s after -o still makes the list sloppy */
		struct apply_twice a = { .item = NULL };

		opts_init(&a.o);
		out = capture_stderr(sloppy_mount_fn, &a);
		TAP_EQ_INT(a.r1, 0);
		TAP_CHECK(a.o.fake && a.o.sloppy && a.o.no_mtab && a.o.verbose);
		TAP_CHECK(strstr(out, "ignoring unknown option 'frobnicate' (sloppy mount)") != NULL);
		free(out);
		opts_free(&a.o);
	}

	/* without -s an unknown option is an error */
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "h:", "/tmp", "-o", "frobnicate"), -EINVAL);
	TAP_CHECK(strstr(err, "unknown option 'frobnicate'") != NULL);
	opts_free(&o);
	opts_init(&o);	/* sloppy does not excuse bad values */
	TAP_EQ_INT(MOUNTLINE(&o, "-s", "h:", "/tmp", "-o", "port=x"), -EINVAL);
	TAP_CHECK(strstr(err, "port must be 1-65535, got 'x'") != NULL);
	opts_free(&o);

	/* legacy fuse spec "TYPE#source", -N, -t, glued values */
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "sshmountfs#bob@[::1]:/srv", "/tmp", "-N", "/proc/1/ns/mnt",
			     "-tfuse.sshmountfs", "-oidmap=user"), 0);
	TAP_CHECK(str_eq(o.user, "bob") && str_eq(o.host, "::1") && str_eq(o.path, "/srv") &&
		  str_eq(o.mount_ns, "/proc/1/ns/mnt") && str_eq(o.mount_type, "fuse.sshmountfs") &&
		  o.idmap == OPTS_IDMAP_USER);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "sshfs#h:/a#b", "/tmp"), 0);
	TAP_CHECK(str_eq(o.host, "h") && str_eq(o.path, "/a#b"));
	opts_free(&o);
	opts_init(&o);	/* '#' in the path only */
	TAP_EQ_INT(MOUNTLINE(&o, "u@h:/dir#1", "/tmp"), 0);
	TAP_CHECK(str_eq(o.user, "u") && str_eq(o.path, "/dir#1"));
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "ntfs-3g#/dev/sda1", "/tmp"), -EINVAL);
	TAP_CHECK(strstr(err, "names the file system type 'ntfs-3g'") != NULL);
	opts_free(&o);

	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "h:", "/tmp", "-x"), -EINVAL);
	TAP_CHECK(strstr(err, "unknown flag '-x'") != NULL);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "h:", "/tmp", "-sd"), -EINVAL);
	TAP_CHECK(strstr(err, "unknown flag '-d' in '-sd'") != NULL);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "h:"), -EINVAL);
	TAP_CHECK(strstr(err, "missing DIR (usage: mount.sshmountfs") != NULL);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "h:", "/tmp", "more"), -EINVAL);
	TAP_CHECK(strstr(err, "unexpected argument 'more'") != NULL);
	opts_free(&o);
	opts_init(&o);
	TAP_EQ_INT(MOUNTLINE(&o, "h:", "/tmp", "-N"), -EINVAL);
	TAP_CHECK(strstr(err, "option '-N' needs a value") != NULL);
	opts_free(&o);

}

/* ------------------------------------------------------ finalize */

struct fin_case {
	const char *list;
	const char *want;	/* NULL: must pass */
};

static const struct fin_case fin_cases[] = {
	{ "idmap=file", "idmap=file needs uidfile=FILE and/or gidfile=FILE" },
	{ "idmap=file,uidfile=/u", NULL },
	{ "idmap=file,gidfile=/g", NULL },
	{ "password_stdin,ssh_command=x", "password_stdin cannot be used with ssh_command=" },
	{ "password_stdin,passphrase_fd=0", "both read standard input" },
	{ "password_stdin,passphrase_fd=3", NULL },
	{ "ssh_command=x,directport=99", "ssh_command= and directport= exclude each other" },
	{ "nice,directport=99", "cannot be used with ssh_command= or directport=" },
	{ "nocache,ssh_command=x", "cannot be used with ssh_command= or directport=" },
	{ "ionice,nice,nocache", NULL },
	{ "allow_other,allow_root", "allow_other and allow_root exclude each other" },
	{ "password_stdin,max_conns=4", NULL },
};

static void
test_finalize(void)
{
	struct opts o;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(fin_cases); i++) {
		const struct fin_case *c = &fin_cases[i];

		r = fresh_apply(&o, c->list);
		if (r == 0)
			r = opts_finalize(&o, err, sizeof(err));
		tap_point(c->want ? r == -EINVAL && strstr(err, c->want) : r == 0, c->list,
			  __FILE__, __LINE__);
		if (c->want ? r != -EINVAL || !strstr(err, c->want) : r != 0)
			printf("#   rc %d: %s\n", r, err);
		opts_free(&o);
	}
	/* debug implies foreground even when set directly; idempotent */
	opts_init(&o);
	o.debug = true;
	TAP_EQ_INT(opts_finalize(&o, err, sizeof(err)), 0);
	TAP_EQ_INT(opts_finalize(&o, err, sizeof(err)), 0);
	TAP_CHECK(o.foreground);
	opts_free(&o);
}

/* ------------------------------------------------------ help, helpers */

static void
test_help(void)
{
	const char *const *names;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	bool all;

	opts_print_help(f);
	fclose(f);
	TAP_CHECK(text && strstr(text, "usage: sshmountfs [user@]host:[path] MOUNTPOINT"));
	TAP_CHECK(strstr(text, "Connection") && strstr(text, "Filesystem") &&
		  strstr(text, "Caching") && strstr(text, "Checks before mounting") &&
		  strstr(text, "accepted without effect") && strstr(text, "ignored silently"));
	for (all = true, names = opts_ignored_names(), i = 0; names[i]; i++)
		if (!strstr(text, names[i])) {
			all = false;
			printf("#   help lacks ignored option %s\n", names[i]);
		}
	TAP_CHECK(all && i > 15);
	for (all = true, names = opts_noise_names(), i = 0; names[i]; i++)
		all = all && strstr(text, names[i]) != NULL;
	TAP_CHECK(all && i > 10);
	TAP_CHECK(strstr(text, "HostKeyAlias") && strstr(text, "ControlMaster"));
	TAP_CHECK(strstr(text, "attr_timeout=") && strstr(text, "max_threads=") &&
		  strstr(text, "noatime"));
	TAP_CHECK(strstr(text, "check_commands=no|CMD[:CMD...]"));
	TAP_CHECK(strstr(text, "StrictHostKeyChecking=yes|accept-new|no"));
	free(text);
}

static void
test_helpers(void)
{
	struct opts o;
	char *s = NULL;
	struct opts_strv l = { NULL, 0 };

	opts_init(&o);
	TAP_EQ_INT(opts_fuse_optstring(&o, &s), 0);
	TAP_CHECK(s == NULL);
	TAP_EQ_INT(opts_apply_list(&o, "fsname=a\\,b,subtype=x,subdir=c\\\\d", err, sizeof(err)), 0);
	TAP_EQ_INT(opts_fuse_optstring(&o, &s), 0);
	TAP_CHECK(str_eq(s, "fsname=a\\,b,subtype=x,subdir=c\\\\d"));
	free(s);
	/* opts_free gives back the defaults */
	TAP_EQ_INT(opts_apply_list(&o, "port=9,cache=no,User=x,max_conns=3", err, sizeof(err)), 0);
	opts_free(&o);
	TAP_CHECK(o.port == 0 && o.cache && o.user == NULL && o.max_conns == 1 && o.fuse_opts.n == 0);
	opts_free(&o);
	opts_free(NULL);

	TAP_EQ_INT(opts_strv_add(&l, "a"), 0);
	TAP_EQ_INT(opts_strv_add(&l, "b"), 0);
	TAP_CHECK(l.n == 2 && str_eq(l.v[1], "b") && l.v[2] == NULL);
	opts_strv_free(&l);
	TAP_CHECK(l.v == NULL && l.n == 0);

	s = NULL;
	TAP_EQ_INT(opts_set_string(&s, "x"), 0);
	TAP_EQ_INT(opts_set_string(&s, "y"), 0);
	TAP_CHECK(str_eq(s, "y"));
	TAP_EQ_INT(opts_set_string(&s, NULL), 0);
	TAP_CHECK(s == NULL);

	/* one bad item stops the list; the error names that item */
	opts_init(&o);
	TAP_EQ_INT(opts_apply_list(&o, "ro,port=x,allow_other", err, sizeof(err)), -EINVAL);
	TAP_CHECK(o.ro && !o.allow_other && strstr(err, "port"));
	opts_free(&o);
	/* opts_apply_one takes the item unescaped: commas are literal */
	opts_init(&o);
	TAP_EQ_INT(opts_apply_one(&o, "fsname=a,b", err, sizeof(err)), 0);
	TAP_CHECK(str_eq(strv_last(&o.fuse_opts), "fsname=a,b"));
	opts_free(&o);
}

int
main(void)
{
	log_init("sshmountfs", LOG_LVL_INFO);
	test_defaults();
	test_ok_table();
	test_lists_accumulate();
	test_err_table();
	test_noise();
	test_ignored_logged_once();
	test_remote();
	test_user_precedence();
	test_bit_line();
	test_cmdline_forms();
	test_cmdline_help_version();
	test_cmdline_errors();
	test_mountpoint();
	test_mount_helper();
	test_finalize();
	test_help();
	test_helpers();
	return tap_done();
}
