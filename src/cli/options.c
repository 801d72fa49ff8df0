/* cli/options.c: the canonical option table and its parser. */
#include "cli/options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

struct def {
    const char *long_name;
    const char *arg; /* NULL: takes no argument */
    const char *help;
};

/* Indexed by enum np_opt_id. Long names are the same in every command and in
 * docs/cli.md. */
static const struct def defs[NP_OPT_MAX] = {
    [NP_OPT_READ] = { "read", "FILE",
                      "read packets from a pcap or pcapng file; repeat to read several in "
                      "order; - is standard input" },
    [NP_OPT_IFACE] = { "interface", "IFACE", "capture live on IFACE (see 'netpeek interfaces')" },
    [NP_OPT_FILTER] = { "filter", "BPF", "only packets matching this BPF filter (tcpdump syntax)" },
    [NP_OPT_SNAPLEN] = { "snaplen", "BYTES", "live: bytes captured per packet (default 262144)" },
    [NP_OPT_BUFFER_SIZE] = { "buffer-size", "BYTES",
                             "live: kernel capture buffer in bytes; K, M, G suffixes "
                             "(default: libpcap's)" },
    [NP_OPT_READ_TIMEOUT] = { "read-timeout", "MS",
                              "live: deliver buffered packets at least every MS ms "
                              "(default 100)" },
    [NP_OPT_PROMISC] = { "promisc", NULL, "live: promiscuous mode (the default)" },
    [NP_OPT_NO_PROMISC] = { "no-promisc", NULL,
                            "live: do not put the interface in promiscuous mode" },
    [NP_OPT_IMMEDIATE] = { "immediate", NULL, "live: hand over each packet as it arrives" },
    [NP_OPT_COUNT] = { "count", "N", "stop after N packets (after the filter; 0: no limit)" },
    [NP_OPT_DURATION] = { "duration", "SECS",
                          "stop after SECS seconds (live: wall clock; files: capture time "
                          "since the first packet; 0: no limit)" },
    [NP_OPT_LIBPCAP_READER] = { "libpcap-reader", NULL,
                                "read files with libpcap instead of netpeek's own reader "
                                "(slower; refuses pcapng with mixed link types)" },
    [NP_OPT_FLOW_TIMEOUT_TCP] = { "flow-timeout-tcp", "SECS",
                                  "end a TCP flow idle this long, in capture time (default 600)" },
    [NP_OPT_FLOW_TIMEOUT_UDP] = { "flow-timeout-udp", "SECS",
                                  "end a UDP or other IP flow idle this long (default 180)" },
    [NP_OPT_FLOW_TIMEOUT_ICMP] = { "flow-timeout-icmp", "SECS",
                                   "end an ICMP or ICMPv6 flow idle this long (default 60)" },
    [NP_OPT_TCP_CLOSE_DELAY] = { "tcp-close-delay", "SECS",
                                 "keep a closed TCP flow this long for late segments "
                                 "(retransmitted FIN, RST after FIN) before its record "
                                 "goes out; 0 writes it at once (default 5)" },
    [NP_OPT_MAX_FLOWS] = { "max-flows", "N",
                           "track at most N flows at once; the least recently active is "
                           "ended (end_reason eviction) to make room (default 1000000)" },
    [NP_OPT_NUMBER] = { "number", "N", "packets to keep per TCP session (default 10)" },
    [NP_OPT_MIDSTREAM] = { "midstream", NULL,
                           "also sample connections already under way, from their first "
                           "packet seen" },
    [NP_OPT_SESSION_TIMEOUT] = { "session-timeout", "SECS",
                                 "end a session idle this long, in capture time (default 60)" },
    [NP_OPT_MAX_SESSIONS] = { "max-sessions", "N",
                              "track at most N sessions at once; the least recently active "
                              "is evicted to make room (default 1000000)" },
    [NP_OPT_TIME_PRECISION] = { "time-precision", "micro|nano",
                                "timestamp precision of the output (default: the input's)" },
    [NP_OPT_VERBOSE] = { "verbose", NULL, "more output" },
    [NP_OPT_FORMAT] = { "format", "FMT", "output format" },
    [NP_OPT_OUTPUT] = { "output", "FILE", "write records to FILE instead of standard output" },
    [NP_OPT_JSON] = { "json", NULL, "JSON output" },
    [NP_OPT_QUIET] = { "quiet", NULL, "no summary on standard error" },
    [NP_OPT_DATABASE] = { "database", "DB", "the recording database (default packets.db)" },
    [NP_OPT_NAME] = { "name", "TEXT", "a name for the session" },
    [NP_OPT_SESSION] = { "session", "ID",
                         "the session: its id or a unique prefix of it (see 'netpeek "
                         "sessions')" },
    [NP_OPT_LIMIT] = { "limit", "N", "print at most N packets (default 10; 0: all)" },
    [NP_OPT_OFFSET] = { "offset", "N", "skip the first N matching packets" },
    [NP_OPT_SHOW_DATA] = { "show-data", NULL, "add a hex and ASCII dump of each packet" },
    [NP_OPT_HOST] = { "host", "ADDR", "packets from or to ADDR (IPv4 or IPv6)" },
    [NP_OPT_PORT] = { "port", "N", "packets from or to TCP or UDP port N" },
    [NP_OPT_FLOW] = { "flow", "ID",
                      "packets of flow ID: a number, or 16 hex digits, as 'netpeek flows' "
                      "prints them" },
    [NP_OPT_SINCE] = { "since", "TIME",
                       "packets at or after TIME: RFC 3339 (2026-11-23T10:00:00Z, "
                       "fractions and offsets allowed) or seconds since the epoch" },
    [NP_OPT_UNTIL] = { "until", "TIME", "packets at or before TIME (as --since)" },
    [NP_OPT_SPEED] = { "speed", "X",
                       "replay speed: 1 keeps the recorded gaps, 2 halves them, 0 sends as "
                       "fast as possible (default 1)" },
    [NP_OPT_DISPLAY_ONLY] = { "display-only", NULL,
                              "print the packets on time instead of sending them" },
    [NP_OPT_DELETE] = { "delete", "ID", "delete session ID and its packets" },
    [NP_OPT_HELP] = { "help", NULL, "show this help and exit" },
    [NP_OPT_VERSION] = { "version", NULL, "show the version and exit" },
    [NP_OPT_USER] = { "user", "USER", "switch to USER once the capture and the socket are open" },
    [NP_OPT_SOCKET] = { "socket", "PATH",
                        "the statistics socket (default /var/run/netpeek/handshake.sock)" },
    [NP_OPT_CHECKSUM] = { "checksum", "0|1|2",
                          "verify checksums: 0 none, 1 IP header and ICMP, 2 also TCP; a "
                          "packet the monitor would use (a counted SYN, a segment of a "
                          "handshake in progress, an ICMP error quoting its SYN) with a bad one "
                          "is counted and ignored (default 0)" },
    [NP_OPT_TIMEOUT] = { "timeout", "SECONDS",
                         "a handshake not complete this long after its last SYN or "
                         "SYN/ACK times out (default 60)" },
    [NP_OPT_BUFFER_MB] = { "buffer", "MB", "live: kernel capture buffer in MiB (default 32)" },
    [NP_OPT_LOGLEVEL] = { "loglevel", "LEVEL",
                          "messages up to this syslog level (emerg ... debug; default "
                          "notice); to syslog when standard error is not a terminal" },
    [NP_OPT_ICMP] = { "icmp", NULL,
                      "an ICMP or ICMPv6 destination unreachable quoting a SYN fails its "
                      "session" },
    [NP_OPT_LOCAL] = { "local", "ADDR[/PREFIX]",
                       "this address or network is local (repeatable; with -r, says which "
                       "sessions are RX and TX)" },
    [NP_OPT_NO_SOCKET] = { "no-socket", NULL, "serve no statistics socket" },
    [NP_OPT_LINGER] = { "linger", NULL,
                        "with -r and -U: once the files are read and the summary printed, "
                        "keep serving the socket until Ctrl-C or SIGTERM" },
    [NP_OPT_GMETRIC] = { "gmetric", NULL,
                         "send REFRESH and run gmetric once per reject, timeout, unreach, "
                         "dupsyn and dupsynack count" },
    [NP_OPT_GMETRIC_PATH] = { "gmetric-path", "PATH",
                              "the gmetric program (default gmetric, searched in PATH)" },
    [NP_OPT_PROMETHEUS] = { "prometheus", NULL, "Prometheus text exposition format" },
};

