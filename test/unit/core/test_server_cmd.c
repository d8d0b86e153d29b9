/* server_cmd and sshargv: how the SFTP server is started, and the argv of
 * ssh_command=. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "server_cmd.h"
#include "sshargv.h"
#include "tap.h"

static void
test_subsystem(void)
{
	struct opts o;
	char *cmd = (char *)1;

	opts_init(&o);
	TAP_CHECK(strcmp(chk_server_subsystem(&o), "sftp") == 0);
	TAP_EQ_INT(chk_server_cmd(&o, NULL, &cmd), 0);
	TAP_CHECK(cmd == NULL);
	TAP_CHECK(!chk_server_needs_probe(&o));
	o.sftp_server = "sftp2";
	TAP_CHECK(strcmp(chk_server_subsystem(&o), "sftp2") == 0);
	o.sftp_server = NULL;
}

static void
test_prefix(void)
{
	struct opts o;
	char *cmd = NULL;

	opts_init(&o);
	o.nice = o.ionice = o.nocache = true;
	TAP_CHECK(chk_server_subsystem(&o) == NULL);
	TAP_CHECK(chk_server_needs_probe(&o));
	TAP_EQ_INT(chk_server_cmd(&o, NULL, &cmd), -ENOENT);
	TAP_EQ_INT(chk_server_cmd(&o, "/usr/lib/openssh/sftp-server", &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, "nice -n 19 ionice -c2 -n7 nocache /usr/lib/openssh/sftp-server") == 0);
	free(cmd);
	o.ionice = o.nocache = false;
	TAP_EQ_INT(chk_server_cmd(&o, "/opt/my sftp/sftp-server", &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, "nice -n 19 '/opt/my sftp/sftp-server'") == 0);
	free(cmd);
	/* An sftp_server= path is used verbatim, so "sudo PATH" works. */
	o.sftp_server = "/usr/bin/sudo /usr/lib/openssh/sftp-server";
	TAP_CHECK(!chk_server_needs_probe(&o));
	TAP_EQ_INT(chk_server_cmd(&o, NULL, &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, "nice -n 19 /usr/bin/sudo /usr/lib/openssh/sftp-server") == 0);
	free(cmd);
	o.nice = false;
	TAP_EQ_INT(chk_server_cmd(&o, NULL, &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, o.sftp_server) == 0);
	free(cmd);
}

static void
test_quote(void)
{
	char *q = NULL;

	TAP_EQ_INT(chk_shell_quote("/usr/lib/x-y_z.1", &q), 0);
	TAP_CHECK(q && strcmp(q, "/usr/lib/x-y_z.1") == 0);
	free(q);
	TAP_EQ_INT(chk_shell_quote("it's $HOME", &q), 0);
	TAP_CHECK(q && strcmp(q, "'it'\\''s $HOME'") == 0);
	free(q);
	TAP_EQ_INT(chk_shell_quote("", &q), 0);
	TAP_CHECK(q && strcmp(q, "''") == 0);
	free(q);
}

static void
test_split(void)
{
	struct chk_argv a = { 0 };

	TAP_EQ_INT(chk_split_words("  ssh  -J  me@jump:22 ", &a), 0);
	TAP_EQ_INT(a.n, 3);
	TAP_CHECK(a.n == 3 && !strcmp(a.v[0], "ssh") && !strcmp(a.v[1], "-J") &&
		  !strcmp(a.v[2], "me@jump:22") && a.v[3] == NULL);
	chk_argv_free(&a);
	TAP_EQ_INT(chk_split_words("/opt/my\\ ssh -o a\\\\b", &a), 0);
	TAP_CHECK(a.n == 3 && !strcmp(a.v[0], "/opt/my ssh") && !strcmp(a.v[2], "a\\b"));
	chk_argv_free(&a);
	TAP_EQ_INT(chk_split_words("ssh\\", &a), -EINVAL);
	chk_argv_free(&a);
	TAP_EQ_INT(chk_split_words("   ", &a), -EINVAL);
	chk_argv_free(&a);
}

static void
test_ssh_argv(void)
{
	struct chk_argv a = { 0 };
	struct opts o;
	size_t n;

	opts_init(&o);
	o.ssh_command = "ssh -J u@jump";
	o.host = "nas";
	o.user = "alice";
	o.port = 2222;
	o.ciphers = "aes128-ctr";
	TAP_EQ_INT(chk_ssh_command_argv(&o, "sftp", NULL, &a), 0);
	n = a.n;
	TAP_CHECK(n > 8 && !strcmp(a.v[0], "ssh") && !strcmp(a.v[1], "-J") && !strcmp(a.v[2], "u@jump"));
	TAP_CHECK(n > 8 && !strcmp(a.v[n - 1], "sftp") && !strcmp(a.v[n - 2], "alice@nas") &&
		  !strcmp(a.v[n - 3], "--") && !strcmp(a.v[n - 4], "-s"));
	{
		bool port = false, ciph = false;

		for (size_t i = 0; i < n; i++) {
			port |= !strcmp(a.v[i], "-oPort=2222");
			ciph |= !strcmp(a.v[i], "-oCiphers=aes128-ctr");
		}
		TAP_CHECK(port);
		TAP_CHECK(ciph);
	}
	chk_argv_free(&a);
	TAP_EQ_INT(chk_ssh_command_argv(&o, NULL, "nice -n 19 /x/sftp-server", &a), 0);
	TAP_CHECK(a.n > 2 && !strcmp(a.v[a.n - 1], "nice -n 19 /x/sftp-server") &&
		  !strcmp(a.v[a.n - 3], "--"));
	chk_argv_free(&a);
}

int
main(void)
{
	test_subsystem();
	test_prefix();
	test_quote();
	test_split();
	test_ssh_argv();
	return tap_done();
}
