/* common/log.c - stderr/syslog sink behind cm_log().  Each message is written
 * with a single write so lines from several threads do not interleave. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include "common/log.h"

static const char *log_ident = "sievefs";
static int log_syslog;
static int log_debug;
static int progress_shown; /* a progress line is on stderr; atomic */

void cm_log_init(const char *ident, int use_syslog, int debug)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_debug = debug;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int cm_log_debug_enabled(void)
{
	return log_debug;
}

void cm_log(enum cm_log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
		va_end(ap);
		return;
	}
	n = 0;
	if (__atomic_exchange_n(&progress_shown, 0, __ATOMIC_RELAXED))
		n = snprintf(line, sizeof(line), "\r\033[K");
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", log_ident);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void cm_log_progress(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "\r");

	if (fmt) {
		va_start(ap, fmt);
		n += vsnprintf(line + n, sizeof(line) - (size_t)n - 4, fmt, ap);
		va_end(ap);
		if ((size_t)n > sizeof(line) - 4)
			n = (int)sizeof(line) - 4;
	}
	n += snprintf(line + n, sizeof(line) - (size_t)n, "\033[K");
	__atomic_store_n(&progress_shown, fmt != NULL, __ATOMIC_RELAXED);
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
