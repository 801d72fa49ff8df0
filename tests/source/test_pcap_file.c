/* tests/source/test_pcap_file.c: our pcap and pcapng reader, through the
 * source API.
 *
 * Files are built byte by byte (capbuild.h) in a temporary directory: both
 * byte orders, both timestamp units, pcapng sections and interfaces with
 * different resolutions, every packet block type, and damaged files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/packet.h"
#include "source/source.h"
#include "capbuild.h"
#include "tmpdir.h"

/* Reads path with the given chunk size and batch size. */
static void read_chunked(const char *path, uint32_t chunk, uint32_t cap_pkts, struct got *g)
{
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1, .read_chunk_bytes = chunk };
    read_all_sized(&o, g, cap_pkts, 64);
}

static void classic_pcap_reads_alike_in_both_byte_orders_and_units(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        for (int nsec = 0; nsec <= 1; nsec++) {
            struct cb b = { .be = be };
            cb_pcap_header(&b, nsec, 65535, 1);
            cb_pcap_rec(&b, 1700000000, 123456, 60, 60, 1);
            cb_pcap_rec(&b, 1700000001, 999999, 0, 1514, 2);
            cb_pcap_rec(&b, 4000000000u, 1, 1500, 1514, 3);
            char *path = cb_write(&b, tmpdir, "classic.pcap");
            struct got g;
            read_file(path, &g);
            assert_int_equal(g.rc, NP_EOF);
            assert_int_equal(g.n, 3);
            uint64_t mul = nsec ? 1 : 1000;
            assert_true(g.r[0].ts_ns == 1700000000ull * 1000000000u + 123456 * mul);
            assert_true(g.r[1].ts_ns == 1700000001ull * 1000000000u + 999999 * mul);
            assert_true(g.r[2].ts_ns == 4000000000ull * 1000000000u + 1 * mul);
            assert_int_equal(g.r[0].caplen, 60);
            assert_int_equal(g.r[1].caplen, 0);
            assert_int_equal(g.r[1].wirelen, 1514);
            assert_int_equal(g.r[2].caplen, 1500);
            assert_true(g.r[2].hash == pattern_hash(1500, 3));
            for (size_t i = 0; i < g.n; i++) {
                assert_int_equal(g.r[i].frame_no, i + 1);
                assert_int_equal(g.r[i].linktype, 1);
                assert_int_equal(g.r[i].ifid, 0);
                assert_int_equal(g.r[i].ts_prec, nsec ? 9 : 6);
            }
            assert_int_equal(g.n_warn, 0);
            assert_int_equal(g.st.files_damaged, 0);
            got_free(&g);
            unlink(path);
            free(path);
            cb_free(&b);
        }
    }
}

