/* opts: the option model, the remote spec, and the two command lines
 * (sshmountfs's and mount(8)'s helper convention). The -o vocabulary is in
 * opts_table.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"

#define USAGE "usage: sshmountfs [user@]host:[path] MOUNTPOINT [options]"
#define MOUNT_USAGE "usage: mount.sshmountfs SPEC DIR [-sfnv] [-N NS] [-o OPTS]"

/* ------------------------------------------------------------ the model */

void
opts_init(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->hostkey_policy = OPTS_HOSTKEY_YES;
	o->server_alive_count_max = 3;
	o->log_level = -1;
	o->passphrase_fd = -1;
	o->reach_tries = 5;
	o->reach_timeout_ms = 2000;
	o->reach_pause_ms = 500;
	o->idmap = OPTS_IDMAP_NONE;
	o->nomap = OPTS_NOMAP_ERROR;
	o->cache = true;
	o->cache_stat_timeout = 20;
	o->cache_dir_timeout = 20;
	o->cache_link_timeout = 20;
	o->max_conns = 1;
	o->channels = 4;
	o->reconnect = true;
	o->reconnect_timeout = 60;
}

void
opts_free(struct opts *o)
{
	if (o == NULL)
		return;
	free(o->host);
	free(o->user);
	free(o->path);
	free(o->mountpoint);
	free(o->ssh_config);
	free(o->ciphers);
	free(o->known_hosts);
	free(o->proxy_command);
	free(o->proxy_jump);
	free(o->sftp_server);
	free(o->ssh_command);
	free(o->uidfile);
	free(o->gidfile);
	free(o->mount_ns);
	free(o->mount_type);
	opts_strv_free(&o->identity_files);
	opts_strv_free(&o->ssh_passthrough);
	opts_strv_free(&o->check_commands);
	opts_strv_free(&o->fuse_opts);
	opts_init(o);
}

int
opts_strv_add(struct opts_strv *l, const char *s)
{
	char *copy = strdup(s);
	char **v;

	if (copy == NULL)
		return -ENOMEM;
	v = realloc(l->v, (l->n + 2) * sizeof(*v));
	if (v == NULL) {
		free(copy);
		return -ENOMEM;
	}
	v[l->n++] = copy;
	v[l->n] = NULL;
	l->v = v;
	return 0;
}

