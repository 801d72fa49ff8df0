/* tests/flow/test_track.c: packets in, flow records out (flow/track.h).
 *
 * Each test builds its frames here (raw IPv4/IPv6 or Ethernet, with TCP,
 * UDP or ICMP headers; checksums are left 0 since nothing verifies them),
 * feeds them in batches and checks the records the end callback received
 * against docs/formats.md: endpoints, frames and wire bytes each way, TCP
 * flags, client, timestamps, end reason and id. Time is capture time only:
 * a timeout is reached by feeding a frame with a later timestamp (usually
 * of another protocol, whose own timeout is far away), never by waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/packet.h"
#include "flow/key.h"
#include "flow/table.h"
#include "flow/track.h"

#define SEC        1000000000ull
#define MS         1000000ull
#define T0         (1700000000ull * SEC) /* capture time of the first frame in most tests */
#define VLAN_NONE  0xffffu               /* NP_VLAN_NONE */
#define P_ICMP     1
#define P_TCP      6
#define P_UDP      17
#define P_GRE      47
#define MAX_RECS   32
#define FRAME_SIZE 2048

enum {
    FIN = NP_TCP_FIN,
    SYN = NP_TCP_SYN,
    RST = NP_TCP_RST,
    PSH = NP_TCP_PSH,
    ACK = NP_TCP_ACK,
};

/* ---- records ---------------------------------------------------------- */

struct rec {
    struct np_flow f; /* a copy: the tracker frees the flow after the callback */
    enum np_flow_end why;
};

struct fx {
    struct np_track *t;
    struct np_batch *b;
    uint64_t frame_no;
    size_t n_recs;
    size_t n_lost; /* records beyond MAX_RECS: a failing test, not a crash */
    struct rec recs[MAX_RECS];
};

static void on_end(const struct np_flow *f, uint32_t idx, enum np_flow_end why, void *ctx)
{
    (void)idx;
    struct fx *x = ctx;
    if (x->n_recs == MAX_RECS) {
        x->n_lost++;
        return;
    }
    x->recs[x->n_recs].f = *f;
    x->recs[x->n_recs].why = why;
    x->n_recs++;
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return -1;
    x->b = np_batch_create(64, 64 * FRAME_SIZE);
    if (x->b == NULL) {
        free(x);
        return -1;
    }
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    np_track_destroy(x->t);
    np_batch_destroy(x->b);
    free(x);
    return 0;
}

static void start(struct fx *x, const struct np_track_cfg *cfg)
{
    struct np_err err = { 0 };
    x->t = np_track_create(cfg, on_end, x, &err);
    assert_non_null(x->t);
}

/* Defaults, but with no close delay: a closed TCP flow goes out at once. */
static void start_no_delay(struct fx *x)
{
    struct np_track_cfg cfg;
    np_track_cfg_default(&cfg);
    cfg.timeout_ns[NP_FLOW_CLASS_CLOSED] = 0;
    start(x, &cfg);
}

static void start_default(struct fx *x)
{
    struct np_track_cfg cfg;
    np_track_cfg_default(&cfg);
    start(x, &cfg);
}

/* Defaults, but UDP flows time out after timeout_ns. */
static void start_udp_timeout(struct fx *x, uint64_t timeout_ns)
{
    struct np_track_cfg cfg;
    np_track_cfg_default(&cfg);
    cfg.timeout_ns[NP_FLOW_CLASS_UDP] = timeout_ns;
    start(x, &cfg);
}

/* Hands the frames added so far to the tracker as one batch. */
static void feed(struct fx *x)
{
    np_track_batch(x->t, x->b);
    np_batch_reset(x->b);
}

static void finish(struct fx *x)
{
    np_track_finish(x->t);
}

static const struct rec *rec_at(const struct fx *x, size_t i)
{
    assert_int_equal(x->n_lost, 0);
    assert_true(i < x->n_recs);
    return &x->recs[i];
}

/* ---- frame builder ---------------------------------------------------- */

/* One frame. Zero fields are defaults: raw IP, no VLAN, no payload. */
struct spec {
    uint64_t ts;
    const char *src, *dst; /* IPv4 or IPv6 text; the version follows */
    uint8_t proto;
    uint16_t sport, dport;  /* TCP/UDP ports; ICMP echo: sport is the identifier */
    uint8_t flags;          /* TCP */
    uint32_t seq, ack;      /* TCP */
    uint8_t type, code;     /* ICMP */
    const uint8_t *payload; /* payload_len bytes; zeros when NULL */
    uint32_t payload_len;
    bool eth; /* Ethernet (link type 1) instead of raw IP (101) */
    bool tagged;
    uint16_t vlan; /* with tagged: one 802.1Q tag */
};

static size_t put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
    return 4;
}

/* The address in 16 bytes (IPv4 in the first 4, the rest zero); its version. */
static uint8_t addr(const char *text, uint8_t out[16])
{
    memset(out, 0, 16);
    if (strchr(text, ':') != NULL) {
        assert_int_equal(inet_pton(AF_INET6, text, out), 1);
        return 6;
    }
    assert_int_equal(inet_pton(AF_INET, text, out), 1);
    return 4;
}

static bool addr_is(const uint8_t got[16], const char *text)
{
    uint8_t want[16];
    addr(text, want);
    return memcmp(got, want, 16) == 0;
}

/* Ethernet header (and tag) for ethertype; returns its length. */
static size_t put_eth(uint8_t *p, const struct spec *s, uint16_t ethertype)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    size_t n = 0;
    memcpy(p, macs, sizeof(macs));
    n += sizeof(macs);
    if (s->tagged) {
        n += put16(p + n, 0x8100);
        n += put16(p + n, s->vlan);
    }
    n += put16(p + n, ethertype);
    return n;
}

/* IPv4 header without options; frag is the flags/offset field. */
static size_t put_ip4(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                      uint32_t l4_len, uint16_t id, uint16_t frag)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, 20 + l4_len);
    put16(p + 4, id);
    put16(p + 6, frag);
    p[8] = 64;
    p[9] = proto;
    memcpy(p + 12, src, 4);
    memcpy(p + 16, dst, 4);
    return 20;
}

static size_t put_ip6(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                      uint32_t l4_len)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, l4_len);
    p[6] = proto;
    p[7] = 64;
    memcpy(p + 8, src, 16);
    memcpy(p + 24, dst, 16);
    return 40;
}

