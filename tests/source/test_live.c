/* tests/source/test_live.c: live capture through the source.
 *
 * Opening errors are checked everywhere. Capturing is checked on the
 * loopback interface when this process may capture (root or CAP_NET_RAW),
 * and skipped otherwise: the test sends UDP datagrams to itself and reads
 * batches until it has seen them, within a bounded number of batches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/packet.h"
#include "source/source.h"

static void unknown_interface_is_a_usage_error(void **state)
{
    (void)state;
    struct np_source_opts o = { .iface = "np-nonexistent0" };
    struct np_err err;
    assert_null(np_source_create(&o, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_string_equal(err.msg, "no such interface 'np-nonexistent0'");
}

/* Opens lo with opts, or skips the test when capturing is not allowed. */
static struct np_source *open_lo(struct np_source_opts *o)
{
    struct np_err err;
    o->iface = "lo";
    o->immediate = true;
    o->read_timeout_ms = 20;
    struct np_source *s = np_source_create(o, &err);
    if (s == NULL && err.rc == NP_ERR_USAGE && strstr(err.msg, "permission") != NULL) {
        print_message("skipped: %s\n", err.msg);
        skip();
    }
    if (s == NULL)
        fail_msg("%s", err.msg);
    return s;
}

static void send_udp(uint16_t port, int n)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++)
        sendto(fd, "netpeek", 7, 0, (struct sockaddr *)&to, sizeof(to));
    close(fd);
}

static void loopback_capture_applies_the_filter_and_the_count_limit(void **state)
{
    (void)state;
    struct np_source_opts o = { .bpf = "udp dst port 47123", .max_packets = 3 };
    struct np_source *s = open_lo(&o);
    struct np_batch *b = np_batch_create(64, 1 << 16);
    struct np_err err;
    send_udp(47123, 5);
    send_udp(47124, 5);
    uint64_t seen = 0, last_frame = 0;
    enum np_rc rc = NP_OK;
    for (int i = 0; i < 500 && rc == NP_OK; i++) {
        rc = np_source_next(s, b, &err);
        assert_true(b->tick_ns > 0);
        for (uint32_t k = 0; k < b->n; k++) {
            assert_int_equal(b->pkts[k].linktype, NP_LINK_ETHERNET);
            assert_int_equal(b->pkts[k].ts_prec, 9);
            assert_true(b->pkts[k].frame_no > last_frame);
            last_frame = b->pkts[k].frame_no;
            /* Ethernet 14 + IPv4 20 + UDP 8 + 7 bytes */
            assert_int_equal(b->pkts[k].caplen, 49);
            seen++;
        }
    }
    assert_int_equal(rc, NP_EOF);
    assert_int_equal(seen, 3);
    const struct np_source_stats *st = np_source_stats(s);
    assert_int_equal(st->pkts_passed, 3);
    uint16_t lt;
    uint32_t snaplen;
    assert_true(np_source_iface_info(s, 0, &lt, &snaplen));
    assert_int_equal(lt, NP_LINK_ETHERNET);
    np_batch_destroy(b);
    np_source_destroy(s);
}

static void quiet_link_gives_empty_batches_with_a_tick_and_stop_ends_it(void **state)
{
    (void)state;
    struct np_source_opts o = { .bpf = "udp dst port 47125" };
    struct np_source *s = open_lo(&o);
    struct np_batch *b = np_batch_create(64, 1 << 16);
    struct np_err err;
    assert_int_equal(np_source_next(s, b, &err), NP_OK);
    assert_int_equal(b->n, 0);
    assert_true(b->tick_ns > 1600000000ull * 1000000000u);
    np_source_stop(s);
    assert_int_equal(np_source_next(s, b, &err), NP_EOF);
    np_batch_destroy(b);
    np_source_destroy(s);
}

static void bad_filter_on_an_interface_is_a_usage_error(void **state)
{
    (void)state;
    struct np_source_opts o = { .iface = "lo", .bpf = "no such primitive" };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    if (s == NULL && strstr(err.msg, "permission") != NULL)
        skip();
    assert_null(s);
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "bad filter 'no such primitive': "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_interface_is_a_usage_error),
        cmocka_unit_test(loopback_capture_applies_the_filter_and_the_count_limit),
        cmocka_unit_test(quiet_link_gives_empty_batches_with_a_tick_and_stop_ends_it),
        cmocka_unit_test(bad_filter_on_an_interface_is_a_usage_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
