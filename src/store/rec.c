/* store/rec.c: recording a session.
 *
 * Packets are appended to a chunk buffer (chunk.h records); a chunk is
 * written as three rows when the next packet would pass NP_STORE_CHUNK_PKTS
 * or NP_STORE_CHUNK_BYTES: its metadata (chunks), its bytes (chunk_data,
 * bound with SQLITE_STATIC: no copy on our side) and the sorted ids of the
 * flows with packets in it (chunk_flows). That one row per chunk is the
 * flow-to-chunk index: a row per (flow, chunk) pair costs about one B-tree
 * insert per packet (measured: 3.4M rows take 3-7 s here), the flow list
 * costs one. The flows of the current chunk are gathered in a fixed
 * open-addressed set, emptied per chunk.
 *
 * Everything goes into one transaction that np_store_rec_commit() ends. The
 * session's lock (store.h) is taken on its own open file description, so
 * that a probe through the store's descriptor sees it even in this process.
 * Nothing is allocated per packet; a packet larger than the chunk buffer
 * grows it once. Owned by one thread.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/packet.h"
#include "decode/decode.h"
#include "flow/table.h"
#include "store/chunk.h"
#include "store/internal.h"

#ifndef NP_VERSION
#define NP_VERSION "unknown"
#endif

/* Slots of the per-chunk flow set: a power of two, at least twice the
 * packets of a chunk, so probes stay short. */
#define FLOW_SLOTS (4u * NP_STORE_CHUNK_PKTS)
/* Interfaces whose declaration is remembered in a bitmap; others are looked
 * up in the table (pcapng files rarely have more). */
#define KNOWN_IFACES 256u

struct np_store_rec {
    struct np_store *st;
    int64_t id;
    int lock_fd;
    bool in_txn;

    sqlite3_stmt *ins_chunk, *ins_data, *ins_flows, *ins_flow, *ins_iface, *upd_session;

    uint8_t *buf; /* owned: the current chunk's records */
    size_t len, cap;
    uint32_t n_pkts;  /* in the current chunk */
    uint32_t n_loose; /* its IP packets without a flow */
    uint64_t min_ns, max_ns;
    uint64_t seq;        /* the current chunk's number in the session */
    uint64_t next_frame; /* frame number of the next packet, from 1 */

    uint64_t *flow_slots; /* owned: FLOW_SLOTS entries, 0 = empty */
    uint64_t *flow_list;  /* owned: the same ids in arrival order */
    uint32_t n_flows;

    uint64_t known_ifaces[KNOWN_IFACES / 64];

    /* committed or not; for the session row */
    uint64_t bytes, wire_bytes, first_ns, last_ns;
    struct np_store_rec_stats stats;
    struct np_dec_stats dec; /* scratch for decoding loose packets */
};

static enum np_rc fail(struct np_store_rec *r, struct np_err *err, int rc)
{
    return np_store_fail(r->st, err, "write", rc);
}

static int prep(struct np_store *st, const char *sql, sqlite3_stmt **s)
{
    return sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL);
}

static enum np_rc take_lock(struct np_store_rec *r, int64_t id, struct np_err *err)
{
    if (r->lock_fd < 0) {
        r->lock_fd = open(r->st->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (r->lock_fd < 0)
            return np_err_set(err, NP_ERR_IO, "cannot open %s: %s", r->st->lock_path,
                              strerror(errno));
    }
    struct flock fl = { 0 };
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)id;
    fl.l_len = 1;
    if (fcntl(r->lock_fd, F_OFD_SETLK, &fl) != 0)
        return np_err_set(err, NP_ERR_IO, "cannot lock session %lld in %s: %s", (long long)id,
                          r->st->lock_path, strerror(errno));
    return NP_OK;
}

static void drop_lock(struct np_store_rec *r)
{
    if (r->lock_fd >= 0)
        close(r->lock_fd); /* releases the OFD lock */
    r->lock_fd = -1;
}

static void rec_free(struct np_store_rec *r)
{
    if (r == NULL)
        return;
    if (r->in_txn)
        np_store_exec(r->st, "ROLLBACK");
    sqlite3_finalize(r->ins_chunk);
    sqlite3_finalize(r->ins_data);
    sqlite3_finalize(r->ins_flows);
    sqlite3_finalize(r->ins_flow);
    sqlite3_finalize(r->ins_iface);
    sqlite3_finalize(r->upd_session);
    drop_lock(r);
    free(r->buf);
    free(r->flow_slots);
    free(r->flow_list);
    free(r);
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
    sqlite3_bind_text(s, i, t != NULL ? t : "", -1, SQLITE_TRANSIENT);
}

