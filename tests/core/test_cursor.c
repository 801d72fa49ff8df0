/* tests/core/test_cursor.c: the bounded cursor (core/cursor.h).
 *
 * Every reader at and one past the end, the sticky bad flag, sub-cursors
 * that cannot read the outer layer's trailer, and peek.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/cursor.h"

/* Asserts where c points, how much it may still read and its flag. */
static void assert_cur_at(const struct np_cur *c, const uint8_t *p, size_t left, bool bad)
{
    assert_ptr_equal(c->p, p);
    assert_int_equal(c->left, left);
    assert_int_equal(c->bad, bad);
}

static void make_covers_the_whole_buffer_and_is_not_bad(void **state)
{
    (void)state;
    const uint8_t buf[3] = { 1, 2, 3 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    assert_cur_at(&c, buf, 3, false);
}

static void readers_decode_big_and_little_endian_in_order(void **state)
{
    (void)state;
    const uint8_t buf[] = { 0xab, 0x12, 0x34, 0x12, 0x34, 0xde, 0xad,
                            0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0x7f };
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    assert_int_equal(np_cur_u8(&c), 0xab);
    assert_int_equal(np_cur_be16(&c), 0x1234);
    assert_int_equal(np_cur_le16(&c), 0x3412);
    assert_int_equal(np_cur_be32(&c), 0xdeadbeefu);
    assert_int_equal(np_cur_le32(&c), 0xefbeaddeu);
    assert_int_equal(np_cur_u8(&c), 0x7f);
    assert_cur_at(&c, buf + sizeof(buf), 0, false);
}

static void high_bits_survive_in_every_reader(void **state)
{
    (void)state;
    const uint8_t buf[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    assert_int_equal(np_cur_u8(&c), 0xff);
    assert_int_equal(np_cur_be16(&c), 0xffff);
    assert_int_equal(np_cur_le16(&c), 0xffff);
    assert_int_equal(np_cur_be32(&c), 0xffffffffu);
    assert_int_equal(np_cur_le32(&c), 0xffffffffu);
    assert_false(c.bad);
}

/* Which reader a table row exercises; its width is the bytes it needs. */
enum reader {
    R_U8,
    R_BE16,
    R_LE16,
    R_BE32,
    R_LE32,
    R_COPY4,
    R_SKIP3,
    R_PEEK0,
};

static const size_t reader_width[] = { 1, 2, 2, 4, 4, 4, 3, 1 };

/* Runs reader r; returns its value (copy: the 4 bytes big-endian; skip: 1). */
static uint64_t run_reader(struct np_cur *c, enum reader r)
{
    uint8_t d[4] = { 0x55, 0x55, 0x55, 0x55 };
    switch (r) {
    case R_U8:
        return np_cur_u8(c);
    case R_BE16:
        return np_cur_be16(c);
    case R_LE16:
        return np_cur_le16(c);
    case R_BE32:
        return np_cur_be32(c);
    case R_LE32:
        return np_cur_le32(c);
    case R_COPY4:
        np_cur_copy(c, d, sizeof(d));
        return (uint64_t)d[0] << 24 | (uint64_t)d[1] << 16 | (uint64_t)d[2] << 8 | d[3];
    case R_SKIP3:
        np_cur_skip(c, 3);
        return 1;
    case R_PEEK0:
        return np_cur_peek(c, 0);
    }
    return 0;
}

static void every_reader_succeeds_with_exactly_its_width_left(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 0x11, 0x22, 0x33, 0x44 };

    for (enum reader r = R_U8; r <= R_PEEK0; r++) {
        size_t w = reader_width[r];
        struct np_cur c = np_cur_make(buf + 4 - w, w);
        uint64_t v = run_reader(&c, r);

        assert_int_not_equal(v, 0);
        assert_false(c.bad);
        if (r == R_PEEK0)
            assert_cur_at(&c, buf + 4 - w, w, false); /* peek does not consume */
        else
            assert_cur_at(&c, buf + 4, 0, false);
    }
}

static void every_reader_one_byte_short_returns_zero_marks_bad_and_does_not_move(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 0x11, 0x22, 0x33, 0x44 };

    for (enum reader r = R_U8; r <= R_PEEK0; r++) {
        size_t w = reader_width[r];
        const uint8_t *start = buf + 4 - (w - 1);
        struct np_cur c = np_cur_make(start, w - 1);
        uint64_t v = run_reader(&c, r);

        if (r != R_SKIP3)
            assert_int_equal(v, 0);
        assert_cur_at(&c, start, w - 1, true);
    }
}

