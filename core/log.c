/* log: stderr in the foreground, syslog once detached; libssh's own log
 * lines are routed here too. See log.h for the contract. */
#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>

#include "util.h"

/* The one process-wide state outside main()'s context (see log.h): set
 * before threads start, only read afterwards. */
static struct {
	const char *prog;
	enum log_level level;
	bool syslog;
} g_log = { "sshmountfs", LOG_LVL_INFO, false };

/* A line is built in one buffer and written with one write(2), so lines
 * from several threads never interleave inside a line. */
#define LOG_LINE_MAX 2048

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERROR:
		return LOG_ERR;
	case LOG_LVL_WARN:
		return LOG_WARNING;
	case LOG_LVL_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* Control characters from remote text (banners, server messages) must not
 * reach the terminal: they are shown as '?'. Newlines inside a message are
 * kept for multi-line messages written on purpose. */
static void
sanitize(char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			*s = '?';
	}
}

static void
emit(enum log_level level, bool prefixed, const char *text)
{
	char line[LOG_LINE_MAX];
	size_t n;
	int k;

	if (g_log.syslog) {
		syslog(syslog_priority(level), "%s", text);
		return;
	}
	if (prefixed)
		k = snprintf(line, sizeof(line) - 1, "%s: %s", g_log.prog, text);
	else
		k = snprintf(line, sizeof(line) - 1, "%s", text);
	if (k < 0)
		return;
	n = (size_t)k < sizeof(line) - 1 ? (size_t)k : sizeof(line) - 2;
	line[n++] = '\n';
	/* Nowhere to report a failed log write. */
	(void)util_write_all(STDERR_FILENO, line, n);
}

static void
vlog_common(enum log_level level, bool prefixed, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];
	size_t n;

	if (level > g_log.level)
		return;
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		return;
	n = strlen(text);
	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	sanitize(text);
	emit(level, prefixed, text);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_common(level, true, fmt, ap);
	va_end(ap);
}

void
log_cont(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_common(level, false, fmt, ap);
	va_end(ap);
}

/* libssh's lines are for developers: its WARN level carries routine events
 * ("Socket connection callback"), and every failure that matters to a user
 * is reported by sshc with context. So all of them go out at DEBUG. */
static void
libssh_log_cb(int priority, const char *function, const char *buffer, void *userdata)
{
	(void)priority;
	(void)userdata;
	if (g_log.level < LOG_LVL_DEBUG)
		return;
	log_msg(LOG_LVL_DEBUG, "libssh: %s: %s", function ? function : "?",
		buffer ? buffer : "");
}

int
log_libssh_verbosity(void)
{
	return g_log.level >= LOG_LVL_DEBUG ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
}

void
log_init(const char *prog, enum log_level level)
{
	if (prog != NULL && prog[0] != '\0')
		g_log.prog = prog;
	g_log.level = level;
	ssh_set_log_callback(libssh_log_cb);
	ssh_set_log_level(log_libssh_verbosity());
}

void
log_to_syslog(void)
{
	openlog(g_log.prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	g_log.syslog = true;
}

enum log_level
log_level(void)
{
	return g_log.level;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} tab[] = {
		{ "QUIET", LOG_LVL_ERROR },
		{ "FATAL", LOG_LVL_ERROR },
		{ "ERROR", LOG_LVL_ERROR },
		{ "INFO", LOG_LVL_INFO },
		{ "VERBOSE", LOG_LVL_INFO },
		{ "DEBUG", LOG_LVL_DEBUG },
		{ "DEBUG1", LOG_LVL_DEBUG },
		{ "DEBUG2", LOG_LVL_DEBUG },
		{ "DEBUG3", LOG_LVL_DEBUG },
	};

	if (name == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcasecmp(name, tab[i].name) == 0) {
			*out = tab[i].level;
			return 0;
		}
	}
	return -EINVAL;
}