void np_opts_init(struct np_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->src.snaplen = 262144;
    o->src.read_timeout_ms = 100;
    o->src.promisc = true;
    np_track_cfg_default(&o->track);
    o->number = 10;
    o->session_timeout_ns = 60ull * 1000000000u;
    o->max_sessions = 1000000;
    o->database = "packets.db";
    o->limit = 10;
    o->port = -1;
    o->until_ns = UINT64_MAX;
    o->speed = 1.0;
    o->socket_path = "/var/run/netpeek/handshake.sock";
    o->hs_timeout_ns = 60ull * 1000000000u;
    o->loglevel = LOG_NOTICE;
    o->gmetric_path = "gmetric";
}

void np_opts_fini(struct np_opts *o)
{
    free(o->files);
    o->files = NULL;
    free(o->locals);
    o->locals = NULL;
}

/* A syslog level by name (emerg ... debug, with or without LOG_) or number. */
static enum np_rc parse_loglevel(const char *opt, const char *v, int *level, struct np_err *err)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {
        { "emerg", LOG_EMERG },  { "alert", LOG_ALERT },   { "crit", LOG_CRIT },
        { "err", LOG_ERR },      { "error", LOG_ERR },     { "warning", LOG_WARNING },
        { "warn", LOG_WARNING }, { "notice", LOG_NOTICE }, { "info", LOG_INFO },
        { "debug", LOG_DEBUG },
    };
    const char *n = strncasecmp(v, "LOG_", 4) == 0 ? v + 4 : v;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(n, names[i].name) == 0) {
            *level = names[i].level;
            return NP_OK;
        }
    if (n[0] >= '0' && n[0] <= '7' && n[1] == '\0') {
        *level = n[0] - '0';
        return NP_OK;
    }
    return np_err_set(err, NP_ERR_USAGE,
                      "--%s: '%s' is not a syslog level (emerg, alert, crit, err, warning, "
                      "notice, info, debug)",
                      opt, v);
}

