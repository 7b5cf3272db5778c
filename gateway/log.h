/*
 * Levelled logging to stderr or syslog. Levels are syslog's LOG_ERR ...
 * LOG_DEBUG. log_open() may be called again on reload.
 */
#ifndef CLUSTERGATE_LOG_H
#define CLUSTERGATE_LOG_H

#include <syslog.h>

void log_open(const char *ident, int level, int use_syslog);
void log_set_level(int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
