/* tests/decode/test_eth.c: Ethernet, VLAN tags, ARP and the ethertype
 * dispatch (eth.c, vlan.c, arp.c, decode.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pkt.h"

enum {
    LT_ETH = 1,
};

static const uint8_t tcp_opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 }; /* MSS 1460, NOP, WS 7 */

/* Ethernet / [tags] / IPv4 / TCP with 5 bytes of payload and 6 of padding. */
static void build_tcp(struct pkt *p, const uint16_t *tpid, const uint16_t *tci, int n_tags)
{
    memset(p, 0, sizeof(*p));
    pk_eth(p, n_tags > 0 ? tpid[0] : 0x0800);
    for (int i = 0; i < n_tags; i++)
        pk_vlan(p, tci[i], i + 1 < n_tags ? tpid[i + 1] : 0x0800);
    size_t ip = pk_ipv4(p, 6, 1, 0x4000, 0);
    pk_tcp(p, 40000, 80, 1000, 2000, NP_TCP_SYN | NP_TCP_ACK, tcp_opts, sizeof(tcp_opts));
    pk_bytes(p, "hello", 5);
    pk_ipv4_done(p, ip);
    pk_fill(p, 0, 6); /* Ethernet padding: not payload */
}

static void ethernet_ipv4_tcp_frame_is_decoded_to_the_transport_layer(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_tcp(&p, NULL, NULL, 0);

    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.l3, NP_L3_IPV4);
    assert_int_equal(d.ethertype, 0x0800);
    assert_int_equal(d.vlan, NP_VLAN_NONE);
    assert_int_equal(d.n_vlan, 0);
    assert_int_equal(d.ip_ver, 4);
    assert_int_equal(d.ip_off, 14);
    assert_int_equal(d.ttl, 64);
    assert_memory_equal(d.src, A4, 4);
    assert_memory_equal(d.dst, B4, 4);
    assert_int_equal(d.proto, 6);
    assert_false(d.is_frag);
    assert_true(d.l4_ok);
    assert_int_equal(d.sport, 40000);
    assert_int_equal(d.dport, 80);
    assert_int_equal(d.seq, 1000);
    assert_int_equal(d.ack, 2000);
    assert_int_equal(d.tcp_flags, NP_TCP_SYN | NP_TCP_ACK);
    assert_int_equal(d.tcp_hlen, 28);
    assert_int_equal(d.win, 65535);
    assert_int_equal(d.opt.mss, 1460);
    assert_true(d.opt.has_wscale);
    assert_int_equal(d.opt.wscale, 7);
    assert_int_equal(d.payload_len, 5);
    assert_int_equal(d.payload_wire_len, 5);
    assert_memory_equal(d.payload, "hello", 5);
    assert_int_equal(st.frames, 1);
    assert_int_equal(st.eth, 1);
    assert_int_equal(st.ipv4, 1);
    assert_int_equal(st.tcp, 1);
    assert_int_equal(st.vlan, 0);
}

static void an_8023_length_field_means_llc_and_an_other_l3(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    pk_eth(&p, 38);                  /* 802.3 length */
    pk_bytes(&p, "\x42\x42\x03", 3); /* LLC for STP */
    pk_fill(&p, 0, 35);

    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.l3, NP_L3_OTHER);
    assert_int_equal(d.ip_ver, 0);
    assert_int_equal(st.other_l3, 1);
}

static void an_unknown_ethertype_is_an_other_l3(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    pk_eth(&p, 0x88cc); /* LLDP */
    pk_fill(&p, 0, 30);

    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.l3, NP_L3_OTHER);
    assert_int_equal(d.ethertype, 0x88cc);
    assert_int_equal(st.other_l3, 1);
}

static void arp_and_rarp_are_recognised_and_counted(void **state)
{
    (void)state;
    static const uint16_t types[] = { 0x0806, 0x8035 };
    for (int i = 0; i < 2; i++) {
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        pk_eth(&p, types[i]);
        pk_be16(&p, 1);      /* Ethernet */
        pk_be16(&p, 0x0800); /* IPv4 */
        pk_u8(&p, 6);
        pk_u8(&p, 4);
        pk_be16(&p, 1); /* request */
        pk_fill(&p, 0xaa, 20);

        assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.l3, NP_L3_ARP);
        assert_int_equal(st.arp, 1);
        assert_int_equal(st.anom_arp_truncated, 0);

        /* Cut inside the addresses: still ARP, counted as truncated. */
        assert_int_equal(pk_decode_cut(LT_ETH, &p, p.n - 1, &d, &st), NP_DEC_TRUNCATED);
        assert_int_equal(d.l3, NP_L3_ARP);
        assert_int_equal(st.arp, 2);
        assert_int_equal(st.anom_arp_truncated, 1);
    }
}

static void one_8021q_tag_keeps_its_12_bit_id_and_counts_the_frame_once(void **state)
{
    (void)state;
    static const uint16_t tpid[] = { 0x8100 };
    static const uint16_t tci[] = { 0xe000 | 0x1000 | 100 }; /* PCP 7, DEI, id 100 */
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_tcp(&p, tpid, tci, 1);

    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.vlan, 100);
    assert_int_equal(d.n_vlan, 1);
    assert_int_equal(d.ip_off, 18);
    assert_int_equal(d.ethertype, 0x0800);
    assert_true(d.l4_ok);
    assert_int_equal(st.vlan, 1);
    assert_int_equal(st.tcp, 1);
}

