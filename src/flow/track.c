/* flow/track.c: the per-shard packet-to-flow stage.
 *
 * Per packet: decode, reassemble fragments, build the canonical key, find or
 * create the flow, count the frame, advance TCP close state. No allocation
 * per packet: the table grows in steps and the reassembler is preallocated.
 *
 * TCP ends: a flow closed by FINs ends at the ACK that acknowledges the last
 * FIN (so that ACK stays in the flow, as Wireshark counts it); a RST ends it
 * at once. An ended TCP flow is held in the CLOSED class for the close delay
 * (capture time since its last frame) and takes the stragglers that arrive
 * meanwhile; then its record goes out with the reason fixed at the close. A
 * SYN with a new initial sequence number on a flow that is closing (a FIN was
 * seen) or closed ends that flow at once and starts a new one; a
 * retransmitted SYN (same sequence number) stays in its flow. Packets that
 * arrive after a flow's record went out start a new flow on the same key.
 */
#include "flow/track.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/packet.h"

/* Idle flows expired per class and call: bounds the work one batch can
 * trigger when a quiet spell ends many flows at once. */
#define NP_EXPIRE_PER_BATCH 4096u

/* What the flow stage needs of one packet, taken from the decoded view by
 * the decode stage. */
struct fpkt {
    struct np_flow_key key;
    uint64_t hash;
    uint64_t ts_ns;
    uint64_t first_ts_ns; /* of its first frame: a datagram's first fragment */
    uint64_t wire, cap;   /* bytes of every frame it stands for */
    uint32_t frames;      /* 1, or the fragment frames of a datagram */
    uint32_t seq, ack, payload_wire_len;
    uint8_t dir;
    uint8_t tcp_flags;
    bool is_tcp;
    const struct np_pkt *pkt;    /* the frame (the datagram's completing one) */
    uint32_t frag_first, frag_n; /* its fragment frames in t->fo (packet hook) */
};

/* Fragment frames kept for the packet hook: copies in a FIFO byte ring, so
 * that the frames of a datagram can be handed over when it completes. */
#define STASH_FRAMES 1024u
#define FO_FRAMES    512u       /* fragment frames handed over per group */
#define FO_BYTES     (2u << 20) /* their bytes, per group */

struct stash_ent {
    uint8_t ip_ver, proto;
    uint32_t id;
    uint8_t src[16], dst[16];
    bool live;         /* not yet handed over */
    uint32_t off;      /* bytes in the ring */
    struct np_pkt pkt; /* data points into the ring */
};

struct stash {
    struct stash_ent ent[STASH_FRAMES]; /* FIFO: head .. head + n */
    uint32_t head, n;
    uint8_t *ring; /* owned; NP_TRACK_STASH_BYTES */
    uint32_t tail; /* next free byte */
};

struct np_track {
    struct np_flow_table *table; /* owned */
    struct np_frag_table *frag;  /* owned */
    struct np_track_cfg cfg;
    np_flow_end_fn *on_end;
    void *ctx;
    uint64_t now_ns; /* capture time: the largest timestamp seen */
    struct np_track_stats st;
    struct np_dpkt d;       /* scratch for the packet being decoded */
    np_flow_pkt_fn *on_pkt; /* optional packet hook */
    void *pkt_ctx;
    struct stash *stash; /* owned; only when the hook wants fragment frames */
    struct np_pkt *fo;   /* owned; FO_FRAMES frames handed over this group */
    uint8_t *fo_buf;     /* owned; FO_BYTES of their bytes */
    uint32_t fo_n, fo_len;
};

void np_track_cfg_default(struct np_track_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->timeout_ns[NP_FLOW_CLASS_TCP] = 600ull * 1000000000u;
    c->timeout_ns[NP_FLOW_CLASS_UDP] = 180ull * 1000000000u;
    c->timeout_ns[NP_FLOW_CLASS_ICMP] = 60ull * 1000000000u;
    c->timeout_ns[NP_FLOW_CLASS_OTHER] = 180ull * 1000000000u;
    c->timeout_ns[NP_FLOW_CLASS_CLOSED] = 5ull * 1000000000u;
    c->max_flows = 1000000;
}

struct np_track *np_track_create(const struct np_track_cfg *cfg, np_flow_end_fn *on_end, void *ctx,
                                 struct np_err *err)
{
    struct np_track *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory for the flow tracker");
        return NULL;
    }
    t->cfg = *cfg;
    t->on_end = on_end;
    t->ctx = ctx;
    t->table = np_flow_table_create(cfg->max_flows, err);
    if (t->table == NULL)
        goto fail;
    t->frag = np_frag_create(NULL, err);
    if (t->frag == NULL)
        goto fail;
    return t;
