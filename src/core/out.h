/* core/out.h: buffered output with hand-written formatters.
 *
 * Output writers format into one large buffer and write(2) it when full:
 * one snprintf/inet_ntop/strftime per field is slow enough to dominate a
 * flow export, so numbers, addresses and timestamps are formatted here by
 * hand. A write error is sticky and reported by np_out_flush().
 *
 * With np_out_async(), a full buffer is handed to a writer thread and
 * filling goes on in the next of a ring of buffers, so the kernel's copy
 * into the page cache (and, on a VM, the cost of fresh page-cache pages)
 * overlaps the work that produces the output. Buffers are written whole
 * and in order, so each write(2) still ends where a buffer ended.
 * np_out_flush() waits until everything handed over is written.
 */
#ifndef NP_CORE_OUT_H
#define NP_CORE_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct np_out_ring;

#define NP_OUT_MAX_BUFS 64u

struct np_out {
    int fd;       /* not owned */
    uint8_t *buf; /* owned (the ring's current buffer when async) */
    size_t len, cap;
    int err;                  /* first errno from write(2), sticky */
    struct np_out_ring *ring; /* owned; NULL: synchronous */
};

/* Uses fd (not closed by np_out_fini); cap_bytes of buffer. 0 or -1 (ENOMEM). */
int np_out_init(struct np_out *o, int fd, size_t cap_bytes);
/* Stops the writer thread once it has written what was handed to it, and
 * frees the buffers. What is still buffered is dropped: np_out_flush first. */
void np_out_fini(struct np_out *o);
/* Writes out what is buffered and waits for what was handed to the writer
 * thread; 0, or the errno of the first failed write. */
int np_out_flush(struct np_out *o);
/* From now on, full buffers go to a writer thread through a ring of n_bufs
 * (2 to NP_OUT_MAX_BUFS) buffers of the same capacity, in one allocation.
 * 0, or an errno (the output stays synchronous). */
int np_out_async(struct np_out *o, unsigned n_bufs);
/* Makes the buffer empty: hands it to the writer thread when async, else
 * np_out_flush(). Returns the sticky error. */
int np_out_spill(struct np_out *o);

/* Makes room for n bytes (spilling if needed) and returns where to write. n
 * must not exceed the buffer capacity. */
static inline uint8_t *np_out_room(struct np_out *o, size_t n)
{
    if (o->cap - o->len < n)
        np_out_spill(o);
    return o->buf + o->len;
}

void np_out_mem(struct np_out *o, const void *p, size_t n);

static inline void np_out_ch(struct np_out *o, char c)
{
    *np_out_room(o, 1) = (uint8_t)c;
    o->len++;
}

static inline void np_out_str(struct np_out *o, const char *s)
{
    np_out_mem(o, s, strlen(s));
}

/* Formatters that write into a caller's buffer and return the length. */
size_t np_fmt_u64(char *dst, uint64_t v);            /* up to 20 bytes */
size_t np_fmt_hex64(char *dst, uint64_t v);          /* 16 bytes, lower case */
size_t np_fmt_ipv4(char *dst, const uint8_t a[4]);   /* up to 15 bytes */
size_t np_fmt_ipv6(char *dst, const uint8_t a[16]);  /* up to 45 bytes, RFC 5952 */
size_t np_fmt_rfc3339_ns(char *dst, uint64_t ts_ns); /* 30 bytes: ...T..:..:..123456789Z */
size_t np_fmt_secs9(char *dst, uint64_t ns);         /* "12.000000001" */
/* A numeric address: version 4 uses the first 4 bytes. */
size_t np_fmt_ip(char *dst, int ip_ver, const uint8_t a[16]);

#define NP_FMT_IP_MAX 46

void np_out_u64(struct np_out *o, uint64_t v);
void np_out_hex64(struct np_out *o, uint64_t v);
void np_out_ip(struct np_out *o, int ip_ver, const uint8_t a[16]);
void np_out_rfc3339_ns(struct np_out *o, uint64_t ts_ns);
void np_out_secs9(struct np_out *o, uint64_t ns);
/* A JSON string with quotes; bytes < 0x20, '"' and '\\' escaped, other bytes
 * copied (callers pass UTF-8 or ASCII). */
void np_out_json_str(struct np_out *o, const char *s, size_t n);
/* Pads with spaces to width w after writing s (left-aligned), or before it. */
void np_out_pad(struct np_out *o, const char *s, size_t n, size_t w, bool right_align);

#endif
