/* cli/stat.c: `netpeek stat`: reads the statistics socket of `netpeek
 * handshake` (tcpeekstat): a text summary, the JSON as received, gmetric
 * calls or the Prometheus text format.
 *
 * As tcpeekstat, -g sends REFRESH (gmetric gets the differences since the
 * previous REFRESH) and everything else GET (the counts since the start).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"

#define ANSWER_TIMEOUT_MS 3000
#define ANSWER_MAX_BYTES  (4u << 20)

static const struct np_cmd_opt stat_opts[] = {
    { NP_OPT_SOCKET, 'U', NULL },
    { NP_OPT_JSON, 'j', "print the JSON as received" },
    { NP_OPT_GMETRIC, 'g', NULL },
    { NP_OPT_GMETRIC_PATH, 0, NULL },
    { NP_OPT_NAME, 0, "with -g: send REFRESH NAME, a baseline of its own" },
    { NP_OPT_PROMETHEUS, 0, NULL },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'v', NULL },
};

static const struct np_cmd stat_cmd = {
    "stat",
    "[-U PATH] [-j | -g | --prometheus]",
    "Reads the statistics of a running 'netpeek handshake' from its socket, as\n"
    "tcpeekstat does: a text summary, the JSON (-j), one gmetric call per reject,\n"
    "timeout, unreach, dupsyn and dupsynack count (-g; the differences since the\n"
    "previous REFRESH), or the Prometheus text format (--prometheus). A missing\n"
    "socket, or no answer within 3 s, is an error (exit 2).",
    stat_opts,
    sizeof(stat_opts) / sizeof(stat_opts[0]),
    "Examples:\n"
    "  netpeek stat\n"
    "  netpeek stat -U /tmp/hs.sock -j\n"
    "  netpeek stat -g --gmetric-path /usr/bin/gmetric --name ganglia\n",
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sends req and reads the answer up to the daemon's close. *out is owned by
 * the caller. NP_ERR_USAGE (exit 2) for no socket, no answer in time. */
static enum np_rc fetch(const char *path, const char *req, char **out, size_t *n,
                        struct np_err *err)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return np_err_set(err, NP_ERR_USAGE, "socket path %s is too long", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return np_err_set(err, NP_ERR_IO, "socket: %s", strerror(errno));
    struct timeval tv = { ANSWER_TIMEOUT_MS / 1000, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    uint64_t deadline = mono_ms() + ANSWER_TIMEOUT_MS;
    char *buf = NULL;
    size_t len = 0;
    enum np_rc rc;
    if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (errno == EAGAIN || errno == ETIMEDOUT) /* its backlog is full: it is there */
            rc = np_err_set(err, NP_ERR_USAGE, "%s: no answer within %d s (the monitor is busy)",
                            path, ANSWER_TIMEOUT_MS / 1000);
        else
            rc = np_err_set(err, NP_ERR_USAGE,
                            "cannot connect to %s: %s (is 'netpeek handshake' "
                            "running with this -U?)",
                            path, strerror(errno));
        goto done;
    }
    size_t rl = strlen(req);
    if (send(fd, req, rl, MSG_NOSIGNAL) != (ssize_t)rl) {
        rc = np_err_set(err, NP_ERR_USAGE, "%s: cannot send the request: %s", path,
                        strerror(errno));
        goto done;
    }
    buf = malloc(ANSWER_MAX_BYTES + 1);
    if (buf == NULL) {
        rc = np_err_set(err, NP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        uint64_t now = mono_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = now < deadline ? poll(&p, 1, (int)(deadline - now)) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = np_err_set(err, NP_ERR_USAGE, "%s: no answer within %u s", path,
                            ANSWER_TIMEOUT_MS / 1000);
            goto done;
        }
        ssize_t k = recv(fd, buf + len, ANSWER_MAX_BYTES - len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = np_err_set(err, NP_ERR_USAGE, "%s: %s", path, strerror(errno));
            goto done;
        }
        if (k == 0)
            break;
        len += (size_t)k;
        if (len == ANSWER_MAX_BYTES) {
            rc = np_err_set(err, NP_ERR_IO, "%s: answer longer than %u bytes", path,
                            ANSWER_MAX_BYTES);
            goto done;
        }
    }
    if (len == 0) {
        rc = np_err_set(err, NP_ERR_USAGE, "%s: closed without an answer", path);
        goto done;
    }
    buf[len] = '\0';
    *out = buf;
    *n = len;
    buf = NULL;
    rc = NP_OK;
done:
    free(buf);
    close(fd);
    return rc;
}

/* One number of the answer: filter f's section's item. */
struct leaf {
    uint32_t f; /* the filter's place in the array */
    char filter[256], section[32], item[32];
    uint64_t v;
};

struct parse {
    const char *p, *end;
    struct leaf *leaves; /* owned */
    size_t n, cap;
    bool bad;
};

