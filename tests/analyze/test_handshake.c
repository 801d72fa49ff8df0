/* tests/analyze/test_handshake.c: the handshake monitor on hand-built packets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "analyze/handshake.h"
#include "core/packet.h"

#define MS 1000000ull
#define T0 1700000000000000000ull

enum {
    SYN = 0x02,
    RST = 0x04,
    ACK = 0x10,
    FIN = 0x01,
    ECE = 0x40,
    CWR = 0x80
};

struct fx {
    struct np_hs_exprs x;
    struct np_hs_local local;
    struct np_handshake *h;
    struct np_hs_result res[16];
    int n_res;
    uint8_t frame[256];
    bool bad_csum; /* build the next frame with a wrong checksum */
    bool bad_ip_csum;
};

static void on_result(const struct np_hs_result *r, void *ctx)
{
    struct fx *f = ctx;
    assert_true(f->n_res < 16);
    f->res[f->n_res++] = *r;
}

/* exprs: NULL-terminated; local: one address or prefix per string. */
static struct fx *setup(const char *const *exprs, const char *const *locals, unsigned checksum,
                        bool icmp, uint32_t max_sessions)
{
    static struct fx f;
    struct np_err err = { 0 };
    memset(&f, 0, sizeof(f));
    np_hs_exprs_init(&f.x);
    for (; exprs && *exprs; exprs++)
        assert_int_equal(np_hs_exprs_add(&f.x, *exprs, &err), NP_OK);
    assert_int_equal(np_hs_exprs_finish(&f.x, &err), NP_OK);
    np_hs_local_init(&f.local);
    for (; locals && *locals; locals++)
        assert_int_equal(np_hs_local_add(&f.local, *locals, &err), NP_OK);
    struct np_handshake_cfg c = { 3000 * MS, max_sessions, icmp, checksum, &f.x, &f.local };
    f.h = np_handshake_create(&c, on_result, &f, &err);
    assert_non_null(f.h);
    return &f;
}

static void teardown(struct fx *f)
{
    np_handshake_destroy(f->h);
    np_hs_exprs_fini(&f->x);
    np_hs_local_fini(&f->local);
}

static const char *const server_local[] = { "10.0.0.1", "2001:db8::1", NULL };

/* ---- frame building ---- */

static size_t put16(uint8_t *p, size_t o, unsigned v)
{
    p[o] = (uint8_t)(v >> 8);
    p[o + 1] = (uint8_t)v;
    return o + 2;
}

static size_t put32(uint8_t *p, size_t o, uint32_t v)
{
    o = put16(p, o, v >> 16);
    return put16(p, o, v & 0xffff);
}

static uint32_t sum(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

/* Ethernet (with a VLAN tag unless vlan < 0) and the IP header for
 * payload_len bytes of proto; returns the offset of the payload. */
static size_t ip_hdr(struct fx *f, int vlan, const char *src, const char *dst, uint8_t proto,
                     size_t payload_len, uint8_t *ip_ver)
{
    uint8_t *p = f->frame;
    memset(p, 0, sizeof(f->frame));
    size_t o = 12;
    uint8_t s[16], d[16];
    bool v6 = strchr(src, ':') != NULL;
    assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, src, s), 1);
    assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, dst, d), 1);
    if (vlan >= 0) {
        o = put16(p, o, 0x8100);
        o = put16(p, o, (unsigned)vlan);
    }
    o = put16(p, o, v6 ? 0x86dd : 0x0800);
    size_t ip = o;
    if (v6) {
        p[o] = 0x60;
        put16(p, o + 4, (unsigned)payload_len);
        p[o + 6] = proto;
        p[o + 7] = 64;
        memcpy(p + o + 8, s, 16);
        memcpy(p + o + 24, d, 16);
        *ip_ver = 6;
        return o + 40;
    }
    p[o] = 0x45;
    put16(p, o + 2, (unsigned)(20 + payload_len));
    p[o + 8] = 64;
    p[o + 9] = proto;
    memcpy(p + o + 12, s, 4);
    memcpy(p + o + 16, d, 4);
    put16(p, ip + 10, fold(sum(p + ip, 20, 0)) ^ (f->bad_ip_csum ? 1 : 0));
    *ip_ver = 4;
    return o + 20;
}