static enum np_rc bad_number(struct np_err *err, const char *opt, const char *v, const char *what)
{
    return np_err_set(err, NP_ERR_USAGE, "--%s: '%s' is not %s", opt, v, what);
}

/* A whole number in [min, max], with an optional K/M/G (binary) suffix when
 * suffixes is set. */
static enum np_rc parse_u64(const char *opt, const char *v, uint64_t min, uint64_t max,
                            bool suffixes, uint64_t *out, struct np_err *err)
{
    char *end;
    if (*v == '\0' || *v == '-' || *v == '+' || *v == ' ')
        return bad_number(err, opt, v, "a whole number");
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || end == v)
        return bad_number(err, opt, v, "a whole number");
    if (suffixes && *end != '\0' && end[1] == '\0') {
        unsigned shift = *end == 'K' || *end == 'k'   ? 10
                         : *end == 'M' || *end == 'm' ? 20
                         : *end == 'G' || *end == 'g' ? 30
                                                      : 0;
        if (shift == 0 || x > (UINT64_MAX >> shift))
            return bad_number(err, opt, v, "a size (N, NK, NM or NG)");
        x <<= shift;
        end++;
    }
    if (*end != '\0')
        return bad_number(err, opt, v, "a whole number");
    if (x < min || x > max)
        return np_err_set(err, NP_ERR_USAGE, "--%s: %s is out of range (%llu to %llu)", opt, v,
                          (unsigned long long)min, (unsigned long long)max);
    *out = x;
    return NP_OK;
}

/* Seconds with an optional fraction ("1.5") to nanoseconds; 0 only when
 * allow_zero. */