fail:
    np_track_destroy(t);
    return NULL;
}

void np_track_destroy(struct np_track *t)
{
    if (t == NULL)
        return;
    np_flow_table_destroy(t->table);
    np_frag_destroy(t->frag);
    if (t->stash != NULL)
        np_mem_free(t->stash->ring, NP_TRACK_STASH_BYTES);
    free(t->stash);
    free(t->fo);
    np_mem_free(t->fo_buf, FO_BYTES);
    free(t);
}

enum np_rc np_track_set_packet_hook(struct np_track *t, np_flow_pkt_fn *fn, void *ctx, bool frames,
                                    struct np_err *err)
{
    t->on_pkt = fn;
    t->pkt_ctx = ctx;
    if (!frames || t->stash != NULL)
        return NP_OK;
    t->stash = calloc(1, sizeof(*t->stash));
    t->fo = calloc(FO_FRAMES, sizeof(*t->fo));
    t->fo_buf = np_mem_alloc(FO_BYTES);
    if (t->stash != NULL)
        t->stash->ring = np_mem_alloc(NP_TRACK_STASH_BYTES);
    if (t->stash == NULL || t->stash->ring == NULL || t->fo == NULL || t->fo_buf == NULL)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory for fragment frames");
    return NP_OK;
}

static bool same_datagram(const struct stash_ent *e, const struct np_dpkt *d)
{
    return e->ip_ver == d->ip_ver && e->id == d->frag_id &&
           (d->ip_ver == 6 || e->proto == d->proto) && memcmp(e->src, d->src, 16) == 0 &&
           memcmp(e->dst, d->dst, 16) == 0;
}

static void stash_drop_oldest(struct stash *sh)
{
    sh->head = (sh->head + 1) % STASH_FRAMES;
    sh->n--;
}

/* Keeps a copy of fragment frame p (decoded as d). The oldest frames make
 * room; a frame they belonged to is then handed over incomplete (counted). */
static void stash_put(struct np_track *t, const struct np_pkt *p, const struct np_dpkt *d)
{
    struct stash *sh = t->stash;
    uint32_t len = p->caplen;
    if (len > NP_TRACK_STASH_BYTES / 4) {
        t->st.frag_frames_lost++;
        return;
    }
    for (;;) {
        if (sh->n == 0) {
            sh->tail = 0;
            break;
        }
        if (sh->n == STASH_FRAMES) {
            t->st.frag_frames_lost += sh->ent[sh->head].live;
            stash_drop_oldest(sh);
            continue;
        }
        uint32_t head_off = sh->ent[sh->head].off;
        if (sh->tail >= head_off) { /* free: [tail, end) and [0, head_off) */
            if (NP_TRACK_STASH_BYTES - sh->tail >= len)
                break;
            if (head_off > len) {
                sh->tail = 0;
                break;
            }
        } else if (head_off - sh->tail > len) { /* free: [tail, head_off) */
            break;
        }
        t->st.frag_frames_lost += sh->ent[sh->head].live;
        stash_drop_oldest(sh);
    }
    struct stash_ent *e = &sh->ent[(sh->head + sh->n) % STASH_FRAMES];
    sh->n++;
    e->ip_ver = d->ip_ver;
    e->proto = d->proto;
    e->id = d->frag_id;
    memcpy(e->src, d->src, 16);
    memcpy(e->dst, d->dst, 16);
    e->live = true;
    e->off = sh->tail;
    memcpy(sh->ring + sh->tail, p->data, len);
    e->pkt = *p;
    e->pkt.data = sh->ring + sh->tail;
    sh->tail += len;
}

/* Appends frame p to this group's handed-over frames; false when full. */
static bool fo_put(struct np_track *t, const struct np_pkt *p)
{
    if (t->fo_n == FO_FRAMES || FO_BYTES - t->fo_len < p->caplen) {
        t->st.frag_frames_lost++;
        return false;
    }
    memcpy(t->fo_buf + t->fo_len, p->data, p->caplen);
    t->fo[t->fo_n] = *p;
    t->fo[t->fo_n].data = t->fo_buf + t->fo_len;
    t->fo_n++;
    t->fo_len += p->caplen;
    return true;
}

