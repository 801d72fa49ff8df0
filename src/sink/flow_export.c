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

static void put_flags(struct np_out *o, const struct np_flow *f, unsigned dir, bool json)
{
    char s[9];
    size_t n = np_tcp_flags_str(s, f->tcp_flags[dir]);
    np_out_u64(o, f->tcp_flags[dir]);
    np_out_ch(o, ',');
    if (json) {
        np_out_str(o, dir ? "\"tcp_flags_b_str\":" : "\"tcp_flags_a_str\":");
        np_out_json_str(o, s, n);
    } else {
        np_out_mem(o, s, n);
    }
}

static void write_csv(struct np_out *o, const struct np_flow *f, enum np_flow_end why)
{
    char pb[4];
    const struct np_flow_key *k = &f->key;
    bool tcp = k->proto == 6;
    np_out_u64(o, f->id);
    np_out_ch(o, ',');
    np_out_hex64(o, f->id);
    np_out_ch(o, ',');
    np_out_str(o, np_proto_name(k->proto, pb));
    np_out_ch(o, ',');
    if (k->vlan != NP_VLAN_NONE)
        np_out_u64(o, k->vlan);
    np_out_ch(o, ',');
    np_out_ip(o, k->ip_ver, k->addr_a);
    np_out_ch(o, ',');
    np_out_u64(o, k->port_a);
    np_out_ch(o, ',');
    np_out_ip(o, k->ip_ver, k->addr_b);
    np_out_ch(o, ',');
    np_out_u64(o, k->port_b);
    np_out_ch(o, ',');
    np_out_rfc3339_ns(o, f->first_ns);
    np_out_ch(o, ',');
    np_out_rfc3339_ns(o, f->last_ns);
    np_out_ch(o, ',');
    np_out_secs9(o, duration_ns(f));
    np_out_ch(o, ',');
    np_out_u64(o, f->pkts[0]);
    np_out_ch(o, ',');
    np_out_u64(o, f->pkts[1]);
    np_out_ch(o, ',');
    np_out_u64(o, f->bytes[0]);
    np_out_ch(o, ',');
    np_out_u64(o, f->bytes[1]);
    np_out_ch(o, ',');
    np_out_u64(o, (uint64_t)f->pkts[0] + f->pkts[1]);
    np_out_ch(o, ',');
    np_out_u64(o, f->bytes[0] + f->bytes[1]);
    np_out_ch(o, ',');
    np_out_ch(o, f->client ? 'b' : 'a');
    np_out_ch(o, ',');
    if (tcp) {
        put_flags(o, f, 0, false);
        np_out_ch(o, ',');
        put_flags(o, f, 1, false);
    } else {
        np_out_str(o, ",,,");
    }
    np_out_ch(o, ',');
    np_out_str(o, np_flow_end_name(why));
    np_out_ch(o, '\n');
}

static void json_endpoint(struct np_out *o, const char *name, int ip_ver, const uint8_t *a,
                          uint16_t port)
{
    np_out_str(o, name);
    np_out_str(o, "{\"ip\":\"");
    np_out_ip(o, ip_ver, a);
    np_out_str(o, "\",\"port\":");
    np_out_u64(o, port);
    np_out_ch(o, '}');
}

static void write_json(struct np_out *o, const struct np_flow *f, enum np_flow_end why)
{
    char pb[4];
    const struct np_flow_key *k = &f->key;
    np_out_str(o, "{\"flow_id\":");
    np_out_u64(o, f->id);
    np_out_str(o, ",\"flow_id_hex\":\"");
    np_out_hex64(o, f->id);
    np_out_str(o, "\",\"protocol\":\"");
    np_out_str(o, np_proto_name(k->proto, pb));
    np_out_str(o, "\",\"vlan\":");
    if (k->vlan != NP_VLAN_NONE)
        np_out_u64(o, k->vlan);
    else
        np_out_str(o, "null");
    json_endpoint(o, ",\"endpoint_a\":", k->ip_ver, k->addr_a, k->port_a);
    json_endpoint(o, ",\"endpoint_b\":", k->ip_ver, k->addr_b, k->port_b);
    np_out_str(o, ",\"first_seen\":\"");
    np_out_rfc3339_ns(o, f->first_ns);
    np_out_str(o, "\",\"last_seen\":\"");
    np_out_rfc3339_ns(o, f->last_ns);
    np_out_str(o, "\",\"duration_secs\":");
    np_out_secs9(o, duration_ns(f));
    np_out_str(o, ",\"packets_a_to_b\":");
    np_out_u64(o, f->pkts[0]);
    np_out_str(o, ",\"packets_b_to_a\":");
    np_out_u64(o, f->pkts[1]);
    np_out_str(o, ",\"bytes_a_to_b\":");
    np_out_u64(o, f->bytes[0]);
    np_out_str(o, ",\"bytes_b_to_a\":");
    np_out_u64(o, f->bytes[1]);
    np_out_str(o, ",\"packets_total\":");
    np_out_u64(o, (uint64_t)f->pkts[0] + f->pkts[1]);
    np_out_str(o, ",\"bytes_total\":");
    np_out_u64(o, f->bytes[0] + f->bytes[1]);
    np_out_str(o, f->client ? ",\"client\":\"b\"" : ",\"client\":\"a\"");
    if (k->proto == 6) {
        np_out_str(o, ",\"tcp_flags_a\":");
        put_flags(o, f, 0, true);
        np_out_str(o, ",\"tcp_flags_b\":");
        put_flags(o, f, 1, true);
    } else {
        np_out_str(o, ",\"tcp_flags_a\":null,\"tcp_flags_a_str\":null,"
                      "\"tcp_flags_b\":null,\"tcp_flags_b_str\":null");
    }
    np_out_str(o, ",\"end_reason\":\"");
    np_out_str(o, np_flow_end_name(why));
    np_out_str(o, "\"}");
}

void np_flow_export_on_end(const struct np_flow *f, enum np_flow_end why, void *ctx)
{
    struct np_flow_export *x = ctx;
    switch (x->fmt) {
    case NP_FLOW_FMT_CSV:
        write_csv(&x->out, f, why);
        break;
    case NP_FLOW_FMT_JSONL:
        write_json(&x->out, f, why);
        np_out_ch(&x->out, '\n');
        break;
    case NP_FLOW_FMT_JSON:
        np_out_str(&x->out, x->n == 0 ? "[\n" : ",\n");
        write_json(&x->out, f, why);
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
