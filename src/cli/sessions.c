/* cli/sessions.c: `netpeek sessions`: the recording store's sessions, newest
 * first, as a table or JSON; --delete removes one. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/out.h"
#include "store/store.h"

static const struct np_cmd_opt sessions_opts[] = {
    { NP_OPT_DATABASE, 'd', NULL },
    { NP_OPT_JSON, 'j', "one JSON array of session objects (fields in docs/formats.md)" },
    { NP_OPT_DELETE, 0, NULL },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd sessions_cmd = {
    "sessions",
    "[-d DB] [--json] [--delete ID]",
    "Lists the sessions of a recording database, newest first: id, name, source\n"
    "(interface or files), filter, link type, snaplen, start, end (or 'in\n"
    "progress' while recording, or 'interrupted' when its recorder died),\n"
    "packets, bytes and drops. Works while a recording runs.",
    sessions_opts,
    sizeof(sessions_opts) / sizeof(sessions_opts[0]),
    "Examples:\n"
    "  netpeek sessions -d web.db\n"
    "  netpeek sessions --json | jq '.[0].id'\n"
    "  netpeek sessions --delete 3\n",
};

static const char *state_name(enum np_store_state s)
{
    return s == NP_STORE_RECORDING     ? "in progress"
           : s == NP_STORE_INTERRUPTED ? "interrupted"
                                       : "complete";
}

static const char *linktype_name(uint16_t lt)
{
    const char *n = pcap_datalink_val_to_name(lt);
    return n ? n : "?";
}

struct list {
    struct np_out out;
    bool json;
    uint64_t n;
};

static void json_field_str(struct np_out *o, const char *key, const char *v)
{
    np_out_str(o, key);
    np_out_json_str(o, v, strlen(v));
}

static void json_field_u64(struct np_out *o, const char *key, uint64_t v)
{
    np_out_str(o, key);
    np_out_u64(o, v);
}

/* "key":"RFC 3339","key_ns":N, both null for 0. */
static void json_time(struct np_out *o, const char *key, uint64_t ns)
{
    np_out_str(o, ",\"");
    np_out_str(o, key);
    np_out_str(o, "\":");
    if (ns == 0) {
        np_out_str(o, "null");
    } else {
        np_out_ch(o, '"');
        np_out_rfc3339_ns(o, ns);
        np_out_ch(o, '"');
    }
    np_out_str(o, ",\"");
    np_out_str(o, key);
    np_out_str(o, "_ns\":");
    if (ns == 0)
        np_out_str(o, "null");
    else
        np_out_u64(o, ns);
}

static void put_json(struct np_out *o, const struct np_store_session *s)
{
    np_out_str(o, "{\"id\":");
    np_out_u64(o, (uint64_t)s->id);
    json_field_str(o, ",\"name\":", s->name);
    json_field_str(o, ",\"source\":", s->source);
    json_field_str(o, ",\"source_kind\":", s->live ? "interface" : "files");
    json_field_str(o, ",\"filter\":", s->filter);
    json_field_u64(o, ",\"linktype\":", s->linktype);
    json_field_str(o, ",\"linktype_name\":", linktype_name(s->linktype));
    json_field_u64(o, ",\"interfaces\":", s->n_ifaces);
    json_field_u64(o, ",\"snaplen\":", s->snaplen);
    json_time(o, "start", s->start_ns);
    json_time(o, "end", s->end_ns);
    json_field_str(o, ",\"state\":",
                   s->state == NP_STORE_RECORDING     ? "recording"
                   : s->state == NP_STORE_INTERRUPTED ? "interrupted"
                                                      : "complete");
    json_time(o, "first_packet", s->first_ns);
    json_time(o, "last_packet", s->last_ns);
    json_field_u64(o, ",\"packets\":", s->packets);
    json_field_u64(o, ",\"bytes\":", s->bytes);
    json_field_u64(o, ",\"wire_bytes\":", s->wire_bytes);
    json_field_u64(o, ",\"drops\":", s->drops);
    json_field_u64(o, ",\"if_drops\":", s->if_drops);
    json_field_str(o, ",\"hostname\":", s->hostname);
    json_field_str(o, ",\"version\":", s->version);
    np_out_ch(o, '}');
}

