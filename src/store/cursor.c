/* store/cursor.c: reading a session's packets back, all or by query.
 *
 * Chunks are visited in order through the chunks table (small rows; the
 * bytes live in chunk_data). A chunk is read when its time span meets the
 * query's and, for a host, port or flow query, when the flow index says it
 * can hold a match:
 *
 *   1. the flows of the session that match give their ids and time spans.
 *      They are found through the key index (docs/storage.md): for each
 *      block of flow rows, one bucket blob is read and its entries with
 *      the query's key (the host, else the port) name candidate rows, which
 *      are fetched by rowid and checked exactly. Blocks are loaded lazily,
 *      in order, each before the first chunk at or past its seq is judged
 *      (no packet of its flows lies in an earlier chunk), so `query -l 100`
 *      reads the index only as far as its 100th packet. A start row (open
 *      1) spans to the end of time until its final row (open 2) arrives;
 *      ids go into a hash set, closed spans into a merged interval list,
 *      open ones into a min-heap of first_ns. A flow query takes its id as
 *      given and needs no flow row;
 *   2. a chunk whose span meets no flow's is skipped on its row alone;
 *   3. otherwise its flow list (chunk_flows) is searched for a matching id;
 *      chunks with IP packets that have no flow (n_loose) are read for host
 *      and port queries too.
 *
 * Packets in a chunk that is read are checked one by one: the record's
 * flow id for a flow, the decoded addresses and TCP/UDP ports for host and
 * port. A blob is checked whole (chunk.h) before any packet of it is
 * given out; a damaged one is counted and skipped. The cursor holds its
 * chunk statement open, so it reads one snapshot of the database (flow
 * rows included); in WAL mode the writer goes on meanwhile. Owned by one
 * thread.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/packet.h"
#include "decode/decode.h"
#include "store/chunk.h"
#include "store/internal.h"

struct iv {
    uint64_t lo, hi;
};

/* An entry of the matching-id set (linear probing, never deleted). */
struct idslot {
    uint64_t id;
    uint32_t n_open; /* start rows seen without their final row */
    uint32_t used;
};

/* A min-heap entry: an open flow's first_ns. Stale once its id's n_open
 * drops to 0; popped lazily. */
struct hent {
    uint64_t first_ns, id;
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
    bool by_rows;   /* host or port without flow: matching ids from the flows table */

    sqlite3_stmt *chunks;   /* the session's chunks in order */
    sqlite3_stmt *data;     /* one chunk's bytes; holds the row while we read it */
    sqlite3_stmt *flows;    /* one chunk's flow list */
    sqlite3_stmt *blocks;   /* the session's key blocks in order, stepped lazily */
    sqlite3_stmt *bucket;   /* one bucket blob */
    sqlite3_stmt *flow_row; /* one flow row by rowid */
    bool blocks_done;       /* blocks has no more rows */
    bool have_block;        /* blocks is on a row not loaded yet */
    uint64_t key;           /* np_store_key of the host, else of the port */

    struct idslot *set; /* owned: matching flow ids; cap_set slots, a power of two */
    size_t n_set, cap_set;
    struct iv *ivs; /* owned: closed flows' time spans, merged and sorted */
    size_t n_ivs, cap_ivs;
    struct iv *new_ivs; /* owned: scratch, one block's closed spans */
    size_t n_new, cap_new;
    struct hent *heap; /* owned: open flows by first_ns */
    size_t n_heap, cap_heap;

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
    sqlite3_finalize(c->blocks);
    sqlite3_finalize(c->bucket);
    sqlite3_finalize(c->flow_row);
    free(c->set);
    free(c->ivs);
    free(c->new_ivs);
    free(c->heap);

    free(c->lts);
    free(c);
}

const struct np_store_cursor_stats *np_store_cursor_stats(const struct np_store_cursor *c)
{
    return &c->stats;
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

/* Grows *p (n used of *cap elements of size sz) to hold one more. */
static bool grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 64;
    void *q = realloc(*p, nc * sz);
    if (q == NULL)
        return false;
    *p = q;
    *cap = nc;
    return true;
}

static struct idslot *set_find(const struct np_store_cursor *c, uint64_t id)
{
    if (c->cap_set == 0)
        return NULL;
    size_t mask = c->cap_set - 1;
    for (size_t i = (size_t)np_hash_mix64(id) & mask;; i = (i + 1) & mask) {
        if (!c->set[i].used)
            return NULL;
        if (c->set[i].id == id)
            return &c->set[i];
    }
}

/* The slot of id, added if new; NULL when out of memory. */
static struct idslot *set_add(struct np_store_cursor *c, uint64_t id)
{
    if (2 * (c->n_set + 1) > c->cap_set) {
        size_t nc = c->cap_set ? 2 * c->cap_set : 1024;
        struct idslot *n = calloc(nc, sizeof(*n));
        if (n == NULL)
            return NULL;
        for (size_t i = 0; i < c->cap_set; i++) {
            if (!c->set[i].used)
                continue;
            size_t k = (size_t)np_hash_mix64(c->set[i].id) & (nc - 1);
            while (n[k].used)
                k = (k + 1) & (nc - 1);
            n[k] = c->set[i];
        }
        free(c->set);
        c->set = n;
        c->cap_set = nc;
    }
    size_t mask = c->cap_set - 1, i = (size_t)np_hash_mix64(id) & mask;
    while (c->set[i].used && c->set[i].id != id)
        i = (i + 1) & mask;
    if (!c->set[i].used) {
        c->set[i].id = id;
        c->set[i].used = 1;
        c->n_set++;
    }
    return &c->set[i];
}

