/* tests/store/test_store.c: the recording store.
 *
 * A synthetic session (IPv4 TCP over Ethernet with microseconds, IPv6 UDP
 * as raw IP with nanoseconds, ARP and an unfinished IPv4 fragment without a
 * flow; small packets that fill chunks by count, large ones that fill them
 * by bytes) is recorded and read back: exactly, and for every query the
 * packets a brute-force filter over the same packets picks, reading fewer
 * chunks; the same while the session is still recording, from another
 * connection; and with 90,000 flows, so that flow rows are written in
 * several key blocks of many buckets. Then sessions, prefixes, deletion,
 * the lock (a forked recorder, alive and killed), and files we must refuse:
 * newer schema, the unreleased schema 1, not SQLite, not ours, read-only,
 * damaged chunks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/packet.h"
#include "decode/decode.h"
#include "flow/key.h"
#include "flow/table.h"
#include "source/tmpdir.h"
#include "store/store.h"
#include "testutil.h"

/* ---- synthetic traffic ---- */

#define MAX_PKTS  6000
#define MAX_FLOWS 64
#define BIG       1600

struct tpkt {
    struct np_pkt p;
    uint8_t data[BIG];
    uint64_t flow_id;
};

struct tflow {
    struct np_flow f;
    uint8_t ver, proto;
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    bool started;
};

static struct tpkt pkts[MAX_PKTS];
static uint32_t n_pkts;
static struct tflow flows[MAX_FLOWS];
static uint32_t n_flows;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 + TCP (no options) + payload; returns the frame length. */
static uint32_t build_v4_tcp(uint8_t *d, const uint8_t s[4], const uint8_t t[4], uint16_t sp,
                             uint16_t dp, uint32_t payload)
{
    memset(d, 0, 54 + payload);
    memcpy(d, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00", 14);
    uint8_t *ip = d + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(40 + payload));
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, s, 4);
    memcpy(ip + 16, t, 4);
    uint8_t *tcp = ip + 20;
    put16(tcp, sp);
    put16(tcp + 2, dp);
    tcp[12] = 0x50;
    tcp[13] = 0x18;
    put16(tcp + 14, 1000);
    for (uint32_t i = 0; i < payload; i++)
        tcp[20 + i] = (uint8_t)rng_next();
    return 54 + payload;
}

/* Raw IPv6 + UDP + payload. */
static uint32_t build_v6_udp(uint8_t *d, const uint8_t s[16], const uint8_t t[16], uint16_t sp,
                             uint16_t dp, uint32_t payload)
{
    memset(d, 0, 48 + payload);
    d[0] = 0x60;
    put16(d + 4, (uint16_t)(8 + payload));
    d[6] = 17;
    d[7] = 64;
    memcpy(d + 8, s, 16);
    memcpy(d + 24, t, 16);
    uint8_t *udp = d + 40;
    put16(udp, sp);
    put16(udp + 2, dp);
    put16(udp + 4, (uint16_t)(8 + payload));
    for (uint32_t i = 0; i < payload; i++)
        udp[8 + i] = (uint8_t)rng_next();
    return 48 + payload;
}

static void make_flow(uint32_t i)
{
    struct tflow *f = &flows[i];
    memset(f, 0, sizeof(*f));
    f->ver = (i % 3 == 2) ? 6 : 4;
    f->proto = f->ver == 6 ? 17 : 6;
    /* hosts: 10.0.0.<i % 7> talks to 192.168.1.<i % 5>; v6 2001:db8::<i % 4> */
    if (f->ver == 4) {
        uint8_t a[4] = { 10, 0, 0, (uint8_t)(i % 7) };
        uint8_t b[4] = { 192, 168, 1, (uint8_t)(i % 5) };
        memcpy(f->a, a, 4);
        memcpy(f->b, b, 4);
    } else {
        f->a[0] = 0x20;
        f->a[1] = 0x01;
        f->a[2] = 0x0d;
        f->a[3] = 0xb8;
        memcpy(f->b, f->a, 16);
        f->a[15] = (uint8_t)(i % 4);
        f->b[15] = 0x99;
    }
    f->pa = (uint16_t)(40000 + i);
    f->pb = (uint16_t)(i % 4 == 0 ? 443 : 53 + (i % 4));
}

static void add_pkt(uint64_t ts, uint32_t fi, bool big)
{
    struct tpkt *t = &pkts[n_pkts++];
    struct tflow *f = &flows[fi];
    bool rev = rng_below(2) == 1;
    const uint8_t *s = rev ? f->b : f->a, *d = rev ? f->a : f->b;
    uint16_t sp = rev ? f->pb : f->pa, dp = rev ? f->pa : f->pb;
    uint32_t payload = big ? 1400 + rng_below(150) : rng_below(40);
    memset(&t->p, 0, sizeof(t->p));
    if (f->ver == 4) {
        t->p.caplen = build_v4_tcp(t->data, s, d, sp, dp, payload);
        t->p.ifid = 0;
        t->p.linktype = NP_LINK_ETHERNET;
        t->p.ts_prec = 6;
        ts -= ts % 1000; /* microseconds on this interface */
    } else {
        t->p.caplen = build_v6_udp(t->data, s, d, sp, dp, payload);
        t->p.ifid = 1;
        t->p.linktype = NP_LINK_RAW;
        t->p.ts_prec = 9;
    }
    t->p.wirelen = t->p.caplen + (rng_below(4) == 0 ? 100 : 0);
    t->p.ts_ns = ts;
    t->p.data = t->data;
    if (!f->started) {
        uint8_t src[16] = { 0 }, dst[16] = { 0 };
        memcpy(src, s, f->ver == 6 ? 16 : 4);
        memcpy(dst, d, f->ver == 6 ? 16 : 4);
        np_flow_key_make(&f->f.key, f->ver, f->proto, NP_VLAN_NONE, src, sp, dst, dp);
        f->f.first_ns = ts;
        f->f.id = np_flow_id(&f->f.key, ts);
        f->started = true;
    }
    f->f.last_ns = ts;
    f->f.pkts[rev]++;
    f->f.bytes[rev] += t->p.wirelen;
    t->flow_id = f->f.id;
}

