/* tests/source/test_source.c: what the source adds to the readers: several
 * inputs and stdin, frame numbers, the BPF filter, the count and duration
 * limits, stop, warnings, and libpcap's reader as an alternative.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/packet.h"
#include "source/source.h"
#include "capbuild.h"
#include "tmpdir.h"

/* n Ethernet frames, one per second from t0: UDP when i % 3 == 0, else TCP. */
static char *mixed_pcap(const char *name, uint32_t n, uint32_t t0)
{
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 65535, 1);
    for (uint32_t i = 0; i < n; i++) {
        struct cb f = { 0 };
        cb_ether_ipv4(&f, i % 3 == 0, 53);
        cb_pcap_rec_head(&b, t0 + i, 0, (uint32_t)f.len, (uint32_t)f.len);
        cb_bytes(&b, f.p, f.len);
        cb_free(&f);
    }
    char *path = cb_write(&b, tmpdir, name);
    cb_free(&b);
    return path;
}

static void frame_numbers_run_on_across_files(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 5, 100);
    char *b = mixed_pcap("b.pcap", 4, 50);
    const char *files[] = { a, b, a };
    struct np_source_opts o = { .files = files, .n_files = 3 };
    struct got g;
    read_all(&o, &g);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n, 14);
    for (size_t i = 0; i < g.n; i++)
        assert_int_equal(g.r[i].frame_no, i + 1);
    assert_true(g.r[5].ts_ns == 50000000000ull); /* time may step back between files */
    assert_int_equal(g.st.pkts_read, 14);
    assert_int_equal(g.st.pkts_passed, 14);
    got_free(&g);
    free(a);
    free(b);
}

static void damaged_file_warns_and_the_next_file_follows(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 5, 100);
    struct cb t = { 0 };
    cb_pcap_header(&t, false, 65535, 1);
    cb_pcap_rec(&t, 1, 0, 10, 10, 0);
    t.len -= 3;
    char *bad = cb_write(&t, tmpdir, "bad.pcap");
    struct cb e = { 0 };
    cb_pcap_header(&e, false, 65535, 1);
    cb_u32(&e, 1);
    char *bad2 = cb_write(&e, tmpdir, "bad2.pcap");
    const char *files[] = { bad, bad2, a };
    struct np_source_opts o = { .files = files, .n_files = 3 };
    struct got g;
    read_all(&o, &g);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n, 5);
    assert_int_equal(g.st.files_damaged, 2);
    assert_int_equal(g.n_warn, 2); /* one per damaged file, none lost */
    assert_non_null(strstr(g.warn[0], bad));
    assert_non_null(strstr(g.warn[0], "0 packets read"));
    assert_non_null(strstr(g.warn[1], bad2));
    assert_non_null(strstr(g.warn[1], "truncated record"));
    assert_int_equal(g.r[0].frame_no, 1);
    got_free(&g);
    cb_free(&t);
    cb_free(&e);
    free(a);
    free(bad);
    free(bad2);
}

static void stdin_reads_like_a_file(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 50, 100);
    struct got want;
    read_file(a, &want);

    for (uint32_t chunk = 0; chunk <= 13; chunk += 13) {
        int fd = open(a, O_RDONLY);
        assert_true(fd >= 0);
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof(buf));
        assert_true(n > 0 && n < 8192); /* fits in the pipe: no writer thread needed */
        assert_int_equal(write(pfd[1], buf, (size_t)n), n);
        close(pfd[1]);
        close(fd);
        int saved = dup(0);
        dup2(pfd[0], 0);
        close(pfd[0]);

        const char *files[] = { "-" };
        struct np_source_opts o = { .files = files, .n_files = 1, .read_chunk_bytes = chunk };
        struct got g;
        read_all(&o, &g);
        dup2(saved, 0);
        close(saved);
        assert_int_equal(g.rc, NP_EOF);
        assert_int_equal(g.n, want.n);
        assert_memory_equal(g.r, want.r, want.n * sizeof(*want.r));
        got_free(&g);
    }
    got_free(&want);
    free(a);
}

static void stdin_given_twice_is_a_usage_error(void **state)
{
    (void)state;
    const char *files[] = { "-", "-" };
    struct np_source_opts o = { .files = files, .n_files = 2 };
    struct np_err err;
    assert_null(np_source_create(&o, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "stdin"));
}