/* The frame s describes into out; returns its length. */
static size_t build(uint8_t *out, const struct spec *s)
{
    uint8_t src[16], dst[16], l4[60];
    uint8_t ver = addr(s->src, src);
    assert_int_equal(addr(s->dst, dst), ver);

    size_t l4_hlen = 0;
    memset(l4, 0, sizeof(l4));
    switch (s->proto) {
    case P_TCP:
        put16(l4, s->sport);
        put16(l4 + 2, s->dport);
        put32(l4 + 4, s->seq);
        put32(l4 + 8, s->ack);
        l4[12] = 0x50; /* 20 bytes, no options */
        l4[13] = s->flags;
        put16(l4 + 14, 65535);
        l4_hlen = 20;
        break;
    case P_UDP:
        put16(l4, s->sport);
        put16(l4 + 2, s->dport);
        put16(l4 + 4, 8 + s->payload_len);
        l4_hlen = 8;
        break;
    case P_ICMP:
        l4[0] = s->type;
        l4[1] = s->code;
        if (s->type == 0 || s->type == 8) {
            put16(l4 + 4, s->sport); /* identifier */
            put16(l4 + 6, 1);        /* sequence */
        }
        l4_hlen = 8;
        break;
    default:
        break; /* no transport header we know */
    }
    uint32_t l4_len = (uint32_t)l4_hlen + s->payload_len;

    size_t n = 0;
    if (s->eth)
        n += put_eth(out, s, ver == 4 ? 0x0800 : 0x86dd);
    if (ver == 4)
        n += put_ip4(out + n, src, dst, s->proto, l4_len, 0, 0);
    else
        n += put_ip6(out + n, src, dst, s->proto, l4_len);
    memcpy(out + n, l4, l4_hlen);
    n += l4_hlen;
    assert_true(n + s->payload_len <= FRAME_SIZE);
    if (s->payload != NULL)
        memcpy(out + n, s->payload, s->payload_len);
    else
        memset(out + n, 0, s->payload_len);
    return n + s->payload_len;
}

/* Appends a frame of wirelen bytes, of which the first caplen were captured. */
static void add_frame(struct fx *x, uint64_t ts, uint16_t linktype, const uint8_t *data,
                      uint32_t caplen, uint32_t wirelen)
{
    struct np_batch *b = x->b;
    assert_true(b->n < b->cap_pkts);
    assert_true(b->len + caplen <= b->cap);
    memcpy(b->buf + b->len, data, caplen);
    b->pkts[b->n++] = (struct np_pkt){
        .ts_ns = ts,
        .frame_no = ++x->frame_no,
        .data = b->buf + b->len,
        .caplen = caplen,
        .wirelen = wirelen,
        .linktype = linktype,
        .ts_prec = 9,
    };
    b->len += caplen;
}

/* Adds the frame s describes; returns its length on the wire. */
static uint32_t add(struct fx *x, const struct spec *s)
{
    uint8_t frame[FRAME_SIZE];
    uint32_t len = (uint32_t)build(frame, s);
    add_frame(x, s->ts, s->eth ? NP_LINK_ETHERNET : NP_LINK_RAW, frame, len, len);
    return len;
}

struct ep {
    const char *ip;
    uint16_t port;
};

/* A frame from one endpoint to the other with len bytes of payload; the
 * caller may set more fields before add(). */
static struct spec between(uint64_t ts, struct ep from, struct ep to, uint8_t proto, uint32_t len)
{
    return (struct spec){ .ts = ts,
                          .src = from.ip,
                          .sport = from.port,
                          .dst = to.ip,
                          .dport = to.port,
                          .proto = proto,
                          .payload_len = len };
}

static uint32_t tcp(struct fx *x, uint64_t ts, struct ep from, struct ep to, uint8_t flags,
                    uint32_t seq, uint32_t ack, uint32_t len)
{
    struct spec s = between(ts, from, to, P_TCP, len);
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    return add(x, &s);
}

static uint32_t udp(struct fx *x, uint64_t ts, struct ep from, struct ep to, uint32_t len)
{
    struct spec s = between(ts, from, to, P_UDP, len);
    return add(x, &s);
}

/* ICMP echo request (type 8) or reply (0) with identifier id. */
static uint32_t echo(struct fx *x, uint64_t ts, const char *from, const char *to, uint8_t type,
                     uint16_t id)
{
    return add(x, &(struct spec){ .ts = ts,
                                  .src = from,
                                  .dst = to,
                                  .proto = P_ICMP,
                                  .type = type,
                                  .sport = id,
                                  .payload_len = 32 });
}

/* A GRE frame between two hosts of no other test: a clock that advances
 * capture time, in the OTHER class whose timeout the tests keep long. */
static void tick(struct fx *x, uint64_t ts)
{
    add(x,
        &(struct spec){ .ts = ts, .src = "198.51.100.1", .dst = "198.51.100.2", .proto = P_GRE });
}

/* Advances capture time to ts with a tick() frame fed alone; returns how
 * many records the end callback has received so far. */
static size_t recs_after_tick(struct fx *x, uint64_t ts)
{
    tick(x, ts);
    feed(x);
    return x->n_recs;
}

/* An IPv4 fragment, raw IP, of data (len bytes at byte offset off); the
 * frame is cut to snap bytes when snap is non-zero. Returns its wire length. */
static uint32_t frag4(struct fx *x, uint64_t ts, const char *from, const char *to, uint8_t proto,
                      uint16_t id, uint32_t off, bool more, const uint8_t *data, uint32_t len,
                      uint32_t snap)
{
    uint8_t frame[FRAME_SIZE], src[16], dst[16];
    addr(from, src);
    addr(to, dst);
    assert_int_equal(off % 8, 0);
    size_t n =
            put_ip4(frame, src, dst, proto, len, id, (uint16_t)((more ? 0x2000u : 0u) | off / 8u));
    memcpy(frame + n, data, len);
    uint32_t wire = (uint32_t)n + len;
    add_frame(x, ts, NP_LINK_RAW, frame, snap != 0 && snap < wire ? snap : wire, wire);
    return wire;
}

/* A whole UDP datagram, header included, of len bytes (payload bytes vary). */
static void udp_datagram(uint8_t *out, uint16_t sport, uint16_t dport, uint32_t len)
{
    put16(out, sport);
    put16(out + 2, dport);
    put16(out + 4, len);
    put16(out + 6, 0);
    for (uint32_t i = 8; i < len; i++)
        out[i] = (uint8_t)i;
}

/* Finds the record whose key has this protocol and these A/B endpoints. */
static const struct rec *find_rec(const struct fx *x, uint8_t proto, struct ep a, struct ep b)
{
    for (size_t i = 0; i < x->n_recs; i++) {
        const struct np_flow_key *k = &x->recs[i].f.key;
        if (k->proto == proto && addr_is(k->addr_a, a.ip) && k->port_a == a.port &&
            addr_is(k->addr_b, b.ip) && k->port_b == b.port)
            return &x->recs[i];
    }
    fail_msg("no record for %s:%u - %s:%u", a.ip, a.port, b.ip, b.port);
    return NULL;
}

/* ---- TCP close -------------------------------------------------------- */

/* The server is endpoint A (lower address), so the client (SYN sender) is B. */
static const struct ep SRV = { "10.0.0.1", 80 };
static const struct ep CLI = { "10.0.0.2", 40000 };

/* Handshake, 100 bytes each way, FIN from the client, FIN from the server;
 * every frame 1 ms apart from T0 + t_ms. Everything but the final ACK of the
 * server's FIN (client seq 1102, ack 5102), which the caller sends. Returns
 * the wire bytes {server to client, client to server}. */