/* A packet with no flow: ARP, or an IPv4 fragment that never completes. */
static void add_loose(uint64_t ts, bool ip)
{
    struct tpkt *t = &pkts[n_pkts++];
    memset(&t->p, 0, sizeof(t->p));
    memset(t->data, 0, 60);
    if (ip) {
        static const uint8_t s[4] = { 10, 0, 0, 3 }, d[4] = { 172, 16, 0, 1 };
        build_v4_tcp(t->data, s, d, 1, 2, 0);
        t->data[14 + 6] = 0x20; /* MF: a first fragment */
    } else {
        memcpy(t->data, "\xff\xff\xff\xff\xff\xff\x66\x77\x88\x99\xaa\xbb\x08\x06", 14);
    }
    t->p.caplen = 60;
    t->p.wirelen = 60;
    t->p.linktype = NP_LINK_ETHERNET;
    t->p.ts_prec = 6;
    t->p.ts_ns = ts - ts % 1000;
    t->p.data = t->data;
    t->flow_id = 0;
}

/* 4000 small packets (chunks end by count), then 1800 large ones (chunks
 * end by bytes). Flow i is active during a window of the capture, so a
 * host or flow touches some chunks only. */
static void make_traffic(void)
{
    rng_seed(42);
    n_pkts = 0;
    n_flows = 40;
    for (uint32_t i = 0; i < n_flows; i++)
        make_flow(i);
    uint64_t ts = 1700000000000000000ull;
    for (uint32_t k = 0; k < 5800; k++) {
        ts += 1000 + rng_below(100000);
        if (k % 997 == 500) {
            add_loose(ts, k % 2 == 0);
            continue;
        }
        bool big = k >= 4000;
        uint32_t base = big ? 20 + (k - 4000) / 100 : k / 210;
        uint32_t fi = base + rng_below(3);
        if (fi >= n_flows)
            fi = n_flows - 1;
        add_pkt(ts, fi, big);
    }
}

/* ---- helpers ---- */

static char *tmp_path(const char *name)
{
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL)
        abort();
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

static void remove_db(const char *path)
{
    char b[4200];
    static const char *const sfx[] = { "", "-wal", "-shm", "-lock" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(b, sizeof(b), "%s%s", path, sfx[i]);
        unlink(b);
    }
}

static void sql(const char *path, const char *q)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *e = NULL;
    int rc = sqlite3_exec(db, q, NULL, NULL, &e);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", q, e);
    sqlite3_close(db);
}

