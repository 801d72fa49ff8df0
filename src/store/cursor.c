/* store/cursor.c: reading a session's packets back, all or by query.
 *
 * Chunks are visited in order through the chunks table (small rows; the
 * bytes live in chunk_data). A chunk is read when its time span meets the
 * query's and, for a host, port or flow query, when the flow index says it
 * can hold a match:
 *
 *   1. the flows of the session that match (flows table, by its address,
 *      port or primary-key index) give their ids, kept sorted, and their
 *      time spans, merged into disjoint intervals (a flow still open, its
 *      row written once, runs to the end of time);
 *   2. a chunk whose span meets no interval is skipped on its row alone;
 *   3. otherwise its flow list (chunk_flows) is searched for a matching id;
 *      chunks with IP packets that have no flow (n_loose) are read for host
 *      and port queries too.
 *
 * Packets in a chunk that is read are checked one by one: the record's
 * flow id for a flow, the decoded addresses and TCP/UDP ports for host and
 * port. A blob is checked whole (chunk.h) before any packet of it is
 * given out; a damaged one is counted and skipped. The cursor holds its
 * statement open, so it reads one snapshot of the database; in WAL mode
 * the writer goes on meanwhile. Owned by one thread.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/packet.h"
#include "decode/decode.h"
#include "store/chunk.h"
#include "store/internal.h"

struct iv {
    uint64_t lo, hi;
};

struct lt {
    uint16_t linktype;
    uint8_t ts_prec;
    bool known;
};

struct np_store_cursor {
    struct np_store *st;
    struct np_store_query q;
    bool by_index;  /* host, port or flow: chunks chosen by the flow index */
    bool by_decode; /* host or port: packets decoded */

    sqlite3_stmt *chunks; /* the session's chunks in order */
    sqlite3_stmt *data;   /* one chunk's bytes; holds the row while we read it */
    sqlite3_stmt *flows;  /* one chunk's flow list */

    uint64_t *ids; /* owned: matching flow ids, sorted */
    size_t n_ids;
    struct iv *ivs; /* owned: their merged time spans */
    size_t n_ivs;

    struct lt *lts; /* owned: per ifid, n_lts entries */
    uint32_t n_lts;

    struct np_cur cur; /* the current chunk's records; into data's row */
    uint64_t frame;    /* frame number of the next record */
    bool in_chunk;

    struct np_dec_stats dec;
    struct np_store_cursor_stats stats;
};

void np_store_cursor_close(struct np_store_cursor *c)
{
    if (c == NULL)
        return;
    sqlite3_finalize(c->chunks);
    sqlite3_finalize(c->data);
    sqlite3_finalize(c->flows);
    free(c->ids);
    free(c->ivs);
    free(c->lts);
    free(c);
}

