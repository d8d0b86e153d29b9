/* server_cmd: see server_cmd.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_cmd.h"

bool
server_cmd_is_path(const char *sftp_server)
{
	return sftp_server && strchr(sftp_server, '/');
}

bool
server_cmd_has_prefix(const struct opts *o)
{
	return o->nice || o->ionice || o->nocache;
}

bool
server_cmd_needs_probe(const struct opts *o)
{
	return server_cmd_has_prefix(o) && !server_cmd_is_path(o->sftp_server);
}

const char *
server_cmd_subsystem(const struct opts *o)
{
	if (server_cmd_is_path(o->sftp_server) || server_cmd_has_prefix(o))
		return NULL;
	if (o->sftp_server && o->sftp_server[0])
		return o->sftp_server;
	return "sftp";
}

int
server_cmd_prefix(const struct opts *o, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s%s",
			 o->nice ? "nice -n 19 " : "",
			 o->ionice ? "ionice -c2 -n7 " : "",
			 o->nocache ? "nocache " : "");

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

static bool
shell_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_/.,:=+@%-", c);
}

int
server_cmd_shell_quote(const char *s, char **out)
{
	size_t n = 0, i;
	bool plain = s[0] != '\0';
	char *q, *p;

	for (i = 0; s[i]; i++) {
		if (!shell_safe(s[i]))
			plain = false;
		n += s[i] == '\'' ? 4 : 1;
	}
	if (plain) {
		*out = strdup(s);
		return *out ? 0 : -ENOMEM;
	}
	q = p = malloc(n + 3);
	if (!q)
		return -ENOMEM;
	*p++ = '\'';
	for (i = 0; s[i]; i++) {
		if (s[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = s[i];
		}
	}
	*p++ = '\'';
	*p = '\0';
	*out = q;
	return 0;
}

int
server_cmd_build(const struct opts *o, const char *found, char **out)
{
	char prefix[64], *quoted = NULL;
	const char *server;
	size_t len;
	int r;

	*out = NULL;
	if (server_cmd_subsystem(o))
		return 0;
	r = server_cmd_prefix(o, prefix, sizeof(prefix));
	if (r < 0)
		return r;
	if (server_cmd_is_path(o->sftp_server)) {
		server = o->sftp_server;
	} else {
		if (!found || !found[0])
			return -ENOENT;
		r = server_cmd_shell_quote(found, &quoted);
		if (r < 0)
			return r;
		server = quoted;
	}
	len = strlen(prefix) + strlen(server) + 1;
	*out = malloc(len);
	if (*out)
		snprintf(*out, len, "%s%s", prefix, server);
	free(quoted);
	return *out ? 0 : -ENOMEM;
}
