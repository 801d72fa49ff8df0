/* analyze/handshake.c: the TCP handshake monitor.
 *
 * Sessions in progress sit in an open-addressed table (linear probing,
 * backward-shift deletion) over a pool of entries, both mapped for
 * max_sessions at creation. A timer list orders them by deadline: every
 * handshake segment moves its session to the tail with deadline now +
 * timeout, and now (the largest timestamp seen) never decreases, so the
 * head is always the first to expire. Expiry runs at most EXPIRE_PER_PKT
 * sessions per packet; a session met past its deadline is expired at once,
 * so no late segment can complete a handshake that had timed out.
 */
#include "analyze/handshake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/mem.h"
#include "core/packet.h"
#include "flow/key.h"

#define NONE           UINT32_MAX
#define EXPIRE_PER_PKT 16u

enum {
    ST_SYN_SENT = 1, /* the SYN was seen */
    ST_SYN_RCVD,     /* and the server's SYN/ACK */
};

/* One session in progress: 96 bytes. */
struct sess {
    struct np_flow_key key; /* canonical: client is A when client_dir is 0 */
    uint64_t first_ns;      /* the first SYN's timestamp */
    uint64_t last_hs_ns;    /* capture time of the last handshake segment */
    uint64_t filters;       /* named filters that count it */
    uint32_t syn_seq, synack_seq;
    uint32_t prev, next; /* timer list; next links the free list */
    uint32_t dup_syn, dup_synack;
    uint8_t state; /* ST_*; 0 when free */
    uint8_t client_dir;
};

_Static_assert(sizeof(struct sess) <= 96, "handshake session entry grew");

struct np_handshake {
    struct np_handshake_cfg cfg;
    np_hs_result_fn *on_result;
    void *ctx;
    struct sess *ents; /* owned mapping: max_sessions entries */
    uint64_t *slots;   /* owned mapping: (hash low 32 bits) << 32 | (index + 1); 0 empty */
    uint32_t mask;     /* slots - 1 */
    uint32_t free_head, n_fresh; /* freed entries; entries never used start at n_fresh */
    uint32_t head, tail;         /* timer list */
    uint64_t now_ns, first_ns;
    struct np_hs_counts counts[NP_HS_MAX_FILTERS];
    struct np_handshake_stats stats;
    struct np_dpkt d; /* scratch for the packet being read */
};

static size_t slots_bytes(const struct np_handshake *h)
{
    return ((size_t)h->mask + 1) * sizeof(*h->slots);
}

struct np_handshake *np_handshake_create(const struct np_handshake_cfg *cfg,
                                         np_hs_result_fn *on_result, void *ctx, struct np_err *err)
{
    struct np_handshake *h = calloc(1, sizeof(*h));
    if (h != NULL) {
        h->cfg = *cfg;
        if (h->cfg.max_sessions == 0)
            h->cfg.max_sessions = 1;
        h->on_result = on_result;
        h->ctx = ctx;
        h->free_head = h->head = h->tail = NONE;
        uint64_t n = 16;
        while (n < 2ull * h->cfg.max_sessions)
            n *= 2;
        h->mask = (uint32_t)(n - 1);
        /* Mapped whole; pages become real as they are used (core/mem.h). */
        h->ents = np_mem_alloc((size_t)h->cfg.max_sessions * sizeof(*h->ents));
        h->slots = np_mem_alloc(slots_bytes(h));
    }
    if (h == NULL || h->ents == NULL || h->slots == NULL) {
        np_handshake_destroy(h);
        np_err_set(err, NP_ERR_NOMEM, "out of memory for the handshake table");
        return NULL;
    }
    return h;
}

void np_handshake_destroy(struct np_handshake *h)
{
    if (h == NULL)
        return;
    np_mem_free(h->ents, (size_t)h->cfg.max_sessions * sizeof(*h->ents));
    if (h->slots != NULL)
        np_mem_free(h->slots, slots_bytes(h));
    free(h);
}

/* ---- the table ---- */