static void tcp_exchange_until_last_ack(struct fx *x, uint64_t t_ms, uint64_t bytes[2])
{
    uint64_t t = T0 + t_ms * MS;
    bytes[1] = tcp(x, t + 0 * MS, CLI, SRV, SYN, 1000, 0, 0);
    bytes[0] = tcp(x, t + 1 * MS, SRV, CLI, SYN | ACK, 5000, 1001, 0);
    bytes[1] += tcp(x, t + 2 * MS, CLI, SRV, ACK, 1001, 5001, 0);
    bytes[1] += tcp(x, t + 3 * MS, CLI, SRV, PSH | ACK, 1001, 5001, 100);
    bytes[0] += tcp(x, t + 4 * MS, SRV, CLI, ACK, 5001, 1101, 100); /* data, no PSH */
    bytes[1] += tcp(x, t + 5 * MS, CLI, SRV, FIN | ACK, 1101, 5101, 0);
    bytes[0] += tcp(x, t + 6 * MS, SRV, CLI, FIN | ACK, 5101, 1102, 0);
}

/* tcp_exchange_until_last_ack() from T0 and the final ACK at T0 + 7 ms: the
 * flow is closed. */
static void tcp_exchange_closed(struct fx *x)
{
    uint64_t bytes[2];
    tcp_exchange_until_last_ack(x, 0, bytes);
    tcp(x, T0 + 7 * MS, CLI, SRV, ACK, 1102, 5102, 0);
}

/* SYN from the client (ISN 1000) at T0 and SYN/ACK from the server (ISN
 * 5000) 1 ms later: the client's next frame is seq 1001, ack 5001. */
static void tcp_open(struct fx *x)
{
    tcp(x, T0, CLI, SRV, SYN, 1000, 0, 0);
    tcp(x, T0 + 1 * MS, SRV, CLI, SYN | ACK, 5000, 1001, 0);
}

static void
tcp_fin_exchange_ends_at_the_final_ack_with_reason_fin_when_the_close_delay_is_zero(void **state)
{
    struct fx *x = *state;
    uint64_t bytes[2];
    start_no_delay(x);

    tcp_exchange_until_last_ack(x, 0, bytes);
    feed(x);
    assert_int_equal(x->n_recs, 0); /* the server's FIN is not acknowledged yet */

    bytes[1] += tcp(x, T0 + 7 * MS, CLI, SRV, ACK, 1102, 5102, 0);
    feed(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *r = rec_at(x, 0);
    assert_int_equal(r->why, NP_END_FIN);
    assert_true(addr_is(r->f.key.addr_a, SRV.ip));
    assert_int_equal(r->f.key.port_a, SRV.port);
    assert_true(addr_is(r->f.key.addr_b, CLI.ip));
    assert_int_equal(r->f.key.port_b, CLI.port);
    assert_int_equal(r->f.key.proto, P_TCP);
    assert_int_equal(r->f.client, 1);  /* B sent the SYN */
    assert_int_equal(r->f.pkts[0], 3); /* SYN/ACK, data, FIN */
    assert_int_equal(r->f.pkts[1], 5); /* SYN, ACK, data, FIN, final ACK */
    assert_int_equal(r->f.bytes[0], bytes[0]);
    assert_int_equal(r->f.bytes[1], bytes[1]);
    assert_int_equal(r->f.bytes[0], 3 * 40 + 100);
    assert_int_equal(r->f.tcp_flags[0], SYN | ACK | FIN);
    assert_int_equal(r->f.tcp_flags[1], SYN | ACK | FIN | PSH);
    assert_int_equal(r->f.first_ns, T0);
    assert_int_equal(r->f.last_ns, T0 + 7 * MS);

    const struct np_track_stats *st = np_track_stats(x->t);
    assert_int_equal(st->pkts, 8);
    assert_int_equal(st->pkts_in_flows, 8);
    assert_int_equal(st->flows_ended[NP_END_FIN], 1);
    finish(x);
    assert_int_equal(x->n_recs, 1); /* nothing was left */
}

static void an_ack_of_a_fins_data_but_not_of_the_fin_leaves_the_flow_open(void **state)
{
    struct fx *x = *state;
    start_no_delay(x);

    tcp_open(x);
    tcp(x, T0 + 2 * MS, CLI, SRV, FIN | ACK, 1001, 5001, 0);
    /* The server's FIN carries 50 bytes: it takes sequence number 5051. */
    tcp(x, T0 + 3 * MS, SRV, CLI, FIN | PSH | ACK, 5001, 1002, 50);
    tcp(x, T0 + 4 * MS, CLI, SRV, ACK, 1002, 5051, 0); /* the data, not the FIN */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    tcp(x, T0 + 5 * MS, CLI, SRV, ACK, 1002, 5052, 0);
    feed(x);
    assert_int_equal(x->n_recs, 1);
    assert_int_equal(rec_at(x, 0)->why, NP_END_FIN);
    assert_int_equal(rec_at(x, 0)->f.pkts[1], 4);
    assert_int_equal(rec_at(x, 0)->f.last_ns, T0 + 5 * MS);
}

static void
a_fin_exchange_whose_sequence_numbers_wrap_around_zero_ends_at_the_final_ack(void **state)
{
    struct fx *x = *state;
    start_no_delay(x);

    tcp(x, T0, CLI, SRV, SYN, 0xfffffff0u, 0, 0);
    tcp(x, T0 + 1 * MS, SRV, CLI, SYN | ACK, 0xffffff00u, 0xfffffff1u, 0);
    tcp(x, T0 + 2 * MS, CLI, SRV, PSH | ACK, 0xfffffff1u, 0xffffff01u, 100); /* ends at 0x55 */
    tcp(x, T0 + 3 * MS, CLI, SRV, FIN | ACK, 0x55u, 0xffffff01u, 0);
    /* Late ACKs from before the wrap: numerically above the FIN's 0x55, but
     * before it in sequence space, so they do not acknowledge it. */
    tcp(x, T0 + 4 * MS, SRV, CLI, ACK, 0xffffff01u, 0xfffffff1u, 0);
    tcp(x, T0 + 5 * MS, SRV, CLI, FIN | ACK, 0xffffff01u, 0xfffffff1u, 0);
    tcp(x, T0 + 6 * MS, CLI, SRV, ACK, 0x56u, 0xffffff02u, 0); /* acknowledges the server's FIN */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    tcp(x, T0 + 7 * MS, SRV, CLI, ACK, 0xffffff02u, 0x56u, 0);
    feed(x);
    assert_int_equal(x->n_recs, 1);
    assert_int_equal(rec_at(x, 0)->why, NP_END_FIN);
    assert_int_equal(rec_at(x, 0)->f.pkts[0] + rec_at(x, 0)->f.pkts[1], 8);
    assert_int_equal(rec_at(x, 0)->f.last_ns, T0 + 7 * MS);
}

static void a_straggler_within_the_close_delay_stays_in_the_flow_and_the_record_waits_for_the_delay(
        void **state)
{
    struct fx *x = *state;
    start_default(x); /* close delay 5 s */

    tcp_exchange_closed(x);
    feed(x);
    assert_int_equal(x->n_recs, 0); /* held for the close delay */

    uint64_t straggle = T0 + 7 * MS + 1 * SEC;
    tcp(x, straggle, SRV, CLI, FIN | ACK, 5101, 1102, 0); /* retransmitted FIN */
    tcp(x, straggle, CLI, SRV, RST, 1102, 0, 0);
    feed(x);
    assert_int_equal(x->n_recs, 0);

    /* 5 s after the close, not yet after the straggler */
    assert_int_equal(recs_after_tick(x, T0 + 7 * MS + 5 * SEC + 1), 0);

    assert_int_equal(recs_after_tick(x, straggle + 5 * SEC - 1), 0);

    assert_int_equal(recs_after_tick(x, straggle + 5 * SEC + 1), 1);
    const struct rec *r = rec_at(x, 0);
    assert_int_equal(r->why, NP_END_FIN); /* the RST straggler does not change it */
    assert_int_equal(r->f.key.proto, P_TCP);
    assert_int_equal(r->f.pkts[0], 4);
    assert_int_equal(r->f.pkts[1], 6);
    assert_int_equal(r->f.tcp_flags[1], SYN | ACK | FIN | PSH | RST);
    assert_int_equal(r->f.first_ns, T0);
    assert_int_equal(r->f.last_ns, straggle);
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_FIN], 1);
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_RST], 0);
}

