/* server_cmd: how the SFTP server is started. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "server_cmd.h"
#include "tap.h"

static void
test_subsystem(void)
{
	struct opts o;
	char *cmd = (char *)1;

	opts_init(&o);
	TAP_CHECK(strcmp(server_cmd_subsystem(&o), "sftp") == 0);
	TAP_EQ_INT(server_cmd_build(&o, NULL, &cmd), 0);
	TAP_CHECK(cmd == NULL);
	TAP_CHECK(!server_cmd_needs_probe(&o));
	o.sftp_server = "sftp2";
	TAP_CHECK(strcmp(server_cmd_subsystem(&o), "sftp2") == 0);
	o.sftp_server = NULL;
}

static void
test_prefix(void)
{
	struct opts o;
	char *cmd = NULL;

	opts_init(&o);
	o.nice = o.ionice = o.nocache = true;
	TAP_CHECK(server_cmd_subsystem(&o) == NULL);
	TAP_CHECK(server_cmd_needs_probe(&o));
	TAP_EQ_INT(server_cmd_build(&o, NULL, &cmd), -ENOENT);
	TAP_EQ_INT(server_cmd_build(&o, "/usr/lib/openssh/sftp-server", &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, "nice -n 19 ionice -c2 -n7 nocache /usr/lib/openssh/sftp-server") == 0);
	free(cmd);
	o.ionice = o.nocache = false;
	TAP_EQ_INT(server_cmd_build(&o, "/opt/my sftp/sftp-server", &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, "nice -n 19 '/opt/my sftp/sftp-server'") == 0);
	free(cmd);
	/* An sftp_server= path is used verbatim, so "sudo PATH" works. */
	o.sftp_server = "/usr/bin/sudo /usr/lib/openssh/sftp-server";
	TAP_CHECK(!server_cmd_needs_probe(&o));
	TAP_EQ_INT(server_cmd_build(&o, NULL, &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, "nice -n 19 /usr/bin/sudo /usr/lib/openssh/sftp-server") == 0);
	free(cmd);
	o.nice = false;
	TAP_EQ_INT(server_cmd_build(&o, NULL, &cmd), 0);
	TAP_CHECK(cmd && strcmp(cmd, o.sftp_server) == 0);
	free(cmd);
}

static void
test_quote(void)
{
	char *q = NULL;

	TAP_EQ_INT(server_cmd_shell_quote("/usr/lib/x-y_z.1", &q), 0);
	TAP_CHECK(q && strcmp(q, "/usr/lib/x-y_z.1") == 0);
	free(q);
	TAP_EQ_INT(server_cmd_shell_quote("it's $HOME", &q), 0);
	TAP_CHECK(q && strcmp(q, "'it'\\''s $HOME'") == 0);
	free(q);
	TAP_EQ_INT(server_cmd_shell_quote("", &q), 0);
	TAP_CHECK(q && strcmp(q, "''") == 0);
	free(q);
}

int
main(void)
{
	test_subsystem();
	test_prefix();
	test_quote();
	return tap_done();
}