static uint32_t lookup(const struct np_handshake *h, const struct np_flow_key *k, uint64_t hash)
{
    uint32_t tag = (uint32_t)hash;
    for (uint32_t i = tag & h->mask;; i = (i + 1) & h->mask) {
        uint64_t s = h->slots[i];
        if (s == 0)
            return NONE;
        if ((uint32_t)(s >> 32) == tag && np_flow_key_eq(&h->ents[(uint32_t)s - 1].key, k))
            return (uint32_t)s - 1;
    }
}

static void slot_insert(struct np_handshake *h, uint64_t hash, uint32_t idx)
{
    uint32_t tag = (uint32_t)hash;
    uint32_t i = tag & h->mask;
    while (h->slots[i] != 0)
        i = (i + 1) & h->mask;
    h->slots[i] = (uint64_t)tag << 32 | (idx + 1u);
}

static void slot_remove(struct np_handshake *h, uint32_t idx)
{
    uint32_t tag = (uint32_t)np_flow_key_hash(&h->ents[idx].key);
    uint32_t i = tag & h->mask;
    while ((uint32_t)h->slots[i] != idx + 1u)
        i = (i + 1) & h->mask;
    /* Backward shift: pull up every later slot of the run whose home is not
     * between the hole and itself. */
    for (uint32_t j = (i + 1) & h->mask; h->slots[j] != 0; j = (j + 1) & h->mask) {
        uint32_t home = (uint32_t)(h->slots[j] >> 32) & h->mask;
        if (((j - home) & h->mask) >= ((j - i) & h->mask)) {
            h->slots[i] = h->slots[j];
            i = j;
        }
    }
    h->slots[i] = 0;
}

/* ---- the timer list ---- */

static void timer_unlink(struct np_handshake *h, uint32_t idx)
{
    struct sess *s = &h->ents[idx];
    if (s->prev != NONE)
        h->ents[s->prev].next = s->next;
    else
        h->head = s->next;
    if (s->next != NONE)
        h->ents[s->next].prev = s->prev;
    else
        h->tail = s->prev;
}

static void timer_append(struct np_handshake *h, uint32_t idx)
{
    struct sess *s = &h->ents[idx];
    s->prev = h->tail;
    s->next = NONE;
    if (h->tail != NONE)
        h->ents[h->tail].next = idx;
    else
        h->head = idx;
    h->tail = idx;
}

/* A handshake segment: the deadline starts again from now. */
static void touch(struct np_handshake *h, uint32_t idx)
{
    h->ents[idx].last_hs_ns = h->now_ns;
    if (h->tail != idx) {
        timer_unlink(h, idx);
        timer_append(h, idx);
    }
}

static uint64_t deadline(const struct np_handshake *h, const struct sess *s)
{
    return s->last_hs_ns + h->cfg.timeout_ns;
}

/* ---- outcomes ---- */

static void end(struct np_handshake *h, uint32_t idx, enum np_hs_outcome o, uint64_t end_ns)
{
    struct sess *s = &h->ents[idx];
    struct np_hs_result r;
    const struct np_flow_key *k = &s->key;
    r.ip_ver = k->ip_ver;
    memcpy(r.client, s->client_dir ? k->addr_b : k->addr_a, 16);
    memcpy(r.server, s->client_dir ? k->addr_a : k->addr_b, 16);
    r.client_port = s->client_dir ? k->port_b : k->port_a;
    r.server_port = s->client_dir ? k->port_a : k->port_b;
    r.vlan = k->vlan;
    r.outcome = o;
    r.first_ns = s->first_ns;
    r.end_ns = end_ns < s->first_ns ? s->first_ns : end_ns;
    r.dup_syn = s->dup_syn;
    r.dup_synack = s->dup_synack;
    r.filters = s->filters;
    for (uint64_t m = s->filters; m != 0; m &= m - 1) {
        struct np_hs_counts *c = &h->counts[__builtin_ctzll(m)];
        switch (o) {
        case NP_HS_SUCCESS:
            c->success++;
            c->dupsyn += s->dup_syn;
            c->dupsynack += s->dup_synack;
            break;
        case NP_HS_REJECT:
            c->failure++;
            c->reject++;
            break;
        case NP_HS_UNREACH:
            c->failure++;
            c->unreach++;
            break;
        case NP_HS_TIMEOUT:
            c->failure++;
            c->timeout++;
            break;
        }
    }
    slot_remove(h, idx);
    timer_unlink(h, idx);
    s->state = 0;
    s->next = h->free_head;
    h->free_head = idx;
    h->stats.in_progress--;
    if (h->on_result != NULL)
        h->on_result(&r, h->ctx);
}

