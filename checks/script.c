/* script: see script.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "server_cmd.h"

const char *const chk_sftp_server_paths[] = {
	"/usr/lib/openssh/sftp-server",		/* Debian, Ubuntu */
	"/usr/libexec/openssh/sftp-server",	/* Fedora, RHEL, SUSE */
	"/usr/lib/ssh/sftp-server",		/* Arch, Alpine */
	"/usr/libexec/sftp-server",		/* BSDs, macOS */
	NULL,
};

int
chk_probe_add(struct chk_probe *p, enum chk_probe_kind kind, const char *name,
	      const char *run, const char *why, bool required)
{
	struct chk_probe_item *it = realloc(p->items, (p->n + 1) * sizeof(*it));

	if (!it)
		return -ENOMEM;
	p->items = it;
	it = &p->items[p->n];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->why = why;
	it->required = required;
	it->name = strdup(name);
	it->run = run ? strdup(run) : NULL;
	if (!it->name || (run && !it->run)) {
		free(it->name);
		free(it->run);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

void
chk_probe_free(struct chk_probe *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].name);
		free(p->items[i].run);
	}
	free(p->items);
	memset(p, 0, sizeof(*p));
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 200)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* The first word of an sftp_server= command ("/usr/bin/sudo" of
 * "/usr/bin/sudo /usr/lib/openssh/sftp-server"). */
static int
first_word(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, " \t");

	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

static int
add_server(const struct opts *o, struct chk_probe *p)
{
	char path[256];

	if (server_cmd_is_path(o->sftp_server)) {
		if (first_word(o->sftp_server, path, sizeof(path)) < 0)
			return -EINVAL;
		return chk_probe_add(p, CHK_PROBE_EXEC, path, NULL, "sftp_server=", true);
	}
	return chk_probe_add(p, CHK_PROBE_SERVER, "sftp-server", NULL,
			     "the SFTP server", server_cmd_needs_probe(o));
}

static int
add_prefixes(const struct opts *o, struct chk_probe *p)
{
	int r = 0;

	if (o->nice)
		r = chk_probe_add(p, CHK_PROBE_RUN, "nice", "nice -n 19 true", "-o nice", true);
	if (r == 0 && o->ionice)
		r = chk_probe_add(p, CHK_PROBE_RUN, "ionice", "ionice -c2 -n7 true", "-o ionice", true);
	if (r == 0 && o->nocache)
		r = chk_probe_add(p, CHK_PROBE_RUN, "nocache", "nocache true", "-o nocache", true);
	return r;
}

int
chk_probe_build(const struct opts *o, bool with_user_list,
		struct chk_probe *p, char *err, size_t errlen)
{
	int r;

	memset(p, 0, sizeof(*p));
	r = add_server(o, p);
	if (r == -EINVAL)
		snprintf(err, errlen, "sftp_server=%s: cannot tell the program from its arguments",
			 o->sftp_server);
	if (r == 0)
		r = add_prefixes(o, p);
	for (size_t i = 0; r == 0 && with_user_list && i < o->check_commands.n; i++) {
		const char *name = o->check_commands.v[i];

		if (!name_ok(name)) {
			snprintf(err, errlen, "check_commands: \"%.200s\" is not a command name", name);
			r = -EINVAL;
			break;
		}
		r = chk_probe_add(p, CHK_PROBE_CMD, name, NULL, "check_commands", true);
	}
	if (r < 0)
		chk_probe_free(p);
	return r;
}

/* The script grows in a FILE of memory: open_memstream keeps the code
 * short and has no length to get wrong. */
