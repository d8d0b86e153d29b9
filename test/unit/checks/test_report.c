/* report and the reason names: the stable strings scripts rely on, the
 * JSON list, the failure lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "cipher.h"
#include "commands.h"
#include "folder.h"
#include "hardlink.h"
#include "known_host.h"
#include "login.h"
#include "reachable.h"
#include "report.h"
#include "result.h"
#include "tap.h"

static void
test_names(void)
{
	static const char *const want[CHK_COUNT] = {
		"reachable", "known-host", "login", "cipher", "commands", "hardlink", "folder",
	};

	for (int i = 0; i < CHK_COUNT; i++)
		TAP_CHECK(strcmp(chk_name((enum chk_id)i), want[i]) == 0);
	TAP_CHECK(strcmp(chk_outcome_name(CHK_NOT_RUN), "not-run") == 0);
	TAP_CHECK(strcmp(chk_outcome_name(CHK_SKIPPED), "skipped") == 0);
	TAP_CHECK(strcmp(chk_host_reason_name(CHK_HOST_UNKNOWN), "unknown-host-key") == 0);
	TAP_CHECK(strcmp(chk_host_reason_name(CHK_HOST_CHANGED), "changed-host-key") == 0);
	TAP_CHECK(strcmp(chk_login_reason_name(CHK_LOGIN_DENIED), "denied") == 0);
	TAP_CHECK(strcmp(chk_login_reason_name(CHK_LOGIN_PASSPHRASE), "passphrase-needed") == 0);
	TAP_CHECK(strcmp(chk_cipher_reason_name(CHK_CIPHER_NO_COMMON), "no-common-cipher") == 0);
	TAP_CHECK(strcmp(chk_cmd_reason_name(CHK_CMD_MISSING), "missing-command") == 0);
	TAP_CHECK(strcmp(chk_link_reason_name(CHK_LINK_DENIED), "link-denied") == 0);
	TAP_CHECK(strcmp(chk_folder_reason_name(CHK_FOLDER_NOT_WRITABLE), "not-writable") == 0);
	TAP_CHECK(strcmp(chk_folder_reason_name(CHK_FOLDER_NOT_DIR), "not-a-directory") == 0);
	/* Every reason of every check has a name, and no two in a check clash. */
	{
		const char *(*fns[])(int) = { chk_reach_reason_name, chk_host_reason_name,
			chk_login_reason_name, chk_cipher_reason_name, chk_cmd_reason_name,
			chk_link_reason_name, chk_folder_reason_name };
		int counts[] = { CHK_REACH_COUNT, CHK_HOST_COUNT, CHK_LOGIN_COUNT, CHK_CIPHER_COUNT,
				 CHK_CMD_COUNT, CHK_LINK_COUNT, CHK_FOLDER_COUNT };
		int bad = 0;

		for (size_t f = 0; f < sizeof(counts) / sizeof(counts[0]); f++)
			for (int a = 0; a < counts[f]; a++) {
				const char *na = fns[f](a);

				bad += !na || !na[0] || !strcmp(na, "unknown");
				for (int b = a + 1; b < counts[f]; b++)
					bad += !strcmp(na, fns[f](b));
			}
		TAP_EQ_INT(bad, 0);
	}
}

static char *
capture(void (*fn)(FILE *, const struct chk_result *), const struct chk_result *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, res);
	fclose(f);
	return buf;
}

static void
json(FILE *f, const struct chk_result *res)
{
	chk_report_json(f, res);
}

static void
text(FILE *f, const struct chk_result *res)
{
	chk_report_text(f, res);
}

static void
test_output(void)
{
	struct chk_result res[CHK_COUNT];
	char *s;

	for (int i = 0; i < CHK_COUNT; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].id = (enum chk_id)i;
	}
	chk_res_begin(&res[CHK_REACHABLE], CHK_REACHABLE);
	res[CHK_REACHABLE].attempts = 2;
	chk_res_pass(&res[CHK_REACHABLE], "127.0.0.1:22 answers: SSH-2.0-x");
	chk_res_begin(&res[CHK_KNOWN_HOST], CHK_KNOWN_HOST);
	chk_res_skip(&res[CHK_KNOWN_HOST], "directport");
	chk_res_begin(&res[CHK_FOLDER], CHK_FOLDER);
	chk_res_fail(&res[CHK_FOLDER], CHK_FOLDER_NOT_DIR, "not-a-directory", "a \"hint\"",
		     "path\t/x\\y is\na file");
	TAP_EQ_INT(chk_failed(res), CHK_FOLDER);
	s = capture(json, res);
	{
		const char *head = "[\n  {\"check\": \"reachable\", \"outcome\": \"passed\", \"reason\": \"ok\"";

		TAP_CHECK(strncmp(s, head, strlen(head)) == 0);
	}
	TAP_CHECK(strstr(s, "\"attempts\": 2}") != NULL);
	TAP_CHECK(strstr(s, "{\"check\": \"known-host\", \"outcome\": \"skipped\", \"reason\": \"skipped\"") != NULL);
	TAP_CHECK(strstr(s, "{\"check\": \"login\", \"outcome\": \"not-run\", \"reason\": \"\", \"message\": \"\"") != NULL);
	TAP_CHECK(strstr(s, "\"reason\": \"not-a-directory\", \"message\": \"path\\t/x\\\\y is\\na file\", \"hint\": \"a \\\"hint\\\"\"") != NULL);
	TAP_CHECK(strstr(s, "\n]\n") != NULL);
	free(s);
	s = capture(text, res);
	TAP_CHECK(strstr(s, "folder      failed") != NULL);
	TAP_CHECK(strstr(s, "login       not run") != NULL);
	TAP_CHECK(strstr(s, "hint: a \"hint\"") != NULL);
	free(s);
	TAP_CHECK(res[CHK_REACHABLE].seconds >= 0 && res[CHK_REACHABLE].seconds < 1);
}

static void
test_json_bytes(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	/* valid UTF-8 kept; a lone byte, an overlong form and a surrogate
	 * replaced; control characters escaped */
	chk_json_string(f, "caf\xc3\xa9 \xff \xc0\xaf \xed\xa0\x80 \x01 \xf0\x9f\x98\x80");
	fclose(f);
	TAP_CHECK(strcmp(buf, "\"caf\xc3\xa9 \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd "
			      "\\u0001 \xf0\x9f\x98\x80\"") == 0);
	printf("# %s\n", buf);
	free(buf);
}

int
main(void)
{
	test_names();
	test_json_bytes();
	test_output();
	return tap_done();
}
