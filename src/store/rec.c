/* store/rec.c: recording a session.
 *
 * The caller's thread builds chunks and flow rows; a writer thread started
 * per recording does every SQLite call after the session row, so that the
 * database's work (SQLite, the WAL, the kernel's copies into the page
 * cache) overlaps reading and tracking packets. The two share a queue of
 * operations (a chunk, a batch of flow rows, an interface, a commit), run
 * in the order they were queued; chunk buffers and flow row batches come
 * from fixed rings, handed to the writer with their operation and back
 * when it is done, so the caller waits only when every buffer is queued.
 * The writer's first error is sticky: later operations are dropped and
 * every call that queues work (a chunk, a batch, an interface, a commit)
 * returns it. Both threads start with signals blocked (core/thread.h).
 *
 * A third thread, with a connection of its own, runs the WAL checkpoints
 * (PASSIVE: concurrent with the writer's transactions), woken by the
 * writer's WAL hook when a commit leaves CKPT_WAKE_PAGES in the WAL. A
 * checkpoint copies the WAL into the database and syncs both files, and
 * the syncs (tens of ms each on this machine's disk) would stop the writer
 * for as long in SQLite's own automatic checkpoints. SQLite resets the WAL
 * only when a write begins with every frame copied, which a checkpoint
 * running beside the writer never achieves: the hook waits for one that
 * starts after its commit when the writer is idle anyway, and always past
 * CKPT_WAIT_PAGES, so the WAL is reset and bounded (wal_hook).
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
 * Flow rows are append-only (docs/storage.md): np_store_rec_flow() only
 * notes the flow in a pending batch, and the commit writes that batch. A
 * flow that started and ended since the last commit gets one row, its
 * final one (open 0); a flow still open at a commit gets a start row (open
 * 1) then, when it ends, a final row (open 2). A hash of flow ids tells a
 * flow's end from its start: it holds every flow started and not yet ended,
 * pending (the index of its entry) or handed to the writer (start row). A
 * batch goes to the writer early, within the transaction, when PEND_MAX
 * rows wait.
 *
 * Each batch of rows written is one block of the key index: its entries
 * (one per distinct address and port of each row) are bucketed by key in
 * memory and written as one blob per bucket, so a batch of n rows costs n
 * appends to flows and about 4n / NP_STORE_KEY_TARGET blob rows, where a
 * B-tree index costs a seek and insert per key (measured: 6M index inserts,
 * 13 s for synth-large). Each block carries the chunk seq at the first call
 * of its earliest row: no packet of its flows lies in an earlier chunk.
 *
 * Everything goes into one transaction that a commit ends. The session's
 * lock (store.h) is taken on its own open file description, so that a
 * probe through the store's descriptor sees it even in this process.
 * Nothing is allocated per packet; a packet larger than a chunk buffer
 * grows that buffer (once per buffer of the ring), and the open flow hash
 * doubles when half full (per flow, amortised). The caller's side is owned
 * by one thread; stats.commits counts commits queued.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/packet.h"
#include "core/thread.h"
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
/* Rows of a pending flow batch, and so of a key block at most: small
 * blocks let a reader load the index lazily in small steps (measured on
 * 10.6M packets: `query --port 443 -l 100` 60 ms with 65536, 10 ms with
 * 4096). The open flow hash starts at OPEN_MIN slots (a power of two) and
 * doubles when half full. */
#define PEND_MAX  4096u
#define OPEN_MIN  (1u << 15)
#define OPEN_DONE UINT32_MAX /* open hash value: its start row is handed over */
/* Interfaces whose declaration is remembered in a bitmap (8 KiB); a packet
 * on a higher one queues its (ignored) declaration again. */
#define KNOWN_IFACES 65536u
/* The rings: chunk buffers (the one being filled and those queued: 4 MiB),
 * flow row batches, and queued operations (more than both together, so a
 * commit or an interface rarely waits). */
#define N_CHUNKS  16u
#define N_BATCHES 4u
#define N_OPS     64u
/* WAL pages after a commit that wake the checkpointer (32 MiB), and that
 * make the writer wait until a checkpoint started after the commit has
 * copied everything back (256 MiB), so that the WAL is reset and stays
 * bounded. */
#define CKPT_WAKE_PAGES 2048
#define CKPT_WAIT_PAGES 16384

/* A key entry of a block being written. */
struct kent {
    uint64_t key;
    uint32_t delta; /* row - the block's first_row */
};

/* A flow row waiting for the next commit. */
struct pend {
    struct np_flow_key key;
    uint64_t id, first_ns, last_ns, bytes[2];
    uint64_t seq; /* the chunk being filled at its first call (for its start) */
    uint32_t pkts[2];
    uint8_t open; /* the row's open column: 1 start, 0 only row, 2 final after a start */
};

/* An entry of the open flow hash (linear probing, backward-shift delete). */
struct open_slot {
    uint64_t id;
    uint32_t val;  /* index into the current batch, or OPEN_DONE */
    uint32_t used; /* 0: empty */
};

