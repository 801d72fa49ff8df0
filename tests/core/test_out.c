/* tests/core/test_out.c: buffered output and the hand-written formatters
 * (core/out.h).
 *
 * Formatters are compared with the libc functions they replace (snprintf,
 * inet_ntop, gmtime_r) over fixed cases and seeded pseudo-random inputs;
 * buffered output is read back from a tmpfile or a pipe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/out.h"
#include "testutil.h"

#define SENTINEL 0x7e

/* Runs a formatter into a sentinel-filled buffer, checks that it wrote
 * exactly the returned length, and NUL-terminates the result. */
#define FMT_INTO(buf, call)                                       \
    do {                                                          \
        memset((buf), SENTINEL, sizeof(buf));                     \
        size_t fmt_n_ = (call);                                   \
        assert_true(fmt_n_ < sizeof(buf));                        \
        assert_int_equal((unsigned char)(buf)[fmt_n_], SENTINEL); \
        (buf)[fmt_n_] = '\0';                                     \
        assert_int_equal(strlen(buf), fmt_n_);                    \
    } while (0)

/* ---- np_fmt_u64, np_fmt_hex64 ---- */

static void u64_formats_zero_as_one_digit(void **state)
{
    (void)state;
    char b[32];
    FMT_INTO(b, np_fmt_u64(b, 0));
    assert_string_equal(b, "0");
}

static void u64_formats_the_largest_value_in_twenty_digits(void **state)
{
    (void)state;
    char b[32];
    FMT_INTO(b, np_fmt_u64(b, UINT64_MAX));
    assert_string_equal(b, "18446744073709551615");
}

static void u64_matches_printf_at_every_power_of_ten_and_its_neighbours(void **state)
{
    (void)state;
    char b[32], want[32];
    uint64_t p = 1;
    for (int i = 0; i < 20; i++) {
        for (int d = -1; d <= 1; d++) {
            uint64_t v = p + (uint64_t)(int64_t)d;
            snprintf(want, sizeof(want), "%" PRIu64, v);
            FMT_INTO(b, np_fmt_u64(b, v));
            assert_string_equal(b, want);
        }
        if (i < 19)
            p *= 10;
    }
}

static void u64_matches_printf_for_random_values_of_every_magnitude(void **state)
{
    (void)state;
    char b[32], want[32];
    rng_seed(1);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rng_next() >> (rng_next() % 64);
        snprintf(want, sizeof(want), "%" PRIu64, v);
        FMT_INTO(b, np_fmt_u64(b, v));
        assert_string_equal(b, want);
    }
}

static void hex64_is_sixteen_lower_case_digits_with_leading_zeros(void **state)
{
    (void)state;
    char b[32];
    FMT_INTO(b, np_fmt_hex64(b, 0));
    assert_string_equal(b, "0000000000000000");
    FMT_INTO(b, np_fmt_hex64(b, UINT64_MAX));
    assert_string_equal(b, "ffffffffffffffff");
    FMT_INTO(b, np_fmt_hex64(b, 0x0123456789abcdefull));
    assert_string_equal(b, "0123456789abcdef");
    FMT_INTO(b, np_fmt_hex64(b, 0xa));
    assert_string_equal(b, "000000000000000a");
}

static void hex64_matches_printf_for_random_values(void **state)
{
    (void)state;
    char b[32], want[32];
    rng_seed(2);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rng_next() >> (rng_next() % 64);
        snprintf(want, sizeof(want), "%016" PRIx64, v);
        FMT_INTO(b, np_fmt_hex64(b, v));
        assert_string_equal(b, want);
    }
}

/* ---- np_fmt_ipv4, np_fmt_ipv6, np_fmt_ip ---- */

static void ipv4_formats_fixed_addresses(void **state)
{
    (void)state;
    static const struct {
        uint8_t a[4];
        const char *want;
    } cases[] = {
        { { 0, 0, 0, 0 }, "0.0.0.0" },           { { 255, 255, 255, 255 }, "255.255.255.255" },
        { { 10, 0, 0, 1 }, "10.0.0.1" },         { { 192, 168, 100, 7 }, "192.168.100.7" },
        { { 1, 20, 100, 200 }, "1.20.100.200" },
    };
    char b[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FMT_INTO(b, np_fmt_ipv4(b, cases[i].a));
        assert_string_equal(b, cases[i].want);
    }
}

static void ipv4_matches_inet_ntop_for_every_octet_value_and_random_addresses(void **state)
{
    (void)state;
    char b[32], want[INET_ADDRSTRLEN];
    uint8_t a[4];
    for (int pos = 0; pos < 4; pos++) {
        for (int v = 0; v < 256; v++) {
            memset(a, 0x01, sizeof(a));
            a[pos] = (uint8_t)v;
            assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
            FMT_INTO(b, np_fmt_ipv4(b, a));
            assert_string_equal(b, want);
        }
    }
    rng_seed(3);
    for (int i = 0; i < 50000; i++) {
        uint64_t r = rng_next();
        memcpy(a, &r, 4);
        assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
        FMT_INTO(b, np_fmt_ipv4(b, a));
        assert_string_equal(b, want);
    }
}

