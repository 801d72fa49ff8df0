/* tests/decode/test_tcp.c: the TCP header and options (tcp.c), on IPv4
 * (link type 228). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pkt.h"

enum {
    LT_IPV4 = 228,
};

/* IPv4 / TCP with the given options and n bytes of payload. */
static void build(struct pkt *p, const uint8_t *opt, size_t opt_len, size_t n)
{
    p->n = 0;
    size_t ip = pk_ipv4(p, 6, 1, 0, 0);
    pk_tcp(p, 12345, 80, 0xfffffff0, 0x10, NP_TCP_SYN, opt, opt_len);
    pk_fill(p, 'p', n);
    pk_ipv4_done(p, ip);
}

static enum np_dec decode_opts(const uint8_t *opt, size_t opt_len, struct np_dpkt *d,
                               struct np_dec_stats *st)
{
    struct pkt p;
    build(&p, opt, opt_len, 3);
    return pk_decode(LT_IPV4, &p, d, st);
}

static void mss_window_scale_sack_permitted_and_timestamps_are_read(void **state)
{
    (void)state;
    static const uint8_t opt[] = {
        2, 4,  0x23, 0x28,                   /* MSS 9000 */
        4, 2,                                /* SACK permitted */
        8, 10, 0,    0,    0, 1, 0, 0, 0, 2, /* timestamps 1, 2 */
        1,                                   /* NOP */
        3, 3,  14,                           /* window scale 14 */
    };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    assert_int_equal(decode_opts(opt, sizeof(opt), &d, &st), NP_DEC_OK);
    assert_true(d.l4_ok);
    assert_int_equal(d.tcp_hlen, 40);
    assert_int_equal(d.seq, 0xfffffff0);
    assert_int_equal(d.opt.mss, 9000);
    assert_true(d.opt.sack_permitted);
    assert_true(d.opt.has_ts);
    assert_int_equal(d.opt.ts_val, 1);
    assert_int_equal(d.opt.ts_ecr, 2);
    assert_true(d.opt.has_wscale);
    assert_int_equal(d.opt.wscale, 14);
    assert_int_equal(d.payload_len, 3);
    assert_int_equal(st.anom_tcp_bad_option, 0);
}

static void sack_blocks_are_kept_up_to_the_bound(void **state)
{
    (void)state;
    uint8_t opt[36] = { 1, 1, 5, 34 };
    for (int i = 0; i < 8; i++) {
        opt[4 + 4 * i + 3] = (uint8_t)(i + 1);
    }
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    assert_int_equal(decode_opts(opt, sizeof(opt), &d, &st), NP_DEC_OK);
    assert_int_equal(d.opt.n_sack, NP_MAX_SACK);
    for (int i = 0; i < NP_MAX_SACK; i++) {
        assert_int_equal(d.opt.sack[i][0], 2 * i + 1);
        assert_int_equal(d.opt.sack[i][1], 2 * i + 2);
    }
}

static void end_of_option_list_stops_parsing(void **state)
{
    (void)state;
    static const uint8_t opt[] = { 0, 2, 4, 5, 0xb4, 1, 1, 1 };
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    assert_int_equal(decode_opts(opt, sizeof(opt), &d, &st), NP_DEC_OK);
    assert_int_equal(d.opt.mss, 0);
    assert_int_equal(st.anom_tcp_bad_option, 0);
}

static void a_bad_option_length_is_counted_and_the_packet_kept(void **state)
{
    (void)state;
    static const uint8_t opts[][8] = {
        { 3, 1, 0, 0, 2, 4, 5, 0xb4 }, /* length below 2 */
        { 1, 1, 1, 5, 10, 0, 0, 0 },   /* SACK runs past the data offset */
        { 2, 3, 5, 2, 4, 5, 0xb4, 0 }, /* MSS with length 3 */
        { 8, 8, 0, 0, 0, 1, 0, 0 },    /* timestamps with length 8 */
        { 1, 1, 1, 1, 1, 1, 1, 0x1e }, /* kind with no length byte */
    };
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(decode_opts(opts[i], 8, &d, &st), NP_DEC_OK);
        assert_int_equal(st.anom_tcp_bad_option, 1);
        assert_true(d.l4_ok);
        assert_int_equal(d.opt.mss, 0);
        assert_false(d.opt.has_ts);
        assert_int_equal(d.payload_len, 3);
    }
}

