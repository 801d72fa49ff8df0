/* sink/inject.h: replaying packets onto an interface, and the scheduler
 * that paces a replay (also used by `replay --display-only`).
 *
 * The injector sends whole captured frames with libpcap's pcap_inject(). A
 * frame is sent only when it can be sent as recorded: one cut by the
 * snapshot length, one larger than the interface's MTU plus its link
 * header, or one of a link type the interface cannot carry is skipped and
 * counted; a failed send is counted with its errno. Which link types an
 * interface carries: np_inject_can_carry(), documented in docs/formats.md
 * ("Replay").
 *
 * The scheduler gives each packet a send time start + (ts - first_ts) /
 * speed on CLOCK_MONOTONIC, computed from the first packet (never by adding
 * gaps, so errors do not accumulate), waits for it with absolute sleeps of
 * at most 100 ms so a stop flag is seen promptly, and keeps the lateness of
 * every timed packet in a fixed histogram. Nothing here allocates per
 * packet; both objects are owned by one thread.
 */
#ifndef NP_SINK_INJECT_H
#define NP_SINK_INJECT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct np_pkt;

/* ---- latency histogram ---- */

/* Log-linear buckets: values below 32 ns exactly, then 16 buckets per power
 * of two (at most 1/16 = 6.25% wide) up to 2^64 - 1. */
#define NP_LATHIST_SUB     16u
#define NP_LATHIST_BUCKETS (61u * NP_LATHIST_SUB)

struct np_lathist {
    uint64_t n;      /* values added */
    uint64_t max_ns; /* the largest, exact */
    uint64_t bucket[NP_LATHIST_BUCKETS];
};

void np_lathist_reset(struct np_lathist *h);
void np_lathist_add(struct np_lathist *h, uint64_t ns);
/* The pct-th percentile (0 < pct <= 100) as the upper end of the bucket
 * holding the value of rank ceil(pct / 100 * n), capped at max_ns: never
 * below the true value, at most 6.25% above it. 0 when empty. */
uint64_t np_lathist_pct(const struct np_lathist *h, double pct);

/* ---- scheduler ---- */

struct np_sched {
    double speed;           /* 1: as recorded, 2: twice as fast, 0: no waiting */
    bool started;           /* the first packet fixed start_mono_ns and first_ts_ns */
    uint64_t start_mono_ns; /* CLOCK_MONOTONIC when the first packet went */
    uint64_t first_ts_ns;   /* its capture timestamp */
    uint64_t max_ts_ns;     /* the largest timestamp so far */
    uint64_t n_pkts;        /* packets scheduled */
    uint64_t n_backwards;   /* sent at once: timestamp below an earlier packet's */
    uint64_t n_stopped;     /* waits cut short by the stop flag */
    struct np_lathist late; /* lateness of timed packets (not the first, not
                               backwards ones, none at speed 0) */
};

/* Speed must be 0 or a finite number > 0; else NP_ERR_USAGE with err set
 * ("--speed must be 0 or a positive number"). */
enum np_rc np_sched_init(struct np_sched *s, double speed, struct np_err *err);

/* The pure math: when a packet stamped ts_ns is due, in the monotonic clock
 * where the replay started at start_mono_ns with a packet stamped
 * first_ts_ns. start_mono_ns + (ts_ns - first_ts_ns) / speed, rounded down;
 * start_mono_ns for a timestamp before first_ts_ns or for speed 0; saturates
 * at UINT64_MAX instead of wrapping. */
uint64_t np_sched_target(uint64_t start_mono_ns, uint64_t first_ts_ns, uint64_t ts_ns,
                         double speed);

/* Decides, without a clock, when the packet stamped ts_ns goes, now_ns being
 * the monotonic time (used to start the schedule at the first packet).
 * Returns the target time; *timed is false when the packet goes at once
 * (the first packet, speed 0, a timestamp below the largest so far, which
 * is counted in n_backwards), and then no lateness is recorded for it. */
uint64_t np_sched_plan(struct np_sched *s, uint64_t ts_ns, uint64_t now_ns, bool *timed);

/* Waits until the packet stamped ts_ns is due (np_sched_plan on
 * CLOCK_MONOTONIC, clock_nanosleep with TIMER_ABSTIME, waking at least every
 * 100 ms to look at *stop), then records its lateness. Returns true when it
 * is time to send, false when *stop (may be NULL) became non-zero first. */
bool np_sched_wait(struct np_sched *s, uint64_t ts_ns, const volatile sig_atomic_t *stop);

/* When a wait for target_ns that is at now_ns sleeps until: the target, or
 * 100 ms from now if that is sooner. */
uint64_t np_sched_wake_ns(uint64_t now_ns, uint64_t target_ns);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t np_sched_now_ns(void);

/* ---- injector ---- */

struct np_inject_stats {
    uint64_t sent_pkts;
    uint64_t sent_bytes;
    uint64_t skipped_truncated; /* caplen < wirelen: the frame was not recorded whole */
    uint64_t skipped_too_big;   /* larger than the MTU plus the link header */
    uint64_t skipped_linktype;  /* a link type the interface cannot carry */
    uint64_t send_errors;       /* pcap_inject failed */
    int first_errno;            /* errno of the first failed send, 0 when none */
    char first_error[256];      /* libpcap's message for it, "" when none */
};

struct np_inject;

/* Opens iface for sending (libpcap, a tiny snapshot length and a filter that
 * takes no packets, since we only send) and reads its link type and MTU.
 * NULL with err set: NP_ERR_USAGE for an interface that does not exist or
 * that we may not send on ("cannot send on eth9: ..."), NP_ERR_IO for other
 * failures, NP_ERR_NOMEM. */
struct np_inject *np_inject_open(const char *iface, struct np_err *err);
/* np_inject_close(NULL) is a no-op. */
void np_inject_close(struct np_inject *inj);

/* The interface's link type (LINKTYPE_*, as in capture files) and MTU. */
uint16_t np_inject_linktype(const struct np_inject *inj);
uint32_t np_inject_mtu(const struct np_inject *inj);

/* The carry rule, pure: whether frames of linktype can be sent as they are
 * on an interface of iface_linktype: the same link type, or any raw IP type
 * (12, 101, 228, 229) on a raw IP interface (tun). Cooked captures (SLL,
 * SLL2) are never carried: their header is not a link header (and "any"
 * cannot send). No header is rewritten, so Ethernet <-> SLL and raw IP ->
 * Ethernet are refused. */
bool np_inject_carries(uint16_t iface_linktype, uint16_t linktype);
/* np_inject_carries() for this interface. */
bool np_inject_can_carry(const struct np_inject *inj, uint16_t linktype);
/* The same as a caller's check: NP_OK, or NP_ERR_USAGE with one line in err
 * ("cannot replay link type SLL (113) on eth0 (EN10MB (1)): ..."). */
enum np_rc np_inject_check_linktype(const struct np_inject *inj, uint16_t linktype,
                                    struct np_err *err);

/* The largest frame sent on the interface for a frame starting with these
 * bytes: the MTU plus the link header (Ethernet 14, plus 4 for each VLAN
 * tag the frame carries). */
uint32_t np_inject_max_frame(const struct np_inject *inj, const struct np_pkt *p);

/* Sends p if it can be sent as recorded (see the file comment), counting
 * the outcome. Returns true when it was sent. */
bool np_inject_send(struct np_inject *inj, const struct np_pkt *p);

const struct np_inject_stats *np_inject_stats(const struct np_inject *inj);

#endif