/* Inserts the session row under its lock: the id is chosen, locked and
 * inserted inside one write transaction, so no other recorder can pick it. */
static enum np_rc insert_session(struct np_store_rec *r, const struct np_store_rec_cfg *cfg,
                                 struct np_err *err)
{
    struct np_store *st = r->st;
    sqlite3_stmt *s = NULL;
    int rc = np_store_exec(st, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return fail(r, err, rc);
    /* AUTOINCREMENT: ids are never reused, even after a delete. */
    rc = sqlite3_prepare_v2(st->db,
                            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence"
                            " WHERE name = 'sessions'), 0), coalesce((SELECT max(id) FROM"
                            " sessions), 0)) + 1",
                            -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    s = NULL;
    enum np_rc out = NP_OK;
    if (rc != SQLITE_ROW) {
        out = fail(r, err, rc);
        goto done;
    }
    out = take_lock(r, id, err);
    if (out != NP_OK)
        goto done;
    char host[64] = "";
    if (gethostname(host, sizeof(host) - 1) != 0)
        host[0] = '\0';
    rc = sqlite3_prepare_v2(st->db,
                            "INSERT INTO sessions(id, name, source, live, filter, hostname,"
                            " version, snaplen, state, start_ns) VALUES(?,?,?,?,?,?,?,?,0,?)",
                            -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, id);
        bind_text(s, 2, cfg->name);
        bind_text(s, 3, cfg->source);
        sqlite3_bind_int(s, 4, cfg->live ? 1 : 0);
        bind_text(s, 5, cfg->filter);
        bind_text(s, 6, host);
        bind_text(s, 7, NP_VERSION);
        sqlite3_bind_int64(s, 8, cfg->snaplen);
        sqlite3_bind_int64(s, 9, (int64_t)np_store_now_ns());
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        out = fail(r, err, rc);
        goto done;
    }
    rc = np_store_exec(st, "COMMIT");
    if (rc != SQLITE_OK)
        out = fail(r, err, rc);
done:
    if (out != NP_OK) {
        np_store_exec(st, "ROLLBACK");
        drop_lock(r);
        return out;
    }
    r->id = id;
    return NP_OK;
}

struct np_store_rec *np_store_rec_begin(struct np_store *st, const struct np_store_rec_cfg *cfg,
                                        struct np_err *err)
{
    if (!st->writable) {
        np_err_set(err, NP_ERR_USAGE, "cannot record into %s: opened read-only", st->path);
        return NULL;
    }
    struct np_store_rec *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "cannot record into %s: out of memory", st->path);
        return NULL;
    }
    r->st = st;
    r->lock_fd = -1;
    r->next_frame = 1;
    r->cap = NP_STORE_CHUNK_BYTES;
    r->buf = malloc(r->cap);
    r->flow_slots = calloc(FLOW_SLOTS, sizeof(uint64_t));
    r->flow_list = malloc(NP_STORE_CHUNK_PKTS * sizeof(uint64_t));
    if (r->buf == NULL || r->flow_slots == NULL || r->flow_list == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "cannot record into %s: out of memory", st->path);
        goto fail;
    }
    int rc = prep(st,
                  "INSERT INTO chunks(session, seq, first_frame, n_pkts, n_bytes, min_ns, max_ns,"
                  " n_loose) VALUES(?,?,?,?,?,?,?,?)",
                  &r->ins_chunk);
    if (rc == SQLITE_OK)
        rc = prep(st, "INSERT INTO chunk_data(chunk, data) VALUES(?,?)", &r->ins_data);
    if (rc == SQLITE_OK)
        rc = prep(st, "INSERT INTO chunk_flows(chunk, ids) VALUES(?,?)", &r->ins_flows);
    if (rc == SQLITE_OK)
        rc = prep(st,
                  "INSERT INTO flows(session, id, ip_ver, proto, vlan, addr_a, port_a, addr_b,"
                  " port_b, first_ns, last_ns, pkts_ab, pkts_ba, bytes_ab, bytes_ba, open)"
                  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,1)"
                  " ON CONFLICT(session, id) DO UPDATE SET last_ns = excluded.last_ns,"
                  " pkts_ab = excluded.pkts_ab, pkts_ba = excluded.pkts_ba,"
                  " bytes_ab = excluded.bytes_ab, bytes_ba = excluded.bytes_ba, open = 0",
                  &r->ins_flow);
    if (rc == SQLITE_OK)
        rc = prep(st,
                  "INSERT OR IGNORE INTO ifaces(session, ifid, linktype, snaplen, ts_prec, name)"
                  " VALUES(?,?,?,?,?,?)",
                  &r->ins_iface);
    if (rc == SQLITE_OK)
        rc = prep(st,
                  "UPDATE sessions SET first_ns = ?2, last_ns = ?3, packets = ?4, bytes = ?5,"
                  " wire_bytes = ?6, drops = ?7, if_drops = ?8, chunks = ?9 WHERE id = ?1",
                  &r->upd_session);
    if (rc != SQLITE_OK) {
        np_store_fail(st, err, "record into", rc);
        goto fail;
    }
    if (insert_session(r, cfg, err) != NP_OK)
        goto fail;
    return r;
