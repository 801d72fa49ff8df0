/* core/out.c: buffered output and the hand-written formatters. */
#include "core/out.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/thread.h"

/* The writer thread's ring. Buffers done .. submitted-1 (mod
 * n) are queued, the oldest being written; buffer submitted % n is the one
 * being filled. Counters only grow; mu guards them, lens, err and stop. */
struct np_out_ring {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t queued;          /* submitted grew, or stop */
    pthread_cond_t written;         /* written grew */
    uint8_t *bufs[NP_OUT_MAX_BUFS]; /* one area: bufs[0] .. n * cap */
    size_t lens[NP_OUT_MAX_BUFS];
    unsigned n;
    uint64_t submitted, done;
    int err; /* the writer's first error */
    bool stop;
};

/* write(2) until all of p is written; 0 or the errno. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (w == 0)
            return EIO;
        off += (size_t)w;
    }
    return 0;
}

int np_out_init(struct np_out *o, int fd, size_t cap_bytes)
{
    o->fd = fd;
    o->len = 0;
    o->err = 0;
    o->ring = NULL;
    o->cap = cap_bytes < 256 ? 256 : cap_bytes;
    o->buf = np_mem_alloc(o->cap); /* huge pages: see core/mem.h */
    return o->buf == NULL ? -1 : 0;
}

static void *writer_main(void *arg)
{
    struct np_out *o = arg;
    struct np_out_ring *r = o->ring;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->done == r->submitted && !r->stop)
            pthread_cond_wait(&r->queued, &r->mu);
        if (r->done == r->submitted)
            break; /* stop, and nothing queued */
        unsigned i = (unsigned)(r->done % r->n);
        size_t len = r->lens[i];
        int failed = r->err;
        pthread_mutex_unlock(&r->mu);
        int e = failed ? 0 : write_all(o->fd, r->bufs[i], len); /* after an error: dropped */
        pthread_mutex_lock(&r->mu);
        if (e != 0 && r->err == 0)
            r->err = e;
        r->done++;
        pthread_cond_signal(&r->written);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int np_out_async(struct np_out *o, unsigned n_bufs)
{
    if (o->ring != NULL)
        return 0;
    if (n_bufs < 2)
        n_bufs = 2;
    if (n_bufs > NP_OUT_MAX_BUFS)
        n_bufs = NP_OUT_MAX_BUFS;
    struct np_out_ring *r = calloc(1, sizeof(*r));
    uint8_t *area = r != NULL ? np_mem_alloc((size_t)n_bufs * o->cap) : NULL;
    if (area == NULL) {
        free(r);
        return ENOMEM;
    }
    r->n = n_bufs;
    for (unsigned i = 0; i < n_bufs; i++)
        r->bufs[i] = area + (size_t)i * o->cap;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->queued, NULL);
    pthread_cond_init(&r->written, NULL);
    o->ring = r;
    int e = np_thread_start(&r->thread, writer_main, o); /* signals: core/thread.h */
    if (e != 0) {
        pthread_cond_destroy(&r->written);
        pthread_cond_destroy(&r->queued);
        pthread_mutex_destroy(&r->mu);
        np_mem_free(area, (size_t)n_bufs * o->cap);
        free(r);
        o->ring = NULL;
        return e;
    }
    memcpy(area, o->buf, o->len);
    np_mem_free(o->buf, o->cap);
    o->buf = area;
    return 0;
}

/* Hands the current buffer to the writer (when it holds anything) and
 * waits until at most max_queued buffers are queued; the buffer to fill next
 * is then free. Takes the writer's error into o->err. */
static void ring_submit(struct np_out *o, uint64_t max_queued)
{
    struct np_out_ring *r = o->ring;
    pthread_mutex_lock(&r->mu);
    if (o->len > 0) {
        r->lens[r->submitted % r->n] = o->len;
        r->submitted++;
        pthread_cond_signal(&r->queued);
    }
    while (r->submitted - r->done > max_queued)
        pthread_cond_wait(&r->written, &r->mu);
    if (o->err == 0)
        o->err = r->err;
    o->buf = r->bufs[r->submitted % r->n];
    pthread_mutex_unlock(&r->mu);
    o->len = 0;
}

