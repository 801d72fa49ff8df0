/* sink/flow_export.c: writers for flow records.
 *
 * Every field is formatted by hand into one large output buffer (core/out.h):
 * a flow export is mostly numbers, addresses and timestamps, and one
 * snprintf per field would cost more than tracking the flow did.
 */
#include "sink/flow_export.h"

#include <stdlib.h>
#include <string.h>

#include "core/out.h"
#include "decode/decode.h"

struct rec {
    struct np_flow f;
    uint8_t why;
};

struct np_flow_export {
    struct np_out out;
    enum np_flow_fmt fmt;
    uint64_t n;       /* records written or held */
    struct rec *recs; /* table only: held until finish; owned */
    size_t n_recs, cap_recs;
    bool oom; /* table: a record could not be held (reported at finish) */
};

static const char *const end_names[NP_END_REASONS] = { "fin", "rst", "timeout", "eviction",
                                                       "end_of_input" };

const char *np_flow_end_name(enum np_flow_end why)
{
    return why < NP_END_REASONS ? end_names[why] : "unknown";
}

const char *np_proto_name(uint8_t proto, char buf[4])
{
    switch (proto) {
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 1:
        return "icmp";
    case 58:
        return "icmpv6";
    default:
        buf[np_fmt_u64(buf, proto)] = '\0';
        return buf;
    }
}

static const char csv_header[] =
        "flow_id,flow_id_hex,protocol,vlan,endpoint_a_ip,endpoint_a_port,endpoint_b_ip,"
        "endpoint_b_port,first_seen,last_seen,duration_secs,packets_a_to_b,packets_b_to_a,"
        "bytes_a_to_b,bytes_b_to_a,packets_total,bytes_total,client,tcp_flags_a,"
        "tcp_flags_a_str,tcp_flags_b,tcp_flags_b_str,end_reason\n";

struct np_flow_export *np_flow_export_create(int fd, enum np_flow_fmt fmt, struct np_err *err)
{
    struct np_flow_export *x = calloc(1, sizeof(*x));
    if (x == NULL || np_out_init(&x->out, fd, 1u << 20) != 0) {
        np_flow_export_destroy(x);
        np_err_set(err, NP_ERR_NOMEM, "out of memory for the flow writer");
        return NULL;
    }
    x->fmt = fmt;
    if (fmt == NP_FLOW_FMT_CSV)
        np_out_mem(&x->out, csv_header, sizeof(csv_header) - 1);
    return x;
}

void np_flow_export_destroy(struct np_flow_export *x)
{
    if (x == NULL)
        return;
    np_out_fini(&x->out);
    free(x->recs);
    free(x);
}

static uint64_t duration_ns(const struct np_flow *f)
{
    return f->last_ns >= f->first_ns ? f->last_ns - f->first_ns : 0;
}

/* Record writers format into space reserved once per record (a record has a
 * known maximum size), through this cursor: no bounds check or call per
 * field. */
#define REC_MAX 1024 /* longest CSV or JSON record, with room to spare */

static inline void w_mem(char **w, const char *s, size_t n)
{
    memcpy(*w, s, n);
    *w += n;
}

#define W_LIT(w, lit) w_mem((w), (lit), sizeof(lit) - 1)

static inline void w_str(char **w, const char *s)
{
    w_mem(w, s, strlen(s));
}

static inline void w_ch(char **w, char c)
{
    *(*w)++ = c;
}

static inline void w_u64(char **w, uint64_t v)
{
    *w += np_fmt_u64(*w, v);
}

static void w_flags(char **w, const struct np_flow *f, unsigned dir, bool json)
{
    char s[9];
    size_t n = np_tcp_flags_str(s, f->tcp_flags[dir]);
    w_u64(w, f->tcp_flags[dir]);
    w_ch(w, ',');
    if (json) {
        w_str(w, dir ? "\"tcp_flags_b_str\":\"" : "\"tcp_flags_a_str\":\"");
        w_mem(w, s, n); /* flag letters need no JSON escaping */
        w_ch(w, '"');
    } else {
        w_mem(w, s, n);
    }
}

