/* tests/decode/test_udp.c: the UDP header and UDP tunnels (udp.c), on IPv4
 * and IPv6 (link types 228, 229). */
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

static void build(struct pkt *p, uint16_t sport, uint16_t dport, size_t n)
{
    p->n = 0;
    size_t ip = pk_ipv4(p, 17, 1, 0, 0);
    pk_udp_payload(p, sport, dport, 'u', n);
    pk_ipv4_done(p, ip);
}

static void ports_and_payload_are_read(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build(&p, 68, 67, 300);
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_true(d.l4_ok);
    assert_int_equal(d.proto, 17);
    assert_int_equal(d.sport, 68);
    assert_int_equal(d.dport, 67);
    assert_int_equal(d.payload_len, 300);
    assert_int_equal(d.payload_wire_len, 300);
    assert_int_equal(d.encap, NP_ENCAP_NONE);
    assert_int_equal(st.udp, 1);
}

static void a_length_below_8_is_malformed(void **state)
{
    (void)state;
    for (uint16_t len = 1; len < 8; len++) {
        struct pkt p;
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        build(&p, 1, 2, 10);
        pk_set16(&p, 24, len);
        assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_MALFORMED);
        assert_int_equal(st.anom_udp_bad_len, 1);
        assert_false(d.l4_ok);
    }
}

static void a_length_beyond_the_ip_payload_is_counted_and_the_payload_is_what_is_there(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build(&p, 69, 69, 10);
    pk_set16(&p, 24, 12336); /* as in tftp-heapoverflow.pcap */
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(st.anom_udp_bad_len, 1);
    assert_true(d.l4_ok);
    assert_int_equal(d.payload_len, 10);
    assert_int_equal(d.payload_wire_len, 10);
}

static void a_length_shorter_than_the_ip_payload_ends_the_payload(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build(&p, 1, 2, 10);
    pk_set16(&p, 24, 12);
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.payload_len, 4);
    assert_int_equal(d.payload_wire_len, 4);
    assert_int_equal(st.anom_udp_bad_len, 0);
}

static void a_zero_length_over_ipv6_is_a_jumbogram_length(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    size_t ip = pk_ipv6(&p, 17);
    pk_udp(&p, 1, 2); /* length left 0 */
    pk_fill(&p, 'j', 30);
    pk_ipv6_done(&p, ip);
    assert_int_equal(pk_decode(LT_IPV6, &p, &d, &st), NP_DEC_OK);
    assert_true(d.l4_ok);
    assert_int_equal(d.payload_len, 30);
}

static void vxlan_geneve_and_gtpu_are_counted_and_the_udp_flow_decoded(void **state)
{
    (void)state;
    static const struct {
        uint16_t sport, dport;
        uint8_t encap;
    } cases[] = {
        { 50000, 4789, NP_ENCAP_VXLAN },
        { 50001, 6081, NP_ENCAP_GENEVE },
        { 2152, 2152, NP_ENCAP_GTPU },
        { 4789, 40000, NP_ENCAP_VXLAN },
    };
    struct np_dec_stats st = { 0 };
    for (int i = 0; i < 4; i++) {
        struct pkt p;
        struct np_dpkt d;
        build(&p, cases[i].sport, cases[i].dport, 50);
        assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_OK);
        assert_true(d.l4_ok);
        assert_int_equal(d.sport, cases[i].sport);
        assert_int_equal(d.dport, cases[i].dport);
        assert_int_equal(d.encap, cases[i].encap);
        assert_int_equal(d.payload_len, 50);
    }
    assert_int_equal(st.encap_vxlan, 2);
    assert_int_equal(st.encap_geneve, 1);
    assert_int_equal(st.encap_gtpu, 1);
    assert_int_equal(st.udp, 4);
}

static void a_udp_header_cut_at_every_byte_is_truncated(void **state)
{
    (void)state;
    struct pkt p;
    build(&p, 1, 2, 10);
    for (size_t len = 20; len < 28; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(pk_decode_cut(LT_IPV4, &p, len, &d, &st), NP_DEC_TRUNCATED);
        assert_false(d.l4_ok);
        assert_int_equal(st.udp, 1);
        assert_int_equal(st.anom_udp_truncated, 1);
    }
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    assert_int_equal(pk_decode_cut(LT_IPV4, &p, 28, &d, &st), NP_DEC_OK);
    assert_int_equal(d.payload_len, 0);
    assert_int_equal(d.payload_wire_len, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ports_and_payload_are_read),
        cmocka_unit_test(a_length_below_8_is_malformed),
        cmocka_unit_test(
                a_length_beyond_the_ip_payload_is_counted_and_the_payload_is_what_is_there),
        cmocka_unit_test(a_length_shorter_than_the_ip_payload_ends_the_payload),
        cmocka_unit_test(a_zero_length_over_ipv6_is_a_jumbogram_length),
        cmocka_unit_test(vxlan_geneve_and_gtpu_are_counted_and_the_udp_flow_decoded),
        cmocka_unit_test(a_udp_header_cut_at_every_byte_is_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