static void set_groups(uint8_t a[16], const unsigned w[8])
{
    for (int i = 0; i < 8; i++) {
        a[2 * i] = (uint8_t)(w[i] >> 8);
        a[2 * i + 1] = (uint8_t)w[i];
    }
}

/* Formats a with np_fmt_ipv6 and inet_ntop and requires both to agree. */
static void check_ipv6_like_inet_ntop(const uint8_t a[16])
{
    char b[64], want[INET6_ADDRSTRLEN];
    assert_non_null(inet_ntop(AF_INET6, a, want, sizeof(want)));
    FMT_INTO(b, np_fmt_ipv6(b, a));
    assert_true(strlen(b) <= 45);
    if (strcmp(b, want) != 0)
        fail_msg("np_fmt_ipv6 gives \"%s\", inet_ntop \"%s\"", b, want);
}

static void ipv6_formats_the_rfc5952_cases_exactly(void **state)
{
    (void)state;
    static const struct {
        unsigned w[8];
        const char *want;
    } cases[] = {
        { { 0, 0, 0, 0, 0, 0, 0, 0 }, "::" },
        { { 0, 0, 0, 0, 0, 0, 0, 1 }, "::1" },
        { { 0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304 }, "::ffff:1.2.3.4" },
        { { 0, 0, 0, 0, 0, 0, 0x0102, 0x0304 }, "::1.2.3.4" },
        { { 1, 0, 0, 0, 0, 0, 0, 0 }, "1::" },
        { { 1, 0, 0, 1, 0, 0, 0, 1 }, "1:0:0:1::1" },      /* longest run */
        { { 1, 0, 0, 1, 0, 0, 1, 1 }, "1::1:0:0:1:1" },    /* first on a tie */
        { { 1, 0, 2, 3, 4, 5, 6, 7 }, "1:0:2:3:4:5:6:7" }, /* one zero group stays */
        { { 0, 1, 2, 3, 4, 5, 6, 7 }, "0:1:2:3:4:5:6:7" }, /* ... also at the start */
        { { 1, 2, 3, 4, 5, 6, 7, 0 }, "1:2:3:4:5:6:7:0" }, /* ... and at the end */
        { { 0xfe80, 0, 0, 0, 0x0202, 0xb3ff, 0xfe1e, 0x8329 }, "fe80::202:b3ff:fe1e:8329" },
        { { 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 }, "2001:db8::1" },
        { { 0x2001, 0xdb8, 0, 0, 1, 0, 0, 1 }, "2001:db8::1:0:0:1" },
        { { 0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 1 },
          "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1" },
        { { 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff },
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
        { { 0xff02, 0, 0, 0, 0, 0, 0, 0xfb }, "ff02::fb" },
        { { 0, 0, 0, 0, 0, 0xffff, 0, 0 }, "::ffff:0.0.0.0" },
        { { 0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff }, "::ffff:255.255.255.255" },
        { { 0, 0, 0, 0, 0, 0, 0x0001, 0 }, "::0.1.0.0" },
        { { 0, 0, 0, 0, 0, 0xfffe, 0x0102, 0x0304 }, "::fffe:102:304" }, /* not mapped */
        { { 0, 0, 0, 0, 1, 0xffff, 0x0102, 0x0304 }, "::1:ffff:102:304" },
        { { 0x64, 0xff9b, 0, 0, 0, 0, 0x0102, 0x0304 }, "64:ff9b::102:304" },
        { { 0xabcd, 0x0abc, 0x00ab, 0x000a, 0, 0, 0, 0 }, "abcd:abc:ab:a::" },
    };
    char b[64];
    uint8_t a[16];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        set_groups(a, cases[i].w);
        FMT_INTO(b, np_fmt_ipv6(b, a));
        assert_string_equal(b, cases[i].want);
        check_ipv6_like_inet_ntop(a);
    }
}

/* A group value with 1 to 4 significant hex digits, or all ones. */
static unsigned random_group(void)
{
    switch (rng_next() % 5) {
    case 0:
        return 1 + (unsigned)(rng_next() % 0xf);
    case 1:
        return 0x10 + (unsigned)(rng_next() % 0xf0);
    case 2:
        return 0x100 + (unsigned)(rng_next() % 0xf00);
    case 3:
        return 0x1000 + (unsigned)(rng_next() % 0xf000);
    default:
        return 0xffff;
    }
}

