/* sshc-probe: drives core/sshc from the command line for the integration
 * tests (test/integration/test_sshc.py).
 *
 *   sshc-probe [-d] [-p PORT] [-F FILE] [-C] [-o opt,...] [user@]host [step...]
 *
 * Options are those of sshmountfs (the -o list goes through opts_apply_list).
 * Steps run in order; without any: connect verify auth.
 *   connect | verify | auth      sshc_connect / sshc_verify_host / sshc_authenticate
 *   exec CMD                     sshc_exec(CMD) with no input; prints status and stdout
 *   exec-in CMD INPUT            the same, feeding INPUT on stdin
 *   sftp                         opens the sftp subsystem channel
 * With -o password_stdin the password is read from stdin (secret_from_fd)
 * and handed over with sshc_set_password() before the steps.
 *
 * Output on stdout, one "key: value" per line:
 *   step: NAME ok|failed      for every step run
 *   code: SSHC_E_...          the failing code (SSHC_OK when all passed)
 *   msg: / hint: / detail:    the sshc_error fields (detail: once per line)
 *   fingerprint: / cipher:    after connect
 *   status: N / stdout: TEXT  for exec (stdout lines prefixed)
 * Exit status: 0 when every step passed, 10 + the sshc_code of the failure,
 * 2 for usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"
#include "secret.h"
#include "sshc.h"

static const char *const code_names[] = {
	"SSHC_OK", "SSHC_E_CONFIG", "SSHC_E_DNS", "SSHC_E_REFUSED", "SSHC_E_TIMEOUT",
	"SSHC_E_NOT_SSH", "SSHC_E_KEX", "SSHC_E_HOSTKEY_UNKNOWN", "SSHC_E_HOSTKEY_CHANGED",
	"SSHC_E_AUTH", "SSHC_E_PASSPHRASE", "SSHC_E_CHANNEL", "SSHC_E_IO",
};

static void
print_lines(const char *key, const char *text)
{
	while (text != NULL && *text != '\0') {
		size_t n = strcspn(text, "\n");
		printf("%s: %.*s\n", key, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static int
report(const struct sshc_error *e)
{
	unsigned c = (unsigned)e->code;

	printf("code: %s\n", c < sizeof(code_names) / sizeof(code_names[0]) ?
	       code_names[c] : "?");
	if (e->msg[0])
		printf("msg: %s\n", e->msg);
	if (e->hint[0])
		printf("hint: %s\n", e->hint);
	print_lines("detail", e->detail);
	return e->code == SSHC_OK ? 0 : 10 + (int)e->code;
}

static int
usage(const char *why)
{
	fprintf(stderr, "sshc-probe: %s\nusage: sshc-probe [-d] [-p PORT] [-F FILE] [-C] "
		"[-o opt,...] [user@]host [connect|verify|auth|sftp|exec CMD|exec-in CMD IN]...\n",
		why);
	return 2;
}

static int
parse_port(const char *s, int *port)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v <= 0 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* "user@host" -> the "[user@]host:" spec opts_parse_remote() wants. */
static int
set_target(struct opts *o, const char *arg, char *err, size_t errlen)
{
	char spec[512];
	const char *after = strrchr(arg, ']');

	after = after ? after : arg;
	snprintf(spec, sizeof(spec), "%s%s", arg, strchr(after, ':') ? "" : ":");
	return opts_parse_remote(o, spec, err, errlen);
}

static int
parse_args(int argc, char **argv, struct opts *o, int *first_step, bool *debug)
{
	char err[OPTS_ERR_LEN];
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-d") == 0) {
			*debug = true;
		} else if (strcmp(a, "-C") == 0) {
			o->compression = true;
		} else if ((strcmp(a, "-p") == 0 || strcmp(a, "-F") == 0 ||
			    strcmp(a, "-o") == 0) && i + 1 < argc) {
			const char *v = argv[++i];
			if (a[1] == 'p' && parse_port(v, &o->port) < 0)
				return usage("bad port");
			if (a[1] == 'F' && opts_set_string(&o->ssh_config, v) < 0)
				return usage("out of memory");
			if (a[1] == 'o' && opts_apply_list(o, v, err, sizeof(err)) < 0)
				return usage(err);
		} else {
			return usage("unknown option");
		}
	}
	if (i >= argc)
		return usage("no host");
	if (set_target(o, argv[i], err, sizeof(err)) < 0)
		return usage(err);
	*first_step = i + 1;
	return 0;
}

