/* store/store.h: the recording store, an SQLite database of sessions.
 *
 * A session is one recording: from an interface (`record -i`) or imported
 * from capture files (`record -r`). Its packets are kept in chunk rows: a
 * blob of consecutive packet records (bounded by NP_STORE_CHUNK_PKTS and
 * NP_STORE_CHUNK_BYTES), beside a flows table (append-only: one or two rows
 * per flow, carrying the flow id of flow/key.h), a key index of flow rows
 * by address and port, and a flow-to-chunk index, so a query by host, port,
 * flow or time reads only the chunks that can hold its packets. The
 * schema is versioned with PRAGMA user_version and documented in
 * docs/storage.md; the database runs in WAL mode, so readers (sessions,
 * query, export, replay) work while a recording writes.
 *
 * A recording session holds an open-file-description lock on one byte (its
 * id) of a lock file beside the database ("DB-lock"), taken before its row
 * is inserted and released only when the process ends or the session is
 * closed. A session whose row still says "recording" but whose byte nobody
 * holds was left by a process that died: it is listed as interrupted. No
 * timing is involved.
 *
 * Writes are batched into transactions committed when a recording asks
 * (np_store_rec_commit or np_store_rec_commit_async; `record` queues one
 * at least every 0.5 s) and at the end; after a SIGKILL the database holds
 * every packet up to the last commit done and passes PRAGMA
 * integrity_check.
 *
 * A recording hands its SQLite work to a writer thread of its own (rec.c),
 * so that the database's writes overlap capture; np_store_rec_* calls that
 * queue work return the writer's first error, possibly on a later call
 * than the one whose work failed. While a recording runs, its store is used
 * by that thread only, except between the return of np_store_rec_commit
 * (which leaves the writer idle) and the next np_store_rec_* call.
 *
 * Nothing is allocated per packet: chunk and index buffers are allocated
 * once per recording (the table of open flows grows with their number).
 * Owned by one thread.
 */
#ifndef NP_STORE_STORE_H
#define NP_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct np_pkt;
struct np_flow;

/* The schema this build writes (PRAGMA user_version). */
#define NP_STORE_SCHEMA 2
/* A chunk ends when the next packet would pass either bound. */
#define NP_STORE_CHUNK_PKTS  1024u
#define NP_STORE_CHUNK_BYTES (256u << 10)

struct np_store;

/* Opens (and with create, creates) the database at path, upgrades an older
 * schema in one transaction, and switches it to WAL. Errors, with one line in
 * err: NP_ERR_USAGE for a missing database without create, a file that is
 * not an SQLite database or not ours, a schema newer than this build ("made
 * by a newer netpeek"), or a database that cannot be written when writable
 * is set (read-only file or directory); NP_ERR_IO otherwise. */
struct np_store *np_store_open(const char *path, bool create, bool writable, struct np_err *err);
void np_store_close(struct np_store *st);

/* ---- sessions ---- */

enum np_store_state {
    NP_STORE_RECORDING = 0, /* a live process holds its lock */
    NP_STORE_COMPLETE,      /* closed by its recorder */
    NP_STORE_INTERRUPTED,   /* says recording, but its recorder is gone */
};

struct np_store_iface {
    uint32_t ifid;     /* the packets' ifid (from 0, as the source numbers them) */
    uint16_t linktype; /* DLT_* / LINKTYPE_* */
    uint32_t snaplen;  /* 0: unknown */
    uint8_t ts_prec;   /* the input's timestamp digits: 6 or 9 (export keeps it) */
    char name[64];     /* interface name, or "" */
};

struct np_store_session {
    int64_t id;
    char name[128];    /* --name, or "" */
    char source[256];  /* interface name, or the files, comma-separated (cut to fit) */
    bool live;         /* true: an interface; false: files */
    char filter[256];  /* BPF, or "" (cut to fit) */
    char hostname[64]; /* where it was recorded */
    char version[32];  /* the netpeek version that recorded it */
    uint32_t snaplen;  /* as asked for */
    uint64_t start_ns; /* wall clock when the recording began (ns since the epoch) */
    uint64_t end_ns;   /* when it ended; 0 while recording or interrupted */
    uint64_t first_ns; /* capture time of the first and last packet; 0 when none */
    uint64_t last_ns;
    uint64_t packets; /* stored (committed) */
    uint64_t bytes;   /* captured bytes stored */
    uint64_t wire_bytes;
    uint64_t drops; /* kernel drops reported by the capture */
    uint64_t if_drops;
    enum np_store_state state;
    uint32_t n_ifaces;
    uint16_t linktype; /* the first interface's; see n_ifaces */
};

/* Calls fn for every session, newest (largest id) first, until fn returns
 * false. NP_OK, or an error with err set. */
typedef bool np_store_session_fn(const struct np_store_session *s, void *ctx);
enum np_rc np_store_sessions(struct np_store *st, np_store_session_fn *fn, void *ctx,
                             struct np_err *err);

/* Resolves a session id: the session with exactly that id, else the one
 * whose decimal id starts with id_text when only one does ("4" finds 41
 * when there is no session 4 and no other 4x). NP_OK with *s filled, or
 * NP_ERR_USAGE ("no session 7", "session 1 is ambiguous: 10, 11"). */
enum np_rc np_store_session_find(struct np_store *st, const char *id_text,
                                 struct np_store_session *s, struct np_err *err);