static enum np_rc parse_secs_z(const char *opt, const char *v, bool allow_zero, uint64_t *ns,
                               struct np_err *err)
{
    uint64_t whole = 0, frac = 0, scale = 1000000000u;
    const char *p = v;
    if (*p < '0' || *p > '9')
        return bad_number(err, opt, v, "a number of seconds");
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > 100ull * 365 * 86400)
            return bad_number(err, opt, v, "a number of seconds under 100 years");
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return bad_number(err, opt, v, "a number of seconds");
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*p - '0') * scale;
            }
        }
    }
    if (*p != '\0')
        return bad_number(err, opt, v, "a number of seconds");
    *ns = whole * 1000000000u + frac;
    if (*ns == 0 && !allow_zero)
        return np_err_set(err, NP_ERR_USAGE, "--%s: must be more than 0 seconds", opt);
    return NP_OK;
}

static enum np_rc parse_secs(const char *opt, const char *v, uint64_t *ns, struct np_err *err)
{
    return parse_secs_z(opt, v, false, ns, err);
}

static enum np_rc parse_host(const char *opt, const char *v, struct np_opts *o, struct np_err *err)
{
    memset(o->host, 0, sizeof(o->host));
    if (inet_pton(AF_INET, v, o->host) == 1)
        o->host_ver = 4;
    else if (inet_pton(AF_INET6, v, o->host) == 1)
        o->host_ver = 6;
    else
        return bad_number(err, opt, v, "an IPv4 or IPv6 address");
    o->has_host = true;
    return NP_OK;
}

/* A decimal number, or exactly 16 hex digits (flow_id_hex), with or without 0x. */
static enum np_rc parse_flow_id(const char *opt, const char *v, uint64_t *id, struct np_err *err)
{
    const char *h = strncmp(v, "0x", 2) == 0 ? v + 2 : v;
    size_t n = strlen(h);
    bool hex = h != v || (n == 16 && strspn(h, "0123456789abcdefABCDEF") == 16);
    if (hex) {
        if (n == 0 || n > 16 || strspn(h, "0123456789abcdefABCDEF") != n)
            return bad_number(err, opt, v, "a flow id (a number or 16 hex digits)");
        *id = strtoull(h, NULL, 16);
        return NP_OK;
    }
    return parse_u64(opt, v, 0, UINT64_MAX, false, id, err) == NP_OK
                   ? NP_OK
                   : bad_number(err, opt, v, "a flow id (a number or 16 hex digits)");
}

static enum np_rc parse_speed(const char *opt, const char *v, double *speed, struct np_err *err)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || errno != 0 || !(x >= 0) || x > 1e6)
        return bad_number(err, opt, v, "a speed from 0 to 1000000 (1: as recorded)");
    *speed = x;
    return NP_OK;
}

/* Digits as a number; -1 when n digits are not all there. */
static int64_t digits(const char *p, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), as in
 * http://howardhinnant.github.io/date_algorithms.html (days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

enum np_rc np_parse_time(const char *v, uint64_t *ns, struct np_err *err)
{
    static const char what[] = "a time: RFC 3339 (2026-11-23T10:00:00Z) or seconds since the "
                               "epoch";
    const char *p = v;
    if (strchr(v, '-') == NULL || strlen(v) < 10) {
        /* seconds since the epoch, with an optional fraction */
        if (parse_secs_z("time", v, true, ns, err) != NP_OK)
            return np_err_set(err, NP_ERR_USAGE, "'%s' is not %s", v, what);
        return NP_OK;
    }
    int64_t y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2);
    if (y < 1970 || p[4] != '-' || p[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > 31)
        return np_err_set(err, NP_ERR_USAGE, "'%s' is not %s", v, what);
    p += 10;
    int64_t h = 0, mi = 0, s = 0, frac = 0, off = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        h = digits(p + 1, 2);
        mi = digits(p + 4, 2);
        s = digits(p + 7, 2);
        if (h < 0 || h > 23 || p[3] != ':' || mi < 0 || mi > 59 || p[6] != ':' || s < 0 || s > 60)
            return np_err_set(err, NP_ERR_USAGE, "'%s' is not %s", v, what);
        p += 9;
        if (*p == '.') {
            int64_t scale = 100000000;
            for (p++; *p >= '0' && *p <= '9'; p++) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int64_t oh = digits(p + 1, 2), om = digits(p + 4, 2);
            if (oh < 0 || oh > 23 || p[3] != ':' || om < 0 || om > 59)
                return np_err_set(err, NP_ERR_USAGE, "'%s' is not %s", v, what);
            off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            return np_err_set(err, NP_ERR_USAGE, "'%s' is not %s (the time needs Z or an offset)",
                              v, what);
        }
    }
    if (*p != '\0')
        return np_err_set(err, NP_ERR_USAGE, "'%s' is not %s", v, what);
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    if (secs < 0)
        return np_err_set(err, NP_ERR_USAGE, "'%s' is before 1970", v);
    *ns = (uint64_t)secs * 1000000000u + (uint64_t)frac;
    return NP_OK;
}

