/* tests/decode/test_link.c: the link types other than Ethernet: BSD
 * loopback (0, 108), raw IP (12, 101, 228, 229), Linux SLL and SLL2
 * (link.c, sll.c, decode.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pkt.h"

/* IPv4/UDP or IPv6/UDP, 4 bytes of payload, appended to p. */
static void add_udp(struct pkt *p, int ver)
{
    size_t ip = ver == 4 ? pk_ipv4(p, 17, 1, 0, 0) : pk_ipv6(p, 17);
    size_t u = pk_udp(p, 5353, 53);
    pk_bytes(p, "abcd", 4);
    pk_udp_done(p, u);
    if (ver == 4)
        pk_ipv4_done(p, ip);
    else
        pk_ipv6_done(p, ip);
}

static void expect_udp(const struct np_dpkt *d, int ver, uint32_t ip_off)
{
    assert_int_equal(d->l3, ver == 4 ? NP_L3_IPV4 : NP_L3_IPV6);
    assert_int_equal(d->ip_ver, ver);
    assert_int_equal(d->ip_off, ip_off);
    assert_true(d->l4_ok);
    assert_int_equal(d->proto, 17);
    assert_int_equal(d->sport, 5353);
    assert_int_equal(d->dport, 53);
    assert_int_equal(d->payload_len, 4);
}

static void null_family_in_either_byte_order_selects_ipv4_or_ipv6(void **state)
{
    (void)state;
    static const struct {
        uint32_t af;
        int ver;
    } cases[] = { { 2, 4 }, { 24, 6 }, { 28, 6 }, { 30, 6 } };
    for (int i = 0; i < 4; i++) {
        for (int le = 0; le < 2; le++) {
            struct pkt p = { .n = 0 };
            struct np_dpkt d;
            struct np_dec_stats st = { 0 };
            if (le)
                pk_le32(&p, cases[i].af);
            else
                pk_be32(&p, cases[i].af);
            add_udp(&p, cases[i].ver);
            assert_int_equal(pk_decode(0, &p, &d, &st), NP_DEC_OK);
            expect_udp(&d, cases[i].ver, 4);
            assert_int_equal(d.ethertype, 0);
        }
    }
}

static void null_header_of_old_linux_holds_an_ethertype(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    pk_bytes(&p, "\x0f\x00\x08\x00", 4); /* as in null_loopback.pcap, frame 3 */
    add_udp(&p, 4);
    assert_int_equal(pk_decode(0, &p, &d, &st), NP_DEC_OK);
    expect_udp(&d, 4, 4);
    assert_int_equal(d.ethertype, 0x0800);
}

static void null_header_of_irix_holds_a_16_bit_family(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    pk_bytes(&p, "\x00\x18\x00\x00", 4); /* AF_INET6 (24) in the first two bytes */
    add_udp(&p, 6);
    assert_int_equal(pk_decode(0, &p, &d, &st), NP_DEC_OK);
    expect_udp(&d, 6, 4);
}

