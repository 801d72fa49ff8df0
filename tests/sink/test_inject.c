/* tests/sink/test_inject.c: replay pacing and sending (sink/inject.h).
 *
 * Without arguments: the scheduling math, the lateness histogram, the
 * link-type carry rule and the errors of opening an interface, none of
 * which needs privileges or a clock (one test stops a real wait with
 * SIGALRM and asserts only that it stopped). With "lo": frames are sent on
 * the loopback interface and read back with a libpcap capture filtered on a
 * UDP port of 127.0.0.1; skipped (77) unless root. The capture is polled
 * in a bounded loop; nothing sleeps to synchronise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "core/packet.h"
#include "sink/inject.h"
#include "testutil.h"

#define SEC 1000000000ull
#define MS  1000000ull

/* ---- scheduling math ---- */

static void speed_one_keeps_the_recorded_gaps(void **state)
{
    (void)state;
    assert_int_equal(np_sched_target(1000, 5 * SEC, 5 * SEC, 1.0), 1000);
    assert_int_equal(np_sched_target(1000, 5 * SEC, 5 * SEC + 123, 1.0), 1123);
    assert_int_equal(np_sched_target(1000, 5 * SEC, 605 * SEC, 1.0), 1000 + 600 * SEC);
}

static void speed_two_halves_the_gaps_and_half_speed_doubles_them(void **state)
{
    (void)state;
    assert_int_equal(np_sched_target(7, 0, 1001, 2.0), 7 + 500); /* rounded down */
    assert_int_equal(np_sched_target(7, 0, 10 * SEC, 2.0), 7 + 5 * SEC);
    assert_int_equal(np_sched_target(7, 0, 10 * SEC, 0.5), 7 + 20 * SEC);
    assert_int_equal(np_sched_target(0, 0, 3 * SEC + 2, 3.0), SEC);
    /* An odd gap beyond 2^53 ns still halves to the nanosecond. */
    uint64_t big = (1ull << 60) + 3;
    assert_int_equal(np_sched_target(0, 0, big, 2.0), (1ull << 59) + 1);
}

static void speed_zero_and_timestamps_before_the_first_go_at_the_start(void **state)
{
    (void)state;
    assert_int_equal(np_sched_target(42, 0, 10 * SEC, 0.0), 42);
    assert_int_equal(np_sched_target(42, 10 * SEC, 3 * SEC, 1.0), 42);
    assert_int_equal(np_sched_target(42, 10 * SEC, 3 * SEC, 2.0), 42);
}

static void huge_gaps_saturate_instead_of_wrapping(void **state)
{
    (void)state;
    assert_int_equal(np_sched_target(SEC, 0, UINT64_MAX, 1.0), UINT64_MAX);
    assert_int_equal(np_sched_target(SEC, 0, UINT64_MAX, 0.001), UINT64_MAX);
    assert_int_equal(np_sched_target(UINT64_MAX - 10, 0, 11, 1.0), UINT64_MAX);
    assert_int_equal(np_sched_target(UINT64_MAX - 10, 0, 9, 1.0), UINT64_MAX - 1);
    assert_int_equal(np_sched_target(0, 0, UINT64_MAX, 1e-300), UINT64_MAX);
    assert_int_equal(np_sched_target(5, 0, UINT64_MAX, 1e9), 5 + 18446744073ull);
    assert_int_equal(np_sched_target(5, 1, UINT64_MAX, 1.0), UINT64_MAX);
}

