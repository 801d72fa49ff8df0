/* sink/inject.c: sending recorded frames on an interface, and pacing them.
 *
 * The injector is a libpcap handle used only to send: a 64-byte snapshot
 * length and a filter that accepts nothing keep the kernel from queueing
 * what the interface receives. The MTU comes from SIOCGIFMTU; frames are
 * checked against it before the send so that the summary can say why a
 * frame was not sent instead of counting EMSGSIZE.
 *
 * The scheduler keeps one reference point (monotonic time and capture time
 * of the first packet) and computes every target from it, so rounding and
 * oversleeping never accumulate over a long replay; lateness is measured
 * when the wait returns, just before the caller sends.
 */
#include "sink/inject.h"

#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "core/cursor.h"
#include "core/packet.h"

#define NS_PER_SEC   1000000000ull
#define MAX_SLEEP_NS 100000000ull /* wake at least every 100 ms to look at the stop flag */
/* The last stretch before a packet is due, waited for by reading the clock
 * (bench/recorder: a clock_nanosleep here wakes about 60 us late, p50). */
#define SPIN_NS        100000u
#define INJECT_SNAPLEN 64
#define MAX_TAGS       8 /* VLAN tags counted for the size check */

/* ---- latency histogram ---- */

/* Values below 2 * NP_LATHIST_SUB have a bucket each; above, a power of two
 * 2^e is split into NP_LATHIST_SUB buckets by the 4 bits after the top one. */
static unsigned lat_bucket(uint64_t v)
{
    if (v < 2 * NP_LATHIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
    unsigned sub = (unsigned)(v >> (e - 4)) & (NP_LATHIST_SUB - 1);
    return (e - 3) * NP_LATHIST_SUB + sub;
}

static uint64_t lat_upper(unsigned idx)
{
    if (idx < 2 * NP_LATHIST_SUB)
        return idx;
    unsigned e = idx / NP_LATHIST_SUB + 3, sub = idx % NP_LATHIST_SUB;
    uint64_t lower = (uint64_t)(NP_LATHIST_SUB + sub) << (e - 4);
    return lower + ((1ull << (e - 4)) - 1);
}

void np_lathist_reset(struct np_lathist *h)
{
    memset(h, 0, sizeof(*h));
}

void np_lathist_add(struct np_lathist *h, uint64_t ns)
{
    h->bucket[lat_bucket(ns)]++;
    h->n++;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

uint64_t np_lathist_pct(const struct np_lathist *h, double pct)
{
    if (h->n == 0)
        return 0;
    double x = pct / 100.0 * (double)h->n;
    uint64_t rank = h->n;
    if (!(x >= (double)h->n)) { /* also NaN */
        rank = x > 0 ? (uint64_t)x : 0;
        if ((double)rank < x) /* ceil without libm */
            rank++;
        if (rank == 0)
            rank = 1;
    }
    uint64_t seen = 0;
    for (unsigned i = 0; i < NP_LATHIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t up = lat_upper(i);
            return up < h->max_ns ? up : h->max_ns;
        }
    }
    return h->max_ns;
}

/* ---- scheduler ---- */

enum np_rc np_sched_init(struct np_sched *s, double speed, struct np_err *err)
{
    memset(s, 0, sizeof(*s));
    if (!isfinite(speed) || speed < 0)
        return np_err_set(err, NP_ERR_USAGE, "--speed must be 0 or a positive number");
    s->speed = speed;
    return NP_OK;
}

uint64_t np_sched_target(uint64_t start_mono_ns, uint64_t first_ts_ns, uint64_t ts_ns, double speed)
{
    if (ts_ns <= first_ts_ns || !(speed > 0))
        return start_mono_ns;
    uint64_t delta = ts_ns - first_ts_ns;
    uint64_t room = UINT64_MAX - start_mono_ns;
    if (speed == 1.0)
        return delta < room ? start_mono_ns + delta : UINT64_MAX;
    /* long double holds every 64-bit integer exactly on x86-64 (64-bit
     * mantissa), so speed 2 halves an odd gap to the nanosecond. */
    long double d = (long double)delta / (long double)speed;
    if (!(d < (long double)room)) /* also inf */
        return UINT64_MAX;
    return start_mono_ns + (uint64_t)d;
}

uint64_t np_sched_plan(struct np_sched *s, uint64_t ts_ns, uint64_t now_ns, bool *timed)
{
    s->n_pkts++;
    *timed = false;
    if (!s->started) {
        s->started = true;
        s->start_mono_ns = now_ns;
        s->first_ts_ns = ts_ns;
        s->max_ts_ns = ts_ns;
        return now_ns;
    }
    if (ts_ns < s->max_ts_ns) {
        s->n_backwards++;
        return now_ns;
    }
    s->max_ts_ns = ts_ns;
    if (!(s->speed > 0))
        return now_ns;
    *timed = true;
    return np_sched_target(s->start_mono_ns, s->first_ts_ns, ts_ns, s->speed);
}

uint64_t np_sched_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * NS_PER_SEC + (uint64_t)t.tv_nsec;
}