static enum np_rc apply(struct np_opts *o, enum np_opt_id id, const char *v, struct np_err *err)
{
    const char *name = defs[id].long_name;
    uint64_t x;
    enum np_rc rc = NP_OK;
    switch (id) {
    case NP_OPT_READ: {
        const char **nf = realloc(o->files, (o->src.n_files + 1) * sizeof(*nf));
        if (nf == NULL)
            return np_err_set(err, NP_ERR_NOMEM, "out of memory");
        o->files = nf;
        o->files[o->src.n_files++] = v;
        o->src.files = o->files;
        break;
    }
    case NP_OPT_IFACE:
        if (o->src.iface != NULL)
            return np_err_set(err, NP_ERR_USAGE, "only one -i/--interface may be given");
        o->src.iface = v;
        break;
    case NP_OPT_FILTER:
        o->src.bpf = v;
        break;
    case NP_OPT_SNAPLEN:
        rc = parse_u64(name, v, 1, 262144, false, &x, err);
        o->src.snaplen = (uint32_t)x;
        break;
    case NP_OPT_BUFFER_SIZE:
        rc = parse_u64(name, v, 1, UINT32_MAX, true, &x, err);
        o->src.buffer_bytes = (uint32_t)x;
        break;
    case NP_OPT_READ_TIMEOUT:
        rc = parse_u64(name, v, 1, 60000, false, &x, err);
        o->src.read_timeout_ms = (uint32_t)x;
        break;
    case NP_OPT_PROMISC:
        o->src.promisc = true;
        break;
    case NP_OPT_NO_PROMISC:
        o->src.promisc = false;
        break;
    case NP_OPT_IMMEDIATE:
        o->src.immediate = true;
        break;
    case NP_OPT_COUNT: /* 0: no limit, as packetrecorderd takes it */
        rc = parse_u64(name, v, 0, UINT64_MAX, false, &o->src.max_packets, err);
        break;
    case NP_OPT_DURATION:
        rc = parse_secs_z(name, v, true, &o->src.duration_ns, err);
        break;
    case NP_OPT_LIBPCAP_READER:
        o->src.libpcap_reader = true;
        break;
    case NP_OPT_FLOW_TIMEOUT_TCP:
        rc = parse_secs(name, v, &o->track.timeout_ns[NP_FLOW_CLASS_TCP], err);
        break;
    case NP_OPT_FLOW_TIMEOUT_UDP:
        rc = parse_secs(name, v, &o->track.timeout_ns[NP_FLOW_CLASS_UDP], err);
        o->track.timeout_ns[NP_FLOW_CLASS_OTHER] = o->track.timeout_ns[NP_FLOW_CLASS_UDP];
        break;
    case NP_OPT_FLOW_TIMEOUT_ICMP:
        rc = parse_secs(name, v, &o->track.timeout_ns[NP_FLOW_CLASS_ICMP], err);
        break;
    case NP_OPT_TCP_CLOSE_DELAY:
        rc = parse_secs_z(name, v, true, &o->track.timeout_ns[NP_FLOW_CLASS_CLOSED], err);
        break;
    case NP_OPT_MAX_FLOWS:
        rc = parse_u64(name, v, 1, 100000000, false, &x, err);
        o->track.max_flows = (uint32_t)x;
        break;
    case NP_OPT_NUMBER:
        rc = parse_u64(name, v, 1, 65535, false, &x, err);
        o->number = (uint32_t)x;
        break;
    case NP_OPT_MIDSTREAM:
        o->midstream = true;
        break;
    case NP_OPT_SESSION_TIMEOUT:
        rc = parse_secs(name, v, &o->session_timeout_ns, err);
        break;
    case NP_OPT_MAX_SESSIONS:
        rc = parse_u64(name, v, 1, 100000000, false, &x, err);
        o->max_sessions = (uint32_t)x;
        break;
    case NP_OPT_TIME_PRECISION:
        if (strcmp(v, "micro") == 0)
            o->time_prec = 6;
        else if (strcmp(v, "nano") == 0)
            o->time_prec = 9;
        else
            rc = np_err_set(err, NP_ERR_USAGE, "--%s: '%s' is not micro or nano", name, v);
        break;
    case NP_OPT_VERBOSE:
        o->verbose = true;
        break;
    case NP_OPT_FORMAT:
        o->format = v;
        break;
    case NP_OPT_OUTPUT:
        o->output = v;
        break;
    case NP_OPT_JSON:
        o->json = true;
        break;
    case NP_OPT_QUIET:
        o->quiet = true;
        break;
    case NP_OPT_DATABASE:
        if (*v == '\0')
            return np_err_set(err, NP_ERR_USAGE, "--%s: give a file name", name);
        o->database = v;
        break;
    case NP_OPT_NAME:
        o->name = v;
        break;
    case NP_OPT_SESSION:
        o->session = v;
        break;
    case NP_OPT_DELETE:
        o->delete_id = v;
        break;
    case NP_OPT_LIMIT:
        rc = parse_u64(name, v, 0, UINT64_MAX, false, &o->limit, err);
        break;
    case NP_OPT_OFFSET:
        rc = parse_u64(name, v, 0, UINT64_MAX, false, &o->offset, err);
        break;
    case NP_OPT_SHOW_DATA:
        o->show_data = true;
        break;
    case NP_OPT_HOST:
        rc = parse_host(name, v, o, err);
        break;
    case NP_OPT_PORT:
        rc = parse_u64(name, v, 0, 65535, false, &x, err);
        o->port = (int32_t)x;
        break;
    case NP_OPT_FLOW:
        rc = parse_flow_id(name, v, &o->flow_id, err);
        o->has_flow = true;
        break;
    case NP_OPT_SINCE:
        rc = np_parse_time(v, &o->since_ns, err);
        break;
    case NP_OPT_UNTIL:
        rc = np_parse_time(v, &o->until_ns, err);
        break;
    case NP_OPT_SPEED:
        rc = parse_speed(name, v, &o->speed, err);
        break;
    case NP_OPT_DISPLAY_ONLY:
        o->display_only = true;
        break;
    case NP_OPT_HELP:
        o->help = true;
        break;
    case NP_OPT_VERSION:
        o->version = true;
        break;
    case NP_OPT_USER:
        o->user = v;
        break;
    case NP_OPT_SOCKET:
        if (*v == '\0')
            return np_err_set(err, NP_ERR_USAGE, "--%s: give a path", name);
        o->socket_path = v;
        o->socket_given = true;
        break;
    case NP_OPT_NO_SOCKET:
        o->no_socket = true;
        break;
    case NP_OPT_LINGER:
        o->linger = true;
        break;
    case NP_OPT_GMETRIC:
        o->gmetric = true;
        break;
    case NP_OPT_GMETRIC_PATH:
        if (*v == '\0')
            return np_err_set(err, NP_ERR_USAGE, "--%s: give a path", name);
        o->gmetric_path = v;
        break;
    case NP_OPT_PROMETHEUS:
        o->prometheus = true;
        break;
    case NP_OPT_CHECKSUM:
        rc = parse_u64(name, v, 0, 2, false, &x, err);
        o->checksum = (unsigned)x;
        break;
    case NP_OPT_TIMEOUT:
        rc = parse_secs(name, v, &o->hs_timeout_ns, err);
        break;
    case NP_OPT_BUFFER_MB:
        rc = parse_u64(name, v, 1, 4095, false, &x, err);
        o->src.buffer_bytes = (uint32_t)(x << 20);
        break;
    case NP_OPT_LOGLEVEL:
        rc = parse_loglevel(name, v, &o->loglevel, err);
        break;
    case NP_OPT_ICMP:
        o->icmp = true;
        break;
    case NP_OPT_LOCAL: {
        const char **nl = realloc(o->locals, (o->n_locals + 1) * sizeof(*nl));
        if (nl == NULL)
            return np_err_set(err, NP_ERR_NOMEM, "out of memory");
        o->locals = nl;
        o->locals[o->n_locals++] = v;
        break;
    }
    case NP_OPT_MAX:
        break;
    }
    return rc;
}

