/* tests/analyze/test_hs_expr.c: tcpeek's filter expressions and local addresses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "analyze/hs_expr.h"

struct ep {
    uint8_t ver;
    uint8_t a[16];
};

static struct ep ip(const char *s)
{
    struct ep e;
    memset(&e, 0, sizeof(e));
    if (inet_pton(AF_INET, s, e.a) == 1)
        e.ver = 4;
    else if (inet_pton(AF_INET6, s, e.a) == 1)
        e.ver = 6;
    else
        fail_msg("bad test address %s", s);
    return e;
}

/* Builds exprs from a NULL-terminated list, finished. */
static void build(struct np_hs_exprs *x, const char *const *exprs)
{
    struct np_err err = { 0 };
    np_hs_exprs_init(x);
    for (; *exprs != NULL; exprs++)
        if (np_hs_exprs_add(x, *exprs, &err) != NP_OK)
            fail_msg("%s: %s", *exprs, err.msg);
    assert_int_equal(np_hs_exprs_finish(x, &err), NP_OK);
}

/* The mask for a SYN client -> server:port with the given sides local. */
static uint64_t match(const struct np_hs_exprs *x, const char *client, const char *server,
                      uint16_t port, bool client_local, bool server_local)
{
    struct ep c = ip(client), s = ip(server);
    struct np_hs_conn conn = { c.ver, c.a, s.a, 40000, port, client_local, server_local };
    return np_hs_exprs_match(x, &conn);
}

static enum np_rc parse_one(const char *expr, struct np_err *err)
{
    struct np_hs_exprs x;
    np_hs_exprs_init(&x);
    enum np_rc rc = np_hs_exprs_add(&x, expr, err);
    np_hs_exprs_fini(&x);
    return rc;
}

static void no_expression_means_rx_and_tx_for_every_address_and_port(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *none[] = { NULL };
    build(&x, none);
    assert_int_equal(x.n_named, 2);
    assert_string_equal(np_hs_exprs_named(&x, 0)->name, "RX");
    assert_string_equal(np_hs_exprs_named(&x, 1)->name, "TX");
    assert_int_equal(match(&x, "192.0.2.1", "10.0.0.1", 80, false, true), 1);
    assert_int_equal(match(&x, "10.0.0.1", "192.0.2.1", 443, true, false), 2);
    assert_int_equal(match(&x, "10.0.0.1", "10.0.0.2", 22, true, true), 3);
    assert_int_equal(match(&x, "192.0.2.1", "192.0.2.2", 22, false, false), 0);
    assert_int_equal(match(&x, "2001:db8::1", "2001:db8::2", 22, false, true), 1);
    np_hs_exprs_fini(&x);
}

static void rx_matches_the_client_address_and_the_server_port(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "web:RX@192.0.2.7:80:443", NULL };
    build(&x, e);
    assert_int_equal(x.n_named, 1);
    assert_int_equal(np_hs_exprs_named(&x, 0)->dir, NP_HS_RX);
    assert_int_equal(match(&x, "192.0.2.7", "10.0.0.1", 80, false, true), 1);
    assert_int_equal(match(&x, "192.0.2.7", "10.0.0.1", 443, false, true), 1);
    assert_int_equal(match(&x, "192.0.2.7", "10.0.0.1", 8080, false, true), 0);
    assert_int_equal(match(&x, "192.0.2.8", "10.0.0.1", 80, false, true), 0);
    assert_int_equal(match(&x, "192.0.2.7", "10.0.0.1", 80, true, false), 0); /* not RX */
    np_hs_exprs_fini(&x);
}

static void tx_matches_the_server_address_and_port(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "out:TX@192.168.0.0/24:%", NULL };
    build(&x, e);
    assert_int_equal(match(&x, "10.0.0.1", "192.168.0.77", 5, true, false), 1);
    assert_int_equal(match(&x, "10.0.0.1", "192.168.1.77", 5, true, false), 0);
    assert_int_equal(match(&x, "192.168.0.77", "10.0.0.1", 5, false, true), 0);
    np_hs_exprs_fini(&x);
}

