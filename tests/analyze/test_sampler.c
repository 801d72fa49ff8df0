/* tests/analyze/test_sampler.c: the sampler's decision per packet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "analyze/sampler.h"
#include "decode/decode.h"

#define SEC 1000000000ull

static struct np_sampler *make(uint32_t n, bool midstream)
{
    struct np_sampler_cfg c = { n, midstream, 60 * SEC, 16 };
    struct np_sampler *s = np_sampler_create(&c, NULL);
    assert_non_null(s);
    return s;
}

/* One packet on flow idx with these flags. */
static unsigned pkt(struct np_sampler *s, uint32_t idx, bool new_flow, bool after_close,
                    uint8_t flags)
{
    struct np_flow_pkt fp = { NULL, NULL, 0, idx, new_flow, after_close, 0, flags, 1 };
    return np_sampler_packet(s, &fp);
}

static void a_session_takes_its_first_n_packets_from_the_syn(void **state)
{
    (void)state;
    struct np_sampler *s = make(3, false);
    assert_int_equal(pkt(s, 0, true, false, NP_TCP_SYN), NP_SAMPLE_START | NP_SAMPLE_TAKE);
    assert_int_equal(pkt(s, 0, false, false, NP_TCP_SYN | NP_TCP_ACK), NP_SAMPLE_TAKE);
    assert_int_equal(pkt(s, 0, false, false, NP_TCP_ACK), NP_SAMPLE_TAKE | NP_SAMPLE_FULL);
    assert_int_equal(pkt(s, 0, false, false, NP_TCP_ACK | NP_TCP_PSH), 0);
    const struct np_sampler_stats *st = np_sampler_stats(s);
    assert_int_equal(st->sessions_seen, 1);
    assert_int_equal(st->sessions_full, 1);
    assert_int_equal(st->pkts_taken, 3);
    assert_int_equal(st->pkts_passed, 1);
    np_sampler_destroy(s);
}

static void a_connection_whose_syn_was_not_seen_is_passed_over(void **state)
{
    (void)state;
    struct np_sampler *s = make(3, false);
    assert_int_equal(pkt(s, 1, true, false, NP_TCP_ACK), 0);
    assert_int_equal(pkt(s, 1, false, false, NP_TCP_ACK | NP_TCP_PSH), 0);
    assert_int_equal(np_sampler_stats(s)->sessions_seen, 0);
    np_sampler_destroy(s);
}

static void midstream_samples_from_the_first_packet_seen(void **state)
{
    (void)state;
    struct np_sampler *s = make(2, true);
    assert_int_equal(pkt(s, 1, true, false, NP_TCP_ACK), NP_SAMPLE_START | NP_SAMPLE_TAKE);
    assert_int_equal(pkt(s, 1, false, false, NP_TCP_ACK), NP_SAMPLE_TAKE | NP_SAMPLE_FULL);
    np_sampler_destroy(s);
}

static void a_syn_after_a_syn_ack_starts_the_session_there(void **state)
{
    (void)state;
    struct np_sampler *s = make(5, false);
    assert_int_equal(pkt(s, 2, true, false, NP_TCP_SYN | NP_TCP_ACK), 0); /* reordered */
    assert_int_equal(pkt(s, 2, false, false, NP_TCP_SYN), NP_SAMPLE_START | NP_SAMPLE_TAKE);
    np_sampler_destroy(s);
}

static void packets_after_the_session_closed_are_passed_over(void **state)
{
    (void)state;
    struct np_sampler *s = make(10, false);
    pkt(s, 3, true, false, NP_TCP_SYN);
    assert_int_equal(pkt(s, 3, false, false, NP_TCP_RST), NP_SAMPLE_TAKE);
    assert_int_equal(pkt(s, 3, false, true, NP_TCP_RST), 0);
    assert_int_equal(pkt(s, 3, false, true, NP_TCP_SYN), 0); /* retransmitted SYN */
    np_sampler_destroy(s);
}

static void a_new_flow_on_a_reused_index_starts_fresh(void **state)
{
    (void)state;
    struct np_sampler *s = make(1, false);
    pkt(s, 4, true, false, NP_TCP_SYN);
    assert_int_equal(pkt(s, 4, false, false, NP_TCP_ACK), 0);
    assert_int_equal(pkt(s, 4, true, false, NP_TCP_SYN),
                     NP_SAMPLE_START | NP_SAMPLE_TAKE | NP_SAMPLE_FULL);
    assert_int_equal(np_sampler_stats(s)->sessions_seen, 2);
    np_sampler_destroy(s);
}

static void an_evicted_session_is_counted_and_an_evicted_non_session_is_not(void **state)
{
    (void)state;
    struct np_sampler *s = make(3, false);
    pkt(s, 5, true, false, NP_TCP_SYN);
    pkt(s, 6, true, false, NP_TCP_ACK);
    np_sampler_flow_end(s, 5, NP_END_EVICTION);
    np_sampler_flow_end(s, 6, NP_END_EVICTION);
    np_sampler_flow_end(s, 5, NP_END_TIMEOUT);
    assert_int_equal(np_sampler_stats(s)->sessions_evicted, 1);
    np_sampler_destroy(s);
}

static void the_tracker_configuration_follows_the_sampler(void **state)
{
    (void)state;
    struct np_sampler_cfg c = { 10, false, 7 * SEC, 1234 };
    struct np_track_cfg tc;
    np_sampler_track_cfg(&c, &tc);
    assert_true(tc.tcp_only);
    assert_int_equal(tc.timeout_ns[NP_FLOW_CLASS_TCP], 7 * SEC);
    assert_int_equal(tc.timeout_ns[NP_FLOW_CLASS_CLOSED], 7 * SEC);
    assert_int_equal(tc.max_flows, 1234);
    assert_true(tc.finish_any_order);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_session_takes_its_first_n_packets_from_the_syn),
        cmocka_unit_test(a_connection_whose_syn_was_not_seen_is_passed_over),
        cmocka_unit_test(midstream_samples_from_the_first_packet_seen),
        cmocka_unit_test(a_syn_after_a_syn_ack_starts_the_session_there),
        cmocka_unit_test(packets_after_the_session_closed_are_passed_over),
        cmocka_unit_test(a_new_flow_on_a_reused_index_starts_fresh),
        cmocka_unit_test(an_evicted_session_is_counted_and_an_evicted_non_session_is_not),
        cmocka_unit_test(the_tracker_configuration_follows_the_sampler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