/* The checksum over the pseudo-header and p[l4..l4+len). */
static void l4_csum(struct fx *f, size_t ip, uint8_t ip_ver, uint8_t proto, size_t l4, size_t len,
                    size_t csum_at)
{
    uint8_t *p = f->frame;
    uint32_t acc = 0;
    if (proto != 1) {
        if (ip_ver == 4)
            acc = sum(p + ip + 12, 8, 0);
        else
            acc = sum(p + ip + 8, 32, 0);
        acc += proto + (uint32_t)len;
    }
    put16(p, csum_at, fold(sum(p + l4, len, acc)) ^ (f->bad_csum ? 1 : 0));
}

static struct np_pkt mk(const uint8_t *data, size_t n, uint64_t ts)
{
    struct np_pkt p = { ts, 1, data, (uint32_t)n, (uint32_t)n, 0, NP_LINK_ETHERNET, 9 };
    return p;
}

static void tcp_at(struct fx *f, uint64_t ts, int vlan, const char *src, uint16_t sport,
                   const char *dst, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
    uint8_t ver;
    size_t l4 = ip_hdr(f, vlan, src, dst, 6, 20, &ver);
    size_t ip = l4 - (ver == 4 ? 20 : 40);
    uint8_t *p = f->frame;
    put16(p, l4, sport);
    put16(p, l4 + 2, dport);
    put32(p, l4 + 4, seq);
    put32(p, l4 + 8, ack);
    p[l4 + 12] = 5 << 4;
    p[l4 + 13] = flags;
    put16(p, l4 + 14, 65535);
    l4_csum(f, ip, ver, 6, l4, 20, l4 + 16);
    struct np_pkt pk = mk(p, l4 + 20, ts);
    np_handshake_packet(f->h, &pk);
}

/* An ICMP (v4 type 3) or ICMPv6 (type 1) destination unreachable from
 * router to the SYN's sender, quoting a TCP segment src:sport -> dst:dport
 * with sequence number seq. */
static void unreach_at(struct fx *f, uint64_t ts, const char *router, const char *src,
                       uint16_t sport, const char *dst, uint16_t dport, uint32_t seq)
{
    bool v6 = strchr(src, ':') != NULL;
    size_t qlen = (v6 ? 40 : 20) + 8;
    uint8_t ver;
    size_t l4 = ip_hdr(f, -1, router, src, v6 ? 58 : 1, 8 + qlen, &ver);
    size_t ip = l4 - (v6 ? 40 : 20);
    uint8_t *p = f->frame;
    p[l4] = v6 ? 1 : 3;
    p[l4 + 1] = v6 ? 4 : 3; /* port unreachable */
    size_t q = l4 + 8;
    uint8_t s[16], d[16];
    inet_pton(v6 ? AF_INET6 : AF_INET, src, s);
    inet_pton(v6 ? AF_INET6 : AF_INET, dst, d);
    size_t t;
    if (v6) {
        p[q] = 0x60;
        put16(p, q + 4, 20);
        p[q + 6] = 6;
        p[q + 7] = 64;
        memcpy(p + q + 8, s, 16);
        memcpy(p + q + 24, d, 16);
        t = q + 40;
    } else {
        p[q] = 0x45;
        put16(p, q + 2, 40);
        p[q + 8] = 64;
        p[q + 9] = 6;
        memcpy(p + q + 12, s, 4);
        memcpy(p + q + 16, d, 4);
        t = q + 20;
    }
    put16(p, t, sport);
    put16(p, t + 2, dport);
    put32(p, t + 4, seq);
    l4_csum(f, ip, ver, v6 ? 58 : 1, l4, 8 + qlen, l4 + 2);
    struct np_pkt pk = mk(p, l4 + 8 + qlen, ts);
    np_handshake_packet(f->h, &pk);
}

/* A three-way handshake from client:cport to server:80 starting at ts. */
static void handshake_at(struct fx *f, uint64_t ts, int vlan, const char *client, uint16_t cport,
                         const char *server)
{
    tcp_at(f, ts, vlan, client, cport, server, 80, SYN, 1000, 0);
    tcp_at(f, ts + 10 * MS, vlan, server, 80, client, cport, SYN | ACK, 5000, 1001);
    tcp_at(f, ts + 20 * MS, vlan, client, cport, server, 80, ACK, 1001, 5001);
}

