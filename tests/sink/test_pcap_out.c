/* tests/sink/test_pcap_out.c: the capture-file writer.
 *
 * Unit tests write synthetic packets and check the file's bytes, the error
 * paths (unwritable paths, /dev/full) and the whole-record promise: the file
 * size after every write call, a child killed with SIGKILL, copies cut
 * anywhere. Then every capture of ../shared/corpus (pcaps and malformed) is
 * read by our reader, written (classic pcap when it has one link type,
 * pcapng always; micro- and nanoseconds) and read back: the same packets.
 * tcpdump reads our files (whole, cut anywhere, left by a killed writer)
 * with nothing on stderr but its usual banner. With the argument "tools"
 * (suite corpus: tshark is slow to start) tcpdump and tshark read outputs
 * of a few representative corpus files, and their times, lengths and
 * interfaces are ours. Tests that need the tools skip without them (and
 * fail under CI=true).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/packet.h"
#include "sink/pcap_out.h"
#include "source/source.h"
#include "source/corpus.h"
#include "source/tmpdir.h"
#include "testutil.h"

/* ---- helpers ---- */

static char *tmp_path(const char *name)
{
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL)
        abort();
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16;
    uint8_t *b = malloc(cap);
    *n = 0;
    size_t r;
    while (b != NULL && (r = fread(b + *n, 1, cap - *n, f)) > 0) {
        *n += r;
        if (*n == cap) {
            cap *= 2;
            b = realloc(b, cap);
        }
    }
    if (b == NULL)
        abort();
    fclose(f);
    return b;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static uint32_t rd32h(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint16_t rd16h(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* A packet with its own bytes. */
struct opkt {
    uint64_t ts_ns;
    uint32_t caplen, wirelen, ifid;
    uint16_t linktype, ts_prec;
    uint8_t *data; /* owned */
};

struct opkts {
    struct opkt *v; /* owned */
    size_t n, cap;
    bool damaged;  /* the reader warned */
    uint64_t anom; /* bad blocks and unknown interfaces */
};

static void opkts_add(struct opkts *a, const struct np_pkt *p)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = realloc(a->v, a->cap * sizeof(*a->v));
        if (a->v == NULL)
            abort();
    }
    struct opkt *o = &a->v[a->n++];
    o->ts_ns = p->ts_ns;
    o->caplen = p->caplen;
    o->wirelen = p->wirelen;
    o->ifid = p->ifid;
    o->linktype = p->linktype;
    o->ts_prec = p->ts_prec;
    o->data = malloc(p->caplen ? p->caplen : 1);
    if (o->data == NULL)
        abort();
    if (p->caplen > 0)
        memcpy(o->data, p->data, p->caplen);
}

static void opkts_free(struct opkts *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].data);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static struct np_pkt as_pkt(const struct opkt *o)
{
    struct np_pkt p = { .ts_ns = o->ts_ns,
                        .data = o->data,
                        .caplen = o->caplen,
                        .wirelen = o->wirelen,
                        .ifid = o->ifid,
                        .linktype = o->linktype,
                        .ts_prec = o->ts_prec };
    return p;
}

/* Reads every packet of path with our reader. */
static void read_back(const char *path, struct opkts *a)
{
    memset(a, 0, sizeof(*a));
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    if (s == NULL)
        fail_msg("%s", err.msg);
    struct np_batch *b = np_batch_create(256, 1 << 16);
    assert_non_null(b);
    enum np_rc rc;
    do {
        rc = np_source_next(s, b, &err);
        for (uint32_t i = 0; i < b->n; i++)
            opkts_add(a, &b->pkts[i]);
        if (np_source_take_warning(s) != NULL)
            a->damaged = true;
    } while (rc == NP_OK);
    assert_int_equal(rc, NP_EOF);
    const struct np_source_stats *st = np_source_stats(s);
    a->anom = st->anom_bad_block + st->anom_unknown_ifid;
    np_batch_destroy(b);
    np_source_destroy(s);
}

/* Deterministic packet i: caplen 20..339, wirelen a little more, bytes from i. */
static uint32_t synth_caplen(uint32_t i)
{
    return 20 + (i * 7919u) % 320;
}

static void synth_fill(uint8_t *d, uint32_t n, uint32_t i)
{
    for (uint32_t k = 0; k < n; k++)
        d[k] = (uint8_t)(i * 31u + k);
}

static struct np_pkt synth_pkt(uint32_t i, uint8_t *buf)
{
    uint32_t n = synth_caplen(i);
    synth_fill(buf, n, i);
    struct np_pkt p = { .ts_ns = 1700000000000000000ull + (uint64_t)i * 1000001u,
                        .data = buf,
                        .caplen = n,
                        .wirelen = n + i % 3,
                        .linktype = NP_LINK_ETHERNET };
    return p;
}

static bool synth_matches(const struct opkt *o, uint32_t i, unsigned prec)
{
    uint8_t buf[400];
    struct np_pkt p = synth_pkt(i, buf);
    uint64_t ts = prec == 9 ? p.ts_ns : p.ts_ns / 1000 * 1000;
    return o->ts_ns == ts && o->caplen == p.caplen && o->wirelen == p.wirelen &&
           memcmp(o->data, buf, p.caplen) == 0;
}

/* n_bufs 1: no writer thread (see struct np_pcap_out_cfg). */
static struct np_pcap_out *open_out_bufs(const char *path, enum np_pcap_fmt fmt, unsigned prec,
                                         uint16_t linktype, uint32_t snaplen, size_t buf_bytes,
                                         unsigned n_bufs)
{
    struct np_pcap_out_cfg cfg = { .fmt = fmt,
                                   .ts_prec = prec,
                                   .linktype = linktype,
                                   .snaplen = snaplen,
                                   .buf_bytes = buf_bytes,
                                   .n_bufs = n_bufs };
    struct np_err err;
    struct np_pcap_out *o = np_pcap_out_create(path, &cfg, &err);
    if (o == NULL)
        fail_msg("%s", err.msg);
    return o;
}

static struct np_pcap_out *open_out(const char *path, enum np_pcap_fmt fmt, unsigned prec,
                                    uint16_t linktype, uint32_t snaplen, size_t buf_bytes)
{
    return open_out_bufs(path, fmt, prec, linktype, snaplen, buf_bytes, 0);
}

static void write_ok(struct np_pcap_out *o, const struct np_pkt *p)
{
    struct np_err err;
    enum np_rc rc = np_pcap_out_write(o, p, &err);
    if (rc != NP_OK)
        fail_msg("%s", err.msg);
}