static void the_plan_starts_at_the_first_packet_and_sends_backwards_ones_at_once(void **state)
{
    (void)state;
    struct np_sched s;
    bool timed;
    assert_int_equal(np_sched_init(&s, 1.0, NULL), NP_OK);
    assert_int_equal(np_sched_plan(&s, 100 * SEC, 5000, &timed), 5000);
    assert_false(timed);
    assert_int_equal(np_sched_plan(&s, 101 * SEC, 6000, &timed), 5000 + SEC);
    assert_true(timed);
    /* Backwards: below the largest so far (101 s), even if above the last. */
    assert_int_equal(np_sched_plan(&s, 100 * SEC + 5, 7000, &timed), 7000);
    assert_false(timed);
    assert_int_equal(np_sched_plan(&s, 100 * SEC + 9, 8000, &timed), 8000);
    assert_false(timed);
    /* Equal to the largest is not backwards; it keeps the original schedule. */
    assert_int_equal(np_sched_plan(&s, 101 * SEC, 9000, &timed), 5000 + SEC);
    assert_true(timed);
    assert_int_equal(np_sched_plan(&s, 103 * SEC, 9000, &timed), 5000 + 3 * SEC);
    assert_int_equal(s.n_backwards, 2);
    assert_int_equal(s.n_pkts, 6);

    assert_int_equal(np_sched_init(&s, 0.0, NULL), NP_OK);
    np_sched_plan(&s, 1 * SEC, 10, &timed);
    assert_int_equal(np_sched_plan(&s, 9 * SEC, 20, &timed), 20);
    assert_false(timed);
    assert_int_equal(np_sched_plan(&s, 2 * SEC, 30, &timed), 30);
    assert_int_equal(s.n_backwards, 1);
}

static void speeds_that_are_negative_or_not_numbers_are_usage_errors(void **state)
{
    (void)state;
    struct np_sched s;
    struct np_err err = { 0 };
    assert_int_equal(np_sched_init(&s, -1.0, &err), NP_ERR_USAGE);
    assert_string_equal(err.msg, "--speed must be 0 or a positive number");
    assert_int_equal(np_sched_init(&s, NAN, &err), NP_ERR_USAGE);
    assert_int_equal(np_sched_init(&s, INFINITY, &err), NP_ERR_USAGE);
    assert_int_equal(np_sched_init(&s, 1e-9, &err), NP_OK);
}

static void a_long_wait_wakes_every_100_ms(void **state)
{
    (void)state;
    uint64_t now = 1000 * SEC;
    assert_int_equal(np_sched_wake_ns(now, now + 600 * SEC), now + 100 * MS);
    assert_int_equal(np_sched_wake_ns(now, now + 100 * MS), now + 100 * MS);
    assert_int_equal(np_sched_wake_ns(now, now + 99 * MS), now + 99 * MS);
    assert_int_equal(np_sched_wake_ns(now, now - 5), now - 5);
    assert_int_equal(np_sched_wake_ns(now, UINT64_MAX), now + 100 * MS);
}

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void a_stop_flag_ends_a_ten_minute_wait(void **state)
{
    (void)state;
    struct np_sched s;
    assert_int_equal(np_sched_init(&s, 1.0, NULL), NP_OK);
    stop_flag = 0;
    assert_true(np_sched_wait(&s, 0, &stop_flag)); /* the first goes at once */

    struct sigaction sa = { .sa_handler = on_alarm }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval it = { .it_value = { .tv_sec = 0, .tv_usec = 50000 } };
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    assert_false(np_sched_wait(&s, 600 * SEC, &stop_flag));
    assert_int_equal(s.n_stopped, 1);
    assert_int_equal(s.late.n, 0);
    assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);

    /* Already stopped: not even a packet that is due goes. */
    assert_false(np_sched_wait(&s, 1, &stop_flag));
}

static void a_due_packet_goes_and_its_lateness_is_recorded(void **state)
{
    (void)state;
    struct np_sched s;
    assert_int_equal(np_sched_init(&s, 1.0, NULL), NP_OK);
    assert_true(np_sched_wait(&s, SEC, NULL));
    assert_true(np_sched_wait(&s, SEC + 1000, NULL)); /* 1 us later */
    assert_true(np_sched_wait(&s, SEC + 1000, NULL));
    assert_int_equal(s.late.n, 2);
    assert_int_equal(s.n_pkts, 3);
}

/* ---- histogram ---- */

static void an_empty_histogram_gives_zero(void **state)
{
    (void)state;
    struct np_lathist h;
    np_lathist_reset(&h);
    assert_int_equal(np_lathist_pct(&h, 50), 0);
    assert_int_equal(np_lathist_pct(&h, 100), 0);
}