static const struct np_hs_counts *rx(struct fx *f)
{
    return np_handshake_counts(f->h, 0);
}

/* ---- tests ---- */

static void a_completed_three_way_handshake_is_a_success_timed_from_the_syn(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    handshake_at(f, T0, -1, "192.0.2.9", 40000, "10.0.0.1");
    assert_int_equal(f->n_res, 1);
    const struct np_hs_result *r = &f->res[0];
    assert_int_equal(r->outcome, NP_HS_SUCCESS);
    assert_int_equal(r->end_ns - r->first_ns, 20 * MS);
    assert_int_equal(r->client_port, 40000);
    assert_int_equal(r->server_port, 80);
    assert_int_equal(r->client[0], 192);
    assert_int_equal(r->server[0], 10);
    assert_int_equal(r->filters, 1); /* RX, not TX */
    assert_int_equal(rx(f)->success, 1);
    assert_int_equal(rx(f)->failure, 0);
    assert_int_equal(np_handshake_counts(f->h, 1)->success, 0);
    assert_int_equal(np_handshake_stats(f->h)->in_progress, 0);
    /* later segments of the connection are not a new session */
    tcp_at(f, T0 + 30 * MS, -1, "192.0.2.9", 40000, "10.0.0.1", 80, ACK | FIN, 1001, 5001);
    np_handshake_finish(f->h);
    assert_int_equal(f->n_res, 1);
    teardown(f);
}

static void an_rst_from_the_server_before_completion_is_a_reject(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40001, "10.0.0.1", 81, SYN, 77, 0);
    tcp_at(f, T0 + 1 * MS, -1, "10.0.0.1", 81, "192.0.2.9", 40001, RST | ACK, 0, 78);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_REJECT);
    assert_int_equal(f->res[0].end_ns - f->res[0].first_ns, 1 * MS);
    assert_int_equal(rx(f)->failure, 1);
    assert_int_equal(rx(f)->reject, 1);
    teardown(f);
}

static void an_rst_from_the_client_after_the_syn_ack_is_a_reject_too(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40002, "10.0.0.1", 22, SYN, 77, 0);
    tcp_at(f, T0 + 1 * MS, -1, "10.0.0.1", 22, "192.0.2.9", 40002, SYN | ACK, 900, 78);
    tcp_at(f, T0 + 2 * MS, -1, "192.0.2.9", 40002, "10.0.0.1", 22, RST, 78, 0);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_REJECT);
    teardown(f);
}

static void retransmitted_syns_and_syn_acks_are_counted_as_duplicates(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40003, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 1000 * MS, -1, "192.0.2.9", 40003, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 3000 * MS, -1, "192.0.2.9", 40003, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 3001 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 40003, SYN | ACK, 5000, 1001);
    tcp_at(f, T0 + 4001 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 40003, SYN | ACK, 5000, 1001);
    tcp_at(f, T0 + 4002 * MS, -1, "192.0.2.9", 40003, "10.0.0.1", 80, ACK, 1001, 5001);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_SUCCESS);
    assert_int_equal(f->res[0].dup_syn, 2);
    assert_int_equal(f->res[0].dup_synack, 1);
    assert_int_equal(f->res[0].end_ns - f->res[0].first_ns, 4002 * MS);
    assert_int_equal(rx(f)->dupsyn, 2);
    assert_int_equal(rx(f)->dupsynack, 1);
    teardown(f);
}

static void a_syn_with_another_isn_while_one_is_in_progress_is_ignored(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40004, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 1 * MS, -1, "192.0.2.9", 40004, "10.0.0.1", 80, SYN, 99999, 0);
    assert_int_equal(np_handshake_stats(f->h)->syns_new_isn, 1);
    tcp_at(f, T0 + 2 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 40004, SYN | ACK, 5000, 100000);
    tcp_at(f, T0 + 3 * MS, -1, "192.0.2.9", 40004, "10.0.0.1", 80, ACK, 100000, 5001);
    assert_int_equal(f->n_res, 0); /* that SYN/ACK answers no SYN we track */
    teardown(f);
}