void
opts_strv_free(struct opts_strv *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
opts_set_string(char **field, const char *value)
{
	char *copy = NULL;

	if (value != NULL && (copy = strdup(value)) == NULL)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

int
opts_fuse_optstring(const struct opts *o, char **out)
{
	size_t len = 0, i;
	const char *s;
	char *d;

	*out = NULL;
	if (o->fuse_opts.n == 0)
		return 0;
	for (i = 0; i < o->fuse_opts.n; i++)
		len += 2 * strlen(o->fuse_opts.v[i]) + 1;
	d = *out = malloc(len);
	if (d == NULL)
		return -ENOMEM;
	for (i = 0; i < o->fuse_opts.n; i++) {
		if (i > 0)
			*d++ = ',';
		for (s = o->fuse_opts.v[i]; *s; s++) {
			if (*s == ',' || *s == '\\')
				*d++ = '\\';
			*d++ = *s;
		}
	}
	*d = '\0';
	return 0;
}

/* ------------------------------------------------------ the remote spec */

/* Host names reach getaddrinfo, ssh_config matching and known_hosts lines;
 * a name that could be read as an option or by a shell (sshfs
 * CVE-2026-48711) is refused outright. Brackets also allow IPv6 and zones. */
static int
check_host(const char *host, size_t n, bool bracketed, char *err, size_t errlen)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789.-_";
	size_t i;

	if (n == 0) {
		snprintf(err, errlen, "missing host (IPv6 addresses go in brackets: "
			 "[::1]:path)");
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (!strchr(plain, host[i]) && !(bracketed && (host[i] == ':' || host[i] == '%')))
			break;
	if (i < n || host[0] == '-' || host[0] == '\0') {
		snprintf(err, errlen, "invalid hostname '%.*s': use letters, digits, '.', "
			 "'-' and '_' (not first), or [IPv6]", (int)n, host);
		return -EINVAL;
	}
	return 0;
}

static int
check_user(const char *user, size_t n, char *err, size_t errlen)
{
	size_t i;

	if (n == 0) {
		snprintf(err, errlen, "empty user name before '@'");
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (isspace((unsigned char)user[i]) || iscntrl((unsigned char)user[i]))
			break;
	if (i < n || user[0] == '-') {
		snprintf(err, errlen, "invalid user name '%.*s'", (int)n, user);
		return -EINVAL;
	}
	return 0;
}

struct remote_parts {
	const char *user, *host, *path;
	size_t user_len, host_len;
	bool bracketed;
};

/* Finds [user@]host:path or [user@][v6]:path. The user ends at the last '@'
 * before the host, so user names containing '@' work. */
static int
split_remote(const char *spec, struct remote_parts *p, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	const char *lb = strchr(spec, '[');
	const char *at, *hend;

	memset(p, 0, sizeof(*p));
	if (lb != NULL && (colon == NULL || lb < colon)) {
		hend = strchr(lb, ']');
		if (hend == NULL || hend[1] != ':') {
			snprintf(err, errlen, "remote '%s': a bracketed host must be written "
				 "[address]:path", spec);
			return -EINVAL;
		}
		p->bracketed = true;
		p->host = lb + 1;
		p->host_len = (size_t)(hend - p->host);
		p->path = hend + 2;
		at = lb;
	} else if (colon == NULL) {
		snprintf(err, errlen, "remote '%s' must be [user@]host:[path] (a ':' "
			 "after the host; 'host:' alone is the remote home)", spec);
		return -EINVAL;
	} else {
		at = colon;
		p->path = colon + 1;
	}
	/* the last '@' before the host part */
	while (at > spec && at[-1] != '@')
		at--;
	if (at > spec) {
		p->user = spec;
		p->user_len = (size_t)(at - 1 - spec);
	}
	if (!p->bracketed) {
		p->host = at;
		p->host_len = (size_t)(colon - at);
	} else if (at != lb) {
		snprintf(err, errlen, "remote '%s': unexpected text before '['", spec);
		return -EINVAL;
	}
	return 0;
}

int
opts_parse_remote(struct opts *o, const char *spec, char *err, size_t errlen)
{
	struct remote_parts p;
	char *host = NULL, *user = NULL;
	int r;

	r = split_remote(spec, &p, err, errlen);
	if (r == 0 && p.user != NULL)
		r = check_user(p.user, p.user_len, err, errlen);
	if (r == 0)
		r = check_host(p.host, p.host_len, p.bracketed, err, errlen);
	if (r != 0)
		return r;
	host = strndup(p.host, p.host_len);
	user = p.user ? strndup(p.user, p.user_len) : NULL;
	if (host == NULL || (p.user && user == NULL) ||
	    opts_set_string(&o->path, *p.path ? p.path : NULL) != 0) {
		free(host);
		free(user);
		return -ENOMEM;
	}
	free(o->host);
	o->host = host;
	if (user != NULL) {
		free(o->user);
		o->user = user;
		o->user_from_spec = true;
	}
	return 0;
}

/* ----------------------------------------------------------- mountpoint */

static bool
is_dev_fd(const char *s)
{
	return strncmp(s, "/dev/fd/", 8) == 0 && s[8] != '\0' &&
	       strspn(s + 8, "0123456789") == strlen(s + 8);
}

/* Absolute, canonical when it exists. A missing one is made absolute only:
 * the fs reports "not a directory" with the whole picture later. */
static int
set_mountpoint(struct opts *o, const char *arg, char *err, size_t errlen)
{
	char *abs, *cwd;
	size_t n;

	if (*arg == '\0') {
		snprintf(err, errlen, "empty MOUNTPOINT");
		return -EINVAL;
	}
	if (is_dev_fd(arg))	/* mount.fuse3 drop_privileges: already mounted */
		return opts_set_string(&o->mountpoint, arg);
	abs = realpath(arg, NULL);
	if (abs == NULL && arg[0] == '/') {
		abs = strdup(arg);
	} else if (abs == NULL) {
		cwd = getcwd(NULL, 0);
		if (cwd == NULL) {
			snprintf(err, errlen, "MOUNTPOINT '%s': cannot find the current "
				 "directory: %s", arg, strerror(errno));
			return -EINVAL;
		}
		if (asprintf(&abs, "%s/%s", strcmp(cwd, "/") ? cwd : "", arg) < 0)
			abs = NULL;
		free(cwd);
	}
	if (abs == NULL)
		return -ENOMEM;
	for (n = strlen(abs); n > 1 && abs[n - 1] == '/'; n--)
		abs[n - 1] = '\0';
	free(o->mountpoint);
	o->mountpoint = abs;
	return 0;
}

/* ------------------------------------------------------------- finalize */

static int
conflict(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

int
opts_finalize(struct opts *o, char *err, size_t errlen)
{
	bool remote_proc = o->nice || o->ionice || o->nocache;

	if (o->idmap == OPTS_IDMAP_FILE && !o->uidfile && !o->gidfile)
		return conflict(err, errlen, "idmap=file needs uidfile=FILE and/or gidfile=FILE");
	if (o->password_stdin && o->ssh_command)
		return conflict(err, errlen, "password_stdin cannot be used with ssh_command= "
				"(the command does its own login)");
	if (o->password_stdin && o->passphrase_fd == 0)
		return conflict(err, errlen, "password_stdin and passphrase_fd=0 both read "
				"standard input; give the passphrase another descriptor");
	if (o->ssh_command && o->directport)
		return conflict(err, errlen, "ssh_command= and directport= exclude each other");
	if (remote_proc && (o->ssh_command || o->directport))
		return conflict(err, errlen, "nice, ionice and nocache start the sftp-server "
				"over SSH; they cannot be used with ssh_command= or directport=");
	if (o->allow_other && o->allow_root)
		return conflict(err, errlen, "allow_other and allow_root exclude each other");
	if ((o->uidfile || o->gidfile) && o->idmap != OPTS_IDMAP_FILE)
		log_warn("uidfile= and gidfile= have no effect without idmap=file");
	if (o->debug)
		o->foreground = true;
	return 0;
}

/* ------------------------------------------------------- sshmountfs argv */

/* The value of "-xVALUE" or "-x VALUE"; NULL with err filled when missing. */
static const char *
option_value(int argc, char **argv, int *i, const char *usage, char *err, size_t errlen)
{
	const char *a = argv[*i];

	if (a[2] != '\0')
		return a + 2;
	if (*i + 1 < argc)
		return argv[++*i];
	snprintf(err, errlen, "option '-%c' needs a value (%s)", a[1], usage);
	return NULL;
}

static int
apply_with_prefix(struct opts *o, const char *prefix, const char *val, char *err, size_t errlen)
{
	char *item;
	int r;

	if (asprintf(&item, "%s%s", prefix, val) < 0)
		return -ENOMEM;
	r = opts_apply_one(o, item, err, errlen);
	free(item);
	return r;
}

static int
cmdline_option(struct opts *o, int argc, char **argv, int *i, char *err, size_t errlen)
{
	const char *a = argv[*i];
	const char *v;

	if (strcmp(a, "-f") == 0)
		o->foreground = true;
	else if (strcmp(a, "-s") == 0)
		o->single_thread = true;
	else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0)
		return opts_apply_one(o, "debug", err, errlen);
	else if (strcmp(a, "-C") == 0)
		return opts_apply_one(o, "Compression=yes", err, errlen);
	else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
		return opts_apply_one(o, "sshfs_verbose", err, errlen);
	else if (strncmp(a, "-o", 2) == 0)
		return (v = option_value(argc, argv, i, "-o opt,...", err, errlen)) ?
		       opts_apply_list(o, v, err, errlen) : -EINVAL;
	else if (strncmp(a, "-p", 2) == 0)
		return (v = option_value(argc, argv, i, "-p PORT", err, errlen)) ?
		       apply_with_prefix(o, "port=", v, err, errlen) : -EINVAL;
	else if (strncmp(a, "-F", 2) == 0) {
		v = option_value(argc, argv, i, "-F FILE", err, errlen);
		if (v != NULL && *v == '\0')
			snprintf(err, errlen, "option '-F' needs a file name");
		return v && *v ? opts_set_string(&o->ssh_config, v) : -EINVAL;
	} else {
		snprintf(err, errlen, "unknown option '%s' (see sshmountfs --help)", a);
		return -EINVAL;
	}
	return 0;
}

/* -h and -V win wherever they are, as in sshfs: nothing else is checked. */
static bool
wants_help(struct opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			o->show_help = true;
		else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0)
			o->show_version = true;
	}
	return o->show_help || o->show_version;
}

static int
take_positionals(struct opts *o, const char *const pos[2], int npos, char *err, size_t errlen)
{
	int r;

	if (npos == 0) {
		snprintf(err, errlen, "missing remote [user@]host:[path] and MOUNTPOINT (%s)",
			 USAGE);
		return -EINVAL;
	}
	if (npos == 1) {
		snprintf(err, errlen, "missing MOUNTPOINT (%s)", USAGE);
		return -EINVAL;
	}
	r = opts_parse_remote(o, pos[0], err, errlen);
	if (r == 0)
		r = set_mountpoint(o, pos[1], err, errlen);
	if (r == 0)
		r = opts_finalize(o, err, errlen);
	return r;
}

static int
add_positional(const char *pos[2], int *npos, const char *arg, const char *usage,
	       char *err, size_t errlen)
{
	if (*npos == 2) {
		snprintf(err, errlen, "unexpected argument '%s' (%s)", arg, usage);
		return -EINVAL;
	}
	pos[(*npos)++] = arg;
	return 0;
}

int
opts_parse_cmdline(struct opts *o, int argc, char **argv, char *err, size_t errlen)
{
	const char *pos[2] = { NULL, NULL };
	bool options_done = false;
	int npos = 0, i, r = 0;

	if (wants_help(o, argc, argv))
		return 0;
	for (i = 1; r == 0 && i < argc; i++) {
		if (!options_done && strcmp(argv[i], "--") == 0)
			options_done = true;
		else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0')
			r = cmdline_option(o, argc, argv, &i, err, errlen);
		else
			r = add_positional(pos, &npos, argv[i], USAGE, err, errlen);
	}
	return r != 0 ? r : take_positionals(o, pos, npos, err, errlen);
}

/* ------------------------------------------------------------ mount(8) */

/* "sshmountfs#user@host:/p" (fstab type fuse, autofs) names the type before
 * '#'. A '#' later in the spec (in the path) is not a type separator. */
static int
strip_legacy_type(const char *spec, const char **rest, char *err, size_t errlen)
{
	const char *hash = strchr(spec, '#');
	size_t n;

	*rest = spec;
	if (hash == NULL)
		return 0;
	n = (size_t)(hash - spec);
	if (n == 0 || strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789._-") < n)
		return 0;
	if ((n == 10 && strncmp(spec, "sshmountfs", n) == 0) ||
	    (n == 15 && strncmp(spec, "fuse.sshmountfs", n) == 0) ||
	    (n == 5 && strncmp(spec, "sshfs", n) == 0)) {
		*rest = hash + 1;
		return 0;
	}
	snprintf(err, errlen, "'%s' names the file system type '%.*s'; "
		 "mount.sshmountfs mounts sshmountfs#[user@]host:[path]", spec, (int)n, spec);
	return -EINVAL;
}

struct mount_argv {
	const char *pos[2];
	int npos;
	const char *lists[64];
	int nlists;
};

static int
mount_flags(struct opts *o, const char *a, char *err, size_t errlen)
{
	const char *c;

	for (c = a + 1; *c; c++) {
		switch (*c) {
		case 'f': o->fake = true; break;
		case 's': o->sloppy = true; break;
		case 'n': o->no_mtab = true; break;
		case 'v': o->verbose = true; break;
		default:
			snprintf(err, errlen, "unknown flag '-%c' in '%s' (mount.sshmountfs "
				 "takes -s -f -n -v -N NS -o OPTS -t TYPE)", *c, a);
			return -EINVAL;
		}
	}
	return 0;
}

static int
mount_option(struct opts *o, struct mount_argv *m, int argc, char **argv, int *i,
	     char *err, size_t errlen)
{
	const char *a = argv[*i];
	const char *v;

	if (a[1] == 'o') {
		v = option_value(argc, argv, i, "-o OPTS", err, errlen);
		if (v != NULL && m->nlists == (int)(sizeof(m->lists) / sizeof(m->lists[0]))) {
			snprintf(err, errlen, "too many -o options");
			return -EINVAL;
		}
		if (v != NULL)
			m->lists[m->nlists++] = v;
		return v ? 0 : -EINVAL;
	}
	if (a[1] == 'N' || a[1] == 't') {
		v = option_value(argc, argv, i, a[1] == 'N' ? "-N NS" : "-t TYPE", err, errlen);
		return v ? opts_set_string(a[1] == 'N' ? &o->mount_ns : &o->mount_type, v)
			 : -EINVAL;
	}
	return mount_flags(o, a, err, errlen);
}

int
opts_parse_mount(struct opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct mount_argv m = { .npos = 0, .nlists = 0 };
	const char *spec;
	bool options_done = false;
	int i, r = 0;

	/* Flags first, -o lists after: -s (sloppy) must hold for every list. */
	for (i = 1; r == 0 && i < argc; i++) {
		if (!options_done && strcmp(argv[i], "--") == 0)
			options_done = true;
		else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0')
			r = mount_option(o, &m, argc, argv, &i, err, errlen);
		else
			r = add_positional(m.pos, &m.npos, argv[i], MOUNT_USAGE, err, errlen);
	}
	for (i = 0; r == 0 && i < m.nlists; i++)
		r = opts_apply_list(o, m.lists[i], err, errlen);
	if (r != 0)
		return r;
	if (m.npos < 2) {
		snprintf(err, errlen, "missing %s (%s)", m.npos == 0 ? "SPEC and DIR" : "DIR",
			 MOUNT_USAGE);
		return -EINVAL;
	}
	r = strip_legacy_type(m.pos[0], &spec, err, errlen);
	if (r == 0)
		r = opts_parse_remote(o, spec, err, errlen);
	if (r == 0)
		r = set_mountpoint(o, m.pos[1], err, errlen);
	return r != 0 ? r : opts_finalize(o, err, errlen);
}