static void link_type_keeps_only_the_lower_16_bits_of_the_field(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 65535, 0x30000008u);
    cb_pcap_rec(&b, 1, 0, 4, 4, 0);
    char *path = cb_write(&b, tmpdir, "fcs.pcap");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].linktype, 8);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void out_of_range_sub_second_fields_are_computed_not_rejected(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 65535, 113);
    cb_pcap_rec(&b, 10, 1000000, 4, 4, 0);
    cb_pcap_rec(&b, 10, 2147483648u, 4, 4, 0);
    char *path = cb_write(&b, tmpdir, "usec.pcap");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 2);
    assert_true(g.r[0].ts_ns == 11000000000ull);
    assert_true(g.r[1].ts_ns == 10000000000ull + 2147483648ull * 1000);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void caplen_over_wirelen_raises_wirelen_and_is_counted(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 65535, 1);
    cb_pcap_rec(&b, 1, 0, 100, 60, 0);
    char *path = cb_write(&b, tmpdir, "over.pcap");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].caplen, 100);
    assert_int_equal(g.r[0].wirelen, 100);
    assert_int_equal(g.st.anom_caplen_over_wirelen, 1);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void pcapng_interfaces_keep_their_link_type_snaplen_and_resolution(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);          /* 0: Ethernet, microseconds (default) */
    cb_idb(&b, 101, 96, 9, 0);        /* 1: raw IP, nanoseconds */
    cb_idb(&b, 113, 0, 0x80 | 20, 0); /* 2: SLL, 2^-20 s */
    cb_idb(&b, 228, 0, 3, 100);       /* 3: IPv4, milliseconds, +100 s */
    cb_idb(&b, 229, 0, 12, -5);       /* 4: IPv6, picoseconds, -5 s */
    cb_epb(&b, 0, 1700000000123456ull, 10, 10, 0);
    cb_epb(&b, 1, 1700000000123456789ull, 11, 11, 1);
    cb_epb(&b, 2, (1700000000ull << 20) | (1u << 19), 12, 12, 2); /* .5 s */
    cb_epb(&b, 3, 1700000000123ull, 13, 13, 3);
    cb_epb(&b, 4, 10000000000123456789ull, 14, 14, 4); /* about 10^7 s */
    char *path = cb_write(&b, tmpdir, "ifaces.pcapng");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n, 5);
    assert_true(g.r[0].ts_ns == 1700000000123456000ull);
    assert_true(g.r[1].ts_ns == 1700000000123456789ull);
    assert_true(g.r[2].ts_ns == 1700000000500000000ull);
    assert_true(g.r[3].ts_ns == 1700000100123000000ull);
    assert_true(g.r[4].ts_ns == 10000000000123456ull - 5000000000ull);
    const uint16_t lt[] = { 1, 101, 113, 228, 229 };
    const uint16_t prec[] = { 6, 9, 9, 6, 9 };
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(g.r[i].ifid, i);
        assert_int_equal(g.r[i].linktype, lt[i]);
        assert_int_equal(g.r[i].ts_prec, prec[i]);
        assert_int_equal(g.r[i].caplen, 10 + i);
        assert_true(g.r[i].hash == pattern_hash(10 + i, (uint8_t)i));
    }
    assert_int_equal(g.st.anom_bad_block, 0);

    /* The source answers for the interfaces of the last input. */
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    assert_non_null(s);
    struct np_batch *bt = np_batch_create(16, 1 << 16);
    while (np_source_next(s, bt, &err) == NP_OK) {
    }
    uint16_t linktype = 0;
    uint32_t snaplen = 0;
    assert_true(np_source_iface_info(s, 1, &linktype, &snaplen));
    assert_int_equal(linktype, 101);
    assert_int_equal(snaplen, 96);
    assert_false(np_source_iface_info(s, 5, &linktype, &snaplen));
    np_batch_destroy(bt);
    np_source_destroy(s);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void pcapng_sections_may_change_byte_order_and_restart_interface_ids(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_idb(&b, 113, 0, 9, 0);
    cb_epb(&b, 1, 5000000000ull, 20, 20, 1);
    b.be = true;
    cb_shb(&b);
    cb_idb(&b, 101, 0, -1, 0);
    cb_epb(&b, 0, 7000000ull, 21, 21, 2);
    cb_epb(&b, 1, 7000000ull, 22, 22, 3); /* interface 1 is gone in this section */
    char *path = cb_write(&b, tmpdir, "sections.pcapng");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].ifid, 1);
    assert_int_equal(g.r[0].linktype, 113);
    assert_true(g.r[0].ts_ns == 5000000000ull);
    assert_int_equal(g.r[1].ifid, 0);
    assert_int_equal(g.r[1].linktype, 101);
    assert_true(g.r[1].ts_ns == 7000000000ull);
    assert_true(g.r[1].hash == pattern_hash(21, 2));
    assert_int_equal(g.st.anom_unknown_ifid, 1);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void simple_packet_block_takes_the_least_of_wire_length_snaplen_and_data(void **state)
{
    (void)state;
    struct cb b = { .be = true };
    cb_shb(&b);
    cb_idb(&b, 1, 64, 9, 0);
    cb_spb(&b, 100, 100, 1); /* snaplen cuts */
    cb_spb(&b, 10, 10, 2);   /* padded to 12: wire length cuts */
    cb_spb(&b, 60, 40, 3);   /* block data cuts */
    char *path = cb_write(&b, tmpdir, "spb.pcapng");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].caplen, 64);
    assert_int_equal(g.r[0].wirelen, 100);
    assert_int_equal(g.r[1].caplen, 10);
    assert_int_equal(g.r[1].wirelen, 10);
    assert_int_equal(g.r[2].caplen, 40);
    assert_int_equal(g.r[2].wirelen, 60);
    assert_true(g.r[2].hash == pattern_hash(40, 3));
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(g.r[i].ifid, 0);
        assert_true(g.r[i].ts_ns == 0);
    }
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void simple_packet_block_without_an_interface_is_counted_and_skipped(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_spb(&b, 10, 10, 1);
    char *path = cb_write(&b, tmpdir, "spb-noif.pcapng");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.st.anom_unknown_ifid, 1);
    assert_int_equal(g.n_warn, 0);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void obsolete_packet_block_reads_like_an_enhanced_one(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_idb(&b, 101, 0, -1, 0);
    cb_pb(&b, 1, 3000001ull, 30, 40, 7);
    char *path = cb_write(&b, tmpdir, "pb.pcapng");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0].ifid, 1);
    assert_int_equal(g.r[0].linktype, 101);
    assert_true(g.r[0].ts_ns == 3000001000ull);
    assert_int_equal(g.r[0].caplen, 30);
    assert_int_equal(g.r[0].wirelen, 40);
    assert_true(g.r[0].hash == pattern_hash(30, 7));
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void other_blocks_are_skipped_and_bad_packet_blocks_counted(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_other_block(&b, 4, 8); /* name resolution */
    cb_idb(&b, 1, 0, -1, 0);
    cb_other_block(&b, 5, 20);         /* interface statistics */
    cb_other_block(&b, 0x40000bad, 0); /* custom */
    cb_epb(&b, 0, 1, 8, 8, 1);
    cb_other_block(&b, 6, 8);                       /* an EPB too short for its fields */
    size_t at = cb_epb_begin(&b, 0, 0, 1000, 1000); /* an EPB claiming more bytes than it has */
    cb_pattern(&b, 8, 0);
    cb_end_block(&b, at);
    cb_epb(&b, 0, 2, 9, 9, 2);
    char *path = cb_write(&b, tmpdir, "other.pcapng");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].caplen, 8);
    assert_int_equal(g.r[1].caplen, 9);
    assert_int_equal(g.r[1].frame_no, 2);
    assert_int_equal(g.st.anom_bad_block, 2);
    assert_int_equal(g.n_warn, 0);
    got_free(&g);
    free(path);
    cb_free(&b);
}