/* A datagram completed with frame p: hands its stashed frames, then p, to
 * the group's list, in input order. */
static void stash_take(struct np_track *t, const struct np_pkt *p, const struct np_dpkt *d,
                       struct fpkt *q)
{
    struct stash *sh = t->stash;
    q->frag_first = t->fo_n;
    for (uint32_t i = 0; i < sh->n; i++) {
        struct stash_ent *e = &sh->ent[(sh->head + i) % STASH_FRAMES];
        if (e->live && same_datagram(e, d)) {
            e->live = false;
            fo_put(t, &e->pkt);
        }
    }
    fo_put(t, p);
    q->frag_n = t->fo_n - q->frag_first;
}

/* Hands flow idx to the end callback; the caller frees it. */
static void report_flow(struct np_track *t, uint32_t idx, enum np_flow_end why)
{
    struct np_flow *f = np_flow_table_at(t->table, idx);
    if (f->state & NP_FS_CLOSED) /* the reason was fixed when it closed */
        why = (f->state & NP_FS_CLOSED_RST) ? NP_END_RST : NP_END_FIN;
    t->st.flows_ended[why]++;
    t->on_end(f, idx, why, t->ctx);
}

static void end_flow(struct np_track *t, uint32_t idx, enum np_flow_end why)
{
    report_flow(t, idx, why);
    np_flow_table_remove(t->table, idx);
}

/* Ends the least recently touched flow of all classes to make room. */
static void evict_one(struct np_track *t)
{
    uint32_t victim = NP_FLOW_NONE;
    uint64_t oldest = UINT64_MAX;
    for (int c = 0; c < NP_FLOW_CLASSES; c++) {
        uint32_t i = np_flow_table_oldest(t->table, (enum np_flow_class)c);
        if (i != NP_FLOW_NONE && np_flow_table_at(t->table, i)->last_ns < oldest) {
            oldest = np_flow_table_at(t->table, i)->last_ns;
            victim = i;
        }
    }
    if (victim != NP_FLOW_NONE)
        end_flow(t, victim, NP_END_EVICTION);
}

static uint32_t new_flow(struct np_track *t, const struct np_flow_key *k, uint64_t hash,
                         uint64_t ts_ns)
{
    enum np_flow_class cls = np_flow_class_of(k->proto);
    uint32_t idx = np_flow_table_insert(t->table, k, hash, cls);
    if (idx == NP_FLOW_NONE) {
        evict_one(t);
        idx = np_flow_table_insert(t->table, k, hash, cls);
        if (idx == NP_FLOW_NONE)
            return NP_FLOW_NONE;
    }
    struct np_flow *f = np_flow_table_at(t->table, idx);
    f->id = np_flow_id(k, ts_ns);
    f->first_ns = f->last_ns = ts_ns;
    t->st.flows_created++;
    uint32_t n = np_flow_table_count(t->table);
    if (n > t->st.flows_peak)
        t->st.flows_peak = n;
    return idx;
}

/* A TCP flow closed: hold it for the close delay, or end it now. */
static void close_flow(struct np_track *t, uint32_t idx, enum np_flow_end why)
{
    if (t->cfg.timeout_ns[NP_FLOW_CLASS_CLOSED] == 0) {
        end_flow(t, idx, why);
        return;
    }
    struct np_flow *f = np_flow_table_at(t->table, idx);
    f->state |= NP_FS_CLOSED | (why == NP_END_RST ? NP_FS_CLOSED_RST : 0);
    np_flow_table_set_class(t->table, idx, NP_FLOW_CLASS_CLOSED);
}

/* TCP: who is the client, when does the flow close. Returns true when this
 * packet ends the flow (after it has been counted), with *why set. */
