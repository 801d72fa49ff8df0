/* tests/source/test_malformed.c: every file in ../shared/corpus/malformed
 * through our reader.
 *
 * No file may crash, hang or make the sanitizers report (the suite runs
 * under ASan/UBSan in CI). Each file is read with 4 MiB reads, with tiny
 * reads into tiny batches (the same packets must come out), and with the
 * libpcap reader (which must not crash either). The file-level problems
 * listed in the corpus README are checked exactly: the sound records before
 * the damage are handed out, then one warning names the file and the
 * problem.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/packet.h"
#include "source/source.h"
#include "capbuild.h"
#include "corpus.h"

/* What the README's table of file-level problems implies for a reader. */
static const struct expect {
    const char *name;
    long n_pkts;         /* -1: not checked */
    const char *warning; /* substring of the one warning; NULL: no warning */
    int linktype;        /* of the first packet; -1: not checked */
    uint64_t first_ts_s; /* seconds of some packet's timestamp; 0: not checked */
} expects[] = {
    { "file-damaged-fuzz.pcap", 1, "damaged record", -1, 0 },
    { "file-truncated-tls.pcap", 6, "truncated record", -1, 0 },
    { "null-fuzz-2021-10-13.pcap", 0, "truncated record", -1, 0 },
    { "ipv6-cve2015-0261.pcap", -1, NULL, 8, 0 },
    { "ipv6-cve2015-0261-crash.pcap", -1, NULL, 8, 0 },
    { "dsa-unsupported-linktype-284.pcap", -1, NULL, 284, 0 },
    { "kday6-unsupported-linktype-182.pcap", -1, NULL, 182, 0 },
    { "pcapng-too-many-interfaces.pcapng", 1, NULL, -1, 0 },
    { "dns-time-2038.pcap", -1, NULL, -1, 2147483648ull },
    { "dns-time-2106.pcapng", -1, NULL, -1, 4294967296ull },
    { "sll-timestamp-invalid-micro.pcap", -1, NULL, 113, 0 },
    { "sll-timestamp-invalid-nano.pcap", -1, NULL, 113, 0 },
    { "tls-invalid-reads.pcap", -1, NULL, -1, 0 },
};

static const struct expect *expect_for(const char *name)
{
    for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
        if (strcmp(expects[i].name, name) == 0)
            return &expects[i];
    }
    return NULL;
}

static void read_without_harm(void **state)
{
    const struct corpus_file *f = *state;
    const char *files[] = { f->path };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct got big, tiny, lp;
    read_all_sized(&o, &big, 4096, 4u << 20);
    if (big.rc != NP_EOF)
        fail_msg("rc %d: %s", big.rc, big.err.msg);
    assert_true(big.n_warn <= 1);
    assert_int_equal(big.st.files_damaged, big.n_warn);
    if (big.n_warn == 1) {
        assert_non_null(strstr(big.warn[0], f->path));
        printf("# %s: %s\n", f->name, big.warn[0]);
    }

    o.read_chunk_bytes = 13;
    read_all_sized(&o, &tiny, 2, 32);
    assert_int_equal(tiny.rc, NP_EOF);
    assert_int_equal(tiny.n, big.n);
    assert_memory_equal(tiny.r, big.r, big.n * sizeof(*big.r));
    assert_int_equal(tiny.n_warn, big.n_warn);

    const struct expect *e = expect_for(f->name);
    if (e != NULL) {
        if (e->n_pkts >= 0)
            assert_int_equal(big.n, e->n_pkts);
        if (e->warning != NULL) {
            assert_int_equal(big.n_warn, 1);
            assert_non_null(strstr(big.warn[0], e->warning));
        } else {
            assert_int_equal(big.n_warn, 0);
        }
        if (e->linktype >= 0) {
            assert_true(big.n > 0);
            assert_int_equal(big.r[0].linktype, e->linktype);
        }
        if (e->first_ts_s != 0) {
            bool found = false;
            for (size_t i = 0; i < big.n; i++)
                found |= big.r[i].ts_ns / 1000000000u == e->first_ts_s;
            assert_true(found);
        }
    }

    o.read_chunk_bytes = 0;
    o.libpcap_reader = true;
    read_all_sized(&o, &lp, 4096, 1u << 20);
    got_free(&lp); /* libpcap may refuse more or less than we do: only no harm */
    got_free(&big);
    got_free(&tiny);
}

static CMUnitTestFunction pick(const char *name, const char *path)
{
    (void)name;
    (void)path;
    return read_without_harm;
}

int main(int argc, char **argv)
{
    return corpus_run(argc, argv, "malformed", "malformed", pick);
}