fail:
    rec_free(r);
    return NULL;
}

int64_t np_store_rec_id(const struct np_store_rec *r)
{
    return r->id;
}

const struct np_store_rec_stats *np_store_rec_stats(const struct np_store_rec *r)
{
    return &r->stats;
}

static enum np_rc begin(struct np_store_rec *r, struct np_err *err)
{
    if (r->in_txn)
        return NP_OK;
    int rc = np_store_exec(r->st, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return fail(r, err, rc);
    r->in_txn = true;
    return NP_OK;
}

static int step_reset(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

enum np_rc np_store_rec_iface(struct np_store_rec *r, const struct np_store_iface *i,
                              struct np_err *err)
{
    enum np_rc out = begin(r, err);
    if (out != NP_OK)
        return out;
    sqlite3_stmt *s = r->ins_iface;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, i->ifid);
    sqlite3_bind_int(s, 3, i->linktype);
    sqlite3_bind_int64(s, 4, i->snaplen);
    sqlite3_bind_int(s, 5, i->ts_prec == 9 ? 9 : 6);
    sqlite3_bind_text(s, 6, i->name, (int)strnlen(i->name, sizeof(i->name)), SQLITE_STATIC);
    int rc = step_reset(s);
    if (rc != SQLITE_OK)
        return fail(r, err, rc);
    if (i->ifid < KNOWN_IFACES)
        r->known_ifaces[i->ifid / 64] |= 1ull << (i->ifid % 64);
    return NP_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes the current chunk's three rows (inside the open transaction) and
 * empties it. */
static enum np_rc flush_chunk(struct np_store_rec *r, struct np_err *err)
{
    if (r->n_pkts == 0)
        return NP_OK;
    enum np_rc out = begin(r, err);
    if (out != NP_OK)
        return out;
    sqlite3_stmt *s = r->ins_chunk;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, (int64_t)r->seq);
    sqlite3_bind_int64(s, 3, (int64_t)(r->next_frame - r->n_pkts));
    sqlite3_bind_int64(s, 4, r->n_pkts);
    sqlite3_bind_int64(s, 5, (int64_t)r->len);
    /* SQLite integers are signed: times past 2262 are stored as INT64_MAX.
     * Clamping keeps the order, so a time range still selects every chunk
     * that can hold a match; packets are then checked exactly. */
    sqlite3_bind_int64(s, 6, r->min_ns > INT64_MAX ? INT64_MAX : (int64_t)r->min_ns);
    sqlite3_bind_int64(s, 7, r->max_ns > INT64_MAX ? INT64_MAX : (int64_t)r->max_ns);
    sqlite3_bind_int64(s, 8, r->n_loose);
    int rc = step_reset(s);
    int64_t chunk = sqlite3_last_insert_rowid(r->st->db);
    if (rc == SQLITE_OK) {
        s = r->ins_data;
        sqlite3_bind_int64(s, 1, chunk);
        sqlite3_bind_blob(s, 2, r->buf, (int)r->len, SQLITE_STATIC);
        rc = step_reset(s);
    }
    if (rc == SQLITE_OK) {
        /* The ids sorted, as little-endian u64: readers binary-search it. */
        qsort(r->flow_list, r->n_flows, sizeof(uint64_t), cmp_u64);
        for (uint32_t i = 0; i < r->n_flows; i++) {
            uint64_t v = r->flow_list[i];
            uint8_t *p = (uint8_t *)&r->flow_list[i];
            for (int b = 0; b < 8; b++)
                p[b] = (uint8_t)(v >> (8 * b));
        }
        s = r->ins_flows;
        sqlite3_bind_int64(s, 1, chunk);
        sqlite3_bind_blob(s, 2, r->flow_list, (int)(r->n_flows * sizeof(uint64_t)), SQLITE_STATIC);
        rc = step_reset(s);
    }
    if (rc != SQLITE_OK)
        return fail(r, err, rc);
    memset(r->flow_slots, 0, FLOW_SLOTS * sizeof(uint64_t));
    r->n_flows = 0;
    r->len = 0;
    r->n_pkts = 0;
    r->n_loose = 0;
    r->seq++;
    r->stats.chunks++;
    return NP_OK;
}

static void flow_mark(struct np_store_rec *r, uint64_t id)
{
    uint32_t i = (uint32_t)np_hash_mix64(id) & (FLOW_SLOTS - 1);
    while (r->flow_slots[i] != 0) {
        if (r->flow_slots[i] == id)
            return;
        i = (i + 1) & (FLOW_SLOTS - 1);
    }
    r->flow_slots[i] = id;
    r->flow_list[r->n_flows++] = id; /* < NP_STORE_CHUNK_PKTS: one per packet at most */
}

/* First packet on an interface nobody declared: declare it from the
 * packet's own link type and precision (slow path, once per interface). */
static enum np_rc auto_iface(struct np_store_rec *r, const struct np_pkt *p, struct np_err *err)
{
    struct np_store_iface i;
    memset(&i, 0, sizeof(i));
    i.ifid = p->ifid;
    i.linktype = p->linktype;
    i.ts_prec = p->ts_prec == 9 ? 9 : 6;
    return np_store_rec_iface(r, &i, err);
}

enum np_rc np_store_rec_packet(struct np_store_rec *r, const struct np_pkt *p, uint64_t flow_id,
                               struct np_err *err)
{
    enum np_rc out;
    size_t need = NP_CHUNK_HDR + (size_t)p->caplen;
    if (r->n_pkts == NP_STORE_CHUNK_PKTS || (r->n_pkts > 0 && r->len + need > r->cap)) {
        out = flush_chunk(r, err);
        if (out != NP_OK)
            return out;
    }
    if (need > r->cap) { /* one packet larger than a chunk: it gets a chunk of its own */
        uint8_t *nb = realloc(r->buf, need);
        if (nb == NULL)
            return np_err_set(err, NP_ERR_NOMEM, "cannot record into %s: out of memory",
                              r->st->path);
        r->buf = nb;
        r->cap = need;
    }
    if (p->ifid >= KNOWN_IFACES || !(r->known_ifaces[p->ifid / 64] & (1ull << (p->ifid % 64)))) {
        out = auto_iface(r, p, err);
        if (out != NP_OK)
            return out;
    }
    uint32_t wirelen = p->wirelen < p->caplen ? p->caplen : p->wirelen;
    r->len +=
            np_chunk_put(r->buf + r->len, p->ts_ns, flow_id, p->caplen, wirelen, p->ifid, p->data);
    if (r->n_pkts == 0 || p->ts_ns < r->min_ns)
        r->min_ns = p->ts_ns;
    if (r->n_pkts == 0 || p->ts_ns > r->max_ns)
        r->max_ns = p->ts_ns;
    if (r->stats.packets == 0 || p->ts_ns < r->first_ns)
        r->first_ns = p->ts_ns;
    if (r->stats.packets == 0 || p->ts_ns > r->last_ns)
        r->last_ns = p->ts_ns;
    r->n_pkts++;
    r->next_frame++;
    r->stats.packets++;
    r->stats.bytes += p->caplen;
    r->wire_bytes += wirelen;
    if (flow_id != 0) {
        flow_mark(r, flow_id);
    } else {
        /* A packet with addresses but no flow (a fragment whose datagram
         * never completed): host and port queries must read this chunk. */
        struct np_dpkt d;
        np_decode(p->linktype, p->data, p->caplen, wirelen, &d, &r->dec);
        if (d.ip_ver != 0)
            r->n_loose++;
    }
    /* Chunk rows are written here rather than at commit, so a transaction
     * holds whole chunks only and the buffer is free again at once. */
    if (r->n_pkts == NP_STORE_CHUNK_PKTS)
        return flush_chunk(r, err);
    return NP_OK;
}

enum np_rc np_store_rec_flow(struct np_store_rec *r, const struct np_flow *f, struct np_err *err)
{
    enum np_rc out = begin(r, err);
    if (out != NP_OK)
        return out;
    const struct np_flow_key *k = &f->key;
    int alen = k->ip_ver == 6 ? 16 : 4;
    sqlite3_stmt *s = r->ins_flow;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, (int64_t)f->id);
    sqlite3_bind_int(s, 3, k->ip_ver);
    sqlite3_bind_int(s, 4, k->proto);
    if (k->vlan != NP_VLAN_NONE)
        sqlite3_bind_int(s, 5, k->vlan);
    sqlite3_bind_blob(s, 6, k->addr_a, alen, SQLITE_STATIC);
    sqlite3_bind_int(s, 7, k->port_a);
    sqlite3_bind_blob(s, 8, k->addr_b, alen, SQLITE_STATIC);
    sqlite3_bind_int(s, 9, k->port_b);
    sqlite3_bind_int64(s, 10, (int64_t)f->first_ns);
    sqlite3_bind_int64(s, 11, (int64_t)f->last_ns);
    sqlite3_bind_int64(s, 12, f->pkts[0]);
    sqlite3_bind_int64(s, 13, f->pkts[1]);
    sqlite3_bind_int64(s, 14, (int64_t)f->bytes[0]);
    sqlite3_bind_int64(s, 15, (int64_t)f->bytes[1]);
    int rc = step_reset(s);
    if (rc != SQLITE_OK)
        return fail(r, err, rc);
    r->stats.flows++;
    return NP_OK;
}

