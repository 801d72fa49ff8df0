/* core/err.c: filling struct np_err. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

enum np_rc np_err_set(struct np_err *e, enum np_rc rc, const char *fmt, ...)
{
    if (e == NULL)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->rc = rc;
    return rc;
}