static int
put_item(FILE *f, size_t i, const struct chk_probe_item *it)
{
	char *q = NULL;
	int r = server_cmd_shell_quote(it->name, &q);

	if (r < 0)
		return r;
	switch (it->kind) {
	case CHK_PROBE_CMD:
		fprintf(f, "if p=$(command -v %s 2>/dev/null); then say %zu ok \"$p\"; "
			   "else say %zu missing; fi\n", q, i, i);
		break;
	case CHK_PROBE_RUN:
		fprintf(f, "if command -v %s >/dev/null 2>&1; then run %zu %s; "
			   "else say %zu missing; fi\n", q, i, it->run, i);
		break;
	case CHK_PROBE_EXEC:
		fprintf(f, "if [ -f %s ] && [ -x %s ]; then say %zu ok %s; "
			   "else say %zu missing; fi\n", q, q, i, q, i);
		break;
	case CHK_PROBE_SERVER:
		fprintf(f, "s=\nfor c in");
		for (size_t k = 0; chk_sftp_server_paths[k]; k++)
			fprintf(f, " %s", chk_sftp_server_paths[k]);
		fprintf(f, "; do if [ -z \"$s\" ] && [ -f \"$c\" ] && [ -x \"$c\" ]; then s=$c; fi; done\n"
			   "[ -n \"$s\" ] || s=$(command -v sftp-server 2>/dev/null)\n"
			   "if [ -n \"$s\" ]; then say %zu ok \"$s\"; else say %zu missing; fi\n", i, i);
		break;
	}
	free(q);
	return 0;
}

int
chk_probe_script(const struct chk_probe *p, char **out)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	int r = 0;

	if (!f)
		return -ENOMEM;
	fputs("# sshmountfs: remote command probe\n"
	      "say() { echo \"SMCHK $*\"; }\n"
	      "run() { n=$1; shift; if \"$@\" >/dev/null 2>&1 </dev/null; "
	      "then say \"$n\" ok; else say \"$n\" fail $?; fi; }\n", f);
	for (size_t i = 0; i < p->n && r == 0; i++)
		r = put_item(f, i, &p->items[i]);
	fputs("say end\n", f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}

/* Keeps what a hostile or broken remote prints from reaching a terminal. */
static void
copy_printable(char *dst, size_t dlen, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < dlen; i++)
		dst[k++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	dst[k] = '\0';
}

static void
parse_line(struct chk_probe *p, const char *s, size_t n)
{
	struct chk_probe_item *it;
	const char *rest;
	unsigned long idx;
	char *end;

	while (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 9 && memcmp(s, "SMCHK end", 9) == 0) {
		p->ended = true;
		return;
	}
	if (n < 7 || memcmp(s, "SMCHK ", 6) != 0 || s[6] < '0' || s[6] > '9')
		return;
	idx = strtoul(s + 6, &end, 10);
	if (*end != ' ' || idx >= p->n)
		return;
	it = &p->items[idx];
	rest = end + 1;
	n -= (size_t)(rest - s);
	if (n >= 2 && memcmp(rest, "ok", 2) == 0 && (n == 2 || rest[2] == ' ')) {
		it->state = CHK_PROBE_OK;
		if (n > 3)
			copy_printable(it->detail, sizeof(it->detail), rest + 3, n - 3);
	} else if (n == 7 && memcmp(rest, "missing", 7) == 0) {
		it->state = CHK_PROBE_MISSING;
	} else if (n > 5 && memcmp(rest, "fail ", 5) == 0) {
		it->state = CHK_PROBE_FAIL;
		it->status = (int)strtol(rest + 5, NULL, 10);
	}
}

int
chk_probe_parse(struct chk_probe *p, const char *output)
{
	const char *s = output, *nl;

	p->ended = false;
	while (s && *s) {
		nl = strchr(s, '\n');
		parse_line(p, s, nl ? (size_t)(nl - s) : strlen(s));
		s = nl ? nl + 1 : NULL;
	}
	return p->ended ? 0 : -EPROTO;
}

const struct chk_probe_item *
chk_probe_server(const struct chk_probe *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].kind == CHK_PROBE_SERVER || p->items[i].kind == CHK_PROBE_EXEC)
			return &p->items[i];
	return NULL;
}