/* A chunk: filled by the caller, written by the writer. */
struct chunk {
    uint8_t *buf; /* owned: its records */
    size_t len, cap;
    uint64_t *flows; /* owned: ids of its flows in arrival order (the writer sorts them) */
    uint32_t n_flows;
    uint32_t n_pkts;  /* records */
    uint32_t n_loose; /* IP packets without a flow */
    uint64_t min_ns, max_ns;
    uint64_t seq, first_frame; /* set when handed over */
};

struct batch {
    struct pend *rows; /* owned: PEND_MAX, in call order */
    uint32_t n;
};

/* The session row's counters, as of a commit. */
struct counts {
    uint64_t first_ns, last_ns, packets, bytes, wire_bytes, drops, if_drops, chunks;
};

enum op_kind {
    OP_CHUNK,
    OP_FLOWS,
    OP_IFACE,
    OP_COMMIT,
    OP_STOP
};

struct op {
    enum op_kind kind;
    uint32_t idx;                /* OP_CHUNK, OP_FLOWS: the chunk or batch */
    bool end;                    /* OP_COMMIT: and mark the session complete */
    struct counts c;             /* OP_COMMIT */
    struct np_store_iface iface; /* OP_IFACE */
};

struct np_store_rec {
    struct np_store *st;
    int64_t id;
    int lock_fd;

    /* ---- the caller's ---- */
    struct chunk chunks[N_CHUNKS];
    uint32_t cur; /* the chunk being filled */
    uint64_t seq; /* its number in the session */
    uint64_t next_frame;
    uint64_t *flow_slots; /* owned: FLOW_SLOTS entries, 0 = empty */
    struct batch batches[N_BATCHES];
    uint32_t cur_b;         /* the batch being filled */
    struct open_slot *open; /* owned: flows started and not ended; cap_open slots */
    uint32_t n_open, cap_open;
    uint64_t known_ifaces[KNOWN_IFACES / 64];
    uint64_t wire_bytes, first_ns, last_ns; /* for the session row */
    struct np_store_rec_stats stats;
    struct np_dec_stats dec; /* scratch for decoding loose packets */

    /* ---- the writer's ---- */
    bool in_txn;
    sqlite3_stmt *ins_chunk, *ins_data, *ins_flows, *ins_flow, *ins_iface, *upd_session;
    sqlite3_stmt *ins_block, *ins_keys;
    struct kent *keys;    /* owned: a block's key entries, 4 per pending row */
    struct kent *keys_by; /* owned: the same, by bucket */
    uint32_t *bucket_at;  /* owned: NP_STORE_KEY_BUCKETS_MAX + 1 bucket starts */
    uint8_t *key_blob;    /* owned: one bucket's blob */

    /* ---- shared, under mu ---- */
    pthread_mutex_t mu;
    pthread_cond_t to_writer, to_caller;
    pthread_t thread;
    bool thread_on;
    struct op ops[N_OPS];
    uint64_t op_head, op_tail; /* queued, done */
    bool chunk_busy[N_CHUNKS], batch_busy[N_BATCHES];
    enum np_rc w_rc; /* the writer's first error, with w_err */
    struct np_err w_err;