static void ipv6_matches_inet_ntop_for_every_pattern_of_zero_groups(void **state)
{
    (void)state;
    unsigned w[8];
    uint8_t a[16];
    rng_seed(4);
    for (unsigned mask = 0; mask < 256; mask++) {
        for (int rep = 0; rep < 20; rep++) {
            for (int i = 0; i < 8; i++)
                w[i] = (mask >> i & 1) ? 0 : random_group();
            set_groups(a, w);
            check_ipv6_like_inet_ntop(a);
            /* The same pattern with group 5 as ffff: mapped when 0-4 are zero. */
            w[5] = 0xffff;
            set_groups(a, w);
            check_ipv6_like_inet_ntop(a);
        }
    }
}

static void ipv6_matches_inet_ntop_for_mapped_and_compatible_ipv4(void **state)
{
    (void)state;
    uint8_t a[16];
    rng_seed(5);
    for (int i = 0; i < 20000; i++) {
        memset(a, 0, sizeof(a));
        if (i % 2 == 0)
            a[10] = a[11] = 0xff;
        uint64_t r = rng_next();
        for (int k = 0; k < 4; k++) /* bytes of the IPv4 part are often zero */
            a[12 + k] = (r >> (8 * k + 32) & 3) == 0 ? 0 : (uint8_t)(r >> (8 * k));
        check_ipv6_like_inet_ntop(a);
    }
}

static void ipv6_matches_inet_ntop_for_random_addresses_with_zero_runs(void **state)
{
    (void)state;
    unsigned w[8];
    uint8_t a[16];
    rng_seed(6);
    for (int i = 0; i < 200000; i++) {
        unsigned zero_pct = (unsigned)(rng_next() % 90);
        for (int g = 0; g < 8; g++)
            w[g] = rng_next() % 100 < zero_pct ? 0 : random_group();
        set_groups(a, w);
        check_ipv6_like_inet_ntop(a);
    }
    for (int i = 0; i < 50000; i++) { /* uniformly random bytes */
        uint64_t r0 = rng_next(), r1 = rng_next();
        memcpy(a, &r0, 8);
        memcpy(a + 8, &r1, 8);
        check_ipv6_like_inet_ntop(a);
    }
}

static void ip_uses_the_first_four_bytes_for_version_4(void **state)
{
    (void)state;
    char b[64];
    uint8_t a[16] = { 192, 0, 2, 1, 0xde, 0xad };
    FMT_INTO(b, np_fmt_ip(b, 4, a));
    assert_string_equal(b, "192.0.2.1");
    FMT_INTO(b, np_fmt_ip(b, 6, a));
    assert_string_equal(b, "c000:201:dead::");
}

/* ---- np_fmt_rfc3339_ns, np_fmt_secs9 ---- */

static void rfc3339_formats_fixed_timestamps(void **state)
{
    (void)state;
    static const struct {
        uint64_t ts_ns;
        const char *want;
    } cases[] = {
        { 0, "1970-01-01T00:00:00.000000000Z" },
        { 1, "1970-01-01T00:00:00.000000001Z" },
        { 999999999, "1970-01-01T00:00:00.999999999Z" },
        { 86399999999999ull, "1970-01-01T23:59:59.999999999Z" },
        { 86400000000000ull, "1970-01-02T00:00:00.000000000Z" },
        { 68169600ull * 1000000000u, "1972-02-29T00:00:00.000000000Z" },
        { 946598400ull * 1000000000u + 86399000000000ull, "1999-12-31T23:59:59.000000000Z" },
        { 951782400ull * 1000000000u, "2000-02-29T00:00:00.000000000Z" },
        { 951782400ull * 1000000000u + 86400000000000ull, "2000-03-01T00:00:00.000000000Z" },
        { 4107456000ull * 1000000000u, "2100-02-28T00:00:00.000000000Z" },
        { 4107542400ull * 1000000000u, "2100-03-01T00:00:00.000000000Z" }, /* no 2100-02-29 */
        { 13574563200ull * 1000000000u, "2400-02-29T00:00:00.000000000Z" },
        { 2147483648ull * 1000000000u, "2038-01-19T03:14:08.000000000Z" },
        { 4294967296ull * 1000000000u, "2106-02-07T06:28:16.000000000Z" },
        { UINT64_MAX, "2554-07-21T23:34:33.709551615Z" },
    };
    char b[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FMT_INTO(b, np_fmt_rfc3339_ns(b, cases[i].ts_ns));
        assert_string_equal(b, cases[i].want);
    }
}

/* Formats ts_ns with np_fmt_rfc3339_ns and with gmtime_r plus the
 * nanoseconds by hand, and requires both to agree. */