enum np_rc np_opts_parse(struct np_opts *o, const struct np_cmd *cmd, int argc, char **argv,
                         struct np_err *err)
{
    struct option lo[NP_OPT_MAX + 1];
    char so[3 * NP_OPT_MAX + 2];
    size_t nl = 0, ns = 0;
    so[ns++] = ':'; /* report a missing argument as ':' */
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const struct np_cmd_opt *c = &cmd->opts[i];
        const struct def *d = &defs[c->id];
        lo[nl].name = d->long_name;
        lo[nl].has_arg = d->arg ? required_argument : no_argument;
        lo[nl].flag = NULL;
        lo[nl].val = 256 + (int)c->id;
        nl++;
        if (c->short_name) {
            so[ns++] = c->short_name;
            if (d->arg)
                so[ns++] = ':';
        }
    }
    memset(&lo[nl], 0, sizeof(lo[nl]));
    so[ns] = '\0';

    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        enum np_opt_id id = NP_OPT_MAX;
        if (ch >= 256) {
            id = (enum np_opt_id)(ch - 256);
        } else if (ch == '?' || ch == ':') {
            const char *what = argv[optind - 1];
            if (optopt != 0 && optopt < 256)
                return np_err_set(err, NP_ERR_USAGE,
                                  ch == ':'
                                          ? "option -%c needs an argument (see 'netpeek %s --help')"
                                          : "unknown option -%c (see 'netpeek %s --help')",
                                  optopt, cmd->name);
            return np_err_set(err, NP_ERR_USAGE,
                              ch == ':' ? "option %s needs an argument (see 'netpeek %s --help')"
                                        : "unknown option %s (see 'netpeek %s --help')",
                              what, cmd->name);
        } else {
            for (size_t i = 0; i < cmd->n_opts; i++)
                if (cmd->opts[i].short_name == ch)
                    id = cmd->opts[i].id;
        }
        if (id == NP_OPT_MAX)
            return np_err_set(err, NP_ERR_USAGE, "unknown option (see 'netpeek %s --help')",
                              cmd->name);
        enum np_rc rc = apply(o, id, optarg, err);
        if (rc != NP_OK)
            return rc;
    }
    if (optind < argc && o->args_ok) {
        o->args = argv + optind;
        o->n_args = argc - optind;
        return NP_OK;
    }
    if (optind < argc)
        return np_err_set(err, NP_ERR_USAGE, "unexpected argument '%s' (see 'netpeek %s --help')",
                          argv[optind], cmd->name);
    return NP_OK;
}