const struct np_store_cursor_stats *np_store_cursor_stats(const struct np_store_cursor *c)
{
    return &c->stats;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_iv(const void *a, const void *b)
{
    const struct iv *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static enum np_rc load_ifaces(struct np_store_cursor *c, struct np_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(c->st->db,
                                "SELECT ifid, linktype, ts_prec FROM ifaces WHERE session = ?"
                                " AND ifid < 65536 ORDER BY ifid",
                                -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, c->q.session);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint32_t ifid = (uint32_t)sqlite3_column_int64(s, 0);
        if (ifid >= c->n_lts) {
            struct lt *n = realloc(c->lts, (ifid + 1) * sizeof(*n));
            if (n == NULL) {
                sqlite3_finalize(s);
                return np_err_set(err, NP_ERR_NOMEM, "out of memory");
            }
            memset(n + c->n_lts, 0, (ifid + 1 - c->n_lts) * sizeof(*n));
            c->lts = n;
            c->n_lts = ifid + 1;
        }
        c->lts[ifid].linktype = (uint16_t)sqlite3_column_int(s, 1);
        c->lts[ifid].ts_prec = (uint8_t)sqlite3_column_int(s, 2);
        c->lts[ifid].known = true;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? NP_OK : np_store_fail(c->st, err, "read", rc);
}

/* Step 1: the matching flows' ids and merged time spans. */
static enum np_rc load_flows(struct np_store_cursor *c, struct np_err *err)
{
    const struct np_store_query *q = &c->q;
    char sql[512];
    size_t n = (size_t)snprintf(sql, sizeof(sql),
                                "SELECT id, first_ns, last_ns, open FROM flows WHERE session = ?1");
    if (q->has_flow)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND id = ?2");
    if (q->has_host)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND (addr_a = ?3 OR addr_b = ?3)");
    if (q->port >= 0)
        snprintf(sql + n, sizeof(sql) - n, " AND (port_a = ?4 OR port_b = ?4)");
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(c->st->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return np_store_fail(c->st, err, "read", rc);
    sqlite3_bind_int64(s, 1, q->session);
    if (q->has_flow)
        sqlite3_bind_int64(s, 2, (int64_t)q->flow_id);
    if (q->has_host)
        sqlite3_bind_blob(s, 3, q->host, q->host_ver == 6 ? 16 : 4, SQLITE_STATIC);
    if (q->port >= 0)
        sqlite3_bind_int(s, 4, q->port);
    size_t cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (c->n_ids == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *ni = realloc(c->ids, cap * sizeof(*ni));
            if (ni != NULL)
                c->ids = ni;
            struct iv *nv = realloc(c->ivs, cap * sizeof(*nv));
            if (nv != NULL)
                c->ivs = nv;
            if (ni == NULL || nv == NULL) {
                sqlite3_finalize(s);
                return np_err_set(err, NP_ERR_NOMEM, "out of memory");
            }
        }
        c->ids[c->n_ids] = (uint64_t)sqlite3_column_int64(s, 0);
        c->ivs[c->n_ids].lo = (uint64_t)sqlite3_column_int64(s, 1);
        c->ivs[c->n_ids].hi =
                sqlite3_column_int(s, 3) ? UINT64_MAX : (uint64_t)sqlite3_column_int64(s, 2);
        c->n_ids++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return np_store_fail(c->st, err, "read", rc);
    if (c->n_ids == 0)
        return NP_OK; /* no flow matches: only chunks with loose packets are read */
    qsort(c->ids, c->n_ids, sizeof(uint64_t), cmp_u64);
    qsort(c->ivs, c->n_ids, sizeof(struct iv), cmp_iv);
    size_t m = 0;
    for (size_t i = 0; i < c->n_ids; i++) {
        if (m > 0 && c->ivs[i].lo <= c->ivs[m - 1].hi) {
            if (c->ivs[i].hi > c->ivs[m - 1].hi)
                c->ivs[m - 1].hi = c->ivs[i].hi;
        } else {
            c->ivs[m++] = c->ivs[i];
        }
    }
    c->n_ivs = m;
    return NP_OK;
}

struct np_store_cursor *np_store_cursor_open(struct np_store *st, const struct np_store_query *q,
                                             struct np_err *err)
{
    struct np_store_cursor *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->st = st;
    c->q = *q;
    c->by_decode = q->has_host || q->port >= 0;
    c->by_index = c->by_decode || q->has_flow;
    if (q->has_host && q->host_ver != 4 && q->host_ver != 6) {
        np_err_set(err, NP_ERR_USAGE, "bad host address version %u", q->host_ver);
        goto fail;
    }
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT id, first_frame, n_pkts, min_ns, max_ns, n_loose"
                                " FROM chunks WHERE session = ?1 AND max_ns >= ?2 AND min_ns <= ?3"
                                " ORDER BY seq",
                                -1, &c->chunks, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db, "SELECT data FROM chunk_data WHERE chunk = ?", -1, &c->data,
                                NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db, "SELECT ids FROM chunk_flows WHERE chunk = ?", -1,
                                &c->flows, NULL);
    if (rc != SQLITE_OK) {
        np_store_fail(st, err, "read", rc);
        goto fail;
    }
    sqlite3_bind_int64(c->chunks, 1, q->session);
    /* Chunk times are stored clamped to INT64_MAX (rec.c); bounds likewise. */
    sqlite3_bind_int64(c->chunks, 2, q->since_ns > INT64_MAX ? INT64_MAX : (int64_t)q->since_ns);
    sqlite3_bind_int64(c->chunks, 3, q->until_ns > INT64_MAX ? INT64_MAX : (int64_t)q->until_ns);
    if (load_ifaces(c, err) != NP_OK)
        goto fail;
    if (c->by_index && load_flows(c, err) != NP_OK)
        goto fail;
    return c;
fail:
    np_store_cursor_close(c);
    return NULL;
}

static bool span_meets_flows(const struct np_store_cursor *c, uint64_t lo, uint64_t hi)
{
    /* the last interval starting at or before hi */
    size_t a = 0, b = c->n_ivs;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (c->ivs[m].lo <= hi)
            a = m + 1;
        else
            b = m;
    }
    return a > 0 && c->ivs[a - 1].hi >= lo;
}

static bool id_matches(const struct np_store_cursor *c, uint64_t id)
{
    size_t a = 0, b = c->n_ids;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (c->ids[m] < id)
            a = m + 1;
        else
            b = m;
    }
    return a < c->n_ids && c->ids[a] == id;
}

/* Step 3: does the chunk's flow list name a matching flow? A damaged list
 * (not a whole number of ids) is taken as naming every flow. */