static int64_t sql_int(const char *path, const char *q)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void assert_integrity_ok(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static struct np_store *open_ok(const char *path, bool create, bool writable)
{
    struct np_err err = { 0 };
    struct np_store *st = np_store_open(path, create, writable, &err);
    if (st == NULL)
        fail_msg("open %s: %s", path, err.msg);
    return st;
}

/* Records packets [0, n) of the traffic; commits every commit_every; ends
 * the session unless end is false. Flows with an odd index get their final
 * row, the others stay open. */
static struct np_store_rec *record(struct np_store *st, uint32_t n, uint32_t commit_every, bool end,
                                   const char *name)
{
    struct np_err err = { 0 };
    struct np_store_rec_cfg cfg = { .name = name, .source = "synthetic", .snaplen = 65535 };
    struct np_store_rec *r = np_store_rec_begin(st, &cfg, &err);
    if (r == NULL)
        fail_msg("rec_begin: %s", err.msg);
    struct np_store_iface i0 = {
        .ifid = 0, .linktype = NP_LINK_ETHERNET, .snaplen = 65535, .ts_prec = 6, .name = "eth0"
    };
    struct np_store_iface i1 = {
        .ifid = 1, .linktype = NP_LINK_RAW, .snaplen = 0, .ts_prec = 9, .name = "tun0"
    };
    assert_int_equal(np_store_rec_iface(r, &i0, &err), NP_OK);
    assert_int_equal(np_store_rec_iface(r, &i1, &err), NP_OK);
    bool seen[MAX_FLOWS] = { false };
    for (uint32_t k = 0; k < n; k++) {
        const struct tpkt *t = &pkts[k];
        if (t->flow_id != 0) {
            for (uint32_t f = 0; f < n_flows; f++) {
                if (flows[f].f.id == t->flow_id && !seen[f]) {
                    seen[f] = true;
                    struct np_flow start = flows[f].f;
                    start.last_ns = start.first_ns;
                    assert_int_equal(np_store_rec_flow(r, &start, false, &err), NP_OK);
                }
            }
        }
        if (np_store_rec_packet(r, &t->p, t->flow_id, &err) != NP_OK)
            fail_msg("rec_packet: %s", err.msg);
        if (commit_every != 0 && (k + 1) % commit_every == 0)
            assert_int_equal(np_store_rec_commit(r, k, 0, &err), NP_OK);
    }
    if (!end)
        return r;
    for (uint32_t f = 0; f < n_flows; f++)
        if (seen[f] && f % 2 == 1)
            assert_int_equal(np_store_rec_flow(r, &flows[f].f, true, &err), NP_OK);
    if (np_store_rec_end(r, 7, 3, &err) != NP_OK)
        fail_msg("rec_end: %s", err.msg);
    return NULL;
}

static void query_all(struct np_store_query *q, int64_t session)
{
    memset(q, 0, sizeof(*q));
    q->session = session;
    q->port = -1;
    q->until_ns = UINT64_MAX;
}

static bool brute_match(const struct np_store_query *q, const struct tpkt *t)
{
    if (t->p.ts_ns < q->since_ns || t->p.ts_ns > q->until_ns)
        return false;
    if (q->has_flow && t->flow_id != q->flow_id)
        return false;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    np_decode(t->p.linktype, t->p.data, t->p.caplen, t->p.wirelen, &d, &st);
    size_t alen = q->host_ver == 6 ? 16 : 4;
    if (q->has_host && !(d.ip_ver == q->host_ver &&
                         (memcmp(d.src, q->host, alen) == 0 || memcmp(d.dst, q->host, alen) == 0)))
        return false;
    if (q->port >= 0 &&
        !(d.l4_ok && (d.proto == 6 || d.proto == 17) && (d.sport == q->port || d.dport == q->port)))
        return false;
    return true;
}

/* Runs q and checks it returns exactly the packets brute_match picks among
 * the first n, in order, with every field intact. Returns the cursor's
 * stats; *n_match the number of packets. */
static struct np_store_cursor_stats check_query(struct np_store *st, const struct np_store_query *q,
                                                uint32_t n, uint32_t *n_match)
{
    struct np_err err = { 0 };
    struct np_store_cursor *c = np_store_cursor_open(st, q, &err);
    if (c == NULL)
        fail_msg("cursor_open: %s", err.msg);
    struct np_pkt p;
    uint32_t k = 0, m = 0;
    enum np_rc rc;
    while ((rc = np_store_cursor_next(c, &p, &err)) == NP_OK) {
        while (k < n && !brute_match(q, &pkts[k]))
            k++;
        if (k == n)
            fail_msg("cursor gave an extra packet, frame %llu", (unsigned long long)p.frame_no);
        const struct np_pkt *w = &pkts[k].p;
        assert_int_equal(p.frame_no, k + 1);
        assert_int_equal(p.ts_ns, w->ts_ns);
        assert_int_equal(p.caplen, w->caplen);
        assert_int_equal(p.wirelen, w->wirelen);
        assert_int_equal(p.ifid, w->ifid);
        assert_int_equal(p.linktype, w->linktype);
        assert_int_equal(p.ts_prec, w->ts_prec);
        assert_memory_equal(p.data, w->data, w->caplen);
        k++;
        m++;
    }
    assert_int_equal(rc, NP_EOF);
    while (k < n && !brute_match(q, &pkts[k]))
        k++;
    if (k != n)
        fail_msg("cursor missed frame %u", k + 1);
    struct np_store_cursor_stats s = *np_store_cursor_stats(c);
    np_store_cursor_close(c);
    *n_match = m;
    return s;
}

/* ---- tests ---- */

static void packets_round_trip_exactly_across_chunks_of_both_bounds(void **state)
{
    (void)state;
    char *path = tmp_path("rt.db");
    make_traffic();
    struct np_store *st = open_ok(path, true, true);
    record(st, n_pkts, 2500, true, "rt");

    struct np_store_query q;
    query_all(&q, 1);
    uint32_t m;
    struct np_store_cursor_stats s = check_query(st, &q, n_pkts, &m);
    assert_int_equal(m, n_pkts);
    assert_int_equal(s.chunks_damaged, 0);
    assert_int_equal(s.chunks_read, sql_int(path, "SELECT count(*) FROM chunks"));
    /* both bounds bit */
    assert_true(sql_int(path, "SELECT count(*) FROM chunks WHERE n_pkts = 1024") >= 2);
    assert_true(sql_int(path, "SELECT count(*) FROM chunks WHERE n_pkts < 1024 AND n_bytes > "
                              "256 * 1024 - 2000") >= 2);
    assert_true(sql_int(path, "SELECT max(n_bytes) FROM chunks") <= 256 * 1024);

    struct np_store_iface ifs[4];
    uint32_t n_if = 0;
    struct np_err err = { 0 };
    assert_int_equal(np_store_session_ifaces(st, 1, ifs, 4, &n_if, &err), NP_OK);
    assert_int_equal(n_if, 2);
    assert_int_equal(ifs[0].linktype, NP_LINK_ETHERNET);
    assert_int_equal(ifs[0].ts_prec, 6);
    assert_string_equal(ifs[0].name, "eth0");
    assert_int_equal(ifs[1].linktype, NP_LINK_RAW);
    assert_int_equal(ifs[1].ts_prec, 9);
    np_store_close(st);
    assert_integrity_ok(path);
    free(path);
}

/* A query of session for the packets to or from one host (ver 4 or 6;
 * addr in network order). */
static void query_host(struct np_store_query *q, int64_t session, uint8_t ver, const char *addr)
{
    query_all(q, session);
    q->has_host = true;
    q->host_ver = ver;
    memcpy(q->host, addr, ver == 6 ? 16 : 4);
}

static void queries_return_exactly_what_a_brute_force_filter_returns(void **state)
{
    (void)state;
    char *path = tmp_path("rt.db"); /* from the test above */
    struct np_store *st = open_ok(path, false, false);
    int64_t total = sql_int(path, "SELECT count(*) FROM chunks");
    struct np_store_query q;
    uint32_t m;
    struct np_store_cursor_stats s;

    /* host v4: 192.168.1.3 (flows 3, 8, 13, ...: some of them) */
    query_host(&q, 1, 4, "\xc0\xa8\x01\x03");
    s = check_query(st, &q, n_pkts, &m);
    assert_true(m > 0);
    assert_true(s.chunks_read < (uint64_t)total);

    /* host v4 of the loose fragment only: 172.16.0.1 */
    query_host(&q, 1, 4, "\xac\x10\x00\x01");
    s = check_query(st, &q, n_pkts, &m);
    assert_true(m >= 1);

    /* host v6 */
    query_host(&q, 1, 6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02");
    s = check_query(st, &q, n_pkts, &m);
    assert_true(m > 0);
    assert_true(s.chunks_read < (uint64_t)total);

    /* a host nobody has: no chunk read at all except loose ones */
    query_host(&q, 1, 4, "\x01\x02\x03\x04");
    s = check_query(st, &q, n_pkts, &m);
    assert_int_equal(m, 0);
    assert_true(s.chunks_read <= 3);

    /* port */
    query_all(&q, 1);
    q.port = 40005;
    s = check_query(st, &q, n_pkts, &m);
    assert_true(m > 0);
    assert_true(s.chunks_read < (uint64_t)total);
    query_all(&q, 1);
    q.port = 443;
    s = check_query(st, &q, n_pkts, &m);
    assert_true(m > 0);

    /* flow: an open one (even index) and a finished one (odd) */
    for (uint32_t f = 10; f <= 11; f++) {
        query_all(&q, 1);
        q.has_flow = true;
        q.flow_id = flows[f].f.id;
        s = check_query(st, &q, n_pkts, &m);
        assert_int_equal(m, flows[f].f.pkts[0] + flows[f].f.pkts[1]);
        assert_true(s.chunks_read < (uint64_t)total);
    }

    /* time range */
    query_all(&q, 1);
    q.since_ns = pkts[1500].p.ts_ns;
    q.until_ns = pkts[2500].p.ts_ns;
    s = check_query(st, &q, n_pkts, &m);
    assert_int_equal(m, 1001);
    assert_true(s.chunks_read < (uint64_t)total);

    /* combinations */
    query_host(&q, 1, 4, "\x0a\x00\x00\x03");
    q.port = 443;
    s = check_query(st, &q, n_pkts, &m);
    query_host(&q, 1, 4, "\x0a\x00\x00\x01");
    q.since_ns = pkts[1000].p.ts_ns;
    q.until_ns = pkts[4500].p.ts_ns;
    s = check_query(st, &q, n_pkts, &m);
    assert_true(m > 0);
    query_all(&q, 1);
    q.has_flow = true;
    q.flow_id = flows[25].f.id;
    q.since_ns = pkts[4400].p.ts_ns;
    s = check_query(st, &q, n_pkts, &m);
    assert_true(m > 0);
    query_all(&q, 1);
    q.has_flow = true;
    q.flow_id = flows[25].f.id;
    q.port = 9; /* no packet of that flow has it */
    s = check_query(st, &q, n_pkts, &m);
    assert_int_equal(m, 0);
    np_store_close(st);
    free(path);
}

/* Host, port and flow queries on a session still recording: every flow is
 * open (start rows only) and some have not been committed. */
static void queries_on_a_recording_session_find_its_open_flows(void **state)
{
    (void)state;
    char *path = tmp_path("live.db");
    remove_db(path);
    make_traffic();
    struct np_store *st = open_ok(path, true, true);
    struct np_store_rec *r = record(st, 3000, 1000, false, "live");
    struct np_store *rd = open_ok(path, false, false);
    struct np_store_query q;
    uint32_t m;
    int64_t total = sql_int(path, "SELECT count(*) FROM chunks");

    query_host(&q, 1, 4, "\xc0\xa8\x01\x03");
    struct np_store_cursor_stats s = check_query(rd, &q, 3000, &m);
    assert_true(m > 0);
    assert_true(s.chunks_read < (uint64_t)total);
    query_all(&q, 1);
    q.port = 443;
    check_query(rd, &q, 3000, &m);
    assert_true(m > 0);
    query_all(&q, 1);
    q.has_flow = true;
    q.flow_id = flows[7].f.id;
    check_query(rd, &q, 3000, &m);
    assert_true(m > 0);

    struct np_err err = { 0 };
    assert_int_equal(np_store_rec_end(r, 0, 0, &err), NP_OK);
    /* every flow row is a start row, and each is indexed */
    assert_int_equal(sql_int(path, "SELECT count(*) FROM flows WHERE open != 1"), 0);
    assert_true(sql_int(path, "SELECT count(*) FROM flow_blocks") >= 1);
    np_store_close(rd);
    np_store_close(st);
    free(path);
}

/* Ethernet + IPv4 + UDP, no payload, in buf; returns the frame length. */
static uint32_t build_v4_udp(uint8_t *d, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp)
{
    memset(d, 0, 42);
    memcpy(d, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00", 14);
    uint8_t *ip = d + 14;
    ip[0] = 0x45;
    put16(ip + 2, 28);
    ip[8] = 64;
    ip[9] = 17;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    put16(ip + 20, sp);
    put16(ip + 22, dp);
    put16(ip + 24, 8);
    return 42;
}

#define MANY_FLOWS 90000u

/* Flow i of the many: 10.0.0.0 + i, port 1024 + i % 50000, to
 * 192.0.2.<i % 97>:<7000 + i % 13>, two packets, the second 300 flows
 * later, so that many flows are open at a commit. */
static void many_flow(uint32_t i, struct np_flow *f, uint8_t *frame, struct np_pkt *p, bool second)
{
    uint32_t src = 0x0a000000u + i;
    uint32_t dst = 0xc0000200u | (i % 97);
    uint16_t sp = (uint16_t)(1024 + i % 50000), dp = (uint16_t)(7000 + i % 13);
    uint8_t a[16] = { 0 }, b[16] = { 0 };
    for (int k = 0; k < 4; k++) {
        a[k] = (uint8_t)(src >> (24 - 8 * k));
        b[k] = (uint8_t)(dst >> (24 - 8 * k));
    }
    memset(f, 0, sizeof(*f));
    np_flow_key_make(&f->key, 4, 17, NP_VLAN_NONE, a, sp, b, dp);
    f->first_ns = 1700000000000000000ull + (uint64_t)i * 1000000;
    f->last_ns = f->first_ns + (second ? 300000000ull : 0);
    f->id = np_flow_id(&f->key, f->first_ns);
    f->pkts[0] = second ? 2 : 1;
    f->bytes[0] = 42u * f->pkts[0];
    memset(p, 0, sizeof(*p));
    p->caplen = p->wirelen = build_v4_udp(frame, src, dst, sp, dp);
    p->ts_ns = f->last_ns;
    p->linktype = NP_LINK_ETHERNET;
    p->ts_prec = 9;
    p->data = frame;
}

static uint32_t count_query(struct np_store *st, const struct np_store_query *q,
                            struct np_store_cursor_stats *stats)
{
    struct np_err err = { 0 };
    struct np_store_cursor *c = np_store_cursor_open(st, q, &err);
    if (c == NULL)
        fail_msg("cursor_open: %s", err.msg);
    struct np_pkt p;
    uint32_t n = 0;
    uint64_t last = 0;
    enum np_rc rc;
    while ((rc = np_store_cursor_next(c, &p, &err)) == NP_OK) {
        assert_true(p.frame_no > last);
        last = p.frame_no;
        n++;
    }
    assert_int_equal(rc, NP_EOF);
    *stats = *np_store_cursor_stats(c);
    np_store_cursor_close(c);
    return n;
}

/* 90,000 flows of two packets each, the last 70,000 with no commit: more
 * rows than one key block takes (PEND_MAX), blocks of many buckets, start
 * rows closed by final rows in later blocks. Host, port and flow queries
 * count exactly what they must, reading only the chunks that hold it. */
static void many_flows_are_indexed_in_blocks_and_found_exactly(void **state)
{
    (void)state;
    char *path = tmp_path("many.db");
    remove_db(path);
    struct np_store *st = open_ok(path, true, true);
    struct np_err err = { 0 };
    struct np_store_rec_cfg cfg = { .source = "many" };
    struct np_store_rec *r = np_store_rec_begin(st, &cfg, &err);
    assert_non_null(r);
    static uint8_t frame[64];
    struct np_flow f;
    struct np_pkt p;
    const uint32_t lag = 300;
    for (uint32_t k = 0; k < MANY_FLOWS + lag; k++) {
        if (k < MANY_FLOWS) { /* flow k starts */
            many_flow(k, &f, frame, &p, false);
            assert_int_equal(np_store_rec_flow(r, &f, false, &err), NP_OK);
            assert_int_equal(np_store_rec_flow(r, &f, false, &err), NP_OK); /* ignored */
            assert_int_equal(np_store_rec_packet(r, &p, f.id, &err), NP_OK);
        }
        if (k >= lag) { /* flow k - lag sends its second packet and ends */
            many_flow(k - lag, &f, frame, &p, true);
            assert_int_equal(np_store_rec_packet(r, &p, f.id, &err), NP_OK);
            assert_int_equal(np_store_rec_flow(r, &f, true, &err), NP_OK);
        }
        /* no commit after 20,000: more than PEND_MAX rows wait */
        if (k % 5000 == 4999 && k < 20000)
            assert_int_equal(np_store_rec_commit(r, 0, 0, &err), NP_OK);
    }
    assert_int_equal(np_store_rec_end(r, 0, 0, &err), NP_OK);
    np_store_close(st);

    assert_true(sql_int(path, "SELECT count(*) FROM flow_blocks") >= 6);
    assert_true(sql_int(path, "SELECT max(n_buckets) FROM flow_blocks") >= 16);
    assert_true(sql_int(path, "SELECT count(*) FROM flows WHERE open = 1") > 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM flows WHERE open = 1"),
                     sql_int(path, "SELECT count(*) FROM flows WHERE open = 2"));
    assert_int_equal(sql_int(path, "SELECT count(DISTINCT id) FROM flows"), MANY_FLOWS);
    int64_t total = sql_int(path, "SELECT count(*) FROM chunks");

    st = open_ok(path, false, false);
    struct np_store_query q;
    struct np_store_cursor_stats cs;
    /* 192.0.2.5: flows i with i % 97 == 5, two packets each */
    query_host(&q, 1, 4, "\xc0\x00\x02\x05");
    uint32_t want = 0;
    for (uint32_t i = 0; i < MANY_FLOWS; i++)
        want += i % 97 == 5 ? 2 : 0;
    assert_int_equal(count_query(st, &q, &cs), want);
    /* 10.0.97.175: flow 25007 only */
    memcpy(q.host, "\x0a\x00\x61\xaf", 4);
    assert_int_equal(count_query(st, &q, &cs), 2);
    assert_true(cs.chunks_read <= 2 && cs.chunks_read < (uint64_t)total);
    /* port 1024 + 777: flows 777 and 50777 */
    query_all(&q, 1);
    q.port = 1024 + 777;
    assert_int_equal(count_query(st, &q, &cs), 4);
    assert_true(cs.chunks_read <= 4);
    /* 10.1.36.255 (flow 75007): started and ended with no commit between */
    query_host(&q, 1, 4, "\x0a\x01\x24\xff");
    assert_int_equal(count_query(st, &q, &cs), 2);
    assert_true(cs.chunks_read <= 2);
    /* port 7003 with host 192.0.2.16: i % 13 == 3 and i % 97 == 16 */
    q.has_host = true;
    q.host_ver = 4;
    memcpy(q.host, "\xc0\x00\x02\x10", 4);
    q.port = 7003;
    want = 0;
    for (uint32_t i = 0; i < MANY_FLOWS; i++)
        want += i % 13 == 3 && i % 97 == 16 ? 2 : 0;
    assert_int_equal(count_query(st, &q, &cs), want);
    /* a flow by id */
    many_flow(33333, &f, frame, &p, false);
    query_all(&q, 1);
    q.has_flow = true;
    q.flow_id = f.id;
    assert_int_equal(count_query(st, &q, &cs), 2);
    assert_true(cs.chunks_read <= 2);
    np_store_close(st);

    /* deleting the session leaves no flow row, block or bucket */
    st = open_ok(path, false, true);
    assert_int_equal(np_store_session_delete(st, 1, &err), NP_OK);
    np_store_close(st);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM flows"), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM flow_blocks"), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM flow_keys"), 0);
    assert_integrity_ok(path);
    free(path);
}

struct list_ctx {
    struct np_store_session s[16];
    int n;
};

static bool collect(const struct np_store_session *s, void *ctx)
{
    struct list_ctx *l = ctx;
    if (l->n < 16)
        l->s[l->n++] = *s;
    return true;
}

static void sessions_are_listed_newest_first_with_their_counters(void **state)
{
    (void)state;
    char *path = tmp_path("list.db");
    remove_db(path);
    struct np_store *st = open_ok(path, true, true);
    record(st, 100, 0, true, "first");
    record(st, 2000, 500, true, "second");
    struct np_store_rec *open_rec = record(st, 300, 100, false, "third");
    struct list_ctx l = { .n = 0 };
    struct np_err err = { 0 };
    assert_int_equal(np_store_sessions(st, collect, &l, &err), NP_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.s[0].id, 3);
    assert_int_equal(l.s[0].state, NP_STORE_RECORDING);
    assert_int_equal(l.s[0].packets, 300);
    assert_int_equal(l.s[0].end_ns, 0);
    assert_int_equal(l.s[1].id, 2);
    assert_string_equal(l.s[1].name, "second");
    assert_int_equal(l.s[1].state, NP_STORE_COMPLETE);
    assert_int_equal(l.s[1].packets, 2000);
    uint64_t bytes = 0, wire = 0;
    for (uint32_t k = 0; k < 2000; k++) {
        bytes += pkts[k].p.caplen;
        wire += pkts[k].p.wirelen;
    }
    assert_int_equal(l.s[1].bytes, bytes);
    assert_int_equal(l.s[1].wire_bytes, wire);
    assert_int_equal(l.s[1].first_ns, pkts[0].p.ts_ns);
    assert_int_equal(l.s[1].last_ns, pkts[1999].p.ts_ns);
    assert_int_equal(l.s[1].drops, 7);
    assert_int_equal(l.s[1].if_drops, 3);
    assert_int_equal(l.s[1].n_ifaces, 2);
    assert_int_equal(l.s[1].linktype, NP_LINK_ETHERNET);
    assert_string_equal(l.s[1].version, NP_VERSION);
    assert_string_equal(l.s[1].source, "synthetic");
    assert_true(l.s[1].hostname[0] != '\0');
    assert_true(l.s[1].end_ns >= l.s[1].start_ns && l.s[1].start_ns > 0);
    assert_int_equal(l.s[2].id, 1);
    assert_int_equal(np_store_rec_end(open_rec, 0, 0, &err), NP_OK);
    np_store_close(st);
    free(path);
}

static void session_ids_resolve_by_unique_prefix_and_report_ambiguity(void **state)
{
    (void)state;
    char *path = tmp_path("prefix.db");
    remove_db(path);
    struct np_store *st = open_ok(path, true, true);
    for (int i = 0; i < 12; i++)
        record(st, 3, 0, true, "p");
    struct np_store_session s;
    struct np_err err = { 0 };
    assert_int_equal(np_store_session_find(st, "1", &s, &err), NP_OK); /* exact wins */
    assert_int_equal(s.id, 1);
    assert_int_equal(np_store_session_find(st, "12", &s, &err), NP_OK);
    assert_int_equal(s.id, 12);
    assert_int_equal(np_store_session_delete(st, 1, &err), NP_OK);
    assert_int_equal(np_store_session_find(st, "1", &s, &err), NP_ERR_USAGE);
    assert_string_equal(err.msg, "session 1 is ambiguous: 10, 11, 12");
    assert_int_equal(np_store_session_delete(st, 10, &err), NP_OK);
    assert_int_equal(np_store_session_delete(st, 12, &err), NP_OK);
    assert_int_equal(np_store_session_find(st, "1", &s, &err), NP_OK); /* only 11 left */
    assert_int_equal(s.id, 11);
    assert_int_equal(np_store_session_find(st, "7", &s, &err), NP_OK);
    assert_int_equal(np_store_session_find(st, "13", &s, &err), NP_ERR_USAGE);
    assert_string_equal(err.msg, "no session 13");
    assert_int_equal(np_store_session_find(st, "x1", &s, &err), NP_ERR_USAGE);
    assert_int_equal(np_store_session_find(st, "", &s, &err), NP_ERR_USAGE);
    /* ids are never reused after a delete */
    record(st, 3, 0, true, "p");
    assert_int_equal(np_store_session_find(st, "13", &s, &err), NP_OK);
    np_store_close(st);
    free(path);
}

static void delete_removes_everything_and_refuses_a_recording_session(void **state)
{
    (void)state;
    char *path = tmp_path("del.db");
    remove_db(path);
    struct np_store *st = open_ok(path, true, true);
    record(st, 3000, 1000, true, "a");
    struct np_store_rec *r = record(st, 2000, 1000, false, "b");
    struct np_err err = { 0 };
    assert_int_equal(np_store_session_delete(st, 2, &err), NP_ERR_USAGE);
    assert_string_equal(err.msg, "session 2 is still recording");
    assert_int_equal(np_store_session_delete(st, 1, &err), NP_OK);
    assert_int_equal(np_store_session_delete(st, 1, &err), NP_ERR_USAGE);
    assert_int_equal(np_store_rec_end(r, 0, 0, &err), NP_OK);
    np_store_close(st);
    static const char *const tables[] = { "sessions", "chunks", "flows", "ifaces" };
    for (size_t i = 0; i < 4; i++) {
        char q[128];
        snprintf(q, sizeof(q), "SELECT count(*) FROM %s WHERE %s = 1", tables[i],
                 i == 0 ? "id" : "session");
        assert_int_equal(sql_int(path, q), 0);
    }
    assert_int_equal(sql_int(path, "SELECT count(*) FROM chunk_data WHERE chunk NOT IN"
                                   " (SELECT id FROM chunks)"),
                     0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM chunk_flows WHERE chunk NOT IN"
                                   " (SELECT id FROM chunks)"),
                     0);
    assert_true(sql_int(path, "SELECT count(*) FROM chunks WHERE session = 2") > 0);
    free(path);
}

static enum np_store_state state_of(struct np_store *st, int64_t id, struct np_store_session *s)
{
    struct np_err err = { 0 };
    char t[24];
    snprintf(t, sizeof(t), "%lld", (long long)id);
    assert_int_equal(np_store_session_find(st, t, s, &err), NP_OK);
    return s->state;
}

static uint32_t count_all(struct np_store *st, int64_t id, uint32_t n)
{
    struct np_store_query q;
    query_all(&q, id);
    uint32_t m;
    check_query(st, &q, n, &m);
    return m;
}

/* Waits until some connection holds the database's write lock (the
 * recorder's open transaction): BEGIN IMMEDIATE without a busy timeout
 * fails with SQLITE_BUSY then. Bounded: fails the test after 20 s. */
static void wait_for_open_write(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc == SQLITE_BUSY)
            break;
        assert_int_equal(rc, SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 20)
            fail_msg("the recorder opened no write transaction within 20 s");
    }
    sqlite3_close(db);
}

