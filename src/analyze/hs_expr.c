/* analyze/hs_expr.c: tcpeek's filter expressions and local addresses. */
#include "analyze/hs_expr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPR_MAX 4096 /* bytes of one expression */

void np_hs_exprs_init(struct np_hs_exprs *x)
{
    memset(x, 0, sizeof(*x));
}

void np_hs_exprs_fini(struct np_hs_exprs *x)
{
    free(x->filters);
    free(x->rules);
    free(x->ports);
    memset(x, 0, sizeof(*x));
}

/* Makes room in *arr (elem bytes each, n in use) for one more. Capacity is
 * implicit: 8, then doubled whenever n reaches a power of two. */
static bool grow(void **arr, uint32_t n, size_t elem)
{
    bool full = n == 0 || (n >= 8 && (n & (n - 1)) == 0);
    if (!full)
        return true;
    void *p = realloc(*arr, (n == 0 ? 8 : (size_t)n * 2) * elem);
    if (p == NULL)
        return false;
    *arr = p;
    return true;
}

static void mask(uint8_t addr[16], unsigned prefix_len)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = prefix_len > i * 8 ? prefix_len - i * 8 : 0;
        if (bits < 8)
            addr[i] &= (uint8_t)(0xff00u >> bits);
    }
}

/* "addr[/prefix]" with addr IPv4, or IPv6 with or without brackets, from
 * text[0..n). */
static enum np_rc parse_addr(struct np_hs_addr *a, const char *text, size_t n, const char *what,
                             struct np_err *err)
{
    char buf[64];
    if (n == 0)
        return np_err_set(err, NP_ERR_USAGE, "%s: an address is missing", what);
    if (n >= sizeof(buf))
        return np_err_set(err, NP_ERR_USAGE, "%s: '%.*s' is not an address", what, (int)n, text);
    memcpy(buf, text, n);
    buf[n] = '\0';
    char *p = buf;
    char *slash = NULL;
    if (*p == '[') {
        char *close = strchr(p, ']');
        if (close == NULL)
            return np_err_set(err, NP_ERR_USAGE, "%s: '%s' lacks its closing ']'", what, buf);
        *close = '\0';
        p++;
        if (close[1] == '/')
            slash = close + 1;
        else if (close[1] != '\0')
            return np_err_set(err, NP_ERR_USAGE, "%s: unexpected '%s' after ']'", what, close + 1);
    } else {
        slash = strchr(p, '/');
    }
    unsigned prefix = 0;
    bool has_prefix = false;
    if (slash != NULL) {
        *slash = '\0';
        const char *d = slash + 1;
        size_t nd = strlen(d);
        if (nd == 0 || nd > 3 || strspn(d, "0123456789") != nd)
            return np_err_set(err, NP_ERR_USAGE, "%s: '/%s' is not a prefix length", what, d);
        prefix = (unsigned)strtoul(d, NULL, 10);
        has_prefix = true;
    }
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, p, a->addr) == 1) {
        a->ip_ver = 4;
        if (has_prefix && prefix > 32)
            return np_err_set(err, NP_ERR_USAGE, "%s: prefix /%u is longer than 32", what, prefix);
        a->prefix_len = (uint8_t)(has_prefix ? prefix : 32);
    } else if (inet_pton(AF_INET6, p, a->addr) == 1) {
        a->ip_ver = 6;
        if (has_prefix && prefix > 128)
            return np_err_set(err, NP_ERR_USAGE, "%s: prefix /%u is longer than 128", what, prefix);
        a->prefix_len = (uint8_t)(has_prefix ? prefix : 128);
    } else {
        return np_err_set(err, NP_ERR_USAGE, "%s: '%s' is not an IPv4 or IPv6 address", what, p);
    }
    mask(a->addr, a->prefix_len);
    return NP_OK;
}

enum np_rc np_hs_addr_parse(struct np_hs_addr *a, const char *text, struct np_err *err)
{
    return parse_addr(a, text, strlen(text), "address", err);
}

