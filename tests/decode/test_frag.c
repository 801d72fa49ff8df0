/* tests/decode/test_frag.c: IP fragment reassembly (frag.c): order,
 * duplicates, overlaps, timeouts, bounds, and the round trip through
 * np_decode() and np_decode_ip_payload_wire(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "decode/frag.h"
#include "pkt.h"

#define SEC 1000000000ull

static uint8_t datagram[65535 + 100]; /* the bytes fragments are cut from */

static void fill_datagram(void)
{
    for (size_t i = 0; i < sizeof(datagram); i++)
        datagram[i] = (uint8_t)(i * 7 + i / 251);
}

/* A fragment view as np_decode() gives it: bytes [off, off + len) of
 * 'datagram', of which cap are captured. */
static struct np_dpkt frag(uint8_t ver, uint32_t id, uint32_t off, uint32_t len, bool more,
                           uint32_t cap)
{
    struct np_dpkt d;
    memset(&d, 0, sizeof(d));
    d.l3 = ver == 4 ? NP_L3_IPV4 : NP_L3_IPV6;
    d.ip_ver = ver;
    d.proto = 17;
    memcpy(d.src, ver == 4 ? A4 : A6, ver == 4 ? 4 : 16);
    memcpy(d.dst, ver == 4 ? B4 : B6, ver == 4 ? 4 : 16);
    d.is_frag = true;
    d.frag_id = id;
    d.frag_off = off;
    d.frag_more = more;
    d.frag_data = &datagram[off];
    d.frag_len = cap;
    d.frag_wire_len = len;
    return d;
}

static bool add(struct np_frag_table *t, uint32_t id, uint32_t off, uint32_t len, bool more,
                uint64_t ts, struct np_frag_done *done)
{
    struct np_dpkt d = frag(4, id, off, len, more, len);
    return np_frag_add(t, &d, ts, len + 34, len + 34, done);
}