static void every_reader_on_an_empty_cursor_returns_zero_and_marks_bad(void **state)
{
    (void)state;
    const uint8_t buf[1] = { 0x99 };

    for (enum reader r = R_U8; r <= R_PEEK0; r++) {
        struct np_cur c = np_cur_make(buf, 0);
        uint64_t v = run_reader(&c, r);

        if (r != R_SKIP3)
            assert_int_equal(v, 0);
        assert_cur_at(&c, buf, 0, true);
    }
}

static void be16_past_end_fails_and_stays_failed(void **state)
{
    (void)state;
    const uint8_t buf[] = { 0x12 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    assert_int_equal(np_cur_be16(&c), 0);
    assert_true(c.bad);
    assert_int_equal(np_cur_u8(&c), 0); /* a byte is there, but c stays bad */
    assert_true(c.bad);
}

static void after_one_failed_read_every_reader_fails_although_bytes_remain(void **state)
{
    (void)state;
    const uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

    for (enum reader r = R_U8; r <= R_PEEK0; r++) {
        struct np_cur c = np_cur_make(buf, sizeof(buf));
        np_cur_skip(&c, 9); /* fails: 8 bytes remain */
        assert_cur_at(&c, buf, 8, true);

        uint64_t v = run_reader(&c, r);
        if (r != R_SKIP3)
            assert_int_equal(v, 0);
        assert_cur_at(&c, buf, 8, true);
    }
}

static void need_zero_is_true_at_the_end_and_false_once_bad(void **state)
{
    (void)state;
    const uint8_t buf[1] = { 1 };
    struct np_cur c = np_cur_make(buf, 1);

    assert_true(np_cur_need(&c, 1));
    assert_int_equal(np_cur_u8(&c), 1);
    assert_true(np_cur_need(&c, 0));
    assert_false(c.bad);
    assert_false(np_cur_need(&c, 1));
    assert_true(c.bad);
    assert_false(np_cur_need(&c, 0));
}

static void need_does_not_consume(void **state)
{
    (void)state;
    const uint8_t buf[2] = { 7, 8 };
    struct np_cur c = np_cur_make(buf, 2);

    assert_true(np_cur_need(&c, 2));
    assert_cur_at(&c, buf, 2, false);
}

static void need_of_a_huge_length_fails(void **state)
{
    (void)state;
    const uint8_t buf[2] = { 7, 8 };
    struct np_cur c = np_cur_make(buf, 2);

    assert_false(np_cur_need(&c, SIZE_MAX));
    assert_true(c.bad);
}

static void copy_past_the_end_zero_fills_the_whole_destination(void **state)
{
    (void)state;
    const uint8_t buf[3] = { 1, 2, 3 };
    uint8_t d[8];
    memset(d, 0xee, sizeof(d));
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    np_cur_copy(&c, d, 6);
    assert_true(c.bad);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(d[i], 0);
    assert_int_equal(d[6], 0xee); /* only n bytes are written */
    assert_cur_at(&c, buf, 3, true);
}

static void copy_of_zero_bytes_at_the_end_succeeds(void **state)
{
    (void)state;
    const uint8_t buf[1] = { 1 };
    uint8_t d[1] = { 0xee };
    struct np_cur c = np_cur_make(buf + 1, 0);

    np_cur_copy(&c, d, 0);
    assert_false(c.bad);
    assert_int_equal(d[0], 0xee);
}

static void skip_to_exactly_the_end_succeeds_and_one_more_fails(void **state)
{
    (void)state;
    const uint8_t buf[5] = { 0 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    np_cur_skip(&c, 5);
    assert_cur_at(&c, buf + 5, 0, false);
    np_cur_skip(&c, 1);
    assert_cur_at(&c, buf + 5, 0, true);
}

static void take_gives_a_sub_cursor_of_exactly_n_bytes_and_advances_past_them(void **state)
{
    (void)state;
    const uint8_t buf[6] = { 1, 2, 3, 4, 5, 6 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    np_cur_skip(&c, 1);
    struct np_cur sub = np_cur_take(&c, 3);
    assert_cur_at(&sub, buf + 1, 3, false);
    assert_cur_at(&c, buf + 4, 2, false);
    assert_int_equal(np_cur_u8(&sub), 2);
    assert_int_equal(np_cur_be16(&sub), 0x0304);
    assert_int_equal(np_cur_be16(&c), 0x0506);
}

static void sub_cursor_cannot_read_the_outer_layers_trailer(void **state)
{
    (void)state;
    /* 3 bytes of payload, then a 2-byte trailer the inner layer must not see. */
    const uint8_t buf[5] = { 0x0a, 0x0b, 0x0c, 0xee, 0xff };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    struct np_cur sub = np_cur_take(&c, 3);

    assert_int_equal(np_cur_be32(&sub), 0); /* would reach into the trailer */
    assert_true(sub.bad);
    assert_int_equal(np_cur_peek(&sub, 3), 0);
    np_cur_skip(&sub, 4);
    assert_cur_at(&sub, buf, 3, true);

    /* The outer cursor is unaffected by the inner failure. */
    assert_false(c.bad);
    assert_int_equal(np_cur_be16(&c), 0xeeff);
    assert_cur_at(&c, buf + 5, 0, false);
}

static void sub_cursor_reads_all_its_bytes_then_fails_at_its_own_end(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 1, 2, 3, 4 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    struct np_cur sub = np_cur_take(&c, 2);

    assert_int_equal(np_cur_u8(&sub), 1);
    assert_int_equal(np_cur_u8(&sub), 2);
    assert_false(sub.bad);
    assert_int_equal(np_cur_u8(&sub), 0); /* byte 3 is there, but not in sub */
    assert_true(sub.bad);
}

static void take_zero_bytes_gives_an_empty_good_sub_cursor(void **state)
{
    (void)state;
    const uint8_t buf[2] = { 1, 2 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    struct np_cur sub = np_cur_take(&c, 0);

    assert_cur_at(&sub, buf, 0, false);
    assert_cur_at(&c, buf, 2, false);
    assert_int_equal(np_cur_u8(&sub), 0);
    assert_true(sub.bad);
    assert_false(c.bad);
}

static void take_of_all_that_is_left_is_not_bad(void **state)
{
    (void)state;
    const uint8_t buf[3] = { 1, 2, 3 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    struct np_cur sub = np_cur_take(&c, 3);

    assert_cur_at(&sub, buf, 3, false);
    assert_cur_at(&c, buf + 3, 0, false);
}

static void take_more_than_is_left_gives_what_there_is_and_marks_both_bad(void **state)
{
    (void)state;
    const uint8_t buf[3] = { 1, 2, 3 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    np_cur_skip(&c, 1);
    struct np_cur sub = np_cur_take(&c, 5);

    assert_cur_at(&sub, buf + 1, 2, true);
    assert_true(c.bad);
    assert_int_equal(c.left, 0);
    assert_int_equal(np_cur_u8(&sub), 0); /* bad is sticky in the sub-cursor too */
}

static void take_from_a_bad_cursor_gives_an_empty_bad_sub_cursor(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 1, 2, 3, 4 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    np_cur_skip(&c, 10);
    struct np_cur sub = np_cur_take(&c, 2);

    assert_int_equal(sub.left, 0);
    assert_true(sub.bad);
    assert_true(c.bad);
    assert_int_equal(np_cur_u8(&sub), 0);
}

static void nested_take_is_bounded_by_the_inner_length(void **state)
{
    (void)state;
    const uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    struct np_cur mid = np_cur_take(&c, 6);
    struct np_cur inner = np_cur_take(&mid, 4);
    struct np_cur too_far = np_cur_take(&inner, 5);

    assert_cur_at(&too_far, buf, 4, true);
    assert_true(inner.bad);
    assert_false(mid.bad);
    assert_false(c.bad);
    assert_int_equal(np_cur_be16(&mid), 0x0506);
    assert_int_equal(np_cur_be16(&c), 0x0708);
}

static void take_upto_with_enough_bytes_behaves_like_take(void **state)
{
    (void)state;
    const uint8_t buf[5] = { 1, 2, 3, 4, 5 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    struct np_cur sub = np_cur_take_upto(&c, 3);

    assert_cur_at(&sub, buf, 3, false);
    assert_cur_at(&c, buf + 3, 2, false);
    assert_int_equal(np_cur_be32(&sub), 0); /* cannot read past its 3 bytes */
    assert_true(sub.bad);
    assert_false(c.bad);
}

static void take_upto_a_short_buffer_yields_what_there_is_and_marks_nothing_bad(void **state)
{
    (void)state;
    const uint8_t buf[3] = { 1, 2, 3 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    np_cur_skip(&c, 1);
    struct np_cur sub = np_cur_take_upto(&c, 100);

    assert_cur_at(&sub, buf + 1, 2, false);
    assert_cur_at(&c, buf + 3, 0, false);
    assert_int_equal(np_cur_be16(&sub), 0x0203);
    assert_int_equal(np_cur_u8(&sub), 0);
    assert_true(sub.bad);
    assert_false(c.bad);
}

static void take_upto_from_a_bad_cursor_yields_nothing_and_keeps_it_bad(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 1, 2, 3, 4 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));
    np_cur_skip(&c, 5);
    struct np_cur sub = np_cur_take_upto(&c, 2);

    assert_int_equal(sub.left, 0);
    assert_true(c.bad);
    assert_int_equal(c.left, 4);
    assert_int_equal(np_cur_u8(&sub), 0);
}

static void peek_reads_ahead_without_consuming(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 0xa0, 0xa1, 0xa2, 0xa3 };
    struct np_cur c = np_cur_make(buf, sizeof(buf));

    np_cur_skip(&c, 1);
    assert_int_equal(np_cur_peek(&c, 0), 0xa1);
    assert_int_equal(np_cur_peek(&c, 2), 0xa3);
    assert_int_equal(np_cur_peek(&c, 1), 0xa2);
    assert_cur_at(&c, buf + 1, 3, false);
    assert_int_equal(np_cur_u8(&c), 0xa1);
}

static void peek_at_the_first_index_past_the_end_returns_zero_and_marks_bad(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 0xa0, 0xa1, 0xa2, 0xa3 };
    struct np_cur c = np_cur_make(buf, 3); /* buf[3] exists but is not ours */

    assert_int_equal(np_cur_peek(&c, 3), 0);
    assert_cur_at(&c, buf, 3, true);
    assert_int_equal(np_cur_peek(&c, 0), 0); /* sticky */
}

/* BUG: np_cur_peek checks np_cur_need(c, i + 1), and i + 1 wraps to 0 for
 * i == SIZE_MAX, so the check passes and c->p[SIZE_MAX] (in practice the
 * byte before the cursor) is read. An index computed from untrusted input
 * (e.g. a length minus one with length 0) reaches this. */
static void peek_at_the_largest_index_returns_zero_and_marks_bad(void **state)
{
    (void)state;
    const uint8_t buf[4] = { 0xa0, 0xa1, 0xa2, 0xa3 };
    struct np_cur c = np_cur_make(buf + 1, 3);

    assert_int_equal(np_cur_peek(&c, SIZE_MAX), 0);
    assert_true(c.bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(make_covers_the_whole_buffer_and_is_not_bad),
        cmocka_unit_test(readers_decode_big_and_little_endian_in_order),
        cmocka_unit_test(high_bits_survive_in_every_reader),
        cmocka_unit_test(every_reader_succeeds_with_exactly_its_width_left),
        cmocka_unit_test(every_reader_one_byte_short_returns_zero_marks_bad_and_does_not_move),
        cmocka_unit_test(every_reader_on_an_empty_cursor_returns_zero_and_marks_bad),
        cmocka_unit_test(be16_past_end_fails_and_stays_failed),
        cmocka_unit_test(after_one_failed_read_every_reader_fails_although_bytes_remain),
        cmocka_unit_test(need_zero_is_true_at_the_end_and_false_once_bad),
        cmocka_unit_test(need_does_not_consume),
        cmocka_unit_test(need_of_a_huge_length_fails),
        cmocka_unit_test(copy_past_the_end_zero_fills_the_whole_destination),
        cmocka_unit_test(copy_of_zero_bytes_at_the_end_succeeds),
        cmocka_unit_test(skip_to_exactly_the_end_succeeds_and_one_more_fails),
        cmocka_unit_test(take_gives_a_sub_cursor_of_exactly_n_bytes_and_advances_past_them),
        cmocka_unit_test(sub_cursor_cannot_read_the_outer_layers_trailer),
        cmocka_unit_test(sub_cursor_reads_all_its_bytes_then_fails_at_its_own_end),
        cmocka_unit_test(take_zero_bytes_gives_an_empty_good_sub_cursor),
        cmocka_unit_test(take_of_all_that_is_left_is_not_bad),
        cmocka_unit_test(take_more_than_is_left_gives_what_there_is_and_marks_both_bad),
        cmocka_unit_test(take_from_a_bad_cursor_gives_an_empty_bad_sub_cursor),
        cmocka_unit_test(nested_take_is_bounded_by_the_inner_length),
        cmocka_unit_test(take_upto_with_enough_bytes_behaves_like_take),
        cmocka_unit_test(take_upto_a_short_buffer_yields_what_there_is_and_marks_nothing_bad),
        cmocka_unit_test(take_upto_from_a_bad_cursor_yields_nothing_and_keeps_it_bad),
        cmocka_unit_test(peek_reads_ahead_without_consuming),
        cmocka_unit_test(peek_at_the_first_index_past_the_end_returns_zero_and_marks_bad),
        cmocka_unit_test(peek_at_the_largest_index_returns_zero_and_marks_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
