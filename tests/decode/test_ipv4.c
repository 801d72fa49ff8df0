/* tests/decode/test_ipv4.c: the IPv4 header (ipv4.c), on link type 228. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pkt.h"

enum {
    LT_IPV4 = 228,
};

/* IPv4 with opt_len bytes of options / UDP with n bytes of payload. */
static void build_udp(struct pkt *p, size_t opt_len, uint16_t frag, size_t n)
{
    p->n = 0;
    size_t ip = pk_ipv4(p, 17, 0x1234, frag, opt_len);
    pk_udp_payload(p, 1000, 2000, 'x', n);
    pk_ipv4_done(p, ip);
}

static void options_after_the_fixed_header_are_skipped(void **state)
{
    (void)state;
    for (size_t opt = 0; opt <= 40; opt += 4) {
        struct pkt p;
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        build_udp(&p, opt, 0, 10);
        assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.ip_ver, 4);
        assert_int_equal(d.ttl, 64);
        assert_memory_equal(d.src, A4, 4);
        assert_memory_equal(d.dst, B4, 4);
        assert_true(d.l4_ok);
        assert_int_equal(d.sport, 1000);
        assert_int_equal(d.payload_len, 10);
    }
}

static void a_header_length_below_20_bytes_is_malformed(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 0, 0, 10);
    p.b[0] = 0x44;
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_MALFORMED);
    assert_int_equal(st.anom_ipv4_bad_ihl, 1);
    assert_int_equal(d.ip_ver, 0);
    assert_int_equal(st.ipv4, 1);
    assert_int_equal(st.udp, 0);
}

static void a_version_other_than_4_is_malformed(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 0, 0, 10);
    p.b[0] = 0x55;
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_MALFORMED);
    assert_int_equal(st.anom_ipv4_bad_version, 1);
    assert_int_equal(d.l3, NP_L3_IPV4);
    assert_int_equal(d.ip_ver, 0);
}

static void a_total_length_of_zero_is_taken_from_the_frame(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 0, 0, 10);
    pk_set16(&p, 2, 0); /* TSO */
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_true(d.l4_ok);
    assert_int_equal(d.payload_len, 10);
    assert_int_equal(st.anom_ipv4_bad_total_len, 0);
}

static void a_total_length_below_the_header_is_malformed(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 8, 0, 10);
    pk_set16(&p, 2, 24);
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_MALFORMED);
    assert_int_equal(st.anom_ipv4_bad_total_len, 1);
    assert_int_equal(d.ip_ver, 4); /* the addresses were read */
    assert_false(d.l4_ok);
}

static void a_total_length_beyond_the_frame_is_counted_and_the_frame_gives_the_length(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 0, 0, 10);
    pk_set16(&p, 2, 1500);
    pk_set16(&p, 24, 1480); /* UDP length to match the IP header's claim */
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(st.anom_ipv4_bad_total_len, 1);
    assert_int_equal(st.anom_udp_bad_len, 1); /* beyond what the frame holds */
    assert_true(d.l4_ok);
    assert_int_equal(d.payload_len, 10);
    assert_int_equal(d.payload_wire_len, 10);
}

static void a_snaplen_cut_keeps_the_wire_length_of_the_payload(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 0, 0, 1000);
    assert_int_equal(pk_decode_cut(LT_IPV4, &p, 96, &d, &st), NP_DEC_OK);
    assert_true(d.l4_ok);
    assert_int_equal(d.payload_len, 96 - 28);
    assert_int_equal(d.payload_wire_len, 1000);
    assert_int_equal(st.anom_ipv4_bad_total_len, 0);
}

static void a_first_fragment_is_reported_and_its_transport_left_alone(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 4, 0x2000, 100); /* MF, offset 0 */
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_true(d.is_frag);
    assert_true(d.frag_more);
    assert_int_equal(d.frag_id, 0x1234);
    assert_int_equal(d.frag_off, 0);
    assert_int_equal(d.frag_len, 108);
    assert_int_equal(d.frag_wire_len, 108);
    assert_memory_equal(d.frag_data, &p.b[24], 8); /* the UDP header, unread */
    assert_int_equal(d.proto, 17);
    assert_false(d.l4_ok);
    assert_int_equal(d.sport, 0);
    assert_int_equal(st.frags, 1);
    assert_int_equal(st.udp, 0);
}

static void a_later_fragment_gives_its_offset_in_bytes(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_udp(&p, 0, 185, 100); /* offset 185 * 8, last */
    assert_int_equal(pk_decode_cut(LT_IPV4, &p, 60, &d, &st), NP_DEC_OK);
    assert_true(d.is_frag);
    assert_false(d.frag_more);
    assert_int_equal(d.frag_off, 1480);
    assert_int_equal(d.frag_len, 40);       /* captured */
    assert_int_equal(d.frag_wire_len, 108); /* per the header */
}

static void gre_and_ip_in_ip_are_counted_as_encapsulation_not_decoded(void **state)
{
    (void)state;
    static const struct {
        uint8_t proto;
        uint8_t encap;
    } cases[] = { { 47, NP_ENCAP_GRE }, { 4, NP_ENCAP_IPIP }, { 41, NP_ENCAP_IPIP } };
    struct np_dec_stats st = { 0 };
    for (int i = 0; i < 3; i++) {
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        size_t ip = pk_ipv4(&p, cases[i].proto, 1, 0, 0);
        pk_fill(&p, 0x45, 40);
        pk_ipv4_done(&p, ip);
        assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.proto, cases[i].proto);
        assert_int_equal(d.encap, cases[i].encap);
        assert_false(d.l4_ok);
        assert_int_equal(d.payload_len, 40); /* the IP payload */
    }
    assert_int_equal(st.encap_gre, 1);
    assert_int_equal(st.encap_ipip, 2);
    assert_int_equal(st.ipv4, 3);
    assert_int_equal(st.ipv6, 0); /* the inner header is not decoded */
}

static void an_ipv4_header_cut_at_every_byte_is_truncated(void **state)
{
    (void)state;
    struct pkt p;
    build_udp(&p, 12, 0, 10);
    for (size_t len = 0; len < 32; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(pk_decode_cut(LT_IPV4, &p, len, &d, &st), NP_DEC_TRUNCATED);
        assert_int_equal(st.anom_ipv4_truncated, 1);
        assert_int_equal(st.ipv4, 1);
        assert_int_equal(d.ip_ver, len >= 20 ? 4 : 0);
        assert_false(d.l4_ok);
        assert_int_equal(st.udp, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_after_the_fixed_header_are_skipped),
        cmocka_unit_test(a_header_length_below_20_bytes_is_malformed),
        cmocka_unit_test(a_version_other_than_4_is_malformed),
        cmocka_unit_test(a_total_length_of_zero_is_taken_from_the_frame),
        cmocka_unit_test(a_total_length_below_the_header_is_malformed),
        cmocka_unit_test(a_total_length_beyond_the_frame_is_counted_and_the_frame_gives_the_length),
        cmocka_unit_test(a_snaplen_cut_keeps_the_wire_length_of_the_payload),
        cmocka_unit_test(a_first_fragment_is_reported_and_its_transport_left_alone),
        cmocka_unit_test(a_later_fragment_gives_its_offset_in_bytes),
        cmocka_unit_test(gre_and_ip_in_ip_are_counted_as_encapsulation_not_decoded),
        cmocka_unit_test(an_ipv4_header_cut_at_every_byte_is_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