static void check_rfc3339_like_gmtime(uint64_t ts_ns)
{
    char b[64], want[64];
    time_t secs = (time_t)(ts_ns / 1000000000u);
    struct tm tm;
    assert_non_null(gmtime_r(&secs, &tm));
    snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(ts_ns % 1000000000u));
    FMT_INTO(b, np_fmt_rfc3339_ns(b, ts_ns));
    assert_int_equal(strlen(b), 30);
    if (strcmp(b, want) != 0)
        fail_msg("np_fmt_rfc3339_ns(%" PRIu64 ") gives %s, gmtime_r %s", ts_ns, b, want);
}

static void rfc3339_matches_gmtime_on_every_day_a_u64_of_nanoseconds_reaches(void **state)
{
    (void)state;
    const uint64_t day_ns = 86400ull * 1000000000u;
    const uint64_t last_day = UINT64_MAX / day_ns;
    rng_seed(7);
    for (uint64_t d = 0; d <= last_day; d++) {
        uint64_t start = d * day_ns;
        check_rfc3339_like_gmtime(start);
        check_rfc3339_like_gmtime(start + rng_next() % day_ns);
        if (d < last_day)
            check_rfc3339_like_gmtime(start + day_ns - 1);
    }
}

static void rfc3339_matches_gmtime_near_the_largest_value_and_at_random(void **state)
{
    (void)state;
    for (uint64_t k = 0; k < 100000; k++)
        check_rfc3339_like_gmtime(UINT64_MAX - k * 999983u);
    rng_seed(8);
    for (int i = 0; i < 200000; i++)
        check_rfc3339_like_gmtime(rng_next());
}

static void secs9_formats_seconds_with_nine_decimals(void **state)
{
    (void)state;
    static const struct {
        uint64_t ns;
        const char *want;
    } cases[] = {
        { 0, "0.000000000" },
        { 1, "0.000000001" },
        { 999999999, "0.999999999" },
        { 1000000000, "1.000000000" },
        { 12000000001ull, "12.000000001" },
        { 1234567890123456789ull, "1234567890.123456789" },
        { UINT64_MAX, "18446744073.709551615" },
    };
    char b[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FMT_INTO(b, np_fmt_secs9(b, cases[i].ns));
        assert_string_equal(b, cases[i].want);
    }
}

static void secs9_matches_printf_for_random_values(void **state)
{
    (void)state;
    char b[64], want[64];
    rng_seed(9);
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rng_next() >> (rng_next() % 64);
        snprintf(want, sizeof(want), "%" PRIu64 ".%09" PRIu64, v / 1000000000u, v % 1000000000u);
        FMT_INTO(b, np_fmt_secs9(b, v));
        assert_string_equal(b, want);
    }
}

/* ---- struct np_out ---- */

/* An np_out writing to a tmpfile that the test reads back. */
struct capture {
    FILE *f;
    struct np_out o;
};

static void capture_open(struct capture *c, size_t cap_bytes)
{
    c->f = tmpfile();
    assert_non_null(c->f);
    assert_int_equal(np_out_init(&c->o, fileno(c->f), cap_bytes), 0);
}

/* Bytes that reached the file so far (NUL-terminated; free it). */
static char *file_bytes(FILE *f, size_t *len)
{
    struct stat st;
    assert_int_equal(fstat(fileno(f), &st), 0);
    size_t n = (size_t)st.st_size;
    char *p = malloc(n + 1);
    assert_non_null(p);
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fileno(f), p + got, n - got, (off_t)got);
        assert_true(r > 0);
        got += (size_t)r;
    }
    p[n] = '\0';
    *len = n;
    return p;
}

/* Flushes (which must succeed), finishes c and returns all it wrote. */
static char *capture_close(struct capture *c, size_t *len)
{
    assert_int_equal(np_out_flush(&c->o), 0);
    np_out_fini(&c->o);
    char *p = file_bytes(c->f, len);
    fclose(c->f);
    return p;
}

/* Writes s with f into a fresh capture and compares the result. */
static void assert_out(void (*f)(struct np_out *, const char *, size_t), const char *s, size_t n,
                       const char *want, size_t want_len)
{
    struct capture c;
    capture_open(&c, 4096);
    f(&c.o, s, n);
    size_t len;
    char *got = capture_close(&c, &len);
    if (len != want_len || memcmp(got, want, len) != 0)
        fail_msg("wrote \"%s\" (%zu bytes), want \"%s\" (%zu bytes)", got, len, want, want_len);
    free(got);
}

static void out_buffers_until_flush(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, 4096);
    np_out_str(&c.o, "hello");
    np_out_ch(&c.o, '!');

    size_t len;
    char *before = file_bytes(c.f, &len);
    assert_int_equal(len, 0);
    free(before);

    char *after = capture_close(&c, &len);
    assert_int_equal(len, 6);
    assert_string_equal(after, "hello!");
    free(after);
}

static void flush_of_an_empty_buffer_writes_nothing_and_succeeds(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, 0);
    assert_int_equal(np_out_flush(&c.o), 0);
    assert_int_equal(np_out_flush(&c.o), 0);
    size_t len;
    char *p = capture_close(&c, &len);
    assert_int_equal(len, 0);
    free(p);
}