static void any_matches_whatever_is_local_with_the_server_address(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "web:ANY@10.0.0.0/8:80", NULL };
    build(&x, e);
    assert_int_equal(np_hs_exprs_named(&x, 0)->dir, NP_HS_ANY);
    assert_int_equal(match(&x, "192.0.2.1", "10.1.2.3", 80, false, false), 1);
    assert_int_equal(match(&x, "10.1.2.3", "192.0.2.1", 80, false, false), 0);
    assert_int_equal(match(&x, "192.0.2.1", "10.1.2.3", 81, false, false), 0);
    np_hs_exprs_fini(&x);
}

static void star_and_percent_are_wildcards_for_address_and_port(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "a:RX@*:22", "b:RX@%:%", "c:RX@192.0.2.1:*", NULL };
    build(&x, e);
    assert_int_equal(match(&x, "192.0.2.1", "10.0.0.1", 22, false, true), 7);
    assert_int_equal(match(&x, "192.0.2.2", "10.0.0.1", 23, false, true), 2);
    assert_int_equal(match(&x, "2001:db8::9", "2001:db8::1", 22, false, true), 3);
    np_hs_exprs_fini(&x);
}

static void a_prefix_masks_the_given_address(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "v4:RX@192.168.0.1/24:80", "odd:RX@172.16.0.0/12:80", NULL };
    build(&x, e);
    assert_int_equal(match(&x, "192.168.0.200", "10.0.0.1", 80, false, true), 1);
    assert_int_equal(match(&x, "192.168.1.1", "10.0.0.1", 80, false, true), 0);
    assert_int_equal(match(&x, "172.31.255.1", "10.0.0.1", 80, false, true), 2);
    assert_int_equal(match(&x, "172.32.0.1", "10.0.0.1", 80, false, true), 0);
    np_hs_exprs_fini(&x);
}

static void ipv6_addresses_go_in_brackets_with_or_without_a_prefix(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "net:TX@[2001:db8::]/32:443", "one:TX@[2001:db8::5]:443:80",
                        "v4:TX@0.0.0.0/0:443", NULL };
    build(&x, e);
    assert_int_equal(match(&x, "2001:db8:1::1", "2001:db8:ffff::1", 443, true, false), 1);
    assert_int_equal(match(&x, "2001:db8:1::1", "2001:db8::5", 80, true, false), 2);
    assert_int_equal(match(&x, "2001:db8:1::1", "2001:db9::5", 443, true, false), 0);
    /* address families never mix */
    assert_int_equal(match(&x, "10.0.0.1", "10.0.0.2", 443, true, false), 4);
    np_hs_exprs_fini(&x);
}

static void several_rules_per_filter_are_separated_by_commas(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "f:TX@192.168.0.1:80:443:8080,192.168.0.2:80,[::1]:8080", NULL };
    build(&x, e);
    assert_int_equal(x.n_rules, 3);
    assert_int_equal(match(&x, "10.0.0.1", "192.168.0.1", 8080, true, false), 1);
    assert_int_equal(match(&x, "10.0.0.1", "192.168.0.2", 80, true, false), 1);
    assert_int_equal(match(&x, "10.0.0.1", "192.168.0.2", 443, true, false), 0);
    assert_int_equal(match(&x, "::2", "::1", 8080, true, false), 1);
    np_hs_exprs_fini(&x);
}

static void a_session_matching_several_named_filters_sets_each_bit(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "all:RX@*:*", "web:RX@*:80", "other:TX@*:*", "also:ANY@*:80", NULL };
    build(&x, e);
    assert_int_equal(match(&x, "192.0.2.1", "10.0.0.1", 80, false, true), 1 | 2 | 8);
    np_hs_exprs_fini(&x);
}

