/* benchmark-ciphers HOST: the seed's benchmarkCipher(size=40), measured.
 * BiT ran scp per cipher and left the timing to scp's progress meter, over
 * a list of mostly removed ciphers (#934); here each cipher both ends know
 * gets its own connection (Ciphers=that one) and the test data is piped
 * into "cat > /dev/null" on an exec channel, timed from the first byte to
 * the remote command's exit. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "cmds.h"
#include "remote.h"
#include "secret.h"
#include "util.h"

#define CMD "benchmark-ciphers"
#define CHUNK (1024 * 1024)
#define MAX_CIPHERS 16

static const char help[] =
	"Usage: " CLI_PROG " benchmark-ciphers [OPTIONS] [USER@]HOST[:PORT]\n"
	"Send SIZE MiB of random data through each cipher that both libssh and the\n"
	"server support, one connection per cipher, into \"cat > /dev/null\" on the\n"
	"server, and print MB/s (10^6 bytes per second) per cipher, fastest first.\n"
	"A progress line is shown while stdout is a terminal.\n"
	"\n"
	"  -s, --size MiB          data per run, 1-4096 (default 40)\n"
	"  -r, --runs N            runs per cipher, the best counts (default 2)\n"
	"  -c, --ciphers LIST      only these (comma-separated)\n"
	"      --password-stdin    read the login password once from standard input\n"
	"  -p PORT, -F FILE, -o OPTION   as for sshmountfs\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 measured, 1 usage, 3 connection failed, 4 login failed,\n"
	"5 host key changed, 6 host key unknown, 8 a transfer failed.\n";

/* libssh 0.10's client ciphers, best known first; the build may lack some. */
static const char *const all_ciphers[] = {
	"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
	"aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc",
	"3des-cbc", NULL,
};

struct row {
	const char *cipher;
	double mbps;		/* best run; < 0: not offered by the server */
};

struct bench {
	unsigned long size_mib, runs;
	const char *only;
	bool password_stdin, progress;
	struct cli_conn conn;
	struct secret *password;
	uint8_t *data;
	struct row rows[MAX_CIPHERS];
	size_t nrows;
};

static bool
libssh_knows(const char *cipher)
{
	ssh_session ss = ssh_new();
	bool ok = ss && ssh_options_set(ss, SSH_OPTIONS_CIPHERS_C_S, cipher) == 0;

	ssh_free(ss);
	return ok;
}

static int
pick_ciphers(struct bench *b)
{
	char *list, *save = NULL, *tok;

	if (!b->only) {
		for (size_t i = 0; all_ciphers[i]; i++)
			if (libssh_knows(all_ciphers[i]))
				b->rows[b->nrows++].cipher = all_ciphers[i];
		return 0;
	}
	list = strdup(b->only);
	for (tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; all_ciphers[i] && strcmp(all_ciphers[i], tok); i++)
			;
		if (!all_ciphers[i] || !libssh_knows(tok) || b->nrows == MAX_CIPHERS) {
			cli_usage(CMD, "--ciphers: libssh here does not offer '%s'", tok);
			free(list);
			return CLI_EXIT_USAGE;
		}
		b->rows[b->nrows++].cipher = all_ciphers[i];
	}
	free(list);
	return b->nrows ? 0 : cli_usage(CMD, "--ciphers: the list is empty");
}

static int
take(const char *cmd, void *ctx, int c, const char *arg)
{
	struct bench *b = ctx;

	switch (c) {
	case 's':
		if (cli_parse_ulong(arg, 1, 4096, &b->size_mib) < 0)
			return cli_usage(cmd, "--size %s: MiB from 1 to 4096", arg);
		break;
	case 'r':
		if (cli_parse_ulong(arg, 1, 20, &b->runs) < 0)
			return cli_usage(cmd, "--runs %s: from 1 to 20", arg);
		break;
	case 'c': b->only = arg; break;
	case 'W': b->password_stdin = true; break;
	}
	return 0;
}

static int
parse(int argc, char **argv, struct bench *b)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "ciphers", required_argument, NULL, 'c' },
		{ "password-stdin", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_optspec sp = {
		.cmd = CMD,
		.shortopts = ":s:r:c:p:F:o:h",
		.longopts = lo,
		.conn = &b->conn,
		.take = take,
		.ctx = b,
		.operand = "HOST",
	};
	int rc = cli_getopt(&sp, argc, argv);

	return rc ? rc : pick_ciphers(b);
}

static void
show_progress(const struct bench *b, const char *cipher, unsigned long run, unsigned long done)
{
	if (!b->progress)
		return;
	printf("\r%-30s run %lu/%lu %3lu%%", cipher, run + 1, b->runs, done * 100 / b->size_mib);
	fflush(stdout);
}

/* Waits for "cat" to have read everything: its exit status. libssh 0.10
 * returns it as soon as the exit-status message arrives (bounded by the
 * session timeout); polling for EOF instead sat out each poll's timeout. */
static int
drain(ssh_channel ch)
{
	return ssh_channel_get_exit_status(ch) == 0 ? 0 : -EIO;
}

/* One timed run on a new channel; MB/s or a negative errno. */
static double
run_once(const struct bench *b, struct sshc *s, const char *cipher, unsigned long run)
{
	ssh_channel ch = ssh_channel_new(sshc_session(s));
	double t0, rate = -EIO;
	unsigned long i;

	if (!ch || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, "cat > /dev/null") != SSH_OK)
		goto out;
	t0 = util_now_s();
	for (i = 0; i < b->size_mib; i++) {
		show_progress(b, cipher, run, i);
		if (ssh_channel_write(ch, b->data, CHUNK) != CHUNK)
			goto out;
	}
	if (ssh_channel_send_eof(ch) != SSH_OK || drain(ch) < 0)
		goto out;
	rate = (double)b->size_mib * CHUNK / (util_now_s() - t0) / 1e6;
