/* tests/flow/test_key.c: canonical flow keys and flow ids (flow/key.h).
 *
 * The flow id is recomputed here from its documented definition with an
 * FNV-1a written for this test, so a change to the serialisation or to
 * core/hash.h shows up as a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "flow/key.h"
#include "testutil.h"

#define VLAN_NONE 0xffffu /* NP_VLAN_NONE: untagged, per key.h and the id's definition */
#define TCP       6
#define UDP       17

/* 64-bit FNV-1a, written from the published definition. */
static uint64_t ref_fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull; /* offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull; /* 2^40 + 2^8 + 0xb3 */
    }
    return h;
}

static size_t put_be(uint8_t *dst, uint64_t v, size_t width)
{
    for (size_t i = 0; i < width; i++)
        dst[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    return width;
}

/* The documented flow id for endpoints a (the lower) and b. */
static uint64_t ref_flow_id(uint8_t ip_ver, uint8_t proto, uint16_t vlan, const uint8_t *a,
                            uint16_t pa, const uint8_t *b, uint16_t pb, uint64_t first_ts_ns)
{
    uint8_t buf[64];
    size_t alen = ip_ver == 6 ? 16 : 4, n = 0;
    n += put_be(buf + n, ip_ver, 1);
    n += put_be(buf + n, proto, 1);
    n += put_be(buf + n, vlan, 2);
    for (size_t i = 0; i < alen; i++)
        buf[n++] = a[i];
    n += put_be(buf + n, pa, 2);
    for (size_t i = 0; i < alen; i++)
        buf[n++] = b[i];
    n += put_be(buf + n, pb, 2);
    n += put_be(buf + n, first_ts_ns, 8);
    assert_int_equal(n, ip_ver == 6 ? 48 : 24);
    return ref_fnv1a64(buf, n);
}

static void reference_fnv1a_matches_the_published_test_vectors(void **state)
{
    (void)state;
    assert_true(ref_fnv1a64((const uint8_t *)"", 0) == 0xcbf29ce484222325ull);
    assert_true(ref_fnv1a64((const uint8_t *)"a", 1) == 0xaf63dc4c8601ec8cull);
    assert_true(ref_fnv1a64((const uint8_t *)"foobar", 6) == 0x85944171f73967e8ull);
}

static void both_directions_of_an_ipv4_flow_give_the_same_key(void **state)
{
    (void)state;
    const uint8_t x[16] = { 10, 0, 0, 1 }, y[16] = { 10, 0, 0, 2 };
    struct np_flow_key k1, k2;

    assert_false(np_flow_key_make(&k1, 4, TCP, VLAN_NONE, x, 40000, y, 80));
    assert_true(np_flow_key_make(&k2, 4, TCP, VLAN_NONE, y, 80, x, 40000));
    assert_true(np_flow_key_eq(&k1, &k2));
    assert_memory_equal(k1.addr_a, x, 4);
    assert_memory_equal(k1.addr_b, y, 4);
    assert_int_equal(k1.port_a, 40000);
    assert_int_equal(k1.port_b, 80);
    assert_int_equal(k1.ip_ver, 4);
    assert_int_equal(k1.proto, TCP);
    assert_int_equal(k1.vlan, VLAN_NONE);
}

static void endpoint_a_is_the_lower_address_in_byte_order(void **state)
{
    (void)state;
    /* As little-endian integers 2.0.0.1 < 1.0.0.2; in byte order it is the reverse. */
    const uint8_t lo[16] = { 1, 0, 0, 2 }, hi[16] = { 2, 0, 0, 1 };
    struct np_flow_key k;

    assert_true(np_flow_key_make(&k, 4, UDP, 7, hi, 1, lo, 65535));
    assert_memory_equal(k.addr_a, lo, 4);
    assert_int_equal(k.port_a, 65535); /* the port follows its address */
    assert_memory_equal(k.addr_b, hi, 4);
    assert_int_equal(k.port_b, 1);
}

static void ipv4_keys_ignore_and_zero_the_bytes_after_the_address(void **state)
{
    (void)state;
    uint8_t x[16], y[16];
    memset(x, 0xff, sizeof(x));
    memset(y, 0x00, sizeof(y));
    x[0] = 192, x[1] = 0, x[2] = 2, x[3] = 1;
    y[0] = 192, y[1] = 0, y[2] = 2, y[3] = 1;
    struct np_flow_key k;
    const uint8_t zero[12] = { 0 };

    /* Same address: the ports decide, not the garbage after byte 4. */
    assert_false(np_flow_key_make(&k, 4, TCP, VLAN_NONE, x, 1000, y, 2000));
    assert_memory_equal(k.addr_a + 4, zero, 12);
    assert_memory_equal(k.addr_b + 4, zero, 12);
    assert_true(np_flow_key_make(&k, 4, TCP, VLAN_NONE, x, 2000, y, 1000));
    assert_memory_equal(k.addr_a + 4, zero, 12);
}

static void ipv6_keys_compare_all_sixteen_bytes(void **state)
{
    (void)state;
    uint8_t x[16], y[16];
    memset(x, 0x20, sizeof(x));
    memcpy(y, x, sizeof(y));
    y[15] = 0x21; /* differs only in the last byte */
    struct np_flow_key k1, k2;

    assert_true(np_flow_key_make(&k1, 6, TCP, VLAN_NONE, y, 1, x, 2));
    assert_memory_equal(k1.addr_a, x, 16);
    assert_memory_equal(k1.addr_b, y, 16);
    assert_int_equal(k1.port_a, 2);
    assert_false(np_flow_key_make(&k2, 6, TCP, VLAN_NONE, x, 2, y, 1));
    assert_true(np_flow_key_eq(&k1, &k2));
}

static void ports_decide_when_the_addresses_are_equal(void **state)
{
    (void)state;
    const uint8_t x[16] = { 127, 0, 0, 1 };
    struct np_flow_key k1, k2;

    assert_false(np_flow_key_make(&k1, 4, TCP, VLAN_NONE, x, 443, x, 50000));
    assert_true(np_flow_key_make(&k2, 4, TCP, VLAN_NONE, x, 50000, x, 443));
    assert_true(np_flow_key_eq(&k1, &k2));
    assert_int_equal(k1.port_a, 443);
    assert_int_equal(k1.port_b, 50000);
}

static void equal_endpoints_give_direction_a_to_b(void **state)
{
    (void)state;
    const uint8_t x4[16] = { 10, 1, 2, 3 };
    uint8_t x6[16];
    memset(x6, 0xfe, sizeof(x6));
    struct np_flow_key k;

    assert_false(np_flow_key_make(&k, 4, UDP, VLAN_NONE, x4, 5353, x4, 5353));
    assert_memory_equal(k.addr_a, k.addr_b, 16);
    assert_false(np_flow_key_make(&k, 6, UDP, VLAN_NONE, x6, 0, x6, 0));
    assert_memory_equal(k.addr_a, x6, 16);
}

static void ipv4_and_ipv6_keys_with_the_same_leading_bytes_differ(void **state)
{
    (void)state;
    const uint8_t x[16] = { 10, 0, 0, 1 }, y[16] = { 10, 0, 0, 2 };
    struct np_flow_key k4, k6;

    np_flow_key_make(&k4, 4, TCP, VLAN_NONE, x, 1, y, 2);
    np_flow_key_make(&k6, 6, TCP, VLAN_NONE, x, 1, y, 2);
    assert_false(np_flow_key_eq(&k4, &k6));
    assert_int_equal(k6.ip_ver, 6);
    assert_true(np_flow_id(&k4, 0) != np_flow_id(&k6, 0));
}

static void vlan_and_protocol_are_part_of_the_key(void **state)
{
    (void)state;
    const uint8_t x[16] = { 10, 0, 0, 1 }, y[16] = { 10, 0, 0, 2 };
    struct np_flow_key base, other_vlan, other_proto;

    np_flow_key_make(&base, 4, TCP, 10, x, 1, y, 2);
    np_flow_key_make(&other_vlan, 4, TCP, 11, x, 1, y, 2);
    np_flow_key_make(&other_proto, 4, UDP, 10, x, 1, y, 2);
    assert_int_equal(base.vlan, 10);
    assert_false(np_flow_key_eq(&base, &other_vlan));
    assert_false(np_flow_key_eq(&base, &other_proto));
    assert_true(np_flow_id(&base, 5) != np_flow_id(&other_vlan, 5));
    assert_true(np_flow_id(&base, 5) != np_flow_id(&other_proto, 5));
}

static void random_endpoints_give_one_key_and_opposite_directions(void **state)
{
    (void)state;
    rng_seed(12345);
    for (int i = 0; i < 100000; i++) {
        uint8_t ver = i % 2 ? 6 : 4, x[16] = { 0 }, y[16] = { 0 };
        size_t alen = ver == 6 ? 16 : 4;
        for (size_t j = 0; j < alen; j++) {
            x[j] = (uint8_t)(rng_next() % 3); /* few values: many equal prefixes */
            y[j] = (uint8_t)(rng_next() % 3);
        }
        uint16_t px = (uint16_t)(rng_next() % 4), py = (uint16_t)(rng_next() % 4);
        struct np_flow_key k1, k2;
        bool d1 = np_flow_key_make(&k1, ver, TCP, 1, x, px, y, py);
        bool d2 = np_flow_key_make(&k2, ver, TCP, 1, y, py, x, px);

        assert_true(np_flow_key_eq(&k1, &k2));
        int c = memcmp(x, y, alen);
        bool x_is_b = c > 0 || (c == 0 && px > py);
        assert_int_equal(d1, x_is_b);
        bool same = c == 0 && px == py;
        assert_int_equal(d2, same ? false : !x_is_b);
        int ab = memcmp(k1.addr_a, k1.addr_b, alen);
        assert_true(ab < 0 || (ab == 0 && k1.port_a <= k1.port_b));
        assert_true(np_flow_key_hash(&k1) == np_flow_key_hash(&k2));
    }
}

static void hash_is_the_same_for_equal_keys_and_spreads_distinct_keys(void **state)
{
    (void)state;
    const uint8_t x[16] = { 10, 0, 0, 1 }, y[16] = { 10, 0, 0, 2 };
    struct np_flow_key k1, k2;
    np_flow_key_make(&k1, 4, TCP, VLAN_NONE, x, 1000, y, 80);
    np_flow_key_make(&k2, 4, TCP, VLAN_NONE, y, 80, x, 1000);
    assert_true(np_flow_key_hash(&k1) == np_flow_key_hash(&k2));

    /* Keys differing in one port: the low 12 bits (a table's home slot) spread. */
    enum {
        N = 4096
    };
    static uint8_t seen[N];
    memset(seen, 0, sizeof(seen));
    unsigned distinct = 0;
    for (unsigned p = 0; p < N; p++) {
        struct np_flow_key k;
        np_flow_key_make(&k, 4, TCP, VLAN_NONE, x, (uint16_t)(1024 + p), y, 80);
        unsigned slot = (unsigned)(np_flow_key_hash(&k) & (N - 1));
        distinct += !seen[slot];
        seen[slot] = 1;
    }
    assert_true(distinct > N / 2); /* a random function fills about 63% */
}

static void flow_id_follows_the_documented_definition_for_ipv4(void **state)
{
    (void)state;
    const uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };
    struct np_flow_key k;
    np_flow_key_make(&k, 4, TCP, VLAN_NONE, b, 80, a, 1234);

    uint64_t ts = 1700000000123456789ull;
    assert_true(np_flow_id(&k, ts) == ref_flow_id(4, TCP, VLAN_NONE, a, 1234, b, 80, ts));
    /* Computed independently (Python) from the definition in docs/formats.md. */
    assert_true(np_flow_id(&k, ts) == 0x02b24834538c4602ull);
}