static char *write_csv(char *w, const struct np_flow *f, enum np_flow_end why)
{
    char pb[4];
    const struct np_flow_key *k = &f->key;
    w_u64(&w, f->id);
    w_ch(&w, ',');
    w += np_fmt_hex64(w, f->id);
    w_ch(&w, ',');
    w_str(&w, np_proto_name(k->proto, pb));
    w_ch(&w, ',');
    if (k->vlan != NP_VLAN_NONE)
        w_u64(&w, k->vlan);
    w_ch(&w, ',');
    w += np_fmt_ip(w, k->ip_ver, k->addr_a);
    w_ch(&w, ',');
    w_u64(&w, k->port_a);
    w_ch(&w, ',');
    w += np_fmt_ip(w, k->ip_ver, k->addr_b);
    w_ch(&w, ',');
    w_u64(&w, k->port_b);
    w_ch(&w, ',');
    w += np_fmt_rfc3339_ns(w, f->first_ns);
    w_ch(&w, ',');
    w += np_fmt_rfc3339_ns(w, f->last_ns);
    w_ch(&w, ',');
    w += np_fmt_secs9(w, duration_ns(f));
    w_ch(&w, ',');
    w_u64(&w, f->pkts[0]);
    w_ch(&w, ',');
    w_u64(&w, f->pkts[1]);
    w_ch(&w, ',');
    w_u64(&w, f->bytes[0]);
    w_ch(&w, ',');
    w_u64(&w, f->bytes[1]);
    w_ch(&w, ',');
    w_u64(&w, (uint64_t)f->pkts[0] + f->pkts[1]);
    w_ch(&w, ',');
    w_u64(&w, f->bytes[0] + f->bytes[1]);
    w_ch(&w, ',');
    w_ch(&w, f->client ? 'b' : 'a');
    w_ch(&w, ',');
    if (k->proto == 6) {
        w_flags(&w, f, 0, false);
        w_ch(&w, ',');
        w_flags(&w, f, 1, false);
    } else {
        W_LIT(&w, ",,,");
    }
    w_ch(&w, ',');
    w_str(&w, np_flow_end_name(why));
    w_ch(&w, '\n');
    return w;
}

static void w_endpoint(char **w, int ip_ver, const uint8_t *a, uint16_t port)
{
    W_LIT(w, "{\"ip\":\"");
    *w += np_fmt_ip(*w, ip_ver, a);
    W_LIT(w, "\",\"port\":");
    w_u64(w, port);
    w_ch(w, '}');
}

static char *write_json(char *w, const struct np_flow *f, enum np_flow_end why)
{
    char pb[4];
    const struct np_flow_key *k = &f->key;
    W_LIT(&w, "{\"flow_id\":");
    w_u64(&w, f->id);
    W_LIT(&w, ",\"flow_id_hex\":\"");
    w += np_fmt_hex64(w, f->id);
    W_LIT(&w, "\",\"protocol\":\"");
    w_str(&w, np_proto_name(k->proto, pb));
    W_LIT(&w, "\",\"vlan\":");
    if (k->vlan != NP_VLAN_NONE)
        w_u64(&w, k->vlan);
    else
        W_LIT(&w, "null");
    W_LIT(&w, ",\"endpoint_a\":");
    w_endpoint(&w, k->ip_ver, k->addr_a, k->port_a);
    W_LIT(&w, ",\"endpoint_b\":");
    w_endpoint(&w, k->ip_ver, k->addr_b, k->port_b);
    W_LIT(&w, ",\"first_seen\":\"");
    w += np_fmt_rfc3339_ns(w, f->first_ns);
    W_LIT(&w, "\",\"last_seen\":\"");
    w += np_fmt_rfc3339_ns(w, f->last_ns);
    W_LIT(&w, "\",\"duration_secs\":");
    w += np_fmt_secs9(w, duration_ns(f));
    W_LIT(&w, ",\"packets_a_to_b\":");
    w_u64(&w, f->pkts[0]);
    W_LIT(&w, ",\"packets_b_to_a\":");
    w_u64(&w, f->pkts[1]);
    W_LIT(&w, ",\"bytes_a_to_b\":");
    w_u64(&w, f->bytes[0]);
    W_LIT(&w, ",\"bytes_b_to_a\":");
    w_u64(&w, f->bytes[1]);
    W_LIT(&w, ",\"packets_total\":");
    w_u64(&w, (uint64_t)f->pkts[0] + f->pkts[1]);
    W_LIT(&w, ",\"bytes_total\":");
    w_u64(&w, f->bytes[0] + f->bytes[1]);
    w_str(&w, f->client ? ",\"client\":\"b\"" : ",\"client\":\"a\"");
    if (k->proto == 6) {
        W_LIT(&w, ",\"tcp_flags_a\":");
        w_flags(&w, f, 0, true);
        W_LIT(&w, ",\"tcp_flags_b\":");
        w_flags(&w, f, 1, true);
    } else {
        W_LIT(&w, ",\"tcp_flags_a\":null,\"tcp_flags_a_str\":null,"
                  "\"tcp_flags_b\":null,\"tcp_flags_b_str\":null");
    }
    W_LIT(&w, ",\"end_reason\":\"");
    w_str(&w, np_flow_end_name(why));
    W_LIT(&w, "\"}");
    return w;
}