static void a_killed_recorder_leaves_an_interrupted_session_with_its_committed_packets(void **state)
{
    (void)state;
    char *path = tmp_path("kill.db");
    remove_db(path);
    make_traffic();
    int up[2], down[2];
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(up[0]);
        close(down[1]); /* so that read() sees EOF when the parent goes away */
        struct np_err err = { 0 };
        struct np_store *st = np_store_open(path, true, true, &err);
        if (st == NULL)
            _exit(10);
        struct np_store_rec_cfg cfg = { .source = "child" };
        struct np_store_rec *r = np_store_rec_begin(st, &cfg, &err);
        if (r == NULL)
            _exit(11);
        for (uint32_t k = 0; k < 4500; k++) {
            if (np_store_rec_packet(r, &pkts[k].p, pkts[k].flow_id, &err) != NP_OK)
                _exit(12);
            if (k + 1 == 2000 && np_store_rec_commit(r, 0, 0, &err) != NP_OK)
                _exit(13);
        }
        /* 2500 packets more: two chunks of them queued to the writer, which
         * writes them in a transaction it leaves open (the parent waits
         * for it) */
        char c = 'R';
        if (write(up[1], &c, 1) != 1)
            _exit(14);
        if (read(down[0], &c, 1) != 1)
            _exit(15);
        _exit(0); /* the parent kills us first */
    }
    close(up[1]);
    close(down[0]);
    char c;
    assert_int_equal(read(up[0], &c, 1), 1);
    wait_for_open_write(path);

    struct np_store *st = open_ok(path, false, false);
    struct np_store_session s;
    assert_int_equal(state_of(st, 1, &s), NP_STORE_RECORDING);
    assert_int_equal(s.packets, 2000);
    assert_int_equal(count_all(st, 1, 2000),
                     2000); /* reads while the writer's transaction is open */
    struct np_err err = { 0 };
    struct np_store *wr = open_ok(path, false, true);
    assert_int_equal(np_store_session_delete(wr, 1, &err), NP_ERR_USAGE);
    np_store_close(wr);

    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    close(up[0]);
    close(down[1]);

    assert_int_equal(state_of(st, 1, &s), NP_STORE_INTERRUPTED);
    assert_int_equal(s.packets, 2000);
    assert_int_equal(s.end_ns, 0);
    assert_int_equal(count_all(st, 1, 2000), 2000);
    np_store_close(st);
    /* a writer recovers the WAL; the file is sound */
    st = open_ok(path, false, true);
    assert_int_equal(state_of(st, 1, &s), NP_STORE_INTERRUPTED);
    np_store_close(st);
    assert_integrity_ok(path);
    free(path);
}

