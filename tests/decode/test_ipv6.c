/* tests/decode/test_ipv6.c: the IPv6 header and extension headers
 * (ipv6.c), on link type 229, and np_decode_ip_payload() after them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pkt.h"

enum {
    LT_IPV6 = 229,
};

static void add_tcp(struct pkt *p)
{
    pk_tcp(p, 443, 50000, 7, 8, NP_TCP_ACK, NULL, 0);
    pk_bytes(p, "data", 4);
}

/* IPv6 / TCP (add_tcp), the payload length set. */
static void build_tcp(struct pkt *p)
{
    p->n = 0;
    size_t ip = pk_ipv6(p, 6);
    add_tcp(p);
    pk_ipv6_done(p, ip);
}

static void a_plain_ipv6_tcp_packet_is_decoded(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_tcp(&p);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.l3, NP_L3_IPV6);
    assert_int_equal(d.ip_ver, 6);
    assert_int_equal(d.ttl, 64);
    assert_memory_equal(d.src, A6, 16);
    assert_memory_equal(d.dst, B6, 16);
    assert_int_equal(d.proto, 6);
    assert_true(d.l4_ok);
    assert_int_equal(d.sport, 443);
    assert_int_equal(d.payload_len, 4);
    assert_int_equal(st.ipv6, 1);
    assert_int_equal(st.tcp, 1);
}

static void hop_by_hop_routing_and_destination_options_are_walked_to_tcp(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 0);
    pk_ext(&p, 43, 0); /* hop-by-hop, 8 bytes */
    pk_ext(&p, 60, 2); /* routing, 24 bytes (its body is not read) */
    pk_ext(&p, 6, 1);  /* destination options, 16 bytes */
    add_tcp(&p);
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.proto, 6);
    assert_true(d.l4_ok);
    assert_int_equal(d.dport, 50000);
    assert_int_equal(d.payload_len, 4);
    assert_int_equal(d.payload_wire_len, 4);
    assert_int_equal(st.anom_ipv6_bad_option, 0);
}

static void the_authentication_header_counts_4_byte_units_plus_2(void **state)
{
    (void)state;
    for (uint8_t len = 0; len <= 4; len += 4) { /* 0: 8 bytes, as in ipv6_zero_len_ah.pcap */
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        size_t ip = pk_ipv6(&p, 51);
        pk_u8(&p, 58);
        pk_u8(&p, len);
        pk_fill(&p, 0, (size_t)(len + 2) * 4 - 2);
        pk_icmp(&p, 128, 0, 0x77, 1);
        pk_ipv6_done(&p, ip);
        assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.proto, 58);
        assert_int_equal(d.icmp_type, 128);
        assert_int_equal(d.sport, 0x77);
        assert_int_equal(st.icmpv6, 1);
    }
}

static void next_header_59_means_no_transport(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 60);
    pk_ext(&p, 59, 0);
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.proto, 59);
    assert_false(d.l4_ok);
    assert_int_equal(d.payload_len, 0);
}

static void more_extension_headers_than_the_bound_are_counted(void **state)
{
    (void)state;
    for (int n = NP_MAX_IP6_EXT; n <= NP_MAX_IP6_EXT + 1; n++) {
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        size_t ip = pk_ipv6(&p, 60);
        for (int i = 0; i < n; i++)
            pk_ext(&p, i + 1 < n ? 60 : 17, 0);
        pk_udp_payload(&p, 1, 2, 0, 0);
        pk_ipv6_done(&p, ip);
        enum np_dec v = pk_decode(LT_IPV6, &p, &d, &st);
        if (n == NP_MAX_IP6_EXT) {
            assert_int_equal(v, NP_DEC_OK);
            assert_true(d.l4_ok);
        } else {
            assert_int_equal(v, NP_DEC_UNSUPPORTED);
            assert_int_equal(st.anom_ipv6_too_many_ext, 1);
            assert_int_equal(d.proto, 60);
            assert_false(d.l4_ok);
        }
    }
}

static void a_fragment_header_reports_the_fragment_and_the_next_header(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 0);
    pk_ext(&p, 44, 0);
    pk_frag6(&p, 60, 1232, true, 0xdeadbeef);
    pk_fill(&p, 'f', 64); /* fragmentable part: a later fragment's bytes */
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_true(d.is_frag);
    assert_true(d.frag_more);
    assert_int_equal(d.frag_id, 0xdeadbeef);
    assert_int_equal(d.frag_off, 1232);
    assert_int_equal(d.frag_len, 64);
    assert_int_equal(d.frag_wire_len, 64);
    assert_int_equal(d.proto, 60); /* the header after the fragment header */
    assert_false(d.l4_ok);
    assert_int_equal(st.frags, 1);
}

