/* folder: the remote root from home and path (pure part). */
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "folder.h"
#include "tap.h"

static int
is(const char *home, const char *path, const char *want)
{
	char *got = NULL;
	int ok = chk_root_path(home, path, &got) == 0 && got && strcmp(got, want) == 0;

	if (!ok)
		printf("# root(%s, %s) = %s, want %s\n", home ? home : "NULL",
		       path ? path : "NULL", got ? got : "(error)", want);
	free(got);
	return ok;
}

int
main(void)
{
	char *s = NULL;

	TAP_CHECK(is("/home/u", NULL, "/home/u"));
	TAP_CHECK(is("/home/u", "", "/home/u"));
	TAP_CHECK(is("/home/u", ".", "/home/u"));
	TAP_CHECK(is("/home/u", "./", "/home/u"));
	TAP_CHECK(is("/home/u", "~", "/home/u"));
	TAP_CHECK(is("/home/u/", "~/backups/", "/home/u/backups"));
	TAP_CHECK(is("/home/u", "./a//b/", "/home/u/a/b"));
	TAP_CHECK(is("/", "x", "/x"));
	TAP_CHECK(is("/", "", "/"));
	TAP_CHECK(is(NULL, "/srv//data/", "/srv/data"));
	TAP_CHECK(is(NULL, "/", "/"));
	TAP_CHECK(is("/home/u", "~other", "/home/u/~other"));
	TAP_CHECK(chk_root_needs_home(NULL));
	TAP_CHECK(chk_root_needs_home("rel"));
	TAP_CHECK(!chk_root_needs_home("/abs"));
	TAP_EQ_INT(chk_root_path(NULL, "rel", &s), -EINVAL);
	TAP_EQ_INT(chk_root_path("relative-home", "x", &s), -EINVAL);
	return tap_done();
}
