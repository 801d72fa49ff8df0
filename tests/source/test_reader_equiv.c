/* tests/source/test_reader_equiv.c: our reader against libpcap's on every
 * capture in ../shared/corpus/pcaps.
 *
 * For each file both readers (np_source with and without libpcap_reader)
 * must give the same packet sequence: timestamp in nanoseconds, captured and
 * wire length, link type and bytes. Our reader must also give the same
 * sequence when it reads in tiny chunks into tiny batches, so that every
 * record straddles a read somewhere. Intended differences:
 *
 * - Skipped by name: the pcapng files with interfaces of several link
 *   types, which libpcap 1.10 refuses ("an interface has a type N different
 *   from the type of the first interface"); our reader reads them.
 * - Link types 12 and 101 are the same (raw IP): libpcap maps both to
 *   DLT_RAW, which maps back to 101 only, while we report the file's value.
 * - ts_prec and ifid are not compared: libpcap opened for nanoseconds does
 *   not say the file's resolution nor the pcapng interface.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "core/packet.h"
#include "source/source.h"
#include "capbuild.h"
#include "corpus.h"

static const struct {
    const char *name;
    const char *why;
} skipped[] = {
    { "pcapng-10if-dns-tls__many_interfaces-1.pcapng",
      "libpcap refuses pcapng interfaces of different link types (Ethernet, NULL, raw IP)" },
    { "pcapng-2if-ether-sll-snaplen__pcapng-example.pcapng",
      "libpcap refuses pcapng interfaces of different link types (Ethernet, Linux SLL)" },
};

static uint16_t same_raw(uint16_t linktype)
{
    return linktype == NP_LINK_RAW_OLD ? NP_LINK_RAW : linktype;
}

static void readers_agree(void **state)
{
    const struct corpus_file *f = *state;
    const char *path = f->path;
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct got ours, theirs, tiny;
    read_all_sized(&o, &ours, 4096, 4u << 20);
    assert_int_equal(ours.rc, NP_EOF);
    if (ours.n_warn != 0)
        fail_msg("our reader warned: %s", ours.warn[0]);
    assert_int_equal(ours.st.files_damaged, 0);

    o.libpcap_reader = true;
    read_all_sized(&o, &theirs, 4096, 4u << 20);
    assert_int_equal(theirs.rc, NP_EOF);
    if (theirs.n_warn != 0)
        fail_msg("libpcap reader warned: %s", theirs.warn[0]);
    if (ours.n != theirs.n)
        fail_msg("%zu packets from ours, %zu from libpcap", ours.n, theirs.n);
    for (size_t i = 0; i < ours.n; i++) {
        const struct rec *a = &ours.r[i], *b = &theirs.r[i];
        if (a->ts_ns != b->ts_ns || a->caplen != b->caplen || a->wirelen != b->wirelen ||
            same_raw(a->linktype) != same_raw(b->linktype) || a->hash != b->hash ||
            a->frame_no != b->frame_no)
            fail_msg("frame %zu differs: ours ts %llu cap %u wire %u lt %u, libpcap ts %llu "
                     "cap %u wire %u lt %u, bytes %s",
                     i + 1, (unsigned long long)a->ts_ns, a->caplen, a->wirelen, a->linktype,
                     (unsigned long long)b->ts_ns, b->caplen, b->wirelen, b->linktype,
                     a->hash == b->hash ? "same" : "differ");
    }

    o.libpcap_reader = false;
    o.read_chunk_bytes = 61;
    read_all_sized(&o, &tiny, 3, 64);
    assert_int_equal(tiny.n, ours.n);
    assert_memory_equal(tiny.r, ours.r, ours.n * sizeof(*ours.r));
    got_free(&ours);
    got_free(&theirs);
    got_free(&tiny);
}

static void read_by_us_though_libpcap_refuses_it(void **state)
{
    const struct corpus_file *f = *state;
    const char *path = f->path;
    struct got g;
    read_file(path, &g);
    assert_int_equal(g.rc, NP_EOF);
    assert_int_equal(g.n_warn, 0);
    assert_true(g.n > 0);
    bool two_types = false;
    for (size_t i = 1; i < g.n; i++)
        two_types |= g.r[i].linktype != g.r[0].linktype;
    assert_true(two_types);
    got_free(&g);
}

/* Files libpcap refuses by design are read by us alone; others it cannot
 * open are left out. */
static CMUnitTestFunction pick(const char *name, const char *path)
{
    for (size_t k = 0; k < sizeof(skipped) / sizeof(skipped[0]); k++) {
        if (strcmp(name, skipped[k].name) == 0) {
            printf("# not compared: %s: %s\n", name, skipped[k].why);
            return read_by_us_though_libpcap_refuses_it;
        }
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, errbuf);
    if (p == NULL) {
        printf("# skipped: %s: libpcap cannot open it: %s\n", name, errbuf);
        return NULL;
    }
    pcap_close(p);
    return readers_agree;
}

int main(int argc, char **argv)
{
    return corpus_run(argc, argv, "pcaps", "reader_equiv", pick);
}
