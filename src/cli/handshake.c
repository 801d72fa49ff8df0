/* cli/handshake.c: `netpeek handshake`: the TCP handshake monitor (tcpeek).
 * Wires a source, the filter expressions, the local addresses and the
 * handshake analyzer; prints tcpeek's per-session lines and summary.
 *
 * The analyzer keeps its own table of handshakes in progress and needs no
 * flow tracker, so this command reads the source's batches itself rather
 * than through pipeline/single (which drives a tracker).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "analyze/handshake.h"
#include "analyze/hs_expr.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/out.h"
#include "core/packet.h"
#include "sink/unix_sock.h"
#include "source/iface.h"
#include "source/source.h"

static const struct np_cmd_opt hs_opts[] = {
    { NP_OPT_USER, 'u', NULL },
    { NP_OPT_IFACE, 'i', NULL },
    { NP_OPT_READ, 'r', NULL },
    { NP_OPT_LOCAL, 0, NULL },
    { NP_OPT_SOCKET, 'U',
      "the statistics socket (default with -i: /var/run/netpeek/handshake.sock; with -r: "
      "none unless given)" },
    { NP_OPT_NO_SOCKET, 0, NULL },
    { NP_OPT_LINGER, 0, NULL },
    { NP_OPT_CHECKSUM, 'c', NULL },
    { NP_OPT_TIMEOUT, 't', NULL },
    { NP_OPT_BUFFER_MB, 'B', NULL },
    { NP_OPT_LOGLEVEL, 'l', NULL },
    { NP_OPT_QUIET, 'q', "no line per session" },
    { NP_OPT_PROMISC, 0, "live: promiscuous mode (off unless given)" },
    { NP_OPT_ICMP, 0, NULL },
    { NP_OPT_FILTER, 'f', NULL },
    { NP_OPT_MAX_SESSIONS, 0,
      "track at most N handshakes in progress at once; a SYN beyond them is counted and "
      "not tracked (default 1000000)" },
    { NP_OPT_SNAPLEN, 's', NULL },
    { NP_OPT_COUNT, 0, NULL },
    { NP_OPT_DURATION, 0, NULL },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'v', NULL },
};

static const struct np_cmd hs_cmd = {
    "handshake",
    "[options] (-i IFACE | -r FILE... [--local ADDR[/PREFIX]]...) [expression...]",
    "Monitors TCP three-way handshakes, as tcpeek does: each session started by a\n"
    "SYN ends in success, failure (reject) at an RST, failure (unreach) at an ICMP\n"
    "destination unreachable quoting its SYN (with --icmp) or failure (timeout);\n"
    "retransmitted SYNs and SYN/ACKs are counted. A line per finished session and,\n"
    "at the end or on Ctrl-C or SIGTERM, the summary per filter go to standard\n"
    "error.\n\n"
    "expression: [name]:RX|TX|ANY@addr[/prefix]:port[:port...][,addr...]\n"
    "  addr and port may be * or %; IPv6 addresses go in brackets ([2001:db8::]/32).\n"
    "  RX: the server is local, addr is the client's; TX: the client is local, addr\n"
    "  is the server's; ANY: whatever is local, addr is the server's. Ports are the\n"
    "  server's. Without a name, the filter excludes what it matches from every\n"
    "  filter. Without a named filter, RX:RX@*:* and TX:TX@*:* apply.\n"
    "Local addresses: every address of -i's interface, plus --local.\n\n"
    "Statistics socket (read it with 'netpeek stat'): a line GET answers the counts\n"
    "since the start as tcpeek's JSON; REFRESH the differences since the previous\n"
    "REFRESH; REFRESH NAME since NAME's previous REFRESH (at most 64 names).",
    hs_opts,
    sizeof(hs_opts) / sizeof(hs_opts[0]),
    "Examples:\n"
    "  netpeek handshake -i eth0\n"
    "  netpeek handshake -i eth0 --icmp web:RX@%:80:443 out:TX@192.168.0.0/24:% :RX@*:22\n"
    "  netpeek handshake -r capture.pcap --local 10.0.0.0/8 -q\n"
    "  netpeek handshake -r capture.pcap --local 10.0.0.0/8 -q -U /tmp/hs.sock --linger\n",
};

struct run {
    const struct np_opts *o;
    struct np_out con; /* session lines, standard error */
    bool lines;
    bool header_done;
    bool use_syslog;
};