static void null_with_an_unknown_family_or_ppp_is_an_other_l3(void **state)
{
    (void)state;
    static const char *const hdr[] = { "\x07\x00\x00\x00", "\xff\x03\x00\x21" };
    for (int i = 0; i < 2; i++) {
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        pk_bytes(&p, hdr[i], 4);
        add_udp(&p, 4);
        assert_int_equal(pk_decode(0, &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.l3, NP_L3_OTHER);
        assert_int_equal(st.other_l3, 1);
        assert_int_equal(st.ipv4, 0);
    }
}

static void loop_family_is_read_in_network_order_only(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    pk_be32(&p, 24);
    add_udp(&p, 6);
    assert_int_equal(pk_decode(108, &p, &d, &st), NP_DEC_OK);
    expect_udp(&d, 6, 4);

    p.n = 0;
    pk_le32(&p, 2);
    add_udp(&p, 4);
    assert_int_equal(pk_decode(108, &p, &d, &st), NP_DEC_OK);
    assert_int_equal(d.l3, NP_L3_OTHER);
}

static void raw_ip_takes_the_version_from_the_first_nibble(void **state)
{
    (void)state;
    static const uint16_t lts[] = { 12, 101 };
    for (int i = 0; i < 2; i++) {
        for (int ver = 4; ver <= 6; ver += 2) {
            struct pkt p = { .n = 0 };
            struct np_dpkt d;
            struct np_dec_stats st = { 0 };
            add_udp(&p, ver);
            assert_int_equal(pk_decode(lts[i], &p, &d, &st), NP_DEC_OK);
            expect_udp(&d, ver, 0);
            assert_int_equal(d.ethertype, 0);
        }
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        pk_fill(&p, 0x50, 40);
        assert_int_equal(pk_decode(lts[i], &p, &d, &st), NP_DEC_OK);
        assert_int_equal(d.l3, NP_L3_OTHER);
        assert_int_equal(pk_decode_cut(lts[i], &p, 0, &d, &st), NP_DEC_TRUNCATED);
        assert_int_equal(st.anom_link_truncated, 1);
    }
}

static void link_types_228_and_229_are_ipv4_and_ipv6(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    add_udp(&p, 4);
    assert_int_equal(pk_decode(228, &p, &d, &st), NP_DEC_OK);
    expect_udp(&d, 4, 0);
    /* IPv6 bytes under link type 228 are a bad IPv4 version, not IPv6. */
    p.n = 0;
    add_udp(&p, 6);
    assert_int_equal(pk_decode(228, &p, &d, &st), NP_DEC_MALFORMED);
    assert_int_equal(st.anom_ipv4_bad_version, 1);
    assert_int_equal(pk_decode(229, &p, &d, &st), NP_DEC_OK);
    expect_udp(&d, 6, 0);
}

static void put_sll(struct pkt *p, uint16_t hatype, uint16_t proto)
{
    pk_be16(p, 0);      /* packet type: to us */
    pk_be16(p, hatype); /* ARPHRD_ */
    pk_be16(p, 6);
    pk_fill(p, 0x11, 8);
    pk_be16(p, proto);
}

static void put_sll2(struct pkt *p, uint16_t hatype, uint16_t proto)
{
    pk_be16(p, proto);
    pk_be16(p, 0);
    pk_be32(p, 3); /* interface index */
    pk_be16(p, hatype);
    pk_u8(p, 4); /* outgoing */
    pk_u8(p, 6);
    pk_fill(p, 0x22, 8);
}

static void sll_and_sll2_protocol_types_are_ethertypes(void **state)
{
    (void)state;
    static const uint16_t hatypes[] = { 1, 772, 65534, 778 }; /* ether, loopback, none, ipgre */
    for (int two = 0; two < 2; two++) {
        for (int i = 0; i < 4; i++) {
            struct pkt p = { .n = 0 };
            struct np_dpkt d;
            struct np_dec_stats st = { 0 };
            (two ? put_sll2 : put_sll)(&p, hatypes[i], 0x86dd);
            add_udp(&p, 6);
            assert_int_equal(pk_decode(two ? 276 : 113, &p, &d, &st), NP_DEC_OK);
            expect_udp(&d, 6, two ? 20 : 16);
            assert_int_equal(d.ethertype, 0x86dd);
        }
        /* A VLAN tag that the kernel left in the frame. */
        struct pkt p = { .n = 0 };
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        (two ? put_sll2 : put_sll)(&p, 1, 0x8100);
        pk_vlan(&p, 42, 0x0800);
        add_udp(&p, 4);
        assert_int_equal(pk_decode(two ? 276 : 113, &p, &d, &st), NP_DEC_OK);
        expect_udp(&d, 4, two ? 24 : 20);
        assert_int_equal(d.vlan, 42);
    }
}

static void sll_netlink_and_linux_protocols_below_0x600_are_other_l3(void **state)
{
    (void)state;
    static const struct {
        uint16_t hatype, proto;
    } cases[] = {
        { 824, 0x0800 }, /* netlink: the protocol is a netlink family */
        { 803, 0x0800 }, /* radiotap */
        { 1, 0x0004 },   /* ETH_P_802_2: LLC */
        { 1, 0x000c },   /* ETH_P_CAN */
    };
    for (int two = 0; two < 2; two++) {
        for (int i = 0; i < 4; i++) {
            struct pkt p = { .n = 0 };
            struct np_dpkt d;
            struct np_dec_stats st = { 0 };
            (two ? put_sll2 : put_sll)(&p, cases[i].hatype, cases[i].proto);
            add_udp(&p, 4);
            assert_int_equal(pk_decode(two ? 276 : 113, &p, &d, &st), NP_DEC_OK);
            assert_int_equal(d.l3, NP_L3_OTHER);
            assert_int_equal(st.ipv4, 0);
        }
    }
}

static void cooked_and_loopback_headers_cut_at_every_byte_are_truncated(void **state)
{
    (void)state;
    static const uint16_t lts[] = { 113, 276, 0, 108 };
    static const size_t hlen[] = { 16, 20, 4, 4 };
    for (int i = 0; i < 4; i++) {
        struct pkt p = { .n = 0 };
        if (lts[i] == 113)
            put_sll(&p, 1, 0x0800);
        else if (lts[i] == 276)
            put_sll2(&p, 1, 0x0800);
        else
            pk_be32(&p, 2);
        add_udp(&p, 4);
        for (size_t len = 0; len < hlen[i]; len++) {
            struct np_dpkt d;
            struct np_dec_stats st = { 0 };
            assert_int_equal(pk_decode_cut(lts[i], &p, len, &d, &st), NP_DEC_TRUNCATED);
            assert_int_equal(st.anom_link_truncated, 1);
            assert_int_equal(d.l3, NP_L3_NONE);
        }
    }
}

static void an_unsupported_link_type_is_counted(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    add_udp(&p, 4);
    assert_int_equal(pk_decode(8, &p, &d, &st), NP_DEC_UNSUPPORTED); /* SLIP */
    assert_int_equal(st.anom_unsupported_linktype, 1);
    assert_int_equal(st.frames, 1);
    assert_int_equal(d.l3, NP_L3_NONE);
}

static void an_empty_frame_of_any_link_type_is_handled(void **state)
{
    (void)state;
    static const uint16_t lts[] = { 0, 1, 12, 101, 108, 113, 228, 229, 276 };
    for (size_t i = 0; i < sizeof(lts) / sizeof(lts[0]); i++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(np_decode(lts[i], NULL, 0, 60, &d, &st), NP_DEC_TRUNCATED);
        assert_int_equal(st.frames, 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_family_in_either_byte_order_selects_ipv4_or_ipv6),
        cmocka_unit_test(null_header_of_old_linux_holds_an_ethertype),
        cmocka_unit_test(null_header_of_irix_holds_a_16_bit_family),
        cmocka_unit_test(null_with_an_unknown_family_or_ppp_is_an_other_l3),
        cmocka_unit_test(loop_family_is_read_in_network_order_only),
        cmocka_unit_test(raw_ip_takes_the_version_from_the_first_nibble),
        cmocka_unit_test(link_types_228_and_229_are_ipv4_and_ipv6),
        cmocka_unit_test(sll_and_sll2_protocol_types_are_ethertypes),
        cmocka_unit_test(sll_netlink_and_linux_protocols_below_0x600_are_other_l3),
        cmocka_unit_test(cooked_and_loopback_headers_cut_at_every_byte_are_truncated),
        cmocka_unit_test(an_unsupported_link_type_is_counted),
        cmocka_unit_test(an_empty_frame_of_any_link_type_is_handled),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