    /* ---- the checkpointer's connection; the rest under mu ---- */
    sqlite3 *ckpt_db;
    pthread_t ckpt_thread;
    pthread_cond_t to_ckpt, ckpt_over;
    bool ckpt_on, ckpt_due, ckpt_stop;
    uint64_t ckpt_started, ckpt_done;
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
    struct flock fl = np_store_session_lock(id);
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

/* ---- the queue ---- */

/* Queues o, waiting while the queue is full, and marks its buffer busy.
 * The writer's first error, if any (the operation is queued anyway: the
 * writer drops it and frees its buffer). */
static enum np_rc post(struct np_store_rec *r, const struct op *o, struct np_err *err)
{
    pthread_mutex_lock(&r->mu);
    while (r->op_head - r->op_tail == N_OPS)
        pthread_cond_wait(&r->to_caller, &r->mu);
    r->ops[r->op_head % N_OPS] = *o;
    r->op_head++;
    if (o->kind == OP_CHUNK)
        r->chunk_busy[o->idx] = true;
    else if (o->kind == OP_FLOWS)
        r->batch_busy[o->idx] = true;
    pthread_cond_signal(&r->to_writer);
    pthread_cond_broadcast(&r->ckpt_over); /* ends an idle wait in wal_hook */
    enum np_rc rc = r->w_rc;
    if (rc != NP_OK)
        *err = r->w_err;
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* Waits until *busy (a ring entry) is free again. */
static void wait_free(struct np_store_rec *r, const bool *busy)
{
    pthread_mutex_lock(&r->mu);
    while (*busy)
        pthread_cond_wait(&r->to_caller, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

/* Waits until the writer has run everything queued; its first error. */
static enum np_rc drain(struct np_store_rec *r, struct np_err *err)
{
    pthread_mutex_lock(&r->mu);
    while (r->op_tail != r->op_head)
        pthread_cond_wait(&r->to_caller, &r->mu);
    enum np_rc rc = r->w_rc;
    if (rc != NP_OK)
        *err = r->w_err;
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- the checkpointer ---- */

/* The writer's WAL hook (after each commit, the write lock released): wakes
 * the checkpointer, and may wait for a checkpoint that starts after this
 * commit, so that the next write finds every frame copied and resets the
 * WAL. It waits past CKPT_WAIT_PAGES; below, only while the writer has
 * nothing else queued (the commit being run is the queue's only entry), so
 * that a recording at a modest rate keeps its WAL small at no cost, and
 * work that arrives ends the wait. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    struct np_store_rec *r = arg;
    if (pages < CKPT_WAKE_PAGES)
        return SQLITE_OK;
    pthread_mutex_lock(&r->mu);
    uint64_t want = r->ckpt_started + 1;
    r->ckpt_due = true;
    pthread_cond_signal(&r->to_ckpt);
    while (r->ckpt_done < want && !r->ckpt_stop &&
           (pages >= CKPT_WAIT_PAGES || r->op_head - r->op_tail <= 1))
        pthread_cond_wait(&r->ckpt_over, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    struct np_store_rec *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->ckpt_due && !r->ckpt_stop)
            pthread_cond_wait(&r->to_ckpt, &r->mu);
        if (r->ckpt_stop)
            break;
        r->ckpt_due = false;
        uint64_t n = ++r->ckpt_started;
        pthread_mutex_unlock(&r->mu);
        /* A failure (busy, I/O) leaves the frames in the WAL: the next
         * checkpoint, or the last connection's close, copies them. */
        sqlite3_wal_checkpoint_v2(r->ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&r->mu);
        r->ckpt_done = n;
        pthread_cond_broadcast(&r->ckpt_over);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Opens the checkpointer's connection and starts it, and hands the
 * writer's checkpoints to it. Without it (no connection, no thread) SQLite
 * checkpoints in the writer as usual. */
static void ckpt_start(struct np_store_rec *r)
{
    if (sqlite3_open_v2(r->st->path, &r->ckpt_db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(r->ckpt_db);
        r->ckpt_db = NULL;
        return;
    }
    sqlite3_busy_timeout(r->ckpt_db, 5000);
    /* A connection finds the WAL on its first read: before, a checkpoint
     * does nothing. */
    if (sqlite3_exec(r->ckpt_db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) !=
        SQLITE_OK) {
        sqlite3_close(r->ckpt_db);
        r->ckpt_db = NULL;
        return;
    }
    if (np_thread_start(&r->ckpt_thread, ckpt_main, r) != 0) {
        sqlite3_close(r->ckpt_db);
        r->ckpt_db = NULL;
        return;
    }
    r->ckpt_on = true;
    sqlite3_wal_hook(r->st->db, wal_hook, r); /* replaces the automatic checkpoints */
}

static void ckpt_end(struct np_store_rec *r)
{
    if (!r->ckpt_on)
        return;
    pthread_mutex_lock(&r->mu);
    r->ckpt_stop = true;
    pthread_cond_broadcast(&r->to_ckpt);
    pthread_cond_broadcast(&r->ckpt_over);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->ckpt_thread, NULL);
    sqlite3_close(r->ckpt_db);
    r->ckpt_on = false;
    sqlite3_wal_autocheckpoint(r->st->db, 1000); /* SQLite's default again */
}

static void rec_free(struct np_store_rec *r)
{
    if (r == NULL)
        return;
    if (r->thread_on) {
        struct op o = { .kind = OP_STOP };
        struct np_err e;
        post(r, &o, &e);
        pthread_join(r->thread, NULL);
    }
    ckpt_end(r);
    pthread_cond_destroy(&r->ckpt_over);
    pthread_cond_destroy(&r->to_ckpt);
    pthread_cond_destroy(&r->to_caller);
    pthread_cond_destroy(&r->to_writer);
    pthread_mutex_destroy(&r->mu);
    if (r->in_txn)
        np_store_exec(r->st, "ROLLBACK");
    sqlite3_finalize(r->ins_chunk);
    sqlite3_finalize(r->ins_data);
    sqlite3_finalize(r->ins_flows);
    sqlite3_finalize(r->ins_flow);
    sqlite3_finalize(r->ins_iface);
    sqlite3_finalize(r->upd_session);
    sqlite3_finalize(r->ins_block);
    sqlite3_finalize(r->ins_keys);
    drop_lock(r);
    for (uint32_t i = 0; i < N_CHUNKS; i++) {
        free(r->chunks[i].buf);
        free(r->chunks[i].flows);
    }
    for (uint32_t i = 0; i < N_BATCHES; i++)
        free(r->batches[i].rows);
    free(r->flow_slots);
    free(r->open);
    free(r->keys);
    free(r->keys_by);
    free(r->bucket_at);
    free(r->key_blob);
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

/* ---- the writer ---- */

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

static enum np_rc write_iface(struct np_store_rec *r, const struct np_store_iface *i,
                              struct np_err *err)
{
    sqlite3_stmt *s = r->ins_iface;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, i->ifid);
    sqlite3_bind_int(s, 3, i->linktype);
    sqlite3_bind_int64(s, 4, i->snaplen);
    sqlite3_bind_int(s, 5, i->ts_prec == 9 ? 9 : 6);
    sqlite3_bind_text(s, 6, i->name, (int)strnlen(i->name, sizeof(i->name)), SQLITE_STATIC);
    int rc = step_reset(s);
    return rc == SQLITE_OK ? NP_OK : fail(r, err, rc);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* SQLite integers are signed: times past 2262 are stored as INT64_MAX.
 * Clamping keeps the order, so a time range still selects every chunk that
 * can hold a match; packets are then checked exactly. */
static int64_t clamp_ns(uint64_t ns)
{
    return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

/* Writes a chunk's three rows. */
static enum np_rc write_chunk(struct np_store_rec *r, struct chunk *c, struct np_err *err)
{
    sqlite3_stmt *s = r->ins_chunk;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, (int64_t)c->seq);
    sqlite3_bind_int64(s, 3, (int64_t)c->first_frame);
    sqlite3_bind_int64(s, 4, c->n_pkts);
    sqlite3_bind_int64(s, 5, (int64_t)c->len);
    sqlite3_bind_int64(s, 6, clamp_ns(c->min_ns));
    sqlite3_bind_int64(s, 7, clamp_ns(c->max_ns));
    sqlite3_bind_int64(s, 8, c->n_loose);
    int rc = step_reset(s);
    int64_t chunk = sqlite3_last_insert_rowid(r->st->db);
    if (rc == SQLITE_OK) {
        s = r->ins_data;
        sqlite3_bind_int64(s, 1, chunk);
        sqlite3_bind_blob(s, 2, c->buf, (int)c->len, SQLITE_STATIC);
        rc = step_reset(s);
    }
    if (rc == SQLITE_OK) {
        /* The ids sorted, as little-endian u64: readers binary-search it. */
        qsort(c->flows, c->n_flows, sizeof(uint64_t), cmp_u64);
        for (uint32_t i = 0; i < c->n_flows; i++) {
            uint64_t v = c->flows[i];
            uint8_t *p = (uint8_t *)&c->flows[i];
            for (int b = 0; b < 8; b++)
                p[b] = (uint8_t)(v >> (8 * b));
        }
        s = r->ins_flows;
        sqlite3_bind_int64(s, 1, chunk);
        sqlite3_bind_blob(s, 2, c->flows, (int)(c->n_flows * sizeof(uint64_t)), SQLITE_STATIC);
        rc = step_reset(s);
    }
    return rc == SQLITE_OK ? NP_OK : fail(r, err, rc);
}

/* The key entries of one row: its addresses and ports, each once. */
static uint32_t row_keys(const struct pend *p, uint32_t delta, struct kent *out)
{
    const struct np_flow_key *k = &p->key;
    size_t alen = k->ip_ver == 6 ? 16 : 4;
    uint32_t n = 0;
    out[n++] = (struct kent){ np_store_key(NP_STORE_KEY_ADDR, k->addr_a, alen), delta };
    if (memcmp(k->addr_a, k->addr_b, alen) != 0)
        out[n++] = (struct kent){ np_store_key(NP_STORE_KEY_ADDR, k->addr_b, alen), delta };
    out[n++] = (struct kent){ np_store_key_port(k->port_a), delta };
    if (k->port_a != k->port_b)
        out[n++] = (struct kent){ np_store_key_port(k->port_b), delta };
    return n;
}

/* Writes the block of key entries for rows first_row.. (keys[0, n)):
 * bucketed by a counting sort, which keeps row order within a bucket. */
static enum np_rc write_block(struct np_store_rec *r, uint64_t seq, int64_t first_row,
                              int64_t last_row, uint32_t n, struct np_err *err)
{
    uint32_t nb = 1;
    while (nb < NP_STORE_KEY_BUCKETS_MAX && (uint64_t)nb * NP_STORE_KEY_TARGET < n)
        nb *= 2;
    sqlite3_stmt *s = r->ins_block;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, (int64_t)seq);
    sqlite3_bind_int64(s, 3, first_row);
    sqlite3_bind_int64(s, 4, last_row);
    sqlite3_bind_int64(s, 5, nb);
    int rc = step_reset(s);
    if (rc != SQLITE_OK)
        return fail(r, err, rc);
    int64_t block = sqlite3_last_insert_rowid(r->st->db);
    uint32_t *at = r->bucket_at;
    memset(at, 0, (nb + 1) * sizeof(*at));
    for (uint32_t i = 0; i < n; i++)
        at[(r->keys[i].key & (nb - 1)) + 1]++;
    for (uint32_t b = 0; b < nb; b++)
        at[b + 1] += at[b];
    for (uint32_t i = 0; i < n; i++)
        r->keys_by[at[r->keys[i].key & (nb - 1)]++] = r->keys[i];
    /* at[b] is now the end of bucket b */
    s = r->ins_keys;
    for (uint32_t b = 0, start = 0; b < nb; start = at[b], b++) {
        if (at[b] == start)
            continue; /* no row: an empty bucket */
        uint8_t *o = r->key_blob;
        for (uint32_t i = start; i < at[b]; i++) {
            for (int j = 0; j < 8; j++)
                *o++ = (uint8_t)(r->keys_by[i].key >> (8 * j));
            for (int j = 0; j < 4; j++)
                *o++ = (uint8_t)(r->keys_by[i].delta >> (8 * j));
        }
        sqlite3_bind_int64(s, 1, block * (int64_t)NP_STORE_KEY_BUCKETS_MAX + b);
        sqlite3_bind_blob(s, 2, r->key_blob, (int)(o - r->key_blob), SQLITE_STATIC);
        rc = step_reset(s);
        if (rc != SQLITE_OK)
            return fail(r, err, rc);
    }
    return NP_OK;
}

/* Writes a batch's flow rows and their block. */
static enum np_rc write_flows(struct np_store_rec *r, const struct batch *b, struct np_err *err)
{
    sqlite3_stmt *s = r->ins_flow;
    int64_t first_row = 0, row = 0;
    uint64_t seq = UINT64_MAX;
    uint32_t n_keys = 0;
    for (uint32_t n = 0; n < b->n; n++) {
        const struct pend *p = &b->rows[n];
        const struct np_flow_key *k = &p->key;
        int alen = k->ip_ver == 6 ? 16 : 4;
        sqlite3_bind_int64(s, 1, r->id);
        sqlite3_bind_int64(s, 2, (int64_t)p->id);
        sqlite3_bind_int(s, 3, k->ip_ver);
        sqlite3_bind_int(s, 4, k->proto);
        if (k->vlan != NP_VLAN_NONE)
            sqlite3_bind_int(s, 5, k->vlan);
        else
            sqlite3_bind_null(s, 5);
        sqlite3_bind_blob(s, 6, k->addr_a, alen, SQLITE_STATIC);
        sqlite3_bind_int(s, 7, k->port_a);
        sqlite3_bind_blob(s, 8, k->addr_b, alen, SQLITE_STATIC);
        sqlite3_bind_int(s, 9, k->port_b);
        sqlite3_bind_int64(s, 10, (int64_t)p->first_ns);
        sqlite3_bind_int64(s, 11, (int64_t)p->last_ns);
        sqlite3_bind_int64(s, 12, p->pkts[0]);
        sqlite3_bind_int64(s, 13, p->pkts[1]);
        sqlite3_bind_int64(s, 14, (int64_t)p->bytes[0]);
        sqlite3_bind_int64(s, 15, (int64_t)p->bytes[1]);
        sqlite3_bind_int(s, 16, p->open);
        /* No clear_bindings: every parameter is bound for every row. */
        int rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
            return fail(r, err, rc);
        row = sqlite3_last_insert_rowid(r->st->db);
        if (n == 0)
            first_row = row;
        /* Our transaction is the only writer: rows are consecutive. */
        if (!NP_ALWAYS(row - first_row == (int64_t)n))
            return np_err_set(err, NP_ERR_IO, "cannot write %s: flow rows out of order",
                              r->st->path);
        n_keys += row_keys(p, n, r->keys + n_keys);
        if (p->seq < seq)
            seq = p->seq;
    }
    return write_block(r, seq, first_row, row, n_keys, err);
}

static enum np_rc update_session(struct np_store_rec *r, const struct counts *c, struct np_err *err)
{
    sqlite3_stmt *s = r->upd_session;
    sqlite3_bind_int64(s, 1, r->id);
    sqlite3_bind_int64(s, 2, clamp_ns(c->first_ns));
    sqlite3_bind_int64(s, 3, clamp_ns(c->last_ns));
    sqlite3_bind_int64(s, 4, (int64_t)c->packets);
    sqlite3_bind_int64(s, 5, (int64_t)c->bytes);
    sqlite3_bind_int64(s, 6, (int64_t)c->wire_bytes);
    sqlite3_bind_int64(s, 7, (int64_t)c->drops);
    sqlite3_bind_int64(s, 8, (int64_t)c->if_drops);
    sqlite3_bind_int64(s, 9, (int64_t)c->chunks);
    int rc = step_reset(s);
    return rc == SQLITE_OK ? NP_OK : fail(r, err, rc);
}

static enum np_rc mark_complete(struct np_store_rec *r, struct np_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(r->st->db, "UPDATE sessions SET state = 1, end_ns = ? WHERE id = ?",
                                -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, (int64_t)np_store_now_ns());
        sqlite3_bind_int64(s, 2, r->id);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? NP_OK : fail(r, err, rc);
}

/* Runs one operation inside the open transaction (beginning one if
 * needed); a commit ends it. On failure the transaction stays open
 * (rec_free rolls it back). */
static enum np_rc run_op(struct np_store_rec *r, const struct op *o, struct np_err *err)
{
    enum np_rc out = begin(r, err);
    if (out != NP_OK)
        return out;
    switch (o->kind) {
    case OP_CHUNK:
        return write_chunk(r, &r->chunks[o->idx], err);
    case OP_FLOWS:
        return write_flows(r, &r->batches[o->idx], err);
    case OP_IFACE:
        return write_iface(r, &o->iface, err);
    case OP_COMMIT:
        out = update_session(r, &o->c, err);
        if (out == NP_OK && o->end)
            out = mark_complete(r, err);
        if (out != NP_OK)
            return out;
        int rc = np_store_exec(r->st, "COMMIT");
        if (rc != SQLITE_OK)
            return fail(r, err, rc);
        r->in_txn = false;
        return NP_OK;
    case OP_STOP:
        break;
    }
    return NP_OK;
}

/* The writer thread: runs the queue in order until OP_STOP. After its
 * first error it only hands buffers back. */
static void *writer_main(void *arg)
{
    struct np_store_rec *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->op_tail == r->op_head)
            pthread_cond_wait(&r->to_writer, &r->mu);
        /* The caller does not touch this entry until op_tail passes it. */
        const struct op *o = &r->ops[r->op_tail % N_OPS];
        bool failed = r->w_rc != NP_OK;
        pthread_mutex_unlock(&r->mu);
        enum np_rc rc = NP_OK;
        struct np_err e = { 0 };
        if (!failed && o->kind != OP_STOP)
            rc = run_op(r, o, &e);
        pthread_mutex_lock(&r->mu);
        if (rc != NP_OK && r->w_rc == NP_OK) {
            r->w_rc = rc;
            r->w_err = e;
        }
        if (o->kind == OP_CHUNK)
            r->chunk_busy[o->idx] = false;
        else if (o->kind == OP_FLOWS)
            r->batch_busy[o->idx] = false;
        bool stop = o->kind == OP_STOP;
        r->op_tail++;
        pthread_cond_broadcast(&r->to_caller);
        if (stop)
            break;
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- setting up and tearing down ---- */

static bool alloc_buffers(struct np_store_rec *r)
{
    bool ok = true;
    for (uint32_t i = 0; i < N_CHUNKS; i++) {
        struct chunk *c = &r->chunks[i];
        c->cap = NP_STORE_CHUNK_BYTES;
        c->buf = malloc(c->cap);
        c->flows = malloc(NP_STORE_CHUNK_PKTS * sizeof(uint64_t));
        ok = ok && c->buf != NULL && c->flows != NULL;
    }
    for (uint32_t i = 0; i < N_BATCHES; i++) {
        r->batches[i].rows = malloc(PEND_MAX * sizeof(struct pend));
        ok = ok && r->batches[i].rows != NULL;
    }
    r->flow_slots = calloc(FLOW_SLOTS, sizeof(uint64_t));
    r->cap_open = OPEN_MIN;
    r->open = calloc(r->cap_open, sizeof(*r->open));
    r->keys = malloc(4 * (size_t)PEND_MAX * sizeof(*r->keys));
    r->keys_by = malloc(4 * (size_t)PEND_MAX * sizeof(*r->keys_by));
    r->bucket_at = malloc((NP_STORE_KEY_BUCKETS_MAX + 1) * sizeof(uint32_t));
    r->key_blob = malloc(4 * (size_t)PEND_MAX * NP_STORE_KEY_ENTRY);
    return ok && r->flow_slots != NULL && r->open != NULL && r->keys != NULL &&
           r->keys_by != NULL && r->bucket_at != NULL && r->key_blob != NULL;
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
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->to_writer, NULL);
    pthread_cond_init(&r->to_caller, NULL);
    pthread_cond_init(&r->to_ckpt, NULL);
    pthread_cond_init(&r->ckpt_over, NULL);
    if (!alloc_buffers(r)) {
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
                  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
                  &r->ins_flow);
    if (rc == SQLITE_OK)
        rc = prep(st,
                  "INSERT INTO flow_blocks(session, seq, first_row, last_row, n_buckets)"
                  " VALUES(?,?,?,?,?)",
                  &r->ins_block);
    if (rc == SQLITE_OK)
        rc = prep(st, "INSERT INTO flow_keys(id, keys) VALUES(?,?)", &r->ins_keys);
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
    /* The threads start before the session row, so that a failure leaves
     * no session behind; the writer waits for work until then. */
    int e = np_thread_start(&r->thread, writer_main, r);
    if (e != 0) {
        np_err_set(err, NP_ERR_IO, "cannot record into %s: cannot start a thread: %s", st->path,
                   strerror(e));
        goto fail;
    }
    r->thread_on = true;
    ckpt_start(r);
    if (insert_session(r, cfg, err) != NP_OK)
        goto fail;
    /* From here on only the writer uses the connection. */
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

/* ---- the caller's side ---- */

enum np_rc np_store_rec_iface(struct np_store_rec *r, const struct np_store_iface *i,
                              struct np_err *err)
{
    if (i->ifid < KNOWN_IFACES)
        r->known_ifaces[i->ifid / 64] |= 1ull << (i->ifid % 64);
    struct op o = { .kind = OP_IFACE, .iface = *i };
    return post(r, &o, err);
}

/* Hands the current chunk (if any) to the writer and starts the next one,
 * waiting for its buffer if every one is queued. */
static enum np_rc flush_chunk(struct np_store_rec *r, struct np_err *err)
{
    struct chunk *c = &r->chunks[r->cur];
    if (c->n_pkts == 0)
        return NP_OK;
    c->seq = r->seq;
    c->first_frame = r->next_frame - c->n_pkts;
    struct op o = { .kind = OP_CHUNK, .idx = r->cur };
    enum np_rc out = post(r, &o, err);
    memset(r->flow_slots, 0, FLOW_SLOTS * sizeof(uint64_t));
    r->seq++;
    r->stats.chunks++;
    r->cur = (r->cur + 1) % N_CHUNKS;
    wait_free(r, &r->chunk_busy[r->cur]);
    c = &r->chunks[r->cur];
    c->len = 0;
    c->n_pkts = 0;
    c->n_loose = 0;
    c->n_flows = 0;
    return out;
}

static void flow_mark(struct np_store_rec *r, struct chunk *c, uint64_t id)
{
    uint32_t i = (uint32_t)np_hash_mix64(id) & (FLOW_SLOTS - 1);
    while (r->flow_slots[i] != 0) {
        if (r->flow_slots[i] == id)
            return;
        i = (i + 1) & (FLOW_SLOTS - 1);
    }
    r->flow_slots[i] = id;
    c->flows[c->n_flows++] = id; /* < NP_STORE_CHUNK_PKTS: one per packet at most */
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
    struct chunk *c = &r->chunks[r->cur];
    /* The bound is NP_STORE_CHUNK_BYTES, not the buffer's size: a packet
     * larger than a chunk grows the buffer once and gets a chunk of its own. */
    if (c->n_pkts > 0 && c->len + need > NP_STORE_CHUNK_BYTES) {
        out = flush_chunk(r, err);
        if (out != NP_OK)
            return out;
        c = &r->chunks[r->cur];
    }
    if (need > c->cap) { /* one packet larger than a chunk: it gets a chunk of its own */
        uint8_t *nb = realloc(c->buf, need);
        if (nb == NULL)
            return np_err_set(err, NP_ERR_NOMEM, "cannot record into %s: out of memory",
                              r->st->path);
        c->buf = nb;
        c->cap = need;
    }
    if (p->ifid >= KNOWN_IFACES || !(r->known_ifaces[p->ifid / 64] & (1ull << (p->ifid % 64)))) {
        out = auto_iface(r, p, err);
        if (out != NP_OK)
            return out;
    }
    uint32_t wirelen = p->wirelen < p->caplen ? p->caplen : p->wirelen;
    c->len +=
            np_chunk_put(c->buf + c->len, p->ts_ns, flow_id, p->caplen, wirelen, p->ifid, p->data);
    if (c->n_pkts == 0 || p->ts_ns < c->min_ns)
        c->min_ns = p->ts_ns;
    if (c->n_pkts == 0 || p->ts_ns > c->max_ns)
        c->max_ns = p->ts_ns;
    if (r->stats.packets == 0 || p->ts_ns < r->first_ns)
        r->first_ns = p->ts_ns;
    if (r->stats.packets == 0 || p->ts_ns > r->last_ns)
        r->last_ns = p->ts_ns;
    c->n_pkts++;
    r->next_frame++;
    r->stats.packets++;
    r->stats.bytes += p->caplen;
    r->wire_bytes += wirelen;
    if (flow_id != 0) {
        flow_mark(r, c, flow_id);
    } else {
        /* A packet with addresses but no flow (a fragment whose datagram
         * never completed, or completed only in a later batch of the
         * recorder): host and port queries must read this chunk. */
        struct np_dpkt d;
        np_decode(p->linktype, p->data, p->caplen, wirelen, &d, &r->dec);
        if (d.ip_ver != 0)
            c->n_loose++;
    }
    /* A full chunk goes to the writer at once, so a transaction holds whole
     * chunks only. */
    if (c->n_pkts == NP_STORE_CHUNK_PKTS)
        return flush_chunk(r, err);
    return NP_OK;
}

/* ---- flow rows ---- */

static uint32_t open_home(const struct np_store_rec *r, uint64_t id)
{
    return (uint32_t)np_hash_mix64(id) & (r->cap_open - 1);
}

/* The slot holding id, or the empty slot where it would go. */
static uint32_t open_find(const struct np_store_rec *r, uint64_t id)
{
    uint32_t i = open_home(r, id);
    while (r->open[i].used && r->open[i].id != id)
        i = (i + 1) & (r->cap_open - 1);
    return i;
}

/* Doubles the hash when half full (once per so many flows, not per
 * packet). */
static enum np_rc open_grow(struct np_store_rec *r, struct np_err *err)
{
    if (2 * (r->n_open + 1) <= r->cap_open)
        return NP_OK;
    struct open_slot *old = r->open;
    uint32_t old_cap = r->cap_open;
    struct open_slot *n = calloc(2 * (size_t)old_cap, sizeof(*n));
    if (n == NULL)
        return np_err_set(err, NP_ERR_NOMEM, "cannot record into %s: out of memory", r->st->path);
    r->open = n;
    r->cap_open = 2 * old_cap;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i].used)
            r->open[open_find(r, old[i].id)] = old[i];
    free(old);
    return NP_OK;
}

/* Removes slot i, shifting later entries of its probe run back. */
static void open_del(struct np_store_rec *r, uint32_t i)
{
    uint32_t mask = r->cap_open - 1;
    for (uint32_t j = (i + 1) & mask; r->open[j].used; j = (j + 1) & mask) {
        uint32_t home = open_home(r, r->open[j].id);
        /* j's entry may move to i when its home is not in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            r->open[i] = r->open[j];
            i = j;
        }
    }
    r->open[i].used = 0;
    r->n_open--;
}

static void pend_fill(struct pend *p, const struct np_flow *f)
{
    p->key = f->key;
    p->id = f->id;
    p->first_ns = f->first_ns;
    p->last_ns = f->last_ns;
    p->pkts[0] = f->pkts[0];
    p->pkts[1] = f->pkts[1];
    p->bytes[0] = f->bytes[0];
    p->bytes[1] = f->bytes[1];
}

/* Hands the current batch (if any) to the writer and starts the next one;
 * flows whose start row it holds stay in the hash as OPEN_DONE. */
static enum np_rc flush_flows(struct np_store_rec *r, struct np_err *err)
{
    struct batch *b = &r->batches[r->cur_b];
    if (b->n == 0)
        return NP_OK;
    for (uint32_t n = 0; n < b->n; n++) {
        if (b->rows[n].open == 1) {
            uint32_t i = open_find(r, b->rows[n].id);
            if (NP_ALWAYS(r->open[i].used))
                r->open[i].val = OPEN_DONE;
        }
    }
    struct op o = { .kind = OP_FLOWS, .idx = r->cur_b };
    enum np_rc out = post(r, &o, err);
    r->cur_b = (r->cur_b + 1) % N_BATCHES;
    wait_free(r, &r->batch_busy[r->cur_b]);
    r->batches[r->cur_b].n = 0;
    return out;
}

static struct pend *pend_add(struct np_store_rec *r, struct np_err *err)
{
    if (r->batches[r->cur_b].n == PEND_MAX && flush_flows(r, err) != NP_OK)
        return NULL;
    struct batch *b = &r->batches[r->cur_b];
    struct pend *p = &b->rows[b->n++];
    p->seq = r->seq;
    return p;
}

enum np_rc np_store_rec_flow(struct np_store_rec *r, const struct np_flow *f, bool end,
                             struct np_err *err)
{
    enum np_rc out = open_grow(r, err);
    if (out != NP_OK)
        return out;
    uint32_t i = open_find(r, f->id);
    if (!r->open[i].used && end) { /* an end without a start: its one row */
        struct pend *p = pend_add(r, err);
        if (p == NULL)
            return err->rc;
        pend_fill(p, f);
        p->open = 0;
        r->stats.flows++;
        return NP_OK;
    }
    if (r->open[i].used && !end)
        return NP_OK;       /* started already */
    if (!r->open[i].used) { /* its start */
        struct pend *p = pend_add(r, err);
        if (p == NULL)
            return err->rc;
        pend_fill(p, f);
        p->open = 1;
        r->open[i].id = f->id;
        r->open[i].val = r->batches[r->cur_b].n - 1;
        r->open[i].used = 1;
        r->n_open++;
        r->stats.flows++;
        return NP_OK;
    }
    /* its end */
    if (r->open[i].val != OPEN_DONE) {
        struct pend *p = &r->batches[r->cur_b].rows[r->open[i].val];
        pend_fill(p, f); /* keeps the start's seq: its only row */
        p->open = 0;
    } else {
        struct pend *p = pend_add(r, err);
        if (p == NULL)
            return err->rc;
        pend_fill(p, f);
        p->open = 2;
    }
    open_del(r, i);
    return NP_OK;
}

/* One commit: hands over the current chunk and the pending flow rows, then
 * queues the commit with the session's counters (and, with end, its
 * completion); with wait, waits until the writer has run it. */
static enum np_rc commit(struct np_store_rec *r, uint64_t drops, uint64_t if_drops, bool end,
                         bool wait, struct np_err *err)
{
    enum np_rc out = flush_chunk(r, err);
    if (out == NP_OK)
        out = flush_flows(r, err);
    struct op o = { .kind = OP_COMMIT, .end = end };
    o.c = (struct counts){ .first_ns = r->first_ns,
                           .last_ns = r->last_ns,
                           .packets = r->stats.packets,
                           .bytes = r->stats.bytes,
                           .wire_bytes = r->wire_bytes,
                           .drops = drops,
                           .if_drops = if_drops,
                           .chunks = r->seq };
    if (out == NP_OK)
        out = post(r, &o, err);
    if (out == NP_OK && wait)
        out = drain(r, err);
    if (out == NP_OK)
        r->stats.commits++;
    return out;
}

enum np_rc np_store_rec_commit(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                               struct np_err *err)
{
    return commit(r, drops, if_drops, false, true, err);
}

enum np_rc np_store_rec_commit_async(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                                     struct np_err *err)
{
    return commit(r, drops, if_drops, false, false, err);
}

void np_store_rec_abandon(struct np_store_rec *r)
{
    rec_free(r); /* rolls back what was not committed, releases the lock */
}

enum np_rc np_store_rec_end(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                            struct np_err *err)
{
    enum np_rc out = commit(r, drops, if_drops, true, true, err);
    rec_free(r);
    return out;
}