static void a_flow_held_after_its_fin_exchange_goes_out_at_finish_with_reason_fin(void **state)
{
    struct fx *x = *state;
    start_default(x);

    tcp_exchange_closed(x);
    tcp(x, T0 + 1007 * MS, SRV, CLI, FIN | ACK, 5101, 1102, 0); /* straggler */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    finish(x);
    assert_int_equal(x->n_recs, 1);
    assert_int_equal(rec_at(x, 0)->why, NP_END_FIN);
    assert_int_equal(rec_at(x, 0)->f.pkts[0], 4);
    assert_int_equal(rec_at(x, 0)->f.last_ns, T0 + 1007 * MS);
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_EOI], 0);
}

static void rst_ends_a_flow_at_once_with_reason_rst_when_the_close_delay_is_zero(void **state)
{
    struct fx *x = *state;
    start_no_delay(x);

    tcp_open(x);
    tcp(x, T0 + 2 * MS, CLI, SRV, ACK, 1001, 5001, 0);
    tcp(x, T0 + 3 * MS, SRV, CLI, RST | ACK, 5001, 1001, 0);
    feed(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *r = rec_at(x, 0);
    assert_int_equal(r->why, NP_END_RST);
    assert_int_equal(r->f.pkts[0], 2);
    assert_int_equal(r->f.pkts[1], 2);
    assert_int_equal(r->f.tcp_flags[0], SYN | ACK | RST);
    assert_int_equal(r->f.last_ns, T0 + 3 * MS);
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_RST], 1);
}

static void a_flow_closed_by_rst_goes_out_after_the_close_delay_with_reason_rst(void **state)
{
    struct fx *x = *state;
    start_default(x);

    tcp(x, T0, CLI, SRV, SYN, 1000, 0, 0);
    tcp(x, T0 + 1 * MS, SRV, CLI, RST | ACK, 0, 1001, 0);
    tcp(x, T0 + 2 * MS, SRV, CLI, RST | ACK, 0, 1001, 0); /* straggler */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    assert_int_equal(recs_after_tick(x, T0 + 2 * MS + 6 * SEC), 1);
    assert_int_equal(rec_at(x, 0)->why, NP_END_RST);
    assert_int_equal(rec_at(x, 0)->f.pkts[0], 2);
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_TIMEOUT], 0);
}

/* ---- new SYN on a closing or closed flow ------------------------------ */

static void a_new_syn_with_another_isn_on_a_closed_flow_ends_it_and_starts_a_new_flow(void **state)
{
    struct fx *x = *state;
    start_default(x);

    tcp_exchange_closed(x); /* closed, held */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    uint64_t t1 = T0 + 1 * SEC;
    tcp(x, t1, CLI, SRV, SYN, 90000, 0, 0);
    feed(x);
    assert_int_equal(x->n_recs, 1); /* at once, not after the close delay */
    const struct rec *old = rec_at(x, 0);
    assert_int_equal(old->why, NP_END_FIN);
    assert_int_equal(old->f.pkts[0] + old->f.pkts[1], 8);
    assert_int_equal(old->f.last_ns, T0 + 7 * MS);
    assert_int_equal(np_track_stats(x->t)->tcp_new_syn_splits, 1);

    tcp(x, t1 + 1 * MS, SRV, CLI, SYN | ACK, 7000, 90001, 0);
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 2);
    const struct rec *nw = rec_at(x, 1);
    assert_int_equal(nw->why, NP_END_EOI);
    assert_int_equal(nw->f.first_ns, t1);
    assert_int_equal(nw->f.pkts[1], 1);
    assert_int_equal(nw->f.pkts[0], 1);
    assert_int_equal(nw->f.client, 1);
    assert_true(nw->f.id != rec_at(x, 0)->f.id);
    assert_int_equal(nw->f.id, np_flow_id(&nw->f.key, t1));
    assert_int_equal(np_track_stats(x->t)->flows_created, 2);
}

static void a_new_syn_with_another_isn_on_a_closing_flow_ends_it_and_starts_a_new_flow(void **state)
{
    struct fx *x = *state;
    start_default(x);

    tcp_open(x);
    tcp(x, T0 + 2 * MS, CLI, SRV, FIN | ACK, 1001, 5001, 0); /* closing: one FIN */
    tcp(x, T0 + 3 * MS, CLI, SRV, SYN, 2000, 0, 0);
    feed(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *old = rec_at(x, 0);
    assert_int_equal(old->why, NP_END_FIN);
    assert_int_equal(old->f.pkts[1], 2);
    assert_int_equal(old->f.pkts[0], 1);

    finish(x);
    assert_int_equal(x->n_recs, 2);
    const struct rec *nw = rec_at(x, 1);
    assert_int_equal(nw->why, NP_END_EOI);
    assert_int_equal(nw->f.first_ns, T0 + 3 * MS);
    assert_int_equal(nw->f.pkts[1], 1);
    assert_int_equal(nw->f.tcp_flags[1], SYN);
    assert_true(nw->f.id != rec_at(x, 0)->f.id);
}

static void a_retransmitted_syn_with_the_same_isn_stays_in_its_closing_or_closed_flow(void **state)
{
    struct fx *x = *state;
    start_default(x);

    tcp_open(x);
    tcp(x, T0 + 2 * MS, CLI, SRV, FIN | ACK, 1001, 5001, 0); /* closing */
    tcp(x, T0 + 3 * MS, CLI, SRV, SYN, 1000, 0, 0);          /* same ISN */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    /* The same on a closed flow of another client port. */
    const struct ep cli2 = { CLI.ip, 40001 };
    tcp(x, T0 + 10 * MS, cli2, SRV, SYN, 3000, 0, 0);
    tcp(x, T0 + 11 * MS, SRV, cli2, SYN | ACK, 6000, 3001, 0);
    tcp(x, T0 + 12 * MS, cli2, SRV, RST, 3001, 0, 0); /* closed, held */
    tcp(x, T0 + 13 * MS, cli2, SRV, SYN, 3000, 0, 0); /* same ISN */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    finish(x);
    assert_int_equal(x->n_recs, 2);
    assert_int_equal(rec_at(x, 0)->why, NP_END_EOI);
    assert_int_equal(rec_at(x, 0)->f.pkts[1], 3);
    assert_int_equal(rec_at(x, 0)->f.first_ns, T0);
    assert_int_equal(rec_at(x, 1)->why, NP_END_RST);
    assert_int_equal(rec_at(x, 1)->f.pkts[1], 3);
    assert_int_equal(rec_at(x, 1)->f.first_ns, T0 + 10 * MS);
    assert_int_equal(np_track_stats(x->t)->tcp_new_syn_splits, 0);
}

static void a_syn_ack_seen_before_the_syn_makes_its_receiver_the_client(void **state)
{
    struct fx *x = *state;
    start_no_delay(x);

    /* The capture starts after the SYN: the server (A) speaks first. */
    tcp(x, T0, SRV, CLI, SYN | ACK, 5000, 1001, 0);
    tcp(x, T0 + 1 * MS, CLI, SRV, ACK, 1001, 5001, 0);
    tcp(x, T0 + 2 * MS, SRV, CLI, PSH | ACK, 5001, 1001, 10);
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 1);
    assert_int_equal(rec_at(x, 0)->f.client, 1); /* CLI is B */
    assert_int_equal(rec_at(x, 0)->f.pkts[0], 2);
    assert_int_equal(rec_at(x, 0)->f.pkts[1], 1);
}