static bool tcp_update(struct np_flow *f, const struct fpkt *q, enum np_flow_end *why)
{
    uint8_t fl = q->tcp_flags;
    unsigned dir = q->dir;
    if ((fl & (NP_TCP_SYN | NP_TCP_ACK)) == NP_TCP_SYN) {
        if (!(f->state & NP_FS_HAS_SYN)) {
            f->syn_seq = q->seq;
            f->state |= NP_FS_HAS_SYN;
        }
        if (!(f->state & NP_FS_CLIENT_SYN)) {
            f->client = (uint8_t)dir;
            f->state |= NP_FS_CLIENT_SYN;
        }
    } else if ((fl & (NP_TCP_SYN | NP_TCP_ACK)) == (NP_TCP_SYN | NP_TCP_ACK) &&
               !(f->state & NP_FS_CLIENT_SYN)) {
        f->client = (uint8_t)(dir ^ 1u); /* the SYN/ACK goes to the client */
        f->state |= NP_FS_CLIENT_SYN;
    }
    if (fl & NP_TCP_RST) {
        *why = NP_END_RST;
        return true;
    }
    if (fl & NP_TCP_FIN) {
        /* The FIN occupies the sequence number after the segment's data
         * (and after the SYN, which also takes one). */
        uint32_t fin = q->seq + q->payload_wire_len + ((fl & NP_TCP_SYN) ? 1u : 0u);
        f->fin_seq[dir] = fin;
        f->state |= dir ? NP_FS_FIN_B : NP_FS_FIN_A;
    }
    if (fl & NP_TCP_ACK) {
        uint8_t peer_fin = dir ? NP_FS_FIN_A : NP_FS_FIN_B;
        uint8_t peer_acked = dir ? NP_FS_FIN_A_ACKED : NP_FS_FIN_B_ACKED;
        /* ack - (fin + 1) >= 0 in sequence space: the FIN is acknowledged. */
        if ((f->state & peer_fin) && (int32_t)(q->ack - (f->fin_seq[dir ^ 1u] + 1u)) >= 0)
            f->state |= peer_acked;
    }
    if ((f->state & (NP_FS_FIN_A_ACKED | NP_FS_FIN_B_ACKED)) ==
        (NP_FS_FIN_A_ACKED | NP_FS_FIN_B_ACKED)) {
        *why = NP_END_FIN;
        return true;
    }
    return false;
}

/* Decode stage: fills q from packet p; false when p belongs to no flow (yet):
 * not IP, or a fragment of a datagram still incomplete. */
static bool decode_packet(struct np_track *t, const struct np_pkt *p, struct fpkt *q)
{
    struct np_dpkt *d = &t->d;
    q->ts_ns = q->first_ts_ns = p->ts_ns;
    q->wire = p->wirelen;
    q->cap = p->caplen;
    q->frames = 1;
    q->pkt = p;
    q->frag_n = 0;
    np_decode(p->linktype, p->data, p->caplen, p->wirelen, d, &t->st.dec);
    if (d->ip_ver == 0) {
        t->st.pkts_no_flow++;
        return false;
    }
    if (t->cfg.tcp_only && d->proto != 6) {
        t->st.pkts_not_tracked++;
        return false;
    }
    if (d->is_frag) {
        struct np_frag_done done;
        if (!np_frag_add(t->frag, d, p->ts_ns, p->wirelen, p->caplen, &done)) {
            if (t->stash != NULL)
                stash_put(t, p, d);
            return false; /* held until its datagram completes, or never counted */
        }
        if (t->stash != NULL)
            stash_take(t, p, d, q);
        np_decode_ip_payload_wire(done.proto, done.data, done.len, done.wire_len, d, &t->st.dec);
        q->frames = done.n_frames;
        q->first_ts_ns = done.first_ts_ns;
        q->wire = done.frames_wire_bytes;
        q->cap = done.frames_cap_bytes;
    }
    uint16_t sport = d->l4_ok ? d->sport : 0, dport = d->l4_ok ? d->dport : 0;
    q->dir = np_flow_key_make(&q->key, d->ip_ver, d->proto, d->vlan, d->src, sport, d->dst, dport);
    q->hash = np_flow_key_hash(&q->key);
    q->is_tcp = d->proto == 6 && d->l4_ok;
    q->tcp_flags = d->tcp_flags;
    q->seq = d->seq;
    q->ack = d->ack;
    q->payload_wire_len = d->payload_wire_len;
    return true;
}