static void no_input_or_both_kinds_is_a_usage_error(void **state)
{
    (void)state;
    struct np_source_opts o = { 0 };
    struct np_err err;
    assert_null(np_source_create(&o, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    const char *files[] = { "x.pcap" };
    struct np_source_opts o2 = { .files = files, .n_files = 1, .iface = "lo" };
    assert_null(np_source_create(&o2, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
}

static void filter_drops_packets_but_they_keep_their_frame_numbers(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 10, 100);
    const char *files[] = { a, a };
    struct np_source_opts o = { .files = files, .n_files = 2, .bpf = "udp port 53" };
    struct got g;
    read_all(&o, &g);
    assert_int_equal(g.rc, NP_EOF);
    static const uint64_t want[] = { 1, 4, 7, 10, 11, 14, 17, 20 };
    assert_int_equal(g.n, 8);
    for (size_t i = 0; i < g.n; i++)
        assert_int_equal(g.r[i].frame_no, want[i]);
    assert_int_equal(g.st.pkts_read, 20);
    assert_int_equal(g.st.pkts_filtered, 12);
    assert_int_equal(g.st.pkts_passed, 8);
    assert_int_equal(g.st.bytes_captured, 8 * (14 + 20 + 8 + 4));
    got_free(&g);
    free(a);
}

static void bad_filter_is_a_usage_error_at_create(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 1, 100);
    const char *files[] = { a };
    struct np_source_opts o = { .files = files, .n_files = 1, .bpf = "udp port banana" };
    struct np_err err;
    assert_null(np_source_create(&o, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "bad filter 'udp port banana': "));
    free(a);
}

static void filter_is_compiled_for_each_link_type_of_a_pcapng(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_idb(&b, 101, 0, -1, 0);
    for (int i = 0; i < 4; i++) {
        struct cb f = { 0 };
        if (i < 2)
            cb_ether_ipv4(&f, i % 2 == 0, 53);
        else
            cb_ipv4(&f, i % 2 == 0, 53);
        cb_epb_data(&b, i < 2 ? 0 : 1, (uint64_t)i, f.p, (uint32_t)f.len);
        cb_free(&f);
    }
    char *path = cb_write(&b, tmpdir, "two-types.pcapng");
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1, .bpf = "udp" };
    struct got g;
    read_all(&o, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].frame_no, 1);
    assert_int_equal(g.r[0].linktype, 1);
    assert_int_equal(g.r[1].frame_no, 3);
    assert_int_equal(g.r[1].linktype, 101);
    assert_int_equal(g.n_warn, 0);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void filter_that_cannot_apply_to_a_later_link_type_filters_its_packets_out(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_idb(&b, 147, 0, -1, 0); /* user-defined: no Ethernet addresses there */
    cb_epb(&b, 0, 1, 60, 60, 0);
    cb_epb(&b, 1, 2, 60, 60, 0);
    char *path = cb_write(&b, tmpdir, "user.pcapng");
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1, .bpf = "ether host 1:2:3:4:5:6" };
    struct got g;
    read_all(&o, &g);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.st.pkts_filtered, 2);
    assert_int_equal(g.n_warn, 1);
    assert_non_null(strstr(g.warn[0], "link type 147"));
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void count_limit_stops_after_that_many_packets_pass(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 30, 100);
    const char *files[] = { a, a };
    struct np_source_opts o = { .files = files, .n_files = 2, .bpf = "udp", .max_packets = 12 };
    struct got g;
    read_all_sized(&o, &g, 5, 1 << 16);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n, 12);
    assert_int_equal(g.r[11].frame_no, 34); /* the 12th UDP frame: 2nd file, 4th frame */
    assert_int_equal(g.st.pkts_passed, 12);
    got_free(&g);
    free(a);
}

static void duration_limit_on_files_counts_capture_time_from_the_first_packet(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 30, 100);
    const char *files[] = { a };
    struct np_source_opts o = { .files = files, .n_files = 1, .duration_ns = 5000000000ull };
    struct got g;
    read_all(&o, &g);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n, 6); /* t = 100..105 s; 106 is past first + 5 s */
    got_free(&g);
    free(a);
}