static void fini_of_a_zeroed_out_is_a_no_op(void **state)
{
    (void)state;
    struct np_out o;
    memset(&o, 0, sizeof(o));
    np_out_fini(&o);
    assert_null(o.buf);
    assert_int_equal(o.len, 0);
}

static void writes_larger_than_the_buffer_arrive_whole_and_in_order(void **state)
{
    (void)state;
    static const size_t chunks[] = { 1, 255, 256, 257, 1000, 70000, 3, 300000, 511, 512, 513 };
    size_t total = 0;
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
        total += chunks[i];
    uint8_t *src = malloc(total);
    assert_non_null(src);
    rng_seed(10);
    for (size_t i = 0; i < total; i++)
        src[i] = (uint8_t)rng_next();

    for (size_t cap = 1; cap <= 4096; cap *= 4) {
        struct capture c;
        capture_open(&c, cap);
        size_t off = 0;
        for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
            np_out_mem(&c.o, src + off, chunks[i]);
            off += chunks[i];
        }
        size_t len;
        char *got = capture_close(&c, &len);
        assert_int_equal(len, total);
        assert_memory_equal(got, src, total);
        free(got);
    }
    free(src);
}

static void formatted_writes_across_buffer_boundaries_match_printf(void **state)
{
    (void)state;
    size_t want_cap = 1 << 22, want_len = 0;
    char *want = malloc(want_cap);
    assert_non_null(want);
    struct capture c;
    capture_open(&c, 256); /* small: fields straddle every buffer offset */
    rng_seed(11);
    for (int i = 0; i < 20000; i++) {
        uint64_t v = rng_next() >> (rng_next() % 64);
        uint8_t a[16];
        uint64_t r0 = rng_next(), r1 = rng_next();
        memcpy(a, &r0, 8);
        memcpy(a + 8, &r1, 8);
        char ip4[INET_ADDRSTRLEN], ip6[INET6_ADDRSTRLEN], ts[64];
        assert_non_null(inet_ntop(AF_INET, a, ip4, sizeof(ip4)));
        assert_non_null(inet_ntop(AF_INET6, a, ip6, sizeof(ip6)));
        time_t secs = (time_t)(v / 1000000000u);
        struct tm tm;
        assert_non_null(gmtime_r(&secs, &tm));
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(v % 1000000000u));
        int k = snprintf(want + want_len, want_cap - want_len,
                         "%" PRIu64 " %016" PRIx64 " %s %s %s %" PRIu64 ".%09" PRIu64 "%c", v, v,
                         ip4, ip6, ts, v / 1000000000u, v % 1000000000u, (char)('a' + i % 26));
        assert_true(k > 0 && (size_t)k < want_cap - want_len);
        want_len += (size_t)k;

        np_out_u64(&c.o, v);
        np_out_ch(&c.o, ' ');
        np_out_hex64(&c.o, v);
        np_out_ch(&c.o, ' ');
        np_out_ip(&c.o, 4, a);
        np_out_ch(&c.o, ' ');
        np_out_ip(&c.o, 6, a);
        np_out_ch(&c.o, ' ');
        np_out_rfc3339_ns(&c.o, v);
        np_out_ch(&c.o, ' ');
        np_out_secs9(&c.o, v);
        np_out_ch(&c.o, (char)('a' + i % 26));
    }
    size_t len;
    char *got = capture_close(&c, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
    free(want);
}

static void out_to_a_pipe_arrives_only_after_flush(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    struct np_out o;
    assert_int_equal(np_out_init(&o, fds[1], 1024), 0);
    np_out_str(&o, "abc");
    np_out_u64(&o, 42);

    char b[64];
    errno = 0;
    assert_int_equal(read(fds[0], b, sizeof(b)), -1);
    assert_int_equal(errno, EAGAIN);

    assert_int_equal(np_out_flush(&o), 0);
    assert_int_equal(read(fds[0], b, sizeof(b)), 5);
    assert_memory_equal(b, "abc42", 5);

    /* More than the buffer holds: the full buffer goes out before the flush. */
    char big[3000];
    memset(big, 'x', sizeof(big));
    np_out_mem(&o, big, sizeof(big));
    ssize_t early = read(fds[0], b, sizeof(b));
    assert_true(early > 0);
    np_out_fini(&o);
    close(fds[0]);
    close(fds[1]);
}

static void write_error_is_reported_by_flush_and_stays(void **state)
{
    (void)state;
    int fd = open("/dev/null", O_RDONLY); /* write(2) fails with EBADF */
    assert_true(fd >= 0);
    struct np_out o;
    assert_int_equal(np_out_init(&o, fd, 256), 0);
    np_out_str(&o, "lost");
    assert_int_equal(np_out_flush(&o), EBADF);
    np_out_str(&o, "also lost");
    assert_int_equal(np_out_flush(&o), EBADF);
    assert_int_equal(np_out_flush(&o), EBADF);
    np_out_fini(&o);
    close(fd);
}

