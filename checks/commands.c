/* commands: see commands.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "result.h"

static const char *const cmd_names[CHK_CMD_COUNT] = {
	[CHK_CMD_OK] = "ok",
	[CHK_CMD_MISSING] = "missing-command",
	[CHK_CMD_FAILED] = "command-failed",
	[CHK_CMD_NO_SHELL] = "no-shell",
	[CHK_CMD_EXEC] = "exec-refused",
	[CHK_CMD_BAD_OPTION] = "bad-option",
};

const char *
chk_cmd_reason_name(int reason)
{
	return chk_reason_lookup(cmd_names, CHK_CMD_COUNT, reason);
}

static bool
any_required(const struct chk_probe *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].required)
			return true;
	return false;
}

/* "ionice (for -o ionice), rsync (check_commands)" for the items in
 * 'state' that are required. Returns how many. */
static int
list_items(const struct chk_probe *p, enum chk_probe_state state, char *buf, size_t len)
{
	size_t k = 0;
	int n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		const struct chk_probe_item *it = &p->items[i];
		int w;

		if (!it->required || it->state != state)
			continue;
		if (state == CHK_PROBE_FAIL)
			w = snprintf(buf + k, len - k, "%s`%s` exited %d (for %s)", n ? ", " : "",
				     it->run ? it->run : it->name, it->status, it->why);
		else
			w = snprintf(buf + k, len - k, "%s%s (for %s)", n ? ", " : "", it->name, it->why);
		n++;
		if (w < 0 || (size_t)w >= len - k)
			break;
		k += (size_t)w;
	}
	return n;
}

static void
pass_summary(const struct chk_probe *p, struct chk_result *res)
{
	char buf[480];
	size_t k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n && k < sizeof(buf); i++) {
		const struct chk_probe_item *it = &p->items[i];
		int w;

		if (it->state != CHK_PROBE_OK)
			continue;
		w = snprintf(buf + k, sizeof(buf) - k, "%s%s%s%s", k ? ", " : "", it->name,
			     it->detail[0] && strcmp(it->detail, it->name) ? " at " : "",
			     strcmp(it->detail, it->name) ? it->detail : "");
		if (w < 0)
			break;
		k += (size_t)w;
	}
	chk_res_pass(res, "found %s", buf[0] ? buf : "nothing to probe");
}

int
chk_commands_judge(const struct chk_probe *p, int exit_status, struct chk_result *res)
{
	char list[440];

	if (!p->ended) {
		if (!any_required(p)) {
			chk_res_pass(res, "no remote shell (SFTP-only account?); nothing needs one");
			return 0;
		}
		chk_res_fail(res, CHK_CMD_NO_SHELL, cmd_names[CHK_CMD_NO_SHELL],
			     "the account needs a shell that runs `sh -s` for nice/ionice/nocache "
			     "and check_commands=; turn those off for an SFTP-only account",
			     "the remote ran no shell for the command probe (exit status %d)",
			     exit_status);
		return -1;
	}
	if (list_items(p, CHK_PROBE_MISSING, list, sizeof(list)) > 0 ||
	    list_items(p, CHK_PROBE_UNKNOWN, list, sizeof(list)) > 0) {
		chk_res_fail(res, CHK_CMD_MISSING, cmd_names[CHK_CMD_MISSING],
			     "install them on the server (or put them on the login PATH), "
			     "or turn off the options that need them",
			     "remote host lacks %s", list);
		return -1;
	}
	if (list_items(p, CHK_PROBE_FAIL, list, sizeof(list)) > 0) {
		chk_res_fail(res, CHK_CMD_FAILED, cmd_names[CHK_CMD_FAILED],
			     "run the command on the server to see why it fails",
			     "on the remote host %s", list);
		return -1;
	}
	pass_summary(p, res);
	return 0;
}

int
chk_commands(struct sshc *s, struct chk_probe *p, struct chk_result *res, bool *shell)
{
	struct sshc_error e;
	char *script = NULL, *out = NULL;
	int status = -1, r;

	chk_res_begin(res, CHK_COMMANDS);
	if (shell)
		*shell = false;
	memset(&e, 0, sizeof(e));
	if (chk_probe_script(p, &script) < 0) {
		chk_res_fail(res, CHK_CMD_BAD_OPTION, cmd_names[CHK_CMD_BAD_OPTION], NULL,
			     "out of memory building the probe");
		return -1;
	}
	r = sshc_exec(s, "sh -s", script, &out, &status, &e);
	free(script);
	if (r < 0) {
		chk_res_fail(res, CHK_CMD_EXEC, cmd_names[CHK_CMD_EXEC],
			     e.hint[0] ? e.hint : "the server may forbid commands for this account",
			     "cannot run the command probe: %s", e.msg[0] ? e.msg : strerror(-r));
		free(out);
		return -1;
	}
	chk_probe_parse(p, out ? out : "");
	free(out);
	if (shell)
		*shell = p->ended;
	return chk_commands_judge(p, status, res);
}