static enum np_rc update_session(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                                 struct np_err *err)
{
    sqlite3_stmt *s = r->upd_session;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, (int64_t)r->first_ns);
    sqlite3_bind_int64(s, 3, (int64_t)r->last_ns);
    sqlite3_bind_int64(s, 4, (int64_t)r->stats.packets);
    sqlite3_bind_int64(s, 5, (int64_t)r->stats.bytes);
    sqlite3_bind_int64(s, 6, (int64_t)r->wire_bytes);
    sqlite3_bind_int64(s, 7, (int64_t)drops);
    sqlite3_bind_int64(s, 8, (int64_t)if_drops);
    sqlite3_bind_int64(s, 9, (int64_t)r->seq);
    int rc = step_reset(s);
    return rc == SQLITE_OK ? NP_OK : fail(r, err, rc);
}

enum np_rc np_store_rec_commit(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                               struct np_err *err)
{
    enum np_rc out = flush_chunk(r, err);
    if (out == NP_OK)
        out = begin(r, err);
    if (out == NP_OK)
        out = update_session(r, drops, if_drops, err);
    if (out != NP_OK)
        return out;
    int rc = np_store_exec(r->st, "COMMIT");
    if (rc != SQLITE_OK)
        return fail(r, err, rc); /* still in the transaction: rec_end rolls back */
    r->in_txn = false;
    r->stats.commits++;
    return NP_OK;
}

void np_store_rec_abandon(struct np_store_rec *r)
{
    rec_free(r); /* rolls back what was not committed, releases the lock */
}

enum np_rc np_store_rec_end(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                            struct np_err *err)
{
    enum np_rc out = flush_chunk(r, err);
    if (out == NP_OK)
        out = begin(r, err);
    if (out == NP_OK)
        out = update_session(r, drops, if_drops, err);
    if (out == NP_OK) {
        sqlite3_stmt *s = NULL;
        int rc = sqlite3_prepare_v2(
                r->st->db, "UPDATE sessions SET state = 1, end_ns = ? WHERE id = ?", -1, &s, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(s, 1, (int64_t)np_store_now_ns());
            sqlite3_bind_int64(s, 2, r->id);
            rc = sqlite3_step(s);
        }
        sqlite3_finalize(s);
        if (rc == SQLITE_DONE)
            rc = np_store_exec(r->st, "COMMIT");
        if (rc == SQLITE_OK)
            r->in_txn = false;
        else
            out = fail(r, err, rc);
    }
    rec_free(r);
    return out;
}
