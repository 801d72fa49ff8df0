/* cli/stored.h: what query, export and replay share: a session of the
 * recording store opened for reading, its interfaces, and its packets in
 * order through the store's cursor and an optional BPF filter. */
#ifndef NP_CLI_STORED_H
#define NP_CLI_STORED_H

#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

struct np_opts;
struct np_pkt;
struct np_bpf;

struct np_stored {
    struct np_store *st;
    struct np_store_session s;
    struct np_store_iface *ifs; /* owned; n_ifs, in ifid order */
    uint32_t n_ifs;
    struct np_store_cursor *cur;
    struct np_bpf *bpf; /* owned; --filter, NULL for none */
    uint64_t filtered;  /* packets the filter left out */
};

/* Opens o->database read-only, resolves -s (required), reads the session's
 * interfaces, and opens a cursor with q (q->session is set here) and o's
 * --filter. NP_OK, or an error with err set (missing database, session or
 * a bad filter: NP_ERR_USAGE). np_stored_close() in every case. */
enum np_rc np_stored_open(struct np_stored *x, const struct np_opts *o, struct np_store_query *q,
                          struct np_err *err);
/* The next packet that passes the filter: NP_OK, NP_EOF, or an error. */
enum np_rc np_stored_next(struct np_stored *x, struct np_pkt *p, struct np_err *err);
void np_stored_close(struct np_stored *x);

/* A query that selects every packet. */
void np_stored_query_all(struct np_store_query *q);

#endif