/* Runs a record writer in space reserved in the output buffer. */
static void emit(struct np_out *o, char *(*fn)(char *, const struct np_flow *, enum np_flow_end),
                 const struct np_flow *f, enum np_flow_end why)
{
    char *start = (char *)np_out_room(o, REC_MAX);
    o->len += (size_t)(fn(start, f, why) - start);
}

void np_flow_export_on_end(const struct np_flow *f, uint32_t idx, enum np_flow_end why, void *ctx)
{
    (void)idx;
    struct np_flow_export *x = ctx;
    switch (x->fmt) {
    case NP_FLOW_FMT_CSV:
        emit(&x->out, write_csv, f, why);
        break;
    case NP_FLOW_FMT_JSONL:
        emit(&x->out, write_json, f, why);
        np_out_ch(&x->out, '\n');
        break;
    case NP_FLOW_FMT_JSON:
        np_out_str(&x->out, x->n == 0 ? "[\n" : ",\n");
        emit(&x->out, write_json, f, why);
        break;
    case NP_FLOW_FMT_TABLE:
        if (x->n_recs == x->cap_recs) {
            size_t cap = x->cap_recs ? x->cap_recs * 2 : 256;
            struct rec *nr = realloc(x->recs, cap * sizeof(*nr));
            if (nr == NULL) {
                x->oom = true;
                return;
            }
            x->recs = nr;
            x->cap_recs = cap;
        }
        x->recs[x->n_recs].f = *f;
        x->recs[x->n_recs].why = (uint8_t)why;
        x->n_recs++;
        break;
    }
    x->n++;
}

static int by_bytes_desc(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    uint64_t bx = x->f.bytes[0] + x->f.bytes[1], by = y->f.bytes[0] + y->f.bytes[1];
    if (bx != by)
        return bx > by ? -1 : 1;
    if (x->f.first_ns != y->f.first_ns)
        return x->f.first_ns < y->f.first_ns ? -1 : 1;
    return x->f.id < y->f.id ? -1 : x->f.id > y->f.id;
}

enum {
    COL_PROTO,
    COL_A,
    COL_B,
    COL_PKTS_AB,
    COL_PKTS_BA,
    COL_BYTES_AB,
    COL_BYTES_BA,
    COL_DUR,
    COL_FLAGS,
    COL_END,
    COL_ID,
    NCOLS
};

static const char *const col_names[NCOLS] = { "PROTO",     "A",         "B",         "PKTS A>B",
                                              "PKTS B>A",  "BYTES A>B", "BYTES B>A", "SECS",
                                              "TCP FLAGS", "END",       "FLOW ID" };

