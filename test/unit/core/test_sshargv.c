/* sshargv: the argv of ssh_command=. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "opts.h"
#include "sshargv.h"
#include "tap.h"

static void
test_split(void)
{
	struct sshargv a = { 0 };

	TAP_EQ_INT(sshargv_split("  ssh  -J  me@jump:22 ", &a), 0);
	TAP_EQ_INT(a.n, 3);
	TAP_CHECK(a.n == 3 && !strcmp(a.v[0], "ssh") && !strcmp(a.v[1], "-J") &&
		  !strcmp(a.v[2], "me@jump:22") && a.v[3] == NULL);
	sshargv_free(&a);
	TAP_EQ_INT(sshargv_split("/opt/my\\ ssh -o a\\\\b", &a), 0);
	TAP_CHECK(a.n == 3 && !strcmp(a.v[0], "/opt/my ssh") && !strcmp(a.v[2], "a\\b"));
	sshargv_free(&a);
	TAP_EQ_INT(sshargv_split("ssh\\", &a), -EINVAL);
	sshargv_free(&a);
	TAP_EQ_INT(sshargv_split("   ", &a), -EINVAL);
	sshargv_free(&a);
}

static void
test_ssh_argv(void)
{
	struct sshargv a = { 0 };
	struct opts o;
	size_t n;

	opts_init(&o);
	o.ssh_command = "ssh -J u@jump";
	o.host = "nas";
	o.user = "alice";
	o.port = 2222;
	o.ciphers = "aes128-ctr";
	TAP_EQ_INT(sshargv_for_command(&o, "sftp", NULL, &a), 0);
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
	sshargv_free(&a);
	TAP_EQ_INT(sshargv_for_command(&o, NULL, "nice -n 19 /x/sftp-server", &a), 0);
	TAP_CHECK(a.n > 2 && !strcmp(a.v[a.n - 1], "nice -n 19 /x/sftp-server") &&
		  !strcmp(a.v[a.n - 3], "--"));
	sshargv_free(&a);
}

int
main(void)
{
	test_split();
	test_ssh_argv();
	return tap_done();
}