static void a_flow_without_syn_has_the_sender_of_its_first_frame_as_client(void **state)
{
    struct fx *x = *state;
    start_no_delay(x);

    tcp(x, T0, CLI, SRV, PSH | ACK, 1001, 5001, 10); /* mid-stream, from B */
    tcp(x, T0 + 1 * MS, SRV, CLI, ACK, 5001, 1011, 0);
    const struct ep low = { "10.0.0.0", 40000 }; /* below SRV: it is A */
    tcp(x, T0 + 2 * MS, low, SRV, PSH | ACK, 1011, 5001, 10);
    tcp(x, T0 + 3 * MS, SRV, low, ACK, 5001, 1021, 0);
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 2);
    assert_int_equal(rec_at(x, 0)->f.client, 1);
    assert_int_equal(rec_at(x, 1)->f.client, 0);
}

/* ---- timeouts, eviction, end of input --------------------------------- */

static void
idle_timeouts_end_tcp_udp_and_icmp_flows_each_after_its_own_timeout_in_capture_time(void **state)
{
    struct fx *x = *state;
    struct np_track_cfg cfg;
    np_track_cfg_default(&cfg);
    cfg.timeout_ns[NP_FLOW_CLASS_TCP] = 10 * SEC;
    cfg.timeout_ns[NP_FLOW_CLASS_UDP] = 20 * SEC;
    cfg.timeout_ns[NP_FLOW_CLASS_ICMP] = 30 * SEC;
    cfg.timeout_ns[NP_FLOW_CLASS_OTHER] = 1000 * SEC; /* the clock's */
    start(x, &cfg);

    tcp(x, T0, CLI, SRV, SYN, 1000, 0, 0);
    udp(x, T0, CLI, SRV, 10);
    echo(x, T0, CLI.ip, SRV.ip, 8, 7);
    feed(x);

    assert_int_equal(recs_after_tick(x, T0 + 10 * SEC - 1), 0);

    assert_int_equal(recs_after_tick(x, T0 + 10 * SEC + 1), 1);
    assert_int_equal(rec_at(x, 0)->why, NP_END_TIMEOUT);
    assert_int_equal(rec_at(x, 0)->f.key.proto, P_TCP);
    assert_int_equal(rec_at(x, 0)->f.last_ns, T0);

    assert_int_equal(recs_after_tick(x, T0 + 20 * SEC - 1), 1);
    assert_int_equal(recs_after_tick(x, T0 + 20 * SEC + 1), 2);
    assert_int_equal(rec_at(x, 1)->why, NP_END_TIMEOUT);
    assert_int_equal(rec_at(x, 1)->f.key.proto, P_UDP);

    assert_int_equal(recs_after_tick(x, T0 + 30 * SEC - 1), 2);
    assert_int_equal(recs_after_tick(x, T0 + 30 * SEC + 1), 3);
    assert_int_equal(rec_at(x, 2)->why, NP_END_TIMEOUT);
    assert_int_equal(rec_at(x, 2)->f.key.proto, P_ICMP);
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_TIMEOUT], 3);

    finish(x); /* only the clock is left */
    assert_int_equal(x->n_recs, 4);
    assert_int_equal(rec_at(x, 3)->f.key.proto, P_GRE);
    assert_int_equal(rec_at(x, 3)->why, NP_END_EOI);
}

static void
a_packet_after_the_idle_timeout_starts_a_new_flow_even_within_the_same_batch(void **state)
{
    struct fx *x = *state;
    start_udp_timeout(x, 20 * SEC);

    udp(x, T0, CLI, SRV, 10);
    udp(x, T0 + 1 * SEC, SRV, CLI, 10);
    udp(x, T0 + 22 * SEC, CLI, SRV, 10); /* 21 s after the last frame */
    feed(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *old = rec_at(x, 0);
    assert_int_equal(old->why, NP_END_TIMEOUT);
    assert_int_equal(old->f.pkts[0], 1);
    assert_int_equal(old->f.pkts[1], 1);
    assert_int_equal(old->f.last_ns, T0 + 1 * SEC);

    finish(x);
    assert_int_equal(x->n_recs, 2);
    const struct rec *nw = rec_at(x, 1);
    assert_int_equal(nw->why, NP_END_EOI);
    assert_int_equal(nw->f.first_ns, T0 + 22 * SEC);
    assert_int_equal(nw->f.pkts[1], 1);
    assert_int_equal(nw->f.pkts[0], 0);
    assert_true(nw->f.id != rec_at(x, 0)->f.id);
    assert_int_equal(np_track_stats(x->t)->flows_created, 2);
}

static void an_empty_live_batch_whose_tick_passes_the_timeout_ends_the_flow(void **state)
{
    struct fx *x = *state;
    start_udp_timeout(x, 20 * SEC);

    udp(x, T0, CLI, SRV, 10);
    feed(x);
    x->b->tick_ns = T0 + 19 * SEC;
    feed(x);
    assert_int_equal(x->n_recs, 0);
    x->b->tick_ns = T0 + 21 * SEC;
    feed(x);
    assert_int_equal(x->n_recs, 1);
    assert_int_equal(rec_at(x, 0)->why, NP_END_TIMEOUT);
}

static void a_new_flow_beyond_max_flows_evicts_the_least_recently_active_one(void **state)
{
    struct fx *x = *state;
    struct np_track_cfg cfg;
    np_track_cfg_default(&cfg);
    cfg.max_flows = 2;
    start(x, &cfg);

    const struct ep a = { "10.0.0.10", 1 }, b = { "10.0.0.11", 2 }, c = { "10.0.0.12", 3 };
    /* Activity is ordered to within 2^30 ns (track.c), so a's second packet
     * comes 2 s later to be sure to count as more recent. */
    udp(x, T0, a, SRV, 10);
    udp(x, T0 + 1 * MS, b, SRV, 10);
    udp(x, T0 + 2 * SEC, SRV, a, 10); /* a is now more recent than b */
    feed(x);
    assert_int_equal(x->n_recs, 0);

    tcp(x, T0 + 2 * SEC + 1 * MS, c, SRV, SYN, 1, 0, 0);
    feed(x);
    assert_int_equal(x->n_recs, 1);
    assert_int_equal(rec_at(x, 0)->why, NP_END_EVICTION);
    assert_true(addr_is(rec_at(x, 0)->f.key.addr_b, b.ip));
    assert_int_equal(rec_at(x, 0)->f.pkts[1], 1);

    /* Across classes: the TCP flow is touched, so the UDP flow a is older. */
    tcp(x, T0 + 2 * SEC + 4 * MS, SRV, c, SYN | ACK, 9, 2, 0);
    echo(x, T0 + 2 * SEC + 5 * MS, c.ip, SRV.ip, 8, 9);
    feed(x);
    assert_int_equal(x->n_recs, 2);
    assert_int_equal(rec_at(x, 1)->why, NP_END_EVICTION);
    assert_int_equal(rec_at(x, 1)->f.key.proto, P_UDP);
    assert_true(addr_is(rec_at(x, 1)->f.key.addr_b, a.ip));
    assert_int_equal(rec_at(x, 1)->f.pkts[0] + rec_at(x, 1)->f.pkts[1], 2);
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_EVICTION], 2);
    assert_int_equal(np_track_stats(x->t)->flows_peak, 2);

    finish(x);
    assert_int_equal(x->n_recs, 4);
    assert_int_equal(rec_at(x, 2)->f.key.proto, P_TCP);
    assert_int_equal(rec_at(x, 2)->f.pkts[0] + rec_at(x, 2)->f.pkts[1], 2);
    assert_int_equal(rec_at(x, 3)->f.key.proto, P_ICMP);
    assert_int_equal(np_track_stats(x->t)->pkts_in_flows, 6);
}