static bool heap_push(struct np_store_cursor *c, uint64_t first_ns, uint64_t id)
{
    if (!grow((void **)&c->heap, &c->cap_heap, c->n_heap, sizeof(*c->heap)))
        return false;
    size_t i = c->n_heap++;
    while (i > 0 && c->heap[(i - 1) / 2].first_ns > first_ns) {
        c->heap[i] = c->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    c->heap[i].first_ns = first_ns;
    c->heap[i].id = id;
    return true;
}

static void heap_pop(struct np_store_cursor *c)
{
    struct hent last = c->heap[--c->n_heap];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= c->n_heap)
            break;
        if (k + 1 < c->n_heap && c->heap[k + 1].first_ns < c->heap[k].first_ns)
            k++;
        if (c->heap[k].first_ns >= last.first_ns)
            break;
        c->heap[i] = c->heap[k];
        i = k;
    }
    if (c->n_heap > 0)
        c->heap[i] = last;
}

/* The earliest first_ns of a matching flow still open; false for none. */
static bool open_min(struct np_store_cursor *c, uint64_t *first_ns)
{
    while (c->n_heap > 0) {
        const struct idslot *e = set_find(c, c->heap[0].id);
        if (e != NULL && e->n_open > 0) {
            *first_ns = c->heap[0].first_ns;
            return true;
        }
        heap_pop(c);
    }
    return false;
}

/* Chunk times are stored clamped to INT64_MAX (rec.c): clamp flow times
 * alike so that spans compare as the chunks' do. */
static uint64_t clamp_ns(uint64_t t)
{
    return t > INT64_MAX ? INT64_MAX : t;
}

/* Merges this block's closed spans into the sorted, disjoint list. */
static bool merge_ivs(struct np_store_cursor *c)
{
    if (c->n_new == 0)
        return true;
    qsort(c->new_ivs, c->n_new, sizeof(struct iv), cmp_iv);
    size_t total = c->n_ivs + c->n_new;
    struct iv *out = malloc(total * sizeof(*out));
    if (out == NULL)
        return false;
    size_t a = 0, b = 0, m = 0;
    while (a < c->n_ivs || b < c->n_new) {
        struct iv next;
        if (b == c->n_new || (a < c->n_ivs && c->ivs[a].lo <= c->new_ivs[b].lo))
            next = c->ivs[a++];
        else
            next = c->new_ivs[b++];
        if (m > 0 && next.lo <= out[m - 1].hi) {
            if (next.hi > out[m - 1].hi)
                out[m - 1].hi = next.hi;
        } else {
            out[m++] = next;
        }
    }
    free(c->ivs);
    c->ivs = out;
    c->n_ivs = m;
    c->cap_ivs = total;
    c->n_new = 0;
    return true;
}

static bool blob_eq(sqlite3_stmt *s, int col, const uint8_t *v, size_t n)
{
    return (size_t)sqlite3_column_bytes(s, col) == n &&
           memcmp(sqlite3_column_blob(s, col), v, n) == 0;
}

/* Fetches flow row `row` into the id set and spans if it matches the query
 * exactly (a key entry names a candidate: keys are hashes). */
