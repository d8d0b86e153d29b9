/* known-hosts-add HOST[:PORT]: the seed's writeKnownHostsFile(key), with
 * what BiT lacked (#117, #1726): [host]:port names, no duplicates (plain or
 * hashed), an expected fingerprint, and a clear refusal when the file
 * already holds a different key for the host. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "hostkey.h"
#include "remote.h"

#define CMD "known-hosts-add"
#define PATH_LEN 4096

static const char help[] =
	"Usage: " CLI_PROG " known-hosts-add HOST[:PORT] [OPTIONS]\n"
	"Fetch the server's host key (without logging in) and append it to\n"
	"known_hosts as HOST, or [HOST]:PORT when PORT is not 22. Nothing is added\n"
	"when the file already has this key for this host, as a plain or a hashed\n"
	"entry. When the file has another key of the same type for the host, or\n"
	"marks the key @revoked, nothing is written and the exit status is 5.\n"
	"\n"
	"  -f, --file FILE         known_hosts file (default: -o UserKnownHostsFile,\n"
	"                          else ~/.ssh/known_hosts, creating ~/.ssh 0700)\n"
	"      --fingerprint FP    only add the key when its fingerprint is FP\n"
	"                          (SHA256:... or MD5:aa:bb:...); otherwise refuse\n"
	"  -H, --hash              write the host name hashed\n"
	"  -t, --type TYPE         ask for this key type: ed25519, ecdsa or rsa\n"
	"  -p PORT, -F FILE, -o OPTION   as for host-key\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 added or already there, 1 usage, 3 the host cannot be\n"
	"reached, 5 the key does not match --fingerprint or the file holds another\n"
	"key for the host, 7 the file cannot be read or written.\n";

struct kha_args {
	struct remote_hk_args hk;
	const char *file;		/* --file */
	const char *fingerprint;
	char path[PATH_LEN];		/* the file to update */
};

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct kha_args *a = ctx;

	switch (c) {
	case 'f':
		a->file = arg;
		return 0;
	case 'P':
		if (strncmp(arg, "SHA256:", 7) && strncasecmp(arg, "MD5:", 4))
			return cli_usage(cmd, "--fingerprint %s: write it as SHA256:... "
					 "or MD5:aa:bb:...", arg);
		a->fingerprint = arg;
		return 0;
	}
	return remote_hk_take(cmd, &a->hk, c, arg);
}

static int
parse(int argc, char **argv, struct kha_args *a)
{
	static const struct option lo[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "fingerprint", required_argument, NULL, 'P' },
		{ "hash", no_argument, NULL, 'H' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":f:Ht:p:F:o:h",
		.longopts = lo,
		.conn = &a->hk.conn,
		.take = take,
		.ctx = a,
		.operand = "HOST",
	};

	return cli_getopt(&sp, argc, argv);
}

/* SHA256 fingerprints compare exactly (base64 is case-sensitive; a padded
 * form is accepted); MD5 hex pairs compare without regard to case. */
static bool
fingerprint_matches(const char *want, const struct remote_hostkey *k)
{
	if (!strncasecmp(want, "MD5:", 4))
		return !strcasecmp(want, k->md5);
	return !strncmp(want, k->sha256, strlen(k->sha256)) &&
	       strspn(want + strlen(k->sha256), "=") == strlen(want + strlen(k->sha256));
}

static int
default_file(const struct opts *o, char *buf, size_t len)
{
	int rc;

	if (o->known_hosts && strncmp(o->known_hosts, "~/", 2)) {
		snprintf(buf, len, "%s", o->known_hosts);
		return 0;
	}
	if (o->known_hosts) {
		/* "~/" is the home from the password database, as libssh reads it */
		rc = cli_home_dir(buf, len);
		if (rc == 0 && strlen(buf) + strlen(o->known_hosts) < len) {
			strncat(buf, o->known_hosts + 1, len - strlen(buf) - 1);
			return 0;
		}
		cli_error(CMD, "Give the file with --file.", "cannot expand %s", o->known_hosts);
		return CLI_EXIT_LOCAL;
	}
	rc = cli_ssh_dir(buf, len, true);
	if (rc < 0) {
		cli_error(CMD, "Give the file with --file.", "cannot use ~/.ssh: %s",
			  rc == -ENOENT ? "no home directory for this user" : strerror(-rc));
		return CLI_EXIT_LOCAL;
	}
	if (strlen(buf) + strlen("/known_hosts") >= len)
		return CLI_EXIT_LOCAL;
	strncat(buf, "/known_hosts", len - strlen(buf) - 1);
	return 0;
}