static void finish_ends_the_remaining_flows_with_end_of_input_in_order_of_first_packet(void **state)
{
    struct fx *x = *state;
    start_default(x);

    /* Classes and recency in another order than first packets. */
    udp(x, T0, CLI, SRV, 10);                    /* 1st: UDP */
    tcp(x, T0 + 1 * MS, CLI, SRV, SYN, 1, 0, 0); /* 2nd: TCP */
    echo(x, T0 + 2 * MS, CLI.ip, SRV.ip, 8, 3);  /* 3rd: ICMP */
    add(x, &(struct spec){ .ts = T0 + 3 * MS, .src = CLI.ip, .dst = SRV.ip, .proto = P_GRE });
    udp(x, T0 + 4 * MS, SRV, CLI, 10); /* the 1st is the most recent */
    echo(x, T0 + 5 * MS, SRV.ip, CLI.ip, 0, 3);
    feed(x);
    assert_int_equal(x->n_recs, 0);

    finish(x);
    assert_int_equal(x->n_recs, 4);
    static const uint8_t order[] = { P_UDP, P_TCP, P_ICMP, P_GRE };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rec_at(x, i)->why, NP_END_EOI);
        assert_int_equal(rec_at(x, i)->f.key.proto, order[i]);
        assert_int_equal(rec_at(x, i)->f.first_ns, T0 + i * MS);
    }
    assert_int_equal(np_track_stats(x->t)->flows_ended[NP_END_EOI], 4);
}

/* ---- keys ------------------------------------------------------------- */

static void both_directions_map_to_one_flow_with_frames_and_bytes_counted_each_way(void **state)
{
    struct fx *x = *state;
    start_default(x);

    const struct ep hi = { "10.0.0.2", 5000 }, lo = { "10.0.0.1", 53 };
    uint32_t q = udp(x, T0, hi, lo, 30);
    uint32_t r1 = udp(x, T0 + 1 * MS, lo, hi, 100);
    uint32_t r2 = udp(x, T0 + 2 * MS, lo, hi, 200);
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *r = rec_at(x, 0);
    assert_true(addr_is(r->f.key.addr_a, lo.ip));
    assert_int_equal(r->f.key.port_a, lo.port);
    assert_true(addr_is(r->f.key.addr_b, hi.ip));
    assert_int_equal(r->f.key.port_b, hi.port);
    assert_int_equal(r->f.key.ip_ver, 4);
    assert_int_equal(r->f.key.vlan, VLAN_NONE);
    assert_int_equal(r->f.pkts[0], 2);
    assert_int_equal(r->f.pkts[1], 1);
    assert_int_equal(r->f.bytes[0], r1 + r2);
    assert_int_equal(r->f.bytes[1], q);
    assert_int_equal(r->f.client, 1); /* no SYN: the first frame's sender */
    assert_int_equal(r->f.tcp_flags[0], 0);
    assert_int_equal(r->f.tcp_flags[1], 0);
    assert_int_equal(r->f.first_ns, T0);
    assert_int_equal(r->f.last_ns, T0 + 2 * MS);
}

static void
endpoint_a_is_the_lower_address_as_unsigned_big_endian_bytes_then_the_lower_port(void **state)
{
    struct fx *x = *state;
    start_default(x);

    /* The address decides before the port. */
    udp(x, T0, (struct ep){ "10.0.0.2", 80 }, (struct ep){ "10.0.0.1", 9000 }, 0);
    /* Bytes compare unsigned and big-endian (10.0.1.1 as a little-endian word is lower). */
    udp(x, T0 + 1 * MS, (struct ep){ "10.0.1.1", 1 }, (struct ep){ "10.0.0.200", 2 }, 0);
    udp(x, T0 + 2 * MS, (struct ep){ "192.168.0.1", 1 }, (struct ep){ "10.0.0.1", 2 }, 0);
    /* Equal addresses: the port decides. */
    udp(x, T0 + 3 * MS, (struct ep){ "10.0.0.5", 1024 }, (struct ep){ "10.0.0.5", 80 }, 0);
    /* IPv6: all 16 bytes count. */
    udp(x, T0 + 4 * MS, (struct ep){ "2001:db8::1:0", 1 }, (struct ep){ "2001:db8::ffff", 2 }, 0);
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 5);

    struct {
        struct ep a, b;
    } want[] = {
        { { "10.0.0.1", 9000 }, { "10.0.0.2", 80 } },
        { { "10.0.0.200", 2 }, { "10.0.1.1", 1 } },
        { { "10.0.0.1", 2 }, { "192.168.0.1", 1 } },
        { { "10.0.0.5", 80 }, { "10.0.0.5", 1024 } },
        { { "2001:db8::ffff", 2 }, { "2001:db8::1:0", 1 } },
    };
    for (size_t i = 0; i < 5; i++) {
        const struct rec *r = rec_at(x, i);
        assert_true(addr_is(r->f.key.addr_a, want[i].a.ip));
        assert_int_equal(r->f.key.port_a, want[i].a.port);
        assert_true(addr_is(r->f.key.addr_b, want[i].b.ip));
        assert_int_equal(r->f.key.port_b, want[i].b.port);
        assert_int_equal(r->f.pkts[1], 1); /* each was sent by B */
        assert_int_equal(r->f.pkts[0], 0);
    }
    assert_int_equal(rec_at(x, 4)->f.key.ip_ver, 6);
}

