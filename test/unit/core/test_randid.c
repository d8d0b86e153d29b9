/* randid: the seed's randomId from libsodium. */
#include <errno.h>
#include <string.h>

#include "randid.h"
#include "tap.h"

int
main(void)
{
	char buf[64];
	int seen[256] = { 0 }, bad = 0, distinct = 0;
	char first[8] = "";

	TAP_EQ_INT(randid_make(buf, sizeof(buf), RANDID_SIZE, NULL), 0);
	TAP_EQ_INT(strlen(buf), 6);
	/* 2000 ids: every character from the set, and every set member seen. */
	for (int i = 0; i < 2000; i++) {
		if (randid_make(buf, sizeof(buf), 6, NULL) < 0)
			bad++;
		for (int k = 0; k < 6; k++) {
			if (!strchr(RANDID_CHARS, buf[k]))
				bad++;
			seen[(unsigned char)buf[k]]++;
		}
		if (i == 0)
			memcpy(first, buf, 7);
		else if (strcmp(first, buf) != 0)
			distinct++;
	}
	TAP_EQ_INT(bad, 0);
	{
		int members = 0;

		for (const char *c = RANDID_CHARS; *c; c++)
			members += seen[(unsigned char)*c] > 0;
		TAP_EQ_INT(members, 36);
	}
	TAP_CHECK(distinct >= 1990);
	TAP_EQ_INT(randid_make(buf, sizeof(buf), 10, "ab"), 0);
	TAP_EQ_INT(strspn(buf, "ab"), 10);
	TAP_EQ_INT(randid_make(buf, 4, 6, NULL), -EINVAL);
	TAP_EQ_INT(randid_make(buf, sizeof(buf), 6, ""), -EINVAL);
	TAP_EQ_INT(randid_make(buf, sizeof(buf), 0, NULL), 0);
	TAP_EQ_INT(strlen(buf), 0);
	return tap_done();
}