static void finish_ok(struct np_pcap_out *o)
{
    struct np_err err;
    enum np_rc rc = np_pcap_out_finish(o, &err);
    if (rc != NP_OK)
        fail_msg("%s", err.msg);
    np_pcap_out_destroy(o);
}

/* ---- the external tools ---- */

/* True when the tool is installed; skips the test when not, except under
 * CI=true, where it fails. */
static bool need_tool(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
    if (system(cmd) == 0)
        return true;
    const char *ci = getenv("CI");
    if (ci != NULL && strcmp(ci, "true") == 0)
        fail_msg("%s is missing (required when CI=true)", name);
    return false;
}

/* Runs cmd (a shell command) with stderr to a file; returns its exit status.
 * *quiet: stderr held nothing but tcpdump's "reading from file" line and
 * tshark's warning about running as root; show: print what else it held. */
static int run_tool(const char *cmd, bool *quiet, bool show)
{
    char *errf = tmp_path("tool-stderr.txt");
    size_t n = strlen(cmd) + strlen(errf) + 16;
    char *full = malloc(n);
    if (full == NULL)
        abort();
    snprintf(full, n, "%s 2>'%s'", cmd, errf);
    int st = system(full);
    *quiet = true;
    FILE *f = fopen(errf, "r");
    assert_non_null(f);
    char line[1024];
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "reading from file ", 18) == 0 ||
            strncmp(line, "Running as user \"root\"", 22) == 0)
            continue;
        if (show)
            fprintf(stderr, "%s: stderr: %s", cmd, line);
        *quiet = false;
    }
    fclose(f);
    free(full);
    free(errf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* tcpdump reads path to its end, without a warning. */
static void tcpdump_reads_cleanly(const char *path)
{
    char cmd[4400];
    snprintf(cmd, sizeof(cmd), "tcpdump -r '%s' -w /dev/null", path);
    bool quiet;
    assert_int_equal(run_tool(cmd, &quiet, true), 0);
    assert_true(quiet);
}

/* ---- classic pcap ---- */

static void pcap_header_is_version_2_4_in_host_order_with_snaplen_and_linktype(void **state)
{
    (void)state;
    char *path = tmp_path("hdr.pcap");
    for (unsigned prec = 6; prec <= 9; prec += 3) {
        finish_ok(open_out(path, NP_PCAP_FMT_PCAP, prec, NP_LINK_SLL, 1500, 0));
        size_t n;
        uint8_t *b = slurp(path, &n);
        assert_int_equal(n, 24);
        assert_int_equal(rd32h(b), prec == 9 ? 0xa1b23c4du : 0xa1b2c3d4u);
        assert_int_equal(rd16h(b + 4), 2);
        assert_int_equal(rd16h(b + 6), 4);
        assert_int_equal(rd32h(b + 8), 0);
        assert_int_equal(rd32h(b + 12), 0);
        assert_int_equal(rd32h(b + 16), 1500);
        assert_int_equal(rd32h(b + 20), NP_LINK_SLL);
        free(b);
    }
    /* Snaplen 0 means libpcap's largest: pcap has no "no limit". */
    finish_ok(open_out(path, NP_PCAP_FMT_PCAP, 6, NP_LINK_RAW, 0, 0));
    size_t n;
    uint8_t *b = slurp(path, &n);
    assert_int_equal(rd32h(b + 16), NP_PCAP_OUT_PCAP_SNAPLEN);
    assert_int_equal(rd32h(b + 20), NP_LINK_RAW);
    free(b);
    free(path);
}

static void pcap_records_keep_bytes_lengths_and_timestamps_at_the_precision(void **state)
{
    (void)state;
    char *path = tmp_path("rec.pcap");
    const uint8_t data[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    struct np_pkt p = { .ts_ns = 1700000000123456789ull,
                        .data = data,
                        .caplen = 10,
                        .wirelen = 1514,
                        .linktype = NP_LINK_ETHERNET };
    struct np_pkt z = p;
    z.ts_ns = 999; /* under a microsecond: 0 in micro */
    z.caplen = 0;
    z.wirelen = 60;
    for (unsigned prec = 6; prec <= 9; prec += 3) {
        struct np_pcap_out *o = open_out(path, NP_PCAP_FMT_PCAP, prec, NP_LINK_ETHERNET, 64, 0);
        write_ok(o, &p);
        write_ok(o, &z);
        finish_ok(o);
        size_t n;
        uint8_t *b = slurp(path, &n);
        assert_int_equal(n, 24 + 16 + 10 + 16);
        assert_int_equal(rd32h(b + 24), 1700000000);
        assert_int_equal(rd32h(b + 28), prec == 9 ? 123456789 : 123456);
        assert_int_equal(rd32h(b + 32), 10);
        assert_int_equal(rd32h(b + 36), 1514);
        assert_memory_equal(b + 40, data, 10);
        assert_int_equal(rd32h(b + 50), 0);
        assert_int_equal(rd32h(b + 54), prec == 9 ? 999 : 0);
        assert_int_equal(rd32h(b + 58), 0);
        assert_int_equal(rd32h(b + 62), 60);
        free(b);

        struct opkts r;
        read_back(path, &r);
        assert_int_equal(r.n, 2);
        assert_false(r.damaged);
        assert_true(r.v[0].ts_ns == (prec == 9 ? p.ts_ns : 1700000000123456000ull));
        assert_int_equal(r.v[0].ts_prec, prec);
        assert_int_equal(r.v[0].wirelen, 1514);
        assert_int_equal(r.v[1].caplen, 0);
        opkts_free(&r);
    }
    free(path);
}

static void pcap_refuses_a_packet_of_another_link_type_and_goes_on(void **state)
{
    (void)state;
    char *path = tmp_path("lt.pcap");
    struct np_pcap_out *o = open_out(path, NP_PCAP_FMT_PCAP, 6, NP_LINK_ETHERNET, 0, 0);
    uint8_t buf[400];
    struct np_pkt p = synth_pkt(0, buf);
    p.linktype = NP_LINK_SLL;
    struct np_err err;
    assert_int_equal(np_pcap_out_write(o, &p, &err), NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "pcapng"));
    assert_int_equal(np_pcap_out_set_iface(o, 0, NP_LINK_SLL, 0, &err), NP_ERR_USAGE);
    assert_int_equal(np_pcap_out_set_iface(o, 0, NP_LINK_ETHERNET, 0, &err), NP_OK);
    p.linktype = NP_LINK_ETHERNET;
    write_ok(o, &p);
    assert_int_equal(np_pcap_out_stats(o)->n_pkts, 1);
    finish_ok(o);
    struct opkts r;
    read_back(path, &r);
    assert_int_equal(r.n, 1);
    assert_true(synth_matches(&r.v[0], 0, 6));
    opkts_free(&r);
    free(path);
}

/* ---- pcapng ---- */

/* A block of a pcapng file written by us (host order). */
struct blk {
    uint32_t type, len;
    const uint8_t *body; /* len - 12 bytes */
};

/* The blocks of b, checking every length and trailer. */
static size_t walk_blocks(const uint8_t *b, size_t n, struct blk *out, size_t max)
{
    size_t k = 0, off = 0;
    while (off < n) {
        assert_true(n - off >= 12);
        assert_true(k < max);
        uint32_t len = rd32h(b + off + 4);
        assert_true(len >= 12 && len % 4 == 0 && len <= n - off);
        assert_int_equal(rd32h(b + off + len - 4), len);
        out[k].type = rd32h(b + off);
        out[k].len = len;
        out[k].body = b + off + 8;
        k++;
        off += len;
    }
    return k;
}

static void pcapng_writes_an_idb_before_the_first_packet_of_each_interface(void **state)
{
    (void)state;
    char *path = tmp_path("ifs.pcapng");
    /* (input ifid, link type) of each packet, and the output ifid it gets. */
    static const struct {
        uint32_t ifid;
        uint16_t lt;
        uint32_t out;
    } seq[] = {
        { 0, 1, 0 }, { 3, 113, 1 }, { 0, 1, 0 }, { 3, 1, 2 }, { 3, 113, 1 }, { 7, 101, 3 }
    };
    const size_t n_seq = sizeof(seq) / sizeof(seq[0]);
    for (unsigned prec = 6; prec <= 9; prec += 3) {
        struct np_pcap_out *o = open_out(path, NP_PCAP_FMT_PCAPNG, prec, 1, 4096, 0);
        uint8_t buf[400];
        for (uint32_t i = 0; i < n_seq; i++) {
            struct np_pkt p = synth_pkt(i, buf);
            p.ifid = seq[i].ifid;
            p.linktype = seq[i].lt;
            write_ok(o, &p);
        }
        assert_int_equal(np_pcap_out_stats(o)->n_idbs, 4);
        finish_ok(o);

        size_t n;
        uint8_t *b = slurp(path, &n);
        struct blk blk[16];
        size_t nb = walk_blocks(b, n, blk, 16);
        assert_int_equal(nb, 1 + 4 + n_seq);
        /* SHB: byte-order magic, version 1.0, section length -1. */
        assert_int_equal(blk[0].type, 0x0a0d0d0au);
        assert_int_equal(rd32h(blk[0].body), 0x1a2b3c4du);
        assert_int_equal(rd16h(blk[0].body + 4), 1);
        assert_int_equal(rd16h(blk[0].body + 6), 0);
        assert_true(rd32h(blk[0].body + 8) == UINT32_MAX && rd32h(blk[0].body + 12) == UINT32_MAX);
        uint32_t n_idb = 0, n_epb = 0;
        for (size_t k = 1; k < nb; k++) {
            const uint8_t *d = blk[k].body;
            if (blk[k].type == 1) {
                /* Written just before the first packet of its interface. */
                assert_true(k + 1 < nb && blk[k + 1].type == 6);
                assert_int_equal(rd32h(blk[k + 1].body), n_idb);
                assert_int_equal(rd16h(d), seq[n_epb].lt);
                assert_int_equal(rd16h(d + 2), 0);
                assert_int_equal(rd32h(d + 4), 4096);
                if (prec == 9) { /* if_tsresol 9, then the end of options */
                    assert_int_equal(blk[k].len, 32);
                    assert_int_equal(rd16h(d + 8), 9);
                    assert_int_equal(rd16h(d + 10), 1);
                    assert_int_equal(d[12], 9);
                    assert_int_equal(rd32h(d + 16), 0);
                } else {
                    assert_int_equal(blk[k].len, 20);
                }
                n_idb++;
                continue;
            }
            assert_int_equal(blk[k].type, 6);
            uint8_t buf2[400];
            struct np_pkt p = synth_pkt(n_epb, buf2);
            uint64_t t = prec == 9 ? p.ts_ns : p.ts_ns / 1000;
            assert_int_equal(rd32h(d), seq[n_epb].out);
            assert_int_equal(rd32h(d + 4), (uint32_t)(t >> 32));
            assert_int_equal(rd32h(d + 8), (uint32_t)t);
            assert_int_equal(rd32h(d + 12), p.caplen);
            assert_int_equal(rd32h(d + 16), p.wirelen);
            assert_memory_equal(d + 20, buf2, p.caplen);
            assert_int_equal(blk[k].len, 32 + (p.caplen + 3) / 4 * 4);
            for (uint32_t z = p.caplen; z % 4 != 0; z++)
                assert_int_equal(d[20 + z], 0); /* padding */
            n_epb++;
        }
        assert_int_equal(n_idb, 4);
        assert_int_equal(n_epb, n_seq);
        free(b);

        struct opkts r;
        read_back(path, &r);
        assert_int_equal(r.n, n_seq);
        assert_false(r.damaged);
        assert_int_equal(r.anom, 0);
        for (uint32_t i = 0; i < n_seq; i++) {
            assert_true(synth_matches(&r.v[i], i, prec));
            assert_int_equal(r.v[i].ifid, seq[i].out);
            assert_int_equal(r.v[i].linktype, seq[i].lt);
            assert_int_equal(r.v[i].ts_prec, prec);
        }
        opkts_free(&r);
    }
    free(path);
}

static void declared_interfaces_get_their_snaplen_and_a_new_one_a_new_idb(void **state)
{
    (void)state;
    char *path = tmp_path("decl.pcapng");
    struct np_pcap_out *o = open_out(path, NP_PCAP_FMT_PCAPNG, 9, 1, 0, 0);
    struct np_err err;
    assert_int_equal(np_pcap_out_set_iface(o, 0, 1, 96, &err), NP_OK);
    assert_int_equal(np_pcap_out_set_iface(o, 1, 113, 128, &err), NP_OK);
    assert_int_equal(np_pcap_out_set_iface(o, 9, 1, 1500, &err), NP_OK); /* never used */
    uint8_t buf[400];
    memset(buf, 0, sizeof(buf));
    struct np_pkt p = synth_pkt(0, buf);
    p.caplen = 90;
    p.wirelen = 1500;
    write_ok(o, &p); /* IDB 0: snaplen 96 */
    p.ifid = 1;
    p.linktype = 113;
    write_ok(o, &p); /* IDB 1: snaplen 128 */
    p.ifid = 2;
    p.linktype = 1;
    write_ok(o, &p); /* IDB 2: undeclared, cfg's 0 */
    assert_int_equal(np_pcap_out_set_iface(o, 0, 1, 96, &err), NP_OK); /* the same: no IDB */
    p.ifid = 0;
    write_ok(o, &p);
    assert_int_equal(np_pcap_out_stats(o)->n_idbs, 3);
    assert_int_equal(np_pcap_out_set_iface(o, 0, 1, 64, &err), NP_OK); /* another snaplen */
    p.caplen = 64;
    write_ok(o, &p); /* IDB 3 */
    assert_int_equal(np_pcap_out_stats(o)->n_idbs, 4);
    finish_ok(o);

    size_t n;
    uint8_t *b = slurp(path, &n);
    struct blk blk[16];
    size_t nb = walk_blocks(b, n, blk, 16);
    static const uint32_t want_snap[] = { 96, 128, 0, 64 };
    static const uint32_t want_ifid[] = { 0, 1, 2, 0, 3 };
    uint32_t n_idb = 0, n_epb = 0;
    for (size_t k = 1; k < nb; k++) {
        if (blk[k].type == 1) {
            assert_true(n_idb < 4);
            assert_int_equal(rd32h(blk[k].body + 4), want_snap[n_idb++]);
        } else {
            assert_true(n_epb < 5);
            assert_int_equal(rd32h(blk[k].body), want_ifid[n_epb++]);
        }
    }
    assert_int_equal(n_idb, 4);
    assert_int_equal(n_epb, 5);
    free(b);
    free(path);
}

static void many_interfaces_each_keep_their_own_id(void **state)
{
    (void)state;
    char *path = tmp_path("many.pcapng");
    struct np_pcap_out *o = open_out(path, NP_PCAP_FMT_PCAPNG, 6, 1, 0, 0);
    uint8_t buf[400];
    rng_seed(7);
    enum {
        N_IF = 3000,
        N_PKT = 20000
    };
    static int32_t out_of[N_IF][2];
    memset(out_of, -1, sizeof(out_of));
    uint32_t next = 0;
    static uint32_t want[N_PKT];
    for (uint32_t i = 0; i < N_PKT; i++) {
        struct np_pkt p = synth_pkt(i, buf);
        uint32_t f = rng_below(N_IF);
        uint32_t l = rng_below(2);
        p.ifid = f * 1000003u;
        p.linktype = l ? 113 : 1;
        if (out_of[f][l] < 0)
            out_of[f][l] = (int32_t)next++;
        want[i] = (uint32_t)out_of[f][l];
        write_ok(o, &p);
    }
    assert_int_equal(np_pcap_out_stats(o)->n_idbs, next);
    finish_ok(o);
    struct opkts r;
    read_back(path, &r);
    assert_int_equal(r.n, N_PKT);
    assert_int_equal(r.anom, 0);
    for (uint32_t i = 0; i < N_PKT; i++) {
        assert_int_equal(r.v[i].ifid, want[i]);
        assert_true(synth_matches(&r.v[i], i, 6));
    }
    opkts_free(&r);
    free(path);
}

static void pcapng_without_packets_still_has_an_interface_for_libpcap(void **state)
{
    (void)state;
    char *path = tmp_path("empty.pcapng");
    /* Not SLL2: tcpdump warns that its interface indexes may name the
     * wrong interfaces on this machine. */
    finish_ok(open_out(path, NP_PCAP_FMT_PCAPNG, 9, NP_LINK_SLL, 0, 0));
    size_t n;
    uint8_t *b = slurp(path, &n);
    struct blk blk[4];
    assert_int_equal(walk_blocks(b, n, blk, 4), 2);
    assert_int_equal(blk[1].type, 1);
    assert_int_equal(rd16h(blk[1].body), NP_LINK_SLL);
    free(b);
    struct opkts r;
    read_back(path, &r);
    assert_int_equal(r.n, 0);
    assert_false(r.damaged);
    opkts_free(&r);
    if (need_tool("tcpdump"))
        tcpdump_reads_cleanly(path);
    free(path);
}

/* ---- the buffer ---- */

static void records_larger_than_the_buffer_are_written_whole_in_order(void **state)
{
    (void)state;
    char *path = tmp_path("big.out");
    static const uint32_t sizes[] = { 100, 1000, 70000, 3, 255, 256, 5000, 1 };
    const size_t n_sizes = sizeof(sizes) / sizeof(sizes[0]);
    uint8_t *data = malloc(70000);
    assert_non_null(data);
    for (int fmt = 0; fmt < 2; fmt++) {
        struct np_pcap_out *o = open_out(path, (enum np_pcap_fmt)fmt, 9, 1, 0, 256);
        for (uint32_t i = 0; i < n_sizes; i++) {
            synth_fill(data, sizes[i], i);
            struct np_pkt p = {
                .ts_ns = i, .data = data, .caplen = sizes[i], .wirelen = sizes[i], .linktype = 1
            };
            write_ok(o, &p);
        }
        uint64_t fb = np_pcap_out_stats(o)->file_bytes;
        finish_ok(o);
        assert_true(file_size(path) == fb);
        struct opkts r;
        read_back(path, &r);
        assert_int_equal(r.n, n_sizes);
        assert_false(r.damaged);
        for (uint32_t i = 0; i < n_sizes; i++) {
            synth_fill(data, sizes[i], i);
            assert_int_equal(r.v[i].caplen, sizes[i]);
            assert_true(r.v[i].ts_ns == i);
            assert_memory_equal(r.v[i].data, data, sizes[i]);
        }
        opkts_free(&r);
    }
    free(data);
    free(path);
}

/* Looks at the file between two calls, so without the writer thread: the
 * thread writes the same buffers in the same order, which core's tests of
 * the ring check. */
static void after_every_write_call_the_file_ends_on_a_record_boundary(void **state)
{
    (void)state;
    char *path = tmp_path("bound.out");
    enum {
        N = 2000
    };
    static uint64_t ends[N + 1];
    for (int fmt = 0; fmt < 2; fmt++) {
        struct np_pcap_out *o = open_out_bufs(path, (enum np_pcap_fmt)fmt, 6, 1, 0, 4096, 1);
        uint8_t buf[400];
        size_t k = 0; /* ends[k] is the largest boundary the file has reached */
        ends[0] = np_pcap_out_stats(o)->file_bytes;
        assert_true(file_size(path) == ends[0]); /* the header is written at create */
        uint64_t sizes_seen = 0;
        for (uint32_t i = 0; i < N; i++) {
            struct np_pkt p = synth_pkt(i, buf);
            write_ok(o, &p);
            ends[i + 1] = np_pcap_out_stats(o)->file_bytes;
            uint64_t sz = file_size(path);
            while (k <= i + 1 && ends[k] < sz)
                k++;
            assert_true(k <= i + 1 && ends[k] == sz);
            sizes_seen += sz != ends[0];
            if (i == N / 2) {
                struct np_err err;
                assert_int_equal(np_pcap_out_flush(o, &err), NP_OK);
                assert_true(file_size(path) == ends[i + 1]);
            }
        }
        assert_true(sizes_seen > 0);
        finish_ok(o);
        assert_true(file_size(path) == ends[N]);
    }
    free(path);
}

/* Child: writes N synthetic packets with a small buffer, then kills itself
 * without finishing. */
static void write_and_die(const char *path, enum np_pcap_fmt fmt, uint32_t n)
{
    struct np_pcap_out_cfg cfg = { .fmt = fmt, .ts_prec = 9, .linktype = 1, .buf_bytes = 8192 };
    struct np_err err;
    struct np_pcap_out *o = np_pcap_out_create(path, &cfg, &err);
    if (o == NULL)
        _exit(3);
    uint8_t buf[400];
    for (uint32_t i = 0; i < n; i++) {
        struct np_pkt p = synth_pkt(i, buf);
        if (np_pcap_out_write(o, &p, &err) != NP_OK)
            _exit(4);
    }
    kill(getpid(), SIGKILL);
    _exit(5);
}

static void a_writer_killed_by_sigkill_leaves_only_whole_records(void **state)
{
    (void)state;
    char *path = tmp_path("killed.out");
    bool tcpdump = need_tool("tcpdump");
    for (int fmt = 0; fmt < 2; fmt++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            write_and_die(path, (enum np_pcap_fmt)fmt, 1000);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        struct opkts r;
        read_back(path, &r);
        assert_false(r.damaged);
        assert_true(r.n > 0 && r.n < 1000); /* the last buffer is lost */
        for (uint32_t i = 0; i < r.n; i++)
            assert_true(synth_matches(&r.v[i], i, 9));
        opkts_free(&r);
        if (tcpdump)
            tcpdump_reads_cleanly(path);
    }
    free(path);
}

static void copies_cut_anywhere_are_read_by_tcpdump_to_the_last_whole_record(void **state)
{
    (void)state;
    if (!need_tool("tcpdump"))
        skip();
    char *path = tmp_path("whole.out");
    char *cut = tmp_path("cut.out");
    char *copy = tmp_path("copy.pcap");
    enum {
        N = 40
    };
    uint64_t ends[N + 1];
    rng_seed(42);
    for (int fmt = 0; fmt < 2; fmt++) {
        struct np_pcap_out *o = open_out(path, (enum np_pcap_fmt)fmt, 9, 1, 0, 1024);
        uint8_t buf[400];
        for (uint32_t i = 0; i < N; i++) {
            struct np_pkt p = synth_pkt(i, buf);
            write_ok(o, &p);
            ends[i] = np_pcap_out_stats(o)->file_bytes; /* after record i */
        }
        finish_ok(o);
        size_t n;
        uint8_t *b = slurp(path, &n);
        /* Where the first packet record starts: after the file header (pcap),
         * after the SHB and the IDB (pcapng: libpcap opens no file without
         * an interface). */
        uint64_t first = fmt == 0 ? 24 : ends[0] - 32 - (synth_caplen(0) + 3) / 4 * 4;
        for (int t = 0; t < 24; t++) {
            /* Half of the cuts on a record boundary, half anywhere. */
            uint64_t at =
                    t % 2 == 0 ? ends[rng_below(N)] : first + rng_below((uint32_t)(n - first));
            FILE *f = fopen(cut, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(b, 1, at, f), at);
            fclose(f);
            uint32_t whole = 0;
            while (whole < N && ends[whole] <= at)
                whole++;
            unlink(copy);
            char cmd[8400];
            snprintf(cmd, sizeof(cmd), "tcpdump --time-stamp-precision=nano -r '%s' -w '%s'", cut,
                     copy);
            bool quiet;
            int rc = run_tool(cmd, &quiet, t % 2 == 0); /* mid-record: "truncated" */
            if (t % 2 == 0) {
                assert_int_equal(rc, 0);
                assert_true(quiet);
            }
            struct opkts r;
            read_back(copy, &r);
            assert_int_equal(r.n, whole);
            for (uint32_t i = 0; i < r.n; i++)
                assert_true(synth_matches(&r.v[i], i, 9));
            opkts_free(&r);
            read_back(cut, &r); /* our reader too, warning when cut mid-record */
            assert_int_equal(r.n, whole);
            assert_int_equal(r.damaged, whole == 0 ? at != first : at != ends[whole - 1]);
            opkts_free(&r);
        }
        free(b);
    }
    free(path);
    free(cut);
    free(copy);
}

/* ---- errors ---- */

static void paths_that_cannot_be_created_are_usage_errors_naming_them(void **state)
{
    (void)state;
    struct np_pcap_out_cfg cfg = { .fmt = NP_PCAP_FMT_PCAP, .ts_prec = 6, .linktype = 1 };
    struct np_err err;
    const char *missing = "/nonexistent-np-dir/out.pcap";
    assert_null(np_pcap_out_create(missing, &cfg, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, missing));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));
    assert_null(np_pcap_out_create(tmpdir, &cfg, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    assert_non_null(strstr(err.msg, strerror(EISDIR)));
}

static void a_bad_configuration_is_a_usage_error(void **state)
{
    (void)state;
    char *path = tmp_path("cfg.pcap");
    struct np_pcap_out_cfg cfg = { .fmt = NP_PCAP_FMT_PCAP, .ts_prec = 3, .linktype = 1 };
    struct np_err err;
    assert_null(np_pcap_out_create(path, &cfg, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    cfg.ts_prec = 9;
    cfg.fmt = (enum np_pcap_fmt)7;
    assert_null(np_pcap_out_create(path, &cfg, &err));
    assert_int_equal(err.rc, NP_ERR_USAGE);
    free(path);
}

static void dev_full_fails_at_create_with_an_io_error(void **state)
{
    (void)state;
    struct np_pcap_out_cfg cfg = { .fmt = NP_PCAP_FMT_PCAPNG, .ts_prec = 6, .linktype = 1 };
    struct np_err err;
    assert_null(np_pcap_out_create("/dev/full", &cfg, &err));
    assert_int_equal(err.rc, NP_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot write /dev/full: "));
    assert_non_null(strstr(err.msg, strerror(ENOSPC)));
}

/* Creates the writer on "-" with standard output on a file, then points
 * standard output at /dev/full: every later write(2) fails. Without the
 * writer thread (n_bufs 1) the write that fills the buffer reports it; with
 * it, the error comes back at the latest on flush. Either way every call
 * after that fails too. */
static void write_errors_are_io_errors_and_stay(void **state)
{
    (void)state;
    char *path = tmp_path("stdout.out");
    for (int run = 0; run < 4; run++) {
        int big = run & 1;
        unsigned n_bufs = run < 2 ? 1 : 0;
        int saved = dup(STDOUT_FILENO);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int full = open("/dev/full", O_WRONLY);
        assert_true(saved >= 0 && fd >= 0 && full >= 0);
        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        struct np_pcap_out_cfg cfg = { .fmt = NP_PCAP_FMT_PCAP,
                                       .ts_prec = 9,
                                       .linktype = 1,
                                       .buf_bytes = 1024,
                                       .n_bufs = n_bufs };
        struct np_err err = { 0 };
        struct np_pcap_out *o = np_pcap_out_create("-", &cfg, &err);
        dup2(full, STDOUT_FILENO);
        enum np_rc rc = NP_OK;
        uint8_t data[2000];
        memset(data, 0xab, sizeof(data));
        struct np_pkt p = {
            .data = data, .caplen = big ? 2000 : 100, .wirelen = 2000, .linktype = 1
        };
        uint32_t i;
        for (i = 0; o != NULL && i < 100 && rc == NP_OK; i++)
            rc = np_pcap_out_write(o, &p, &err);
        struct np_err ferr, cerr, aerr;
        enum np_rc frc = o ? np_pcap_out_flush(o, &ferr) : NP_OK;
        enum np_rc again = o ? np_pcap_out_write(o, &p, &aerr) : NP_OK;
        enum np_rc crc = o ? np_pcap_out_finish(o, &cerr) : NP_OK;
        np_pcap_out_destroy(o);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        close(fd);
        close(full);
        assert_non_null(o);
        if (n_bufs == 1) {
            assert_int_equal(rc, NP_ERR_IO);
            assert_true(i < 100);
        }
        const char *msg = rc != NP_OK ? err.msg : ferr.msg;
        assert_non_null(strstr(msg, "cannot write stdout: "));
        assert_non_null(strstr(msg, strerror(ENOSPC)));
        assert_int_equal(frc, NP_ERR_IO);
        assert_int_equal(again, NP_ERR_IO);
        assert_int_equal(crc, NP_ERR_IO);
        assert_true(file_size(path) == 24); /* the header, written at create */
    }
    free(path);
}

static void dash_writes_to_standard_output_and_leaves_it_open(void **state)
{
    (void)state;
    char *path = tmp_path("dash.pcap");
    int saved = dup(STDOUT_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    fflush(stdout);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    struct np_pcap_out *o = open_out("-", NP_PCAP_FMT_PCAP, 6, 1, 0, 0);
    uint8_t buf[400];
    struct np_pkt p = synth_pkt(0, buf);
    write_ok(o, &p);
    finish_ok(o);
    bool open_still = fcntl(STDOUT_FILENO, F_GETFD) != -1;
    dup2(saved, STDOUT_FILENO);
    close(saved);
    assert_true(open_still);
    struct opkts r;
    read_back(path, &r);
    assert_int_equal(r.n, 1);
    assert_true(synth_matches(&r.v[0], 0, 6));
    opkts_free(&r);
    free(path);
}

static void stats_count_packets_bytes_and_anomalies(void **state)
{
    (void)state;
    char *path = tmp_path("stats.out");
    for (int fmt = 0; fmt < 2; fmt++) {
        struct np_pcap_out *o = open_out(path, (enum np_pcap_fmt)fmt, 9, 1, 64, 0);
        uint64_t fb0 = np_pcap_out_stats(o)->file_bytes; /* file header or SHB */
        uint8_t data[100] = { 0 };
        struct np_pkt p = { .ts_ns = 1, .data = data, .caplen = 60, .wirelen = 60, .linktype = 1 };
        write_ok(o, &p);
        p.caplen = 100; /* over the snaplen: written whole, counted */
        p.ts_ns = (uint64_t)UINT32_MAX * 1000000000u + 1000000000u; /* 2106-02-07 06:28:16 */
        write_ok(o, &p);
        const struct np_pcap_out_stats *st = np_pcap_out_stats(o);
        assert_int_equal(st->n_pkts, 2);
        assert_int_equal(st->data_bytes, 160);
        assert_int_equal(st->anom_caplen_over_snaplen, 1);
        assert_int_equal(st->anom_ts_past_2106, fmt == 0 ? 1 : 0);
        assert_int_equal(st->n_idbs, fmt == 0 ? 0 : 1);
        uint64_t fb = st->file_bytes;
        /* pcap: records of 16 + caplen; pcapng: an IDB with if_tsresol, EPBs of 32 + caplen. */
        assert_true(fb == (fmt == 0 ? 24 + 16 + 60 + 16 + 100 : fb0 + 32 + 32 + 60 + 32 + 100));
        finish_ok(o);
        assert_true(file_size(path) == fb);
        struct opkts r;
        read_back(path, &r);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.v[1].caplen, 100);
        /* pcap wraps the seconds; pcapng keeps them. */
        assert_true(r.v[1].ts_ns == (fmt == 0 ? 0 : p.ts_ns));
        opkts_free(&r);
    }
    free(path);
}

/* ---- the corpus ---- */

/* Reads src and remembers each input interface's snaplen as np_source_iface_info
 * gives it when its first packet is seen (the way a command copies framing). */
struct seen_if {
    uint32_t ifid;
    uint16_t lt;
    uint32_t snaplen;
};

struct corpus_in {
    struct opkts pk;
    struct seen_if *ifs; /* owned; in order of first packet */
    size_t n_ifs;
    uint32_t *if_of; /* owned; index into ifs of each packet */
    bool one_linktype;
    bool nano; /* np_source_nano() at create */
    bool opened;
};

static void corpus_in_free(struct corpus_in *c)
{
    opkts_free(&c->pk);
    free(c->ifs);
    free(c->if_of);
}

static void corpus_read(const char *path, struct corpus_in *c)
{
    memset(c, 0, sizeof(*c));
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    struct np_err err;
    struct np_source *s = np_source_create(&o, &err);
    if (s == NULL)
        return; /* not a capture file: malformed corpus */
    c->opened = true;
    c->nano = np_source_nano(s);
    struct np_batch *b = np_batch_create(256, 1 << 16);
    assert_non_null(b);
    size_t cap_ifs = 0, cap_of = 0;
    enum np_rc rc;
    do {
        rc = np_source_next(s, b, &err);
        for (uint32_t i = 0; i < b->n; i++) {
            const struct np_pkt *p = &b->pkts[i];
            size_t k;
            for (k = 0; k < c->n_ifs; k++) {
                if (c->ifs[k].ifid == p->ifid && c->ifs[k].lt == p->linktype)
                    break;
            }
            if (k == c->n_ifs) {
                if (c->n_ifs == cap_ifs) {
                    cap_ifs = cap_ifs ? cap_ifs * 2 : 8;
                    c->ifs = realloc(c->ifs, cap_ifs * sizeof(*c->ifs));
                    assert_non_null(c->ifs);
                }
                uint16_t lt;
                uint32_t snap = 0;
                assert_true(np_source_iface_info(s, p->ifid, &lt, &snap));
                assert_int_equal(lt, p->linktype);
                c->ifs[c->n_ifs++] = (struct seen_if){ p->ifid, p->linktype, snap };
            }
            if (c->pk.n == cap_of) {
                cap_of = cap_of ? cap_of * 2 : 64;
                c->if_of = realloc(c->if_of, cap_of * sizeof(*c->if_of));
                assert_non_null(c->if_of);
            }
            c->if_of[c->pk.n] = (uint32_t)k;
            opkts_add(&c->pk, p);
        }
        (void)np_source_take_warning(s);
    } while (rc == NP_OK);
    c->one_linktype = true;
    for (size_t k = 1; k < c->n_ifs; k++)
        c->one_linktype &= c->ifs[k].lt == c->ifs[0].lt;
    np_batch_destroy(b);
    np_source_destroy(s);
}

/* Writes c to path; pcapng declares every interface before its first packet. */
static void corpus_write(const struct corpus_in *c, const char *path, enum np_pcap_fmt fmt,
                         unsigned prec)
{
    uint16_t lt = c->n_ifs > 0 ? c->ifs[0].lt : NP_LINK_ETHERNET;
    uint32_t snap = c->n_ifs > 0 ? c->ifs[0].snaplen : 0;
    struct np_pcap_out *o = open_out(path, fmt, prec, lt, snap, 0);
    struct np_err err;
    uint32_t declared = 0; /* interfaces come in order of their first packet */
    for (size_t i = 0; i < c->pk.n; i++) {
        const struct seen_if *f = &c->ifs[c->if_of[i]];
        if (fmt == NP_PCAP_FMT_PCAPNG && c->if_of[i] == declared) {
            assert_int_equal(np_pcap_out_set_iface(o, f->ifid, f->lt, f->snaplen, &err), NP_OK);
            declared++;
        }
        struct np_pkt p = as_pkt(&c->pk.v[i]);
        write_ok(o, &p);
    }
    if (np_pcap_out_finish(o, &err) != NP_OK)
        fail_msg("%s", err.msg);
    const struct np_pcap_out_stats *st = np_pcap_out_stats(o);
    assert_int_equal(st->n_pkts, c->pk.n);
    assert_true(file_size(path) == st->file_bytes); /* pcapng: an IDB at finish when empty */
    np_pcap_out_destroy(o);
}

/* The same packets, timestamps at the written precision. */
static void corpus_compare(const struct corpus_in *c, const char *path, enum np_pcap_fmt fmt,
                           unsigned prec)
{
    struct opkts r;
    read_back(path, &r);
    assert_false(r.damaged);
    assert_int_equal(r.anom, 0);
    assert_int_equal(r.n, c->pk.n);
    for (size_t i = 0; i < r.n; i++) {
        const struct opkt *a = &c->pk.v[i], *b = &r.v[i];
        uint64_t ts = prec == 9 ? a->ts_ns : a->ts_ns / 1000 * 1000;
        if (fmt == NP_PCAP_FMT_PCAP)
            ts %= (UINT64_C(1) << 32) * 1000000000u; /* 32-bit seconds */
        if (b->ts_ns != ts)
            fail_msg("packet %zu: ts %llu, want %llu", i + 1, (unsigned long long)b->ts_ns,
                     (unsigned long long)ts);
        assert_int_equal(b->ts_prec, prec);
        assert_int_equal(b->caplen, a->caplen);
        assert_int_equal(b->wirelen, a->wirelen);
        assert_int_equal(b->linktype, a->linktype);
        assert_memory_equal(b->data, a->data, a->caplen);
        /* pcapng: output interfaces in order of first packet. */
        assert_int_equal(b->ifid, fmt == NP_PCAP_FMT_PCAP ? 0 : c->if_of[i]);
    }
    opkts_free(&r);
}

static void corpus_round_trips(void **state)
{
    const struct corpus_file *cf = *state;
    struct corpus_in c;
    corpus_read(cf->path, &c);
    if (!c.opened)
        skip();
    char *path = tmp_path("rt.out");
    for (unsigned prec = 6; prec <= 9; prec += 3) {
        for (int fmt = 0; fmt < 2; fmt++) {
            if (fmt == NP_PCAP_FMT_PCAP && !c.one_linktype)
                continue;
            corpus_write(&c, path, (enum np_pcap_fmt)fmt, prec);
            corpus_compare(&c, path, (enum np_pcap_fmt)fmt, prec);
        }
    }
    free(path);
    corpus_in_free(&c);
}

static CMUnitTestFunction pick_all(const char *name, const char *path)
{
    (void)name;
    (void)path;
    return corpus_round_trips;
}

/* ---- the tools, on representative corpus files ---- */

static char corpus_pcaps[4096];

/* tshark's epoch time, lengths and interface of each packet equal ours. */
static void tshark_agrees(const struct corpus_in *c, const char *path, enum np_pcap_fmt fmt,
                          unsigned prec)
{
    char *out = tmp_path("tshark.txt");
    char cmd[8400];
    snprintf(cmd, sizeof(cmd),
             "tshark -r '%s' -T fields -e frame.time_epoch -e frame.len -e frame.cap_len "
             "-e frame.interface_id >'%s'",
             path, out);
    bool quiet;
    assert_int_equal(run_tool(cmd, &quiet, true), 0);
    assert_true(quiet);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char line[256];
    size_t i = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        assert_true(i < c->pk.n);
        const struct opkt *a = &c->pk.v[i];
        uint64_t ts = prec == 9 ? a->ts_ns : a->ts_ns / 1000 * 1000;
        char want[128];
        if (fmt == NP_PCAP_FMT_PCAP)
            snprintf(want, sizeof(want), "%llu.%09llu\t%u\t%u\t\n",
                     (unsigned long long)(ts / 1000000000u), (unsigned long long)(ts % 1000000000u),
                     a->wirelen, a->caplen);
        else
            snprintf(want, sizeof(want), "%llu.%09llu\t%u\t%u\t%u\n",
                     (unsigned long long)(ts / 1000000000u), (unsigned long long)(ts % 1000000000u),
                     a->wirelen, a->caplen, c->if_of[i]);
        assert_string_equal(line, want);
        i++;
    }
    fclose(f);
    assert_int_equal(i, c->pk.n);
    free(out);
}

/* tcpdump reads it cleanly, and what it writes back holds our packets. */
static void tcpdump_agrees(const struct corpus_in *c, const char *path, unsigned prec)
{
    tcpdump_reads_cleanly(path);
    char *copy = tmp_path("tcpdump-copy.pcap");
    char cmd[8400];
    snprintf(cmd, sizeof(cmd), "tcpdump --time-stamp-precision=%s -r '%s' -w '%s'",
             prec == 9 ? "nano" : "micro", path, copy);
    bool quiet;
    assert_int_equal(run_tool(cmd, &quiet, true), 0);
    assert_true(quiet);
    struct opkts r;
    read_back(copy, &r);
    assert_int_equal(r.n, c->pk.n);
    for (size_t i = 0; i < r.n; i++) {
        const struct opkt *a = &c->pk.v[i];
        uint64_t ts = prec == 9 ? a->ts_ns : a->ts_ns / 1000 * 1000;
        assert_true(r.v[i].ts_ns == ts);
        assert_int_equal(r.v[i].caplen, a->caplen);
        assert_int_equal(r.v[i].wirelen, a->wirelen);
        assert_memory_equal(r.v[i].data, a->data, a->caplen);
    }
    opkts_free(&r);
    free(copy);
}

static void tcpdump_and_tshark_read_what_we_write(void **state)
{
    (void)state;
    assert_true(corpus_pcaps[0] != '\0');
    bool tcpdump = need_tool("tcpdump");
    bool tshark = need_tool("tshark");
    if (!tcpdump && !tshark)
        skip();
    static const struct {
        const char *name;
        bool nano; /* np_source_nano() at create */
    } files[] = {
        { "be-nsec-http__nanosecs_big_endian.pcap", true },          /* nano, big-endian input */
        { "sll-nsec-tcp-handshake__tcp-handshake-nano.pcap", true }, /* nano, SLL */
        { "http-gzip__get-gzip.pcap", false },                       /* micro */
        { "pcapng-2if-ether__pcapng-multi-interface.pcapng", true }, /* 2 interfaces */
        { "pcapng-10if-dns-tls__many_interfaces-1.pcapng", false },  /* 3 link types */
        { "pcapng-2if-ether-sll-snaplen__pcapng-example.pcapng", true }, /* IDB after packets */
    };
    char *path = tmp_path("tools.out");
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        char in[4400];
        snprintf(in, sizeof(in), "%s/%s", corpus_pcaps, files[k].name);
        struct corpus_in c;
        corpus_read(in, &c);
        assert_true(c.opened);
        assert_true(c.pk.n > 0);
        assert_int_equal(c.nano, files[k].nano);
        /* The input's precision, as a command copying it would choose. */
        unsigned prec = c.nano ? 9 : 6;
        for (int fmt = 0; fmt < 2; fmt++) {
            if (fmt == NP_PCAP_FMT_PCAP && !c.one_linktype)
                continue;
            corpus_write(&c, path, (enum np_pcap_fmt)fmt, prec);
            if (tshark)
                tshark_agrees(&c, path, (enum np_pcap_fmt)fmt, prec);
            /* libpcap refuses pcapng with interfaces of different link types. */
            if (tcpdump && c.one_linktype)
                tcpdump_agrees(&c, path, prec);
        }
        corpus_in_free(&c);
    }
    free(path);
}

/* Arguments: the corpus directory; "tools" runs only the tcpdump and tshark
 * check of representative corpus files. */
int main(int argc, char **argv)
{
    char dir[4096];
    int found = corpus_find(argc, argv, "pcaps", dir, sizeof(dir));
    if (found == 0)
        snprintf(corpus_pcaps, sizeof(corpus_pcaps), "%s", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pcap_header_is_version_2_4_in_host_order_with_snaplen_and_linktype),
        cmocka_unit_test(pcap_records_keep_bytes_lengths_and_timestamps_at_the_precision),
        cmocka_unit_test(pcap_refuses_a_packet_of_another_link_type_and_goes_on),
        cmocka_unit_test(pcapng_writes_an_idb_before_the_first_packet_of_each_interface),
        cmocka_unit_test(declared_interfaces_get_their_snaplen_and_a_new_one_a_new_idb),
        cmocka_unit_test(many_interfaces_each_keep_their_own_id),
        cmocka_unit_test(pcapng_without_packets_still_has_an_interface_for_libpcap),
        cmocka_unit_test(records_larger_than_the_buffer_are_written_whole_in_order),
        cmocka_unit_test(after_every_write_call_the_file_ends_on_a_record_boundary),
        cmocka_unit_test(a_writer_killed_by_sigkill_leaves_only_whole_records),
        cmocka_unit_test(copies_cut_anywhere_are_read_by_tcpdump_to_the_last_whole_record),
        cmocka_unit_test(paths_that_cannot_be_created_are_usage_errors_naming_them),
        cmocka_unit_test(a_bad_configuration_is_a_usage_error),
        cmocka_unit_test(dev_full_fails_at_create_with_an_io_error),
        cmocka_unit_test(write_errors_are_io_errors_and_stay),
        cmocka_unit_test(dash_writes_to_standard_output_and_leaves_it_open),
        cmocka_unit_test(stats_count_packets_bytes_and_anomalies),
    };
    const struct CMUnitTest tool_tests[] = {
        cmocka_unit_test(tcpdump_and_tshark_read_what_we_write),
    };
    if (argc > 2 && strcmp(argv[2], "tools") == 0) {
        /* Suite corpus: tshark takes half a second a file. */
        if (found != 0)
            return found;
        return cmocka_run_group_tests_name("pcap_out_tools", tool_tests, make_tmpdir,
                                           remove_tmpdir);
    }
    int rc = cmocka_run_group_tests_name("pcap_out", tests, make_tmpdir, NULL);
    if (rc != 0 || found != 0) {
        remove_tmpdir(NULL);
        return rc != 0 ? rc : found;
    }
    rc = corpus_run(argc, argv, "pcaps", "pcap_out_corpus_pcaps", pick_all);
    int rc2 = corpus_run(argc, argv, "malformed", "pcap_out_corpus_malformed", pick_all);
    remove_tmpdir(NULL);
    return rc != 0 ? rc : rc2;
}