/* "2026-11-23 01:02:03" (UTC, to the second), or what for 0. */
static void put_time(struct np_out *o, uint64_t ns, const char *what, size_t w)
{
    char b[40];
    size_t n;
    if (ns == 0) {
        n = strlen(what);
        memcpy(b, what, n);
    } else {
        np_fmt_rfc3339_ns(b, ns);
        b[10] = ' ';
        n = 19;
    }
    np_out_pad(o, b, n, w, false);
}

static void put_cell(struct np_out *o, const char *s, size_t w)
{
    size_t n = strlen(s);
    if (n > w) { /* cut long names and sources, marked */
        np_out_mem(o, s, w - 1);
        np_out_str(o, "~");
    } else {
        np_out_pad(o, s, n, w, false);
    }
    np_out_ch(o, ' ');
}

static void put_num(struct np_out *o, uint64_t v, size_t w)
{
    char b[24];
    size_t n = np_fmt_u64(b, v);
    np_out_pad(o, b, n, w, true);
    np_out_ch(o, ' ');
}

static bool on_session(const struct np_store_session *s, void *ctx)
{
    struct list *l = ctx;
    struct np_out *o = &l->out;
    if (l->json) {
        np_out_str(o, l->n ? ",\n " : "[");
        put_json(o, s);
    } else {
        put_num(o, (uint64_t)s->id, 5);
        put_cell(o, s->name[0] ? s->name : "-", 16);
        put_cell(o, s->source, 24);
        put_cell(o, s->filter[0] ? s->filter : "-", 16);
        put_cell(o,
                 s->n_ifaces > 1    ? "several"
                 : s->n_ifaces == 0 ? "-"
                                    : linktype_name(s->linktype),
                 10);
        put_num(o, s->snaplen, 7);
        put_time(o, s->start_ns, "-", 19);
        np_out_ch(o, ' ');
        put_time(o, s->end_ns, state_name(s->state), 19);
        np_out_ch(o, ' ');
        put_num(o, s->packets, 10);
        put_num(o, s->bytes, 12);
        np_out_u64(o, s->drops + s->if_drops);
        np_out_ch(o, '\n');
    }
    l->n++;
    return true;
}

int np_cmd_sessions(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_store *st = NULL;
    struct list l = { 0 };
    bool out_open = false;
    int code = 0;
    bool done;

    np_opts_init(&o);
    if (np_cli_start(&o, &sessions_cmd, argc, argv, &done, &err) != NP_OK)
        goto fail;
    if (done)
        goto out;
    st = np_store_open(o.database, false, o.delete_id != NULL, &err);
    if (st == NULL)
        goto fail;
    if (o.delete_id != NULL) {
        struct np_store_session s;
        if (np_store_session_find(st, o.delete_id, &s, &err) != NP_OK ||
            np_store_session_delete(st, s.id, &err) != NP_OK)
            goto fail;
        printf("deleted session %lld (%llu packets)\n", (long long)s.id,
               (unsigned long long)s.packets);
        goto out;
    }
    if (np_out_init(&l.out, STDOUT_FILENO, 1u << 16) != 0) {
        np_err_set(&err, NP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    out_open = true;
    l.json = o.json;
    if (!l.json)
        np_out_str(&l.out, "   id name             source                   filter           "
                           "linktype   snaplen start               end                    "
                           "packets        bytes drops\n");
    if (np_store_sessions(st, on_session, &l, &err) != NP_OK)
        goto fail;
    if (l.json)
        np_out_str(&l.out, l.n ? "]\n" : "[]\n");
    if (np_out_flush(&l.out) != 0) {
        np_err_set(&err, NP_ERR_IO, "cannot write standard output");
        goto fail;
    }
    goto out;
fail:
    code = np_cli_fail("sessions", &err);
out:
    if (out_open)
        np_out_fini(&l.out);
    np_store_close(st);
    np_opts_fini(&o);
    return code;
}