static void expire(struct np_handshake *h, uint32_t bound)
{
    for (uint32_t n = 0; h->head != NONE && n < bound; n++) {
        const struct sess *s = &h->ents[h->head];
        uint64_t dl = deadline(h, s);
        if (dl > h->now_ns)
            break;
        end(h, h->head, NP_HS_TIMEOUT, dl);
    }
}

/* ---- checksums (RFC 1071) ---- */

static uint64_t sum16(struct np_cur *c, size_t n, uint64_t acc)
{
    for (; n >= 2; n -= 2)
        acc += np_cur_be16(c);
    if (n)
        acc += (uint64_t)np_cur_u8(c) << 8;
    return acc;
}

static bool folds_to_ones(uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return acc == 0xffff;
}

/* Where the transport header of d lies in the frame: false when it cannot
 * be told or is not captured whole (then it is not verified). */
static bool l4_span(const struct np_pkt *p, const struct np_dpkt *d, uint32_t *off, uint32_t *len)
{
    struct np_cur c = np_cur_make(p->data, p->caplen);
    np_cur_skip(&c, d->ip_off);
    if (d->ip_ver == 4) {
        uint32_t ihl = (np_cur_peek(&c, 0) & 0x0fu) * 4u;
        np_cur_skip(&c, 2);
        uint32_t total = np_cur_be16(&c);
        if (c.bad || total < ihl)
            return false;
        *off = d->ip_off + ihl;
        *len = total - ihl;
    } else {
        np_cur_skip(&c, 4);
        uint32_t plen = np_cur_be16(&c);
        uint8_t next = np_cur_u8(&c);
        if (c.bad || next != d->proto) /* extension headers: not verified */
            return false;
        *off = d->ip_off + 40;
        *len = plen;
    }
    return (uint64_t)*off + *len <= p->caplen;
}

static bool ipv4_header_ok(const struct np_pkt *p, const struct np_dpkt *d)
{
    if (d->ip_ver != 4)
        return true;
    struct np_cur c = np_cur_make(p->data, p->caplen);
    np_cur_skip(&c, d->ip_off);
    uint32_t ihl = (np_cur_peek(&c, 0) & 0x0fu) * 4u;
    if (c.bad || c.left < ihl)
        return true; /* cut: cannot be verified */
    return folds_to_ones(sum16(&c, ihl, 0));
}

/* The TCP, ICMP or ICMPv6 checksum; true when it cannot be verified. */
static bool l4_ok(const struct np_pkt *p, const struct np_dpkt *d)
{
    uint32_t off, len;
    if (!l4_span(p, d, &off, &len))
        return true;
    uint64_t acc = 0;
    if (d->proto != 1) { /* the pseudo-header: RFC 793, RFC 8200 section 8.1 */
        unsigned alen = d->ip_ver == 4 ? 4 : 16;
        struct np_cur a = np_cur_make(d->src, alen);
        acc = sum16(&a, alen, acc);
        a = np_cur_make(d->dst, alen);
        acc = sum16(&a, alen, acc);
        acc += d->proto + (uint64_t)len;
    }
    struct np_cur c = np_cur_make(p->data, p->caplen);
    np_cur_skip(&c, off);
    return folds_to_ones(sum16(&c, len, acc));
}