bool np_hs_addr_match(const struct np_hs_addr *a, uint8_t ip_ver, const uint8_t addr[16])
{
    if (a->ip_ver == 0)
        return true;
    if (a->ip_ver != ip_ver)
        return false;
    unsigned full = a->prefix_len / 8u, rest = a->prefix_len % 8u;
    if (memcmp(a->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff00u >> rest);
    return (addr[full] & m) == a->addr[full];
}

static bool is_wild(const char *s, size_t n)
{
    return n == 1 && (s[0] == '*' || s[0] == '%');
}

/* One rule "addr[/prefix]:port[:port...]" from s[0..n). */
static enum np_rc parse_rule(struct np_hs_exprs *x, const char *s, size_t n, const char *what,
                             struct np_err *err)
{
    struct np_hs_rule r;
    memset(&r, 0, sizeof(r));
    size_t addr_end;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return np_err_set(err, NP_ERR_USAGE, "%s: '%.*s' lacks its closing ']'", what, (int)n,
                              s);
        const char *colon = memchr(close, ':', n - (size_t)(close - s));
        addr_end = colon ? (size_t)(colon - s) : n;
    } else {
        const char *colon = memchr(s, ':', n);
        addr_end = colon ? (size_t)(colon - s) : n;
    }
    if (addr_end == n)
        return np_err_set(err, NP_ERR_USAGE, "%s: '%.*s' has no port (addr:port)", what, (int)n, s);
    if (is_wild(s, addr_end)) {
        r.addr.ip_ver = 0;
    } else {
        enum np_rc rc = parse_addr(&r.addr, s, addr_end, what, err);
        if (rc != NP_OK && s[0] != '[' && addr_end < 5 &&
            strspn(s, "0123456789abcdefABCDEF") >= addr_end)
            return np_err_set(err, NP_ERR_USAGE,
                              "%s: '%.*s' is not an address (IPv6 goes in brackets: "
                              "[2001:db8::1]:80)",
                              what, (int)n, s);
        if (rc != NP_OK)
            return rc;
    }
    r.first_port = x->n_ports;
    size_t i = addr_end;
    while (i < n) {
        i++; /* the ':' */
        size_t j = i;
        while (j < n && s[j] != ':')
            j++;
        const char *p = s + i;
        size_t np = j - i;
        if (np == 0)
            return np_err_set(err, NP_ERR_USAGE, "%s: an empty port in '%.*s'", what, (int)n, s);
        if (is_wild(p, np)) {
            r.any_port = true;
        } else {
            unsigned long v = 0;
            if (np > 5 || strspn(p, "0123456789") < np)
                return np_err_set(err, NP_ERR_USAGE, "%s: '%.*s' is not a port", what, (int)np, p);
            for (size_t k = 0; k < np; k++)
                v = v * 10 + (unsigned long)(p[k] - '0');
            if (v > 65535)
                return np_err_set(err, NP_ERR_USAGE, "%s: port %lu is above 65535", what, v);
            if (r.n_ports >= NP_HS_MAX_PORTS)
                return np_err_set(err, NP_ERR_LIMIT, "%s: more than %u ports in one rule", what,
                                  NP_HS_MAX_PORTS);
            if (!grow((void **)&x->ports, x->n_ports, sizeof(*x->ports)))
                return np_err_set(err, NP_ERR_NOMEM, "out of memory");
            x->ports[x->n_ports++] = (uint16_t)v;
            r.n_ports++;
        }
        i = j;
    }
    if (x->n_rules >= NP_HS_MAX_RULES)
        return np_err_set(err, NP_ERR_LIMIT, "%s: more than %u address rules in all", what,
                          NP_HS_MAX_RULES);
    if (!grow((void **)&x->rules, x->n_rules, sizeof(*x->rules)))
        return np_err_set(err, NP_ERR_NOMEM, "out of memory");
    x->rules[x->n_rules++] = r;
    return NP_OK;
}

