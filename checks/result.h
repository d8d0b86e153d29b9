/* result: filling struct chk_result (checks.h) the same way in every check.
 *
 * Every check starts its result with chk_res_begin(), which stamps the
 * start time, and ends it with exactly one of chk_res_pass(),
 * chk_res_fail() or chk_res_skip(), which stamp the elapsed time. Messages
 * are printf formats, truncated to the result's buffers (never overflow).
 * Thread: any; a result belongs to one thread.
 */
#ifndef SSHMOUNTFS_CHECKS_RESULT_H
#define SSHMOUNTFS_CHECKS_RESULT_H

#include "checks.h"

/* Clears *r, sets its id and remembers the start time in r->seconds (as a
 * negative timestamp until the result is finished). */
void chk_res_begin(struct chk_result *r, enum chk_id id);

/* Passed; msg says what was found ("created /srv/x", "cipher aes128-ctr"). */
void chk_res_pass(struct chk_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Failed with a reason code and its stable name, a hint (may be NULL or "")
 * and a message. */
void chk_res_fail(struct chk_result *r, int reason, const char *reason_name,
		  const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Skipped (the transport or an option makes the check meaningless). */
void chk_res_skip(struct chk_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* names[reason] when 0 <= reason < count and set, else "unknown": the
 * body of every check's *_reason_name(). */
const char *chk_reason_lookup(const char *const *names, int count, int reason);

#endif
