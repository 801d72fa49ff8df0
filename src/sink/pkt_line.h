/* sink/pkt_line.h: one tcpdump-like line (or JSON object) per packet, for
 * `netpeek query` and `netpeek replay --display-only`.
 *
 * Each packet is decoded with np_decode() (nothing kept between packets,
 * nothing allocated) and formatted by hand into the caller's np_out: the
 * frame number, the RFC 3339 time, a tcpdump-like summary and the frame's
 * captured and wire lengths; with show_data, a `tcpdump -XX` style hex and
 * ASCII dump of the captured bytes follows. The formats are documented in
 * docs/formats.md ("Packet lines"); they are stable: change them only with a
 * note there.
 */
#ifndef NP_SINK_PKT_LINE_H
#define NP_SINK_PKT_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_out;
struct np_pkt;

enum np_pkt_line_fmt {
    NP_PKT_LINE_TEXT = 0, /* tcpdump-like text */
    NP_PKT_LINE_JSON,     /* one JSON object per line */
};

struct np_pkt_line_opts {
    enum np_pkt_line_fmt fmt;
    bool show_data; /* text: hex/ASCII dump lines after the line; JSON: "data" */
};

/* Longest summary np_pkt_line_summary() writes, NUL included; a longer one
 * is cut (it cannot be: the longest is an ICMPv6 error quoting IPv6). */
#define NP_PKT_LINE_SUMMARY_MAX 320

/* Writes p as one line (text or JSON, newline-terminated) into o, followed
 * in text with show_data by the hex dump lines. The frame number is
 * p->frame_no. p->data (p->caplen bytes) is only read, through a cursor;
 * any bytes at all are safe. Write errors stay in o (np_out_flush). */
void np_pkt_line_write(struct np_out *o, const struct np_pkt *p,
                       const struct np_pkt_line_opts *opts);

/* The tcpdump-like summary of p alone (no frame number, time, lengths or
 * newline), e.g. "IP 10.0.0.1.51234 > 10.0.0.2.80: Flags [S.], seq 1, win
 * 64240, length 0", NUL-terminated in dst (cap bytes, cut to fit; nothing
 * when cap is 0). Returns its length. */
size_t np_pkt_line_summary(char *dst, size_t cap, const struct np_pkt *p);

/* tcpdump -XX's dump of n bytes: lines "\t0x0000:  4500 003c ...  E..<...\n",
 * 16 bytes a line, bytes 0x21-0x7e as themselves and others as '.'. */
void np_pkt_line_hexdump(struct np_out *o, const uint8_t *data, size_t n);

#endif
