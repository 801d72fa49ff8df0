/* store/store.c: opening the database, its schema and migrations, the
 * session lock, and the session list.
 *
 * The schema is documented in docs/storage.md; PRAGMA user_version says
 * which one a file has and PRAGMA application_id that it is ours. Opening
 * for writing creates or upgrades it in one IMMEDIATE transaction, so two
 * processes opening a new file at once cannot both create it. Slow path.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/internal.h"

/* 'npks' */
#define NP_STORE_APP_ID 0x6e706b73

/* migrations[v] takes a database from schema v to v + 1. Schema 1 was a
 * development format that no release wrote (flows upserted under random
 * keys; docs/storage.md): it is refused, not upgraded, so migrations[0]
 * creates schema 2 at once and migrations[1] is never run. */
static const char *const migrations[NP_STORE_SCHEMA] = {
    /* 0 -> 2: the first released schema */
    "CREATE TABLE sessions("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',"
    " live INTEGER NOT NULL DEFAULT 0, filter TEXT NOT NULL DEFAULT '',"
    " hostname TEXT NOT NULL DEFAULT '', version TEXT NOT NULL DEFAULT '',"
    " snaplen INTEGER NOT NULL DEFAULT 0,"
    " state INTEGER NOT NULL DEFAULT 0," /* 0 recording, 1 complete */
    " start_ns INTEGER NOT NULL DEFAULT 0, end_ns INTEGER NOT NULL DEFAULT 0,"
    " first_ns INTEGER NOT NULL DEFAULT 0, last_ns INTEGER NOT NULL DEFAULT 0,"
    " packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    " wire_bytes INTEGER NOT NULL DEFAULT 0, drops INTEGER NOT NULL DEFAULT 0,"
    " if_drops INTEGER NOT NULL DEFAULT 0, chunks INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE ifaces("
    " session INTEGER NOT NULL, ifid INTEGER NOT NULL, linktype INTEGER NOT NULL,"
    " snaplen INTEGER NOT NULL, ts_prec INTEGER NOT NULL, name TEXT NOT NULL,"
    " PRIMARY KEY(session, ifid)) WITHOUT ROWID;"
    "CREATE TABLE chunks("
    " id INTEGER PRIMARY KEY, session INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " first_frame INTEGER NOT NULL, n_pkts INTEGER NOT NULL, n_bytes INTEGER NOT NULL,"
    " min_ns INTEGER NOT NULL, max_ns INTEGER NOT NULL, n_loose INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX chunks_session ON chunks(session, seq);"
    "CREATE TABLE chunk_data(chunk INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE chunk_flows(chunk INTEGER PRIMARY KEY, ids BLOB NOT NULL);"
    /* Flow rows are append-only, in insertion order, without a secondary
     * index; flow_blocks and flow_keys index each batch of them by address
     * and port in hashed buckets, written once (docs/storage.md). */
    "CREATE TABLE flows("
    " row INTEGER PRIMARY KEY, session INTEGER NOT NULL, id INTEGER NOT NULL,"
    " ip_ver INTEGER NOT NULL, proto INTEGER NOT NULL, vlan INTEGER,"
    " addr_a BLOB NOT NULL, port_a INTEGER NOT NULL,"
    " addr_b BLOB NOT NULL, port_b INTEGER NOT NULL,"
    " first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,"
    " pkts_ab INTEGER NOT NULL, pkts_ba INTEGER NOT NULL,"
    " bytes_ab INTEGER NOT NULL, bytes_ba INTEGER NOT NULL,"
    " open INTEGER NOT NULL);" /* 1 start row, 0 only row, 2 final row after a start row */
    "CREATE TABLE flow_blocks("
    " id INTEGER PRIMARY KEY, session INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " first_row INTEGER NOT NULL, last_row INTEGER NOT NULL, n_buckets INTEGER NOT NULL);"
    "CREATE INDEX flow_blocks_session ON flow_blocks(session);"
    "CREATE TABLE flow_keys(id INTEGER PRIMARY KEY, keys BLOB NOT NULL);",
    /* 1 -> 2: refused in check_version() */
    NULL,
};

