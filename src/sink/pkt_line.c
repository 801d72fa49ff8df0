/* sink/pkt_line.c: tcpdump-like packet lines and their JSON form.
 *
 * Each packet is decoded into a view on the stack and summarised into a
 * small fixed buffer with the hand-written formatters of core/out.h; the
 * line is then copied into the caller's np_out (JSON escapes the summary).
 * Nothing is allocated and there is no printf. The few bytes the decoder's
 * view does not keep (ARP's addresses) are read again through a cursor
 * from the frame, so any bytes at all are safe. Formats: docs/formats.md,
 * "Packet lines".
 */
#include "sink/pkt_line.h"

#include <string.h>

#include "core/cursor.h"
#include "core/out.h"
#include "core/packet.h"
#include "decode/decode.h"
#include "flow/track.h"

/* Ethertypes and protocol numbers we name. */
enum {
    ETH_ARP = 0x0806,
    ETH_RARP = 0x8035,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88a8,
    ETH_QINQ_OLD = 0x9100,
    ETH_MIN_TYPE = 0x0600,
    PROTO_ICMP = 1,
    PROTO_TCP = 6,
    PROTO_UDP = 17,
    PROTO_ICMPV6 = 58,
};

/* A bounded line buffer: appends past cap are cut, never overrun. */
struct lb {
    char *b;
    size_t n, cap;
};