static void flow_id_follows_the_documented_definition_for_ipv6_with_a_vlan(void **state)
{
    (void)state;
    uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 }, b[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    a[15] = 1;
    b[15] = 2;
    struct np_flow_key k;
    np_flow_key_make(&k, 6, UDP, 100, a, 53, b, 5353);

    assert_true(np_flow_id(&k, 1) == ref_flow_id(6, UDP, 100, a, 53, b, 5353, 1));
    assert_true(np_flow_id(&k, 1) == 0xdf22cb15e79180d6ull);
}

static void flow_id_matches_the_definition_for_random_keys_and_timestamps(void **state)
{
    (void)state;
    rng_seed(777);
    for (int i = 0; i < 50000; i++) {
        uint8_t ver = i % 3 == 0 ? 6 : 4, x[16] = { 0 }, y[16] = { 0 };
        size_t alen = ver == 6 ? 16 : 4;
        for (size_t j = 0; j < alen; j++) {
            x[j] = (uint8_t)rng_next();
            y[j] = (uint8_t)(j < alen / 2 ? x[j] : rng_next());
        }
        uint16_t px = (uint16_t)rng_next(), py = (uint16_t)rng_next();
        uint16_t vlan = i % 5 == 0 ? VLAN_NONE : (uint16_t)(rng_next() % 4096);
        uint8_t proto = (uint8_t)rng_next();
        uint64_t ts = rng_next();
        struct np_flow_key k;
        bool swapped = np_flow_key_make(&k, ver, proto, vlan, x, px, y, py);

        uint64_t want = swapped ? ref_flow_id(ver, proto, vlan, y, py, x, px, ts)
                                : ref_flow_id(ver, proto, vlan, x, px, y, py, ts);
        assert_true(np_flow_id(&k, ts) == want);
    }
}