uint64_t np_store_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int np_store_exec(struct np_store *st, const char *sql)
{
    return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

enum np_rc np_store_fail(struct np_store *st, struct np_err *err, const char *verb, int rc)
{
    const char *why;
    enum np_rc out = NP_ERR_IO;
    switch (rc & 0xff) {
    case SQLITE_FULL:
        why = "disk full";
        break;
    case SQLITE_READONLY:
        why = "read-only file or directory";
        out = NP_ERR_USAGE;
        break;
    case SQLITE_NOTADB:
        why = "not an SQLite database";
        out = NP_ERR_USAGE;
        break;
    case SQLITE_CORRUPT:
        why = "database is damaged";
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        why = "database is locked by another process";
        break;
    case SQLITE_CANTOPEN:
        why = "cannot open the file (or its -wal/-shm files)";
        break;
    case SQLITE_IOERR:
        why = (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC) && errno == ENOSPC
                      ? "disk full"
                      : "I/O error";
        break;
    default:
        why = st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
        break;
    }
    return np_err_set(err, out, "cannot %s %s: %s", verb, st->path, why);
}

/* ---- the lock ---- */

enum np_rc np_store_lock_open(struct np_store *st, bool for_write, struct np_err *err)
{
    if (st->lock_fd >= 0 && (st->lock_rw || !for_write))
        return NP_OK;
    int fd = open(st->lock_path, (for_write ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (!for_write && errno == ENOENT)
            return NP_EOF;
        return np_err_set(err, NP_ERR_IO, "cannot open %s: %s", st->lock_path, strerror(errno));
    }
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    st->lock_fd = fd;
    st->lock_rw = for_write;
    return NP_OK;
}

bool np_store_lock_held(struct np_store *st, int64_t id)
{
    if (np_store_lock_open(st, false, NULL) != NP_OK)
        return false; /* no lock file: nobody ever held a lock here */
    struct flock fl = np_store_session_lock(id);
    /* F_OFD_GETLK reports locks of other open file descriptions, ours
     * included: a recording in this very process shows as held. */
    if (fcntl(st->lock_fd, F_OFD_GETLK, &fl) != 0)
        return false;
    return fl.l_type != F_UNLCK;
}

/* ---- open ---- */

static enum np_rc read_pragma(struct np_store *st, const char *sql, int64_t *v, struct np_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? NP_OK : np_store_fail(st, err, "open", rc);
}

static enum np_rc check_version(struct np_store *st, int64_t *version, struct np_err *err)
{
    int64_t app = 0, tables = 0;
    enum np_rc rc = read_pragma(st, "PRAGMA user_version", version, err);
    if (rc == NP_OK)
        rc = read_pragma(st, "PRAGMA application_id", &app, err);
    if (rc == NP_OK)
        rc = read_pragma(st, "SELECT count(*) FROM sqlite_schema", &tables, err);
    if (rc != NP_OK)
        return rc;
    if (app != NP_STORE_APP_ID && (tables > 0 || *version != 0))
        return np_err_set(err, NP_ERR_USAGE, "cannot open %s: not a netpeek database", st->path);
    if (*version == 1)
        return np_err_set(err, NP_ERR_USAGE,
                          "cannot open %s: schema 1 is an unreleased development format that this "
                          "netpeek does not read; record the session again",
                          st->path);
    if (*version > NP_STORE_SCHEMA)
        return np_err_set(err, NP_ERR_USAGE,
                          "cannot open %s: database made by a newer netpeek (schema %lld, this "
                          "one reads up to %d)",
                          st->path, (long long)*version, NP_STORE_SCHEMA);
    return NP_OK;
}

static enum np_rc migrate(struct np_store *st, struct np_err *err)
{
    int rc = np_store_exec(st, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return np_store_fail(st, err, "write", rc);
    int64_t version = 0;
    enum np_rc r = check_version(st, &version, err);
    /* Step by step to this build's schema; a step may jump several
     * versions (0 -> 2), leaving the ones in between NULL. */
    for (int64_t v = version; r == NP_OK && v < NP_STORE_SCHEMA; v++) {
        if (migrations[v] == NULL)
            continue;
        rc = np_store_exec(st, migrations[v]);
        if (rc != SQLITE_OK)
            r = np_store_fail(st, err, "upgrade", rc);
    }
    if (r == NP_OK && version < NP_STORE_SCHEMA) {
        char sql[96];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d",
                 NP_STORE_SCHEMA, NP_STORE_APP_ID);
        rc = np_store_exec(st, sql);
        if (rc != SQLITE_OK)
            r = np_store_fail(st, err, "upgrade", rc);
    }
    if (r != NP_OK) {
        np_store_exec(st, "ROLLBACK");
        return r;
    }
    rc = np_store_exec(st, "COMMIT");
    if (rc != SQLITE_OK) {
        np_store_exec(st, "ROLLBACK");
        return np_store_fail(st, err, "write", rc);
    }
    return NP_OK;
}

/* The directory of path must be writable for the -wal and -shm files. */
static bool dir_writable(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return access(".", W_OK) == 0;
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/x" */
    if (n >= sizeof(dir))
        return true; /* let SQLite find out */
    memcpy(dir, path, n);
    dir[n] = '\0';
    return access(dir, W_OK) == 0;
}

struct np_store *np_store_open(const char *path, bool create, bool writable, struct np_err *err)
{
    struct np_store *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "cannot open %s: out of memory", path);
        return NULL;
    }
    st->lock_fd = -1;
    st->writable = writable;
    if (snprintf(st->path, sizeof(st->path), "%s", path) >= (int)sizeof(st->path) ||
        snprintf(st->lock_path, sizeof(st->lock_path), "%s-lock", path) >=
                (int)sizeof(st->lock_path)) {
        np_err_set(err, NP_ERR_USAGE, "database path too long: %s", path);
        goto fail;
    }

    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (!exists && !create) {
        np_err_set(err, NP_ERR_USAGE, "no database %s", path);
        goto fail;
    }
    if (exists && !S_ISREG(sb.st_mode)) {
        np_err_set(err, NP_ERR_USAGE, "cannot open %s: not a regular file", path);
        goto fail;
    }
    if (writable && ((exists && access(path, W_OK) != 0) || !dir_writable(path))) {
        np_err_set(err, NP_ERR_USAGE, "cannot write %s: read-only file or directory", path);
        goto fail;
    }

    int flags = writable ? SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)
                         : SQLITE_OPEN_READONLY;
    int rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        np_store_fail(st, err, "open", rc);
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    /* Readers and the writer wait for each other's short locks (WAL
     * checkpoints, schema creation) rather than fail at once. */
    sqlite3_busy_timeout(st->db, 5000);
    if (writable && sqlite3_db_readonly(st->db, "main") == 1) {
        np_err_set(err, NP_ERR_USAGE, "cannot write %s: read-only file or directory", path);
        goto fail;
    }

    int64_t version = 0;
    if (check_version(st, &version, err) != NP_OK)
        goto fail;
    if (writable) {
        /* Page size only matters before the first table; 16 KiB pages
         * halve the per-page overhead of chunk blobs against 4 KiB. */
        rc = np_store_exec(st, "PRAGMA page_size = 16384");
        if (rc == SQLITE_OK)
            rc = np_store_exec(st, "PRAGMA journal_mode = WAL");
        if (rc == SQLITE_OK)
            rc = np_store_exec(st, "PRAGMA synchronous = NORMAL");
        if (rc == SQLITE_OK)
            /* 32 MiB: recording touches the newest pages of each table and
             * index only (docs/storage.md), so a larger cache buys nothing
             * but resident memory. */
            rc = np_store_exec(st, "PRAGMA cache_size = -32768");
        if (rc != SQLITE_OK) {
            np_store_fail(st, err, "write", rc);
            goto fail;
        }
        if (version < NP_STORE_SCHEMA && migrate(st, err) != NP_OK)
            goto fail;
    } else if (version < NP_STORE_SCHEMA) {
        np_err_set(err, NP_ERR_USAGE,
                   version == 0 ? "cannot read %s: not a netpeek database (empty)"
                                : "cannot read %s: older schema, open it for writing to upgrade",
                   path);
        goto fail;
    }
    return st;