/* Builds the same packets as pcap (both orders) and pcapng. */
static char *straddle_file(int kind)
{
    struct cb b = { .be = kind == 1 };
    if (kind <= 1) {
        cb_pcap_header(&b, kind == 1, 262144, 1);
        for (uint32_t i = 0; i < 40; i++)
            cb_pcap_rec(&b, i, i, (i * 37) % 300, 400, (uint8_t)i);
        cb_pcap_rec(&b, 99, 0, 5000, 5000, 99); /* bigger than the batch buffer */
    } else {
        cb_shb(&b);
        cb_idb(&b, 1, 0, -1, 0);
        cb_idb(&b, 101, 0, 9, 0);
        for (uint32_t i = 0; i < 40; i++) {
            if (i % 7 == 0)
                cb_other_block(&b, 5, i);
            if (i % 3 == 0)
                cb_spb(&b, 400, (i * 37) % 300, (uint8_t)i);
            else
                cb_epb(&b, i % 2, i, (i * 37) % 300, 400, (uint8_t)i);
        }
        cb_epb(&b, 0, 99, 5000, 5000, 99);
    }
    char name[32];
    snprintf(name, sizeof(name), "straddle%d", kind);
    char *path = cb_write(&b, tmpdir, name);
    cb_free(&b);
    return path;
}

static void records_straddling_tiny_reads_come_out_as_from_one_big_read(void **state)
{
    (void)state;
    static const uint32_t chunks[] = { 1, 2, 3, 5, 7, 11, 15, 16, 17, 24, 25, 31, 64, 100, 333 };
    static const uint32_t batch_pkts[] = { 1, 2, 3, 1000 };
    for (int kind = 0; kind < 3; kind++) {
        char *path = straddle_file(kind);
        struct got want;
        read_file(path, &want);
        assert_int_equal(want.n, 41);
        assert_int_equal(want.n_warn, 0);
        for (size_t ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++) {
            for (size_t bi = 0; bi < sizeof(batch_pkts) / sizeof(batch_pkts[0]); bi++) {
                struct got g;
                read_chunked(path, chunks[ci], batch_pkts[bi], &g);
                assert_int_equal(g.rc, NP_EOF);
                assert_int_equal(g.n_warn, 0);
                assert_int_equal(g.n, want.n);
                assert_memory_equal(g.r, want.r, want.n * sizeof(*want.r));
                got_free(&g);
            }
        }
        got_free(&want);
        free(path);
    }
}

