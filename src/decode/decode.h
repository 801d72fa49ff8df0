/* decode/decode.h: from frame bytes and a link type to a decoded view.
 *
 * The decoder reads only through struct np_cur, never past the captured
 * length, and never fails: it fills what it could trust, returns a verdict,
 * and counts every anomaly in struct np_dec_stats. It allocates nothing and
 * keeps no state between packets; IP fragments are reported (is_frag) for
 * frag.h to reassemble, after which np_decode_ip_payload() decodes the
 * transport layer of the whole datagram.
 */
#ifndef NP_DECODE_DECODE_H
#define NP_DECODE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The verdict says why decoding stopped early; it is advisory. What is usable
 * is in the fields: l3, ip_ver (addresses), is_frag, l4_ok (ports). An
 * anomaly that the decoder works around (an IPv4 total length beyond the
 * frame, a UDP length beyond the IP payload, a bad TCP option) is counted
 * but leaves the verdict NP_DEC_OK. */
enum np_dec {
    NP_DEC_OK = 0,
    NP_DEC_TRUNCATED,   /* a header was cut by the captured length */
    NP_DEC_MALFORMED,   /* a header field is impossible */
    NP_DEC_UNSUPPORTED, /* a link type we do not decode, or a bound that bit */
};

#define NP_VLAN_NONE   0xffffu
#define NP_MAX_VLAN    4 /* tags decoded; deeper stacks are an anomaly */
#define NP_MAX_IP6_EXT 8 /* extension headers followed; more is an anomaly */
#define NP_MAX_SACK    4

/* What the network layer is. */
enum np_l3 {
    NP_L3_NONE = 0,
    NP_L3_IPV4,
    NP_L3_IPV6,
    NP_L3_ARP,
    NP_L3_OTHER, /* a recognised non-IP ethertype or an unknown one */
};

/* Encapsulations we recognise and count; decoding their inner packets comes
 * later (the field keeps room for it in the view and the flow key). */
enum np_encap {
    NP_ENCAP_NONE = 0,
    NP_ENCAP_GRE,
    NP_ENCAP_IPIP, /* IPv4 or IPv6 in IPv4 or IPv6 (protocols 4 and 41) */
    NP_ENCAP_MPLS,
    NP_ENCAP_PPPOE,
    NP_ENCAP_VXLAN,  /* UDP 4789 */
    NP_ENCAP_GENEVE, /* UDP 6081 */
    NP_ENCAP_GTPU,   /* UDP 2152 */
};

/* TCP flag bits as in the header's 13th byte (plus NS is not kept). */
enum {
    NP_TCP_FIN = 0x01,
    NP_TCP_SYN = 0x02,
    NP_TCP_RST = 0x04,
    NP_TCP_PSH = 0x08,
    NP_TCP_ACK = 0x10,
    NP_TCP_URG = 0x20,
    NP_TCP_ECE = 0x40,
    NP_TCP_CWR = 0x80,
};

struct np_tcp_opts {
    uint16_t mss;   /* 0 when absent */
    uint8_t wscale; /* valid when has_wscale */
    bool has_wscale;
    bool sack_permitted;
    bool has_ts;
    uint8_t n_sack; /* blocks kept, at most NP_MAX_SACK */
    uint32_t ts_val, ts_ecr;
    uint32_t sack[NP_MAX_SACK][2]; /* left, right edges */
};

/* The transport header quoted by an ICMP/ICMPv6 error (RFC 792, RFC 4443). */
struct np_icmp_quote {
    uint8_t ip_ver; /* 0 when the error quotes nothing we could read */
    uint8_t proto;
    uint8_t src[16], dst[16]; /* of the quoted (original) packet */
    uint16_t sport, dport;    /* when proto is TCP or UDP and 4 bytes were quoted */
    uint32_t tcp_seq;         /* when proto is TCP and 8 bytes were quoted */
    bool has_ports;
    bool has_seq;
};

struct np_dpkt {
    /* link layer */
    enum np_l3 l3;
    uint16_t ethertype; /* the last ethertype read (0 for raw IP) */
    uint16_t vlan;      /* outermost VLAN id, NP_VLAN_NONE when untagged */
    uint8_t n_vlan;     /* tags seen (counted past NP_MAX_VLAN too) */
    uint8_t encap;      /* enum np_encap: first recognised encapsulation */

    /* network layer (l3 is IPv4 or IPv6) */
    uint8_t ip_ver; /* 4 or 6 once the fixed IP header was read (src, dst valid); else 0 */
    uint8_t proto;  /* transport protocol number after extension headers */
    uint8_t ttl;    /* TTL or hop limit */
    uint8_t src[16], dst[16]; /* IPv4 uses the first 4 bytes, the rest zero */
    uint32_t ip_off;          /* offset of the IP header in the frame */

