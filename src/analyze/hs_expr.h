/* analyze/hs_expr.h: tcpeek's filter expressions and the set of local
 * addresses, for the handshake monitor.
 *
 * An expression is
 *
 *     [name]:RX|TX|ANY@rule[,rule...]
 *     rule = addr[/prefix]:port[:port...]
 *
 * where addr is an IPv4 address, an IPv6 address in brackets
 * ("[2001:db8::]/32"), or '*' or '%' for any address, and a port is a
 * number or '*' or '%' for any port. A prefix masks the address. The
 * direction says which side of the session is local and which address the
 * rule matches:
 *
 *   RX   the SYN's destination (the server) is local; addr matches the client
 *   TX   the SYN's source (the client) is local; addr matches the server
 *   ANY  whatever is local; addr matches the server
 *
 * and the ports always match the SYN's destination port. A named filter
 * counts the sessions it matches; a filter with an empty name excludes the
 * sessions it matches from every filter, wherever it stands. When no named
 * filter is given, RX:RX@*:* and TX:TX@*:* apply (after any exclusions).
 *
 * Parsing allocates (slow path); matching allocates nothing. Not
 * thread-safe while being built; read-only afterwards.
 */
#ifndef NP_ANALYZE_HS_EXPR_H
#define NP_ANALYZE_HS_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define NP_HS_MAX_FILTERS 64 /* named filters: one bit each in a session's mask */
#define NP_HS_NAME_MAX    63 /* bytes of a filter name */
#define NP_HS_MAX_RULES   256
#define NP_HS_MAX_PORTS   256 /* per rule */

enum np_hs_dir {
    NP_HS_RX = 1,
    NP_HS_TX,
    NP_HS_ANY,
};

/* An address rule: ip_ver 0 is any address. addr is masked to prefix_len. */
struct np_hs_addr {
    uint8_t ip_ver;
    uint8_t prefix_len;
    uint8_t addr[16];
};

struct np_hs_rule {
    struct np_hs_addr addr;
    bool any_port;
    uint32_t first_port, n_ports; /* into np_hs_exprs.ports */
};

struct np_hs_filter {
    char name[NP_HS_NAME_MAX + 1]; /* "" for an exclusion filter */
    enum np_hs_dir dir;
    uint32_t first_rule, n_rules; /* into np_hs_exprs.rules */
};

struct np_hs_exprs {
    struct np_hs_filter *filters; /* owned; named and exclusion filters in command-line order */
    uint32_t n_filters;
    struct np_hs_rule *rules; /* owned */
    uint32_t n_rules;
    uint16_t *ports; /* owned */
    uint32_t n_ports;
    uint32_t n_named; /* named filters: bit i of a mask is the i-th of them */
};

/* The local addresses: exact addresses or prefixes. */
struct np_hs_local {
    struct np_hs_addr *addrs; /* owned */
    uint32_t n;
};

/* The session a filter is asked about: the SYN's source (client) and
 * destination (server). Addresses are 16 bytes, IPv4 in the first 4. */
struct np_hs_conn {
    uint8_t ip_ver;
    const uint8_t *client, *server; /* borrowed for the call */
    uint16_t client_port, server_port;
    bool client_local, server_local;
};

void np_hs_exprs_init(struct np_hs_exprs *x);
void np_hs_exprs_fini(struct np_hs_exprs *x);

/* Parses one expression and appends its filter. NP_ERR_USAGE with one line
 * naming the bad part, NP_ERR_LIMIT past a bound, NP_ERR_NOMEM; x is
 * unchanged on failure. */
enum np_rc np_hs_exprs_add(struct np_hs_exprs *x, const char *expr, struct np_err *err);

/* Adds RX:RX@*:* and TX:TX@*:* when no named filter was given. Call once,
 * after the last np_hs_exprs_add(). */
enum np_rc np_hs_exprs_finish(struct np_hs_exprs *x, struct np_err *err);

/* The named filter of bit i (0 <= i < n_named). */
const struct np_hs_filter *np_hs_exprs_named(const struct np_hs_exprs *x, uint32_t i);

/* Which named filters count the session: bit i for the i-th named filter;
 * 0 when none does or an exclusion filter matches it. */
uint64_t np_hs_exprs_match(const struct np_hs_exprs *x, const struct np_hs_conn *c);

/* Parses "addr[/prefix]" (IPv6 with or without brackets) into a. NP_OK or
 * NP_ERR_USAGE with err naming text. */
enum np_rc np_hs_addr_parse(struct np_hs_addr *a, const char *text, struct np_err *err);

/* True when addr (ip_ver 4 or 6, 16 bytes) lies in a. */
bool np_hs_addr_match(const struct np_hs_addr *a, uint8_t ip_ver, const uint8_t addr[16]);

void np_hs_local_init(struct np_hs_local *l);
void np_hs_local_fini(struct np_hs_local *l);
/* Adds an address or prefix (as np_hs_addr_parse; '*' is refused). */
enum np_rc np_hs_local_add(struct np_hs_local *l, const char *text, struct np_err *err);
/* Adds one exact address (an interface's). NP_OK or NP_ERR_NOMEM. */
enum np_rc np_hs_local_add_addr(struct np_hs_local *l, uint8_t ip_ver, const uint8_t addr[16],
                                struct np_err *err);
bool np_hs_local_has(const struct np_hs_local *l, uint8_t ip_ver, const uint8_t addr[16]);

#endif