static void truncated_record_ends_the_file_with_a_warning_after_the_sound_ones(void **state)
{
    (void)state;
    for (int cut = 1; cut <= 2; cut++) {
        struct cb b = { 0 };
        cb_pcap_header(&b, false, 65535, 1);
        cb_pcap_rec(&b, 1, 0, 10, 10, 0);
        cb_pcap_rec(&b, 2, 0, 10, 10, 0);
        cb_pcap_rec(&b, 3, 0, 10, 10, 0);
        cb_pcap_rec(&b, 4, 0, 10, 10, 0);
        b.len -= cut == 1 ? 4 : 20; /* in the data, or in the header */
        char *path = cb_write(&b, tmpdir, "trunc.pcap");
        struct got g;
        read_chunked(path, cut == 1 ? 0 : 7, 1000, &g);
        assert_int_equal(g.rc, NP_EOF);
        assert_int_equal(g.n, 3);
        assert_int_equal(g.st.files_damaged, 1);
        assert_int_equal(g.n_warn, 1);
        assert_non_null(strstr(g.warn[0], path));
        assert_non_null(strstr(g.warn[0], "truncated record at byte offset 102"));
        assert_non_null(strstr(g.warn[0], "3 packets read"));
        got_free(&g);
        free(path);
        cb_free(&b);
    }
}

static void truncated_file_header_is_damage_not_an_error(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 65535, 1);
    b.len = 10;
    char *path = cb_write(&b, tmpdir, "hdr.pcap");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.st.files_damaged, 1);
    assert_non_null(strstr(g.warn[0], "truncated file header"));
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void huge_caplen_is_damage_found_without_reading_it(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 65535, 1);
    cb_pcap_rec(&b, 1, 0, 10, 10, 0);
    cb_pcap_rec_head(&b, 2, 0, 1409179648u, 4211277u);
    cb_pattern(&b, 300, 0);
    char *path = cb_write(&b, tmpdir, "huge.pcap");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.st.files_damaged, 1);
    assert_non_null(strstr(g.warn[0], "damaged record at byte offset 50"));
    assert_non_null(strstr(g.warn[0], "claims 1409179648 captured bytes"));
    got_free(&g);

    /* Under the bound but past the end of the file: truncated, no 32 MiB read. */
    b.len = 50;
    cb_pcap_rec_head(&b, 2, 0, 32u << 20, 60);
    cb_pattern(&b, 100, 0);
    char *path2 = cb_write(&b, tmpdir, "big.pcap");
    read_file(path2, &g);
    assert_int_equal(g.n, 1);
    assert_non_null(strstr(g.warn[0], "truncated record at byte offset 50"));
    got_free(&g);
    free(path);
    free(path2);
    cb_free(&b);
}

static void record_bigger_than_the_buffer_grows_it(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 0, 1);
    cb_pcap_rec(&b, 1, 0, 100, 100, 1);
    cb_pcap_rec(&b, 2, 0, 3u << 20, 3u << 20, 2);
    cb_pcap_rec(&b, 3, 0, 100, 100, 3);
    char *path = cb_write(&b, tmpdir, "grow.pcap");
    struct got g;
    read_chunked(path, 4096, 1000, &g);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[1].caplen, 3u << 20);
    assert_true(g.r[1].hash == pattern_hash(3u << 20, 2));
    assert_int_equal(g.n_warn, 0);
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void pcapng_block_with_bad_length_is_damage(void **state)
{
    (void)state;
    static const uint32_t bad_len[] = { 8, 30, 0x7ffffff0u };
    for (size_t i = 0; i < 3; i++) {
        struct cb b = { 0 };
        cb_shb(&b);
        cb_idb(&b, 1, 0, -1, 0);
        cb_epb(&b, 0, 1, 10, 10, 0);
        size_t at = b.len;
        cb_epb(&b, 0, 2, 10, 10, 0);
        size_t end = b.len;
        b.len = at + 4;
        cb_u32(&b, bad_len[i]);
        b.len = end;
        char *path = cb_write(&b, tmpdir, "badlen.pcapng");
        struct got g;
        read_file(path, &g);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.st.files_damaged, 1);
        assert_int_equal(g.n_warn, 1);
        assert_non_null(strstr(g.warn[0], "block at byte offset"));
        got_free(&g);
        free(path);
        cb_free(&b);
    }
}

