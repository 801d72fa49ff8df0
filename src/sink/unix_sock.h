/* sink/unix_sock.h: a small request/answer server on a UNIX stream socket.
 *
 * A client connects, sends one line ending in LF (a CR before it is
 * dropped; a line cut by the client's shutdown of its sending side counts
 * too), gets the bytes the line callback answers, and the connection is
 * closed. Everything is non-blocking and driven by np_unix_sock_serve(),
 * which the owner calls from its own loop (with a timeout of 0 from a
 * capture loop): nothing a client does can block the caller. Bounds:
 *
 *   max_conns        connections at once; a connection beyond them takes
 *                    the place of the oldest one, which is read once more
 *                    (its line may have come since the last poll) and, if
 *                    that does not finish it, closed (counted): clients that
 *                    connect and say nothing cannot keep others out;
 *   max_line_bytes   bytes of the request line with its line end; a longer
 *                    line closes the connection without an answer (counted);
 *   conn_timeout_ms  from accept to the last byte of the answer; a client
 *                    that sends nothing, or does not read, is closed then;
 *   max_reply_bytes  an answer longer than this is not sent (counted).
 *
 * Creation makes the socket's directory (mode 0755, whatever the umask;
 * given to uid/gid when it is made) if missing, replaces a stale socket
 * left by a crash (one nobody answers on), refuses a path where a live
 * process answers or that is not a socket, sets the mode and owner.
 * Destruction closes every connection and removes the socket file if it is
 * still the one created and the process may (np_unix_sock_removable()).
 * Owned by one thread.
 */
#ifndef NP_SINK_UNIX_SOCK_H
#define NP_SINK_UNIX_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

struct np_unix_sock_cfg {
    const char *path;        /* borrowed for the call */
    unsigned mode;           /* of the socket file, e.g. 0660 */
    uid_t uid;               /* owner of the socket (and of a directory created); (uid_t)-1 keeps */
    gid_t gid;               /* (gid_t)-1 keeps */
    uint32_t max_conns;      /* 0: 32 */
    uint32_t max_line_bytes; /* 0: 256 */
    uint32_t conn_timeout_ms; /* 0: 5000 */
    size_t max_reply_bytes;   /* 0: 1 MiB */
};

/* The answer being built by the line callback. */
struct np_unix_sock_reply {
    char *buf; /* owned by the server */
    size_t len, cap, max;
    bool overflow; /* more than max was added: nothing is sent */
};

void np_unix_sock_reply_add(struct np_unix_sock_reply *r, const void *p, size_t n);

/* line: the request without its line end, NUL-terminated (n bytes; it may
 * hold other NULs). Add the answer to reply; an empty answer closes the
 * connection silently. */
typedef void np_unix_sock_line_fn(const char *line, size_t n, struct np_unix_sock_reply *reply,
                                  void *ctx);

struct np_unix_sock_stats {
    uint64_t conns_accepted;
    uint64_t conns_evicted;      /* closed to make room: max_conns were open */
    uint64_t conns_closed_early; /* closed by the client before a line */
    uint64_t conns_timed_out;    /* conn_timeout_ms passed */
    uint64_t lines_too_long;
    uint64_t replies_too_long;
    uint64_t replies_sent;
};

struct np_unix_sock;

/* NULL with err set: NP_ERR_USAGE for what the user must fix (a live
 * process answers on the path, not a socket, no permission, path too long),
 * NP_ERR_NOMEM, NP_ERR_IO otherwise. */
struct np_unix_sock *np_unix_sock_create(const struct np_unix_sock_cfg *cfg,
                                         np_unix_sock_line_fn *fn, void *ctx, struct np_err *err);
/* Closes every connection and removes the socket file if it is still ours.
 * NULL is a no-op. */
void np_unix_sock_destroy(struct np_unix_sock *s);

/* Waits at most timeout_ms (0: not at all) for something to do, then
 * accepts, reads, answers and closes what is ready, and closes connections
 * past their time. Bounded work per call. Returns the number of open
 * connections. */
uint32_t np_unix_sock_serve(struct np_unix_sock *s, int timeout_ms);

const struct np_unix_sock_stats *np_unix_sock_stats(const struct np_unix_sock *s);

/* Whether this process, with its effective ids now, may remove the socket
 * file: it may write to and search the socket's directory (and, if the
 * directory is sticky, owns the socket or the directory). Ask after a
 * change of user: false means destruction will leave the file behind. */
bool np_unix_sock_removable(const struct np_unix_sock *s);

#endif
