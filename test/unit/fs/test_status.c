/* Unit tests for fs/status.c's snapshot renderings (JSON and text) and
 * core/mountinfo.c's lookup, which the status socket's name comes from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"
#include "status.h"
#include "tap.h"

static struct status_info
sample(void)
{
	struct status_info in;

	memset(&in, 0, sizeof(in));
	in.remote = "al\"ice@host:/srv/a\\b\n";
	in.started = 1000;
	in.now = 1000 + 3725;
	in.nconn = 2;
	for (int i = 0; i < 2; i++) {
		in.conn[i].requests = 10 + (uint64_t)i;
		in.conn[i].replies = 9;
		in.conn[i].bytes_in = 1u << 20;
		in.conn[i].bytes_out = 2048;
		in.conn[i].generation = 1;
		in.conn[i].rtt_us = 1500;
	}
	in.open_files = 3;
	in.queued_write_bytes = 65536;
	in.cache.attr_hits = 3;
	in.cache.attr_misses = 1;
	in.cache_on = true;
	in.reconnect = true;
	in.reconnect_timeout = 60;
	return in;
}

static void
test_json(void)
{
	struct status_info in = sample();
	char buf[8192];
	int n;

	n = status_json(&in, buf, sizeof(buf));
	TAP_CHECK(n > 0 && (size_t)n == strlen(buf) && buf[n - 1] == '\n');
	/* strings are escaped */
	TAP_CHECK(strstr(buf, "{\"remote\":\"al\\\"ice@host:/srv/a\\\\b\\u000a\",") == buf);
	TAP_CHECK(strstr(buf, "\"state\":\"connected\",\"since\":1000,\"last_error\":\"\""));
	/* totals are the sum of the engines */
	TAP_CHECK(strstr(buf, "\"requests\":21,\"replies\":18,\"bytes_in\":2097152,"
			 "\"bytes_out\":4096,"));
	TAP_CHECK(strstr(buf, "\"uptime_s\":3725"));
	TAP_CHECK(strstr(buf, "\"open_files\":3,\"queued_write_bytes\":65536"));
	TAP_CHECK(strstr(buf, "\"cache\":{\"attr_hits\":3,\"attr_misses\":1,"));
	TAP_CHECK(strstr(buf, "\"options\":{\"reconnect\":true,\"reconnect_timeout\":60,"
			 "\"exclusive\":false,\"cache\":true}"));
	TAP_CHECK(strstr(buf, "\"engines\":[{\"state\":\"connected\""));
	TAP_CHECK(strstr(buf, "\"queued_ops\":0,\"pending_ops\":0,\"refused_ops\":0,"));
	TAP_CHECK(strstr(buf, "\"requests\":11,"));

	/* the worst engine's state is the mount's, with its time and error */
	in.conn[1].link = FXC_LINK_RECONNECTING;
	in.conn[1].link_since = 4000;
	snprintf(in.conn[1].last_error, sizeof(in.conn[1].last_error), "Connection reset");
	in.conn[1].reconnects = 2;
	TAP_EQ_INT(status_worst(&in), 1);
	n = status_json(&in, buf, sizeof(buf));
	TAP_CHECK(n > 0);
	TAP_CHECK(strstr(buf, "\"state\":\"reconnecting\",\"since\":4000,"
			 "\"last_error\":\"Connection reset\",\"reconnects\":2,"));
	in.conn[0].link = FXC_LINK_FAILED;
	TAP_EQ_INT(status_worst(&in), 0);

	/* too small a buffer is an error, never a cut object */
	TAP_EQ_INT(status_json(&in, buf, 40), -ENOSPC);
	in.nconn = 0;
	TAP_EQ_INT(status_worst(&in), -1);
	n = status_json(&in, buf, sizeof(buf));
	TAP_CHECK(n > 0 && strstr(buf, "\"engines\":[]}"));
}

static void
test_text(void)
{
	struct status_info in = sample();
	char buf[8192];
	int n;

	n = status_text(&in, buf, sizeof(buf));
	TAP_CHECK(n > 0);
	TAP_CHECK(strstr(buf, "state:       connected since 1970-01-01 00:16:40 UTC (62 min 5 s)\n"));
	TAP_CHECK(strstr(buf, "round trip:  1.5 ms\n"));
	TAP_CHECK(strstr(buf, "traffic:     2.0 MiB in, 4.0 KiB out, 21 requests"));
	TAP_CHECK(strstr(buf, "open files:  3, 64.0 KiB of writes not yet acknowledged\n"));
	TAP_CHECK(strstr(buf, "attributes 75% hits (3 of 4), listings no lookups"));
	TAP_CHECK(strstr(buf, "options:     reconnect, reconnect_timeout=60, cache=yes\n"));
	TAP_CHECK(strstr(buf, "connection 2: connected"));
	TAP_CHECK(strstr(buf, "queued:") == NULL);
	in.exclusive = true;
	in.queued_ops = 12;
	in.pending_ops = 3;
	in.refused_ops = 1;
	status_text(&in, buf, sizeof(buf));
	TAP_CHECK(strstr(buf, "queued:      12 operations answered at once, 3 not yet answered "
			 "by the server, 1 refused"));
	in.exclusive = false;
	in.conn[0].link = FXC_LINK_DOWN;
	in.conn[0].link_since = in.now - 30;
	snprintf(in.conn[0].last_error, sizeof(in.conn[0].last_error), "timed out");
	status_text(&in, buf, sizeof(buf));
	TAP_CHECK(strstr(buf, "state:       down since 1970-01-01 01:18:15 UTC (30 s); "
			 "last error: timed out\n"));
	TAP_EQ_INT(status_text(&in, buf, 10), -ENOSPC);
}

static void
test_mountinfo(void)
{
	const char *text =
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"40 22 0:39 / /mnt/a\\040b rw,nosuid - fuse.sshfs u@h:/x rw,user_id=0,group_id=0\n"
		"41 40 0:41 / /mnt/a\\040b rw,nosuid - fuse.sshmountfs u@h:/p\\040q "
		"rw,user_id=1001,group_id=1001\n"
		"42 22 0:42 / /mnt/c rw shared:3 master:2 - tmpfs none rw\n";
	struct mountinfo_entry e;

	TAP_EQ_INT(mountinfo_find(text, "/mnt/a b", NULL, &e), 0);
	/* the last one listed is the one on top */
	TAP_CHECK(e.major == 0 && e.minor == 41);
	TAP_CHECK(!strcmp(e.fstype, "fuse.sshmountfs") && !strcmp(e.source, "u@h:/p q"));
	TAP_EQ_INT(e.user_id, 1001);
	TAP_EQ_INT(mountinfo_find(text, "/mnt/a b", "fuse.sshfs", &e), 0);
	TAP_CHECK(e.minor == 39 && e.user_id == 0);
	TAP_EQ_INT(mountinfo_find(text, "/mnt/c", NULL, &e), 0);
	TAP_CHECK(e.minor == 42 && e.user_id == -1 && !strcmp(e.source, "none"));
	TAP_EQ_INT(mountinfo_find(text, "/mnt/a", NULL, &e), -ENOENT);
	TAP_EQ_INT(mountinfo_find(text, "/mnt/c", "fuse", &e), -ENOENT);
	TAP_EQ_INT(mountinfo_find("garbage\n\n", "/", NULL, &e), -ENOENT);
}

int
main(void)
{
	test_json();
	test_text();
	test_mountinfo();
	return tap_done();
}