static void no_answer_within_the_timeout_of_the_last_syn_is_a_timeout(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40005, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 1000 * MS, -1, "192.0.2.9", 40005, "10.0.0.1", 80, SYN, 1000, 0);
    /* 3.9 s after the first SYN: within 3 s of the retransmission */
    tcp_at(f, T0 + 3900 * MS, -1, "192.0.2.7", 1, "192.0.2.8", 2, ACK, 1, 1);
    assert_int_equal(f->n_res, 0);
    tcp_at(f, T0 + 4000 * MS, -1, "192.0.2.7", 1, "192.0.2.8", 2, ACK, 1, 1);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_TIMEOUT);
    assert_int_equal(f->res[0].end_ns - f->res[0].first_ns, 4000 * MS);
    assert_int_equal(f->res[0].dup_syn, 1);
    assert_int_equal(rx(f)->timeout, 1);
    assert_int_equal(rx(f)->failure, 1);
    assert_int_equal(rx(f)->dupsyn, 0); /* counted for successful sessions only */
    teardown(f);
}

static void a_syn_ack_after_the_deadline_completes_nothing(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40006, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 3500 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 40006, SYN | ACK, 5000, 1001);
    tcp_at(f, T0 + 3501 * MS, -1, "192.0.2.9", 40006, "10.0.0.1", 80, ACK, 1001, 5001);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_TIMEOUT);
    assert_int_equal(f->res[0].end_ns - f->res[0].first_ns, 3000 * MS);
    teardown(f);
}

static void sessions_in_progress_at_the_end_of_input_time_out_at_their_deadline(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40007, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 5 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 40007, SYN | ACK, 5000, 1001);
    tcp_at(f, T0 + 6 * MS, -1, "192.0.2.9", 40008, "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->in_progress, 2);
    np_handshake_finish(f->h);
    assert_int_equal(f->n_res, 2);
    assert_int_equal(f->res[0].client_port, 40007);
    assert_int_equal(f->res[0].outcome, NP_HS_TIMEOUT);
    assert_int_equal(f->res[0].end_ns - f->res[0].first_ns, 3005 * MS);
    assert_int_equal(f->res[1].end_ns - f->res[1].first_ns, 3000 * MS);
    assert_int_equal(rx(f)->timeout, 2);
    assert_int_equal(np_handshake_stats(f->h)->in_progress, 0);
    teardown(f);
}

static void a_tick_expires_sessions_on_a_quiet_link(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40009, "10.0.0.1", 80, SYN, 1000, 0);
    np_handshake_tick(f->h, T0 + 2999 * MS);
    assert_int_equal(f->n_res, 0);
    np_handshake_tick(f->h, T0 + 3000 * MS);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_TIMEOUT);
    teardown(f);
}

static void ecn_syns_start_sessions(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40010, "10.0.0.1", 80, SYN | ECE | CWR, 1000, 0);
    tcp_at(f, T0 + 1 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 40010, SYN | ACK | ECE, 5000, 1001);
    tcp_at(f, T0 + 2 * MS, -1, "192.0.2.9", 40010, "10.0.0.1", 80, ACK, 1001, 5001);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_SUCCESS);
    teardown(f);
}

static void ipv6_handshakes_are_monitored(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    handshake_at(f, T0, -1, "2001:db8::99", 40011, "2001:db8::1");
    tcp_at(f, T0 + 100 * MS, -1, "2001:db8::1", 40012, "2001:db8:1::5", 443, SYN, 1, 0);
    tcp_at(f, T0 + 101 * MS, -1, "2001:db8:1::5", 443, "2001:db8::1", 40012, RST | ACK, 0, 2);
    assert_int_equal(f->n_res, 2);
    assert_int_equal(f->res[0].ip_ver, 6);
    assert_int_equal(f->res[0].outcome, NP_HS_SUCCESS);
    assert_int_equal(f->res[0].filters, 1);
    assert_int_equal(f->res[1].outcome, NP_HS_REJECT);
    assert_int_equal(f->res[1].filters, 2); /* TX: the client is local */
    assert_int_equal(np_handshake_counts(f->h, 1)->reject, 1);
    teardown(f);
}

