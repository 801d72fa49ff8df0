/* core/err.h: return codes and the one-line error a user may see.
 *
 * Slow-path failures return enum np_rc and, where a user may see it, write
 * one line into a caller-supplied struct np_err. Only cli/ prints it.
 */
#ifndef NP_CORE_ERR_H
#define NP_CORE_ERR_H

#include <stdbool.h>

enum np_rc {
    NP_OK = 0,
    NP_EOF,       /* a source has no more packets */
    NP_ERR_USAGE, /* the user asked for something impossible: exit 2 */
    NP_ERR_IO,    /* a file, interface or socket failed */
    NP_ERR_NOMEM,
    NP_ERR_LIMIT, /* a configured bound was reached */
};

struct np_err {
    enum np_rc rc;
    char msg[512];
};

/* Writes one line (no newline) into e, which may be NULL; returns rc. */
enum np_rc np_err_set(struct np_err *e, enum np_rc rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* NP_ALWAYS(x): asserts in debug builds, still evaluated and tested in release. */
#ifdef NDEBUG
#define NP_ALWAYS(x) (!!(x))
#else
#include <assert.h>
#define NP_ALWAYS(x) (assert(x), 1)
#endif

#endif
