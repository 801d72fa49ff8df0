/* cli/stored.c: a stored session opened for reading (see stored.h). */
#include "cli/stored.h"

#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "core/log.h"
#include "core/packet.h"
#include "source/bpf.h"

void np_stored_query_all(struct np_store_query *q)
{
    memset(q, 0, sizeof(*q));
    q->port = -1;
    q->until_ns = UINT64_MAX;
}

enum np_rc np_stored_open(struct np_stored *x, const struct np_opts *o, struct np_store_query *q,
                          struct np_err *err)
{
    memset(x, 0, sizeof(*x));
    if (o->session == NULL)
        return np_err_set(err, NP_ERR_USAGE,
                          "give the session with -s ID (see 'netpeek sessions -d %s')",
                          o->database);
    x->st = np_store_open(o->database, false, false, err);
    if (x->st == NULL)
        return err->rc;
    enum np_rc rc = np_store_session_find(x->st, o->session, &x->s, err);
    if (rc != NP_OK)
        return rc;
    uint32_t cap = x->s.n_ifaces ? x->s.n_ifaces : 1;
    x->ifs = calloc(cap, sizeof(*x->ifs));
    if (x->ifs == NULL)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory");
    rc = np_store_session_ifaces(x->st, x->s.id, x->ifs, cap, &x->n_ifs, err);
    if (rc != NP_OK)
        return rc;
    if (o->src.bpf != NULL && o->src.bpf[0] != '\0') {
        x->bpf = np_bpf_create(o->src.bpf, x->n_ifs ? x->ifs[0].linktype : x->s.linktype, err);
        if (x->bpf == NULL)
            return err->rc;
    }
    q->session = x->s.id;
    x->cur = np_store_cursor_open(x->st, q, err);
    return x->cur == NULL ? err->rc : NP_OK;
}

enum np_rc np_stored_next(struct np_stored *x, struct np_pkt *p, struct np_err *err)
{
    for (;;) {
        enum np_rc rc = np_store_cursor_next(x->cur, p, err);
        if (rc != NP_OK || x->bpf == NULL)
            return rc;
        bool pass = np_bpf_match(x->bpf, p);
        const char *w = np_bpf_take_warning(x->bpf);
        if (w != NULL)
            np_log_warn("%s", w);
        if (pass)
            return NP_OK;
        x->filtered++;
    }
}

void np_stored_close(struct np_stored *x)
{
    np_store_cursor_close(x->cur);
    np_bpf_destroy(x->bpf);
    free(x->ifs);
    np_store_close(x->st);
    memset(x, 0, sizeof(*x));
}