static enum np_rc take_row(struct np_store_cursor *c, int64_t row, struct np_err *err)
{
    const struct np_store_query *q = &c->q;
    sqlite3_stmt *s = c->flow_row;
    sqlite3_bind_int64(s, 1, row);
    int rc = sqlite3_step(s);
    enum np_rc out = NP_OK;
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE) /* none: a damaged index, nothing to take */
            out = np_store_fail(c->st, err, "read", rc);
        goto done;
    }
    if (sqlite3_column_int64(s, 8) != q->session)
        goto done;
    size_t alen = q->host_ver == 6 ? 16 : 4;
    if (q->has_host && !blob_eq(s, 4, q->host, alen) && !blob_eq(s, 5, q->host, alen))
        goto done;
    if (q->port >= 0 && sqlite3_column_int(s, 6) != q->port && sqlite3_column_int(s, 7) != q->port)
        goto done;
    uint64_t id = (uint64_t)sqlite3_column_int64(s, 0);
    uint64_t first_ns = clamp_ns((uint64_t)sqlite3_column_int64(s, 1));
    uint64_t last_ns = clamp_ns((uint64_t)sqlite3_column_int64(s, 2));
    int open = sqlite3_column_int(s, 3);
    struct idslot *e = set_add(c, id);
    if (e == NULL) {
        out = np_err_set(err, NP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (open == 1) {
        if (e->n_open++ == 0 && !heap_push(c, first_ns, id))
            out = np_err_set(err, NP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (open == 2 && e->n_open > 0)
        e->n_open--; /* the start row it ends */
    if (!grow((void **)&c->new_ivs, &c->cap_new, c->n_new, sizeof(*c->new_ivs))) {
        out = np_err_set(err, NP_ERR_NOMEM, "out of memory");
        goto done;
    }
    c->new_ivs[c->n_new].lo = first_ns;
    c->new_ivs[c->n_new].hi = last_ns < first_ns ? first_ns : last_ns;
    c->n_new++;
done:
    sqlite3_reset(s);
    return out;
}

/* Step 1 for the block c->blocks is on: the rows its bucket for our key
 * names, in row order. */
static enum np_rc load_block(struct np_store_cursor *c, struct np_err *err)
{
    int64_t block = sqlite3_column_int64(c->blocks, 0);
    int64_t first_row = sqlite3_column_int64(c->blocks, 2);
    uint64_t nb = (uint64_t)sqlite3_column_int64(c->blocks, 3);
    if (nb == 0 || nb > NP_STORE_KEY_BUCKETS_MAX || (nb & (nb - 1)) != 0)
        return NP_OK; /* damaged: no bucket to read */
    sqlite3_stmt *s = c->bucket;
    sqlite3_bind_int64(s, 1,
                       block * (int64_t)NP_STORE_KEY_BUCKETS_MAX + (int64_t)(c->key & (nb - 1)));
    int rc = sqlite3_step(s);
    enum np_rc out = NP_OK;
    if (rc == SQLITE_ROW) {
        struct np_cur cur =
                np_cur_make(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
        while (out == NP_OK && cur.left >= NP_STORE_KEY_ENTRY) {
            uint64_t lo = np_cur_le32(&cur);
            uint64_t key = lo | (uint64_t)np_cur_le32(&cur) << 32;
            uint32_t delta = np_cur_le32(&cur);
            if (key == c->key)
                out = take_row(c, first_row + delta, err);
        }
    } else if (rc != SQLITE_DONE) {
        out = np_store_fail(c->st, err, "read", rc);
    }
    sqlite3_reset(s);
    if (out == NP_OK && !merge_ivs(c))
        out = np_err_set(err, NP_ERR_NOMEM, "out of memory");
    return out;
}

/* Loads every block that a chunk of sequence number seq may need. */
static enum np_rc load_through(struct np_store_cursor *c, uint64_t seq, struct np_err *err)
{
    while (!c->blocks_done) {
        if (!c->have_block) {
            int rc = sqlite3_step(c->blocks);
            if (rc == SQLITE_DONE) {
                c->blocks_done = true;
                break;
            }
            if (rc != SQLITE_ROW)
                return np_store_fail(c->st, err, "read", rc);
            c->have_block = true;
        }
        if ((uint64_t)sqlite3_column_int64(c->blocks, 1) > seq)
            break;
        enum np_rc out = load_block(c, err);
        if (out != NP_OK)
            return out;
        c->have_block = false;
    }
    return NP_OK;
}

static int prepare_rows(struct np_store_cursor *c)
{
    const struct np_store_query *q = &c->q;
    c->key = q->has_host ? np_store_key(NP_STORE_KEY_ADDR, q->host, q->host_ver == 6 ? 16 : 4)
                         : np_store_key_port((uint16_t)q->port);
    int rc = sqlite3_prepare_v2(c->st->db,
                                "SELECT id, seq, first_row, n_buckets FROM flow_blocks"
                                " WHERE session = ? ORDER BY id",
                                -1, &c->blocks, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->st->db, "SELECT keys FROM flow_keys WHERE id = ?", -1,
                                &c->bucket, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->st->db,
                                "SELECT id, first_ns, last_ns, open, addr_a, addr_b, port_a,"
                                " port_b, session FROM flows WHERE row = ?",
                                -1, &c->flow_row, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(c->blocks, 1, q->session);
    return rc;
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
    c->by_rows = c->by_decode && !q->has_flow;
    if (q->has_host && q->host_ver != 4 && q->host_ver != 6) {
        np_err_set(err, NP_ERR_USAGE, "bad host address version %u", q->host_ver);
        goto fail;
    }
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT id, first_frame, n_pkts, min_ns, max_ns, n_loose, seq"
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
    if (c->by_rows) {
        rc = prepare_rows(c);
        if (rc != SQLITE_OK) {
            np_store_fail(st, err, "read", rc);
            goto fail;
        }
    } else if (q->has_flow && set_add(c, q->flow_id) == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    return c;
fail:
    np_store_cursor_close(c);
    return NULL;
}

static bool span_meets_flows(struct np_store_cursor *c, uint64_t lo, uint64_t hi)
{
    if (!c->by_rows)
        return true; /* a flow query: its id alone, no span known */
    uint64_t open_lo;
    if (open_min(c, &open_lo) && hi >= open_lo)
        return true;
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
    return set_find(c, id) != NULL;
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
        uint64_t seq = (uint64_t)sqlite3_column_int64(c->chunks, 6);
        if (c->by_index && !(c->by_decode && loose)) {
            if (c->by_rows) {
                enum np_rc lr = load_through(c, seq, err);
                if (lr != NP_OK)
                    return lr;
            }
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