/* A database whose user_version says version is refused, for reading and
 * for writing, with "cannot open PATH: " and why. */
static void check_schema_refused(const char *name, int version, const char *why)
{
    char *path = tmp_path(name);
    remove_db(path);
    np_store_close(open_ok(path, true, true));
    char q[64];
    snprintf(q, sizeof(q), "PRAGMA user_version = %d", version);
    sql(path, q);
    for (int w = 0; w < 2; w++) {
        struct np_err err = { 0 };
        assert_null(np_store_open(path, false, w == 1, &err));
        assert_int_equal(err.rc, NP_ERR_USAGE);
        char want[512];
        snprintf(want, sizeof(want), "cannot open %s: %s", path, why);
        assert_string_equal(err.msg, want);
    }
    free(path);
}

static void a_database_from_a_newer_schema_is_refused_with_one_clear_line(void **state)
{
    (void)state;
    check_schema_refused("newer.db", 7,
                         "database made by a newer netpeek (schema 7, this one reads up to 2)");
}

static void a_database_of_the_unreleased_schema_1_is_refused_with_one_clear_line(void **state)
{
    (void)state;
    check_schema_refused("schema1.db", 1,
                         "schema 1 is an unreleased development format that this netpeek does "
                         "not read; record the session again");
}

static void files_that_are_not_our_databases_are_refused(void **state)
{
    (void)state;
    struct np_err err = { 0 };
    char *path = tmp_path("text.db");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 100; i++)
        fputs("this is not a database, just some text\n", f);
    fclose(f);
    for (int w = 0; w < 2; w++) {
        assert_null(np_store_open(path, true, w == 1, &err));
        assert_int_equal(err.rc, NP_ERR_USAGE);
        assert_non_null(strstr(err.msg, "not an SQLite database"));
    }
    char *other = tmp_path("other.db");
    remove_db(other);
    sql(other, "CREATE TABLE t(x)");
    assert_null(np_store_open(other, true, true, &err));
    assert_non_null(strstr(err.msg, "not a netpeek database"));
    char *missing = tmp_path("missing.db");
    assert_null(np_store_open(missing, false, false, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "no database"));
    free(path);
    free(other);
    free(missing);
}