fail:
    np_store_close(st);
    return NULL;
}

void np_store_close(struct np_store *st)
{
    if (st == NULL)
        return;
    sqlite3_close_v2(st->db);
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    free(st);
}

/* ---- sessions ---- */

#define SESSION_COLS                                                                        \
    "id, name, source, live, filter, hostname, version, snaplen, state, start_ns, end_ns, " \
    "first_ns, last_ns, packets, bytes, wire_bytes, drops, if_drops, "                      \
    "(SELECT count(*) FROM ifaces i WHERE i.session = s.id), "                              \
    "(SELECT linktype FROM ifaces i WHERE i.session = s.id ORDER BY ifid LIMIT 1)"

static void text_col(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(dst, cap, "%s", t != NULL ? (const char *)t : "");
}

static void session_row(struct np_store *st, sqlite3_stmt *s, struct np_store_session *o)
{
    memset(o, 0, sizeof(*o));
    o->id = sqlite3_column_int64(s, 0);
    text_col(s, 1, o->name, sizeof(o->name));
    text_col(s, 2, o->source, sizeof(o->source));
    o->live = sqlite3_column_int(s, 3) != 0;
    text_col(s, 4, o->filter, sizeof(o->filter));
    text_col(s, 5, o->hostname, sizeof(o->hostname));
    text_col(s, 6, o->version, sizeof(o->version));
    o->snaplen = (uint32_t)sqlite3_column_int64(s, 7);
    int state = sqlite3_column_int(s, 8);
    o->start_ns = (uint64_t)sqlite3_column_int64(s, 9);
    o->end_ns = (uint64_t)sqlite3_column_int64(s, 10);
    o->first_ns = (uint64_t)sqlite3_column_int64(s, 11);
    o->last_ns = (uint64_t)sqlite3_column_int64(s, 12);
    o->packets = (uint64_t)sqlite3_column_int64(s, 13);
    o->bytes = (uint64_t)sqlite3_column_int64(s, 14);
    o->wire_bytes = (uint64_t)sqlite3_column_int64(s, 15);
    o->drops = (uint64_t)sqlite3_column_int64(s, 16);
    o->if_drops = (uint64_t)sqlite3_column_int64(s, 17);
    o->n_ifaces = (uint32_t)sqlite3_column_int64(s, 18);
    o->linktype = (uint16_t)sqlite3_column_int(s, 19);
    if (state != 0)
        o->state = NP_STORE_COMPLETE;
    else
        o->state = np_store_lock_held(st, o->id) ? NP_STORE_RECORDING : NP_STORE_INTERRUPTED;
}