/* False (and counted) when -c asks to verify and a checksum is wrong. */
static bool checksums_ok(struct np_handshake *h, const struct np_pkt *p, const struct np_dpkt *d)
{
    if (h->cfg.checksum == 0)
        return true;
    if (!ipv4_header_ok(p, d)) {
        h->stats.bad_ip_checksum++;
        return false;
    }
    bool tcp = d->proto == 6;
    if (tcp && h->cfg.checksum < 2)
        return true;
    if (!l4_ok(p, d)) {
        if (tcp)
            h->stats.bad_tcp_checksum++;
        else
            h->stats.bad_icmp_checksum++;
        return false;
    }
    return true;
}

/* ---- packets ---- */

static void start(struct np_handshake *h, const struct np_pkt *p, const struct np_dpkt *d,
                  const struct np_flow_key *k, uint64_t hash, unsigned dir)
{
    const struct np_hs_local *l = h->cfg.local;
    struct np_hs_conn c = {
        .ip_ver = d->ip_ver,
        .client = d->src,
        .server = d->dst,
        .client_port = d->sport,
        .server_port = d->dport,
        .client_local = l != NULL && np_hs_local_has(l, d->ip_ver, d->src),
        .server_local = l != NULL && np_hs_local_has(l, d->ip_ver, d->dst),
    };
    uint64_t m = np_hs_exprs_match(h->cfg.exprs, &c);
    if (m == 0) {
        h->stats.syns_unmatched++;
        return;
    }
    if (!checksums_ok(h, p, d))
        return;
    uint32_t idx;
    if (h->free_head != NONE) {
        idx = h->free_head;
        h->free_head = h->ents[idx].next;
    } else if (h->n_fresh < h->cfg.max_sessions) {
        idx = h->n_fresh++;
    } else {
        h->stats.sessions_table_full++;
        return;
    }
    struct sess *s = &h->ents[idx];
    memset(s, 0, sizeof(*s));
    s->key = *k;
    s->first_ns = p->ts_ns;
    s->last_hs_ns = h->now_ns;
    s->filters = m;
    s->syn_seq = d->seq;
    s->state = ST_SYN_SENT;
    s->client_dir = (uint8_t)dir;
    slot_insert(h, hash, idx);
    timer_append(h, idx);
    h->stats.sessions++;
    h->stats.in_progress++;
}

static void tcp_segment(struct np_handshake *h, const struct np_pkt *p, const struct np_dpkt *d)
{
    uint8_t f = d->tcp_flags & (NP_TCP_SYN | NP_TCP_ACK | NP_TCP_RST | NP_TCP_FIN);
    struct np_flow_key k;
    unsigned dir = np_flow_key_make(&k, d->ip_ver, 6, d->vlan, d->src, d->sport, d->dst, d->dport);
    uint64_t hash = np_flow_key_hash(&k);
    uint32_t idx = h->head == NONE ? NONE : lookup(h, &k, hash);
    if (idx != NONE && deadline(h, &h->ents[idx]) <= h->now_ns) {
        end(h, idx, NP_HS_TIMEOUT, deadline(h, &h->ents[idx]));
        idx = NONE;
    }
    if (idx == NONE) {
        if (f == NP_TCP_SYN)
            start(h, p, d, &k, hash, dir);
        return;
    }
    struct sess *s = &h->ents[idx];
    bool from_client = dir == s->client_dir;
    bool syn = f == NP_TCP_SYN, synack = f == (NP_TCP_SYN | NP_TCP_ACK);
    bool rst = (f & NP_TCP_RST) != 0;
    bool ack = f == NP_TCP_ACK || f == (NP_TCP_ACK | NP_TCP_FIN);
    if (!rst && !(from_client ? syn || ack : synack))
        return; /* nothing a handshake takes: no checksum to verify */
    if (!checksums_ok(h, p, d))
        return;
    if (rst) {
        end(h, idx, NP_HS_REJECT, p->ts_ns);
    } else if (from_client && syn) {
        if (d->seq == s->syn_seq) {
            s->dup_syn++;
            touch(h, idx);
        } else {
            h->stats.syns_new_isn++;
        }
    } else if (from_client) {
        if (s->state == ST_SYN_RCVD && d->ack == s->synack_seq + 1u)
            end(h, idx, NP_HS_SUCCESS, p->ts_ns);
    } else if (s->state == ST_SYN_SENT && d->ack == s->syn_seq + 1u) {
        s->state = ST_SYN_RCVD;
        s->synack_seq = d->seq;
        touch(h, idx);
    } else if (s->state == ST_SYN_RCVD && d->seq == s->synack_seq) {
        s->dup_synack++;
        touch(h, idx);
    }
}

