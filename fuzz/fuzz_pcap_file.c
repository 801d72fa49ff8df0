/* fuzz/fuzz_pcap_file.c: our pcap/pcapng reader on arbitrary bytes.
 *
 * The input is put in a memfd and read as a capture file through the source
 * ("/proc/self/fd/N"), the way a user's file is read, twice: with 4 MiB
 * reads into a normal batch, and with tiny reads into tiny batches so that
 * records straddle reads and batches everywhere. Both must give the same
 * packets. Non-capture input is refused at create time, which is fine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/packet.h"
#include "source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads everything; returns a digest of the packets (order, fields, bytes). */
static uint64_t read_all(const char *path, uint32_t chunk, uint32_t cap_pkts, size_t buf_bytes,
                         uint64_t *n_pkts)
{
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1, .read_chunk_bytes = chunk };
    struct np_err err;
    uint64_t h = NP_FNV1A64_INIT;
    *n_pkts = 0;
    struct np_source *s = np_source_create(&o, &err);
    if (s == NULL)
        return h;
    /* What the peek at open found is part of the result: both reads agree. */
    h ^= (uint64_t)np_source_mixed_linktypes(s) | (uint64_t)np_source_nano(s) << 1 |
         (uint64_t)np_source_any_pcapng(s) << 2;
    struct np_batch *b = np_batch_create(cap_pkts, buf_bytes);
    if (b == NULL)
        abort();
    enum np_rc rc;
    do {
        rc = np_source_next(s, b, &err);
        for (uint32_t i = 0; i < b->n; i++) {
            const struct np_pkt *p = &b->pkts[i];
            uint64_t f[6] = { p->ts_ns,   p->frame_no, p->caplen,
                              p->wirelen, p->ifid,     (uint64_t)p->linktype << 16 | p->ts_prec };
            h = np_fnv1a64(h, f, sizeof(f));
            h = np_fnv1a64(h, p->data, p->caplen);
        }
        *n_pkts += b->n;
        (void)np_source_take_warning(s);
    } while (rc == NP_OK);
    uint16_t lt;
    uint32_t snaplen;
    (void)np_source_iface_info(s, 0, &lt, &snaplen);
    np_batch_destroy(b);
    np_source_destroy(s);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_pcap_file", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    uint64_t n_big, n_tiny;
    uint64_t big = read_all(path, 0, 1024, 1 << 16, &n_big);
    uint64_t tiny = read_all(path, 7, 2, 16, &n_tiny);
    if (big != tiny || n_big != n_tiny)
        abort(); /* chunking changed what was read */
    close(fd);
    return 0;
}
