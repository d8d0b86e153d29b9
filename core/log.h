/* log: messages for people, to stderr in the foreground and to syslog once
 * the daemon has detached.
 *
 * The logger is the one piece of process-wide state outside main()'s context:
 * libssh's log callback and signal-free library code have no context pointer
 * to carry it, so it lives here behind a mutex-free, set-once-then-read API.
 * log_init() and log_to_syslog() are called by main() before any thread
 * starts; log_msg() is safe from any thread afterwards.
 */
#ifndef SSHMOUNTFS_LOG_H
#define SSHMOUNTFS_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,	/* something failed; always shown */
	LOG_LVL_WARN = 1,	/* something is off but we carry on */
	LOG_LVL_INFO = 2,	/* one line per notable event (default) */
	LOG_LVL_DEBUG = 3,	/* -d / LogLevel=DEBUG: request traces */
};

/* Sets the program name printed before each message ("sshmountfs: ...")
 * and the threshold, and routes libssh's log lines here (at DEBUG only).
 * 'prog' must outlive the process (a literal). Without log_init() the
 * defaults are "sshmountfs" and LOG_LVL_INFO. */
void log_init(const char *prog, enum log_level level);

/* From now on messages go to syslog (LOG_DAEMON) instead of stderr. */
void log_to_syslog(void);

/* Current threshold; callers use it to skip building costly messages. */
enum log_level log_level(void);

/* Parses an OpenSSH LogLevel name (QUIET, FATAL, ERROR, INFO, VERBOSE,
 * DEBUG, DEBUG1-3; case-insensitive). Returns 0 and sets *out, or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);

/* Prints "prog: message" when level <= threshold. No trailing newline
 * needed (trailing newlines are dropped); control characters are shown as
 * '?'. Each line is one write(2), so threads do not interleave inside a
 * line. Never prints secrets: callers must not pass them. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A continuation line: like log_msg() but without the "prog: " prefix on
 * stderr (for "  hint" lines under a message). */
void log_cont(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The libssh verbosity (SSH_LOG_*) matching the threshold: NOLOG unless
 * DEBUG, where libssh's protocol-level lines are shown (prefixed "libssh:").
 * log_init() installs the libssh log callback and sets this level globally;
 * sshc applies it to each session too. */
int log_libssh_verbosity(void);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