/* A message at a syslog level: on standard error when it is a terminal,
 * else to syslog; dropped above -l. */
static void msg(const struct run *r, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void msg(const struct run *r, int level, const char *fmt, ...)
{
    if (level > r->o->loglevel)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (r->use_syslog) {
        vsyslog(level, fmt, ap);
    } else {
        fputs("netpeek handshake: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

/* "192.0.2.1" or "[2001:db8::1]". */
static void endpoint(char *dst, size_t n, uint8_t ip_ver, const uint8_t a[16])
{
    char ip[NP_FMT_IP_MAX];
    ip[np_fmt_ip(ip, ip_ver, a)] = '\0';
    snprintf(dst, n, ip_ver == 6 ? "[%s]" : "%s", ip);
}

static const char *result_cell(enum np_hs_outcome o)
{
    switch (o) {
    case NP_HS_SUCCESS:
        return "     success     ";
    case NP_HS_REJECT:
        return "failure (reject) ";
    case NP_HS_UNREACH:
        return "failure (unreach)";
    case NP_HS_TIMEOUT:
        break;
    }
    return "failure (timeout)";
}

/* The address cells: right-aligned in 41 characters, the longest IPv6
 * address in brackets (39 + 2), where tcpeek has 15, so that IPv4 and IPv6
 * rows line up under one header. */
#define ADDR_W 41

/* tcpeek's line: TIME(s) | yy-mm-dd hh:mm:ss.mmm | src:port dst:port | result | dups. */
static void on_result(const struct np_hs_result *x, void *ctx)
{
    struct run *r = ctx;
    char line[256];
    if (!r->lines)
        return;
    if (!r->header_done) {
        r->header_done = true;
        int n = snprintf(line, sizeof(line),
                         " TIME(s) |       TIMESTAMP       | %*s:%-5s %*s:%-5s |      RESULTS      "
                         "| DUP SYN  DUP S/A\n",
                         ADDR_W, "SRC IP", "PORT", ADDR_W, "DST IP", "PORT");
        np_out_str(&r->con, line);
        for (int i = 0; i + 1 < n; i++)
            np_out_ch(&r->con, '-');
        np_out_ch(&r->con, '\n');
    }
    uint64_t d = x->end_ns - x->first_ns;
    time_t t = (time_t)(x->first_ns / 1000000000u);
    struct tm tm;
    char ts[32], src[NP_FMT_IP_MAX + 2], dst[NP_FMT_IP_MAX + 2];
    localtime_r(&t, &tm);
    /* tcpeek's two-digit year, kept for its users' scripts */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-y2k"
    strftime(ts, sizeof(ts), "%y-%m-%d %H:%M:%S", &tm);
#pragma GCC diagnostic pop
    endpoint(src, sizeof(src), x->ip_ver, x->client);
    endpoint(dst, sizeof(dst), x->ip_ver, x->server);
    snprintf(line, sizeof(line), "%4llu.%03u | %s.%03u | %*s:%-5u %*s:%-5u | %s | %7u  %7u\n",
             (unsigned long long)(d / 1000000000u), (unsigned)(d / 1000000u % 1000u), ts,
             (unsigned)(x->first_ns / 1000000u % 1000u), ADDR_W, src, x->client_port, ADDR_W, dst,
             x->server_port, result_cell(x->outcome), x->dup_syn, x->dup_synack);
    np_out_str(&r->con, line);
}

static void fmt_time(char *dst, size_t n, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(dst, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* tcpeek's summary, then what netpeek counted beyond it. */
static void summary(FILE *f, const struct np_opts *o, const struct np_hs_exprs *x,
                    const struct np_handshake *h, struct np_source *src, uint64_t from_ns,
                    uint64_t to_ns)
{
    char from[32], to[32];
    uint64_t d = to_ns > from_ns ? to_ns - from_ns : 0;
    fmt_time(from, sizeof(from), from_ns);
    fmt_time(to, sizeof(to), to_ns);
    fprintf(f,
            "\n========== TCPEEK SUMMARY ==========\n"
            "     from : %s\n"
            "       to : %s\n"
            "     time : %9llu.%03u (sec)\n",
            from, to, (unsigned long long)(d / 1000000000u), (unsigned)(d / 1000000u % 1000u));
    for (uint32_t i = 0; i < x->n_named; i++) {
        const struct np_hs_counts *c = np_handshake_counts(h, i);
        fprintf(f,
                "------------------------------------\n"
                " %s\n"
                "   Success: %llu session\n"
                "     SYN Segment Duplicate : %6llu\n"
                "     S/A Segment Duplicate : %6llu\n"
                "   Failure: %llu session\n"
                "     Connection Timed Out  : %6llu\n"
                "     Connection Rejected   : %6llu\n",
                np_hs_exprs_named(x, i)->name, (unsigned long long)c->success,
                (unsigned long long)c->dupsyn, (unsigned long long)c->dupsynack,
                (unsigned long long)c->failure, (unsigned long long)c->timeout,
                (unsigned long long)c->reject);
        if (o->icmp)
            fprintf(f, "     ICMP Unreachable      : %6llu\n", (unsigned long long)c->unreach);
    }
    const struct np_source_stats *ss = np_source_stats(src);
    fprintf(f,
            "------------------------------------\n"
            " pcap stats\n"
            "   recv   : %llu\n"
            "   drop   : %llu\n"
            "   ifdrop : %llu\n"
            "====================================\n",
            (unsigned long long)ss->pkts_read, (unsigned long long)ss->kernel_drops,
            (unsigned long long)ss->if_drops);
    const struct np_handshake_stats *st = np_handshake_stats(h);
    uint64_t bad = st->bad_ip_checksum + st->bad_tcp_checksum + st->bad_icmp_checksum;
    if (bad)
        fprintf(f, "bad checksums, packets ignored: %llu (IP %llu, TCP %llu, ICMP %llu)\n",
                (unsigned long long)bad, (unsigned long long)st->bad_ip_checksum,
                (unsigned long long)st->bad_tcp_checksum,
                (unsigned long long)st->bad_icmp_checksum);
    if (st->sessions_table_full)
        fprintf(f, "SYNs not tracked, --max-sessions handshakes in progress: %llu\n",
                (unsigned long long)st->sessions_table_full);
    if (ss->pkts_filtered)
        fprintf(f, "packets filtered out by -f: %llu\n", (unsigned long long)ss->pkts_filtered);
    if (ss->files_damaged)
        fprintf(f, "damaged or truncated input files: %llu\n",
                (unsigned long long)ss->files_damaged);
}

/* Every IPv4 and IPv6 address of the capture interface is local. */
static enum np_rc add_iface_addrs(const char *name, struct np_hs_local *l, struct np_err *err)
{
    struct np_iface *v = NULL;
    size_t n = 0;
    enum np_rc rc = np_iface_list(&v, &n, err);
    for (size_t i = 0; rc == NP_OK && i < n; i++) {
        if (strcmp(v[i].name, name) != 0)
            continue;
        for (size_t k = 0; rc == NP_OK && k < v[i].n_addrs; k++)
            rc = np_hs_local_add_addr(l, (uint8_t)v[i].addrs[k].ip_ver, v[i].addrs[k].addr, err);
    }
    np_iface_list_free(v, n);
    return rc;
}

static enum np_rc drop_privileges(const char *user, struct np_err *err)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL)
        return np_err_set(err, NP_ERR_USAGE, "-u: no user '%s'", user);
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return np_err_set(err, NP_ERR_USAGE, "-u: cannot switch to user '%s': %s", user,
                          strerror(errno));
    return NP_OK;
}

/* The statistics socket's answers. Slot 0 of base is the shared REFRESH
 * baseline; slots 1.. are REFRESH NAME's, given to names in order of first
 * use and never taken back: a 65th name is refused. */
#define REFRESH_NAMES    64
#define REFRESH_NAME_MAX 64

struct baseline {
    char name[REFRESH_NAME_MAX + 1];
    bool used;
    struct np_hs_counts c[NP_HS_MAX_FILTERS];
    struct np_hs_pcap_counts p;
};

struct stats_srv {
    const struct np_hs_exprs *x;  /* borrowed */
    const struct np_handshake *h; /* borrowed */
    struct np_source *src;        /* borrowed */
    struct baseline *base;        /* owned; 1 + REFRESH_NAMES */
};

static void reply_str(struct np_unix_sock_reply *r, const char *s)
{
    np_unix_sock_reply_add(r, s, strlen(s));
}

static uint64_t minus(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

/* The baseline of REFRESH (name NULL) or REFRESH name; NULL for a bad name,
 * with *full set when the name is new and every slot is taken: a slot is
 * never taken from another name, whose next answer would then be the
 * totals, not its differences. */
static struct baseline *find_base(struct stats_srv *v, const char *name, size_t n, bool *full)
{
    *full = false;
    if (name == NULL)
        return &v->base[0];
    if (n == 0 || n > REFRESH_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
            return NULL;
    struct baseline *free_slot = NULL;
    for (uint32_t i = 1; i <= REFRESH_NAMES; i++) {
        struct baseline *b = &v->base[i];
        if (b->used && strlen(b->name) == n && memcmp(b->name, name, n) == 0)
            return b;
        if (free_slot == NULL && !b->used)
            free_slot = b;
    }
    if (free_slot == NULL) {
        *full = true;
        return NULL;
    }
    memset(free_slot, 0, sizeof(*free_slot)); /* a new name starts from zero, as REFRESH's first */
    memcpy(free_slot->name, name, n);
    free_slot->used = true;
    return free_slot;
}

static void on_request(const char *line, size_t n, struct np_unix_sock_reply *reply, void *ctx)
{
    struct stats_srv *v = ctx;
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    struct np_hs_counts cur[NP_HS_MAX_FILTERS];
    uint32_t nf = v->x->n_named;
    for (uint32_t i = 0; i < nf; i++)
        cur[i] = *np_handshake_counts(v->h, i);
    const struct np_source_stats *ss = np_source_stats(v->src);
    struct np_hs_pcap_counts p = { ss->pkts_read, ss->kernel_drops, ss->if_drops };

    if (n == 3 && strncasecmp(line, "GET", 3) == 0) {
        /* as it is */
    } else if (n >= 7 && strncasecmp(line, "REFRESH", 7) == 0 && (n == 7 || line[7] == ' ')) {
        const char *name = NULL;
        size_t nl = 0;
        if (n > 7) {
            name = line + 7;
            nl = n - 7;
            while (nl > 0 && *name == ' ') {
                name++;
                nl--;
            }
        }
        bool full;
        struct baseline *b = find_base(v, name, nl, &full);
        if (b == NULL) {
            reply_str(reply, full ? "{\"error\":\"REFRESH NAME: 64 names are in use; a new "
                                    "one is refused\"}"
                                  : "{\"error\":\"REFRESH NAME: 1 to 64 bytes, no spaces or "
                                    "control characters\"}");
            return;
        }
        for (uint32_t i = 0; i < nf; i++) {
            struct np_hs_counts d = {
                minus(cur[i].success, b->c[i].success),     minus(cur[i].dupsyn, b->c[i].dupsyn),
                minus(cur[i].dupsynack, b->c[i].dupsynack), minus(cur[i].failure, b->c[i].failure),
                minus(cur[i].timeout, b->c[i].timeout),     minus(cur[i].reject, b->c[i].reject),
                minus(cur[i].unreach, b->c[i].unreach),
            };
            b->c[i] = cur[i];
            cur[i] = d;
        }
        struct np_hs_pcap_counts d = { minus(p.recv, b->p.recv), minus(p.drop, b->p.drop),
                                       minus(p.ifdrop, b->p.ifdrop) };
        b->p = p;
        p = d;
    } else {
        reply_str(reply, "{\"error\":\"unknown request: send GET, REFRESH or REFRESH NAME\"}");
        return;
    }
    size_t len = np_handshake_json(NULL, 0, v->x, cur, &p);
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return; /* closed without an answer */
    np_handshake_json(buf, len + 1, v->x, cur, &p);
    np_unix_sock_reply_add(reply, buf, len);
    free(buf);
}

/* The socket, owned by -u's user when given. NULL with err set. */
static struct np_unix_sock *open_socket(const struct np_opts *o, struct stats_srv *v,
                                        struct np_err *err)
{
    struct np_unix_sock_cfg cfg = {
        .path = o->socket_path, .mode = 0660, .uid = (uid_t)-1, .gid = (gid_t)-1
    };
    if (o->user != NULL) {
        errno = 0;
        struct passwd *pw = getpwnam(o->user);
        if (pw == NULL) {
            np_err_set(err, NP_ERR_USAGE, "-u: no user '%s'", o->user);
            return NULL;
        }
        cfg.uid = pw->pw_uid;
        cfg.gid = pw->pw_gid;
    }
    v->base = calloc(1 + REFRESH_NAMES, sizeof(*v->base));
    if (v->base == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return np_unix_sock_create(&cfg, on_request, v, err);
}

static bool has_dir(const struct np_hs_exprs *x)
{
    for (uint32_t i = 0; i < x->n_filters; i++)
        if (x->filters[i].dir != NP_HS_ANY)
            return true;
    return false;
}

int np_cmd_handshake(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_source *src = NULL;
    struct np_handshake *h = NULL;
    struct np_batch *b = NULL;
    struct np_hs_exprs x;
    struct np_hs_local local;
    struct run r = { 0 };
    struct stats_srv sv = { 0 };
    struct np_unix_sock *us = NULL;
    int code = 0;
    bool con_open = false;
    bool done;

    np_hs_exprs_init(&x);
    np_hs_local_init(&local);
    np_opts_init(&o);
    o.args_ok = true;
    o.src.promisc = false;          /* tcpeek's default: --promisc turns it on */
    o.src.buffer_bytes = 32u << 20; /* -B 32 */
    r.o = &o;
    r.use_syslog = !isatty(STDERR_FILENO);
    if (r.use_syslog)
        openlog("netpeek-handshake", LOG_PID, LOG_DAEMON);
    enum np_rc rc = np_cli_start(&o, &hs_cmd, argc, argv, &done, &err);
    if (rc == NP_OK && done)
        goto out;
    if (rc != NP_OK)
        goto fail;
    for (int i = 0; i < o.n_args; i++)
        if (np_hs_exprs_add(&x, o.args[i], &err) != NP_OK) {
            err.rc = NP_ERR_USAGE;
            goto fail;
        }
    if (np_hs_exprs_finish(&x, &err) != NP_OK)
        goto fail;
    for (size_t i = 0; i < o.n_locals; i++)
        if (np_hs_local_add(&local, o.locals[i], &err) != NP_OK)
            goto fail;
    src = np_cli_open_source(&o, &err);
    if (src == NULL)
        goto fail;
    bool live = o.src.iface != NULL;
    if (o.linger && (live || !o.socket_given || o.no_socket)) {
        np_err_set(&err, NP_ERR_USAGE, "--linger is for -r with -U");
        goto fail;
    }
    if (live && add_iface_addrs(o.src.iface, &local, &err) != NP_OK)
        goto fail;
    if (local.n == 0 && has_dir(&x))
        msg(&r, LOG_WARNING,
            "no local addresses (give --local): RX and TX filters will match nothing");
    r.lines = !o.quiet;
    if (np_out_init(&r.con, STDERR_FILENO, 1u << 16) != 0) {
        np_err_set(&err, NP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    con_open = true;
    struct np_handshake_cfg hc = {
        o.hs_timeout_ns, o.max_sessions, o.icmp, o.checksum, &x, &local
    };
    h = np_handshake_create(&hc, on_result, &r, &err);
    b = np_batch_create(16384, 4u << 20);
    if (h == NULL)
        goto fail;
    if (b == NULL) {
        np_err_set(&err, NP_ERR_NOMEM, "out of memory for packet batches");
        goto fail;
    }
    /* Caught before the socket exists, so that a SIGTERM from here on ends
     * the run through the path that removes it. */
    np_cli_catch_signals(src);
    /* tcpeek serves the socket when capturing; for files it is asked for */
    if (!o.no_socket && (live || o.socket_given)) {
        sv.x = &x;
        sv.h = h;
        sv.src = src;
        us = open_socket(&o, &sv, &err);
        if (us == NULL)
            goto fail;
    }
    if (o.user != NULL && drop_privileges(o.user, &err) != NP_OK)
        goto fail;
    /* A directory netpeek made is the user's; one that was there may not be. */
    if (o.user != NULL && us != NULL && !np_unix_sock_removable(us))
        msg(&r, LOG_WARNING,
            "user '%s' may not remove %s (its directory is not theirs to write): the socket "
            "will be left at exit, and replaced at the next start",
            o.user, o.socket_path);

    if (live && o.loglevel >= LOG_NOTICE && !r.use_syslog)
        np_cli_listening("handshake", &o, src);
    uint64_t start_ns = wall_ns();
    do {
        rc = np_source_next(src, b, &err);
        for (uint32_t i = 0; i < b->n; i++)
            np_handshake_packet(h, &b->pkts[i]);
        if (b->tick_ns != 0)
            np_handshake_tick(h, b->tick_ns);
        const char *w = np_source_take_warning(src);
        if (w != NULL)
            msg(&r, LOG_WARNING, "%s", w);
        if (live)
            np_out_flush(&r.con);
        if (us != NULL)
            np_unix_sock_serve(us, 0);
    } while (rc == NP_OK);
    np_cli_catch_signals(NULL);
    np_handshake_finish(h);
    np_out_flush(&r.con);
    if (rc == NP_EOF)
        rc = NP_OK;
    uint64_t from_ns = live ? start_ns : np_handshake_first(h);
    uint64_t to_ns = live ? wall_ns() : np_handshake_now(h);
    summary(stderr, &o, &x, h, src, from_ns, to_ns);
    if (o.linger && rc == NP_OK) {
        np_cli_catch_signals(NULL);
        while (!*np_cli_stop_flag())
            np_unix_sock_serve(us, 1000);
    }
    if (rc != NP_OK) {
        code = np_cli_fail("handshake", &err);
        if (code == 2 && err.rc != NP_ERR_USAGE)
            code = 1;
    }
    goto out;
fail:
    code = np_cli_fail("handshake", &err);
out:
    np_unix_sock_destroy(us);
    free(sv.base);
    if (con_open) {
        np_out_flush(&r.con);
        np_out_fini(&r.con);
    }
    np_batch_destroy(b);
    np_handshake_destroy(h);
    np_source_destroy(src);
    np_hs_local_fini(&local);
    np_hs_exprs_fini(&x);
    np_opts_fini(&o);
    if (r.use_syslog)
        closelog();
    return code;
}
