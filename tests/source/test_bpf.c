/* tests/source/test_bpf.c: one BPF expression over packets of several link
 * types (source/bpf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/packet.h"
#include "source/bpf.h"
#include "source/linktype.h"

/* An IPv4/UDP packet 192.0.2.1:1000 -> 192.0.2.2:dport, raw or after an
 * Ethernet header (ethertype 0x0800). */
static size_t udp_packet(uint8_t *b, bool ethernet, uint16_t dport)
{
    size_t n = 0;
    if (ethernet) {
        memset(b, 0x02, 12);
        b[12] = 0x08;
        b[13] = 0x00;
        n = 14;
    }
    static const uint8_t ip[20] = { 0x45, 0, 0,   28, 0, 0, 0,   0, 64, 17,
                                    0,    0, 192, 0,  2, 1, 192, 0, 2,  2 };
    memcpy(b + n, ip, sizeof(ip));
    n += sizeof(ip);
    const uint8_t udp[8] = { 0x03, 0xe8, (uint8_t)(dport >> 8), (uint8_t)dport, 0, 8, 0, 0 };
    memcpy(b + n, udp, sizeof(udp));
    return n + sizeof(udp);
}

static struct np_pkt pkt(const uint8_t *b, size_t n, uint16_t linktype)
{
    struct np_pkt p = {
        .data = b, .caplen = (uint32_t)n, .wirelen = (uint32_t)n, .linktype = linktype
    };
    return p;
}

static void a_bad_expression_is_a_usage_error_naming_it(void **state)
{
    (void)state;
    struct np_err err = { 0 };
    assert_null(np_bpf_create("udp port banana", NP_LINK_ETHERNET, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "bad filter 'udp port banana'"));
}

static void one_expression_matches_on_every_link_type_it_applies_to(void **state)
{
    (void)state;
    struct np_err err = { 0 };
    struct np_bpf *f = np_bpf_create("udp dst port 53", NP_LINK_ETHERNET, &err);
    assert_non_null(f);
    uint8_t b[64];
    for (int raw = 0; raw < 2; raw++) {
        uint16_t lt = raw ? NP_LINK_RAW : NP_LINK_ETHERNET;
        size_t n = udp_packet(b, !raw, 53);
        struct np_pkt p = pkt(b, n, lt);
        assert_true(np_bpf_match(f, &p));
        n = udp_packet(b, !raw, 54);
        p = pkt(b, n, lt);
        assert_false(np_bpf_match(f, &p));
    }
    assert_null(np_bpf_take_warning(f));
    np_bpf_destroy(f);
}

static void a_link_type_the_expression_cannot_apply_to_filters_out_with_one_warning(void **state)
{
    (void)state;
    struct np_err err = { 0 };
    struct np_bpf *f = np_bpf_create("ether host 02:02:02:02:02:02", NP_LINK_ETHERNET, &err);
    assert_non_null(f);
    uint8_t b[64];
    size_t n = udp_packet(b, true, 53);
    struct np_pkt p = pkt(b, n, NP_LINK_ETHERNET);
    assert_true(np_bpf_match(f, &p));
    n = udp_packet(b, false, 53);
    p = pkt(b, n, NP_LINK_RAW);
    assert_false(np_bpf_match(f, &p));
    const char *w = np_bpf_take_warning(f);
    assert_non_null(w);
    assert_non_null(strstr(w, "does not apply to link type"));
    assert_false(np_bpf_match(f, &p));
    assert_null(np_bpf_take_warning(f)); /* once per link type */
    np_bpf_destroy(f);
    np_bpf_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_bad_expression_is_a_usage_error_naming_it),
        cmocka_unit_test(one_expression_matches_on_every_link_type_it_applies_to),
        cmocka_unit_test(a_link_type_the_expression_cannot_apply_to_filters_out_with_one_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