static void lb_mem(struct lb *l, const char *s, size_t n)
{
    if (n > l->cap - l->n)
        n = l->cap - l->n;
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void lb_str(struct lb *l, const char *s)
{
    lb_mem(l, s, strlen(s));
}

static void lb_u64(struct lb *l, uint64_t v)
{
    char t[20];
    lb_mem(l, t, np_fmt_u64(t, v));
}

static void lb_hex(struct lb *l, uint64_t v, size_t digits)
{
    char t[16];
    np_fmt_hex64(t, v);
    lb_mem(l, t + 16 - digits, digits);
}

static void lb_ip(struct lb *l, int ver, const uint8_t a[16])
{
    char t[NP_FMT_IP_MAX];
    lb_mem(l, t, np_fmt_ip(t, ver, a));
}

static void lb_mac(struct lb *l, const uint8_t m[6])
{
    for (int i = 0; i < 6; i++) {
        if (i > 0)
            lb_str(l, ":");
        lb_hex(l, m[i], 2);
    }
}

static void lb_addr(struct lb *l, int ver, const uint8_t a[16], bool port, uint16_t p)
{
    lb_ip(l, ver, a);
    if (port) {
        lb_str(l, ".");
        lb_u64(l, p);
    }
}

static const char *link_name(uint16_t linktype)
{
    switch (linktype) {
    case NP_LINK_ETHERNET:
        return "Ethernet";
    case NP_LINK_NULL:
        return "NULL";
    case NP_LINK_LOOP:
        return "LOOP";
    case NP_LINK_RAW_OLD:
    case NP_LINK_RAW:
        return "raw IP";
    case NP_LINK_IPV4:
        return "raw IPv4";
    case NP_LINK_IPV6:
        return "raw IPv6";
    case NP_LINK_SLL:
        return "SLL";
    case NP_LINK_SLL2:
        return "SLL2";
    default:
        return NULL;
    }
}

static void lb_link(struct lb *l, uint16_t linktype)
{
    const char *name = link_name(linktype);
    if (name != NULL) {
        lb_str(l, name);
    } else {
        lb_str(l, "link-type ");
        lb_u64(l, linktype);
    }
}

/* Bytes before the network layer: the link header and any VLAN tags. Only
 * meaningful when the decoder reached the network layer. */
static uint32_t l3_offset(uint16_t linktype, const struct np_dpkt *d)
{
    uint32_t tags = 4u * (d->n_vlan <= NP_MAX_VLAN ? d->n_vlan : NP_MAX_VLAN);
    switch (linktype) {
    case NP_LINK_ETHERNET:
        return 14 + tags;
    case NP_LINK_SLL:
        return 16 + tags;
    case NP_LINK_SLL2:
        return 20 + tags;
    case NP_LINK_NULL:
    case NP_LINK_LOOP:
        return 4 + tags;
    default:
        return 0;
    }
}

static const char *proto_upper(uint8_t proto)
{
    switch (proto) {
    case PROTO_TCP:
        return "TCP";
    case PROTO_UDP:
        return "UDP";
    case PROTO_ICMP:
        return "ICMP";
    case PROTO_ICMPV6:
        return "ICMP6";
    default:
        return NULL;
    }
}

static void lb_proto(struct lb *l, uint8_t proto)
{
    const char *s = proto_upper(proto);
    if (s != NULL) {
        lb_str(l, s);
    } else {
        lb_str(l, "proto ");
        lb_u64(l, proto);
    }
}

static const char *ether_name(uint16_t type)
{
    switch (type) {
    case 0x8847:
        return "MPLS";
    case 0x8848:
        return "MPLS multicast";
    case 0x8863:
        return "PPPoE discovery";
    case 0x8864:
        return "PPPoE session";
    case 0x8809:
        return "slow protocols";
    case 0x888e:
        return "EAPOL";
    case 0x88cc:
        return "LLDP";
    case 0x88f7:
        return "PTP";
    default:
        return NULL;
    }
}

static const char *icmp_name(uint8_t type)
{
    switch (type) {
    case 0:
        return "echo reply";
    case 3:
        return "unreachable";
    case 4:
        return "source quench";
    case 5:
        return "redirect";
    case 8:
        return "echo request";
    case 11:
        return "time exceeded";
    case 12:
        return "parameter problem";
    case 13:
        return "time stamp request";
    case 14:
        return "time stamp reply";
    default:
        return NULL;
    }
}

static const char *icmp6_name(uint8_t type)
{
    switch (type) {
    case 1:
        return "destination unreachable";
    case 2:
        return "packet too big";
    case 3:
        return "time exceeded";
    case 4:
        return "parameter problem";
    case 128:
        return "echo request";
    case 129:
        return "echo reply";
    case 133:
        return "router solicitation";
    case 134:
        return "router advertisement";
    case 135:
        return "neighbor solicitation";
    case 136:
        return "neighbor advertisement";
    case 137:
        return "redirect";
    default:
        return NULL;
    }
}

/* Everything the two formats share: the decoded view and what we derived. */
struct view {
    struct np_dpkt d;
    enum np_dec v;
    bool ports;      /* sport/dport are meaningful (TCP/UDP, or a first fragment's) */
    bool has_length; /* length is meaningful */
    uint32_t length; /* what tcpdump prints as "length" */
};

/* For a first fragment, the transport header it carries: ports only. */
static void first_frag_ports(struct view *w)
{
    const struct np_dpkt *d = &w->d;
    if (d->frag_off != 0 || (d->proto != PROTO_TCP && d->proto != PROTO_UDP))
        return;
    struct np_dpkt t = *d;
    struct np_dec_stats st;
    memset(&st, 0, sizeof(st));
    np_decode_ip_payload_wire(d->proto, d->frag_data, d->frag_len, d->frag_wire_len, &t, &st);
    if (t.l4_ok && (t.proto == PROTO_TCP || t.proto == PROTO_UDP)) {
        w->d.sport = t.sport;
        w->d.dport = t.dport;
        w->ports = true;
    }
}

static void decode(struct view *w, const struct np_pkt *p)
{
    struct np_dec_stats st; /* the decoder counts; nobody reads these */
    memset(&st, 0, sizeof(st));
    w->v = np_decode(p->linktype, p->data, p->caplen, p->wirelen, &w->d, &st);
    const struct np_dpkt *d = &w->d;
    w->ports = false;
    w->has_length = false;
    w->length = 0;
    if (d->ip_ver == 0)
        return;
    if (d->is_frag) {
        first_frag_ports(w);
        w->has_length = true;
        w->length = d->frag_wire_len;
        return;
    }
    if (!d->l4_ok) {
        bool known = proto_upper(d->proto) != NULL;
        if (!known && w->v == NP_DEC_OK) { /* an IP protocol we do not decode */
            w->has_length = true;
            w->length = d->payload_wire_len;
        }
        return;
    }
    w->ports = d->proto == PROTO_TCP || d->proto == PROTO_UDP;
    w->has_length = true;
    w->length = d->payload_wire_len;
    if (d->proto == PROTO_ICMP || d->proto == PROTO_ICMPV6)
        w->length += 8; /* tcpdump gives the ICMP message's length */
}

/* ARP and RARP over Ethernet/IPv4 (RFC 826, RFC 903), as tcpdump words them. */
static void arp(struct lb *l, const struct np_pkt *p, const struct view *w)
{
    uint32_t off = l3_offset(p->linktype, &w->d);
    struct np_cur c = np_cur_make(p->data, p->data != NULL ? p->caplen : 0);
    np_cur_skip(&c, off);
    uint16_t htype = np_cur_be16(&c);
    uint16_t ptype = np_cur_be16(&c);
    uint8_t hlen = np_cur_u8(&c);
    uint8_t plen = np_cur_u8(&c);
    uint16_t op = np_cur_be16(&c);
    bool rarp = w->d.ethertype == ETH_RARP;
    lb_str(l, rarp ? "RARP" : "ARP");
    if (c.bad)
        return;
    uint8_t sha[6], tha[6], spa[16] = { 0 }, tpa[16] = { 0 };
    bool ether_ip = htype == 1 && ptype == 0x0800 && hlen == 6 && plen == 4;
    if (ether_ip) {
        np_cur_copy(&c, sha, 6);
        np_cur_copy(&c, spa, 4);
        np_cur_copy(&c, tha, 6);
        np_cur_copy(&c, tpa, 4);
    }
    if (!ether_ip || c.bad) {
        lb_str(l, ", op ");
        lb_u64(l, op);
    } else if (op == 1) {
        lb_str(l, ", Request who-has ");
        lb_ip(l, 4, tpa);
        lb_str(l, " tell ");
        lb_ip(l, 4, spa);
    } else if (op == 2) {
        lb_str(l, ", Reply ");
        lb_ip(l, 4, spa);
        lb_str(l, " is-at ");
        lb_mac(l, sha);
    } else if (op == 3) {
        lb_str(l, ", Request who-is ");
        lb_mac(l, tha);
        lb_str(l, " tell ");
        lb_mac(l, sha);
    } else if (op == 4) {
        lb_str(l, ", Reply ");
        lb_mac(l, tha);
        lb_str(l, " at ");
        lb_ip(l, 4, tpa);
    } else {
        lb_str(l, ", op ");
        lb_u64(l, op);
    }
    lb_str(l, ", length ");
    lb_u64(l, p->wirelen > off ? p->wirelen - off : 0);
}

static void other_l3(struct lb *l, const struct np_pkt *p, const struct view *w)
{
    const struct np_dpkt *d = &w->d;
    uint16_t t = d->ethertype;
    bool tpid = t == ETH_VLAN || t == ETH_QINQ || t == ETH_QINQ_OLD;
    if (d->n_vlan > NP_MAX_VLAN) {
        lb_str(l, "VLAN stack deeper than ");
        lb_u64(l, NP_MAX_VLAN);
        return;
    }
    if (t >= ETH_MIN_TYPE && !tpid) {
        const char *name = ether_name(t);
        if (name != NULL) {
            lb_str(l, name);
        } else {
            lb_str(l, "ethertype 0x");
            lb_hex(l, t, 4);
        }
    } else if (p->linktype == NP_LINK_ETHERNET) {
        lb_str(l, "802.3 LLC");
    } else {
        lb_link(l, p->linktype);
        lb_str(l, ", not decoded");
    }
    uint32_t off = l3_offset(p->linktype, d);
    lb_str(l, ", length ");
    lb_u64(l, p->wirelen > off ? p->wirelen - off : 0);
}

static void tcp(struct lb *l, const struct view *w)
{
    const struct np_dpkt *d = &w->d;
    char flags[9];
    lb_str(l, "Flags [");
    lb_mem(l, flags, np_tcp_flags_str(flags, d->tcp_flags));
    lb_str(l, "]");
    /* tcpdump (print-tcp.c) shows the sequence range when there is data or
     * SYN/FIN/RST, the acknowledgement only with ACK; we print absolute
     * numbers, as tcpdump -S does. */
    if (w->length > 0 || (d->tcp_flags & (NP_TCP_SYN | NP_TCP_FIN | NP_TCP_RST))) {
        lb_str(l, ", seq ");
        lb_u64(l, d->seq);
        if (w->length > 0) {
            lb_str(l, ":");
            lb_u64(l, (uint32_t)(d->seq + w->length));
        }
    }
    if (d->tcp_flags & NP_TCP_ACK) {
        lb_str(l, ", ack ");
        lb_u64(l, d->ack);
    }
    lb_str(l, ", win ");
    lb_u64(l, d->win);
    lb_str(l, ", length ");
    lb_u64(l, w->length);
}

static void icmp(struct lb *l, const struct view *w)
{
    const struct np_dpkt *d = &w->d;
    bool v6 = d->proto == PROTO_ICMPV6;
    const char *name = v6 ? icmp6_name(d->icmp_type) : icmp_name(d->icmp_type);
    bool echo = v6 ? (d->icmp_type == 128 || d->icmp_type == 129)
                   : (d->icmp_type == 0 || d->icmp_type == 8);
    lb_str(l, v6 ? "ICMP6, " : "ICMP ");
    if (name != NULL) {
        lb_str(l, name);
    } else {
        lb_str(l, "type ");
        lb_u64(l, d->icmp_type);
    }
    if (echo) {
        lb_str(l, ", id ");
        lb_u64(l, d->sport);
    } else {
        lb_str(l, ", code ");
        lb_u64(l, d->icmp_code);
    }
    const struct np_icmp_quote *q = &d->quote;
    if (q->ip_ver == 4 || q->ip_ver == 6) {
        lb_str(l, ", quoting ");
        lb_proto(l, q->proto);
        lb_str(l, " ");
        lb_addr(l, q->ip_ver, q->src, q->has_ports, q->sport);
        lb_str(l, " > ");
        lb_addr(l, q->ip_ver, q->dst, q->has_ports, q->dport);
    }
    lb_str(l, ", length ");
    lb_u64(l, w->length);
}

static void ip(struct lb *l, const struct view *w)
{
    const struct np_dpkt *d = &w->d;
    lb_str(l, d->l3 == NP_L3_IPV6 ? "IP6" : "IP");
    if (d->ip_ver == 0)
        return; /* the fixed header was cut or impossible */
    lb_str(l, " ");
    lb_addr(l, d->ip_ver, d->src, w->ports, d->sport);
    lb_str(l, " > ");
    lb_addr(l, d->ip_ver, d->dst, w->ports, d->dport);
    lb_str(l, ": ");
    if (d->is_frag) {
        lb_proto(l, d->proto);
        lb_str(l, " fragment id ");
        lb_u64(l, d->frag_id);
        lb_str(l, ", offset ");
        lb_u64(l, d->frag_off);
        lb_str(l, ", length ");
        lb_u64(l, w->length);
        if (d->frag_more)
            lb_str(l, ", more");
        return;
    }
    if (!d->l4_ok) {
        lb_proto(l, d->proto);
        if (w->has_length) {
            lb_str(l, ", length ");
            lb_u64(l, w->length);
        }
        return;
    }
    switch (d->proto) {
    case PROTO_TCP:
        tcp(l, w);
        break;
    case PROTO_UDP:
        lb_str(l, "UDP, length ");
        lb_u64(l, w->length);
        break;
    default: /* ICMP, ICMPv6: the only others with l4_ok */
        icmp(l, w);
        break;
    }
}

static size_t summary(char *dst, size_t cap, const struct np_pkt *p, const struct view *w)
{
    struct lb l = { dst, 0, cap - 1 };
    const struct np_dpkt *d = &w->d;
    if (d->vlan != NP_VLAN_NONE) {
        lb_str(&l, "vlan ");
        lb_u64(&l, d->vlan);
        lb_str(&l, " ");
    }
    switch (d->l3) {
    case NP_L3_IPV4:
    case NP_L3_IPV6:
        ip(&l, w);
        break;
    case NP_L3_ARP:
        arp(&l, p, w);
        break;
    case NP_L3_OTHER:
        other_l3(&l, p, w);
        break;
    default: /* the link layer was cut, or a link type we do not decode */
        lb_link(&l, p->linktype);
        break;
    }
    switch (w->v) {
    case NP_DEC_TRUNCATED:
        lb_str(&l, " [truncated]");
        break;
    case NP_DEC_MALFORMED:
        lb_str(&l, " [malformed]");
        break;
    case NP_DEC_UNSUPPORTED:
        lb_str(&l, " [unsupported]");
        break;
    default:
        break;
    }
    dst[l.n] = '\0';
    return l.n;
}

size_t np_pkt_line_summary(char *dst, size_t cap, const struct np_pkt *p)
{
    if (cap == 0)
        return 0;
    struct view w;
    decode(&w, p);
    return summary(dst, cap, p, &w);
}

/* 16 bytes a line as tcpdump's hex_and_ascii_print_with_offset(): the
 * offset and ": ", 8 groups of " xxxx" padded to 40 columns, two spaces,
 * ASCII (checked against tcpdump 4.99 -XX). */
void np_pkt_line_hexdump(struct np_out *o, const uint8_t *data, size_t n)
{
    static const char hexdig[] = "0123456789abcdef";
    struct np_cur c = np_cur_make(data, data != NULL ? n : 0);
    size_t off = 0;
    while (c.left > 0) {
        uint8_t b[16];
        size_t k = c.left < 16 ? c.left : 16;
        np_cur_copy(&c, b, k);
        char line[96];
        size_t i = 0;
        line[i++] = '\t';
        line[i++] = '0';
        line[i++] = 'x';
        /* At least 4 digits; more past 64 KiB, as tcpdump's %04x. */
        size_t digits = 4;
        while (digits < 16 && (off >> (4 * digits)) != 0)
            digits++;
        for (size_t j = digits; j-- > 0;)
            line[i++] = hexdig[(off >> (4 * j)) & 15];
        line[i++] = ':';
        line[i++] = ' ';
        size_t hex_start = i;
        for (size_t j = 0; j < k; j++) {
            if (j % 2 == 0)
                line[i++] = ' ';
            line[i++] = hexdig[b[j] >> 4];
            line[i++] = hexdig[b[j] & 15];
        }
        while (i < hex_start + 40)
            line[i++] = ' ';
        line[i++] = ' ';
        line[i++] = ' ';
        for (size_t j = 0; j < k; j++)
            line[i++] = (b[j] > 0x20 && b[j] <= 0x7e) ? (char)b[j] : '.';
        line[i++] = '\n';
        np_out_mem(o, line, i);
        off += k;
    }
}

/* Copies a short constant piece: with n known at compile time the copy is
 * inlined (one np_out_mem call per key cost a third of a JSON line). */
static inline void put(struct np_out *o, const char *s, size_t n)
{
    if (n > o->cap) {
        np_out_mem(o, s, n);
        return;
    }
    memcpy(np_out_room(o, n), s, n);
    o->len += n;
}

/* KEY("ts") is the text ,"ts": and its length, for put() and json_u64(). */
#define KEY(k)   ",\"" k "\":", sizeof(",\"" k "\":") - 1
#define LIT(lit) lit, sizeof(lit) - 1

static inline void json_u64(struct np_out *o, const char *key, size_t key_len, bool present,
                            uint64_t v)
{
    put(o, key, key_len);
    if (present)
        np_out_u64(o, v);
    else
        put(o, LIT("null"));
}

static void json_hex(struct np_out *o, const uint8_t *data, size_t n)
{
    static const char hexdig[] = "0123456789abcdef";
    struct np_cur c = np_cur_make(data, data != NULL ? n : 0);
    np_out_ch(o, '"');
    while (c.left > 0) {
        uint8_t b[64];
        size_t k = c.left < sizeof(b) ? c.left : sizeof(b);
        np_cur_copy(&c, b, k);
        uint8_t *d = np_out_room(o, 2 * k);
        for (size_t j = 0; j < k; j++) {
            d[2 * j] = (uint8_t)hexdig[b[j] >> 4];
            d[2 * j + 1] = (uint8_t)hexdig[b[j] & 15];
        }
        o->len += 2 * k;
    }
    np_out_ch(o, '"');
}

static const char *const status_names[] = { "ok", "truncated", "malformed", "unsupported" };

static void write_json(struct np_out *o, const struct np_pkt *p, const struct view *w,
                       const char *sum, size_t sum_len, bool show_data)
{
    const struct np_dpkt *d = &w->d;
    bool ip = d->ip_ver != 0;
    bool tcp_hdr = ip && !d->is_frag && d->l4_ok && d->proto == PROTO_TCP;
    bool icmp_hdr =
            ip && !d->is_frag && d->l4_ok && (d->proto == PROTO_ICMP || d->proto == PROTO_ICMPV6);

    put(o, LIT("{\"frame\":"));
    np_out_u64(o, p->frame_no);
    put(o, KEY("ts"));
    np_out_ch(o, '"');
    np_out_rfc3339_ns(o, p->ts_ns);
    np_out_ch(o, '"');
    json_u64(o, KEY("ts_ns"), true, p->ts_ns);
    json_u64(o, KEY("ifid"), true, p->ifid);
    json_u64(o, KEY("linktype"), true, p->linktype);
    json_u64(o, KEY("caplen"), true, p->caplen);
    json_u64(o, KEY("wirelen"), true, p->wirelen);
    json_u64(o, KEY("vlan"), d->vlan != NP_VLAN_NONE, d->vlan);
    put(o, KEY("net"));
    switch (d->l3) {
    case NP_L3_IPV4:
        put(o, LIT("\"ipv4\""));
        break;
    case NP_L3_IPV6:
        put(o, LIT("\"ipv6\""));
        break;
    case NP_L3_ARP:
        np_out_str(o, d->ethertype == ETH_RARP ? "\"rarp\"" : "\"arp\"");
        break;
    case NP_L3_OTHER:
        put(o, LIT("\"other\""));
        break;
    default:
        put(o, LIT("null"));
        break;
    }
    json_u64(o, KEY("ethertype"), d->ethertype >= ETH_MIN_TYPE, d->ethertype);
    json_u64(o, KEY("ip_ver"), ip, d->ip_ver);
    put(o, KEY("src"));
    if (ip) {
        np_out_ch(o, '"');
        np_out_ip(o, d->ip_ver, d->src);
        np_out_ch(o, '"');
    } else {
        put(o, LIT("null"));
    }
    put(o, KEY("dst"));
    if (ip) {
        np_out_ch(o, '"');
        np_out_ip(o, d->ip_ver, d->dst);
        np_out_ch(o, '"');
    } else {
        put(o, LIT("null"));
    }
    put(o, KEY("proto"));
    if (ip) {
        char t[4];
        np_out_ch(o, '"');
        switch (d->proto) {
        case PROTO_TCP:
            put(o, LIT("tcp"));
            break;
        case PROTO_UDP:
            put(o, LIT("udp"));
            break;
        case PROTO_ICMP:
            put(o, LIT("icmp"));
            break;
        case PROTO_ICMPV6:
            put(o, LIT("icmpv6"));
            break;
        default:
            np_out_mem(o, t, np_fmt_u64(t, d->proto));
            break;
        }
        np_out_ch(o, '"');
    } else {
        put(o, LIT("null"));
    }
    json_u64(o, KEY("sport"), w->ports, d->sport);
    json_u64(o, KEY("dport"), w->ports, d->dport);
    json_u64(o, KEY("tcp_flags"), tcp_hdr, d->tcp_flags);
    put(o, KEY("tcp_flags_str"));
    if (tcp_hdr) {
        char flags[9];
        np_out_json_str(o, flags, np_tcp_flags_str(flags, d->tcp_flags));
    } else {
        put(o, LIT("null"));
    }
    json_u64(o, KEY("seq"), tcp_hdr, d->seq);
    json_u64(o, KEY("ack"), tcp_hdr, d->ack);
    json_u64(o, KEY("win"), tcp_hdr, d->win);
    json_u64(o, KEY("icmp_type"), icmp_hdr, d->icmp_type);
    json_u64(o, KEY("icmp_code"), icmp_hdr, d->icmp_code);
    bool frag = ip && d->is_frag;
    json_u64(o, KEY("frag_id"), frag, d->frag_id);
    json_u64(o, KEY("frag_off"), frag, d->frag_off);
    put(o, KEY("frag_more"));
    np_out_str(o, !frag ? "null" : d->frag_more ? "true" : "false");
    json_u64(o, KEY("length"), w->has_length, w->length);
    put(o, KEY("status"));
    np_out_ch(o, '"');
    np_out_str(o, status_names[(unsigned)w->v < 4 ? (unsigned)w->v : 3]);
    np_out_ch(o, '"');
    put(o, KEY("summary"));
    np_out_json_str(o, sum, sum_len);
    if (show_data) {
        put(o, KEY("data"));
        json_hex(o, p->data, p->caplen);
    }
    put(o, LIT("}\n"));
}

void np_pkt_line_write(struct np_out *o, const struct np_pkt *p,
                       const struct np_pkt_line_opts *opts)
{
    struct view w;
    char sum[NP_PKT_LINE_SUMMARY_MAX];
    decode(&w, p);
    size_t n = summary(sum, sizeof(sum), p, &w);
    if (opts->fmt == NP_PKT_LINE_JSON) {
        write_json(o, p, &w, sum, n, opts->show_data);
        return;
    }
    np_out_u64(o, p->frame_no);
    np_out_ch(o, ' ');
    np_out_rfc3339_ns(o, p->ts_ns);
    np_out_ch(o, ' ');
    np_out_mem(o, sum, n);
    put(o, LIT(" ("));
    np_out_u64(o, p->caplen);
    if (p->caplen != p->wirelen) {
        put(o, LIT(" of "));
        np_out_u64(o, p->wirelen);
    }
    put(o, LIT(" bytes)\n"));
    if (opts->show_data)
        np_pkt_line_hexdump(o, p->data, p->caplen);
}