static int chunk_has_flow(struct np_store_cursor *c, int64_t chunk, bool *has)
{
    sqlite3_bind_int64(c->flows, 1, chunk);
    int rc = sqlite3_step(c->flows);
    *has = false;
    if (rc == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(c->flows, 0);
        size_t n = (size_t)sqlite3_column_bytes(c->flows, 0);
        if (n % 8 != 0) {
            *has = true;
        } else {
            struct np_cur cur = np_cur_make(p, n);
            while (!*has && cur.left > 0) {
                uint64_t lo = np_cur_le32(&cur);
                uint64_t id = lo | (uint64_t)np_cur_le32(&cur) << 32;
                *has = id_matches(c, id);
            }
        }
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_DONE) {
        *has = true; /* no list: read the chunk */
    }
    sqlite3_reset(c->flows);
    return rc;
}

/* Moves to the next chunk worth reading: NP_OK with c->cur set, NP_EOF. */
static enum np_rc next_chunk(struct np_store_cursor *c, struct np_err *err)
{
    int rc;
    while ((rc = sqlite3_step(c->chunks)) == SQLITE_ROW) {
        int64_t chunk = sqlite3_column_int64(c->chunks, 0);
        uint64_t first_frame = (uint64_t)sqlite3_column_int64(c->chunks, 1);
        uint64_t n_pkts = (uint64_t)sqlite3_column_int64(c->chunks, 2);
        uint64_t lo = (uint64_t)sqlite3_column_int64(c->chunks, 3);
        uint64_t hi = (uint64_t)sqlite3_column_int64(c->chunks, 4);
        bool loose = sqlite3_column_int64(c->chunks, 5) > 0;
        if (c->by_index && !(c->by_decode && loose)) {
            if (!span_meets_flows(c, lo, hi))
                continue;
            bool has;
            rc = chunk_has_flow(c, chunk, &has);
            if (rc != SQLITE_DONE)
                break;
            if (!has)
                continue;
        }
        sqlite3_reset(c->data);
        sqlite3_bind_int64(c->data, 1, chunk);
        rc = sqlite3_step(c->data);
        if (rc == SQLITE_DONE) { /* a chunk row without bytes */
            c->stats.chunks_damaged++;
            continue;
        }
        if (rc != SQLITE_ROW)
            break;
        const uint8_t *p = sqlite3_column_blob(c->data, 0);
        size_t n = (size_t)sqlite3_column_bytes(c->data, 0);
        c->stats.chunks_read++;
        if (!np_chunk_check(p, n, n_pkts)) {
            c->stats.chunks_damaged++;
            continue;
        }
        c->cur = np_cur_make(p, n);
        c->frame = first_frame;
        c->in_chunk = true;
        return NP_OK;
    }
    if (rc == SQLITE_DONE)
        return NP_EOF;
    return np_store_fail(c->st, err, "read", rc);
}

static bool addr_eq(const uint8_t *a, const uint8_t *b, uint8_t ver)
{
    return memcmp(a, b, ver == 6 ? 16 : 4) == 0;
}

static bool packet_matches(struct np_store_cursor *c, const struct np_chunk_rec *r,
                           uint16_t linktype)
{
    const struct np_store_query *q = &c->q;
    if (r->ts_ns < q->since_ns || r->ts_ns > q->until_ns)
        return false;
    if (q->has_flow && r->flow_id != q->flow_id)
        return false;
    if (!c->by_decode)
        return true;
    struct np_dpkt d;
    np_decode(linktype, r->data, r->caplen, r->wirelen, &d, &c->dec);
    if (q->has_host && !(d.ip_ver == q->host_ver &&
                         (addr_eq(d.src, q->host, d.ip_ver) || addr_eq(d.dst, q->host, d.ip_ver))))
        return false;
    if (q->port >= 0 &&
        !(d.l4_ok && (d.proto == 6 || d.proto == 17) && (d.sport == q->port || d.dport == q->port)))
        return false;
    return true;
}

enum np_rc np_store_cursor_next(struct np_store_cursor *c, struct np_pkt *p, struct np_err *err)
{
    for (;;) {
        if (!c->in_chunk) {
            enum np_rc rc = next_chunk(c, err);
            if (rc != NP_OK)
                return rc;
        }
        struct np_chunk_rec r;
        while (np_chunk_next(&c->cur, &r)) {
            uint64_t frame = c->frame++;
            c->stats.pkts_scanned++;
            /* np_chunk_check vouched for the structure; ifids are checked
             * here, against the session's interfaces. */
            if (r.ifid >= c->n_lts || !c->lts[r.ifid].known)
                continue;
            const struct lt *lt = &c->lts[r.ifid];
            if (!packet_matches(c, &r, lt->linktype))
                continue;
            p->ts_ns = r.ts_ns;
            p->frame_no = frame;
            p->data = r.data;
            p->caplen = r.caplen;
            p->wirelen = r.wirelen;
            p->ifid = r.ifid;
            p->linktype = lt->linktype;
            p->ts_prec = lt->ts_prec;
            return NP_OK;
        }
        c->in_chunk = false;
    }
}