static void ws(struct parse *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static bool eat(struct parse *ps, char c)
{
    ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

/* A JSON string into dst (cut to cap - 1 bytes); \uXXXX below 0x80 only. */
static bool str(struct parse *ps, char *dst, size_t cap)
{
    size_t n = 0;
    if (!eat(ps, '"'))
        return false;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c == '\\') {
            if (ps->p >= ps->end)
                return false;
            c = *ps->p++;
            switch (c) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u': {
                if (ps->end - ps->p < 4)
                    return false;
                char h[5] = { ps->p[0], ps->p[1], ps->p[2], ps->p[3], 0 };
                char *e;
                unsigned long u = strtoul(h, &e, 16);
                if (*e != '\0' || u >= 0x80)
                    return false;
                c = (char)u;
                ps->p += 4;
                break;
            }
            default: /* " \ / */
                break;
            }
        }
        if (n + 1 < cap)
            dst[n++] = c;
    }
    dst[n] = '\0';
    return eat(ps, '"');
}

static bool num(struct parse *ps, uint64_t *v)
{
    ws(ps);
    const char *s = ps->p;
    *v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        if (*v > (UINT64_MAX - 9) / 10)
            return false;
        *v = *v * 10 + (uint64_t)(*ps->p++ - '0');
    }
    return ps->p > s;
}

/* tcpeek's array: [{"F":{"S":{"I":N,...},...}},...]. */
static bool parse_answer(struct parse *ps)
{
    struct leaf l;
    if (!eat(ps, '['))
        return false;
    if (eat(ps, ']'))
        return true;
    for (l.f = 0;; l.f++) {
        if (!eat(ps, '{') || !str(ps, l.filter, sizeof(l.filter)) || !eat(ps, ':') || !eat(ps, '{'))
            return false;
        do {
            if (!str(ps, l.section, sizeof(l.section)) || !eat(ps, ':') || !eat(ps, '{'))
                return false;
            do {
                if (!str(ps, l.item, sizeof(l.item)) || !eat(ps, ':') || !num(ps, &l.v))
                    return false;
                if (ps->n == ps->cap) {
                    size_t cap = ps->cap ? ps->cap * 2 : 64;
                    struct leaf *nl = realloc(ps->leaves, cap * sizeof(*nl));
                    if (nl == NULL)
                        return false;
                    ps->leaves = nl;
                    ps->cap = cap;
                }
                ps->leaves[ps->n++] = l;
            } while (eat(ps, ','));
            if (!eat(ps, '}'))
                return false;
        } while (eat(ps, ','));
        if (!eat(ps, '}') || !eat(ps, '}'))
            return false;
        if (eat(ps, ']'))
            break;
        if (!eat(ps, ','))
            return false;
    }
    ws(ps);
    return ps->p == ps->end;
}

/* tcpeekstat's text layout. */
static void print_text(const struct parse *ps)
{
    puts("====== TCPEEK SUMMARY ======");
    for (size_t i = 0; i < ps->n; i++) {
        const struct leaf *l = &ps->leaves[i];
        if (i == 0 || l->f != ps->leaves[i - 1].f)
            printf("----------------------------\n %s\n----------------------------\n", l->filter);
        if (i == 0 || l->f != ps->leaves[i - 1].f || strcmp(l->section, ps->leaves[i - 1].section))
            printf(" %s\n", l->section);
        printf("     %-10s %10llu\n", l->item, (unsigned long long)l->v);
    }
    puts("============================");
}

static bool is_pcap(const struct leaf *l)
{
    return strcmp(l->section, "stats") == 0;
}

static void prom_label(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            printf("\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", stdout);
        else
            putchar(*s);
    }
}

/* Prometheus text exposition format 0.0.4. */
static void print_prometheus(const struct parse *ps)
{
    static const struct {
        const char *section, *item, *metric, *help;
    } m[] = {
        { "success", "total", "netpeek_handshake_success_total", "TCP handshakes completed" },
        { "success", "dupsyn", "netpeek_handshake_success_dupsyn_total",
          "Retransmitted SYNs of completed handshakes" },
        { "success", "dupsynack", "netpeek_handshake_success_dupsynack_total",
          "Retransmitted SYN/ACKs of completed handshakes" },
        { "failure", "total", "netpeek_handshake_failure_total", "TCP handshakes failed" },
        { "failure", "timeout", "netpeek_handshake_failure_timeout_total",
          "TCP handshakes timed out" },
        { "failure", "reject", "netpeek_handshake_failure_reject_total",
          "TCP handshakes rejected by an RST" },
        { "failure", "unreach", "netpeek_handshake_failure_unreach_total",
          "TCP handshakes failed by an ICMP destination unreachable" },
        { "stats", "recv", "netpeek_pcap_received_total", "Packets received by the capture" },
        { "stats", "drop", "netpeek_pcap_dropped_total", "Packets dropped by the kernel" },
        { "stats", "ifdrop", "netpeek_pcap_ifdropped_total",
          "Packets dropped by the interface or its driver" },
    };
    for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
        bool head = false;
        for (size_t i = 0; i < ps->n; i++) {
            const struct leaf *l = &ps->leaves[i];
            if (strcmp(l->section, m[k].section) != 0 || strcmp(l->item, m[k].item) != 0)
                continue;
            if (!head) {
                printf("# HELP %s %s.\n# TYPE %s counter\n", m[k].metric, m[k].help, m[k].metric);
                head = true;
            }
            if (is_pcap(l)) {
                printf("%s %llu\n", m[k].metric, (unsigned long long)l->v);
            } else {
                printf("%s{filter=\"", m[k].metric);
                prom_label(l->filter);
                printf("\"} %llu\n", (unsigned long long)l->v);
            }
        }
    }
}

