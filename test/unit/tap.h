/* tap.h: a minimal TAP producer for the C unit tests (meson protocol: 'tap').
 *
 *   TAP_CHECK(expr)            one test point; prints the expression on failure
 *   TAP_EQ_INT(a, b)           integer equality with both values shown
 *   return tap_done();         prints the plan and returns the exit status
 *
 * Header-only on purpose: every unit test is one .c file plus this.
 */
#ifndef SSHMOUNTFS_TAP_H
#define SSHMOUNTFS_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

static inline void tap_point(int ok, const char *what, const char *file, int line)
{
	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - %s", ok ? "" : "not ", tap_n, what);
	if (!ok)
		printf(" (%s:%d)", file, line);
	printf("\n");
}

#define TAP_CHECK(expr) tap_point(!!(expr), #expr, __FILE__, __LINE__)
#define TAP_EQ_INT(a, b) do { \
	long long tap_a_ = (long long)(a), tap_b_ = (long long)(b); \
	tap_point(tap_a_ == tap_b_, #a " == " #b, __FILE__, __LINE__); \
	if (tap_a_ != tap_b_) printf("#   got %lld, want %lld\n", tap_a_, tap_b_); \
} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