static void small_batches_carry_records_over_without_losing_any(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 200, 100);
    struct got want, g;
    read_file(a, &want);
    const char *files[] = { a };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    for (uint32_t cap = 1; cap <= 7; cap++) {
        read_all_sized(&o, &g, cap, 16);
        assert_int_equal(g.n, 200);
        assert_memory_equal(g.r, want.r, want.n * sizeof(*want.r));
        assert_true(g.n_batches >= 200 / cap);
        got_free(&g);
    }
    got_free(&want);
    free(a);
}

static void libpcap_reader_gives_the_same_packets(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        struct cb b = { .be = be };
        cb_pcap_header(&b, be, 65535, 1);
        for (uint32_t i = 0; i < 300; i++)
            cb_pcap_rec(&b, 1000 + i, i * 7, (i * 131) % 1500, 1500, (uint8_t)i);
        char *path = cb_write(&b, tmpdir, "lp.pcap");
        const char *files[] = { path, path };
        struct np_source_opts o = { .files = files, .n_files = 2, .bpf = "len > 700" };
        struct got ours, theirs;
        read_all_sized(&o, &ours, 64, 4096);
        o.libpcap_reader = true;
        o.read_chunk_bytes = 5000; /* packets stashed across batches */
        read_all_sized(&o, &theirs, 64, 4096);
        assert_int_equal(theirs.rc, NP_EOF);
        assert_int_equal(ours.n, theirs.n);
        assert_true(ours.n > 100);
        for (size_t i = 0; i < ours.n; i++) {
            assert_true(ours.r[i].ts_ns == theirs.r[i].ts_ns);
            assert_int_equal(ours.r[i].frame_no, theirs.r[i].frame_no);
            assert_int_equal(ours.r[i].caplen, theirs.r[i].caplen);
            assert_int_equal(ours.r[i].wirelen, theirs.r[i].wirelen);
            assert_int_equal(ours.r[i].linktype, theirs.r[i].linktype);
            assert_true(ours.r[i].hash == theirs.r[i].hash);
        }
        got_free(&ours);
        got_free(&theirs);
        free(path);
        cb_free(&b);
    }
}

static void libpcap_reader_reports_missing_and_non_capture_files(void **state)
{
    (void)state;
    const char *files[] = { "/nonexistent.pcap" };
    struct np_source_opts o = { .files = files, .n_files = 1, .libpcap_reader = true };
    struct np_err err;
    assert_null(np_source_create(&o, &err));
    assert_int_equal(err.rc, NP_ERR_IO);
    struct cb b = { 0 };
    cb_bytes(&b, "not a capture at all", 20);
    char *path = cb_write(&b, tmpdir, "text");
    files[0] = path;
    assert_null(np_source_create(&o, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, "not a pcap or pcapng file"));
    free(path);
    cb_free(&b);
}

static void stop_ends_reading_at_the_next_batch(void **state)
{
    (void)state;
    char *a = mixed_pcap("a.pcap", 100, 100);
    const char *files[] = { a };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    assert_non_null(s);
    struct np_batch *b = np_batch_create(10, 1 << 16);
    assert_int_equal(np_source_next(s, b, &err), NP_OK);
    assert_int_equal(b->n, 10);
    np_source_stop(s);
    assert_int_equal(np_source_next(s, b, &err), NP_EOF);
    assert_int_equal(b->n, 0);
    assert_int_equal(np_source_next(s, b, &err), NP_EOF);
    np_batch_destroy(b);
    np_source_destroy(s);
    np_source_destroy(NULL);
    free(a);
}