static int setup(void **state)
{
    fill_datagram();
    struct np_frag_table *t = np_frag_create(NULL, NULL);
    assert_non_null(t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    np_frag_destroy(*state);
    return 0;
}

static void in_order_fragments_complete_on_the_last(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    assert_false(add(t, 1, 0, 1480, true, 1, &done));
    assert_false(add(t, 1, 1480, 1480, true, 2, &done));
    assert_int_equal(np_frag_pending(t), 1);
    assert_true(add(t, 1, 2960, 40, false, 3, &done));
    assert_int_equal(done.len, 3000);
    assert_int_equal(done.wire_len, 3000);
    assert_memory_equal(done.data, datagram, 3000);
    assert_int_equal(done.proto, 17);
    assert_int_equal(done.n_frames, 3);
    assert_int_equal(done.frames_wire_bytes, 3000 + 3 * 34);
    assert_int_equal(done.first_ts_ns, 1);
    assert_int_equal(np_frag_pending(t), 0);
    assert_int_equal(np_frag_get_stats(t)->completed, 1);
}

static void out_of_order_fragments_complete_when_the_last_hole_fills(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    assert_false(add(t, 2, 4000, 500, false, 1, &done));
    assert_false(add(t, 2, 2000, 2000, true, 2, &done));
    assert_false(add(t, 2, 1000, 1000, true, 3, &done));
    assert_true(add(t, 2, 0, 1000, true, 4, &done));
    assert_int_equal(done.len, 4500);
    assert_memory_equal(done.data, datagram, 4500);
    assert_int_equal(done.n_frames, 4);
}

static void duplicates_before_completion_count_as_frames_and_overlaps(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    assert_false(add(t, 3, 0, 800, true, 1, &done));
    assert_false(add(t, 3, 0, 800, true, 2, &done));
    assert_true(add(t, 3, 800, 200, false, 3, &done));
    assert_int_equal(done.n_frames, 3);
    assert_int_equal(done.frames_wire_bytes, 800 + 800 + 200 + 3 * 34);
    assert_int_equal(np_frag_get_stats(t)->overlaps, 1);
}

static void overlapping_bytes_keep_the_first_copy(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    static uint8_t evil[600];
    memset(evil, 'E', sizeof(evil));
    assert_false(add(t, 4, 0, 1000, true, 1, &done));
    struct np_dpkt d = frag(4, 4, 600, 600, false, 600);
    d.frag_data = evil; /* bytes 600..1199, the first 400 of them already held */
    assert_true(np_frag_add(t, &d, 2, 634, 634, &done));
    assert_int_equal(done.len, 1200);
    assert_memory_equal(done.data, datagram, 1000);
    assert_memory_equal(&done.data[1000], evil, 200);
    assert_int_equal(np_frag_get_stats(t)->overlaps, 1);
}

static void a_fragment_after_completion_starts_a_datagram_that_times_out(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    assert_false(add(t, 5, 0, 1000, true, 1 * SEC, &done));
    assert_true(add(t, 5, 1000, 8, false, 2 * SEC, &done));
    assert_false(add(t, 5, 0, 1000, true, 3 * SEC, &done)); /* late duplicate */
    assert_int_equal(np_frag_pending(t), 1);
    assert_int_equal(np_frag_expire(t, 33 * SEC), 0); /* exactly 30 s: not yet */
    assert_int_equal(np_frag_expire(t, 33 * SEC + 1), 1);
    assert_int_equal(np_frag_pending(t), 0);
    assert_int_equal(np_frag_get_stats(t)->timeouts, 1);
}

static void a_fragment_for_a_timed_out_datagram_starts_afresh(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    assert_false(add(t, 6, 0, 1000, true, 1 * SEC, &done));
    /* No expire call in between: the lookup notices the age. */
    assert_false(add(t, 6, 1000, 8, false, 40 * SEC, &done));
    assert_int_equal(np_frag_get_stats(t)->timeouts, 1);
    assert_int_equal(np_frag_pending(t), 1);
    assert_true(add(t, 6, 0, 1000, true, 41 * SEC, &done));
    assert_int_equal(done.n_frames, 2);
}

static void expiry_is_bounded_per_call(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    for (uint32_t id = 0; id < 100; id++)
        assert_false(add(t, 1000 + id, 0, 8, true, 1, &done));
    assert_int_equal(np_frag_expire(t, 100 * SEC), NP_FRAG_EXPIRE_PER_CALL);
    assert_int_equal(np_frag_pending(t), 100 - NP_FRAG_EXPIRE_PER_CALL);
    assert_int_equal(np_frag_expire(t, 100 * SEC), 100 - NP_FRAG_EXPIRE_PER_CALL);
    assert_int_equal(np_frag_pending(t), 0);
}

static void the_datagram_bound_evicts_the_oldest(void **state)
{
    (void)state;
    struct np_frag_cfg cfg = { .max_datagrams = 4 };
    struct np_frag_table *t = np_frag_create(&cfg, NULL);
    struct np_frag_done done;
    for (uint32_t id = 0; id < 6; id++)
        assert_false(add(t, id, 0, 100, true, id, &done));
    assert_int_equal(np_frag_pending(t), 4);
    assert_int_equal(np_frag_get_stats(t)->evicted, 2);
    assert_false(add(t, 0, 100, 8, false, 10, &done)); /* id 0 was evicted */
    assert_true(add(t, 5, 100, 8, false, 11, &done));
    np_frag_destroy(t);
}

static void the_byte_bound_evicts_the_oldest(void **state)
{
    (void)state;
    struct np_frag_cfg cfg = { .max_bytes = 8 * NP_FRAG_CHUNK };
    struct np_frag_table *t = np_frag_create(&cfg, NULL);
    struct np_frag_done done;
    /* Each first fragment holds 3 chunks: the third datagram needs room. */
    assert_false(add(t, 1, 0, 3 * NP_FRAG_CHUNK, true, 1, &done));
    assert_false(add(t, 2, 0, 3 * NP_FRAG_CHUNK, true, 2, &done));
    assert_false(add(t, 3, 0, 3 * NP_FRAG_CHUNK, true, 3, &done));
    assert_int_equal(np_frag_get_stats(t)->evicted, 1);
    assert_int_equal(np_frag_pending(t), 2);
    assert_true(add(t, 3, 3 * NP_FRAG_CHUNK, 10, false, 4, &done));
    assert_memory_equal(done.data, datagram, 3 * NP_FRAG_CHUNK + 10);
    /* A datagram larger than the whole pool is dropped, not looped on. */
    assert_false(add(t, 9, 0, 9 * NP_FRAG_CHUNK, true, 5, &done));
    assert_int_equal(np_frag_pending(t), 0);
    np_frag_destroy(t);
}

static void a_fragment_ending_past_65535_bytes_is_too_big(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    assert_false(add(t, 7, 65528, 16, false, 1, &done));
    assert_int_equal(np_frag_get_stats(t)->too_big, 1);
    assert_int_equal(np_frag_pending(t), 0);
    assert_false(add(t, 7, 0, 65528, true, 1, &done));
    assert_true(add(t, 7, 65528, 7, false, 1, &done)); /* exactly 65535 */
    assert_int_equal(done.len, 65535);
    assert_memory_equal(done.data, datagram, 65535);
}

static void inconsistent_fragments_are_ignored_and_counted(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    assert_false(add(t, 8, 1000, 100, false, 1, &done)); /* ends at 1100 */
    assert_false(add(t, 8, 1000, 200, false, 1, &done)); /* a second, different end */
    assert_false(add(t, 8, 1100, 100, true, 1, &done));  /* beyond the end */
    assert_false(add(t, 8, 0, 0, true, 1, &done));       /* empty */
    assert_int_equal(np_frag_get_stats(t)->bad, 3);
    assert_true(add(t, 8, 0, 1000, true, 1, &done));
    assert_int_equal(done.n_frames, 2);
}

static void too_many_holes_are_refused(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    for (uint32_t i = 0; i < NP_FRAG_MAX_RANGES; i++)
        assert_false(add(t, 9, 16 * i + 8, 8, true, 1, &done));
    assert_false(add(t, 9, 16 * NP_FRAG_MAX_RANGES + 8, 8, true, 1, &done));
    assert_int_equal(np_frag_get_stats(t)->bad, 1);
    /* Filling holes merges ranges: the datagram still completes. */
    for (uint32_t i = 0; i < NP_FRAG_MAX_RANGES; i++)
        assert_false(add(t, 9, 16 * i, 8, true, 1, &done));
    assert_true(add(t, 9, 16 * NP_FRAG_MAX_RANGES, 8, false, 1, &done));
    assert_int_equal(done.len, 16 * NP_FRAG_MAX_RANGES + 8);
    assert_memory_equal(done.data, datagram, done.len);
}

static void ipv4_keys_on_the_protocol_and_ipv6_does_not(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    struct np_dpkt a = frag(4, 10, 0, 800, true, 800);
    struct np_dpkt b = frag(4, 10, 800, 8, false, 8);
    b.proto = 6;
    assert_false(np_frag_add(t, &a, 1, 900, 900, &done));
    assert_false(np_frag_add(t, &b, 1, 100, 100, &done)); /* another datagram */
    assert_int_equal(np_frag_pending(t), 2);

    a = frag(6, 10, 0, 800, true, 800);
    a.proto = 60; /* the offset-0 fragment's next header counts */
    b = frag(6, 10, 800, 8, false, 8);
    b.proto = 17;
    assert_false(np_frag_add(t, &b, 1, 100, 100, &done));
    assert_true(np_frag_add(t, &a, 1, 900, 900, &done));
    assert_int_equal(done.proto, 60);
}

static void a_fragment_cut_by_the_snaplen_completes_a_truncated_datagram(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    struct np_dpkt a = frag(4, 11, 0, 1480, true, 96);
    struct np_dpkt b = frag(4, 11, 1480, 520, false, 520);
    assert_false(np_frag_add(t, &b, 1, 554, 554, &done));
    assert_true(np_frag_add(t, &a, 2, 1514, 1514, &done));
    assert_int_equal(done.len, 96);
    assert_int_equal(done.wire_len, 2000);
    assert_memory_equal(done.data, datagram, 96);
    assert_int_equal(np_frag_get_stats(t)->truncated, 1);
}

static void a_view_that_is_not_a_fragment_is_refused(void **state)
{
    struct np_frag_table *t = *state;
    struct np_frag_done done;
    struct np_dpkt d = frag(4, 12, 0, 100, true, 100);
    d.is_frag = false;
    assert_false(np_frag_add(t, &d, 1, 100, 100, &done));
    assert_int_equal(np_frag_get_stats(t)->bad, 1);
}

static void create_rejects_absurd_bounds_and_destroy_takes_null(void **state)
{
    (void)state;
    struct np_frag_cfg cfg = { .max_datagrams = UINT32_MAX };
    struct np_err err = { 0 };
    assert_null(np_frag_create(&cfg, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    np_frag_destroy(NULL);
}

/* Frames of an IPv6/UDP datagram whose fragmentable part starts with a
 * destination options header, cut into three fragments, decoded from link
 * type 229 and reassembled: the completing frame gets the UDP flow. */
static void ipv6_fragments_decoded_from_frames_reassemble_to_udp(void **state)
{
    struct np_frag_table *t = *state;
    struct pkt whole = { .n = 0 };
    pk_ext(&whole, 17, 0);
    pk_udp_payload(&whole, 5353, 5353, 'm', 2000);

    static const uint32_t cut[][2] = { { 1232, 784 }, { 0, 616 }, { 616, 616 } };
    struct np_dec_stats st = { 0 };
    struct np_frag_done done;
    bool completed = false;
    for (int i = 0; i < 3; i++) {
        struct pkt f = { .n = 0 };
        size_t ip = pk_ipv6(&f, 44);
        pk_frag6(&f, 60, (uint16_t)cut[i][0], i != 0, 0x01020304);
        pk_bytes(&f, &whole.b[cut[i][0]], cut[i][1]);
        pk_ipv6_done(&f, ip);
        struct np_dpkt d;
        assert_int_equal(pk_decode(229, &f, &d, &st), NP_DEC_OK);
        assert_true(d.is_frag);
        assert_int_equal(d.proto, 60);
        completed = np_frag_add(t, &d, (uint64_t)i, (uint32_t)f.n, (uint32_t)f.n, &done);
        if (completed) {
            assert_int_equal(i, 2);
            assert_int_equal(np_decode_ip_payload_wire(done.proto, done.data, done.len,
                                                       done.wire_len, &d, &st),
                             NP_DEC_OK);
            assert_true(d.l4_ok);
            assert_int_equal(d.proto, 17);
            assert_int_equal(d.sport, 5353);
            assert_int_equal(d.payload_len, 2000);
            assert_int_equal(d.payload_wire_len, 2000);
            assert_int_equal(done.n_frames, 3);
        }
    }
    assert_true(completed);
    assert_int_equal(st.frags, 3);
    assert_int_equal(st.ipv6, 3);
    assert_int_equal(st.udp, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(in_order_fragments_complete_on_the_last),
        T(out_of_order_fragments_complete_when_the_last_hole_fills),
        T(duplicates_before_completion_count_as_frames_and_overlaps),
        T(overlapping_bytes_keep_the_first_copy),
        T(a_fragment_after_completion_starts_a_datagram_that_times_out),
        T(a_fragment_for_a_timed_out_datagram_starts_afresh),
        T(expiry_is_bounded_per_call),
        T(the_datagram_bound_evicts_the_oldest),
        T(the_byte_bound_evicts_the_oldest),
        T(a_fragment_ending_past_65535_bytes_is_too_big),
        T(inconsistent_fragments_are_ignored_and_counted),
        T(too_many_holes_are_refused),
        T(ipv4_keys_on_the_protocol_and_ipv6_does_not),
        T(a_fragment_cut_by_the_snaplen_completes_a_truncated_datagram),
        T(a_view_that_is_not_a_fragment_is_refused),
        T(create_rejects_absurd_bounds_and_destroy_takes_null),
        T(ipv6_fragments_decoded_from_frames_reassemble_to_udp),
    };
    return cmocka_run_group_tests(tests, NULL, pk_teardown);
}