static void an_exclusion_filter_removes_a_session_from_all_wherever_it_stands(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { ":RX@*:22", "all:RX@*:*", "web:RX@*:80", ":RX@192.0.2.66:80", NULL };
    build(&x, e);
    assert_int_equal(x.n_named, 2);
    assert_int_equal(np_hs_exprs_named(&x, 1)->name[0], 'w');
    assert_int_equal(match(&x, "192.0.2.1", "10.0.0.1", 22, false, true), 0);
    assert_int_equal(match(&x, "192.0.2.1", "10.0.0.1", 80, false, true), 3);
    assert_int_equal(match(&x, "192.0.2.66", "10.0.0.1", 80, false, true), 0);
    assert_int_equal(match(&x, "192.0.2.66", "10.0.0.1", 443, false, true), 1);
    np_hs_exprs_fini(&x);
}

static void only_exclusions_keep_the_default_filters(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { ":RX@*:22", ":TX@*:22", NULL };
    build(&x, e);
    assert_int_equal(x.n_named, 2);
    assert_int_equal(match(&x, "192.0.2.1", "10.0.0.1", 22, false, true), 0);
    assert_int_equal(match(&x, "192.0.2.1", "10.0.0.1", 23, false, true), 1);
    np_hs_exprs_fini(&x);
}

static void directions_are_not_case_sensitive(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    const char *e[] = { "a:rx@*:1", "b:Tx@*:1", "c:any@*:1", NULL };
    build(&x, e);
    assert_int_equal(np_hs_exprs_named(&x, 2)->dir, NP_HS_ANY);
    np_hs_exprs_fini(&x);
}

static void bad_expressions_are_one_line_naming_the_bad_part(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *says;
    } bad[] = {
        { "RX@*:80", "':' after the name" },
        { "a:XX@*:80", "direction 'XX'" },
        { "a:RX*:80", "'@'" },
        { "a:RX@", "no addr:port" },
        { "a:RX@*", "no port" },
        { "a:RX@10.0.0.1", "no port" },
        { "a:RX@*:", "empty port" },
        { "a:RX@*:80::81", "empty port" },
        { "a:RX@*:http", "'http' is not a port" },
        { "a:RX@*:65536", "above 65535" },
        { "a:RX@*:123456", "not a port" },
        { "a:RX@*:-1", "not a port" },
        { "a:RX@300.1.2.3:80", "'300.1.2.3' is not an IPv4 or IPv6 address" },
        { "a:RX@10.0.0.0/33:80", "longer than 32" },
        { "a:RX@[::1]/129:80", "longer than 128" },
        { "a:RX@10.0.0.0/x:80", "prefix length" },
        { "a:RX@10.0.0.0/:80", "prefix length" },
        { "a:RX@[::1:80", "closing ']'" },
        { "a:RX@[::1]x:80", "after ']'" },
        { "a:RX@2001:db8::1:80", "brackets" },
        { "a:RX@*:80,", "empty addr:port" },
        { "a:RX@,*:80", "empty addr:port" },
        { "0123456789012345678901234567890123456789012345678901234567890123:RX@*:1",
          "longer than 63" },
        { "a\tb:RX@*:1", "control character" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct np_err err = { 0 };
        enum np_rc rc = parse_one(bad[i].expr, &err);
        if (rc != NP_ERR_USAGE || strstr(err.msg, bad[i].says) == NULL ||
            strchr(err.msg, '\n') != NULL)
            fail_msg("%s: rc %d, '%s' lacks '%s'", bad[i].expr, rc, err.msg, bad[i].says);
        assert_non_null(strstr(err.msg, "expression '"));
    }
}

static void a_name_given_twice_is_refused_and_a_failed_expression_changes_nothing(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    struct np_err err = { 0 };
    np_hs_exprs_init(&x);
    assert_int_equal(np_hs_exprs_add(&x, "a:RX@*:1", &err), NP_OK);
    assert_int_equal(np_hs_exprs_add(&x, "a:TX@*:1", &err), NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "given twice"));
    assert_int_equal(np_hs_exprs_add(&x, "b:TX@*:1,10.0.0.1:2,bad:3", &err), NP_ERR_USAGE);
    assert_int_equal(x.n_filters, 1);
    assert_int_equal(x.n_rules, 1);
    assert_int_equal(x.n_ports, 1);
    np_hs_exprs_fini(&x);
}