uint64_t np_sched_wake_ns(uint64_t now_ns, uint64_t target_ns)
{
    if (target_ns <= now_ns || target_ns - now_ns <= MAX_SLEEP_NS)
        return target_ns;
    return now_ns + MAX_SLEEP_NS;
}

static bool stopped(const volatile sig_atomic_t *stop)
{
    return stop != NULL && *stop != 0;
}

bool np_sched_wait(struct np_sched *s, uint64_t ts_ns, const volatile sig_atomic_t *stop)
{
    uint64_t now = np_sched_now_ns();
    bool timed;
    uint64_t target = np_sched_plan(s, ts_ns, now, &timed);
    if (!timed)
        return !stopped(stop);
    /* Each turn sleeps until SPIN_NS before the target or for 100 ms,
     * whichever is first (an interrupted sleep just turns again); the last
     * SPIN_NS are waited for by reading the clock, since a sleep wakes tens
     * of microseconds late and packets are often closer than that. */
    while (now < target) {
        if (stopped(stop)) {
            s->n_stopped++;
            return false;
        }
        if (target - now > SPIN_NS) {
            uint64_t wake = np_sched_wake_ns(now, target - SPIN_NS);
            struct timespec t = { .tv_sec = (time_t)(wake / NS_PER_SEC),
                                  .tv_nsec = (long)(wake % NS_PER_SEC) };
            (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
        }
        now = np_sched_now_ns();
    }
    np_lathist_add(&s->late, now - target);
    return !stopped(stop);
}

/* ---- injector ---- */

struct np_inject {
    pcap_t *p;  /* owned */
    char *name; /* owned */
    uint16_t linktype;
    uint32_t mtu; /* 0: unknown, no size check */
    struct np_inject_stats st;
};

/* libpcap's in-memory DLT_ values agree with LINKTYPE_ ones except for a
 * few old types; of those only raw IP can be sent on Linux (tun devices).
 * source/linktype.h has the full mapping but is internal to src/source. */
static uint16_t dlt_to_linktype(int dlt)
{
    return dlt == DLT_RAW ? NP_LINK_RAW : (uint16_t)dlt;
}

static bool is_raw(uint16_t lt)
{
    return lt == NP_LINK_RAW_OLD || lt == NP_LINK_RAW || lt == NP_LINK_IPV4 || lt == NP_LINK_IPV6;
}

static enum np_rc activate_error(pcap_t *p, const char *name, int rc, struct np_err *err)
{
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return np_err_set(err, NP_ERR_USAGE, "cannot send on %s: no such interface", name);
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return np_err_set(err, NP_ERR_USAGE,
                          "cannot send on %s: permission denied (run as root or grant "
                          "CAP_NET_RAW)",
                          name);
    case PCAP_ERROR_IFACE_NOT_UP:
        return np_err_set(err, NP_ERR_USAGE, "cannot send on %s: interface is not up", name);
    default: {
        const char *why = pcap_geterr(p);
        return np_err_set(err, NP_ERR_IO, "cannot send on %s: %s%s%s", name, pcap_statustostr(rc),
                          why[0] ? ": " : "", why);
    }
    }
}

/* SIOCGIFMTU on any socket; 0 when it cannot be read. */
static uint32_t read_mtu(const char *name)
{
    struct ifreq ifr;
    if (strlen(name) >= sizeof(ifr.ifr_name))
        return 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, strlen(name) + 1);
    int rc = ioctl(fd, SIOCGIFMTU, &ifr);
    close(fd);
    return rc == 0 && ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu : 0;
}

/* A filter that takes nothing ("less 1" cannot match a real frame): we only
 * send. Failing to set it costs only kernel work, so it is not an error. */
static void drop_all(pcap_t *p)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, "less 1", 1, PCAP_NETMASK_UNKNOWN) != 0)
        return;
    (void)pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
}

struct np_inject *np_inject_open(const char *iface, struct np_err *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct np_inject *inj = calloc(1, sizeof(*inj));
    if (inj == NULL || (inj->name = strdup(iface)) == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory opening %s", iface);
        goto fail;
    }
    errbuf[0] = '\0';
    inj->p = pcap_create(iface, errbuf);
    if (inj->p == NULL) {
        np_err_set(err, NP_ERR_USAGE, "cannot send on %s: %s", iface, errbuf);
        goto fail;
    }
    pcap_set_snaplen(inj->p, INJECT_SNAPLEN);
    pcap_set_timeout(inj->p, 100);
    int rc = pcap_activate(inj->p);
    if (rc < 0) {
        activate_error(inj->p, iface, rc, err);
        goto fail;
    }
    drop_all(inj->p);
    inj->linktype = dlt_to_linktype(pcap_datalink(inj->p));
    inj->mtu = read_mtu(iface);
    return inj;
fail:
    np_inject_close(inj);
    return NULL;
}