static int
run_exec(struct sshc *s, const char *cmd, const char *input, struct sshc_error *e)
{
	char *out = NULL;
	int status, rc;

	rc = sshc_exec(s, cmd, input, &out, &status, e);
	if (rc == 0) {
		printf("status: %d\n", status);
		print_lines("stdout", out);
		print_lines("stderr", e->detail);
		e->detail[0] = '\0';
	}
	free(out);
	return rc;
}

static int
run_sftp(struct sshc *s, struct sshc_error *e)
{
	ssh_channel ch = NULL;
	int rc = sshc_open_sftp_channel(s, NULL, &ch, e);

	if (rc == 0) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return rc;
}

/* One step at argv[*i]; advances *i past its arguments. -EINVAL for an
 * unknown step or a missing argument. */
static int
run_step(struct sshc *s, int argc, char **argv, int *i, struct sshc_error *e)
{
	const char *st = argv[(*i)++];

	if (strcmp(st, "connect") == 0)
		return sshc_connect(s, e);
	if (strcmp(st, "verify") == 0)
		return sshc_verify_host(s, e);
	if (strcmp(st, "auth") == 0)
		return sshc_authenticate(s, e);
	if (strcmp(st, "sftp") == 0)
		return run_sftp(s, e);
	if (strcmp(st, "exec") == 0 && *i < argc)
		return run_exec(s, argv[(*i)++], NULL, e);
	if (strcmp(st, "exec-in") == 0 && *i + 1 < argc) {
		*i += 2;
		return run_exec(s, argv[*i - 2], argv[*i - 1], e);
	}
	return -EINVAL;
}

static int
run_list(struct sshc *s, int argc, char **argv, int i, struct sshc_error *e)
{
	int rc = 0;

	while (i < argc && rc == 0) {
		const char *name = argv[i];
		rc = run_step(s, argc, argv, &i, e);
		if (rc == -EINVAL && e->code == SSHC_OK)
			return usage("unknown step or missing argument");
		printf("step: %s %s\n", name, rc == 0 ? "ok" : "failed");
		if (rc == 0 && strcmp(name, "connect") == 0) {
			printf("fingerprint: %s\n", sshc_fingerprint(s) ? sshc_fingerprint(s) : "");
			printf("cipher: %s\n", sshc_cipher(s) ? sshc_cipher(s) : "");
		}
	}
	return rc == -EINVAL && e->code == SSHC_OK ? 2 : rc < 0 ? 1 : 0;
}

/* The steps given; "connect verify auth" first unless they start with
 * "connect" (so "host exec CMD" logs in and runs CMD). */
static int
run_steps(struct sshc *s, int argc, char **argv, int first, struct sshc_error *e)
{
	static char *defaults[] = { "connect", "verify", "auth" };
	int rc;

	if (first >= argc || strcmp(argv[first], "connect") != 0) {
		rc = run_list(s, 3, defaults, 0, e);
		if (rc != 0 || first >= argc)
			return rc == 2 ? 2 : 0;
	}
	rc = run_list(s, argc, argv, first, e);
	return rc == 2 ? 2 : 0;
}

int
main(int argc, char **argv)
{
	struct sshc_error e;
	struct sshc *s = NULL;
	struct opts o;
	struct secret *pw = NULL;
	bool debug = false;
	int first = 0, rc;

	opts_init(&o);
	rc = parse_args(argc, argv, &o, &first, &debug);
	log_init("sshc-probe", debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (rc == 0 && secret_init() < 0)
		rc = usage("libsodium does not initialise");
	if (rc == 0 && o.password_stdin && secret_from_fd(0, &pw) < 0)
		rc = usage("password_stdin: no password on stdin");
	if (rc == 0 && sshc_new(&o, &s, &e) == 0) {
		sshc_set_password(s, pw);
		pw = NULL;
		rc = run_steps(s, argc, argv, first, &e);
	}
	if (rc == 0) {
		rc = report(&e);
		if (e.code != SSHC_OK)
			sshc_error_report(&e);
	}
	secret_free(pw);
	sshc_free(s);
	opts_free(&o);
	fflush(stdout);
	return rc;
}
