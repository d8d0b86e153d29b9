/* hostkey: known_hosts lines as OpenSSH reads them.
 *
 * A host is recorded as "host" on port 22 and "[host]:port" otherwise,
 * lowercased. With hashing (HashKnownHosts) the name becomes
 * "|1|base64(salt)|base64(HMAC-SHA1(salt, name))" with a random 20-byte
 * salt. A line's host field is a comma-separated list of patterns ('*', '?',
 * '!' for negation) or one hashed name; optional markers (@revoked,
 * @cert-authority) come first.
 *
 * Thread: reentrant. Errors: 0 or a negative errno.
 */
#ifndef SSHMOUNTFS_TOOLS_HOSTKEY_H
#define SSHMOUNTFS_TOOLS_HOSTKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HOSTKEY_SALT_LEN 20

/* The name a host is recorded under. -ENAMETOOLONG when out is short. */
int hostkey_name(const char *host, int port, char *out, size_t len);

/* The hashed form of name; salt NULL = a fresh random salt. */
int hostkey_hash_name(const char *name, const uint8_t salt[HOSTKEY_SALT_LEN],
		      char *out, size_t len);

/* True when the host field of a line names 'name' (from hostkey_name):
 * a hashed name that hashes equal, or a pattern that matches with no
 * negated pattern matching. */
bool hostkey_field_matches(const char *field, const char *name);

/* "NAME TYPE BASE64" (name hashed when hash), heap, no newline. */
int hostkey_format_line(const char *name, bool hash, const char *type, const char *b64,
			char **out);

/* What a known_hosts file already says about name + key. Line numbers
 * count from 1; 0 means none. */
struct hostkey_scan {
	int same_line;		/* a line for this host with this very key */
	int changed_line;	/* a line for this host with another key of the same type */
	int revoked_line;	/* an @revoked line for this key */
	int lines;		/* lines read */
	bool ends_without_newline; /* the last line lacks its '\n' */
};

/* Reads f to the end. 0, -ENOMEM, -EIO. */
int hostkey_scan(FILE *f, const char *name, const char *type, const char *b64,
		 struct hostkey_scan *out);

#endif