/* Flow stage: finds or creates q's flow and counts q in it. */
static void apply_packet(struct np_track *t, const struct fpkt *q)
{
    uint32_t idx = np_flow_table_find(t->table, &q->key, q->hash);

    if (idx != NP_FLOW_NONE) {
        /* Exact idle timeout for this flow, whatever the batch expiry reached. */
        const struct np_flow *f = np_flow_table_at(t->table, idx);
        enum np_flow_class cls =
                (f->state & NP_FS_CLOSED) ? NP_FLOW_CLASS_CLOSED : np_flow_class_of(q->key.proto);
        if (t->now_ns - f->last_ns >= t->cfg.timeout_ns[cls] && t->now_ns > f->last_ns) {
            end_flow(t, idx, NP_END_TIMEOUT);
            idx = NP_FLOW_NONE;
        }
    }
    if (idx != NP_FLOW_NONE && q->is_tcp &&
        (q->tcp_flags & (NP_TCP_SYN | NP_TCP_ACK)) == NP_TCP_SYN) {
        struct np_flow *f = np_flow_table_at(t->table, idx);
        bool closing = (f->state & (NP_FS_FIN_A | NP_FS_FIN_B | NP_FS_CLOSED)) != 0;
        if (closing && (!(f->state & NP_FS_HAS_SYN) || f->syn_seq != q->seq)) {
            t->st.tcp_new_syn_splits++;
            end_flow(t, idx, NP_END_FIN);
            idx = NP_FLOW_NONE;
        }
    }
    if (idx == NP_FLOW_NONE) {
        idx = new_flow(t, &q->key, q->hash, q->first_ts_ns);
        if (idx == NP_FLOW_NONE) {
            t->st.pkts_no_flow += q->frames;
            return;
        }
        np_flow_table_at(t->table, idx)->client = q->dir;
    } else if ((q->ts_ns >> 30) != (np_flow_table_at(t->table, idx)->last_ns >> 30)) {
        /* Re-queue on the idle list only when the packet enters a new ~1.07 s
         * slot: the list stays ordered to within that, and each touch costs
         * two cache misses on the neighbours. Expiry may write an idle
         * flow's record up to 1.07 s of capture time late; the exact check
         * above still splits flows at their timeout. */
        np_flow_table_touch(t->table, idx);
    }

    struct np_flow *f = np_flow_table_at(t->table, idx);
    bool new_flow = f->pkts[0] == 0 && f->pkts[1] == 0;
    bool after_close = (f->state & NP_FS_CLOSED) != 0;
    t->st.pkts_in_flows += q->frames;
    f->pkts[q->dir] += q->frames;
    f->bytes[q->dir] += q->wire;
    f->cap_bytes[q->dir] += q->cap;
    if (q->ts_ns > f->last_ns)
        f->last_ns = q->ts_ns;
    enum np_flow_end why;
    bool closes = false;
    if (q->is_tcp) {
        f->tcp_flags[q->dir] |= q->tcp_flags;
        closes = !after_close && tcp_update(f, q, &why);
    }
    if (t->on_pkt != NULL) {
        struct np_flow_pkt fp = { q->pkt,   t->fo + q->frag_first, q->frag_n, idx,
                                  new_flow, after_close,           q->dir,    q->tcp_flags,
                                  q->seq };
        t->on_pkt(f, &fp, t->pkt_ctx);
    }
    if (closes)
        close_flow(t, idx, why);
}

/* Ends flows idle for longer than their class's timeout, oldest first. */
static void expire(struct np_track *t)
{
    for (int c = 0; c < NP_FLOW_CLASSES; c++) {
        uint64_t to = t->cfg.timeout_ns[c];
        if (c == NP_FLOW_CLASS_CLOSED && to == 0)
            continue; /* nothing is held */
        for (unsigned n = 0; n < NP_EXPIRE_PER_BATCH; n++) {
            uint32_t i = np_flow_table_oldest(t->table, (enum np_flow_class)c);
            if (i == NP_FLOW_NONE)
                break;
            uint64_t last = np_flow_table_at(t->table, i)->last_ns;
            if (last + to > t->now_ns)
                break;
            end_flow(t, i, NP_END_TIMEOUT);
        }
    }
    np_frag_expire(t->frag, t->now_ns);
}

/* Packets decoded ahead of their flow lookups. 16 ahead: bench/run on
 * synth-large (800k flows) gains about a third over one at a time, where
 * every lookup waited for two cache misses in turn. */
#define GROUP 16

void np_track_batch(struct np_track *t, const struct np_batch *b)
{
    struct fpkt grp[GROUP];
    uint64_t batch_max = 0;
    for (uint32_t i = 0; i < b->n;) {
        unsigned n = 0;
        t->fo_n = t->fo_len = 0; /* fragment frames handed over in this group */
        for (; i < b->n && n < GROUP; i++) {
            const struct np_pkt *p = &b->pkts[i];
            t->st.pkts++;
            if (p->ts_ns > batch_max)
                batch_max = p->ts_ns;
            if (decode_packet(t, p, &grp[n]))
                np_flow_table_prefetch_slot(t->table, grp[n++].hash);
        }
        for (unsigned k = 0; k < n; k++)
            np_flow_table_prefetch_entry(t->table, grp[k].hash);
        for (unsigned k = 0; k < n; k++) {
            if (grp[k].ts_ns > t->now_ns)
                t->now_ns = grp[k].ts_ns;
            apply_packet(t, &grp[k]);
        }
    }
    if (batch_max > t->now_ns)
        t->now_ns = batch_max;
    if (b->tick_ns > t->now_ns)
        t->now_ns = b->tick_ns;
    expire(t);
}