enum np_rc np_store_sessions(struct np_store *st, np_store_session_fn *fn, void *ctx,
                             struct np_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "SELECT " SESSION_COLS " FROM sessions s ORDER BY id DESC",
                                -1, &s, NULL);
    struct np_store_session row;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
            break;
        session_row(st, s, &row);
        if (!fn(&row, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? NP_OK : np_store_fail(st, err, "read", rc);
}

enum np_rc np_store_session_find(struct np_store *st, const char *id_text,
                                 struct np_store_session *out, struct np_err *err)
{
    size_t len = strlen(id_text);
    if (len == 0 || len > 19 || strspn(id_text, "0123456789") != len)
        return np_err_set(err, NP_ERR_USAGE, "no session %s", id_text);
    sqlite3_stmt *s = NULL;
    /* An exact id wins; otherwise the ids that start with the digits. */
    int rc =
            sqlite3_prepare_v2(st->db,
                               "SELECT " SESSION_COLS " FROM sessions s WHERE CAST(id AS TEXT) = ?1"
                               " OR (substr(CAST(id AS TEXT), 1, length(?1)) = ?1 AND NOT EXISTS"
                               " (SELECT 1 FROM sessions WHERE CAST(id AS TEXT) = ?1))"
                               " ORDER BY id LIMIT 6",
                               -1, &s, NULL);
    if (rc != SQLITE_OK)
        return np_store_fail(st, err, "read", rc);
    sqlite3_bind_text(s, 1, id_text, (int)len, SQLITE_STATIC);
    char list[160] = "";
    size_t list_len = 0;
    int n = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == 0)
            session_row(st, s, out);
        if (n < 5) {
            int w = snprintf(list + list_len, sizeof(list) - list_len, "%s%lld", n > 0 ? ", " : "",
                             (long long)sqlite3_column_int64(s, 0));
            if (w > 0 && (size_t)w < sizeof(list) - list_len)
                list_len += (size_t)w;
        } else {
            snprintf(list + list_len, sizeof(list) - list_len, ", ...");
        }
        n++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return np_store_fail(st, err, "read", rc);
    if (n == 0)
        return np_err_set(err, NP_ERR_USAGE, "no session %s", id_text);
    if (n > 1)
        return np_err_set(err, NP_ERR_USAGE, "session %s is ambiguous: %s", id_text, list);
    return NP_OK;
}