void np_inject_close(struct np_inject *inj)
{
    if (inj == NULL)
        return;
    if (inj->p != NULL)
        pcap_close(inj->p);
    free(inj->name);
    free(inj);
}

uint16_t np_inject_linktype(const struct np_inject *inj)
{
    return inj->linktype;
}

uint32_t np_inject_mtu(const struct np_inject *inj)
{
    return inj->mtu;
}

bool np_inject_carries(uint16_t iface_linktype, uint16_t linktype)
{
    if (iface_linktype == NP_LINK_SLL || iface_linktype == NP_LINK_SLL2 ||
        linktype == NP_LINK_SLL || linktype == NP_LINK_SLL2)
        return false;
    if (is_raw(iface_linktype))
        return is_raw(linktype);
    return linktype == iface_linktype;
}

bool np_inject_can_carry(const struct np_inject *inj, uint16_t linktype)
{
    return np_inject_carries(inj->linktype, linktype);
}

/* "EN10MB (1)", or "113" when libpcap has no name for it. */
static void linktype_text(char *dst, size_t cap, uint16_t lt)
{
    int dlt = lt == NP_LINK_RAW ? DLT_RAW : lt;
    const char *name = pcap_datalink_val_to_name(dlt);
    if (name != NULL)
        snprintf(dst, cap, "%s (%u)", name, (unsigned)lt);
    else
        snprintf(dst, cap, "%u", (unsigned)lt);
}

enum np_rc np_inject_check_linktype(const struct np_inject *inj, uint16_t linktype,
                                    struct np_err *err)
{
    if (np_inject_can_carry(inj, linktype))
        return NP_OK;
    char want[64], have[64];
    linktype_text(want, sizeof(want), linktype);
    linktype_text(have, sizeof(have), inj->linktype);
    const char *why = "frames are sent as recorded, so the link types must match";
    if (inj->linktype == NP_LINK_SLL || inj->linktype == NP_LINK_SLL2)
        why = "a cooked (\"any\") interface cannot send";
    else if (linktype == NP_LINK_SLL || linktype == NP_LINK_SLL2)
        why = "a cooked capture's header is not a link-layer header";
    return np_err_set(err, NP_ERR_USAGE, "cannot replay link type %s on %s (link type %s): %s",
                      want, inj->name, have, why);
}

uint32_t np_inject_max_frame(const struct np_inject *inj, const struct np_pkt *p)
{
    if (inj->mtu == 0)
        return UINT32_MAX;
    uint32_t hdr;
    switch (inj->linktype) {
    case NP_LINK_ETHERNET: {
        hdr = 14;
        struct np_cur c = np_cur_make(p->data, p->data != NULL ? p->caplen : 0);
        np_cur_skip(&c, 12);
        for (unsigned i = 0; i < MAX_TAGS; i++) {
            uint16_t type = np_cur_be16(&c);
            if (c.bad || (type != 0x8100 && type != 0x88a8 && type != 0x9100))
                break;
            np_cur_skip(&c, 2); /* the tag's TCI */
            hdr += 4;
        }
        break;
    }
    case NP_LINK_NULL:
    case NP_LINK_LOOP:
        hdr = 4;
        break;
    default:
        if (!is_raw(inj->linktype))
            return UINT32_MAX; /* a header length we do not know: the kernel checks */
        hdr = 0;
        break;
    }
    return inj->mtu > UINT32_MAX - hdr ? UINT32_MAX : inj->mtu + hdr;
}

bool np_inject_send(struct np_inject *inj, const struct np_pkt *p)
{
    struct np_inject_stats *st = &inj->st;
    if (p->caplen < p->wirelen) {
        st->skipped_truncated++;
        return false;
    }
    if (!np_inject_can_carry(inj, p->linktype)) {
        st->skipped_linktype++;
        return false;
    }
    if (p->caplen > np_inject_max_frame(inj, p)) {
        st->skipped_too_big++;
        return false;
    }
    errno = 0;
    int n = pcap_inject(inj->p, p->data, p->caplen);
    int e = errno;
    if (n < 0 || (uint32_t)n != p->caplen) {
        st->send_errors++;
        if (st->first_errno == 0 && st->first_error[0] == '\0') {
            st->first_errno = n < 0 ? e : 0;
            snprintf(st->first_error, sizeof(st->first_error), "%s",
                     n < 0 ? pcap_geterr(inj->p) : "short send");
        }
        return false;
    }
    st->sent_pkts++;
    st->sent_bytes += p->caplen;
    return true;
}

const struct np_inject_stats *np_inject_stats(const struct np_inject *inj)
{
    return &inj->st;
}