static enum np_rc add(struct np_hs_exprs *x, const char *expr, struct np_err *err)
{
    char what[96];
    size_t len = strnlen(expr, EXPR_MAX + 1);
    snprintf(what, sizeof(what), "expression '%.60s%s'", expr, len > 60 ? "..." : "");
    if (len > EXPR_MAX)
        return np_err_set(err, NP_ERR_USAGE, "%s: longer than %u bytes", what, EXPR_MAX);
    const char *colon = strchr(expr, ':');
    if (colon == NULL)
        return np_err_set(err, NP_ERR_USAGE,
                          "%s: not [name]:RX|TX|ANY@addr:port (a ':' after the name is missing)",
                          what);
    size_t name_len = (size_t)(colon - expr);
    if (name_len > NP_HS_NAME_MAX)
        return np_err_set(err, NP_ERR_USAGE, "%s: the name is longer than %u bytes", what,
                          NP_HS_NAME_MAX);
    if (memchr(expr, '@', name_len) != NULL)
        return np_err_set(err, NP_ERR_USAGE,
                          "%s: not [name]:RX|TX|ANY@addr:port (a ':' after the name is missing)",
                          what);
    for (size_t i = 0; i < name_len; i++)
        if ((unsigned char)expr[i] < 0x20 || expr[i] == 0x7f)
            return np_err_set(err, NP_ERR_USAGE, "%s: the name has a control character", what);
    struct np_hs_filter f;
    memset(&f, 0, sizeof(f));
    memcpy(f.name, expr, name_len);
    f.name[name_len] = '\0';
    if (name_len > 0) {
        for (uint32_t i = 0; i < x->n_filters; i++)
            if (strcmp(x->filters[i].name, f.name) == 0)
                return np_err_set(err, NP_ERR_USAGE, "%s: filter name '%s' is given twice", what,
                                  f.name);
        if (x->n_named >= NP_HS_MAX_FILTERS)
            return np_err_set(err, NP_ERR_LIMIT, "%s: more than %u named filters", what,
                              NP_HS_MAX_FILTERS);
    }
    const char *d = colon + 1;
    const char *at = strchr(d, '@');
    if (at == NULL)
        return np_err_set(err, NP_ERR_USAGE, "%s: '@' after the direction is missing", what);
    size_t dn = (size_t)(at - d);
    if (dn == 2 && strncasecmp(d, "RX", 2) == 0)
        f.dir = NP_HS_RX;
    else if (dn == 2 && strncasecmp(d, "TX", 2) == 0)
        f.dir = NP_HS_TX;
    else if (dn == 3 && strncasecmp(d, "ANY", 3) == 0)
        f.dir = NP_HS_ANY;
    else
        return np_err_set(err, NP_ERR_USAGE, "%s: direction '%.*s' is not RX, TX or ANY", what,
                          (int)(dn > 16 ? 16 : dn), d);
    const char *r = at + 1;
    if (*r == '\0')
        return np_err_set(err, NP_ERR_USAGE, "%s: no addr:port after '@'", what);
    f.first_rule = x->n_rules;
    for (;;) {
        const char *comma = strchr(r, ',');
        size_t n = comma ? (size_t)(comma - r) : strlen(r);
        if (n == 0)
            return np_err_set(err, NP_ERR_USAGE, "%s: an empty addr:port between commas", what);
        enum np_rc rc = parse_rule(x, r, n, what, err);
        if (rc != NP_OK)
            return rc;
        f.n_rules++;
        if (comma == NULL)
            break;
        r = comma + 1;
    }
    if (!grow((void **)&x->filters, x->n_filters, sizeof(*x->filters)))
        return np_err_set(err, NP_ERR_NOMEM, "out of memory");
    x->filters[x->n_filters++] = f;
    if (name_len > 0)
        x->n_named++;
    return NP_OK;
}

enum np_rc np_hs_exprs_add(struct np_hs_exprs *x, const char *expr, struct np_err *err)
{
    uint32_t nr = x->n_rules, np = x->n_ports;
    enum np_rc rc = add(x, expr, err);
    if (rc != NP_OK) { /* forget what the failed expression appended */
        x->n_rules = nr;
        x->n_ports = np;
    }
    return rc;
}