struct order {
    uint64_t first_ns;
    uint32_t idx;
};

/* Sorts v[0..n) by (first_ns, idx) with an LSD radix sort, 16 bits a pass:
 * stable, so idx order (already ascending) breaks ties. tmp has n entries.
 * Passes whose digit is the same for all entries are skipped. */
static void radix_sort(struct order *v, struct order *tmp, size_t n)
{
    uint32_t count[1u << 16]; /* 256 KiB of stack, already mapped */
    for (unsigned shift = 0; shift < 64; shift += 16) {
        memset(count, 0, sizeof(count));
        for (size_t i = 0; i < n; i++)
            count[(v[i].first_ns >> shift) & 0xffff]++;
        if (n == 0 || count[(v[0].first_ns >> shift) & 0xffff] == n)
            continue;
        uint32_t sum = 0;
        for (size_t d = 0; d < (1u << 16); d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(v[i].first_ns >> shift) & 0xffff]++] = v[i];
        memcpy(v, tmp, n * sizeof(*v));
    }
}

/* Ends every flow in table order, then empties the table at once. */
static void finish_in_table_order(struct np_track *t)
{
    for (uint32_t i = np_flow_table_next(t->table, 0); i != NP_FLOW_NONE;
         i = np_flow_table_next(t->table, i + 1))
        report_flow(t, i, NP_END_EOI);
    np_flow_table_reset(t->table);
}

void np_track_finish(struct np_track *t)
{
    if (t->cfg.finish_any_order) {
        finish_in_table_order(t);
        return;
    }
    uint32_t n = np_flow_table_count(t->table);
    /* Huge-page mappings (core/mem.h): malloc would fault these in 4 KiB
     * pages, a cost comparable to the sort on a small capture. */
    size_t ord_bytes = (size_t)n * sizeof(struct order) + 1;
    struct order *ord = np_mem_alloc(ord_bytes);
    struct order *tmp = np_mem_alloc(ord_bytes);
    if (ord == NULL || tmp == NULL) {
        np_mem_free(ord, ord_bytes);
        np_mem_free(tmp, ord_bytes);
        finish_in_table_order(t); /* out of memory at exit: unordered, not lost */
        return;
    }
    /* Sort (first_ns, index) pairs: contiguous keys, no entry lookups. */
    uint32_t k = 0;
    for (uint32_t i = np_flow_table_next(t->table, 0); i != NP_FLOW_NONE;
         i = np_flow_table_next(t->table, i + 1)) {
        ord[k].first_ns = np_flow_table_at(t->table, i)->first_ns;
        ord[k++].idx = i;
    }
    radix_sort(ord, tmp, k);
    /* Nothing uses the table after this: report every flow, then empty the
     * table at once rather than remove flows one by one. Entries are read in
     * first-seen order, scattered over the pool: fetch a few ahead. */
    for (uint32_t i = 0; i < k; i++) {
        if (i + 8 < k)
            __builtin_prefetch(np_flow_table_at(t->table, ord[i + 8].idx));
        report_flow(t, ord[i].idx, NP_END_EOI);
    }
    np_flow_table_reset(t->table);
    np_mem_free(ord, ord_bytes);
    np_mem_free(tmp, ord_bytes);
}

const struct np_track_stats *np_track_stats(struct np_track *t)
{
    t->st.frag = *np_frag_get_stats(t->frag);
    return &t->st;
}

size_t np_track_mem_bytes(const struct np_track *t)
{
    return np_flow_table_mem_bytes(t->table);
}

size_t np_tcp_flags_str(char *dst, uint8_t flags)
{
    static const char letters[8] = { 'F', 'S', 'R', 'P', '.', 'U', 'E', 'W' };
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        if (flags & (1u << i))
            dst[n++] = letters[i];
    if (n == 0) {
        memcpy(dst, "none", 4);
        n = 4;
    }
    dst[n] = '\0';
    return n;
}
