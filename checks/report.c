/* report: see report.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static const char *const check_names[CHK_COUNT] = {
	[CHK_REACHABLE] = "reachable",
	[CHK_KNOWN_HOST] = "known-host",
	[CHK_LOGIN] = "login",
	[CHK_CIPHER] = "cipher",
	[CHK_COMMANDS] = "commands",
	[CHK_HARDLINK] = "hardlink",
	[CHK_FOLDER] = "folder",
};

const char *
chk_name(enum chk_id id)
{
	if ((int)id < 0 || id >= CHK_COUNT)
		return "unknown";
	return check_names[id];
}

const char *
chk_outcome_name(enum chk_outcome oc)
{
	switch (oc) {
	case CHK_PASSED:
		return "passed";
	case CHK_FAILED:
		return "failed";
	case CHK_SKIPPED:
		return "skipped";
	default:
		return "not-run";
	}
}

int
chk_failed(const struct chk_result res[CHK_COUNT])
{
	for (int i = 0; i < CHK_COUNT; i++)
		if (res[i].outcome == CHK_FAILED)
			return i;
	return -1;
}

static const char *
reason_of(const struct chk_result *r)
{
	switch (r->outcome) {
	case CHK_PASSED:
		return "ok";
	case CHK_SKIPPED:
		return "skipped";
	case CHK_FAILED:
		return r->reason_name && r->reason_name[0] ? r->reason_name : "failed";
	default:
		return "";
	}
}

/* Prints a multi-line text with 'indent' before each line. */
static void
put_lines(FILE *f, const char *indent, const char *s)
{
	while (s && *s) {
		size_t n = strcspn(s, "\n");

		if (n)
			fprintf(f, "%s%.*s\n", indent, (int)n, s);
		s += n;
		if (*s == '\n')
			s++;
	}
}

void
chk_report_failure(const struct chk_result res[CHK_COUNT])
{
	int i = chk_failed(res);

	if (i < 0)
		return;
	fprintf(stderr, "sshmountfs: %s: %s\n", chk_name((enum chk_id)i), res[i].msg);
	put_lines(stderr, "  ", res[i].detail);
	if (res[i].hint[0])
		fprintf(stderr, "  hint: %s\n", res[i].hint);
}

void
chk_report_text(void *fp, const struct chk_result res[CHK_COUNT])
{
	FILE *f = fp;

	for (int i = 0; i < CHK_COUNT; i++) {
		const struct chk_result *r = &res[i];

		if (r->outcome == CHK_NOT_RUN) {
			fprintf(f, "%-11s not run\n", chk_name((enum chk_id)i));
			continue;
		}
		fprintf(f, "%-11s %-7s %7.3fs  %s\n", chk_name((enum chk_id)i),
			chk_outcome_name(r->outcome), r->seconds, r->msg);
		if (r->outcome != CHK_FAILED) {
			if (r->warning[0])
				fprintf(f, "                      warning: %s\n", r->warning);
			continue;
		}
		put_lines(f, "                      ", r->detail);
		if (r->hint[0])
			fprintf(f, "                      hint: %s\n", r->hint);
	}
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;

	if (p[0] >= 0xf5)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3/4-byte forms, surrogates, past U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

/* Paths and server texts may hold any bytes: what is not UTF-8 becomes
 * U+FFFD so the output always parses. */
void
chk_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p == '\t') {
			fputs("\\t", f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else if (*p < 0x80) {
			fputc(*p, f);
		} else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", f);
		} else {
			fwrite(p, 1, n, f);
			p += n - 1;
		}
	}
	fputc('"', f);
}

int
chk_report_json(void *fp, const struct chk_result res[CHK_COUNT])
{
	FILE *f = fp;

	fputc('[', f);
	for (int i = 0; i < CHK_COUNT; i++) {
		const struct chk_result *r = &res[i];

		fprintf(f, "%s\n  {\"check\": ", i ? "," : "");
		chk_json_string(f, chk_name((enum chk_id)i));
		fputs(", \"outcome\": ", f);
		chk_json_string(f, chk_outcome_name(r->outcome));
		fputs(", \"reason\": ", f);
		chk_json_string(f, reason_of(r));
		fputs(", \"message\": ", f);
		chk_json_string(f, r->outcome == CHK_NOT_RUN ? "" : r->msg);
		fputs(", \"hint\": ", f);
		chk_json_string(f, r->outcome == CHK_FAILED ? r->hint : "");
		fputs(", \"detail\": ", f);
		chk_json_string(f, r->outcome == CHK_NOT_RUN ? "" : r->detail);
		fputs(", \"warning\": ", f);
		chk_json_string(f, r->outcome == CHK_PASSED ? r->warning : "");
		fprintf(f, ", \"seconds\": %.6f, \"attempts\": %d}",
			r->outcome == CHK_NOT_RUN ? 0.0 : r->seconds, r->attempts);
	}
	fputs("\n]\n", f);
	return ferror(f) ? -EIO : 0;
}
