/* hostkey: known_hosts names, hashing against lines ssh-keygen -H wrote,
 * OpenSSH's host patterns, and scanning a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hostkey.h"
#include "tap.h"

#define KEY "AAAAC3NzaC1lZDI1NTE5AAAAIM5+tlQCLq64fehwJdTvvqesaGGdTCBPPbej7DjEf/HP"
#define KEY2 "AAAAC3NzaC1lZDI1NTE5AAAAIJZBSjFNzOlfc4YHoKA+lK1UvlJD4sg1GXWBrhexD9mz"
/* from ssh-keygen -H (OpenSSH 9.2) */
#define HASHED_PORT "|1|BVnXir2uqpjsfL9i1uok+r+1kto=|zGs48n3D2r11xIHY5avqa/wIufg="
#define HASHED_PLAIN "|1|sTCPRJMms+rJEIHOGSCNuRPFpw4=|2gzPHpedEopOBFYozLDhJ4HVuz4="

static void
test_name(void)
{
	char b[64];

	TAP_EQ_INT(hostkey_name("Example.ORG", 22, b, sizeof(b)), 0);
	TAP_CHECK(!strcmp(b, "example.org"));
	TAP_EQ_INT(hostkey_name("host", 0, b, sizeof(b)), 0);
	TAP_CHECK(!strcmp(b, "host"));
	TAP_EQ_INT(hostkey_name("127.0.0.1", 2222, b, sizeof(b)), 0);
	TAP_CHECK(!strcmp(b, "[127.0.0.1]:2222"));
	TAP_EQ_INT(hostkey_name("::1", 2200, b, sizeof(b)), 0);
	TAP_CHECK(!strcmp(b, "[::1]:2200"));
	TAP_EQ_INT(hostkey_name("a-rather-long-host-name.example.org", 2222, b, 20), -ENAMETOOLONG);
}

static void
test_hash(void)
{
	uint8_t salt[20];
	size_t n = 0;
	char out[128];

	sodium_base642bin(salt, sizeof(salt), "BVnXir2uqpjsfL9i1uok+r+1kto=", 28, NULL, &n, NULL,
			  sodium_base64_VARIANT_ORIGINAL);
	TAP_EQ_INT(n, 20);
	TAP_EQ_INT(hostkey_hash_name("[127.0.0.1]:2222", salt, out, sizeof(out)), 0);
	TAP_CHECK(!strcmp(out, HASHED_PORT));
	TAP_CHECK(hostkey_field_matches(HASHED_PORT, "[127.0.0.1]:2222"));
	TAP_CHECK(!hostkey_field_matches(HASHED_PORT, "[127.0.0.1]:2223"));
	TAP_CHECK(!hostkey_field_matches(HASHED_PORT, "127.0.0.1"));
	TAP_CHECK(hostkey_field_matches(HASHED_PLAIN, "example.org"));
	TAP_CHECK(!hostkey_field_matches("|1|garbage|x", "example.org"));
	TAP_CHECK(!hostkey_field_matches("|1|BVnXir2uqpjsfL9i1uok+r+1kto=", "example.org"));
	/* fresh salts differ, and both match */
	{
		char a[128], b[128];

		TAP_EQ_INT(hostkey_hash_name("h", NULL, a, sizeof(a)), 0);
		TAP_EQ_INT(hostkey_hash_name("h", NULL, b, sizeof(b)), 0);
		TAP_CHECK(strcmp(a, b) != 0);
		TAP_CHECK(hostkey_field_matches(a, "h") && hostkey_field_matches(b, "h"));
	}
}