static void the_same_ports_on_two_vlans_are_two_sessions(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, 10, "192.0.2.9", 40013, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0, 20, "192.0.2.9", 40013, "10.0.0.1", 80, SYN, 1000, 0);
    tcp_at(f, T0 + 1 * MS, 20, "10.0.0.1", 80, "192.0.2.9", 40013, RST | ACK, 0, 1001);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].vlan, 20);
    assert_int_equal(f->res[0].dup_syn, 0);
    tcp_at(f, T0 + 2 * MS, 10, "10.0.0.1", 80, "192.0.2.9", 40013, SYN | ACK, 5000, 1001);
    tcp_at(f, T0 + 3 * MS, 10, "192.0.2.9", 40013, "10.0.0.1", 80, ACK, 1001, 5001);
    assert_int_equal(f->n_res, 2);
    assert_int_equal(f->res[1].vlan, 10);
    assert_int_equal(f->res[1].outcome, NP_HS_SUCCESS);
    teardown(f);
}

static void an_icmp_unreachable_quoting_the_syn_is_an_unreach_with_icmp_on(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 2, true, 16);
    tcp_at(f, T0, -1, "10.0.0.1", 40014, "192.0.2.50", 80, SYN, 1000, 0);
    /* quoting another segment (wrong sequence number) changes nothing */
    unreach_at(f, T0 + 1 * MS, "192.0.2.254", "10.0.0.1", 40014, "192.0.2.50", 80, 1234);
    /* quoting the other direction neither */
    unreach_at(f, T0 + 1 * MS, "192.0.2.254", "192.0.2.50", 80, "10.0.0.1", 40014, 1000);
    assert_int_equal(f->n_res, 0);
    unreach_at(f, T0 + 2 * MS, "192.0.2.254", "10.0.0.1", 40014, "192.0.2.50", 80, 1000);
    assert_int_equal(f->n_res, 1);
    assert_int_equal(f->res[0].outcome, NP_HS_UNREACH);
    assert_int_equal(f->res[0].end_ns - f->res[0].first_ns, 2 * MS);
    assert_int_equal(np_handshake_counts(f->h, 1)->unreach, 1);
    assert_int_equal(np_handshake_counts(f->h, 1)->failure, 1);
    /* ICMPv6 */
    tcp_at(f, T0 + 3 * MS, -1, "2001:db8::1", 40015, "2001:db8:9::9", 22, SYN, 7, 0);
    unreach_at(f, T0 + 4 * MS, "2001:db8:9::1", "2001:db8::1", 40015, "2001:db8:9::9", 22, 7);
    assert_int_equal(f->n_res, 2);
    assert_int_equal(f->res[1].outcome, NP_HS_UNREACH);
    assert_int_equal(np_handshake_stats(f->h)->bad_icmp_checksum, 0);
    teardown(f);
}

static void without_icmp_an_unreachable_changes_nothing(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "10.0.0.1", 40016, "192.0.2.50", 80, SYN, 1000, 0);
    unreach_at(f, T0 + 2 * MS, "192.0.2.254", "10.0.0.1", 40016, "192.0.2.50", 80, 1000);
    assert_int_equal(f->n_res, 0);
    np_handshake_finish(f->h);
    assert_int_equal(f->res[0].outcome, NP_HS_TIMEOUT);
    teardown(f);
}

static void a_syn_no_filter_counts_starts_nothing(void **state)
{
    (void)state;
    const char *e[] = { "web:RX@*:80", ":RX@192.0.2.66:*", NULL };
    struct fx *f = setup(e, server_local, 0, false, 16);
    tcp_at(f, T0, -1, "192.0.2.9", 40017, "10.0.0.1", 22, SYN, 1000, 0);  /* port */
    tcp_at(f, T0, -1, "192.0.2.66", 40017, "10.0.0.1", 80, SYN, 1000, 0); /* excluded */
    tcp_at(f, T0, -1, "192.0.2.9", 40017, "10.0.0.2", 80, SYN, 1000, 0);  /* not local */
    assert_int_equal(np_handshake_stats(f->h)->syns_unmatched, 3);
    assert_int_equal(np_handshake_stats(f->h)->sessions, 0);
    teardown(f);
}