static void write_error_in_an_implicit_flush_is_reported_by_the_next_flush(void **state)
{
    (void)state;
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    struct np_out o;
    assert_int_equal(np_out_init(&o, fd, 256), 0);
    char big[2000];
    memset(big, 'y', sizeof(big));
    np_out_mem(&o, big, sizeof(big)); /* fills the buffer several times */
    for (int i = 0; i < 100; i++)
        np_out_u64(&o, UINT64_MAX);
    assert_true(o.len <= o.cap);
    assert_int_equal(np_out_flush(&o), EBADF);
    np_out_fini(&o);
    close(fd);
}

/* ---- the writer thread (np_out_async) ---- */

static void async_output_arrives_whole_and_in_order_for_any_ring(void **state)
{
    (void)state;
    size_t total = 1u << 20;
    uint8_t *src = malloc(total);
    assert_non_null(src);
    rng_seed(12);
    for (size_t i = 0; i < total; i++)
        src[i] = (uint8_t)rng_next();
    static const unsigned rings[] = { 0, 1, 2, 3, 8, NP_OUT_MAX_BUFS, 1000 };
    for (size_t r = 0; r < sizeof(rings) / sizeof(rings[0]); r++) {
        struct capture c;
        capture_open(&c, 256);
        np_out_str(&c.o, "head"); /* buffered before the thread starts: kept */
        assert_int_equal(np_out_async(&c.o, rings[r]), 0);
        assert_int_equal(np_out_async(&c.o, rings[r]), 0); /* a second call changes nothing */
        size_t off = 0;
        for (size_t k = 1; off < total; k = k * 7 % 1000 + 1) {
            size_t n = k < total - off ? k : total - off;
            np_out_mem(&c.o, src + off, n);
            off += n;
        }
        size_t len;
        char *got = capture_close(&c, &len);
        assert_int_equal(len, total + 4);
        assert_memory_equal(got, "head", 4);
        assert_memory_equal(got + 4, src, total);
        free(got);
    }
    free(src);
}

static void async_flush_waits_until_everything_is_in_the_file(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, 256);
    assert_int_equal(np_out_async(&c.o, 4), 0);
    for (int round = 1; round <= 50; round++) {
        for (int i = 0; i < round * 10; i++)
            np_out_u64(&c.o, (uint64_t)i);
        assert_int_equal(np_out_flush(&c.o), 0);
        size_t len;
        char *now = file_bytes(c.f, &len);
        free(now);
        size_t want = 0;
        for (int r = 1; r <= round; r++)
            for (int i = 0; i < r * 10; i++)
                want += i < 10 ? 1 : i < 100 ? 2 : 3;
        assert_int_equal(len, want);
    }
    size_t len;
    free(capture_close(&c, &len));
}

struct drain {
    int fd;
    uint8_t *buf;
    size_t len, cap;
};

/* Reads the pipe to its end, slowly: a few bytes at a time. */
static void *drain_main(void *arg)
{
    struct drain *d = arg;
    for (;;) {
        size_t want = d->cap - d->len < 97 ? d->cap - d->len : 97;
        ssize_t r = read(d->fd, d->buf + d->len, want);
        if (r <= 0)
            break;
        d->len += (size_t)r;
    }
    return NULL;
}

static void async_ring_full_waits_for_a_slow_reader_and_loses_nothing(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct drain d = { .fd = fds[0], .cap = 1u << 21 };
    d.buf = malloc(d.cap);
    assert_non_null(d.buf);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, drain_main, &d), 0);
    struct np_out o;
    assert_int_equal(np_out_init(&o, fds[1], 300), 0);
    assert_int_equal(np_out_async(&o, 2), 0);
    size_t want_len = 0;
    char *want = malloc(d.cap);
    assert_non_null(want);
    for (uint64_t i = 0; want_len < d.cap - 64; i++) {
        want_len += np_fmt_u64(want + want_len, i * 2654435761u);
        want[want_len++] = '\n';
        np_out_u64(&o, i * 2654435761u);
        np_out_ch(&o, '\n');
    }
    assert_int_equal(np_out_flush(&o), 0);
    np_out_fini(&o);
    close(fds[1]);
    assert_int_equal(pthread_join(t, NULL), 0);
    close(fds[0]);
    assert_int_equal(d.len, want_len);
    assert_memory_equal(d.buf, want, want_len);
    free(want);
    free(d.buf);
}

