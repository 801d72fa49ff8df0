/* decode/frag.c: IPv4 (RFC 791 section 3.2) and IPv6 (RFC 8200 section
 * 4.5) fragment reassembly; the contract is in frag.h.
 *
 * Storage, all from np_frag_create(): an array of datagram slots with a
 * free list; a chained hash index over them (bucket heads and a next index
 * per slot); a list of slots in order of creation, which is also the order
 * of their timeouts, so expiry and eviction take the head; a pool of
 * NP_FRAG_CHUNK-byte chunks with a free stack. A datagram maps the chunk
 * covering each NP_FRAG_CHUNK-aligned part of its payload, allocated when a
 * fragment first writes there, and keeps the byte ranges it holds as a
 * sorted list of at most NP_FRAG_MAX_RANGES disjoint intervals. On
 * completion the chunks are copied once into the table's output buffer.
 */
#include "decode/frag.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/err.h"
#include "core/hash.h"
#include "decode/decode.h"

#define NONE                UINT32_MAX
#define CHUNKS_PER_DATAGRAM ((NP_FRAG_MAX_PAYLOAD + NP_FRAG_CHUNK - 1) / NP_FRAG_CHUNK)
#define DEFAULT_DATAGRAMS   1024u
#define DEFAULT_BYTES       (4u << 20)
#define DEFAULT_TIMEOUT_NS  (30ull * 1000000000ull)
#define MAX_DATAGRAMS       (1u << 20)

struct key {
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t ip_ver;
    uint8_t proto; /* IPv4 only; 0 for IPv6 */
    uint8_t pad[2];
};

struct datagram {
    struct key key;
    uint32_t hash;      /* key_hash(&key) */
    uint32_t hash_next; /* next slot in the bucket, or NONE */
    uint32_t age_prev, age_next;
    uint64_t first_ts_ns;
    uint64_t frames_wire_bytes;
    uint64_t frames_cap_bytes;
    uint32_t n_frames;
    uint32_t end;     /* payload length, once has_last */
    uint32_t cap_end; /* first byte the snapshot length cut, or NONE */
    bool used;
    bool has_last;
    bool has_first;
    uint8_t first_proto;
    uint8_t n_ranges;
    uint32_t range[NP_FRAG_MAX_RANGES][2]; /* [start, end), sorted, not touching */
    uint32_t chunk[CHUNKS_PER_DATAGRAM];   /* pool index, or NONE */
};

struct np_frag_table {
    uint64_t timeout_ns;
    uint64_t now_ns; /* largest capture time seen */
    struct datagram *dg;
    uint32_t n_dg;
    uint32_t *bucket; /* heads; bucket_mask + 1 of them */
    uint32_t bucket_mask;
    uint32_t *free_dg; /* stack of free slots */
    uint32_t n_free_dg;
    uint32_t age_head, age_tail; /* oldest, newest */
    uint8_t *pool;
    uint32_t n_chunks;
    uint32_t *free_chunk; /* stack of free chunks */
    uint32_t n_free_chunk;
    struct np_frag_stats stats;
    uint8_t out[NP_FRAG_MAX_PAYLOAD]; /* the last completed payload */
};

static inline uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static inline uint32_t max32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static uint32_t key_hash(const struct key *k)
{
    return (uint32_t)np_hash_mix64(np_fnv1a64(NP_FNV1A64_INIT, k, sizeof(*k)));
}

struct np_frag_table *np_frag_create(const struct np_frag_cfg *cfg, struct np_err *err)
{
    struct np_frag_cfg c = { 0 };
    if (cfg != NULL)
        c = *cfg;
    if (c.max_datagrams == 0)
        c.max_datagrams = DEFAULT_DATAGRAMS;
    if (c.max_bytes == 0)
        c.max_bytes = DEFAULT_BYTES;
    if (c.timeout_ns == 0)
        c.timeout_ns = DEFAULT_TIMEOUT_NS;
    if (c.max_datagrams > MAX_DATAGRAMS) {
        np_err_set(err, NP_ERR_USAGE, "too many datagrams in IP reassembly: %u (at most %u)",
                   c.max_datagrams, MAX_DATAGRAMS);
        return NULL;
    }

