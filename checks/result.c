/* result: see result.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "result.h"
#include "util.h"

void
chk_res_begin(struct chk_result *r, enum chk_id id)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->outcome = CHK_NOT_RUN;
	r->reason_name = "";
	/* The start time hides in 'seconds' until the check finishes, so the
	 * struct of the contract needs no extra field. */
	r->seconds = -util_now_s();
}

static void
finish(struct chk_result *r, enum chk_outcome oc)
{
	r->outcome = oc;
	if (r->seconds <= 0)
		r->seconds = util_now_s() + r->seconds;
	if (r->seconds < 0)
		r->seconds = 0;
}

static void
vfinish(struct chk_result *r, enum chk_outcome oc, const char *fmt, va_list ap)
{
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	if (oc != CHK_FAILED) {
		r->reason = 0;
		r->reason_name = oc == CHK_PASSED ? "ok" : "skipped";
		r->hint[0] = '\0';
	}
	finish(r, oc);
}

void
chk_res_pass(struct chk_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinish(r, CHK_PASSED, fmt, ap);
	va_end(ap);
}

void
chk_res_skip(struct chk_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinish(r, CHK_SKIPPED, fmt, ap);
	va_end(ap);
}

void
chk_res_fail(struct chk_result *r, int reason, const char *reason_name,
	     const char *hint, const char *fmt, ...)
{
	va_list ap;

	r->reason = reason;
	r->reason_name = reason_name ? reason_name : "failed";
	snprintf(r->hint, sizeof(r->hint), "%s", hint ? hint : "");
	va_start(ap, fmt);
	vfinish(r, CHK_FAILED, fmt, ap);
	va_end(ap);
}

const char *
chk_reason_lookup(const char *const *names, int count, int reason)
{
	if (reason < 0 || reason >= count || !names[reason])
		return "unknown";
	return names[reason];
}