static void vlan_tagged_frames_with_different_vlan_ids_are_different_flows(void **state)
{
    struct fx *x = *state;
    start_default(x);

    struct spec s = between(T0, CLI, SRV, P_UDP, 20);
    s.eth = true;
    uint32_t untagged = add(x, &s);
    s.tagged = true;
    s.vlan = 10;
    s.ts = T0 + 1 * MS;
    uint32_t tagged = add(x, &s);
    s.vlan = 20;
    s.ts = T0 + 2 * MS;
    add(x, &s);
    /* The reply on VLAN 10 joins VLAN 10's flow. */
    struct spec reply = between(T0 + 3 * MS, SRV, CLI, P_UDP, 20);
    reply.eth = true;
    reply.tagged = true;
    reply.vlan = 10;
    add(x, &reply);
    feed(x);
    finish(x);

    assert_int_equal(x->n_recs, 3);
    assert_int_equal(untagged, 14 + 20 + 8 + 20);
    assert_int_equal(tagged, untagged + 4);
    assert_int_equal(rec_at(x, 0)->f.key.vlan, VLAN_NONE);
    assert_int_equal(rec_at(x, 0)->f.bytes[1], untagged); /* the link header counts */
    assert_int_equal(rec_at(x, 1)->f.key.vlan, 10);
    assert_int_equal(rec_at(x, 1)->f.pkts[1], 1);
    assert_int_equal(rec_at(x, 1)->f.pkts[0], 1);
    assert_int_equal(rec_at(x, 1)->f.bytes[0], tagged);
    assert_int_equal(rec_at(x, 2)->f.key.vlan, 20);
    assert_int_equal(rec_at(x, 2)->f.pkts[1], 1);
    assert_int_equal(rec_at(x, 2)->f.pkts[0], 0);
    assert_true(rec_at(x, 1)->f.id != rec_at(x, 2)->f.id);
}

/* ---- fragments -------------------------------------------------------- */

/* A 48-byte UDP datagram (40 bytes of payload) CLI -> SRV, in three
 * fragments [0, 24), [24, 40), [40, 48) at T0, T0 + 1 ms, T0 + 2 ms; the
 * middle one only when with_middle. Frames cut to snap bytes (0: whole).
 * Returns the wire bytes of the frames sent. */
static uint32_t fragmented_udp(struct fx *x, bool with_middle, uint32_t snap)
{
    uint8_t dg[48];
    udp_datagram(dg, CLI.port, SRV.port, sizeof(dg));
    uint32_t wire = frag4(x, T0, CLI.ip, SRV.ip, P_UDP, 77, 0, true, dg, 24, snap);
    if (with_middle)
        wire += frag4(x, T0 + 1 * MS, CLI.ip, SRV.ip, P_UDP, 77, 24, true, dg + 24, 16, snap);
    wire += frag4(x, T0 + 2 * MS, CLI.ip, SRV.ip, P_UDP, 77, 40, false, dg + 40, 8, snap);
    return wire;
}

static void
fragments_of_a_udp_datagram_are_all_credited_to_its_flow_when_the_last_completes_it(void **state)
{
    struct fx *x = *state;
    start_default(x);

    uint32_t wire = fragmented_udp(x, true, 0);
    feed(x);
    const struct np_track_stats *st = np_track_stats(x->t);
    assert_int_equal(st->pkts, 3);
    assert_int_equal(st->pkts_in_flows, 3);
    assert_int_equal(st->pkts_no_flow, 0);
    assert_int_equal(st->frag.completed, 1);

    finish(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *r = rec_at(x, 0);
    assert_int_equal(r->f.key.proto, P_UDP);
    assert_int_equal(r->f.key.port_a, SRV.port); /* from the first fragment's header */
    assert_int_equal(r->f.key.port_b, CLI.port);
    assert_int_equal(r->f.pkts[1], 3);
    assert_int_equal(r->f.pkts[0], 0);
    assert_int_equal(wire, 44 + 36 + 28);
    assert_int_equal(r->f.bytes[1], wire);
    assert_int_equal(r->f.last_ns, T0 + 2 * MS);
}

/* first_seen is "the timestamp of the flow's first frame", and every
 * fragment frame is a frame of the flow (docs/formats.md), so the flow (and
 * its id) starts at the first fragment. Fails while track.c creates the flow
 * at the completing frame's p->ts_ns instead of done.first_ts_ns. */
static void a_flow_that_starts_with_a_fragmented_datagram_starts_at_its_first_fragment(void **state)
{
    struct fx *x = *state;
    start_default(x);

    fragmented_udp(x, true, 0);
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *r = rec_at(x, 0);
    assert_int_equal(r->f.last_ns, T0 + 2 * MS);
    assert_int_equal(r->f.first_ns, T0);
    assert_int_equal(r->f.id, np_flow_id(&r->f.key, T0));
}

/* cap_bytes is "captured bytes per direction" (flow/table.h). Fails while
 * track.c credits a reassembled datagram's frames_wire_bytes as captured
 * bytes (its "XXX placeholder": np_frag_done has no sum of caplens). */
static void fragments_cut_by_the_snapshot_length_count_their_captured_bytes(void **state)
{
    struct fx *x = *state;
    start_default(x);

    uint32_t wire = fragmented_udp(x, true, 30); /* 30 of 44, 36 and 28 bytes */
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 1);
    const struct rec *r = rec_at(x, 0);
    assert_int_equal(r->f.pkts[1], 3);
    assert_int_equal(r->f.bytes[1], wire);
    assert_int_equal(r->f.cap_bytes[1], 30 + 30 + 28);
}

static void fragments_of_a_datagram_that_never_completes_are_in_no_flow(void **state)
{
    struct fx *x = *state;
    start_default(x);

    fragmented_udp(x, false, 0); /* the middle one never comes */
    udp(x, T0 + 3 * MS, SRV, CLI, 10);
    feed(x);
    tick(x, T0 + 60 * SEC); /* past the reassembly timeout (30 s) */
    feed(x);
    finish(x);

    assert_int_equal(x->n_recs, 2); /* the reply and the clock: no flow had a fragment */
    const struct rec *r = find_rec(x, P_UDP, SRV, CLI);
    assert_int_equal(r->f.pkts[0], 1);
    assert_int_equal(r->f.pkts[1], 0);
    const struct np_track_stats *st = np_track_stats(x->t);
    assert_int_equal(st->pkts, 4);
    assert_int_equal(st->pkts_in_flows, 2);
    /* Counted as neither: the summary reports them as pkts - in flows - no flow. */
    assert_int_equal(st->pkts_no_flow, 0);
    assert_int_equal(st->frag.timeouts, 1);
    assert_int_equal(st->frag.completed, 0);
}

/* ---- ICMP, non-IP ----------------------------------------------------- */

static void an_icmp_error_quoting_a_udp_packet_is_its_own_icmp_flow_between_its_ends(void **state)
{
    struct fx *x = *state;
    start_default(x);

    const struct ep cli = { "10.0.0.1", 40000 }, srv = { "192.0.2.9", 33434 };
    struct spec probe = between(T0, cli, srv, P_UDP, 12);
    uint8_t quoted[FRAME_SIZE];
    size_t qlen = build(quoted, &probe);
    add(x, &probe);
    uint32_t err = add(x, &(struct spec){ .ts = T0 + 1 * MS,
                                          .src = srv.ip,
                                          .dst = cli.ip,
                                          .proto = P_ICMP,
                                          .type = 3, /* destination unreachable */
                                          .code = 3, /* port unreachable */
                                          .payload = quoted,
                                          .payload_len = (uint32_t)qlen });
    feed(x);
    finish(x);

    assert_int_equal(x->n_recs, 2);
    const struct rec *u = find_rec(x, P_UDP, cli, srv);
    assert_int_equal(u->f.pkts[0], 1);
    assert_int_equal(u->f.pkts[1], 0);
    const struct rec *i = find_rec(x, P_ICMP, (struct ep){ cli.ip, 0 }, (struct ep){ srv.ip, 0 });
    assert_int_equal(i->f.pkts[1], 1); /* from the UDP packet's receiver, B */
    assert_int_equal(i->f.pkts[0], 0);
    assert_int_equal(i->f.bytes[1], err);
    assert_int_equal(np_track_stats(x->t)->pkts_in_flows, 2);
}