void np_opts_help(const struct np_cmd *cmd, FILE *f)
{
    fprintf(f, "Usage: netpeek %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->usage, cmd->summary);
    for (size_t i = 0; i < cmd->n_opts; i++) {
        const struct np_cmd_opt *c = &cmd->opts[i];
        const struct def *d = &defs[c->id];
        char left[64];
        if (c->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", c->short_name, d->long_name,
                     d->arg ? " " : "", d->arg ? d->arg : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", d->long_name, d->arg ? " " : "",
                     d->arg ? d->arg : "");
        const char *help = c->help ? c->help : d->help;
        if (strlen(left) > 26)
            fprintf(f, "  %s\n  %-26s  %s\n", left, "", help);
        else
            fprintf(f, "  %-26s  %s\n", left, help);
    }
    if (cmd->footer)
        fprintf(f, "\n%s", cmd->footer);
}

enum np_rc np_opts_need_source(const struct np_opts *o, struct np_err *err)
{
    if (o->src.n_files == 0 && o->src.iface == NULL)
        return np_err_set(err, NP_ERR_USAGE, "no input: give -r FILE or -i IFACE");
    if (o->src.n_files > 0 && o->src.iface != NULL)
        return np_err_set(err, NP_ERR_USAGE, "give either -r FILE or -i IFACE, not both");
    return NP_OK;
}