enum np_rc np_hs_exprs_finish(struct np_hs_exprs *x, struct np_err *err)
{
    if (x->n_named > 0)
        return NP_OK;
    enum np_rc rc = np_hs_exprs_add(x, "RX:RX@*:*", err);
    return rc != NP_OK ? rc : np_hs_exprs_add(x, "TX:TX@*:*", err);
}

const struct np_hs_filter *np_hs_exprs_named(const struct np_hs_exprs *x, uint32_t i)
{
    for (uint32_t k = 0; k < x->n_filters; k++) {
        if (x->filters[k].name[0] == '\0')
            continue;
        if (i-- == 0)
            return &x->filters[k];
    }
    return NULL;
}

static bool filter_match(const struct np_hs_exprs *x, const struct np_hs_filter *f,
                         const struct np_hs_conn *c)
{
    const uint8_t *peer;
    switch (f->dir) {
    case NP_HS_RX:
        if (!c->server_local)
            return false;
        peer = c->client;
        break;
    case NP_HS_TX:
        if (!c->client_local)
            return false;
        peer = c->server;
        break;
    default:
        peer = c->server;
        break;
    }
    for (uint32_t i = 0; i < f->n_rules; i++) {
        const struct np_hs_rule *r = &x->rules[f->first_rule + i];
        if (!np_hs_addr_match(&r->addr, c->ip_ver, peer))
            continue;
        if (r->any_port)
            return true;
        for (uint32_t k = 0; k < r->n_ports; k++)
            if (x->ports[r->first_port + k] == c->server_port)
                return true;
    }
    return false;
}

uint64_t np_hs_exprs_match(const struct np_hs_exprs *x, const struct np_hs_conn *c)
{
    uint64_t m = 0;
    uint32_t bit = 0;
    for (uint32_t i = 0; i < x->n_filters; i++) {
        const struct np_hs_filter *f = &x->filters[i];
        bool named = f->name[0] != '\0';
        if (filter_match(x, f, c)) {
            if (!named)
                return 0; /* an exclusion wins wherever it stands */
            m |= 1ull << bit;
        }
        if (named)
            bit++;
    }
    return m;
}

void np_hs_local_init(struct np_hs_local *l)
{
    memset(l, 0, sizeof(*l));
}

void np_hs_local_fini(struct np_hs_local *l)
{
    free(l->addrs);
    memset(l, 0, sizeof(*l));
}

static enum np_rc local_push(struct np_hs_local *l, const struct np_hs_addr *a, struct np_err *err)
{
    if (!grow((void **)&l->addrs, l->n, sizeof(*l->addrs)))
        return np_err_set(err, NP_ERR_NOMEM, "out of memory");
    l->addrs[l->n++] = *a;
    return NP_OK;
}

enum np_rc np_hs_local_add(struct np_hs_local *l, const char *text, struct np_err *err)
{
    struct np_hs_addr a;
    enum np_rc rc = parse_addr(&a, text, strlen(text), "--local", err);
    return rc != NP_OK ? rc : local_push(l, &a, err);
}

enum np_rc np_hs_local_add_addr(struct np_hs_local *l, uint8_t ip_ver, const uint8_t addr[16],
                                struct np_err *err)
{
    struct np_hs_addr a;
    memset(&a, 0, sizeof(a));
    a.ip_ver = ip_ver;
    a.prefix_len = ip_ver == 4 ? 32 : 128;
    memcpy(a.addr, addr, ip_ver == 4 ? 4 : 16);
    return local_push(l, &a, err);
}

bool np_hs_local_has(const struct np_hs_local *l, uint8_t ip_ver, const uint8_t addr[16])
{
    for (uint32_t i = 0; i < l->n; i++)
        if (np_hs_addr_match(&l->addrs[i], ip_ver, addr))
            return true;
    return false;
}
