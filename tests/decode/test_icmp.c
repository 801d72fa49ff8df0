/* tests/decode/test_icmp.c: ICMP and ICMPv6, echo identifiers and the
 * packets that errors quote (icmp.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pkt.h"

enum {
    LT_IPV4 = 228,
    LT_IPV6 = 229,
};

static void echo_request_and_reply_put_the_identifier_in_both_ports(void **state)
{
    (void)state;
    static const struct {
        int v6;
        uint8_t type;
    } cases[] = { { 0, 8 }, { 0, 0 }, { 1, 128 }, { 1, 129 } };
    for (int i = 0; i < 4; i++) {
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        size_t ip = cases[i].v6 ? pk_ipv6(&p, 58) : pk_ipv4(&p, 1, 1, 0, 0);
        pk_icmp(&p, cases[i].type, 0, 0x1234, 7);
        pk_fill(&p, 'e', 56);
        if (cases[i].v6)
            pk_ipv6_done(&p, ip);
        else
            pk_ipv4_done(&p, ip);
        assert_int_equal(pk_decode(cases[i].v6 ? LT_IPV6 : LT_IPV4, &p, &d, &st), NP_DEC_OK);
        assert_true(d.l4_ok);
        assert_int_equal(d.icmp_type, cases[i].type);
        assert_int_equal(d.sport, 0x1234);
        assert_int_equal(d.dport, 0x1234);
        assert_int_equal(d.payload_len, 56);
        assert_int_equal(d.quote.ip_ver, 0);
        assert_int_equal(cases[i].v6 ? st.icmpv6 : st.icmp, 1);
    }
}

/* IPv4 / ICMP type,code / quoted IPv4 (with opt_len option bytes) / TCP or
 * UDP header (l4_len bytes of it). */
static void build_v4_error(struct pkt *p, uint8_t type, uint8_t code, uint8_t qproto,
                           size_t opt_len, size_t l4_len)
{
    p->n = 0;
    size_t ip = pk_ipv4(p, 1, 1, 0, 0);
    pk_icmp(p, type, code, 0, 1500);
    pk_u8(p, (uint8_t)(0x45 + opt_len / 4));
    pk_u8(p, 0);
    pk_be16(p, 1500); /* the original's total length: more than is quoted */
    pk_be32(p, 0);
    pk_u8(p, 1);
    pk_u8(p, qproto);
    pk_be16(p, 0);
    pk_bytes(p, B4, 4); /* the original went from us (B4) to A4 */
    pk_bytes(p, A4, 4);
    pk_fill(p, 1, opt_len);
    struct pkt l4 = { .n = 0 };
    if (qproto == 6)
        pk_tcp(&l4, 33000, 25, 0xabcdef01, 0, NP_TCP_SYN, NULL, 0);
    else
        pk_udp(&l4, 53000, 53);
    pk_bytes(p, l4.b, l4_len);
    pk_ipv4_done(p, ip);
}

static void a_fragmentation_needed_error_quoting_tcp_gives_its_ports_and_sequence(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_v4_error(&p, 3, 4, 6, 0, 8); /* fragmentation needed, 8 bytes quoted */
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.icmp_type, 3);
    assert_int_equal(d.icmp_code, 4);
    assert_true(d.l4_ok);
    assert_int_equal(d.sport, 0);
    assert_int_equal(d.quote.ip_ver, 4);
    assert_int_equal(d.quote.proto, 6);
    assert_memory_equal(d.quote.src, B4, 4);
    assert_memory_equal(d.quote.dst, A4, 4);
    assert_true(d.quote.has_ports);
    assert_int_equal(d.quote.sport, 33000);
    assert_int_equal(d.quote.dport, 25);
    assert_true(d.quote.has_seq);
    assert_int_equal(d.quote.tcp_seq, 0xabcdef01);
    assert_int_equal(st.icmp, 1);
    assert_int_equal(st.tcp, 0); /* a quoted header counts for nothing */
    assert_int_equal(st.anom_icmp_quote_truncated, 0);
}

static void every_error_type_quotes_udp(void **state)
{
    (void)state;
    static const uint8_t types[] = { 3, 4, 5, 11, 12 };
    for (size_t i = 0; i < sizeof(types); i++) {
        struct pkt p;
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        build_v4_error(&p, types[i], 0, 17, 8, 8);
        assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.quote.ip_ver, 4);
        assert_int_equal(d.quote.proto, 17);
        assert_true(d.quote.has_ports);
        assert_int_equal(d.quote.sport, 53000);
        assert_int_equal(d.quote.dport, 53);
        assert_false(d.quote.has_seq);
        assert_int_equal(st.udp, 0);
    }
}

static void a_quote_cut_at_every_byte_fills_what_it_can_and_counts_the_cut(void **state)
{
    (void)state;
    struct pkt p;
    build_v4_error(&p, 11, 0, 6, 4, 8);
    size_t quote_at = 28;
    for (size_t len = quote_at; len < p.n; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        size_t q = len - quote_at; /* quoted bytes captured */
        assert_int_equal(pk_decode_cut(LT_IPV4, &p, len, &d, &st), NP_DEC_OK);
        assert_true(d.l4_ok);
        assert_int_equal(st.anom_icmp_quote_truncated, 1);
        assert_int_equal(d.quote.ip_ver, q >= 20 ? 4 : 0);
        assert_int_equal(d.quote.has_ports, q >= 24 + 4);
        assert_int_equal(d.quote.has_seq, q >= 24 + 8);
    }
}