static void icmp_error(struct np_handshake *h, const struct np_pkt *p, const struct np_dpkt *d)
{
    const struct np_icmp_quote *q = &d->quote;
    bool unreach = d->proto == 1 ? d->icmp_type == 3 : d->icmp_type == 1;
    if (!unreach || q->ip_ver == 0 || q->proto != 6 || !q->has_ports || !q->has_seq)
        return;
    struct np_flow_key k;
    unsigned dir = np_flow_key_make(&k, q->ip_ver, 6, d->vlan, q->src, q->sport, q->dst, q->dport);
    uint32_t idx = h->head == NONE ? NONE : lookup(h, &k, np_flow_key_hash(&k));
    if (idx == NONE)
        return;
    struct sess *s = &h->ents[idx];
    if (deadline(h, s) <= h->now_ns) {
        end(h, idx, NP_HS_TIMEOUT, deadline(h, s));
        return;
    }
    /* It must quote the client's SYN, not some other segment. */
    if (dir != s->client_dir || q->tcp_seq != s->syn_seq || !checksums_ok(h, p, d))
        return;
    end(h, idx, NP_HS_UNREACH, p->ts_ns);
}

void np_handshake_packet(struct np_handshake *h, const struct np_pkt *p)
{
    h->stats.pkts++;
    if (h->first_ns == 0)
        h->first_ns = p->ts_ns;
    if (p->ts_ns > h->now_ns)
        h->now_ns = p->ts_ns;
    expire(h, EXPIRE_PER_PKT);
    struct np_dpkt *d = &h->d;
    np_decode(p->linktype, p->data, p->caplen, p->wirelen, d, &h->stats.dec);
    if (d->is_frag) {
        h->stats.frags_skipped++;
        return;
    }
    if (!d->l4_ok)
        return;
    if (d->proto == 6) {
        h->stats.tcp++;
        tcp_segment(h, p, d);
    } else if ((d->proto == 1 || d->proto == 58) && h->cfg.icmp && h->head != NONE) {
        icmp_error(h, p, d);
    }
}

void np_handshake_tick(struct np_handshake *h, uint64_t now_ns)
{
    if (now_ns > h->now_ns)
        h->now_ns = now_ns;
    expire(h, UINT32_MAX);
}

void np_handshake_finish(struct np_handshake *h)
{
    while (h->head != NONE)
        end(h, h->head, NP_HS_TIMEOUT, deadline(h, &h->ents[h->head]));
}

const struct np_hs_counts *np_handshake_counts(const struct np_handshake *h, uint32_t i)
{
    return &h->counts[i < NP_HS_MAX_FILTERS ? i : 0];
}

const struct np_handshake_stats *np_handshake_stats(const struct np_handshake *h)
{
    return &h->stats;
}

uint64_t np_handshake_now(const struct np_handshake *h)
{
    return h->now_ns;
}

uint64_t np_handshake_first(const struct np_handshake *h)
{
    return h->first_ns;
}

const char *np_hs_outcome_name(enum np_hs_outcome o)
{
    switch (o) {
    case NP_HS_SUCCESS:
        return "success";
    case NP_HS_REJECT:
        return "failure (reject)";
    case NP_HS_UNREACH:
        return "failure (unreach)";
    case NP_HS_TIMEOUT:
        return "failure (timeout)";
    }
    return "?";
}

#define JLIT(s) (s), sizeof(s) - 1 /* a literal and its length */

/* Appends to dst (cap bytes) at *len, counting what does not fit. */
static void jput(char *dst, size_t cap, size_t *len, const char *s, size_t n)
{
    if (*len < cap) {
        size_t k = cap - *len < n ? cap - *len : n;
        memcpy(dst + *len, s, k);
    }
    *len += n;
}