    struct np_frag_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto nomem;
    t->timeout_ns = c.timeout_ns;
    t->n_dg = c.max_datagrams;
    t->n_chunks = (uint32_t)(((uint64_t)c.max_bytes + NP_FRAG_CHUNK - 1) / NP_FRAG_CHUNK);
    uint32_t n_buckets = 1;
    while (n_buckets < 2 * t->n_dg)
        n_buckets *= 2;
    t->bucket_mask = n_buckets - 1;
    t->dg = calloc(t->n_dg, sizeof(*t->dg));
    t->bucket = malloc(n_buckets * sizeof(*t->bucket));
    t->free_dg = malloc(t->n_dg * sizeof(*t->free_dg));
    t->pool = malloc((size_t)t->n_chunks * NP_FRAG_CHUNK);
    t->free_chunk = malloc(t->n_chunks * sizeof(*t->free_chunk));
    if (t->dg == NULL || t->bucket == NULL || t->free_dg == NULL || t->pool == NULL ||
        t->free_chunk == NULL)
        goto nomem;
    for (uint32_t i = 0; i < n_buckets; i++)
        t->bucket[i] = NONE;
    for (uint32_t i = 0; i < t->n_dg; i++)
        t->free_dg[i] = t->n_dg - 1 - i;
    t->n_free_dg = t->n_dg;
    for (uint32_t i = 0; i < t->n_chunks; i++)
        t->free_chunk[i] = t->n_chunks - 1 - i;
    t->n_free_chunk = t->n_chunks;
    t->age_head = t->age_tail = NONE;
    return t;
nomem:
    np_frag_destroy(t);
    np_err_set(err, NP_ERR_NOMEM, "out of memory for IP reassembly (%u datagrams, %u bytes)",
               c.max_datagrams, c.max_bytes);
    return NULL;
}

void np_frag_destroy(struct np_frag_table *t)
{
    if (t == NULL)
        return;
    free(t->dg);
    free(t->bucket);
    free(t->free_dg);
    free(t->pool);
    free(t->free_chunk);
    free(t);
}

uint32_t np_frag_pending(const struct np_frag_table *t)
{
    return t->n_dg - t->n_free_dg;
}

const struct np_frag_stats *np_frag_get_stats(const struct np_frag_table *t)
{
    return &t->stats;
}

/* Unlinks slot i from its bucket and the age list, returns its chunks and
 * the slot. */
static void release(struct np_frag_table *t, uint32_t i)
{
    struct datagram *g = &t->dg[i];
    uint32_t *link = &t->bucket[g->hash & t->bucket_mask];
    /* A bucket chain holds only used slots, at most n_dg of them. */
    for (uint32_t n = 0; *link != NONE && n < t->n_dg; n++) {
        if (*link == i) {
            *link = g->hash_next;
            break;
        }
        link = &t->dg[*link].hash_next;
    }
    if (g->age_prev != NONE)
        t->dg[g->age_prev].age_next = g->age_next;
    else
        t->age_head = g->age_next;
    if (g->age_next != NONE)
        t->dg[g->age_next].age_prev = g->age_prev;
    else
        t->age_tail = g->age_prev;
    for (uint32_t k = 0; k < CHUNKS_PER_DATAGRAM; k++) {
        if (g->chunk[k] != NONE)
            t->free_chunk[t->n_free_chunk++] = g->chunk[k];
    }
    g->used = false;
    t->free_dg[t->n_free_dg++] = i;
}

static bool expired(const struct np_frag_table *t, const struct datagram *g)
{
    return t->now_ns - g->first_ts_ns > t->timeout_ns;
}

/* Drops the oldest datagram other than slot keep; false if there is none. */
static bool evict_oldest(struct np_frag_table *t, uint32_t keep)
{
    uint32_t i = t->age_head;
    if (i == keep && i != NONE)
        i = t->dg[i].age_next;
    if (i == NONE)
        return false;
    release(t, i);
    t->stats.evicted++;
    return true;
}

static uint32_t find(struct np_frag_table *t, const struct key *k, uint32_t h)
{
    uint32_t i = t->bucket[h & t->bucket_mask];
    for (uint32_t n = 0; i != NONE && n < t->n_dg; n++) {
        if (memcmp(&t->dg[i].key, k, sizeof(*k)) == 0)
            return i;
        i = t->dg[i].hash_next;
    }
    return NONE;
}

