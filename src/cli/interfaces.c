/* cli/interfaces.c: `netpeek interfaces`: the capture interfaces. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/out.h"
#include "source/iface.h"

static const struct np_cmd_opt iface_opts[] = {
    { NP_OPT_JSON, 'j', "one JSON array of interface objects (fields in docs/cli.md)" },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd iface_cmd = {
    "interfaces",
    "[--json]",
    "Lists the interfaces libpcap can capture on, with description, IPv4 and\n"
    "IPv6 addresses (address/prefix) and flags (up, running, loopback).",
    iface_opts,
    sizeof(iface_opts) / sizeof(iface_opts[0]),
    NULL,
};

static void put_addr(struct np_out *o, const struct np_iface_addr *a)
{
    np_out_ip(o, a->ip_ver, a->addr);
    np_out_ch(o, '/');
    np_out_u64(o, a->prefix_len);
}

static void put_flags(struct np_out *o, const struct np_iface *f, bool json)
{
    const char *names[3] = { "up", "running", "loopback" };
    bool set[3] = { f->up, f->running, f->loopback };
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (!set[i])
            continue;
        if (n++)
            np_out_ch(o, json ? ',' : ' ');
        if (json)
            np_out_json_str(o, names[i], strlen(names[i]));
        else
            np_out_str(o, names[i]);
    }
    if (n == 0 && !json)
        np_out_ch(o, '-');
}

static void write_text(struct np_out *o, const struct np_iface *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct np_iface *f = &v[i];
        np_out_str(o, f->name);
        np_out_str(o, "  [");
        put_flags(o, f, false);
        np_out_ch(o, ']');
        if (f->description) {
            np_out_str(o, "  ");
            np_out_str(o, f->description);
        }
        np_out_ch(o, '\n');
        for (size_t k = 0; k < f->n_addrs; k++) {
            np_out_str(o, f->addrs[k].ip_ver == 6 ? "    inet6 " : "    inet  ");
            put_addr(o, &f->addrs[k]);
            np_out_ch(o, '\n');
        }
    }
}

static void write_json(struct np_out *o, const struct np_iface *v, size_t n)
{
    np_out_ch(o, '[');
    for (size_t i = 0; i < n; i++) {
        const struct np_iface *f = &v[i];
        np_out_str(o, i ? ",\n{\"name\":" : "\n{\"name\":");
        np_out_json_str(o, f->name, strlen(f->name));
        np_out_str(o, ",\"description\":");
        if (f->description)
            np_out_json_str(o, f->description, strlen(f->description));
        else
            np_out_str(o, "null");
        for (int ver = 4; ver <= 6; ver += 2) {
            np_out_str(o, ver == 4 ? ",\"ipv4\":[" : ",\"ipv6\":[");
            int m = 0;
            for (size_t k = 0; k < f->n_addrs; k++) {
                if (f->addrs[k].ip_ver != ver)
                    continue;
                np_out_str(o, m++ ? ",\"" : "\"");
                put_addr(o, &f->addrs[k]);
                np_out_ch(o, '"');
            }
            np_out_ch(o, ']');
        }
        np_out_str(o, ",\"flags\":[");
        put_flags(o, f, true);
        np_out_str(o, "]}");
    }
    np_out_str(o, n ? "\n]\n" : "]\n");
}

int np_cmd_interfaces(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_iface *v = NULL;
    size_t n = 0;
    struct np_out out = { 0 };
    int code = 0;

    np_opts_init(&o);
    enum np_rc rc = np_opts_parse(&o, &iface_cmd, argc, argv, &err);
    if (rc == NP_OK && o.help) {
        np_opts_help(&iface_cmd, stdout);
        goto done;
    }
    if (rc == NP_OK && o.version) {
        printf("netpeek %s\n", NP_VERSION);
        goto done;
    }
    if (rc == NP_OK)
        rc = np_iface_list(&v, &n, &err);
    if (rc == NP_OK && np_out_init(&out, STDOUT_FILENO, 1u << 16) != 0)
        rc = np_err_set(&err, NP_ERR_NOMEM, "out of memory");
    if (rc != NP_OK) {
        code = np_cli_fail("interfaces", &err);
        goto done;
    }
    if (o.json)
        write_json(&out, v, n);
    else
        write_text(&out, v, n);
    if (np_out_flush(&out) != 0) {
        np_err_set(&err, NP_ERR_IO, "cannot write to standard output");
        code = np_cli_fail("interfaces", &err);
    }
done:
    np_out_fini(&out);
    np_iface_list_free(v, n);
    np_opts_fini(&o);
    return code;
}