static void async_write_error_is_reported_by_a_later_flush_and_stays(void **state)
{
    (void)state;
    int fd = open("/dev/null", O_RDONLY); /* write(2) fails with EBADF */
    assert_true(fd >= 0);
    struct np_out o;
    assert_int_equal(np_out_init(&o, fd, 256), 0);
    assert_int_equal(np_out_async(&o, 3), 0);
    char big[5000];
    memset(big, 'z', sizeof(big));
    np_out_mem(&o, big, sizeof(big)); /* many buffers go to the thread */
    assert_int_equal(np_out_flush(&o), EBADF);
    np_out_str(&o, "also lost");
    assert_int_equal(np_out_spill(&o), EBADF);
    assert_int_equal(np_out_flush(&o), EBADF);
    np_out_fini(&o);
    close(fd);
}

static void async_fini_drops_what_was_not_flushed_and_stops_the_thread(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, 256);
    assert_int_equal(np_out_async(&c.o, 2), 0);
    char big[1000];
    memset(big, 'q', sizeof(big));
    np_out_mem(&c.o, big, sizeof(big)); /* three full buffers spilled, 232 bytes kept */
    np_out_fini(&c.o);
    assert_null(c.o.buf);
    size_t len;
    char *p = file_bytes(c.f, &len);
    assert_int_equal(len, 768);
    free(p);
    fclose(c.f);
}

/* ---- np_out_json_str, np_out_pad ---- */

#define S(lit) lit, sizeof(lit) - 1

static void json_str_quotes_and_escapes_quote_and_backslash(void **state)
{
    (void)state;
    assert_out(np_out_json_str, S(""), S("\"\""));
    assert_out(np_out_json_str, S("plain text"), S("\"plain text\""));
    assert_out(np_out_json_str, S("a\"b"), S("\"a\\\"b\""));
    assert_out(np_out_json_str, S("a\\b"), S("\"a\\\\b\""));
    assert_out(np_out_json_str, S("\"\\\"\\"), S("\"\\\"\\\\\\\"\\\\\""));
    assert_out(np_out_json_str, S("/"), S("\"/\"")); /* solidus need not be escaped */
}

static void json_str_escapes_control_characters_as_u00xx(void **state)
{
    (void)state;
    assert_out(np_out_json_str, S("\n"), S("\"\\u000a\""));
    assert_out(np_out_json_str, S("a\tb\r\n"), S("\"a\\u0009b\\u000d\\u000a\""));
    assert_out(np_out_json_str, S("\x1f"), S("\"\\u001f\""));
    assert_out(np_out_json_str, "\0x", 2, S("\"\\u0000x\"")); /* NUL within n */
}

static void json_str_copies_del_and_bytes_above_ascii(void **state)
{
    (void)state;
    assert_out(np_out_json_str, S("\x7f"), S("\"\x7f\""));
    assert_out(np_out_json_str, S("caf\xc3\xa9"), S("\"caf\xc3\xa9\""));
    assert_out(np_out_json_str, S("\xff\x80"), S("\"\xff\x80\""));
}

static void json_str_escapes_every_byte_value_as_specified(void **state)
{
    (void)state;
    char s[256], want[2 + 256 * 6];
    size_t n = 0;
    want[n++] = '"';
    for (int i = 0; i < 256; i++) {
        s[i] = (char)i;
        if (i < 0x20) {
            snprintf(want + n, sizeof(want) - n, "\\u%04x", (unsigned)i);
            n += 6;
        } else if (i == '"' || i == '\\') {
            want[n++] = '\\';
            want[n++] = (char)i;
        } else {
            want[n++] = (char)i;
        }
    }
    want[n++] = '"';
    assert_out(np_out_json_str, s, sizeof(s), want, n);
}

static void json_str_longer_than_the_buffer_arrives_whole(void **state)
{
    (void)state;
    enum {
        N = 5000
    };
    char *s = malloc(N), *want = malloc(2 + 6 * N);
    assert_non_null(s);
    assert_non_null(want);
    size_t n = 0;
    want[n++] = '"';
    for (int i = 0; i < N; i++) {
        s[i] = i % 3 == 0 ? '\x01' : i % 3 == 1 ? '"' : 'z';
        if (i % 3 == 0) {
            memcpy(want + n, "\\u0001", 6);
            n += 6;
        } else if (i % 3 == 1) {
            memcpy(want + n, "\\\"", 2);
            n += 2;
        } else {
            want[n++] = 'z';
        }
    }
    want[n++] = '"';

    struct capture c;
    capture_open(&c, 256);
    np_out_json_str(&c.o, s, N);
    size_t len;
    char *got = capture_close(&c, &len);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    free(got);
    free(want);
    free(s);
}

static void pad_left_aligned(struct np_out *o, const char *s, size_t n)
{
    np_out_pad(o, s, n, 6, false);
}

static void pad_right_aligned(struct np_out *o, const char *s, size_t n)
{
    np_out_pad(o, s, n, 6, true);
}