static void interface_info_answers_for_the_input_and_section_of_the_last_batch(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 1500, 113);
    cb_pcap_rec(&b, 1, 0, 10, 10, 0);
    char *a = cb_write(&b, tmpdir, "sll.pcap");
    cb_free(&b);
    cb_shb(&b);
    cb_idb(&b, 101, 96, -1, 0);
    cb_epb(&b, 0, 1, 10, 10, 0);
    cb_shb(&b);
    cb_idb(&b, 228, 64, -1, 0);
    cb_epb(&b, 0, 2, 10, 10, 0);
    char *ng = cb_write(&b, tmpdir, "two-sections.pcapng");
    cb_free(&b);
    const char *files[] = { a, ng };
    struct np_source_opts o = { .files = files, .n_files = 2 };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    assert_non_null(s);
    struct np_batch *bt = np_batch_create(64, 1 << 16);
    static const uint16_t want_lt[] = { 113, 101, 228 };
    static const uint32_t want_snap[] = { 1500, 96, 64 };
    size_t seen = 0;
    enum np_rc rc;
    do {
        rc = np_source_next(s, bt, &err);
        if (bt->n == 0)
            continue;
        assert_int_equal(bt->n, 1);
        assert_true(seen < 3);
        uint16_t lt;
        uint32_t snap;
        assert_true(np_source_iface_info(s, 0, &lt, &snap));
        assert_int_equal(lt, want_lt[seen]);
        assert_int_equal(snap, want_snap[seen]);
        assert_int_equal(bt->pkts[0].linktype, want_lt[seen]);
        seen++;
    } while (rc == NP_OK);
    assert_int_equal(seen, 3);
    np_batch_destroy(bt);
    np_source_destroy(s);
    free(a);
    free(ng);
}

/* What np_source_mixed_linktypes(), np_source_nano() and np_source_any_pcapng()
 * say for files, at create time and after reading everything. */
struct announce {
    bool mixed, nano, pcapng;
};

static void announced(const char *const *files, size_t n, bool libpcap, struct announce *at_create,
                      struct announce *at_end)
{
    struct np_source_opts o = { .files = files, .n_files = n, .libpcap_reader = libpcap };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    assert_non_null(s);
    at_create->mixed = np_source_mixed_linktypes(s);
    at_create->nano = np_source_nano(s);
    at_create->pcapng = np_source_any_pcapng(s);
    struct np_batch *bt = np_batch_create(4, 1 << 16);
    assert_non_null(bt);
    while (np_source_next(s, bt, &err) == NP_OK) {
    }
    (void)np_source_take_warning(s);
    at_end->mixed = np_source_mixed_linktypes(s);
    at_end->nano = np_source_nano(s);
    at_end->pcapng = np_source_any_pcapng(s);
    np_batch_destroy(bt);
    np_source_destroy(s);
}

static void expect_announced(const char *const *files, size_t n, struct announce create,
                             struct announce end)
{
    for (int libpcap = 0; libpcap < 2; libpcap++) {
        struct announce c, e;
        announced(files, n, libpcap, &c, &e);
        assert_int_equal(c.mixed, create.mixed);
        assert_int_equal(c.nano, create.nano);
        assert_int_equal(c.pcapng, create.pcapng);
        if (libpcap)
            continue; /* libpcap refuses files with mixed link types part-way */
        assert_int_equal(e.mixed, end.mixed);
        assert_int_equal(e.nano, end.nano);
        assert_int_equal(e.pcapng, end.pcapng);
    }
}

static void link_types_and_nanoseconds_of_pcap_files_are_known_at_create(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 1500, 1);
    cb_pcap_rec(&b, 1, 0, 10, 10, 0);
    char *usec_eth = cb_write(&b, tmpdir, "usec-eth.pcap");
    cb_free(&b);
    b.be = true;
    cb_pcap_header(&b, true, 1500, 1);
    cb_pcap_rec(&b, 1, 5, 10, 10, 0);
    char *nsec_eth_be = cb_write(&b, tmpdir, "nsec-eth-be.pcap");
    cb_free(&b);
    cb_pcap_header(&b, false, 1500, 113);
    cb_pcap_rec(&b, 1, 0, 10, 10, 0);
    char *usec_sll = cb_write(&b, tmpdir, "usec-sll.pcap");
    cb_free(&b);

    const struct announce none = { false, false, false };
    const struct announce nano = { false, true, false };
    const struct announce mixed = { true, false, false };
    const struct announce both = { true, true, false };
    const char *one[] = { usec_eth };
    expect_announced(one, 1, none, none);
    const char *same[] = { usec_eth, nsec_eth_be, usec_eth };
    expect_announced(same, 3, nano, nano);
    const char *two[] = { usec_eth, usec_sll };
    expect_announced(two, 2, mixed, mixed);
    const char *all[] = { usec_sll, usec_eth, nsec_eth_be };
    expect_announced(all, 3, both, both);
    free(usec_eth);
    free(nsec_eth_be);
    free(usec_sll);
}