static void an_atomic_fragment_is_complete_and_decoding_goes_on(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 44);
    pk_frag6(&p, 6, 0, false, 99);
    add_tcp(&p);
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_false(d.is_frag);
    assert_true(d.l4_ok);
    assert_int_equal(d.sport, 443);
    assert_int_equal(st.frags, 0);
}

static void options_that_do_not_tile_their_header_are_counted_and_skipped(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 60);
    pk_u8(&p, 17);
    pk_u8(&p, 0);
    pk_bytes(&p, "\xca\x90\x00\x00\x00\x00", 6); /* option 0xca claims 144 bytes */
    pk_udp_payload(&p, 30000, 13000, 0, 0);
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(st.anom_ipv6_bad_option, 1);
    assert_true(d.l4_ok);
    assert_int_equal(d.sport, 30000);
}

static void a_payload_length_of_zero_is_counted_and_taken_from_the_frame(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    pk_ipv6(&p, 6); /* payload length left 0 */
    add_tcp(&p);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(st.anom_ipv6_jumbo, 1);
    assert_true(d.l4_ok);
    assert_int_equal(d.payload_len, 4);
}

static void a_payload_length_beyond_the_frame_is_counted(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_tcp(&p);
    pk_set16(&p, 4, 58411);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(st.anom_ipv6_bad_payload_len, 1);
    assert_int_equal(d.payload_len, 4);
    assert_int_equal(d.payload_wire_len, 4);
}

static void an_ipv6_header_or_extension_cut_at_every_byte_is_truncated(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    size_t ip = pk_ipv6(&p, 0);
    pk_ext(&p, 44, 1);
    pk_frag6(&p, 6, 0, false, 1);
    add_tcp(&p);
    pk_ipv6_done(&p, ip);
    for (size_t len = 0; len < 40 + 16 + 8; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(pk_decode_cut(LT_IPV6, &p, len, &d, &st), NP_DEC_TRUNCATED);
        assert_int_equal(st.ipv6, 1);
        assert_int_equal(d.ip_ver, len >= 40 ? 6 : 0);
        assert_int_equal(st.anom_ipv6_truncated, len < 40 ? 1 : 0);
        assert_int_equal(st.anom_ipv6_ext_truncated, len >= 40 ? 1 : 0);
        assert_false(d.l4_ok);
    }
}

static void a_bad_version_is_malformed(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_tcp(&p);
    p.b[0] = 0x40;
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_MALFORMED);
    assert_int_equal(st.anom_ipv6_bad_version, 1);
    assert_int_equal(d.ip_ver, 0);
}

static void a_reassembled_payload_has_its_extension_headers_walked(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d = { .ip_ver = 6, .is_frag = true };
    struct np_dec_stats st = { 0 };
    pk_ext(&p, 17, 0); /* destination options in the fragmentable part */
    pk_udp_payload(&p, 53, 5300, 'q', 20);
    assert_int_equal(np_decode_ip_payload(60, p.b, (uint32_t)p.n, &d, &st), NP_DEC_OK);
    assert_int_equal(d.proto, 17);
    assert_true(d.l4_ok);
    assert_int_equal(d.sport, 53);
    assert_int_equal(d.payload_len, 20);
    assert_true(d.is_frag); /* the frame's fragment fields are kept */
    assert_int_equal(st.udp, 1);

    /* A non-atomic fragment header inside a datagram cannot be reassembled. */
    p.n = 0;
    pk_frag6(&p, 17, 8, false, 5);
    pk_fill(&p, 0, 16);
    assert_int_equal(np_decode_ip_payload(44, p.b, (uint32_t)p.n, &d, &st), NP_DEC_UNSUPPORTED);
    assert_int_equal(st.anom_ipv6_nested_frag, 1);
    assert_false(d.l4_ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_plain_ipv6_tcp_packet_is_decoded),
        cmocka_unit_test(hop_by_hop_routing_and_destination_options_are_walked_to_tcp),
        cmocka_unit_test(the_authentication_header_counts_4_byte_units_plus_2),
        cmocka_unit_test(next_header_59_means_no_transport),
        cmocka_unit_test(more_extension_headers_than_the_bound_are_counted),
        cmocka_unit_test(a_fragment_header_reports_the_fragment_and_the_next_header),
        cmocka_unit_test(an_atomic_fragment_is_complete_and_decoding_goes_on),
        cmocka_unit_test(options_that_do_not_tile_their_header_are_counted_and_skipped),
        cmocka_unit_test(a_payload_length_of_zero_is_counted_and_taken_from_the_frame),
        cmocka_unit_test(a_payload_length_beyond_the_frame_is_counted),
        cmocka_unit_test(an_ipv6_header_or_extension_cut_at_every_byte_is_truncated),
        cmocka_unit_test(a_bad_version_is_malformed),
        cmocka_unit_test(a_reassembled_payload_has_its_extension_headers_walked),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