static uint32_t create(struct np_frag_table *t, const struct key *k, uint32_t h)
{
    if (t->n_free_dg == 0 && !evict_oldest(t, NONE))
        return NONE;
    uint32_t i = t->free_dg[--t->n_free_dg];
    struct datagram *g = &t->dg[i];
    memset(g, 0, offsetof(struct datagram, chunk));
    for (uint32_t c = 0; c < CHUNKS_PER_DATAGRAM; c++)
        g->chunk[c] = NONE;
    g->key = *k;
    g->hash = h;
    g->used = true;
    g->cap_end = NONE;
    g->first_ts_ns = t->now_ns;
    g->hash_next = t->bucket[h & t->bucket_mask];
    t->bucket[h & t->bucket_mask] = i;
    g->age_prev = t->age_tail;
    g->age_next = NONE;
    if (t->age_tail != NONE)
        t->dg[t->age_tail].age_next = i;
    else
        t->age_head = i;
    t->age_tail = i;
    return i;
}

/* Copies the captured bytes [a, b) of the fragment (its data c starts at
 * payload offset off) into slot i's chunks. False when the pool ran dry
 * even after evicting every other datagram. */
static bool store(struct np_frag_table *t, uint32_t i, struct np_cur c, uint32_t off, uint32_t a,
                  uint32_t b)
{
    np_cur_skip(&c, a - off);
    /* Each turn fills one chunk: at most CHUNKS_PER_DATAGRAM turns. */
    while (a < b) {
        uint32_t k = a / NP_FRAG_CHUNK;
        uint32_t n = min32(b, (k + 1) * NP_FRAG_CHUNK) - a;
        if (t->dg[i].chunk[k] == NONE) {
            while (t->n_free_chunk == 0) {
                if (!evict_oldest(t, i))
                    return false;
            }
            t->dg[i].chunk[k] = t->free_chunk[--t->n_free_chunk];
        }
        size_t at = (size_t)t->dg[i].chunk[k] * NP_FRAG_CHUNK + a % NP_FRAG_CHUNK;
        np_cur_copy(&c, &t->pool[at], n);
        a += n;
    }
    return true;
}