static void flow_id_is_the_same_for_both_directions(void **state)
{
    (void)state;
    uint8_t x[16], y[16];
    memset(x, 0x11, sizeof(x));
    memset(y, 0x22, sizeof(y));
    struct np_flow_key k1, k2;
    np_flow_key_make(&k1, 6, TCP, VLAN_NONE, x, 1, y, 2);
    np_flow_key_make(&k2, 6, TCP, VLAN_NONE, y, 2, x, 1);

    assert_true(np_flow_id(&k1, 42) == np_flow_id(&k2, 42));
}

static void flow_id_differs_for_a_different_first_timestamp(void **state)
{
    (void)state;
    const uint8_t x[16] = { 10, 0, 0, 1 }, y[16] = { 10, 0, 0, 2 };
    struct np_flow_key k;
    np_flow_key_make(&k, 4, TCP, VLAN_NONE, x, 1, y, 2);

    uint64_t id0 = np_flow_id(&k, 1000000000);
    assert_true(id0 != np_flow_id(&k, 1000000001));
    assert_true(id0 != np_flow_id(&k, 0));
    assert_true(id0 != np_flow_id(&k, 1000000000ull << 8)); /* a shifted byte, too */
    assert_true(id0 == np_flow_id(&k, 1000000000));
}

static void flow_id_of_an_ipv4_key_hashes_only_four_address_bytes(void **state)
{
    (void)state;
    const uint8_t x[16] = { 10, 0, 0, 1 }, y[16] = { 10, 0, 0, 2 };
    struct np_flow_key k;
    np_flow_key_make(&k, 4, TCP, VLAN_NONE, x, 1, y, 2);

    /* 24 bytes in, not 48: the zero padding of addr_a/addr_b is not hashed. */
    uint8_t buf[24] = { 4, TCP, 0xff, 0xff, 10, 0, 0, 1, 0, 1, 10, 0, 0, 2, 0, 2 };
    assert_true(np_flow_id(&k, 0) == ref_fnv1a64(buf, sizeof(buf)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_fnv1a_matches_the_published_test_vectors),
        cmocka_unit_test(both_directions_of_an_ipv4_flow_give_the_same_key),
        cmocka_unit_test(endpoint_a_is_the_lower_address_in_byte_order),
        cmocka_unit_test(ipv4_keys_ignore_and_zero_the_bytes_after_the_address),
        cmocka_unit_test(ipv6_keys_compare_all_sixteen_bytes),
        cmocka_unit_test(ports_decide_when_the_addresses_are_equal),
        cmocka_unit_test(equal_endpoints_give_direction_a_to_b),
        cmocka_unit_test(ipv4_and_ipv6_keys_with_the_same_leading_bytes_differ),
        cmocka_unit_test(vlan_and_protocol_are_part_of_the_key),
        cmocka_unit_test(random_endpoints_give_one_key_and_opposite_directions),
        cmocka_unit_test(hash_is_the_same_for_equal_keys_and_spreads_distinct_keys),
        cmocka_unit_test(flow_id_follows_the_documented_definition_for_ipv4),
        cmocka_unit_test(flow_id_follows_the_documented_definition_for_ipv6_with_a_vlan),
        cmocka_unit_test(flow_id_matches_the_definition_for_random_keys_and_timestamps),
        cmocka_unit_test(flow_id_is_the_same_for_both_directions),
        cmocka_unit_test(flow_id_differs_for_a_different_first_timestamp),
        cmocka_unit_test(flow_id_of_an_ipv4_key_hashes_only_four_address_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