static void a_read_only_database_is_refused_for_writing_but_readable(void **state)
{
    (void)state;
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/ro", tmpdir);
    mkdir(dir, 0777);
    /* nobody may enter the tmpdir and write -shm next to the database, but
     * not write the database itself */
    assert_int_equal(chmod(tmpdir, 0755), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    char path[400];
    snprintf(path, sizeof(path), "%s/ro.db", dir);
    make_traffic();
    struct np_store *st = open_ok(path, true, true);
    record(st, 500, 0, true, "ro");
    np_store_close(st);
    assert_int_equal(chmod(path, 0444), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* root writes anything: drop to nobody so 0444 means read-only */
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(20);
        struct np_err err = { 0 };
        if (np_store_open(path, false, true, &err) != NULL)
            _exit(21);
        if (err.rc != NP_ERR_USAGE || strstr(err.msg, "read-only") == NULL)
            _exit(22);
        struct np_store *r = np_store_open(path, false, false, &err);
        if (r == NULL)
            _exit(23);
        struct np_store_query q;
        query_all(&q, 1);
        struct np_store_cursor *c = np_store_cursor_open(r, &q, &err);
        struct np_pkt p;
        uint32_t n = 0;
        while (c != NULL && np_store_cursor_next(c, &p, &err) == NP_OK)
            n++;
        np_store_cursor_close(c);
        np_store_close(r);
        _exit(n == 500 ? 0 : 24);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(chmod(tmpdir, 0700), 0);
}

static void a_damaged_chunk_blob_is_counted_and_skipped(void **state)
{
    (void)state;
    char *path = tmp_path("damaged.db");
    remove_db(path);
    make_traffic();
    struct np_store *st = open_ok(path, true, true);
    record(st, n_pkts, 0, true, "d");
    np_store_close(st);
    int64_t n1 = sql_int(path, "SELECT n_pkts FROM chunks WHERE seq = 1");
    int64_t n3 = sql_int(path, "SELECT n_pkts FROM chunks WHERE seq = 3");
    int64_t n5 = sql_int(path, "SELECT n_pkts FROM chunks WHERE seq = 5");
    /* cut short; a huge caplen; a count that disagrees */
    sql(path, "UPDATE chunk_data SET data = substr(data, 1, length(data) - 5)"
              " WHERE chunk = (SELECT id FROM chunks WHERE seq = 1)");
    sql(path, "UPDATE chunk_data SET data = X'0100000000000000000000000000000000ffffff00ffffff"
              "0000000000' WHERE chunk = (SELECT id FROM chunks WHERE seq = 3)");
    sql(path, "UPDATE chunks SET n_pkts = n_pkts + 1 WHERE seq = 5");
    st = open_ok(path, false, false);
    struct np_store_query q;
    query_all(&q, 1);
    struct np_err err = { 0 };
    struct np_store_cursor *c = np_store_cursor_open(st, &q, &err);
    assert_non_null(c);
    struct np_pkt p;
    uint32_t n = 0;
    while (np_store_cursor_next(c, &p, &err) == NP_OK)
        n++;
    assert_int_equal(np_store_cursor_stats(c)->chunks_damaged, 3);
    assert_int_equal(n, n_pkts - n1 - n3 - n5);
    np_store_cursor_close(c);
    np_store_close(st);
    free(path);
}

/* A queued commit runs in order, before the writer stops: abandoning the
 * recording right after it still leaves its packets committed. */
static void a_queued_commit_is_run_before_the_writer_stops(void **state)
{
    (void)state;
    char *path = tmp_path("async.db");
    remove_db(path);
    make_traffic();
    struct np_err err = { 0 };
    struct np_store *st = open_ok(path, true, true);
    struct np_store_rec_cfg cfg = { .source = "async" };
    struct np_store_rec *r = np_store_rec_begin(st, &cfg, &err);
    assert_non_null(r);
    for (uint32_t k = 0; k < 3000; k++) {
        assert_int_equal(np_store_rec_packet(r, &pkts[k].p, pkts[k].flow_id, &err), NP_OK);
        if (k + 1 == 1000 || k + 1 == 2500)
            assert_int_equal(np_store_rec_commit_async(r, k, 0, &err), NP_OK);
    }
    assert_int_equal(np_store_rec_stats(r)->commits, 2);
    np_store_rec_abandon(r); /* 500 packets after the last commit: rolled back */
    np_store_close(st);
    st = open_ok(path, false, false);
    struct np_store_session s;
    assert_int_equal(state_of(st, 1, &s), NP_STORE_INTERRUPTED);
    assert_int_equal(s.packets, 2500);
    assert_int_equal(s.drops, 2499);
    assert_int_equal(count_all(st, 1, 2500), 2500);
    np_store_close(st);
    assert_integrity_ok(path);
    remove_db(path);
    free(path);
}

/* A write that fails in the writer thread (here: past the file size
 * limit) is returned by a later call; the recording ends with that error,
 * nothing hangs, and the database keeps its last commit. */
static void a_failed_write_is_reported_by_a_later_call(void **state)
{
    (void)state;
    char *path = tmp_path("efbig.db");
    remove_db(path);
    make_traffic();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = { 4u << 20, 4u << 20 };
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(10);
        struct np_err err = { 0 };
        struct np_store *st = np_store_open(path, true, true, &err);
        if (st == NULL)
            _exit(11);
        struct np_store_rec_cfg cfg = { .source = "efbig" };
        struct np_store_rec *r = np_store_rec_begin(st, &cfg, &err);
        if (r == NULL)
            _exit(12);
        enum np_rc rc = NP_OK;
        /* the traffic again and again: far more than 4 MiB */
        for (uint32_t k = 0; k < 40 * n_pkts && rc == NP_OK; k++) {
            rc = np_store_rec_packet(r, &pkts[k % n_pkts].p, 0, &err);
            if (rc == NP_OK && k % 1000 == 999)
                rc = np_store_rec_commit_async(r, 0, 0, &err);
        }
        if (rc != NP_ERR_IO || strstr(err.msg, "cannot write") == NULL)
            _exit(13);
        if (np_store_rec_end(r, 0, 0, &err) != NP_ERR_IO)
            _exit(14);
        np_store_close(st);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    struct np_store *st = open_ok(path, false, false);
    struct np_store_session s;
    assert_int_equal(state_of(st, 1, &s), NP_STORE_INTERRUPTED);
    assert_true(s.packets > 0 && s.packets % 1000 == 0);
    struct np_store_query q;
    query_all(&q, 1);
    struct np_err err = { 0 };
    struct np_store_cursor *c = np_store_cursor_open(st, &q, &err);
    assert_non_null(c);
    struct np_pkt p;
    uint64_t m = 0;
    while (np_store_cursor_next(c, &p, &err) == NP_OK)
        assert_int_equal(p.ts_ns, pkts[m++ % n_pkts].p.ts_ns);
    np_store_cursor_close(c);
    assert_int_equal(m, s.packets);
    np_store_close(st);
    assert_integrity_ok(path);
    remove_db(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packets_round_trip_exactly_across_chunks_of_both_bounds),
        cmocka_unit_test(queries_return_exactly_what_a_brute_force_filter_returns),
        cmocka_unit_test(queries_on_a_recording_session_find_its_open_flows),
        cmocka_unit_test(many_flows_are_indexed_in_blocks_and_found_exactly),
        cmocka_unit_test(sessions_are_listed_newest_first_with_their_counters),
        cmocka_unit_test(session_ids_resolve_by_unique_prefix_and_report_ambiguity),
        cmocka_unit_test(delete_removes_everything_and_refuses_a_recording_session),
        cmocka_unit_test(
                a_killed_recorder_leaves_an_interrupted_session_with_its_committed_packets),
        cmocka_unit_test(a_database_from_a_newer_schema_is_refused_with_one_clear_line),
        cmocka_unit_test(a_database_of_the_unreleased_schema_1_is_refused_with_one_clear_line),
        cmocka_unit_test(files_that_are_not_our_databases_are_refused),
        cmocka_unit_test(a_read_only_database_is_refused_for_writing_but_readable),
        cmocka_unit_test(a_damaged_chunk_blob_is_counted_and_skipped),
        cmocka_unit_test(a_queued_commit_is_run_before_the_writer_stops),
        cmocka_unit_test(a_failed_write_is_reported_by_a_later_call),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