/* The length of the well-formed UTF-8 sequence at s (1 to 4), or 0 when
 * the bytes there are not one; *bad_len is then the length of its maximal
 * ill-formed prefix (at least 1), to be replaced by one U+FFFD as Unicode
 * 15.0 section 3.9 (U+FFFD substitution of maximal subparts) recommends.
 * Table 3-7 gives the well-formed sequences: no overlong forms, no
 * surrogates, nothing above U+10FFFF. s is NUL-terminated, so no sequence
 * runs past its end. */
static size_t utf8_len(const unsigned char *s, size_t *bad_len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        *bad_len = 1;
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        bool ok = i == 1 ? s[i] >= lo && s[i] <= hi : s[i] >= 0x80 && s[i] <= 0xbf;
        if (!ok) {
            *bad_len = i;
            return 0;
        }
    }
    return n;
}

/* A JSON string: '"', '\\' and control bytes escaped; bytes that are not
 * well-formed UTF-8 (a filter name is any bytes but control characters)
 * become U+FFFD, so the answer is always valid JSON text (RFC 8259 section 8.1). */
static void jstr(char *dst, size_t cap, size_t *len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    jput(dst, cap, len, "\"", 1);
    while (*u != 0) {
        unsigned char ch = *u;
        char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
        size_t bad = 0, n = utf8_len(u, &bad);
        if (n == 0) {
            jput(dst, cap, len, "\xef\xbf\xbd", 3); /* U+FFFD */
            u += bad;
        } else if (ch == '"' || ch == '\\') {
            e[1] = (char)ch;
            jput(dst, cap, len, e, 2);
            u++;
        } else if (ch < 0x20) {
            jput(dst, cap, len, e, 6);
            u++;
        } else {
            jput(dst, cap, len, (const char *)u, n);
            u += n;
        }
    }
    jput(dst, cap, len, "\"", 1);
}

static void jnum(char *dst, size_t cap, size_t *len, const char *key, uint64_t v, bool last)
{
    char b[64];
    int n = snprintf(b, sizeof(b), "\"%s\":%llu%s", key, (unsigned long long)v, last ? "" : ",");
    jput(dst, cap, len, b, (size_t)n);
}

size_t np_handshake_json(char *dst, size_t cap, const struct np_hs_exprs *x,
                         const struct np_hs_counts *c, const struct np_hs_pcap_counts *p)
{
    size_t len = 0;
    size_t room = cap > 0 ? cap - 1 : 0;
    jput(dst, room, &len, JLIT("["));
    for (uint32_t i = 0; i < x->n_named; i++) {
        jput(dst, room, &len, JLIT("{"));
        jstr(dst, room, &len, np_hs_exprs_named(x, i)->name);
        jput(dst, room, &len, JLIT(":{\"success\":{"));
        jnum(dst, room, &len, "total", c[i].success, false);
        jnum(dst, room, &len, "dupsyn", c[i].dupsyn, false);
        jnum(dst, room, &len, "dupsynack", c[i].dupsynack, true);
        jput(dst, room, &len, JLIT("},\"failure\":{"));
        jnum(dst, room, &len, "total", c[i].failure, false);
        jnum(dst, room, &len, "timeout", c[i].timeout, false);
        jnum(dst, room, &len, "reject", c[i].reject, false);
        jnum(dst, room, &len, "unreach", c[i].unreach, true);
        jput(dst, room, &len, JLIT("}}},"));
    }
    jput(dst, room, &len, JLIT("{\"pcap\":{\"stats\":{"));
    jnum(dst, room, &len, "recv", p->recv, false);
    jnum(dst, room, &len, "drop", p->drop, false);
    jnum(dst, room, &len, "ifdrop", p->ifdrop, true);
    jput(dst, room, &len, JLIT("}}}]"));
    if (cap > 0)
        dst[len < room ? len : room] = '\0';
    return len;
}
