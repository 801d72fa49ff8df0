/* core/log.h: one-line messages to standard error, for the slow path only.
 *
 * Never called per packet. The program name prefixes every line. */
#ifndef NP_CORE_LOG_H
#define NP_CORE_LOG_H

void np_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