    /* fragment (is_frag): this frame is part of a datagram that frag.h must
     * reassemble before the transport layer can be read */
    bool is_frag;
    bool frag_more;           /* MF */
    uint32_t frag_id;         /* IPv4 16-bit id or IPv6 32-bit identification */
    uint32_t frag_off;        /* offset of this fragment's data in bytes */
    const uint8_t *frag_data; /* this fragment's data; borrowed from the frame */
    uint32_t frag_len;        /* bytes of it captured */
    uint32_t frag_wire_len;   /* bytes of it per the IP header */

    /* transport layer (proto is TCP, UDP, ICMP or ICMPv6 and l4_ok); these
     * fields run to the end of the struct (np_decode_ip_payload resets them) */
    bool l4_ok;            /* the fixed transport header was read whole and is sane
                            * (TCP 20, UDP 8, ICMP 8 bytes): ports are valid; TCP
                            * options may still have been cut (NP_DEC_TRUNCATED) */
    uint16_t sport, dport; /* ICMP echo: the identifier in both */
    uint8_t tcp_flags;
    uint8_t tcp_hlen; /* header length in bytes */
    uint32_t seq, ack;
    uint16_t win;
    struct np_tcp_opts opt;
    uint8_t icmp_type, icmp_code;
    struct np_icmp_quote quote; /* ICMP errors: destination unreachable, time exceeded
                                   (also parameter problem, packet too big for v6) */

    /* payload after the transport header */
    const uint8_t *payload;    /* borrowed from the frame (or the reassembly buffer) */
    uint32_t payload_len;      /* captured bytes of it */
    uint32_t payload_wire_len; /* bytes per the IP/UDP lengths (>= payload_len) */
};

/* Anomaly and protocol counters; plain integers owned by one shard. */
struct np_dec_stats {
    uint64_t frames, eth, vlan, arp, ipv4, ipv6, tcp, udp, icmp, icmpv6, other_l3;
    uint64_t frags; /* IP fragment frames seen */
    uint64_t encap_gre, encap_ipip, encap_mpls, encap_pppoe, encap_vxlan, encap_geneve, encap_gtpu;
    uint64_t anom_unsupported_linktype;
    uint64_t anom_link_truncated; /* Ethernet/SLL/SLL2/null header cut short */
    uint64_t anom_vlan_too_deep;
    uint64_t anom_ipv4_truncated, anom_ipv4_bad_version, anom_ipv4_bad_ihl, anom_ipv4_bad_total_len;
    uint64_t anom_ipv6_truncated, anom_ipv6_bad_version, anom_ipv6_ext_truncated,
            anom_ipv6_too_many_ext;
    uint64_t anom_ipv6_jumbo; /* payload length 0 (jumbogram/GSO): length from the frame */
    uint64_t anom_ipv6_bad_payload_len; /* payload length beyond the frame */
    uint64_t anom_ipv6_nested_frag;     /* a fragment header inside a reassembled datagram */
    uint64_t anom_ipv6_bad_option;      /* hop-by-hop/destination options overrun their header */
    uint64_t anom_tcp_truncated, anom_tcp_bad_offset, anom_tcp_bad_option;
    uint64_t anom_udp_truncated, anom_udp_bad_len;
    uint64_t anom_icmp_truncated, anom_icmp_quote_truncated;
    uint64_t anom_icmp_quote_bad; /* the quoted IP header is impossible (version, IHL) */
    uint64_t anom_arp_truncated;
};

/* Decodes one frame. out is fully reset first. data (caplen bytes) is
 * borrowed: out's pointers point into it. wirelen is the frame's length on
 * the wire (a value below caplen is taken as caplen).
 *
 * Protocol counters in st count frames that reached the protocol's header
 * (as tshark's protocol chain does), at most once per frame; the anom_
 * counters say which of them were cut or impossible. Headers quoted by an
 * ICMP error count for nothing. */
enum np_dec np_decode(uint16_t linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                      struct np_dpkt *out, struct np_dec_stats *st);

/* Decodes the transport layer of a (reassembled) IP datagram's payload:
 * proto is the next header after the fragment header (IPv6) or the IPv4
 * protocol; when out->ip_ver is 6, IPv6 extension headers that follow are
 * walked. Fills the transport and payload fields of out (everything from
 * l4_ok on) and sets proto, keeping the link, network and fragment fields.
 * data is borrowed like np_decode's. Counts tcp/udp/icmp/icmpv6 in st, so a
 * frame completing a datagram counts for its transport. */
enum np_dec np_decode_ip_payload(uint8_t proto, const uint8_t *data, uint32_t len,
                                 struct np_dpkt *out, struct np_dec_stats *st);

/* The same for a payload of which only caplen of wirelen bytes are known (a
 * datagram reassembled from fragments that the snapshot length cut):
 * payload_wire_len and the TCP/UDP lengths are computed from wirelen. */
enum np_dec np_decode_ip_payload_wire(uint8_t proto, const uint8_t *data, uint32_t caplen,
                                      uint32_t wirelen, struct np_dpkt *out,
                                      struct np_dec_stats *st);

#endif