enum np_rc np_store_session_ifaces(struct np_store *st, int64_t id, struct np_store_iface *out,
                                   uint32_t max, uint32_t *n, struct np_err *err)
{
    sqlite3_stmt *s = NULL;
    *n = 0;
    int rc = sqlite3_prepare_v2(st->db,
                                "SELECT ifid, linktype, snaplen, ts_prec, name FROM ifaces"
                                " WHERE session = ? ORDER BY ifid",
                                -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, id);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n < max) {
            struct np_store_iface *i = &out[*n];
            memset(i, 0, sizeof(*i));
            i->ifid = (uint32_t)sqlite3_column_int64(s, 0);
            i->linktype = (uint16_t)sqlite3_column_int(s, 1);
            i->snaplen = (uint32_t)sqlite3_column_int64(s, 2);
            i->ts_prec = (uint8_t)sqlite3_column_int(s, 3);
            text_col(s, 4, i->name, sizeof(i->name));
            (*n)++;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? NP_OK : np_store_fail(st, err, "read", rc);
}

static enum np_rc check_deletable(struct np_store *st, int64_t id, struct np_err *err)
{
    sqlite3_stmt *s = NULL;
    enum np_rc r = NP_OK;
    int rc = sqlite3_prepare_v2(st->db, "SELECT state FROM sessions WHERE id = ?", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(s, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        r = np_err_set(err, NP_ERR_USAGE, "no session %lld", (long long)id);
    else if (rc != SQLITE_ROW)
        r = np_store_fail(st, err, "read", rc);
    else if (sqlite3_column_int(s, 0) == 0 && np_store_lock_held(st, id))
        r = np_err_set(err, NP_ERR_USAGE, "session %lld is still recording", (long long)id);
    sqlite3_finalize(s);
    return r;
}

enum np_rc np_store_session_delete(struct np_store *st, int64_t id, struct np_err *err)
{
    if (!st->writable)
        return np_err_set(err, NP_ERR_USAGE, "cannot delete from %s: opened read-only", st->path);
    /* Asked first outside a transaction: a recorder holds the write lock
     * for its open transaction, and we must refuse at once, not wait. */
    enum np_rc r = check_deletable(st, id, err);
    if (r != NP_OK)
        return r;
    int rc = np_store_exec(st, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return np_store_fail(st, err, "write", rc);
    r = check_deletable(st, id, err);
    sqlite3_stmt *s = NULL;
    static const char *const del[] = {
        "DELETE FROM chunk_data WHERE chunk IN (SELECT id FROM chunks WHERE session = ?1)",
        "DELETE FROM chunk_flows WHERE chunk IN (SELECT id FROM chunks WHERE session = ?1)",
        "DELETE FROM chunks WHERE session = ?1",
        /* a session's flow rows lie between its blocks' first and last rows,
         * its key buckets at block * 65536 + bucket */
        "DELETE FROM flows WHERE session = ?1 AND row BETWEEN"
        " (SELECT min(first_row) FROM flow_blocks WHERE session = ?1) AND"
        " (SELECT max(last_row) FROM flow_blocks WHERE session = ?1)",
        "DELETE FROM flow_keys WHERE id BETWEEN"
        " (SELECT min(id) FROM flow_blocks WHERE session = ?1) * 65536 AND"
        " (SELECT max(id) FROM flow_blocks WHERE session = ?1) * 65536 + 65535 AND"
        " (id >> 16) IN (SELECT id FROM flow_blocks WHERE session = ?1)",
        "DELETE FROM flow_blocks WHERE session = ?1",
        "DELETE FROM ifaces WHERE session = ?1",
        "DELETE FROM sessions WHERE id = ?1",
    };
    for (size_t i = 0; r == NP_OK && i < sizeof(del) / sizeof(del[0]); i++) {
        rc = sqlite3_prepare_v2(st->db, del[i], -1, &s, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(s, 1, id);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            r = np_store_fail(st, err, "write", rc);
    }
    if (r == NP_OK) {
        rc = np_store_exec(st, "COMMIT");
        if (rc != SQLITE_OK)
            r = np_store_fail(st, err, "write", rc);
    }
    if (r != NP_OK)
        np_store_exec(st, "ROLLBACK");
    return r;
}