out:
	if (ch) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return rate;
}

/* Logs in with Ciphers=<cipher>. 0, or -1 with *e saying why. */
static int
connect_with(struct bench *b, struct opts *o, const char *cipher, struct sshc **out,
	     struct sshc_error *e)
{
	struct secret *pw = NULL;
	struct sshc *s = NULL;

	*out = NULL;
	memset(e, 0, sizeof(*e));
	if (opts_set_string(&o->ciphers, cipher) < 0) {
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		e->code = SSHC_E_IO;
		return -1;
	}
	if (sshc_new(o, &s, e) < 0)
		return -1;
	/* each connection gets its own copy: sshc wipes the one it is given */
	if (b->password && (secret_from_bytes(b->password->s, b->password->len, &pw) < 0 ||
			    sshc_set_password(s, pw) < 0)) {
		sshc_free(s);
		snprintf(e->msg, sizeof(e->msg), "cannot hold the password");
		e->code = SSHC_E_IO;
		return -1;
	}
	if (sshc_connect(s, e) < 0 || sshc_verify_host(s, e) < 0 || sshc_authenticate(s, e) < 0) {
		sshc_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* A connection that times out or breaks gets a second chance: one slow
 * moment of the network or the server must not end the whole table. */
static int
connect_retry(struct bench *b, struct opts *o, const char *cipher, struct sshc **out)
{
	struct sshc_error e;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (connect_with(b, o, cipher, out, &e) == 0)
			return 0;
		if (e.code == SSHC_E_KEX)
			return 1;	/* the server does not offer it */
		if (e.code != SSHC_E_TIMEOUT && e.code != SSHC_E_IO)
			break;
	}
	return cli_sshc_fail(CMD, &e);
}

static int
measure(struct bench *b, struct opts *o, struct row *r)
{
	struct sshc *s;
	int rc = connect_retry(b, o, r->cipher, &s);

	r->mbps = -1;
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	for (unsigned long run = 0; run < b->runs && !rc; run++) {
		double v = run_once(b, s, r->cipher, run);

		if (v < 0) {
			if (b->progress)
				printf("\r\033[K");
			cli_error(CMD, NULL, "sending %lu MiB with %s failed: %s", b->size_mib,
				  r->cipher, ssh_get_error(sshc_session(s)));
			rc = CLI_EXIT_REMOTE;
		} else if (v > r->mbps) {
			r->mbps = v;
		}
	}
	sshc_free(s);
	return rc;
}

static int
by_speed(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	return (a->mbps < b->mbps) - (a->mbps > b->mbps);
}

static int
report(struct bench *b)
{
	size_t measured = 0;
	bool first = true;

	qsort(b->rows, b->nrows, sizeof(b->rows[0]), by_speed);
	if (b->progress)
		printf("\r\033[K");
	printf("%-32s %10s\n", "Cipher", "MB/s");
	for (size_t i = 0; i < b->nrows && b->rows[i].mbps >= 0; i++, measured++)
		printf("%-32s %10.1f\n", b->rows[i].cipher, b->rows[i].mbps);
	for (size_t i = measured; i < b->nrows; i++, first = false)
		printf("%s%s", first ? "Not offered by the server: " : ", ", b->rows[i].cipher);
	if (!first)
		printf("\n");
	printf("(%lu MiB per run, best of %lu run%s; MB/s = 10^6 bytes per second)\n",
	       b->size_mib, b->runs, b->runs == 1 ? "" : "s");
	if (!measured) {
		cli_error(CMD, "Give the ciphers the server allows with --ciphers.",
			  "the server offers none of the ciphers tried");
		return CLI_EXIT_CONNECT;
	}
	return CLI_EXIT_OK;
}

static int
bench(struct bench *b, const char *spec)
{
	struct opts o;
	int rc;

	opts_init(&o);
	rc = remote_opts(CMD, spec, true, &b->conn, &o);
	if (!rc && (b->password_stdin || o.password_stdin)) {
		o.password_stdin = false;
		if (secret_from_fd(0, &b->password) < 0) {
			cli_error(CMD, NULL, "--password-stdin: no password on standard input");
			rc = CLI_EXIT_USAGE;
		}
	}
	if (!rc && !(b->data = malloc(CHUNK))) {
		cli_error(CMD, NULL, "out of memory");
		rc = CLI_EXIT_LOCAL;
	}
	if (!rc) {
		/* random, so that Compression=yes cannot flatter a cipher */
		randombytes_buf(b->data, CHUNK);
		for (size_t i = 0; i < b->nrows && !rc; i++)
			rc = measure(b, &o, &b->rows[i]);
	}
	if (!rc)
		rc = report(b);
	opts_free(&o);
	return rc;
}

int
cmd_benchmark_ciphers(int argc, char **argv)
{
	struct bench b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.size_mib = 40;
	b.runs = 2;
	cli_conn_init(&b.conn);
	rc = parse(argc, argv, &b);
	if (rc == -1)
		rc = cli_help(help);
	else if (!rc) {
		b.progress = isatty(1);
		rc = bench(&b, argv[optind]);
	}
	cli_conn_free(&b.conn);
	secret_free(b.password);
	free(b.data);
	return rc;
}