static int
refuse(const char *file, const struct hostkey_scan *sc, const struct remote_hostkey *k)
{
	char hint[PATH_LEN + 128];	/* the whole path, however long */

	if (sc->revoked_line) {
		cli_error(CMD, "Do not trust this server until you know why.",
			  "%s line %d marks the host key %s as @revoked", file, sc->revoked_line,
			  k->sha256);
		return CLI_EXIT_MISMATCH;
	}
	snprintf(hint, sizeof(hint), "If the server's key was changed on purpose, remove "
		 "line %d of %s and run this again.", sc->changed_line, file);
	cli_error(CMD, hint, "%s line %d holds another %s key for %s; the server now "
		  "shows %s (a new key, or someone in the middle)", file, sc->changed_line,
		  k->type, k->name, k->sha256);
	return CLI_EXIT_MISMATCH;
}

static int
append(int fd, const char *file, bool newline_first, const char *line)
{
	size_t n = strlen(line);
	char *buf = malloc(n + 3);
	ssize_t w;

	if (!buf)
		return -ENOMEM;
	snprintf(buf, n + 3, "%s%s\n", newline_first ? "\n" : "", line);
	w = write(fd, buf, strlen(buf));
	if (w != (ssize_t)strlen(buf) || fsync(fd) < 0) {
		cli_error(CMD, NULL, "cannot write %s: %s", file,
			  w < 0 ? strerror(errno) : "short write");
		free(buf);
		return CLI_EXIT_LOCAL;
	}
	free(buf);
	return 0;
}

/* Under an exclusive lock: scan, then append unless already there. */
static int
update_file(const char *file, const struct remote_hostkey *k, bool hash)
{
	struct hostkey_scan sc;
	FILE *f = NULL;
	char *line = NULL;
	int fd, rc;

	fd = open(file, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || !(f = fdopen(dup(fd), "r"))) {
		cli_error(CMD, NULL, "cannot open %s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_LOCAL;
	}
	rc = hostkey_scan(f, k->name, k->type, k->b64, &sc);
	fclose(f);
	if (rc < 0) {
		cli_error(CMD, NULL, "cannot read %s: %s", file, strerror(-rc));
		rc = CLI_EXIT_LOCAL;
	} else if (sc.revoked_line || (sc.changed_line && !sc.same_line)) {
		rc = refuse(file, &sc, k);
	} else if (sc.same_line) {
		printf("%s already has the %s key of %s (line %d): %s\n", file, k->short_type,
		       k->name, sc.same_line, k->sha256);
	} else if (hostkey_format_line(k->name, hash, k->type, k->b64, &line) < 0) {
		rc = CLI_EXIT_LOCAL;
	} else if (!(rc = append(fd, file, sc.ends_without_newline, line))) {
		printf("Added the %s key of %s to %s: %s\n", k->short_type, k->name, file,
		       k->sha256);
	}
	free(line);
	close(fd);
	return rc;
}

/* --file becomes UserKnownHostsFile for the connection too: libssh orders
 * host key algorithms by what that file holds, so an existing entry's
 * type is the one we are shown. */
static int
choose_file(struct opts *o, void *ctx)
{
	struct kha_args *a = ctx;

	if (a->file && opts_set_string(&o->known_hosts, a->file) < 0) {
		cli_error(CMD, NULL, "out of memory");
		return CLI_EXIT_LOCAL;
	}
	return default_file(o, a->path, sizeof(a->path));
}

int
cmd_known_hosts_add(int argc, char **argv)
{
	struct kha_args a = { .file = NULL };
	struct remote_hostkey k = { 0 };
	int rc;

	cli_conn_init(&a.hk.conn);
	rc = parse(argc, argv, &a);
	if (!rc)
		rc = remote_hk_fetch(CMD, argv[optind], &a.hk, choose_file, &a, &k);
	cli_conn_free(&a.hk.conn);
	if (rc)
		return rc < 0 ? cli_help(help) : rc;
	if (a.fingerprint && !fingerprint_matches(a.fingerprint, &k)) {
		cli_error(CMD, "Check the fingerprint with the server's administrator; "
			  "nothing was written.", "%s shows the %s key %s (%s), not %s",
			  k.name, k.short_type, k.sha256, k.md5, a.fingerprint);
		rc = CLI_EXIT_MISMATCH;
	} else {
		rc = update_file(a.path, &k, a.hk.hash);
	}
	remote_hostkey_free(&k);
	return rc;
}
