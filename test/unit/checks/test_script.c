/* script: the command probe's builder and parser, and the script itself
 * run by the local /bin/sh (the same dash a Debian server runs). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "result.h"
#include "opts.h"
#include "script.h"
#include "tap.h"

/* Runs `sh -s` with 'in' on stdin; returns its stdout (heap). */
static char *
run_sh(const char *in, int *status)
{
	int pin[2], pout[2];
	char *out = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (!out || pipe(pin) < 0 || pipe(pout) < 0)
		return out;
	pid = fork();
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[1]);
		close(pout[0]);
		alarm(20);
		execl("/bin/sh", "sh", "-s", (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	signal(SIGPIPE, SIG_IGN);
	(void)!write(pin[1], in, strlen(in));
	close(pin[1]);
	while (len < 65535 && (n = read(pout[0], out + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(pout[0]);
	waitpid(pid, status, 0);
	return out;
}

static void
test_local_run(void)
{
	struct chk_probe p;
	struct chk_result res;
	struct opts o;
	char err[256] = "", *script = NULL, *out;
	int status = -1;

	opts_init(&o);
	o.nice = true;
	opts_strv_add(&o.check_commands, "sh");
	opts_strv_add(&o.check_commands, "definitely-not-a-command");
	opts_strv_add(&o.check_commands, "it's weird; rm -rf /nonexistent");
	TAP_EQ_INT(chk_probe_build(&o, true, &p, err, sizeof(err)), 0);
	TAP_EQ_INT(p.n, 5);	/* server, nice, three names */
	TAP_CHECK(p.items[0].kind == CHK_PROBE_SERVER && p.items[0].required);
	TAP_CHECK(p.items[1].kind == CHK_PROBE_RUN && !strcmp(p.items[1].run, "nice -n 19 true"));
	TAP_EQ_INT(chk_probe_script(&p, &script), 0);
	out = run_sh(script, &status);
	TAP_EQ_INT(chk_probe_parse(&p, out), 0);
	TAP_CHECK(p.ended);
	/* This machine has openssh-sftp-server installed. */
	TAP_EQ_INT(p.items[0].state, CHK_PROBE_OK);
	TAP_CHECK(strcmp(p.items[0].detail, "/usr/lib/openssh/sftp-server") == 0);
	TAP_EQ_INT(p.items[1].state, CHK_PROBE_OK);
	TAP_EQ_INT(p.items[2].state, CHK_PROBE_OK);
	TAP_CHECK(strstr(p.items[2].detail, "/sh") != NULL);
	TAP_EQ_INT(p.items[3].state, CHK_PROBE_MISSING);
	TAP_EQ_INT(p.items[4].state, CHK_PROBE_MISSING);
	chk_res_begin(&res, CHK_COMMANDS);
	TAP_EQ_INT(chk_commands_judge(&p, 0, &res), -1);
	TAP_EQ_INT(res.outcome, CHK_FAILED);
	TAP_CHECK(strcmp(res.reason_name, "missing-command") == 0);
	TAP_CHECK(strstr(res.msg, "definitely-not-a-command (for check_commands)") != NULL);
	TAP_CHECK(strstr(res.msg, "sh (for") == NULL);
	free(out);
	free(script);
	chk_probe_free(&p);
	opts_free(&o);
}

static void
test_run_failure(void)
{
	struct chk_probe p = { 0 };
	struct chk_result res;
	char *script = NULL, *out;
	int status;

	TAP_EQ_INT(chk_probe_add(&p, CHK_PROBE_RUN, "false", "false", "-o test", true), 0);
	TAP_EQ_INT(chk_probe_script(&p, &script), 0);
	out = run_sh(script, &status);
	TAP_EQ_INT(chk_probe_parse(&p, out), 0);
	TAP_EQ_INT(p.items[0].state, CHK_PROBE_FAIL);
	TAP_EQ_INT(p.items[0].status, 1);
	chk_res_begin(&res, CHK_COMMANDS);
	TAP_EQ_INT(chk_commands_judge(&p, 0, &res), -1);
	TAP_CHECK(strcmp(res.reason_name, "command-failed") == 0);
	TAP_CHECK(strstr(res.msg, "`false` exited 1 (for -o test)") != NULL);
	free(out);
	free(script);
	chk_probe_free(&p);
}

static void
test_parse(void)
{
	struct chk_probe p = { 0 };
	struct chk_result res;

	chk_probe_add(&p, CHK_PROBE_CMD, "rsync", NULL, "check_commands", true);
	chk_probe_add(&p, CHK_PROBE_SERVER, "sftp-server", NULL, "the SFTP server", false);
	/* Noise, CRs, bogus indexes and a cut-off end. */
	TAP_EQ_INT(chk_probe_parse(&p, "Welcome!\r\nSMCHK 0 ok /usr/bin/rsync\r\n"
				   "SMCHK 7 ok x\nSMCHK x ok\nSMCHK 1 missing\n"), -EPROTO);
	TAP_EQ_INT(p.items[0].state, CHK_PROBE_OK);
	TAP_CHECK(strcmp(p.items[0].detail, "/usr/bin/rsync") == 0);
	TAP_EQ_INT(p.items[1].state, CHK_PROBE_MISSING);
	TAP_CHECK(!p.ended);
	chk_res_begin(&res, CHK_COMMANDS);
	TAP_EQ_INT(chk_commands_judge(&p, 127, &res), -1);
	TAP_CHECK(strcmp(res.reason_name, "no-shell") == 0);
	TAP_EQ_INT(chk_probe_parse(&p, "SMCHK 0 ok \x1b[31mred\nSMCHK end\n"), 0);
	TAP_CHECK(strchr(p.items[0].detail, '\x1b') == NULL);
	chk_res_begin(&res, CHK_COMMANDS);
	TAP_EQ_INT(chk_commands_judge(&p, 0, &res), 0);	/* the server is informational */
	TAP_EQ_INT(res.outcome, CHK_PASSED);
	/* Nothing required and no shell: an SFTP-only account passes. */
	p.items[0].required = false;
	TAP_EQ_INT(chk_probe_parse(&p, "This service allows sftp connections only.\n"), -EPROTO);
	chk_res_begin(&res, CHK_COMMANDS);
	TAP_EQ_INT(chk_commands_judge(&p, 1, &res), 0);
	chk_probe_free(&p);
}

static void
test_bad_names(void)
{
	struct chk_probe p;
	struct opts o;
	char err[256] = "";

	opts_init(&o);
	opts_strv_add(&o.check_commands, "ok");
	opts_strv_add(&o.check_commands, "bad\nname");
	TAP_EQ_INT(chk_probe_build(&o, true, &p, err, sizeof(err)), -EINVAL);
	TAP_CHECK(strstr(err, "not a command name") != NULL);
	TAP_EQ_INT(chk_probe_build(&o, false, &p, err, sizeof(err)), 0);
	TAP_EQ_INT(p.n, 1);
	TAP_CHECK(!p.items[0].required);
	chk_probe_free(&p);
	opts_free(&o);
}

int
main(void)
{
	test_local_run();
	test_run_failure();
	test_parse();
	test_bad_names();
	return tap_done();
}