static void more_than_64_named_filters_are_refused(void **state)
{
    (void)state;
    struct np_hs_exprs x;
    struct np_err err = { 0 };
    char e[32];
    np_hs_exprs_init(&x);
    for (int i = 0; i < NP_HS_MAX_FILTERS; i++) {
        snprintf(e, sizeof(e), "f%d:RX@*:%d", i, i);
        assert_int_equal(np_hs_exprs_add(&x, e, &err), NP_OK);
    }
    assert_int_equal(np_hs_exprs_add(&x, "one-more:RX@*:1", &err), NP_ERR_LIMIT);
    assert_int_equal(np_hs_exprs_add(&x, ":RX@*:1", &err), NP_OK); /* exclusions have no bit */
    struct ep c = ip("192.0.2.1"), s = ip("10.0.0.1");
    struct np_hs_conn conn = { 4, c.a, s.a, 1, 63, false, true };
    assert_true(np_hs_exprs_match(&x, &conn) == 1ull << 63);
    np_hs_exprs_fini(&x);
}

static void local_addresses_are_exact_or_prefixes(void **state)
{
    (void)state;
    struct np_hs_local l;
    struct np_err err = { 0 };
    np_hs_local_init(&l);
    assert_int_equal(np_hs_local_add(&l, "10.0.0.1", &err), NP_OK);
    assert_int_equal(np_hs_local_add(&l, "2001:db8::/64", &err), NP_OK);
    assert_int_equal(np_hs_local_add(&l, "[fe80::1]", &err), NP_OK);
    struct ep a = ip("10.0.0.1"), b = ip("10.0.0.2"), c = ip("2001:db8::77"), d = ip("fe80::1"),
              e = ip("fe80::2");
    assert_true(np_hs_local_has(&l, 4, a.a));
    assert_false(np_hs_local_has(&l, 4, b.a));
    assert_true(np_hs_local_has(&l, 6, c.a));
    assert_true(np_hs_local_has(&l, 6, d.a));
    assert_false(np_hs_local_has(&l, 6, e.a));
    assert_int_equal(np_hs_local_add_addr(&l, 4, b.a, &err), NP_OK);
    assert_true(np_hs_local_has(&l, 4, b.a));
    assert_int_equal(np_hs_local_add(&l, "*", &err), NP_ERR_USAGE);
    assert_int_equal(np_hs_local_add(&l, "10.0.0.0/40", &err), NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "--local"));
    np_hs_local_fini(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_expression_means_rx_and_tx_for_every_address_and_port),
        cmocka_unit_test(rx_matches_the_client_address_and_the_server_port),
        cmocka_unit_test(tx_matches_the_server_address_and_port),
        cmocka_unit_test(any_matches_whatever_is_local_with_the_server_address),
        cmocka_unit_test(star_and_percent_are_wildcards_for_address_and_port),
        cmocka_unit_test(a_prefix_masks_the_given_address),
        cmocka_unit_test(ipv6_addresses_go_in_brackets_with_or_without_a_prefix),
        cmocka_unit_test(several_rules_per_filter_are_separated_by_commas),
        cmocka_unit_test(a_session_matching_several_named_filters_sets_each_bit),
        cmocka_unit_test(an_exclusion_filter_removes_a_session_from_all_wherever_it_stands),
        cmocka_unit_test(only_exclusions_keep_the_default_filters),
        cmocka_unit_test(directions_are_not_case_sensitive),
        cmocka_unit_test(bad_expressions_are_one_line_naming_the_bad_part),
        cmocka_unit_test(a_name_given_twice_is_refused_and_a_failed_expression_changes_nothing),
        cmocka_unit_test(more_than_64_named_filters_are_refused),
        cmocka_unit_test(local_addresses_are_exact_or_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