/* Formats column c of record r into buf (>= 64 bytes); returns the length. */
static size_t cell(const struct rec *r, int c, char *buf)
{
    const struct np_flow *f = &r->f;
    const struct np_flow_key *k = &f->key;
    size_t n = 0;
    char pb[4];
    switch (c) {
    case COL_PROTO: {
        const char *p = np_proto_name(k->proto, pb);
        n = strlen(p);
        memcpy(buf, p, n);
        if (k->vlan != NP_VLAN_NONE) {
            memcpy(buf + n, "/vlan", 5);
            n += 5;
            n += np_fmt_u64(buf + n, k->vlan);
        }
        return n;
    }
    case COL_A:
    case COL_B: {
        const uint8_t *a = c == COL_A ? k->addr_a : k->addr_b;
        uint16_t port = c == COL_A ? k->port_a : k->port_b;
        bool client = (c == COL_A) == (f->client == 0);
        if (k->ip_ver == 6)
            buf[n++] = '[';
        n += np_fmt_ip(buf + n, k->ip_ver, a);
        if (k->ip_ver == 6)
            buf[n++] = ']';
        buf[n++] = ':';
        n += np_fmt_u64(buf + n, port);
        if (client && k->proto == 6)
            buf[n++] = '*';
        return n;
    }
    case COL_PKTS_AB:
        return np_fmt_u64(buf, f->pkts[0]);
    case COL_PKTS_BA:
        return np_fmt_u64(buf, f->pkts[1]);
    case COL_BYTES_AB:
        return np_fmt_u64(buf, f->bytes[0]);
    case COL_BYTES_BA:
        return np_fmt_u64(buf, f->bytes[1]);
    case COL_DUR: {
        uint64_t d = duration_ns(f) / 1000000u; /* milliseconds shown */
        n = np_fmt_u64(buf, d / 1000);
        buf[n++] = '.';
        buf[n++] = (char)('0' + d / 100 % 10);
        buf[n++] = (char)('0' + d / 10 % 10);
        buf[n++] = (char)('0' + d % 10);
        return n;
    }
    case COL_FLAGS:
        if (k->proto != 6) {
            buf[0] = '-';
            return 1;
        }
        n = np_tcp_flags_str(buf, f->tcp_flags[0]);
        buf[n++] = '/';
        n += np_tcp_flags_str(buf + n, f->tcp_flags[1]);
        return n;
    case COL_END: {
        const char *e = np_flow_end_name((enum np_flow_end)r->why);
        n = strlen(e);
        memcpy(buf, e, n);
        return n;
    }
    default:
        return np_fmt_hex64(buf, f->id);
    }
}

static bool right_aligned(int c)
{
    return c >= COL_PKTS_AB && c <= COL_DUR;
}

static void write_table(struct np_flow_export *x)
{
    qsort(x->recs, x->n_recs, sizeof(*x->recs), by_bytes_desc);
    size_t w[NCOLS];
    char buf[128];
    for (int c = 0; c < NCOLS; c++)
        w[c] = strlen(col_names[c]);
    for (size_t i = 0; i < x->n_recs; i++)
        for (int c = 0; c < NCOLS; c++) {
            size_t n = cell(&x->recs[i], c, buf);
            if (n > w[c])
                w[c] = n;
        }
    for (int c = 0; c < NCOLS; c++) {
        np_out_pad(&x->out, col_names[c], strlen(col_names[c]), c == NCOLS - 1 ? 0 : w[c],
                   right_aligned(c));
        if (c != NCOLS - 1)
            np_out_str(&x->out, "  ");
    }
    np_out_ch(&x->out, '\n');
    for (size_t i = 0; i < x->n_recs; i++) {
        for (int c = 0; c < NCOLS; c++) {
            size_t n = cell(&x->recs[i], c, buf);
            np_out_pad(&x->out, buf, n, c == NCOLS - 1 ? 0 : w[c], right_aligned(c));
            if (c != NCOLS - 1)
                np_out_str(&x->out, "  ");
        }
        np_out_ch(&x->out, '\n');
    }
}

enum np_rc np_flow_export_finish(struct np_flow_export *x, struct np_err *err)
{
    if (x->fmt == NP_FLOW_FMT_JSON)
        np_out_str(&x->out, x->n == 0 ? "[]\n" : "\n]\n");
    if (x->fmt == NP_FLOW_FMT_TABLE)
        write_table(x);
    int e = np_out_flush(&x->out);
    if (e != 0)
        return np_err_set(err, NP_ERR_IO, "cannot write flow records: %s", strerror(e));
    if (x->oom)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory holding flow records for the table");
    return NP_OK;
}
