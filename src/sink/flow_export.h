/* sink/flow_export.h: flow records as table, CSV, JSON or JSON Lines.
 *
 * CSV, JSON and JSONL stream one record per ended flow; the table keeps the
 * records until np_flow_export_finish() to align and sort them by bytes.
 * Field names and order are documented in docs/formats.md and stable.
 */
#ifndef NP_SINK_FLOW_EXPORT_H
#define NP_SINK_FLOW_EXPORT_H

#include "core/err.h"
#include "flow/track.h"

enum np_flow_fmt {
    NP_FLOW_FMT_TABLE = 0,
    NP_FLOW_FMT_CSV,
    NP_FLOW_FMT_JSON,  /* one array of objects */
    NP_FLOW_FMT_JSONL, /* one object per line */
};

struct np_flow_export;

/* Writes to fd (not closed). NULL with err set on ENOMEM. */
struct np_flow_export *np_flow_export_create(int fd, enum np_flow_fmt fmt, struct np_err *err);
void np_flow_export_destroy(struct np_flow_export *x);

/* An np_flow_end_fn: ctx is the struct np_flow_export. */
void np_flow_export_on_end(const struct np_flow *f, uint32_t idx, enum np_flow_end why, void *ctx);

/* Writes what is held back (table, JSON closing bracket) and flushes.
 * Returns NP_OK, or NP_ERR_IO with err set when a write failed. */
enum np_rc np_flow_export_finish(struct np_flow_export *x, struct np_err *err);

const char *np_flow_end_name(enum np_flow_end why);
/* "tcp", "udp", "icmp", "icmpv6", or the decimal number in buf (>= 4 bytes). */
const char *np_proto_name(uint8_t proto, char buf[4]);

#endif