/* The session's interfaces in ifid order; *n set. At most max are written. */
enum np_rc np_store_session_ifaces(struct np_store *st, int64_t id, struct np_store_iface *out,
                                   uint32_t max, uint32_t *n, struct np_err *err);

/* Deletes a session with its packets, flows and interfaces in one
 * transaction. A session still recording is refused (NP_ERR_USAGE). */
enum np_rc np_store_session_delete(struct np_store *st, int64_t id, struct np_err *err);

/* ---- recording ---- */

struct np_store_rec_cfg {
    const char *name;   /* NULL or "" for none */
    const char *source; /* interface name, or the files joined with ", " */
    bool live;
    const char *filter; /* NULL or "" for none */
    uint32_t snaplen;
};

struct np_store_rec;

/* Starts a session: takes its lock, inserts its row (state recording) and
 * commits, so `sessions` lists it at once. NULL with err set. */
struct np_store_rec *np_store_rec_begin(struct np_store *st, const struct np_store_rec_cfg *cfg,
                                        struct np_err *err);
int64_t np_store_rec_id(const struct np_store_rec *r);

/* Declares an interface before its first packet (any time; a second call
 * for the same ifid is ignored). */
enum np_rc np_store_rec_iface(struct np_store_rec *r, const struct np_store_iface *i,
                              struct np_err *err);

/* Appends one packet, in input order. flow_id is its flow (0: none, e.g.
 * ARP); a packet of a flow marks the flow as present in the current chunk.
 * The packet is durable after the next commit. */
enum np_rc np_store_rec_packet(struct np_store_rec *r, const struct np_pkt *p, uint64_t flow_id,
                               struct np_err *err);

/* Called twice per flow: when it starts (end false), before its first
 * packet goes to np_store_rec_packet, and when it ends (end true), with its
 * final counts. Rows are appended, never rewritten: a flow that ends before
 * the next commit gets one row, its final one; a flow still open at a
 * commit gets a start row then (so that queries during the recording find
 * it) and a final row when it ends. An end without a start gets its final
 * row alone; a second start is ignored. */
enum np_rc np_store_rec_flow(struct np_store_rec *r, const struct np_flow *f, bool end,
                             struct np_err *err);

/* Commits everything appended so far, with the session's counters and
 * drops, and returns once it is committed (or failed): from then on it
 * survives the process (synchronous=NORMAL: a power cut may still lose
 * the last commits, never consistency; docs/storage.md). */
enum np_rc np_store_rec_commit(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                               struct np_err *err);

/* The same commit, queued: it runs after what is queued before it, and
 * the call returns at once. An error of the writer (this commit's or an
 * earlier operation's) is returned by a later call. */
enum np_rc np_store_rec_commit_async(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                                     struct np_err *err);

/* Commits, marks the session complete with its end time, releases the lock
 * and frees r (also on error). */
enum np_rc np_store_rec_end(struct np_store_rec *r, uint64_t drops, uint64_t if_drops,
                            struct np_err *err);

/* Frees r without committing or ending the session: after a store error,
 * the session keeps what was committed and, its lock released, is listed as
 * interrupted. NULL is a no-op. */
void np_store_rec_abandon(struct np_store_rec *r);

/* Counters of what r has appended (committed or not). */
struct np_store_rec_stats {
    uint64_t packets, bytes, chunks, flows, commits; /* flows: started */
};
const struct np_store_rec_stats *np_store_rec_stats(const struct np_store_rec *r);

/* ---- reading ---- */

struct np_store_query {
    int64_t session;
    bool has_host;    /* packets to or from this address */
    uint8_t host_ver; /* 4 or 6 */
    uint8_t host[16]; /* IPv4 in the first 4 bytes */
    int32_t port;     /* -1: any; else packets with this source or destination port */
    bool has_flow;
    uint64_t flow_id;  /* packets of this flow */
    uint64_t since_ns; /* capture time range, inclusive; 0 .. UINT64_MAX for all */
    uint64_t until_ns;
};

struct np_store_cursor;

/* Opens a cursor over the session's packets that match every condition
 * given, in input order. With host, port or flow set, only chunks that the
 * flow index names are read (for host and port, the key index is read as
 * the cursor advances, not up front); the time range uses the chunks' first
 * and last timestamps. Packets inside a chosen chunk are checked one by one (decoded
 * for host and TCP/UDP port; for flow, the flow id each packet record
 * carries, as given to np_store_rec_packet). */
struct np_store_cursor *np_store_cursor_open(struct np_store *st, const struct np_store_query *q,
                                             struct np_err *err);
void np_store_cursor_close(struct np_store_cursor *c);

/* The next matching packet: NP_OK with *p filled (frame_no: its position in
 * the session, from 1; data valid until the next call), NP_EOF, or an error
 * with err set. A damaged chunk is counted (chunks_damaged) and
 * skipped, never read past its end. */
enum np_rc np_store_cursor_next(struct np_store_cursor *c, struct np_pkt *p, struct np_err *err);

struct np_store_cursor_stats {
    uint64_t chunks_read;    /* chunk blobs read from the database */
    uint64_t chunks_damaged; /* blobs whose records ran past their end */
    uint64_t pkts_scanned;   /* packets looked at in those chunks */
};
const struct np_store_cursor_stats *np_store_cursor_stats(const struct np_store_cursor *c);

#endif