static void pad_fills_to_the_width_on_the_side_away_from_the_alignment(void **state)
{
    (void)state;
    assert_out(pad_left_aligned, S("ab"), S("ab    "));
    assert_out(pad_right_aligned, S("ab"), S("    ab"));
    assert_out(pad_left_aligned, S(""), S("      "));
    assert_out(pad_right_aligned, S(""), S("      "));
}

static void pad_of_a_field_at_or_over_the_width_adds_nothing_and_cuts_nothing(void **state)
{
    (void)state;
    assert_out(pad_left_aligned, S("abcdef"), S("abcdef"));
    assert_out(pad_right_aligned, S("abcdef"), S("abcdef"));
    assert_out(pad_left_aligned, S("abcdefgh"), S("abcdefgh"));
    assert_out(pad_right_aligned, S("abcdefgh"), S("abcdefgh"));
}

static void pad_wider_than_the_buffer_arrives_whole(void **state)
{
    (void)state;
    struct capture c;
    capture_open(&c, 256);
    np_out_pad(&c.o, "x", 1, 1000, true);
    np_out_pad(&c.o, "y", 1, 1000, false);
    size_t len;
    char *got = capture_close(&c, &len);
    assert_int_equal(len, 2000);
    for (size_t i = 0; i < 2000; i++)
        assert_int_equal(got[i], i == 999 ? 'x' : i == 1000 ? 'y' : ' ');
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(u64_formats_zero_as_one_digit),
        cmocka_unit_test(u64_formats_the_largest_value_in_twenty_digits),
        cmocka_unit_test(u64_matches_printf_at_every_power_of_ten_and_its_neighbours),
        cmocka_unit_test(u64_matches_printf_for_random_values_of_every_magnitude),
        cmocka_unit_test(hex64_is_sixteen_lower_case_digits_with_leading_zeros),
        cmocka_unit_test(hex64_matches_printf_for_random_values),
        cmocka_unit_test(ipv4_formats_fixed_addresses),
        cmocka_unit_test(ipv4_matches_inet_ntop_for_every_octet_value_and_random_addresses),
        cmocka_unit_test(ipv6_formats_the_rfc5952_cases_exactly),
        cmocka_unit_test(ipv6_matches_inet_ntop_for_every_pattern_of_zero_groups),
        cmocka_unit_test(ipv6_matches_inet_ntop_for_mapped_and_compatible_ipv4),
        cmocka_unit_test(ipv6_matches_inet_ntop_for_random_addresses_with_zero_runs),
        cmocka_unit_test(ip_uses_the_first_four_bytes_for_version_4),
        cmocka_unit_test(rfc3339_formats_fixed_timestamps),
        cmocka_unit_test(rfc3339_matches_gmtime_on_every_day_a_u64_of_nanoseconds_reaches),
        cmocka_unit_test(rfc3339_matches_gmtime_near_the_largest_value_and_at_random),
        cmocka_unit_test(secs9_formats_seconds_with_nine_decimals),
        cmocka_unit_test(secs9_matches_printf_for_random_values),
        cmocka_unit_test(out_buffers_until_flush),
        cmocka_unit_test(flush_of_an_empty_buffer_writes_nothing_and_succeeds),
        cmocka_unit_test(fini_of_a_zeroed_out_is_a_no_op),
        cmocka_unit_test(writes_larger_than_the_buffer_arrive_whole_and_in_order),
        cmocka_unit_test(formatted_writes_across_buffer_boundaries_match_printf),
        cmocka_unit_test(out_to_a_pipe_arrives_only_after_flush),
        cmocka_unit_test(write_error_is_reported_by_flush_and_stays),
        cmocka_unit_test(write_error_in_an_implicit_flush_is_reported_by_the_next_flush),
        cmocka_unit_test(async_output_arrives_whole_and_in_order_for_any_ring),
        cmocka_unit_test(async_flush_waits_until_everything_is_in_the_file),
        cmocka_unit_test(async_ring_full_waits_for_a_slow_reader_and_loses_nothing),
        cmocka_unit_test(async_write_error_is_reported_by_a_later_flush_and_stays),
        cmocka_unit_test(async_fini_drops_what_was_not_flushed_and_stops_the_thread),
        cmocka_unit_test(json_str_quotes_and_escapes_quote_and_backslash),
        cmocka_unit_test(json_str_escapes_control_characters_as_u00xx),
        cmocka_unit_test(json_str_copies_del_and_bytes_above_ascii),
        cmocka_unit_test(json_str_escapes_every_byte_value_as_specified),
        cmocka_unit_test(json_str_longer_than_the_buffer_arrives_whole),
        cmocka_unit_test(pad_fills_to_the_width_on_the_side_away_from_the_alignment),
        cmocka_unit_test(pad_of_a_field_at_or_over_the_width_adds_nothing_and_cuts_nothing),
        cmocka_unit_test(pad_wider_than_the_buffer_arrives_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