static void a_data_offset_below_5_is_malformed(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build(&p, NULL, 0, 3);
    p.b[20 + 12] = 0x40;
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_MALFORMED);
    assert_int_equal(st.anom_tcp_bad_offset, 1);
    assert_int_equal(st.tcp, 1); /* reached, as in tshark's protocol chain */
    assert_false(d.l4_ok);
}

static void a_data_offset_beyond_the_ip_payload_is_malformed(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build(&p, NULL, 0, 3);
    p.b[20 + 12] = 0xf0; /* 60 bytes, but only 23 are in the IP payload */
    assert_int_equal(pk_decode(LT_IPV4, &p, &d, &st), NP_DEC_MALFORMED);
    assert_int_equal(st.anom_tcp_bad_offset, 1);
    assert_false(d.l4_ok);
}

static void options_cut_by_the_snaplen_keep_the_header_and_count_truncation(void **state)
{
    (void)state;
    static const uint8_t opt[] = { 2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 9, 1, 1, 1, 0 };
    struct pkt p;
    build(&p, opt, sizeof(opt), 100);
    for (size_t len = 40; len < 60; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(pk_decode_cut(LT_IPV4, &p, len, &d, &st), NP_DEC_TRUNCATED);
        assert_true(d.l4_ok);
        assert_int_equal(d.sport, 12345);
        assert_int_equal(st.anom_tcp_truncated, 1);
        assert_int_equal(st.anom_tcp_bad_option, 0);
        assert_int_equal(d.opt.mss, len >= 44 ? 1460 : 0);
        assert_int_equal(d.opt.has_ts, len >= 56);
        assert_int_equal(d.payload_len, 0);
        assert_int_equal(d.payload_wire_len, 100);
    }
}

static void a_tcp_header_cut_at_every_byte_is_truncated(void **state)
{
    (void)state;
    struct pkt p;
    build(&p, NULL, 0, 10);
    for (size_t len = 20; len < 40; len++) {
        struct np_dpkt d;
        struct np_dec_stats st = { 0 };
        assert_int_equal(pk_decode_cut(LT_IPV4, &p, len, &d, &st), NP_DEC_TRUNCATED);
        assert_false(d.l4_ok);
        assert_int_equal(st.tcp, 1);
        assert_int_equal(st.anom_tcp_truncated, 1);
    }
}

static void the_payload_wire_length_comes_from_the_ip_length(void **state)
{
    (void)state;
    struct pkt p;
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    build(&p, NULL, 0, 1400);
    assert_int_equal(pk_decode_cut(LT_IPV4, &p, 54, &d, &st), NP_DEC_OK);
    assert_int_equal(d.payload_len, 14);
    assert_int_equal(d.payload_wire_len, 1400);
}

static void a_reassembled_ipv4_payload_is_decoded_as_tcp(void **state)
{
    (void)state;
    struct pkt p = { .n = 0 };
    struct np_dpkt d = { .ip_ver = 4 };
    struct np_dec_stats st = { 0 };
    pk_tcp(&p, 1, 2, 3, 4, NP_TCP_PSH | NP_TCP_ACK, NULL, 0);
    pk_fill(&p, 'z', 3000);
    assert_int_equal(np_decode_ip_payload(6, p.b, (uint32_t)p.n, &d, &st), NP_DEC_OK);
    assert_true(d.l4_ok);
    assert_int_equal(d.payload_len, 3000);
    assert_int_equal(st.tcp, 1);
    /* Only 100 of the bytes known: the wire length still says 3000. */
    assert_int_equal(np_decode_ip_payload_wire(6, p.b, 120, (uint32_t)p.n, &d, &st), NP_DEC_OK);
    assert_int_equal(d.payload_len, 100);
    assert_int_equal(d.payload_wire_len, 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mss_window_scale_sack_permitted_and_timestamps_are_read),
        cmocka_unit_test(sack_blocks_are_kept_up_to_the_bound),
        cmocka_unit_test(end_of_option_list_stops_parsing),
        cmocka_unit_test(a_bad_option_length_is_counted_and_the_packet_kept),
        cmocka_unit_test(a_data_offset_below_5_is_malformed),
        cmocka_unit_test(a_data_offset_beyond_the_ip_payload_is_malformed),
        cmocka_unit_test(options_cut_by_the_snaplen_keep_the_header_and_count_truncation),
        cmocka_unit_test(a_tcp_header_cut_at_every_byte_is_truncated),
        cmocka_unit_test(the_payload_wire_length_comes_from_the_ip_length),
        cmocka_unit_test(a_reassembled_ipv4_payload_is_decoded_as_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