static void icmp_echo_request_and_reply_are_one_flow_with_the_identifier_as_both_ports(void **state)
{
    struct fx *x = *state;
    start_default(x);

    echo(x, T0, "10.0.0.2", "10.0.0.1", 8, 0x1234);
    echo(x, T0 + 1 * MS, "10.0.0.1", "10.0.0.2", 0, 0x1234);
    echo(x, T0 + 2 * MS, "10.0.0.2", "10.0.0.1", 8, 0x5678); /* another ping */
    feed(x);
    finish(x);

    assert_int_equal(x->n_recs, 2);
    const struct rec *r = rec_at(x, 0);
    assert_int_equal(r->f.key.proto, P_ICMP);
    assert_int_equal(r->f.key.port_a, 0x1234);
    assert_int_equal(r->f.key.port_b, 0x1234);
    assert_true(addr_is(r->f.key.addr_a, "10.0.0.1"));
    assert_int_equal(r->f.pkts[0], 1);
    assert_int_equal(r->f.pkts[1], 1);
    assert_int_equal(r->f.client, 1);
    assert_int_equal(rec_at(x, 1)->f.key.port_a, 0x5678);
    assert_int_equal(rec_at(x, 1)->f.pkts[1], 1);
}

static void non_ip_frames_are_counted_in_no_flow(void **state)
{
    struct fx *x = *state;
    start_default(x);

    /* An ARP request over Ethernet: 14 + 28 bytes. */
    uint8_t arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0,  1, 0x08, 0x06,
                        0,    1,    0x08, 0,    6,    4,    0, 1, 2, 0, 0,  0, 0,    1,
                        10,   0,    0,    1,    0,    0,    0, 0, 0, 0, 10, 0, 0,    2 };
    add_frame(x, T0, NP_LINK_ETHERNET, arp, sizeof(arp), 60);
    udp(x, T0 + 1 * MS, CLI, SRV, 10);
    feed(x);
    finish(x);

    assert_int_equal(x->n_recs, 1);
    assert_int_equal(rec_at(x, 0)->f.key.proto, P_UDP);
    const struct np_track_stats *st = np_track_stats(x->t);
    assert_int_equal(st->pkts, 2);
    assert_int_equal(st->pkts_no_flow, 1);
    assert_int_equal(st->pkts_in_flows, 1);
    assert_int_equal(st->dec.arp, 1);
    assert_int_equal(st->flows_created, 1);
}

static void the_flow_id_is_the_hash_of_the_key_and_the_first_timestamp(void **state)
{
    struct fx *x = *state;
    start_default(x);

    uint64_t first = T0 + 123456789;
    struct spec tagged = between(first, CLI, SRV, P_UDP, 0);
    tagged.eth = true;
    tagged.tagged = true;
    tagged.vlan = 42;
    add(x, &tagged);
    udp(x, first + 1 * SEC, SRV, CLI, 0); /* untagged: another flow */
    feed(x);
    finish(x);
    assert_int_equal(x->n_recs, 2);

    /* The key as docs/formats.md defines it, built by hand. */
    struct np_flow_key k;
    memset(&k, 0, sizeof(k));
    addr(SRV.ip, k.addr_a);
    addr(CLI.ip, k.addr_b);
    k.port_a = SRV.port;
    k.port_b = CLI.port;
    k.vlan = 42;
    k.ip_ver = 4;
    k.proto = P_UDP;
    const struct rec *r = rec_at(x, 0);
    assert_memory_equal(&r->f.key, &k, sizeof(k));
    assert_int_equal(r->f.first_ns, first);
    assert_int_equal(r->f.id, np_flow_id(&k, first));

    k.vlan = VLAN_NONE;
    assert_int_equal(rec_at(x, 1)->f.id, np_flow_id(&k, first + 1 * SEC));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(tcp_fin_exchange_ends_at_the_final_ack_with_reason_fin_when_the_close_delay_is_zero),
        T(an_ack_of_a_fins_data_but_not_of_the_fin_leaves_the_flow_open),
        T(a_fin_exchange_whose_sequence_numbers_wrap_around_zero_ends_at_the_final_ack),
        T(a_straggler_within_the_close_delay_stays_in_the_flow_and_the_record_waits_for_the_delay),
        T(a_flow_held_after_its_fin_exchange_goes_out_at_finish_with_reason_fin),
        T(rst_ends_a_flow_at_once_with_reason_rst_when_the_close_delay_is_zero),
        T(a_flow_closed_by_rst_goes_out_after_the_close_delay_with_reason_rst),
        T(a_new_syn_with_another_isn_on_a_closed_flow_ends_it_and_starts_a_new_flow),
        T(a_new_syn_with_another_isn_on_a_closing_flow_ends_it_and_starts_a_new_flow),
        T(a_retransmitted_syn_with_the_same_isn_stays_in_its_closing_or_closed_flow),
        T(a_syn_ack_seen_before_the_syn_makes_its_receiver_the_client),
        T(a_flow_without_syn_has_the_sender_of_its_first_frame_as_client),
        T(idle_timeouts_end_tcp_udp_and_icmp_flows_each_after_its_own_timeout_in_capture_time),
        T(a_packet_after_the_idle_timeout_starts_a_new_flow_even_within_the_same_batch),
        T(an_empty_live_batch_whose_tick_passes_the_timeout_ends_the_flow),
        T(a_new_flow_beyond_max_flows_evicts_the_least_recently_active_one),
        T(finish_ends_the_remaining_flows_with_end_of_input_in_order_of_first_packet),
        T(both_directions_map_to_one_flow_with_frames_and_bytes_counted_each_way),
        T(endpoint_a_is_the_lower_address_as_unsigned_big_endian_bytes_then_the_lower_port),
        T(vlan_tagged_frames_with_different_vlan_ids_are_different_flows),
        T(fragments_of_a_udp_datagram_are_all_credited_to_its_flow_when_the_last_completes_it),
        T(a_flow_that_starts_with_a_fragmented_datagram_starts_at_its_first_fragment),
        T(fragments_cut_by_the_snapshot_length_count_their_captured_bytes),
        T(fragments_of_a_datagram_that_never_completes_are_in_no_flow),
        T(an_icmp_error_quoting_a_udp_packet_is_its_own_icmp_flow_between_its_ends),
        T(icmp_echo_request_and_reply_are_one_flow_with_the_identifier_as_both_ports),
        T(non_ip_frames_are_counted_in_no_flow),
        T(the_flow_id_is_the_hash_of_the_key_and_the_first_timestamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
