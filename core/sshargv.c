/* sshargv: see sshargv.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshargv.h"

int
sshargv_add(struct sshargv *a, const char *s)
{
	char **v = realloc(a->v, (a->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	a->v = v;
	v[a->n] = strdup(s);
	if (!v[a->n]) {
		v[a->n] = NULL;
		return -ENOMEM;
	}
	v[++a->n] = NULL;
	return 0;
}

void
sshargv_free(struct sshargv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int
sshargv_split(const char *s, struct sshargv *a)
{
	size_t len = strlen(s), w = 0;
	char *word = malloc(len + 1);
	bool in_word = false;
	size_t before = a->n;
	int r = 0;

	if (!word)
		return -ENOMEM;
	for (size_t i = 0; i <= len && r == 0; i++) {
		if (s[i] == ' ' || s[i] == '\0') {
			if (in_word) {
				word[w] = '\0';
				r = sshargv_add(a, word);
			}
			in_word = false;
			w = 0;
			continue;
		}
		if (s[i] == '\\') {
			if (s[i + 1] == '\0') {
				r = -EINVAL;
				break;
			}
			i++;
		}
		word[w++] = s[i];
		in_word = true;
	}
	free(word);
	if (r == 0 && a->n == before)
		r = -EINVAL;
	return r;
}

static int
addf(struct sshargv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
addf(struct sshargv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = sshargv_add(a, s);
	free(s);
	return r;
}

static const char *
hostkey_word(enum opts_hostkey_policy p)
{
	switch (p) {
	case OPTS_HOSTKEY_ACCEPT_NEW:
		return "accept-new";
	case OPTS_HOSTKEY_NO:
		return "no";
	default:
		return "yes";
	}
}

/* The mount's ssh options, as ssh itself spells them. */
static int
add_ssh_options(const struct opts *o, struct sshargv *a)
{
	int r = 0;

	if (o->port > 0)
		r = r ?: addf(a, "-oPort=%d", o->port);
	if (o->compression)
		r = r ?: sshargv_add(a, "-oCompression=yes");
	if (o->ssh_config)
		r = r ?: addf(a, "-F%s", o->ssh_config);
	for (size_t i = 0; i < o->identity_files.n; i++)
		r = r ?: addf(a, "-oIdentityFile=%s", o->identity_files.v[i]);
	if (o->ciphers)
		r = r ?: addf(a, "-oCiphers=%s", o->ciphers);
	if (o->known_hosts)
		r = r ?: addf(a, "-oUserKnownHostsFile=%s", o->known_hosts);
	if (o->hostkey_policy_set)
		r = r ?: addf(a, "-oStrictHostKeyChecking=%s", hostkey_word(o->hostkey_policy));
	if (o->server_alive_interval > 0)
		r = r ?: addf(a, "-oServerAliveInterval=%d", o->server_alive_interval);
	if (o->server_alive_interval > 0 && o->server_alive_count_max > 0)
		r = r ?: addf(a, "-oServerAliveCountMax=%d", o->server_alive_count_max);
	if (o->connect_timeout > 0)
		r = r ?: addf(a, "-oConnectTimeout=%d", o->connect_timeout);
	if (o->proxy_command)
		r = r ?: addf(a, "-oProxyCommand=%s", o->proxy_command);
	if (o->proxy_jump)
		r = r ?: addf(a, "-oProxyJump=%s", o->proxy_jump);
	if (o->batch_mode)
		r = r ?: sshargv_add(a, "-oBatchMode=yes");
	for (size_t i = 0; i < o->ssh_passthrough.n; i++)
		r = r ?: addf(a, "-o%s", o->ssh_passthrough.v[i]);
	return r;
}

int
sshargv_for_command(const struct opts *o, const char *subsystem,
		     const char *server_cmd, struct sshargv *a)
{
	int r;

	if (!o->ssh_command || !o->host)
		return -EINVAL;
	r = sshargv_split(o->ssh_command, a);
	if (r == 0)
		r = sshargv_add(a, "-x");
	if (r == 0)
		r = sshargv_add(a, "-a");
	if (r == 0)
		r = sshargv_add(a, "-oClearAllForwardings=yes");
	if (r == 0)
		r = add_ssh_options(o, a);
	if (r == 0 && !server_cmd)
		r = sshargv_add(a, "-s");
	if (r == 0)
		r = sshargv_add(a, "--");
	if (r == 0 && o->user)
		r = addf(a, "%s@%s", o->user, o->host);
	else if (r == 0)
		r = sshargv_add(a, o->host);
	if (r == 0)
		r = sshargv_add(a, server_cmd ? server_cmd : subsystem ? subsystem : "sftp");
	if (r < 0)
		sshargv_free(a);
	return r;
}