static void a_session_counts_in_every_named_filter_it_matches(void **state)
{
    (void)state;
    const char *e[] = { "all:RX@*:*", "web:RX@192.0.2.0/24:80", "ssh:RX@*:22", NULL };
    struct fx *f = setup(e, server_local, 0, false, 16);
    handshake_at(f, T0, -1, "192.0.2.9", 40018, "10.0.0.1");
    assert_int_equal(f->res[0].filters, 3);
    assert_int_equal(np_handshake_counts(f->h, 0)->success, 1);
    assert_int_equal(np_handshake_counts(f->h, 1)->success, 1);
    assert_int_equal(np_handshake_counts(f->h, 2)->success, 0);
    teardown(f);
}

static void bad_checksums_are_counted_and_ignored_when_asked(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 2, false, 16);
    f->bad_csum = true;
    tcp_at(f, T0, -1, "192.0.2.9", 40019, "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->bad_tcp_checksum, 1);
    assert_int_equal(np_handshake_stats(f->h)->sessions, 0);
    f->bad_csum = false;
    f->bad_ip_csum = true;
    tcp_at(f, T0, -1, "192.0.2.9", 40019, "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->bad_ip_checksum, 1);
    f->bad_ip_csum = false;
    tcp_at(f, T0, -1, "192.0.2.9", 40019, "10.0.0.1", 80, SYN, 1000, 0);
    f->bad_csum = true; /* a bad RST does not end it */
    tcp_at(f, T0 + 1 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 40019, RST | ACK, 0, 1001);
    assert_int_equal(f->n_res, 0);
    assert_int_equal(np_handshake_stats(f->h)->bad_tcp_checksum, 2);
    teardown(f);

    /* level 1 checks the IP header but not TCP; level 0 nothing */
    f = setup(NULL, server_local, 1, false, 16);
    f->bad_csum = true;
    tcp_at(f, T0, -1, "192.0.2.9", 40020, "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->sessions, 1);
    f->bad_ip_csum = true;
    tcp_at(f, T0, -1, "192.0.2.9", 40021, "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->bad_ip_checksum, 1);
    teardown(f);
    f = setup(NULL, server_local, 0, false, 16);
    f->bad_csum = f->bad_ip_csum = true;
    tcp_at(f, T0, -1, "192.0.2.9", 40022, "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->sessions, 1);
    teardown(f);
}

static void a_full_table_leaves_new_syns_untracked_and_counted(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 2);
    for (uint16_t i = 0; i < 3; i++)
        tcp_at(f, T0, -1, "192.0.2.9", (uint16_t)(41000 + i), "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->sessions, 2);
    assert_int_equal(np_handshake_stats(f->h)->sessions_table_full, 1);
    tcp_at(f, T0 + 1 * MS, -1, "10.0.0.1", 80, "192.0.2.9", 41000, RST | ACK, 0, 1001);
    tcp_at(f, T0 + 2 * MS, -1, "192.0.2.9", 41002, "10.0.0.1", 80, SYN, 1000, 0);
    assert_int_equal(np_handshake_stats(f->h)->sessions, 3); /* the freed entry is reused */
    teardown(f);
}

static void many_sessions_survive_removal_in_any_order(void **state)
{
    (void)state;
    struct fx *f = setup(NULL, server_local, 0, false, 64);
    for (uint16_t i = 0; i < 60; i++)
        tcp_at(f, T0, -1, "192.0.2.9", (uint16_t)(42000 + i * 7), "10.0.0.1", 80, SYN, i, 0);
    for (uint16_t i = 0; i < 60; i += 2) {
        tcp_at(f, T0 + 1 * MS, -1, "10.0.0.1", 80, "192.0.2.9", (uint16_t)(42000 + i * 7),
               RST | ACK, 0, i + 1u);
        f->n_res = 0;
    }
    for (uint16_t i = 1; i < 60; i += 2) {
        tcp_at(f, T0 + 2 * MS, -1, "10.0.0.1", 80, "192.0.2.9", (uint16_t)(42000 + i * 7),
               RST | ACK, 0, i + 1u);
        assert_int_equal(f->n_res, 1);
        f->n_res = 0;
    }
    assert_int_equal(rx(f)->reject, 60);
    assert_int_equal(np_handshake_stats(f->h)->in_progress, 0);
    teardown(f);
}

static void the_json_escapes_names_and_replaces_bytes_that_are_not_utf8(void **state)
{
    (void)state;
    /* '"' and '\\'; a valid two-byte and a valid four-byte sequence kept;
     * a lone continuation byte, a cut three-byte sequence (E2 82 then 'x':
     * one U+FFFD for both bytes), an overlong form (C0 AF: two), a surrogate
     * (ED A0 80: three) and a byte that is never UTF-8 (FF) replaced. */
    const char *e[] = { "q\"b\\:RX@*:*", "\xc3\xa9\xf0\x9f\x98\x80:RX@*:*",
                        "a\x80"
                        "b\xe2\x82x\xc0\xafy\xed\xa0\x80z\xff:RX@*:*",
                        NULL };
    struct fx *f = setup(e, server_local, 0, false, 16);
    struct np_hs_counts c[3] = { { 1, 0, 0, 0, 0, 0, 0 } };
    struct np_hs_pcap_counts p = { 7, 0, 0 };
    const char *z = "{\"success\":{\"total\":0,\"dupsyn\":0,\"dupsynack\":0},\"failure\":{"
                    "\"total\":0,\"timeout\":0,\"reject\":0,\"unreach\":0}}}";
    char want[1024], got[1024];
    snprintf(want, sizeof(want),
             "[{\"q\\\"b\\\\\":{\"success\":{\"total\":1,\"dupsyn\":0,\"dupsynack\":0},"
             "\"failure\":{\"total\":0,\"timeout\":0,\"reject\":0,\"unreach\":0}}},"
             "{\"\xc3\xa9\xf0\x9f\x98\x80\":%s,"
             "{\"a\xef\xbf\xbd"
             "b\xef\xbf\xbd"
             "x\xef\xbf\xbd\xef\xbf\xbd"
             "y\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
             "z\xef\xbf\xbd\":%s,"
             "{\"pcap\":{\"stats\":{\"recv\":7,\"drop\":0,\"ifdrop\":0}}}]",
             z, z);
    size_t n = np_handshake_json(got, sizeof(got), &f->x, c, &p);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    /* cut short: the length of the whole text, a NUL-terminated prefix */
    char small[10];
    assert_int_equal(np_handshake_json(small, sizeof(small), &f->x, c, &p), strlen(want));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, want, sizeof(small) - 1);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_completed_three_way_handshake_is_a_success_timed_from_the_syn),
        cmocka_unit_test(an_rst_from_the_server_before_completion_is_a_reject),
        cmocka_unit_test(an_rst_from_the_client_after_the_syn_ack_is_a_reject_too),
        cmocka_unit_test(retransmitted_syns_and_syn_acks_are_counted_as_duplicates),
        cmocka_unit_test(a_syn_with_another_isn_while_one_is_in_progress_is_ignored),
        cmocka_unit_test(no_answer_within_the_timeout_of_the_last_syn_is_a_timeout),
        cmocka_unit_test(a_syn_ack_after_the_deadline_completes_nothing),
        cmocka_unit_test(sessions_in_progress_at_the_end_of_input_time_out_at_their_deadline),
        cmocka_unit_test(a_tick_expires_sessions_on_a_quiet_link),
        cmocka_unit_test(ecn_syns_start_sessions),
        cmocka_unit_test(ipv6_handshakes_are_monitored),
        cmocka_unit_test(the_same_ports_on_two_vlans_are_two_sessions),
        cmocka_unit_test(an_icmp_unreachable_quoting_the_syn_is_an_unreach_with_icmp_on),
        cmocka_unit_test(without_icmp_an_unreachable_changes_nothing),
        cmocka_unit_test(a_syn_no_filter_counts_starts_nothing),
        cmocka_unit_test(a_session_counts_in_every_named_filter_it_matches),
        cmocka_unit_test(bad_checksums_are_counted_and_ignored_when_asked),
        cmocka_unit_test(a_full_table_leaves_new_syns_untracked_and_counted),
        cmocka_unit_test(many_sessions_survive_removal_in_any_order),
        cmocka_unit_test(the_json_escapes_names_and_replaces_bytes_that_are_not_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