static void pcapng_interfaces_before_the_first_packet_are_known_at_create(void **state)
{
    (void)state;
    struct cb b = { 0 };
    /* Two Ethernet interfaces, microseconds (explicitly and by default). */
    cb_shb(&b);
    cb_idb(&b, 1, 0, 6, 0);
    cb_idb(&b, 1, 0, -1, 0);
    cb_epb(&b, 1, 1, 10, 10, 0);
    char *eth2 = cb_write(&b, tmpdir, "eth2.pcapng");
    cb_free(&b);
    /* Ethernet and SLL, one of them in nanoseconds; big-endian. */
    b.be = true;
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_other_block(&b, 4, 16); /* an NRB between the IDBs */
    cb_idb(&b, 113, 0, 9, 0);
    cb_epb(&b, 0, 1, 10, 10, 0);
    char *mixed_nsec = cb_write(&b, tmpdir, "mixed-nsec.pcapng");
    cb_free(&b);
    /* 2^-20 s is finer than a microsecond; 2^-19 s is not. */
    cb_shb(&b);
    cb_idb(&b, 1, 0, 0x80 | 20, 0);
    cb_epb(&b, 0, 1, 10, 10, 0);
    char *bin20 = cb_write(&b, tmpdir, "bin20.pcapng");
    cb_free(&b);
    cb_shb(&b);
    cb_idb(&b, 1, 0, 0x80 | 19, 0);
    cb_epb(&b, 0, 1, 10, 10, 0);
    char *bin19 = cb_write(&b, tmpdir, "bin19.pcapng");
    cb_free(&b);

    const struct announce ng = { false, false, true };
    const struct announce ng_nano = { false, true, true };
    const struct announce ng_both = { true, true, true };
    const char *f1[] = { eth2 };
    expect_announced(f1, 1, ng, ng);
    const char *f2[] = { mixed_nsec };
    expect_announced(f2, 1, ng_both, ng_both);
    const char *f3[] = { bin20 };
    expect_announced(f3, 1, ng_nano, ng_nano);
    const char *f4[] = { bin19 };
    expect_announced(f4, 1, ng, ng);
    free(eth2);
    free(mixed_nsec);
    free(bin20);
    free(bin19);
}

static void pcapng_interfaces_after_packets_are_known_once_read(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_epb(&b, 0, 1, 10, 10, 0);
    cb_idb(&b, 113, 0, 9, 0);
    cb_epb(&b, 1, 2, 10, 10, 0);
    char *late_idb = cb_write(&b, tmpdir, "late-idb.pcapng");
    cb_free(&b);
    /* A second section, after packets, with another link type. */
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_epb(&b, 0, 1, 10, 10, 0);
    cb_shb(&b);
    cb_idb(&b, 228, 0, -1, 0);
    cb_epb(&b, 0, 2, 10, 10, 0);
    char *late_shb = cb_write(&b, tmpdir, "late-section.pcapng");
    cb_free(&b);

    struct announce c, e;
    const char *f1[] = { late_idb };
    announced(f1, 1, false, &c, &e);
    assert_false(c.mixed);
    assert_false(c.nano);
    assert_true(c.pcapng);
    assert_true(e.mixed);
    assert_true(e.nano);
    const char *f2[] = { late_shb };
    announced(f2, 1, false, &c, &e);
    assert_false(c.mixed);
    assert_true(e.mixed);
    free(late_idb);
    free(late_shb);
}