static void stacked_8021ad_and_9100_tags_keep_the_outer_id(void **state)
{
    (void)state;
    static const uint16_t tpid[][2] = { { 0x88a8, 0x8100 }, { 0x9100, 0x8100 } };
    static const uint16_t tci[] = { 10, 20 };
    for (int i = 0; i < 2; i++) {
        struct pkt p;
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        build_tcp(&p, tpid[i], tci, 2);

        assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.vlan, 10);
        assert_int_equal(d.n_vlan, 2);
        assert_int_equal(d.ip_off, 22);
        assert_int_equal(d.sport, 40000);
        assert_int_equal(st.vlan, 1); /* frames with a tag, not tags */
    }
}

static void four_tags_are_followed_and_a_fifth_is_too_deep(void **state)
{
    (void)state;
    static const uint16_t tpid[] = { 0x88a8, 0x8100, 0x8100, 0x8100, 0x8100 };
    static const uint16_t tci[] = { 1, 2, 3, 4, 5 };
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };

    build_tcp(&p, tpid, tci, NP_MAX_VLAN);
    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.n_vlan, NP_MAX_VLAN);
    assert_int_equal(d.vlan, 1);
    assert_true(d.l4_ok);

    build_tcp(&p, tpid, tci, NP_MAX_VLAN + 1);
    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_UNSUPPORTED);
    assert_int_equal(d.n_vlan, NP_MAX_VLAN + 1);
    assert_int_equal(d.vlan, 1);
    assert_int_equal(d.l3, NP_L3_OTHER);
    assert_int_equal(d.ip_ver, 0);
    assert_int_equal(st.anom_vlan_too_deep, 1);
    assert_int_equal(st.vlan, 2);
}

static void pppoe_session_and_mpls_are_counted_as_encapsulation(void **state)
{
    (void)state;
    static const struct {
        uint16_t type;
        uint8_t encap;
    } cases[] = {
        { 0x8864, NP_ENCAP_PPPOE },
        { 0x8847, NP_ENCAP_MPLS },
        { 0x8848, NP_ENCAP_MPLS },
    };
    struct np_dec_stats st = { 0 };
    for (int i = 0; i < 3; i++) {
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        pk_eth(&p, cases[i].type);
        pk_fill(&p, 0x45, 40);
        assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.l3, NP_L3_OTHER);
        assert_int_equal(d.encap, cases[i].encap);
        assert_int_equal(d.ip_ver, 0);
    }
    assert_int_equal(st.encap_pppoe, 1);
    assert_int_equal(st.encap_mpls, 2);
}

static void a_frame_cut_inside_the_ethernet_header_or_a_tag_is_truncated(void **state)
{
    (void)state;
    static const uint16_t tpid[] = { 0x8100, 0x88a8 };
    static const uint16_t tci[] = { 5, 6 };
    struct pkt p;
    build_tcp(&p, tpid, tci, 2);
    for (size_t len = 0; len < 22; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(pk_decode_cut(LT_ETH, &p, len, &d, &st), NP_DEC_TRUNCATED);
        assert_int_equal(st.anom_link_truncated, 1);
        assert_int_equal(d.ip_ver, 0);
        assert_false(d.l4_ok);
        assert_int_equal(st.vlan, len >= 14 ? 1 : 0);
        assert_int_equal(d.vlan, len >= 18 ? 5 : NP_VLAN_NONE);
    }
}

static void ethernet_padding_after_the_ip_datagram_is_not_payload(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    pk_eth(&p, 0x0800);
    size_t ip = pk_ipv4(&p, 6, 1, 0, 0);
    pk_tcp(&p, 1, 2, 0, 0, NP_TCP_RST, NULL, 0);
    pk_ipv4_done(&p, ip);
    pk_fill(&p, 0xee, 6); /* 60-byte minimum frame */

    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.payload_len, 0);
    assert_int_equal(d.payload_wire_len, 0);
    assert_int_equal(st.anom_ipv4_bad_total_len, 0);
}

static void the_view_is_reset_between_frames(void **state)
{
    (void)state;
    static const uint16_t tpid[] = { 0x8100 };
    static const uint16_t tci[] = { 7 };
    struct pkt p, q = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build_tcp(&p, tpid, tci, 1);
    assert_int_equal(pk_decode(LT_ETH, &p, &d, &st), NP_DEC_OK);
    pk_eth(&q, 0x88cc);
    assert_int_equal(pk_decode(LT_ETH, &q, &d, &st), NP_DEC_OK);
    assert_int_equal(d.vlan, NP_VLAN_NONE);
    assert_int_equal(d.n_vlan, 0);
    assert_int_equal(d.ip_ver, 0);
    assert_int_equal(d.proto, 0);
    assert_false(d.l4_ok);
    assert_int_equal(d.sport, 0);
    assert_int_equal(d.opt.mss, 0);
    assert_null(d.payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ethernet_ipv4_tcp_frame_is_decoded_to_the_transport_layer),
        cmocka_unit_test(an_8023_length_field_means_llc_and_an_other_l3),
        cmocka_unit_test(an_unknown_ethertype_is_an_other_l3),
        cmocka_unit_test(arp_and_rarp_are_recognised_and_counted),
        cmocka_unit_test(one_8021q_tag_keeps_its_12_bit_id_and_counts_the_frame_once),
        cmocka_unit_test(stacked_8021ad_and_9100_tags_keep_the_outer_id),
        cmocka_unit_test(four_tags_are_followed_and_a_fifth_is_too_deep),
        cmocka_unit_test(pppoe_session_and_mpls_are_counted_as_encapsulation),
        cmocka_unit_test(a_frame_cut_inside_the_ethernet_header_or_a_tag_is_truncated),
        cmocka_unit_test(ethernet_padding_after_the_ip_datagram_is_not_payload),
        cmocka_unit_test(the_view_is_reset_between_frames),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