int np_out_spill(struct np_out *o)
{
    if (o->ring == NULL)
        return np_out_flush(o);
    ring_submit(o, o->ring->n - 1);
    return o->err;
}

void np_out_fini(struct np_out *o)
{
    if (o->ring != NULL) {
        struct np_out_ring *r = o->ring;
        o->len = 0;
        ring_submit(o, 0);
        pthread_mutex_lock(&r->mu);
        r->stop = true;
        pthread_cond_signal(&r->queued);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        pthread_cond_destroy(&r->written);
        pthread_cond_destroy(&r->queued);
        pthread_mutex_destroy(&r->mu);
        o->buf = r->bufs[0];
        o->cap *= r->n; /* the area */
        free(r);
        o->ring = NULL;
    }
    np_mem_free(o->buf, o->cap);
    o->buf = NULL;
    o->len = o->cap = 0;
}

int np_out_flush(struct np_out *o)
{
    if (o->ring != NULL) {
        ring_submit(o, 0);
        return o->err;
    }
    if (o->err == 0 && o->len > 0)
        o->err = write_all(o->fd, o->buf, o->len);
    o->len = 0; /* after an error, output is dropped; err says so */
    return o->err;
}

void np_out_mem(struct np_out *o, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n > 0) {
        if (o->len == o->cap)
            np_out_spill(o);
        size_t k = o->cap - o->len;
        if (k > n)
            k = n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static const char digits2[201] = "000102030405060708091011121314151617181920212223242526272829"
                                 "303132333435363738394041424344454647484950515253545556575859"
                                 "606162636465666768697071727374757677787980818283848586878889"
                                 "90919293949596979899";

static unsigned n_digits(uint64_t v)
{
    unsigned n = 1;
    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Writes v < 10^8 as exactly 8 digits, two per step in 32-bit arithmetic. */
static void put8(char *d, uint32_t v)
{
    for (int i = 6; i >= 0; i -= 2) {
        uint32_t r = v % 100;
        v /= 100;
        d[i] = digits2[2 * r];
        d[i + 1] = digits2[2 * r + 1];
    }
}

/* Counts the digits, then writes two per division from the end: half the
 * divisions of a digit-by-digit loop and no copy. Numbers of 16 digits or
 * more (flow ids) go in 8-digit chunks of 32-bit arithmetic. */
size_t np_fmt_u64(char *dst, uint64_t v)
{
    if (v >= 10000000000000000ull) {
        uint64_t hi = v / 10000000000000000ull; /* < 1845 */
        uint64_t rest = v % 10000000000000000ull;
        size_t n = np_fmt_u64(dst, hi);
        put8(dst + n, (uint32_t)(rest / 100000000u));
        put8(dst + n + 8, (uint32_t)(rest % 100000000u));
        return n + 16;
    }
    unsigned n = n_digits(v), i = n;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        dst[--i] = digits2[2 * r + 1];
        dst[--i] = digits2[2 * r];
    }
    if (v >= 10) {
        dst[--i] = digits2[2 * v + 1];
        dst[--i] = digits2[2 * v];
    } else {
        dst[--i] = (char)('0' + v);
    }
    return n;
}

static const char hexdig[] = "0123456789abcdef";

size_t np_fmt_hex64(char *dst, uint64_t v)
{
    for (int i = 15; i >= 0; i--) {
        dst[i] = hexdig[v & 15];
        v >>= 4;
    }
    return 16;
}

size_t np_fmt_ipv4(char *dst, const uint8_t a[4])
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i > 0)
            dst[n++] = '.';
        n += np_fmt_u64(dst + n, a[i]);
    }
    return n;
}

/* RFC 5952: lower case, no leading zeros, the longest run of two or more zero
 * groups (the first on a tie) as "::"; IPv4-mapped and IPv4-compatible
 * addresses end in dotted quad, as inet_ntop and tshark print them. */
size_t np_fmt_ipv6(char *dst, const uint8_t a[16])
{
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    size_t n = 0;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            dst[n++] = ':';
            if (i + best_len == 8)
                dst[n++] = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0)
            dst[n++] = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
            n += np_fmt_ipv4(dst + n, a + 12);
            break;
        }
        unsigned v = w[i];
        int started = 0;
        for (int s = 12; s >= 0; s -= 4) {
            unsigned d = (v >> s) & 15;
            if (d != 0 || started || s == 0) {
                dst[n++] = hexdig[d];
                started = 1;
            }
        }
    }
    return n;
}