static void announcements_come_through_stdin_too(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_idb(&b, 101, 0, 9, 0);
    cb_epb(&b, 1, 1, 10, 10, 0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(write(pfd[1], b.p, b.len), (ssize_t)b.len); /* fits in the pipe */
    close(pfd[1]);
    int saved = dup(0);
    dup2(pfd[0], 0);
    close(pfd[0]);
    const char *files[] = { "-" };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    dup2(saved, 0);
    close(saved);
    assert_non_null(s);
    assert_true(np_source_mixed_linktypes(s));
    assert_true(np_source_nano(s));
    assert_true(np_source_any_pcapng(s));
    uint16_t lt;
    uint32_t snap;
    assert_true(np_source_iface_info(s, 1, &lt, &snap));
    assert_int_equal(lt, 101);
    struct np_batch *bt = np_batch_create(4, 1 << 16);
    assert_int_equal(np_source_next(s, bt, &err), NP_EOF);
    assert_int_equal(bt->n, 1);
    assert_int_equal(bt->pkts[0].linktype, 101);
    np_batch_destroy(bt);
    np_source_destroy(s);
    cb_free(&b);
}

static void interface_info_answers_before_the_first_batch(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, true, 1600, 113);
    cb_pcap_rec(&b, 1, 0, 10, 10, 0);
    char *pcap = cb_write(&b, tmpdir, "info.pcap");
    cb_free(&b);
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0); /* a section without packets, then the one that has them */
    cb_shb(&b);
    cb_idb(&b, 228, 64, -1, 0);
    cb_idb(&b, 229, 128, 9, 0);
    cb_epb(&b, 1, 1, 10, 10, 0);
    char *ng = cb_write(&b, tmpdir, "info.pcapng");
    cb_free(&b);

    for (int libpcap = 0; libpcap < 2; libpcap++) {
        const char *files[] = { pcap, ng };
        struct np_source_opts o = { .files = files, .n_files = 2, .libpcap_reader = libpcap };
        struct np_err err;
        struct np_source *s = np_source_create(&o, &err);
        assert_non_null(s);
        uint16_t lt = 0;
        uint32_t snap = 0;
        assert_true(np_source_iface_info(s, 0, &lt, &snap));
        assert_int_equal(lt, 113);
        assert_int_equal(snap, 1600);
        assert_false(np_source_iface_info(s, 1, &lt, &snap));
        assert_true(np_source_nano(s));
        np_source_destroy(s);
    }
    /* Our reader answers for the section of the first packet; libpcap (not
     * tested here) for the first IDB of the file, and interface 0 only. */
    const char *files[] = { ng };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    assert_non_null(s);
    uint16_t lt = 0;
    uint32_t snap = 0;
    assert_true(np_source_iface_info(s, 0, &lt, &snap));
    assert_int_equal(lt, 228);
    assert_int_equal(snap, 64);
    assert_true(np_source_iface_info(s, 1, &lt, &snap));
    assert_int_equal(lt, 229);
    assert_int_equal(snap, 128);
    assert_false(np_source_iface_info(s, 2, &lt, &snap));
    np_source_destroy(s);
    free(pcap);
    free(ng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_numbers_run_on_across_files),
        cmocka_unit_test(damaged_file_warns_and_the_next_file_follows),
        cmocka_unit_test(stdin_reads_like_a_file),
        cmocka_unit_test(stdin_given_twice_is_a_usage_error),
        cmocka_unit_test(no_input_or_both_kinds_is_a_usage_error),
        cmocka_unit_test(filter_drops_packets_but_they_keep_their_frame_numbers),
        cmocka_unit_test(bad_filter_is_a_usage_error_at_create),
        cmocka_unit_test(filter_is_compiled_for_each_link_type_of_a_pcapng),
        cmocka_unit_test(filter_that_cannot_apply_to_a_later_link_type_filters_its_packets_out),
        cmocka_unit_test(count_limit_stops_after_that_many_packets_pass),
        cmocka_unit_test(duration_limit_on_files_counts_capture_time_from_the_first_packet),
        cmocka_unit_test(small_batches_carry_records_over_without_losing_any),
        cmocka_unit_test(libpcap_reader_gives_the_same_packets),
        cmocka_unit_test(libpcap_reader_reports_missing_and_non_capture_files),
        cmocka_unit_test(stop_ends_reading_at_the_next_batch),
        cmocka_unit_test(interface_info_answers_for_the_input_and_section_of_the_last_batch),
        cmocka_unit_test(interface_info_answers_before_the_first_batch),
        cmocka_unit_test(link_types_and_nanoseconds_of_pcap_files_are_known_at_create),
        cmocka_unit_test(pcapng_interfaces_before_the_first_packet_are_known_at_create),
        cmocka_unit_test(pcapng_interfaces_after_packets_are_known_once_read),
        cmocka_unit_test(announcements_come_through_stdin_too),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