bool np_frag_add(struct np_frag_table *t, const struct np_dpkt *d, uint64_t ts_ns,
                 uint32_t frame_wirelen, uint32_t frame_caplen, struct np_frag_done *done)
{
    struct np_frag_stats *st = &t->stats;
    if (ts_ns > t->now_ns)
        t->now_ns = ts_ns;
    st->fragments++;
    if (!d->is_frag || (d->ip_ver != 4 && d->ip_ver != 6) || d->frag_wire_len == 0) {
        st->bad++;
        return false;
    }
    uint32_t off = d->frag_off;
    uint32_t end = off + d->frag_wire_len;
    if (d->frag_wire_len > NP_FRAG_MAX_PAYLOAD || end > NP_FRAG_MAX_PAYLOAD) {
        st->too_big++;
        return false;
    }
    uint32_t cap_len = min32(d->frag_len, d->frag_wire_len);

    struct key k;
    memset(&k, 0, sizeof(k));
    memcpy(k.src, d->src, sizeof(k.src));
    memcpy(k.dst, d->dst, sizeof(k.dst));
    k.id = d->frag_id;
    k.ip_ver = d->ip_ver;
    k.proto = d->ip_ver == 4 ? d->proto : 0;
    uint32_t h = key_hash(&k);

    uint32_t i = find(t, &k, h);
    if (i != NONE && expired(t, &t->dg[i])) {
        release(t, i);
        st->timeouts++;
        i = NONE;
    }
    if (i == NONE) {
        i = create(t, &k, h);
        if (i == NONE) { /* not reached: there is always a slot to evict */
            st->evicted++;
            return false;
        }
    }
    struct datagram *g = &t->dg[i];

    /* Consistency with what the datagram already holds. */
    uint32_t held_end = g->n_ranges > 0 ? g->range[g->n_ranges - 1][1] : 0;
    bool bad_end = d->frag_more ? g->has_last && end > g->end
                                : (g->has_last && g->end != end) || held_end > end;
    if (bad_end) {
        st->bad++; /* an existing datagram's: a new one holds nothing yet */
        return false;
    }
    /* Ranges touching [off, end) merge into one: check the bound first. */
    uint32_t touching = 0, first = g->n_ranges;
    bool overlap = false;
    for (uint32_t r = 0; r < g->n_ranges; r++) {
        if (g->range[r][1] < off || g->range[r][0] > end)
            continue;
        if (touching++ == 0)
            first = r;
        if (g->range[r][1] > off && g->range[r][0] < end)
            overlap = true;
    }
    if (touching == 0) {
        first = 0;
        while (first < g->n_ranges && g->range[first][0] < off)
            first++;
    }
    if (g->n_ranges - touching + 1 > NP_FRAG_MAX_RANGES) {
        st->bad++;
        return false;
    }

    /* Store the gaps: bytes no earlier fragment covered (first copy wins). */
    struct np_cur c = np_cur_make(d->frag_data, d->frag_data != NULL ? cap_len : 0);
    uint32_t pos = off, cap_stop = off + (uint32_t)c.left;
    for (uint32_t r = first; r <= first + touching; r++) {
        uint32_t gap_end = r < first + touching ? g->range[r][0] : end;
        if (gap_end > pos) {
            if (cap_stop < gap_end && max32(pos, cap_stop) < g->cap_end)
                g->cap_end = max32(pos, cap_stop);
            if (cap_stop > pos && !store(t, i, c, off, pos, min32(gap_end, cap_stop))) {
                release(t, i);
                st->evicted++;
                return false;
            }
        }
        if (r < first + touching && g->range[r][1] > pos)
            pos = g->range[r][1];
    }
    if (overlap)
        st->overlaps++;

    /* Merge: ranges first .. first + touching - 1 and [off, end) become one. */
    uint32_t lo = off, hi = end;
    if (touching > 0) {
        lo = min32(lo, g->range[first][0]);
        hi = max32(hi, g->range[first + touching - 1][1]);
        memmove(&g->range[first + 1], &g->range[first + touching],
                (g->n_ranges - first - touching) * sizeof(g->range[0]));
    } else {
        memmove(&g->range[first + 1], &g->range[first],
                (g->n_ranges - first) * sizeof(g->range[0]));
    }
    g->range[first][0] = lo;
    g->range[first][1] = hi;
    g->n_ranges = (uint8_t)(g->n_ranges - touching + 1);

    g->n_frames++;
    g->frames_wire_bytes += frame_wirelen;
    g->frames_cap_bytes += frame_caplen;
    if (!d->frag_more) {
        g->has_last = true;
        g->end = end;
    }
    if (off == 0 && !g->has_first) {
        g->has_first = true;
        g->first_proto = d->proto;
    }
    if (!g->has_last || g->n_ranges != 1 || g->range[0][0] != 0 || g->range[0][1] != g->end)
        return false;

    /* Complete: gather the captured prefix into the output buffer. */
    uint32_t len = min32(g->end, g->cap_end);
    for (uint32_t a = 0; a < len; a += NP_FRAG_CHUNK) {
        uint32_t n = min32(len - a, NP_FRAG_CHUNK);
        memcpy(&t->out[a], &t->pool[(size_t)g->chunk[a / NP_FRAG_CHUNK] * NP_FRAG_CHUNK], n);
    }
    done->data = t->out;
    done->len = len;
    done->wire_len = g->end;
    done->proto = g->first_proto;
    done->n_frames = g->n_frames;
    done->frames_wire_bytes = g->frames_wire_bytes;
    done->frames_cap_bytes = g->frames_cap_bytes;
    done->first_ts_ns = g->first_ts_ns;
    st->completed++;
    if (len < g->end)
        st->truncated++;
    release(t, i);
    return true;
}

uint32_t np_frag_expire(struct np_frag_table *t, uint64_t now_ns)
{
    if (now_ns > t->now_ns)
        t->now_ns = now_ns;
    uint32_t n = 0;
    while (n < NP_FRAG_EXPIRE_PER_CALL && t->age_head != NONE && expired(t, &t->dg[t->age_head])) {
        release(t, t->age_head);
        t->stats.timeouts++;
        n++;
    }
    return n;
}