/* One gmetric call per reject, timeout, unreach, dupsyn, dupsynack item, run
 * without a shell. Returns the number of calls that failed. */
static int run_gmetric(const char *prog, const struct parse *ps)
{
    int failed = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const struct leaf *l = &ps->leaves[i];
        const char *it = l->item;
        if (is_pcap(l) || (strcmp(it, "reject") && strcmp(it, "timeout") && strcmp(it, "unreach") &&
                           strcmp(it, "dupsyn") && strcmp(it, "dupsynack")))
            continue;
        char name[400], val[24];
        snprintf(name, sizeof(name), "tcpeek_%s_%s_%s", l->filter, l->section, it);
        snprintf(val, sizeof(val), "%llu", (unsigned long long)l->v);
        printf("%s -n %s -v %s -t uint32\n", prog, name, val);
        fflush(stdout);
        char prog_arg[4096], a_n[] = "-n", a_v[] = "-v", a_t[] = "-t", a_type[] = "uint32";
        snprintf(prog_arg, sizeof(prog_arg), "%s", prog);
        char *argv[] = { prog_arg, a_n, name, a_v, val, a_t, a_type, NULL };
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "netpeek stat: fork: %s\n", strerror(errno));
            failed++;
            continue;
        }
        if (pid == 0) {
            execvp(prog, argv);
            fprintf(stderr, "netpeek stat: cannot run %s: %s\n", prog, strerror(errno));
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    return failed;
}

int np_cmd_stat(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct parse ps = { 0 };
    char *ans = NULL;
    size_t n = 0;
    bool done;
    int code = 0;

    np_opts_init(&o);
    enum np_rc rc = np_cli_start(&o, &stat_cmd, argc, argv, &done, &err);
    if (rc != NP_OK)
        goto fail;
    if (done)
        goto out;
    if ((int)o.json + (int)o.gmetric + (int)o.prometheus > 1) {
        np_err_set(&err, NP_ERR_USAGE, "give one of -j, -g and --prometheus");
        goto fail;
    }
    if (o.name != NULL && !o.gmetric) {
        np_err_set(&err, NP_ERR_USAGE, "--name goes with -g");
        goto fail;
    }
    /* The monitor's rule for a REFRESH name (cli/handshake.c): checked here
     * so that a bad one is a usage error, not a refused request. */
    if (o.name != NULL) {
        size_t nl = strlen(o.name);
        bool ok = nl >= 1 && nl <= 64;
        for (size_t i = 0; ok && i < nl; i++)
            ok = (unsigned char)o.name[i] > ' ' && o.name[i] != 0x7f;
        if (!ok) {
            np_err_set(&err, NP_ERR_USAGE,
                       "--name: '%s' is not 1 to 64 bytes without spaces or control characters",
                       o.name);
            goto fail;
        }
    }
    char req[128];
    if (o.gmetric && o.name != NULL)
        snprintf(req, sizeof(req), "REFRESH %s\r\n", o.name);
    else
        snprintf(req, sizeof(req), o.gmetric ? "REFRESH\r\n" : "GET\r\n");
    if (fetch(o.socket_path, req, &ans, &n, &err) != NP_OK)
        goto fail;
    if (o.json) {
        fwrite(ans, 1, n, stdout);
        putchar('\n');
        goto out;
    }
    ps.p = ans;
    ps.end = ans + n;
    if (!parse_answer(&ps)) {
        np_err_set(&err, NP_ERR_IO, "%s: not the statistics JSON: %.200s", o.socket_path, ans);
        goto fail;
    }
    if (o.gmetric) {
        int f = run_gmetric(o.gmetric_path, &ps);
        if (f > 0) {
            np_err_set(&err, NP_ERR_IO, "%d gmetric call%s failed", f, f == 1 ? "" : "s");
            goto fail;
        }
    } else if (o.prometheus) {
        print_prometheus(&ps);
    } else {
        print_text(&ps);
    }
    goto out;
fail:
    code = np_cli_fail("stat", &err);
out:
    if (fflush(stdout) != 0 && code == 0)
        code = 1;
    free(ps.leaves);
    free(ans);
    np_opts_fini(&o);
    return code;
}
