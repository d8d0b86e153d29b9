/* randid: see randid.h. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "randid.h"

int
randid_make(char *buf, size_t buflen, size_t size, const char *chars)
{
	size_t nchars;

	if (!chars)
		chars = RANDID_CHARS;
	nchars = strlen(chars);
	if (nchars == 0 || nchars > 256 || buflen <= size)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	/* randombytes_uniform() avoids the modulo bias of "random % n". */
	for (size_t i = 0; i < size; i++)
		buf[i] = chars[randombytes_uniform((uint32_t)nchars)];
	buf[size] = '\0';
	return 0;
}