static void a_quote_with_a_bad_header_length_is_counted(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_v4_error(&p, 3, 3, 17, 0, 8);
    p.b[28] = 0x42;
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(st.anom_icmp_quote_bad, 1);
    assert_int_equal(d.quote.ip_ver, 0);
    assert_false(d.quote.has_ports);
}

static void a_quoted_later_fragment_has_no_ports(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_v4_error(&p, 11, 1, 17, 0, 8);
    pk_set16(&p, 28 + 6, 100); /* fragment offset 800 */
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.quote.ip_ver, 4);
    assert_false(d.quote.has_ports);
}

static void an_icmpv6_unreachable_quoting_ipv6_with_hop_by_hop_and_udp(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 58);
    pk_icmp(&p, 1, 4, 0, 0);
    size_t q = pk_ipv6(&p, 0);
    pk_ext(&p, 17, 0);
    pk_udp_payload(&p, 5000, 6000, 0, 10);
    pk_ipv6_done(&p, q);
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.icmp_type, 1);
    assert_int_equal(d.quote.ip_ver, 6);
    assert_int_equal(d.quote.proto, 17);
    assert_memory_equal(d.quote.src, A6, 16);
    assert_true(d.quote.has_ports);
    assert_int_equal(d.quote.sport, 5000);
    assert_int_equal(d.quote.dport, 6000);
    assert_int_equal(st.icmpv6, 1);
    assert_int_equal(st.ipv6, 1);
    assert_int_equal(st.udp, 0);

    /* Cut inside the quoted hop-by-hop header. */
    assert_int_equal(pk_decode_cut(LT_IPV6, &p, 40 + 8 + 40 + 4, &d, &st), NP_DEC_OK);
    assert_int_equal(d.quote.ip_ver, 6);
    assert_false(d.quote.has_ports);
    assert_int_equal(st.anom_icmp_quote_truncated, 1);
}

static void a_quote_follows_as_many_extension_headers_as_the_packet_does(void **state)
{
    (void)state;
    for (int n = NP_MAX_IP6_EXT; n <= NP_MAX_IP6_EXT + 1; n++) {
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        size_t ip = pk_ipv6(&p, 58);
        pk_icmp(&p, 3, 0, 0, 0); /* time exceeded */
        size_t q = pk_ipv6(&p, 60);
        for (int i = 0; i < n; i++)
            pk_ext(&p, i + 1 < n ? 60 : 6, 0);
        pk_tcp(&p, 1111, 2222, 3333, 0, NP_TCP_SYN, NULL, 0);
        pk_ipv6_done(&p, q);
        pk_ipv6_done(&p, ip);
        assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.quote.ip_ver, 6);
        if (n == NP_MAX_IP6_EXT) {
            assert_int_equal(d.quote.proto, 6);
            assert_true(d.quote.has_seq);
            assert_int_equal(d.quote.tcp_seq, 3333);
            assert_int_equal(st.anom_ipv6_too_many_ext, 0);
        } else {
            assert_false(d.quote.has_ports);
            assert_int_equal(st.anom_ipv6_too_many_ext, 1);
        }
    }
}

static void neighbour_discovery_gives_type_and_code_only(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 58);
    pk_icmp(&p, 135, 0, 0, 0); /* neighbour solicitation */
    pk_bytes(&p, B6, 16);
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_true(d.l4_ok);
    assert_int_equal(d.icmp_type, 135);
    assert_int_equal(d.sport, 0);
    assert_int_equal(d.quote.ip_ver, 0);
    assert_int_equal(d.payload_len, 16);
}

static void an_icmp_header_cut_at_every_byte_is_truncated(void **state)
{
    (void)state;
    struct pkt p;
    build_v4_error(&p, 3, 1, 6, 0, 8);
    for (size_t len = 20; len < 28; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(pk_decode_cut(LT_IPV4, &p, len, &d, &st), NP_DEC_TRUNCATED);
        assert_false(d.l4_ok);
        assert_int_equal(st.icmp, 1);
        assert_int_equal(st.anom_icmp_truncated, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_request_and_reply_put_the_identifier_in_both_ports),
        cmocka_unit_test(a_fragmentation_needed_error_quoting_tcp_gives_its_ports_and_sequence),
        cmocka_unit_test(every_error_type_quotes_udp),
        cmocka_unit_test(a_quote_cut_at_every_byte_fills_what_it_can_and_counts_the_cut),
        cmocka_unit_test(a_quote_with_a_bad_header_length_is_counted),
        cmocka_unit_test(a_quoted_later_fragment_has_no_ports),
        cmocka_unit_test(an_icmpv6_unreachable_quoting_ipv6_with_hop_by_hop_and_udp),
        cmocka_unit_test(a_quote_follows_as_many_extension_headers_as_the_packet_does),
        cmocka_unit_test(neighbour_discovery_gives_type_and_code_only),
        cmocka_unit_test(an_icmp_header_cut_at_every_byte_is_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