static void
test_patterns(void)
{
	TAP_CHECK(hostkey_field_matches("example.org", "example.org"));
	TAP_CHECK(hostkey_field_matches("EXAMPLE.org", "example.org"));
	TAP_CHECK(hostkey_field_matches("a.org,example.org", "example.org"));
	TAP_CHECK(hostkey_field_matches("*.org", "example.org"));
	TAP_CHECK(hostkey_field_matches("exam?le.org", "example.org"));
	TAP_CHECK(hostkey_field_matches("*", "example.org"));
	TAP_CHECK(!hostkey_field_matches("*.com", "example.org"));
	TAP_CHECK(!hostkey_field_matches("*.org,!example.org", "example.org"));
	TAP_CHECK(!hostkey_field_matches("example.or", "example.org"));
	TAP_CHECK(!hostkey_field_matches("example.orgg", "example.org"));
	/* brackets are literal, not character classes */
	TAP_CHECK(hostkey_field_matches("[127.0.0.1]:2222", "[127.0.0.1]:2222"));
	TAP_CHECK(hostkey_field_matches("[127.0.0.*]:2222", "[127.0.0.1]:2222"));
	TAP_CHECK(!hostkey_field_matches("127.0.0.1", "[127.0.0.1]:2222"));
	TAP_CHECK(!hostkey_field_matches("[127.0.0.1]:2222", "1"));
	TAP_CHECK(hostkey_field_matches("a*b*c", "aXXbYYc"));
	TAP_CHECK(!hostkey_field_matches("a*b*c", "aXXbYY"));
}

static FILE *
text(const char *s)
{
	return fmemopen((void *)s, strlen(s), "r");
}

static void
test_scan(void)
{
	struct hostkey_scan sc;
	FILE *f;

	f = text("# c\n\nother ssh-ed25519 " KEY2 "\n" HASHED_PORT " ssh-ed25519 " KEY " c\n");
	TAP_EQ_INT(hostkey_scan(f, "[127.0.0.1]:2222", "ssh-ed25519", KEY, &sc), 0);
	fclose(f);
	TAP_EQ_INT(sc.same_line, 4);
	TAP_EQ_INT(sc.changed_line, 0);
	TAP_EQ_INT(sc.lines, 4);
	TAP_CHECK(!sc.ends_without_newline);

	f = text("[127.0.0.1]:2222 ssh-ed25519 " KEY2 "\n[127.0.0.1]:2222 ssh-rsa AAAA");
	TAP_EQ_INT(hostkey_scan(f, "[127.0.0.1]:2222", "ssh-ed25519", KEY, &sc), 0);
	fclose(f);
	TAP_EQ_INT(sc.same_line, 0);
	TAP_EQ_INT(sc.changed_line, 1);	/* another key of the same type */
	TAP_CHECK(sc.ends_without_newline);

	f = text("@revoked * ssh-ed25519 " KEY "\n@cert-authority *.org ssh-ed25519 " KEY "\n");
	TAP_EQ_INT(hostkey_scan(f, "example.org", "ssh-ed25519", KEY, &sc), 0);
	fclose(f);
	TAP_EQ_INT(sc.revoked_line, 1);
	TAP_EQ_INT(sc.same_line, 0);	/* a CA line is not the host's key */

	f = text("example.org ssh-ed25519\nexample.org\n  \t\n");	/* short lines */
	TAP_EQ_INT(hostkey_scan(f, "example.org", "ssh-ed25519", KEY, &sc), 0);
	fclose(f);
	TAP_EQ_INT(sc.same_line + sc.changed_line + sc.revoked_line, 0);
}

static void
test_line(void)
{
	char *l = NULL;

	TAP_EQ_INT(hostkey_format_line("[h]:2", false, "ssh-ed25519", KEY, &l), 0);
	TAP_CHECK(l && !strcmp(l, "[h]:2 ssh-ed25519 " KEY));
	free(l);
	TAP_EQ_INT(hostkey_format_line("[h]:2", true, "ssh-ed25519", KEY, &l), 0);
	TAP_CHECK(l && !strncmp(l, "|1|", 3) && strstr(l, " ssh-ed25519 " KEY));
	if (l) {
		*strchr(l, ' ') = '\0';
		TAP_CHECK(hostkey_field_matches(l, "[h]:2"));
	}
	free(l);
}

int
main(void)
{
	TAP_CHECK(sodium_init() >= 0);
	test_name();
	test_hash();
	test_patterns();
	test_scan();
	test_line();
	return tap_done();
}