size_t np_fmt_ip(char *dst, int ip_ver, const uint8_t a[16])
{
    return ip_ver == 6 ? np_fmt_ipv6(dst, a) : np_fmt_ipv4(dst, a);
}

static void put2(char *d, unsigned v)
{
    d[0] = (char)('0' + v / 10);
    d[1] = (char)('0' + v % 10);
}

/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

size_t np_fmt_rfc3339_ns(char *dst, uint64_t ts_ns)
{
    /* Records of one run mostly share a day: keep the last day's text. */
    static __thread int64_t cached_days = -1;
    static __thread char cached_date[10];
    uint64_t secs = ts_ns / 1000000000u;
    uint32_t frac = (uint32_t)(ts_ns % 1000000000u);
    int64_t days = (int64_t)(secs / 86400);
    unsigned sod = (unsigned)(secs % 86400);
    if (days != cached_days) {
        int64_t y;
        unsigned m, d;
        civil(days, &y, &m, &d);
        /* y is within 1970..2554 for a u64 of nanoseconds: always 4 digits. */
        unsigned yy = (unsigned)y;
        char *c = cached_date;
        c[0] = (char)('0' + yy / 1000);
        c[1] = (char)('0' + yy / 100 % 10);
        c[2] = (char)('0' + yy / 10 % 10);
        c[3] = (char)('0' + yy % 10);
        c[4] = '-';
        put2(c + 5, m);
        c[7] = '-';
        put2(c + 8, d);
        cached_days = days;
    }
    memcpy(dst, cached_date, 10);
    dst[10] = 'T';
    put2(dst + 11, sod / 3600);
    dst[13] = ':';
    put2(dst + 14, sod / 60 % 60);
    dst[16] = ':';
    put2(dst + 17, sod % 60);
    dst[19] = '.';
    for (int i = 28; i >= 20; i--) {
        dst[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    dst[29] = 'Z';
    return 30;
}

size_t np_fmt_secs9(char *dst, uint64_t ns)
{
    size_t n = np_fmt_u64(dst, ns / 1000000000u);
    uint32_t frac = (uint32_t)(ns % 1000000000u);
    dst[n++] = '.';
    for (int i = 8; i >= 0; i--) {
        dst[n + (size_t)i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return n + 9;
}

void np_out_u64(struct np_out *o, uint64_t v)
{
    o->len += np_fmt_u64((char *)np_out_room(o, 20), v);
}

void np_out_hex64(struct np_out *o, uint64_t v)
{
    o->len += np_fmt_hex64((char *)np_out_room(o, 16), v);
}

void np_out_ip(struct np_out *o, int ip_ver, const uint8_t a[16])
{
    o->len += np_fmt_ip((char *)np_out_room(o, NP_FMT_IP_MAX), ip_ver, a);
}

void np_out_rfc3339_ns(struct np_out *o, uint64_t ts_ns)
{
    o->len += np_fmt_rfc3339_ns((char *)np_out_room(o, 30), ts_ns);
}

void np_out_secs9(struct np_out *o, uint64_t ns)
{
    o->len += np_fmt_secs9((char *)np_out_room(o, 32), ns);
}

void np_out_json_str(struct np_out *o, const char *s, size_t n)
{
    np_out_ch(o, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            np_out_ch(o, '\\');
            np_out_ch(o, (char)c);
        } else if (c < 0x20) {
            uint8_t *d = np_out_room(o, 6);
            memcpy(d, "\\u00", 4);
            d[4] = (uint8_t)hexdig[c >> 4];
            d[5] = (uint8_t)hexdig[c & 15];
            o->len += 6;
        } else {
            np_out_ch(o, (char)c);
        }
    }
    np_out_ch(o, '"');
}

void np_out_pad(struct np_out *o, const char *s, size_t n, size_t w, bool right_align)
{
    if (right_align)
        for (size_t i = n; i < w; i++)
            np_out_ch(o, ' ');
    np_out_mem(o, s, n);
    if (!right_align)
        for (size_t i = n; i < w; i++)
            np_out_ch(o, ' ');
}
