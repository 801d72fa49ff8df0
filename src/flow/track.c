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

#include "core/packet.h"

/* Idle flows expired per class and call: bounds the work one batch can
 * trigger when a quiet spell ends many flows at once. */
#define NP_EXPIRE_PER_BATCH 4096u

struct np_track {
    struct np_flow_table *table; /* owned */
    struct np_frag_table *frag;  /* owned */
    struct np_track_cfg cfg;
    np_flow_end_fn *on_end;
    void *ctx;
    uint64_t now_ns; /* capture time: the largest timestamp seen */
    struct np_track_stats st;
    struct np_dpkt d; /* scratch for the packet being decoded */
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
    free(t);
}

static void end_flow(struct np_track *t, uint32_t idx, enum np_flow_end why)
{
    struct np_flow *f = np_flow_table_at(t->table, idx);
    if (f->state & NP_FS_CLOSED) /* the reason was fixed when it closed */
        why = (f->state & NP_FS_CLOSED_RST) ? NP_END_RST : NP_END_FIN;
    t->st.flows_ended[why]++;
    t->on_end(f, why, t->ctx);
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
static bool tcp_update(struct np_flow *f, const struct np_dpkt *d, unsigned dir,
                       enum np_flow_end *why)
{
    uint8_t fl = d->tcp_flags;
    if ((fl & (NP_TCP_SYN | NP_TCP_ACK)) == NP_TCP_SYN) {
        if (!(f->state & NP_FS_HAS_SYN)) {
            f->syn_seq = d->seq;
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
        uint32_t fin = d->seq + d->payload_wire_len + ((fl & NP_TCP_SYN) ? 1u : 0u);
        f->fin_seq[dir] = fin;
        f->state |= dir ? NP_FS_FIN_B : NP_FS_FIN_A;
    }
    if (fl & NP_TCP_ACK) {
        uint8_t peer_fin = dir ? NP_FS_FIN_A : NP_FS_FIN_B;
        uint8_t peer_acked = dir ? NP_FS_FIN_A_ACKED : NP_FS_FIN_B_ACKED;
        /* ack - (fin + 1) >= 0 in sequence space: the FIN is acknowledged. */
        if ((f->state & peer_fin) && (int32_t)(d->ack - (f->fin_seq[dir ^ 1u] + 1u)) >= 0)
            f->state |= peer_acked;
    }
    if ((f->state & (NP_FS_FIN_A_ACKED | NP_FS_FIN_B_ACKED)) ==
        (NP_FS_FIN_A_ACKED | NP_FS_FIN_B_ACKED)) {
        *why = NP_END_FIN;
        return true;
    }
    return false;
}

static void track_packet(struct np_track *t, const struct np_pkt *p)
{
    struct np_dpkt *d = &t->d;
    uint64_t wire = p->wirelen, cap = p->caplen;
    uint64_t first_ts = p->ts_ns; /* of the first frame: a datagram's first fragment */
    uint32_t frames = 1;

    t->st.pkts++;
    np_decode(p->linktype, p->data, p->caplen, p->wirelen, d, &t->st.dec);
    if (d->ip_ver == 0) {
        t->st.pkts_no_flow++;
        return;
    }
    if (d->is_frag) {
        struct np_frag_done done;
        if (!np_frag_add(t->frag, d, p->ts_ns, p->wirelen, p->caplen, &done))
            return; /* held until its datagram completes, or never counted */
        np_decode_ip_payload_wire(done.proto, done.data, done.len, done.wire_len, d, &t->st.dec);
        frames = done.n_frames;
        first_ts = done.first_ts_ns;
        wire = done.frames_wire_bytes;
        cap = done.frames_cap_bytes;
    }

    uint16_t sport = 0, dport = 0;
    if (d->l4_ok) {
        sport = d->sport;
        dport = d->dport;
    }
    struct np_flow_key k;
    unsigned dir = np_flow_key_make(&k, d->ip_ver, d->proto, d->vlan, d->src, sport, d->dst, dport)
                           ? 1u
                           : 0u;
    uint64_t hash = np_flow_key_hash(&k);
    uint32_t idx = np_flow_table_find(t->table, &k, hash);
    bool is_tcp = d->proto == 6 && d->l4_ok;

    if (idx != NP_FLOW_NONE) {
        /* Exact idle timeout for this flow, whatever the batch expiry reached. */
        const struct np_flow *f = np_flow_table_at(t->table, idx);
        enum np_flow_class cls =
                (f->state & NP_FS_CLOSED) ? NP_FLOW_CLASS_CLOSED : np_flow_class_of(k.proto);
        if (t->now_ns - f->last_ns >= t->cfg.timeout_ns[cls] && t->now_ns > f->last_ns) {
            end_flow(t, idx, NP_END_TIMEOUT);
            idx = NP_FLOW_NONE;
        }
    }
    if (idx != NP_FLOW_NONE && is_tcp && (d->tcp_flags & (NP_TCP_SYN | NP_TCP_ACK)) == NP_TCP_SYN) {
        struct np_flow *f = np_flow_table_at(t->table, idx);
        bool closing = (f->state & (NP_FS_FIN_A | NP_FS_FIN_B | NP_FS_CLOSED)) != 0;
        if (closing && (!(f->state & NP_FS_HAS_SYN) || f->syn_seq != d->seq)) {
            t->st.tcp_new_syn_splits++;
            end_flow(t, idx, NP_END_FIN);
            idx = NP_FLOW_NONE;
        }
    }
    if (idx == NP_FLOW_NONE) {
        idx = new_flow(t, &k, hash, first_ts);
        if (idx == NP_FLOW_NONE) {
            t->st.pkts_no_flow++;
            return;
        }
        np_flow_table_at(t->table, idx)->client = (uint8_t)dir;
    } else {
        np_flow_table_touch(t->table, idx);
    }

    struct np_flow *f = np_flow_table_at(t->table, idx);
    t->st.pkts_in_flows += frames;
    f->pkts[dir] += frames;
    f->bytes[dir] += wire;
    f->cap_bytes[dir] += cap;
    if (p->ts_ns > f->last_ns)
        f->last_ns = p->ts_ns;
    if (is_tcp) {
        enum np_flow_end why;
        f->tcp_flags[dir] |= d->tcp_flags;
        if (!(f->state & NP_FS_CLOSED) && tcp_update(f, d, dir, &why))
            close_flow(t, idx, why);
    }
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

void np_track_batch(struct np_track *t, const struct np_batch *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        const struct np_pkt *p = &b->pkts[i];
        if (p->ts_ns > t->now_ns)
            t->now_ns = p->ts_ns;
        track_packet(t, p);
    }
    if (b->tick_ns > t->now_ns)
        t->now_ns = b->tick_ns;
    expire(t);
}

static int by_first_seen(const void *x, const void *y, void *arg)
{
    struct np_flow_table *tab = arg;
    const struct np_flow *a = np_flow_table_at(tab, *(const uint32_t *)x);
    const struct np_flow *b = np_flow_table_at(tab, *(const uint32_t *)y);
    if (a->first_ns != b->first_ns)
        return a->first_ns < b->first_ns ? -1 : 1;
    uint32_t ia = *(const uint32_t *)x, ib = *(const uint32_t *)y;
    return ia < ib ? -1 : ia > ib;
}

void np_track_finish(struct np_track *t)
{
    uint32_t n = np_flow_table_count(t->table);
    uint32_t *idx = malloc((size_t)n * sizeof(*idx) + 1);
    if (idx == NULL) {
        /* Out of memory at exit: end them in table order rather than lose them. */
        for (int c = 0; c < NP_FLOW_CLASSES; c++) {
            uint32_t i;
            while ((i = np_flow_table_oldest(t->table, (enum np_flow_class)c)) != NP_FLOW_NONE)
                end_flow(t, i, NP_END_EOI);
        }
        return;
    }
    np_flow_table_list(t->table, idx);
    qsort_r(idx, n, sizeof(*idx), by_first_seen, t->table);
    for (uint32_t i = 0; i < n; i++)
        end_flow(t, idx[i], NP_END_EOI);
    free(idx);
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
