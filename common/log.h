/* common/log.h - one logging call for the whole program.
 *
 * The CLI logs to stderr; the daemon logs to stderr in the foreground and to
 * syslog otherwise.  Messages are one line each, without a trailing newline. */
#ifndef SIEVEFS_COMMON_LOG_H
#define SIEVEFS_COMMON_LOG_H

enum cm_log_level { CM_LOG_ERR, CM_LOG_WARN, CM_LOG_INFO, CM_LOG_DEBUG };

/* ident is borrowed for the life of the program.  use_syslog selects the sink;
 * debug enables CM_LOG_DEBUG messages. */
void cm_log_init(const char *ident, int use_syslog, int debug);
int cm_log_debug_enabled(void);
void cm_log(enum cm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A progress line on stderr ("\r" text, cleared to the end of the line),
 * rewritten in place by the next call; a message logged meanwhile erases
 * it first.  NULL erases it.  Callers show one only on a terminal. */
void cm_log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define cm_err(...) cm_log(CM_LOG_ERR, __VA_ARGS__)
#define cm_warn(...) cm_log(CM_LOG_WARN, __VA_ARGS__)
#define cm_info(...) cm_log(CM_LOG_INFO, __VA_ARGS__)
#define cm_debug(...)                                                          \
	do {                                                                   \
		if (cm_log_debug_enabled())                                    \
			cm_log(CM_LOG_DEBUG, __VA_ARGS__);                     \
	} while (0)

#endif
