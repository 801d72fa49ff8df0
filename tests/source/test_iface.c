/* tests/source/test_iface.c: listing capture interfaces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "source/iface.h"

static void loopback_is_listed_with_its_flags_and_addresses(void **state)
{
    (void)state;
    struct np_iface *v;
    size_t n;
    struct np_err err;
    assert_int_equal(np_iface_list(&v, &n, &err), NP_OK);
    const struct np_iface *lo = NULL;
    for (size_t i = 0; i < n; i++) {
        assert_non_null(v[i].name);
        if (strcmp(v[i].name, "lo") == 0)
            lo = &v[i];
    }
    if (lo == NULL) {
        np_iface_list_free(v, n);
        skip(); /* a system without "lo" */
    }
    assert_true(lo->loopback);
    assert_true(lo->up);
    bool v4 = false;
    for (size_t i = 0; i < lo->n_addrs; i++) {
        const struct np_iface_addr *a = &lo->addrs[i];
        assert_true(a->ip_ver == 4 || a->ip_ver == 6);
        if (a->ip_ver == 4 && a->addr[0] == 127 && a->addr[3] == 1) {
            assert_int_equal(a->prefix_len, 8);
            v4 = true;
        }
        if (a->ip_ver == 6)
            assert_int_equal(a->prefix_len, 128);
    }
    assert_true(v4);
    np_iface_list_free(v, n);
    np_iface_list_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loopback_is_listed_with_its_flags_and_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
