/* store/internal.h: what the store's files share (internal).
 *
 * struct np_store is one SQLite connection and, once needed, the lock file
 * beside the database (store.h, docs/storage.md). Owned by one thread.
 */
#ifndef NP_STORE_INTERNAL_H
#define NP_STORE_INTERNAL_H

#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/hash.h"

/* The flow key index (docs/storage.md): a block of flow rows is indexed
 * by the keys of each row (its addresses, tag 'a', and TCP/UDP ports, tag
 * 'p', big-endian), hashed into n_buckets buckets (a power of two, at most
 * NP_STORE_KEY_BUCKETS_MAX), NP_STORE_KEY_TARGET entries each or so. A
 * bucket is row block * 65536 + bucket of flow_keys: NP_STORE_KEY_ENTRY
 * bytes per entry, the key (u64) and the row less the block's first_row
 * (u32), little-endian, in row order. */
#define NP_STORE_KEY_ENTRY       12u
#define NP_STORE_KEY_TARGET      512u
#define NP_STORE_KEY_BUCKETS_MAX 65536u
#define NP_STORE_KEY_ADDR        'a'
#define NP_STORE_KEY_PORT        'p'

/* A key: FNV-1a 64 (core/hash.h) of the tag and the value's bytes, then
 * the MurmurHash3 fmix64 finaliser, so that its low bits pick a bucket.
 * Part of the file format: never change it. */
static inline uint64_t np_store_key(uint8_t tag, const uint8_t *v, size_t n)
{
    return np_hash_mix64(np_fnv1a64(np_fnv1a64(NP_FNV1A64_INIT, &tag, 1), v, n));
}

static inline uint64_t np_store_key_port(uint16_t port)
{
    const uint8_t b[2] = { (uint8_t)(port >> 8), (uint8_t)port };
    return np_store_key(NP_STORE_KEY_PORT, b, 2);
}

struct np_store {
    sqlite3 *db;
    char path[4096];      /* as given, for messages */
    char lock_path[4096]; /* path + "-lock" */
    int lock_fd;          /* -1 until a recording or a probe needs it */
    bool lock_rw;         /* lock_fd was opened for writing (can take locks) */
    bool writable;
};

/* One line for a failed SQLite call: "cannot <verb> <path>: <why>". Maps
 * SQLITE_FULL, _READONLY, _NOTADB, _CORRUPT, _BUSY to words a user can act
 * on. Returns NP_ERR_IO (NP_ERR_USAGE for a file that is not a database or
 * cannot be written). */
enum np_rc np_store_fail(struct np_store *st, struct np_err *err, const char *verb, int rc);

/* Opens the lock file (creating it when for_write); NP_OK, or an error
 * with err set. Without for_write a missing file is NP_EOF: nobody holds
 * a lock. */
enum np_rc np_store_lock_open(struct np_store *st, bool for_write, struct np_err *err);

/* The lock of session id: a write lock on byte id of the lock file. */
static inline struct flock np_store_session_lock(int64_t id)
{
    struct flock fl = { 0 };
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)id;
    fl.l_len = 1;
    return fl;
}

/* True when some open file description holds the lock of session id. */
bool np_store_lock_held(struct np_store *st, int64_t id);

/* Runs sql (no results); SQLite's return code. */
int np_store_exec(struct np_store *st, const char *sql);

uint64_t np_store_now_ns(void);

#endif