static void pcapng_block_whose_trailing_length_differs_is_damage(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_shb(&b);
    cb_idb(&b, 1, 0, -1, 0);
    cb_epb(&b, 0, 1, 10, 10, 0);
    cb_epb(&b, 0, 2, 10, 10, 0);
    b.p[b.len - 1] ^= 0x40;
    char *path = cb_write(&b, tmpdir, "trailer.pcapng");
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.n, 1);
    assert_non_null(strstr(g.warn[0], "differ"));
    got_free(&g);
    free(path);
    cb_free(&b);
}

static void file_that_is_no_capture_is_a_usage_error(void **state)
{
    (void)state;
    static const char *bodies[] = { "hello, this is text\n", "", "\xa1\xb2",
                                    "\x0a\x0d\x0d\x0axxxxxxxx" };
    for (size_t i = 0; i < 4; i++) {
        struct cb b = { 0 };
        cb_bytes(&b, bodies[i], i == 3 ? 12 : strlen(bodies[i]));
        char *path = cb_write(&b, tmpdir, "text.pcap");
        struct got g;
        read_file(path, &g);
        assert_int_equal(g.rc, NP_ERR_USAGE);
        assert_non_null(strstr(g.err.msg, path));
        assert_non_null(strstr(g.err.msg, "not a pcap or pcapng file"));
        got_free(&g);
        free(path);
        cb_free(&b);
    }
}

static void missing_file_is_an_io_error_naming_it(void **state)
{
    (void)state;
    struct got g;
    read_file("/nonexistent/dir/x.pcap", &g);
    assert_int_equal(g.rc, NP_ERR_IO);
    assert_non_null(strstr(g.err.msg, "/nonexistent/dir/x.pcap"));
    assert_non_null(strstr(g.err.msg, "No such file or directory"));
    got_free(&g);
    read_file(tmpdir, &g);
    assert_int_equal(g.rc, NP_ERR_IO);
    assert_non_null(strstr(g.err.msg, "Is a directory"));
    got_free(&g);
}

static void any_missing_input_fails_before_any_work(void **state)
{
    (void)state;
    struct cb b = { 0 };
    cb_pcap_header(&b, false, 65535, 1);
    char *path = cb_write(&b, tmpdir, "ok.pcap");
    const char *files[] = { path, "/nonexistent.pcap" };
    struct np_source_opts o = { .files = files, .n_files = 2 };
    struct np_err err;
    assert_null(np_source_create(&o, &err));
    assert_int_equal(err.rc, NP_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent.pcap"));
    free(path);
    cb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(classic_pcap_reads_alike_in_both_byte_orders_and_units),
        cmocka_unit_test(link_type_keeps_only_the_lower_16_bits_of_the_field),
        cmocka_unit_test(out_of_range_sub_second_fields_are_computed_not_rejected),
        cmocka_unit_test(caplen_over_wirelen_raises_wirelen_and_is_counted),
        cmocka_unit_test(pcapng_interfaces_keep_their_link_type_snaplen_and_resolution),
        cmocka_unit_test(pcapng_sections_may_change_byte_order_and_restart_interface_ids),
        cmocka_unit_test(simple_packet_block_takes_the_least_of_wire_length_snaplen_and_data),
        cmocka_unit_test(simple_packet_block_without_an_interface_is_counted_and_skipped),
        cmocka_unit_test(obsolete_packet_block_reads_like_an_enhanced_one),
        cmocka_unit_test(other_blocks_are_skipped_and_bad_packet_blocks_counted),
        cmocka_unit_test(records_straddling_tiny_reads_come_out_as_from_one_big_read),
        cmocka_unit_test(truncated_record_ends_the_file_with_a_warning_after_the_sound_ones),
        cmocka_unit_test(truncated_file_header_is_damage_not_an_error),
        cmocka_unit_test(huge_caplen_is_damage_found_without_reading_it),
        cmocka_unit_test(record_bigger_than_the_buffer_grows_it),
        cmocka_unit_test(pcapng_block_with_bad_length_is_damage),
        cmocka_unit_test(pcapng_block_whose_trailing_length_differs_is_damage),
        cmocka_unit_test(file_that_is_no_capture_is_a_usage_error),
        cmocka_unit_test(missing_file_is_an_io_error_naming_it),
        cmocka_unit_test(any_missing_input_fails_before_any_work),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