static void small_values_are_exact_and_the_maximum_is_exact(void **state)
{
    (void)state;
    struct np_lathist h;
    np_lathist_reset(&h);
    for (uint64_t v = 1; v <= 20; v++)
        np_lathist_add(&h, v);
    assert_int_equal(np_lathist_pct(&h, 50), 10);
    assert_int_equal(np_lathist_pct(&h, 51), 11); /* rank ceil(10.2) = 11 */
    assert_int_equal(np_lathist_pct(&h, 100), 20);
    assert_int_equal(np_lathist_pct(&h, 0.001), 1);
    np_lathist_add(&h, 12345);
    assert_int_equal(np_lathist_pct(&h, 100), 12345);
    assert_int_equal(h.max_ns, 12345);
    np_lathist_add(&h, UINT64_MAX);
    assert_int_equal(np_lathist_pct(&h, 100), UINT64_MAX);
    assert_int_equal(h.n, 22);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#define N 100000

static void percentiles_are_never_below_the_truth_nor_6_percent_above(void **state)
{
    (void)state;
    static uint64_t v[N];
    static struct np_lathist h;
    np_lathist_reset(&h);
    rng_seed(99);
    for (int i = 0; i < N; i++) {
        /* Lateness spread over 1 ns to 17 s, about log-uniform. */
        unsigned k = rng_below(34);
        v[i] = (1ull << k) | (rng_next() & ((1ull << k) - 1));
        np_lathist_add(&h, v[i]);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    const double pcts[] = { 1, 10, 50, 90, 99, 99.9, 100 };
    const size_t ranks[] = { N / 100, N / 10, N / 2, N * 9 / 10, N * 99 / 100, N * 999 / 1000, N };
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        size_t rank = ranks[i];
        uint64_t truth = v[rank - 1];
        uint64_t got = np_lathist_pct(&h, pcts[i]);
        assert_true(got >= truth);
        assert_true((double)got <= (double)truth * 1.0625 + 1);
    }
    assert_int_equal(np_lathist_pct(&h, 100), v[N - 1]);
}

/* ---- carry rule, open errors ---- */

static void only_the_same_link_type_or_raw_ip_on_raw_ip_is_carried(void **state)
{
    (void)state;
    assert_true(np_inject_carries(NP_LINK_ETHERNET, NP_LINK_ETHERNET));
    assert_false(np_inject_carries(NP_LINK_ETHERNET, NP_LINK_SLL));
    assert_false(np_inject_carries(NP_LINK_ETHERNET, NP_LINK_SLL2));
    assert_false(np_inject_carries(NP_LINK_ETHERNET, NP_LINK_RAW));
    assert_false(np_inject_carries(NP_LINK_ETHERNET, NP_LINK_NULL));
    assert_false(np_inject_carries(NP_LINK_SLL, NP_LINK_SLL));
    assert_false(np_inject_carries(NP_LINK_SLL2, NP_LINK_ETHERNET));
    assert_false(np_inject_carries(NP_LINK_RAW, NP_LINK_ETHERNET));
    const uint16_t raw[] = { NP_LINK_RAW_OLD, NP_LINK_RAW, NP_LINK_IPV4, NP_LINK_IPV6 };
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            assert_true(np_inject_carries(raw[i], raw[j]));
    assert_true(np_inject_carries(NP_LINK_NULL, NP_LINK_NULL));
    assert_false(np_inject_carries(NP_LINK_NULL, NP_LINK_LOOP));
}

static void an_unknown_interface_is_a_usage_error_naming_it(void **state)
{
    (void)state;
    struct np_err err = { 0 };
    assert_null(np_inject_open("np-nosuch0", &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "cannot send on np-nosuch0: "));
    assert_null(strchr(err.msg, '\n'));
    np_inject_close(NULL);
}

/* ---- sending on lo ---- */

#define LO_PORT 47391 /* the capture's filter; nothing else uses it */

static uint16_t ip_checksum(const uint8_t *h, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)h[i] << 8 | h[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Ethernet (zero addresses, as lo has) + IPv4 127.0.0.1 -> 127.0.0.1 + UDP
 * to LO_PORT with 'fill' repeated; vlan_tags 802.1Q tags before IPv4.
 * Returns the frame length. */
static size_t lo_frame(uint8_t *b, size_t payload, uint8_t fill, unsigned vlan_tags)
{
    size_t n = 12;
    memset(b, 0, 12);
    for (unsigned i = 0; i < vlan_tags; i++) {
        b[n++] = 0x81;
        b[n++] = 0x00;
        b[n++] = 0;
        b[n++] = 5;
    }
    b[n++] = 0x08;
    b[n++] = 0x00;
    uint8_t *ip = b + n;
    size_t ip_len = 20 + 8 + payload;
    memset(ip, 0, 28);
    ip[0] = 0x45;
    ip[2] = (uint8_t)(ip_len >> 8);
    ip[3] = (uint8_t)ip_len;
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = ip[16] = 127;
    ip[15] = ip[19] = 1;
    uint16_t c = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *udp = ip + 20;
    udp[0] = 40000 >> 8;
    udp[1] = 40000 & 0xff;
    udp[2] = LO_PORT >> 8;
    udp[3] = LO_PORT & 0xff;
    udp[4] = (uint8_t)((8 + payload) >> 8);
    udp[5] = (uint8_t)(8 + payload);
    memset(udp + 8, fill, payload);
    return n + ip_len;
}

struct got {
    unsigned n;
    size_t len[8];
    uint8_t data[8][256];
};

static void on_pkt(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct got *g = (struct got *)user;
    if (g->n < 8) {
        size_t k = h->caplen < 256 ? h->caplen : 256;
        memcpy(g->data[g->n], bytes, k);
        g->len[g->n] = h->caplen;
    }
    g->n++;
}

static pcap_t *open_lo_capture(void)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *c = pcap_create("lo", errbuf);
    assert_non_null(c);
    pcap_set_snaplen(c, 65535);
    pcap_set_immediate_mode(c, 1);
    pcap_set_timeout(c, 100);
    assert_true(pcap_activate(c) >= 0);
    struct bpf_program prog;
    char filter[128];
    snprintf(filter, sizeof(filter), "udp and dst host 127.0.0.1 and dst port %d", LO_PORT);
    assert_int_equal(pcap_compile(c, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0);
    assert_int_equal(pcap_setfilter(c, &prog), 0);
    pcap_freecode(&prog);
    assert_int_equal(pcap_setnonblock(c, 1, errbuf), 0);
    return c;
}

static void frames_sent_on_lo_arrive_whole_and_in_order_and_bad_ones_are_counted(void **state)
{
    (void)state;
    pcap_t *cap = open_lo_capture();
    struct np_err err = { 0 };
    struct np_inject *inj = np_inject_open("lo", &err);
    if (inj == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(np_inject_linktype(inj), NP_LINK_ETHERNET);
    uint32_t mtu = np_inject_mtu(inj);
    assert_true(mtu >= 1500);
    assert_true(np_inject_can_carry(inj, NP_LINK_ETHERNET));
    assert_false(np_inject_can_carry(inj, NP_LINK_SLL));
    assert_int_equal(np_inject_check_linktype(inj, NP_LINK_SLL2, &err), NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "cannot replay link type LINUX_SLL2 (276) on lo (link type "
                                    "EN10MB (1)): "));

    static uint8_t frames[3][128];
    size_t lens[3];
    for (int i = 0; i < 3; i++)
        lens[i] = lo_frame(frames[i], 10 + (size_t)i * 7, (uint8_t)('A' + i), 0);

    struct np_sched s;
    assert_int_equal(np_sched_init(&s, 0.0, NULL), NP_OK);
    uint64_t ts = 50 * SEC;
    for (int i = 0; i < 3; i++) {
        struct np_pkt p = { .ts_ns = ts + (uint64_t)i * 600 * SEC, /* speed 0: no wait */
                            .data = frames[i],
                            .caplen = (uint32_t)lens[i],
                            .wirelen = (uint32_t)lens[i],
                            .linktype = NP_LINK_ETHERNET };
        assert_true(np_sched_wait(&s, p.ts_ns, NULL));
        assert_true(np_inject_send(inj, &p));
    }

    /* Too big: one byte over the MTU plus the Ethernet header. */
    size_t big_len = (size_t)mtu + 14 + 1;
    uint8_t *big = calloc(1, big_len);
    assert_non_null(big);
    lo_frame(big, 0, 0, 0);
    struct np_pkt bp = { .data = big,
                         .caplen = (uint32_t)big_len,
                         .wirelen = (uint32_t)big_len,
                         .linktype = NP_LINK_ETHERNET };
    assert_int_equal(np_inject_max_frame(inj, &bp), mtu + 14);
    assert_false(np_inject_send(inj, &bp));
    /* A VLAN tag allows 4 bytes more; two tags 8. */
    lo_frame(big, 0, 0, 2);
    assert_int_equal(np_inject_max_frame(inj, &bp), mtu + 22);
    free(big);

    /* Cut by the snaplen, and a link type lo cannot carry. */
    struct np_pkt cut = {
        .data = frames[0], .caplen = 30, .wirelen = (uint32_t)lens[0], .linktype = NP_LINK_ETHERNET
    };
    assert_false(np_inject_send(inj, &cut));
    struct np_pkt sll = { .data = frames[0],
                          .caplen = (uint32_t)lens[0],
                          .wirelen = (uint32_t)lens[0],
                          .linktype = NP_LINK_SLL };
    assert_false(np_inject_send(inj, &sll));

    const struct np_inject_stats *st = np_inject_stats(inj);
    assert_int_equal(st->sent_pkts, 3);
    assert_int_equal(st->sent_bytes, lens[0] + lens[1] + lens[2]);
    assert_int_equal(st->skipped_too_big, 1);
    assert_int_equal(st->skipped_truncated, 1);
    assert_int_equal(st->skipped_linktype, 1);
    assert_int_equal(st->send_errors, 0);
    assert_int_equal(st->first_errno, 0);

    /* Read them back: at most 50 polls of 100 ms. */
    struct got g = { 0 };
    int fd = pcap_get_selectable_fd(cap);
    assert_true(fd >= 0);
    for (int turn = 0; turn < 50 && g.n < 3; turn++) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        (void)poll(&pfd, 1, 100);
        assert_true(pcap_dispatch(cap, -1, on_pkt, (u_char *)&g) >= 0);
    }
    assert_int_equal(g.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g.len[i], lens[i]);
        assert_memory_equal(g.data[i], frames[i], lens[i]);
    }
    np_inject_close(inj);
    pcap_close(cap);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(speed_one_keeps_the_recorded_gaps),
        cmocka_unit_test(speed_two_halves_the_gaps_and_half_speed_doubles_them),
        cmocka_unit_test(speed_zero_and_timestamps_before_the_first_go_at_the_start),
        cmocka_unit_test(huge_gaps_saturate_instead_of_wrapping),
        cmocka_unit_test(the_plan_starts_at_the_first_packet_and_sends_backwards_ones_at_once),
        cmocka_unit_test(speeds_that_are_negative_or_not_numbers_are_usage_errors),
        cmocka_unit_test(a_long_wait_wakes_every_100_ms),
        cmocka_unit_test(a_stop_flag_ends_a_ten_minute_wait),
        cmocka_unit_test(a_due_packet_goes_and_its_lateness_is_recorded),
        cmocka_unit_test(an_empty_histogram_gives_zero),
        cmocka_unit_test(small_values_are_exact_and_the_maximum_is_exact),
        cmocka_unit_test(percentiles_are_never_below_the_truth_nor_6_percent_above),
        cmocka_unit_test(only_the_same_link_type_or_raw_ip_on_raw_ip_is_carried),
        cmocka_unit_test(an_unknown_interface_is_a_usage_error_naming_it),
    };
    const struct CMUnitTest lo_tests[] = {
        cmocka_unit_test(frames_sent_on_lo_arrive_whole_and_in_order_and_bad_ones_are_counted),
    };
    if (argc > 1 && strcmp(argv[1], "lo") == 0) {
        if (geteuid() != 0) {
            fprintf(stderr, "skipped: sending on lo needs root\n");
            return 77;
        }
        return cmocka_run_group_tests_name("inject_lo", lo_tests, NULL, NULL);
    }
    return cmocka_run_group_tests_name("inject", tests, NULL, NULL);
}
