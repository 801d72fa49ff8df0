/* core/log.c: warnings to standard error. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

void np_log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("netpeek: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
