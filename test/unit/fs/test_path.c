/* Unit tests for fs/path.c: fuse path to remote path, parents, subtrees,
 * rename rebasing, transform_symlinks and option escaping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "tap.h"

static int
str_is(char *got, const char *want)
{
	int ok = got && strcmp(got, want) == 0;

	if (!ok)
		printf("#   got '%s', want '%s'\n", got ? got : "(null)", want);
	free(got);
	return ok;
}

static char *
remote(const char *root, const char *p)
{
	char *o = NULL;

	path_remote(root, p, &o);
	return o;
}

static char *
parent(const char *p)
{
	char *o = NULL;

	path_parent(p, &o);
	return o;
}

static char *
child(const char *p, const char *n)
{
	char *o = NULL;

	path_child(p, n, &o);
	return o;
}

static char *
rebase(const char *p, const char *from, const char *to)
{
	char *o = NULL;

	return path_rebase(p, from, to, &o) == 0 ? o : NULL;
}

static char *
rel(const char *root, const char *link, const char *target)
{
	char *o = NULL;

	if (path_symlink_relative(root, link, target, &o) < 0)
		return strdup("(error)");
	return o ? o : strdup("(unchanged)");
}

static char *
esc(const char *s)
{
	char *o = NULL;

	path_escape_opt(s, &o);
	return o;
}

static void
test_remote(void)
{
	TAP_CHECK(str_is(remote("/base", "/a"), "/base/a"));
	TAP_CHECK(str_is(remote("/base", "/"), "/base"));
	TAP_CHECK(str_is(remote("/", "/a/b"), "/a/b"));
	TAP_CHECK(str_is(remote("/", "/"), "/"));
	TAP_CHECK(str_is(remote("/base/", "/a"), "/base/a"));
	TAP_CHECK(str_is(remote("/base//", "/"), "/base"));
	TAP_CHECK(str_is(remote("/with space", "/x y"), "/with space/x y"));
}

static void
test_parent_child(void)
{
	TAP_CHECK(str_is(parent("/a/b"), "/a"));
	TAP_CHECK(str_is(parent("/a"), "/"));
	TAP_CHECK(str_is(parent("/"), "/"));
	TAP_CHECK(strcmp(path_base("/a/b"), "b") == 0);
	TAP_CHECK(strcmp(path_base("/"), "") == 0);
	TAP_CHECK(str_is(child("/", "x"), "/x"));
	TAP_CHECK(str_is(child("/a", "x"), "/a/x"));
}

static void
test_under_rebase(void)
{
	TAP_CHECK(path_is_under("/a/b", "/a"));
	TAP_CHECK(path_is_under("/a", "/a"));
	TAP_CHECK(!path_is_under("/ab", "/a"));
	TAP_CHECK(!path_is_under("/a", "/a/b"));
	TAP_CHECK(path_is_under("/anything", "/"));
	TAP_CHECK(str_is(rebase("/a/x/y", "/a", "/b"), "/b/x/y"));
	TAP_CHECK(str_is(rebase("/a", "/a", "/b/c"), "/b/c"));
	TAP_CHECK(str_is(rebase("/a/x", "/a", "/"), "/x"));
	TAP_CHECK(rebase("/ab", "/a", "/b") == NULL);
	{
		char *o = (char *)1;

		TAP_EQ_INT(path_rebase("/ab", "/a", "/b", &o), -EINVAL);
		TAP_CHECK(o == NULL);
	}
}

static void
test_symlink_relative(void)
{
	/* sshfs's examples: inside the base, relative to the link's directory */
	TAP_CHECK(str_is(rel("/base", "/link", "/base/other/file"), "other/file"));
	TAP_CHECK(str_is(rel("/base", "/dir/link", "/base/other/file"), "../other/file"));
	TAP_CHECK(str_is(rel("/base", "/a/b/link", "/base/a/c"), "../c"));
	TAP_CHECK(str_is(rel("/base", "/a/link", "/base/a"), "."));
	TAP_CHECK(str_is(rel("/base", "/a/b/link", "/base"), "../.."));
	TAP_CHECK(str_is(rel("/base", "/link", "/base//x/./y/"), "x/y"));
	/* left alone: relative, outside the base, or a prefix that is not a dir */
	TAP_CHECK(str_is(rel("/base", "/link", "rel/x"), "(unchanged)"));
	TAP_CHECK(str_is(rel("/base", "/link", "/etc/passwd"), "(unchanged)"));
	TAP_CHECK(str_is(rel("/base", "/link", "/basement/x"), "(unchanged)"));
	/* a whole-root mount: every absolute target is inside */
	TAP_CHECK(str_is(rel("/", "/usr/link", "/etc/passwd"), "../etc/passwd"));
	TAP_CHECK(str_is(rel("/base/", "/d/link", "/base/d/f"), "f"));
}

static void
test_escapes(void)
{
	TAP_CHECK(path_target_escapes("/etc/passwd"));
	TAP_CHECK(path_target_escapes(".."));
	TAP_CHECK(path_target_escapes("sub/../../etc"));
	TAP_CHECK(path_target_escapes("a//../b"));
	TAP_CHECK(!path_target_escapes("sub/target"));
	TAP_CHECK(!path_target_escapes("./sub/target"));
	TAP_CHECK(!path_target_escapes("..foo/bar.."));
	TAP_CHECK(!path_target_escapes("a/..b"));
}

static void
test_escape(void)
{
	TAP_CHECK(str_is(esc("u@h:/a,b"), "u@h:/a\\,b"));
	TAP_CHECK(str_is(esc("a\\b"), "a\\\\b"));
	TAP_CHECK(str_is(esc("plain"), "plain"));
	TAP_CHECK(str_is(esc(""), ""));
}

int
main(void)
{
	test_remote();
	test_parent_child();
	test_under_rebase();
	test_symlink_relative();
	test_escape();
	test_escapes();
	return tap_done();
}
