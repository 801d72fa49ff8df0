/* tests/sink/test_pkt_line.c: packet lines (sink/pkt_line.h).
 *
 * Fixed frames of every link type the decoder handles are formatted and
 * compared with the exact expected text (docs/formats.md, "Packet lines");
 * JSON lines are checked by a small parser here (every line one object of
 * unique keys with scalar values) and once in full. The hex dump is
 * compared exactly (it was checked once against tcpdump -XX). Frames cut at
 * every length and random bytes are formatted from exact-size heap copies,
 * so under ASan any read past the captured bytes fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/out.h"
#include "core/packet.h"
#include "decode/pkt.h"
#include "sink/pkt_line.h"
#include "testutil.h"

#define TS     1795395723123456789ull /* 2026-11-23T01:02:03.123456789Z */
#define PREFIX "1 2026-11-23T01:02:03.123456789Z "

static char text[1 << 20];

/* Formats k (its first caplen bytes, wirelen on the wire) from an exact-size
 * heap copy and returns what was written, NUL-terminated, in 'text'. */
static const char *fmt_cut(uint16_t lt, const struct pkt *k, size_t caplen, uint32_t wirelen,
                           enum np_pkt_line_fmt fmt, bool show_data)
{
    uint8_t *copy = malloc(caplen > 0 ? caplen : 1);
    assert_non_null(copy);
    memcpy(copy, k->b, caplen);
    struct np_pkt p = {
        .ts_ns = TS,
        .frame_no = 1,
        .data = copy,
        .caplen = (uint32_t)caplen,
        .wirelen = wirelen,
        .linktype = lt,
        .ts_prec = 9,
    };
    int fd = memfd_create("pkt_line", 0);
    assert_true(fd >= 0);
    struct np_out o;
    assert_int_equal(np_out_init(&o, fd, 4096), 0);
    struct np_pkt_line_opts opts = { .fmt = fmt, .show_data = show_data };
    np_pkt_line_write(&o, &p, &opts);
    assert_int_equal(np_out_flush(&o), 0);
    np_out_fini(&o);
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    assert_true(n >= 0);
    text[n] = '\0';
    close(fd);
    free(copy);
    return text;
}

static const char *fmt_text(uint16_t lt, const struct pkt *k)
{
    return fmt_cut(lt, k, k->n, (uint32_t)k->n, NP_PKT_LINE_TEXT, false);
}

/* ---- frames ---- */

static void eth_ipv4_tcp(struct pkt *k, uint8_t flags, uint32_t seq, uint32_t ack, size_t data)
{
    k->n = 0;
    pk_eth(k, 0x0800);
    size_t at = pk_ipv4(k, 6, 1, 0, 0);
    pk_tcp(k, 51234, 80, seq, ack, flags, NULL, 0);
    pk_fill(k, 'a', data);
    pk_ipv4_done(k, at);
}

static void ipv4_udp(struct pkt *k, size_t data)
{
    size_t at = pk_ipv4(k, 17, 1, 0, 0);
    pk_udp_payload(k, 1000, 2000, 'u', data);
    pk_ipv4_done(k, at);
}

static void ipv6_tcp(struct pkt *k)
{
    size_t at = pk_ipv6(k, 6);
    pk_tcp(k, 443, 50000, 7, 0, NP_TCP_SYN, NULL, 0);
    pk_ipv6_done(k, at);
}

static void sll_header(struct pkt *k, uint16_t proto)
{
    pk_be16(k, 0); /* packet type: to us */
    pk_be16(k, 1); /* ARPHRD_ETHER */
    pk_be16(k, 6);
    pk_fill(k, 0xaa, 8);
    pk_be16(k, proto);
}

static void sll2_header(struct pkt *k, uint16_t proto)
{
    pk_be16(k, proto);
    pk_be16(k, 0);
    pk_be32(k, 3); /* interface index */
    pk_be16(k, 1); /* ARPHRD_ETHER */
    pk_u8(k, 4);   /* outgoing */
    pk_u8(k, 6);
    pk_fill(k, 0xbb, 8);
}

static void eth_arp(struct pkt *k, uint16_t op, bool pad)
{
    static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, ip1[4] = { 10, 0, 0, 1 };
    static const uint8_t mac0[6] = { 0 }, ip2[4] = { 10, 0, 0, 2 };
    k->n = 0;
    pk_eth(k, 0x0806);
    pk_be16(k, 1);
    pk_be16(k, 0x0800);
    pk_u8(k, 6);
    pk_u8(k, 4);
    pk_be16(k, op);
    pk_bytes(k, mac1, 6);
    pk_bytes(k, op == 1 ? ip1 : ip1, 4);
    pk_bytes(k, mac0, 6);
    pk_bytes(k, ip2, 4);
    if (pad)
        pk_fill(k, 0, 60 - k->n);
}

/* ---- TCP ---- */

static void a_syn_ack_is_a_tcpdump_line_with_time_and_frame_length(void **state)
{
    (void)state;
    struct pkt k;
    eth_ipv4_tcp(&k, NP_TCP_SYN | NP_TCP_ACK, 1234, 5678, 0);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1.51234 > 198.51.100.2.80: Flags [S.], seq 1234, ack "
                               "5678, win 65535, length 0 (54 bytes)\n");
}

static void a_data_segment_shows_its_sequence_range_and_payload_length(void **state)
{
    (void)state;
    struct pkt k;
    eth_ipv4_tcp(&k, NP_TCP_PSH | NP_TCP_ACK, 1000, 5678, 100);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1.51234 > 198.51.100.2.80: Flags [P.], seq 1000:1100, "
                               "ack 5678, win 65535, length 100 (154 bytes)\n");
}

static void a_pure_ack_has_no_sequence_and_a_sequence_range_wraps(void **state)
{
    (void)state;
    struct pkt k;
    eth_ipv4_tcp(&k, NP_TCP_ACK, 1, 5678, 0);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1.51234 > 198.51.100.2.80: Flags [.], ack 5678, win "
                               "65535, length 0 (54 bytes)\n");
    eth_ipv4_tcp(&k, NP_TCP_FIN | NP_TCP_ACK, 0xffffff00u, 9, 512);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1.51234 > 198.51.100.2.80: Flags [F.], seq "
                               "4294967040:256, ack 9, win 65535, length 512 (566 bytes)\n");
    eth_ipv4_tcp(&k, 0, 5, 0, 0);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1.51234 > 198.51.100.2.80: Flags [none], win 65535, "
                               "length 0 (54 bytes)\n");
}

static void a_payload_cut_by_the_snaplen_shows_both_lengths_and_is_not_truncated(void **state)
{
    (void)state;
    struct pkt k;
    eth_ipv4_tcp(&k, NP_TCP_PSH | NP_TCP_ACK, 1, 1, 1000);
    assert_string_equal(fmt_cut(NP_LINK_ETHERNET, &k, 100, (uint32_t)k.n, NP_PKT_LINE_TEXT, false),
                        PREFIX "IP 192.0.2.1.51234 > 198.51.100.2.80: Flags [P.], seq 1:1001, ack "
                               "1, win 65535, length 1000 (100 of 1054 bytes)\n");
}

/* ---- link types ---- */

static void ipv6_ports_follow_the_address_after_a_dot(void **state)
{
    (void)state;
    struct pkt k = { .n = 0 };
    pk_eth(&k, 0x86dd);
    size_t at = pk_ipv6(&k, 17);
    pk_udp_payload(&k, 5353, 53, 'x', 10);
    pk_ipv6_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k), PREFIX
                        "IP6 2001:db8::1.5353 > 2001:db8::2.53: UDP, length 10 (72 bytes)\n");
}

static void a_vlan_tag_shows_its_outer_id_first(void **state)
{
    (void)state;
    struct pkt k = { .n = 0 };
    pk_eth(&k, 0x8100);
    pk_vlan(&k, 0x2000 | 10, 0x88a8);
    pk_vlan(&k, 20, 0x0800);
    ipv4_udp(&k, 4);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "vlan 10 IP 192.0.2.1.1000 > 198.51.100.2.2000: UDP, length 4 (54 "
                               "bytes)\n");
}

static void cooked_raw_and_loopback_link_types_give_the_same_line(void **state)
{
    (void)state;
    const char *udp = "IP 192.0.2.1.1000 > 198.51.100.2.2000: UDP, length 4";
    char want[256];
    struct pkt k = { .n = 0 };

    sll_header(&k, 0x0800);
    ipv4_udp(&k, 4);
    snprintf(want, sizeof(want), PREFIX "%s (48 bytes)\n", udp);
    assert_string_equal(fmt_text(NP_LINK_SLL, &k), want);

    k.n = 0;
    sll2_header(&k, 0x0800);
    ipv4_udp(&k, 4);
    snprintf(want, sizeof(want), PREFIX "%s (52 bytes)\n", udp);
    assert_string_equal(fmt_text(NP_LINK_SLL2, &k), want);

    k.n = 0;
    ipv4_udp(&k, 4);
    snprintf(want, sizeof(want), PREFIX "%s (32 bytes)\n", udp);
    assert_string_equal(fmt_text(NP_LINK_RAW, &k), want);
    assert_string_equal(fmt_text(NP_LINK_RAW_OLD, &k), want);
    assert_string_equal(fmt_text(NP_LINK_IPV4, &k), want);

    k.n = 0;
    pk_le32(&k, 2); /* AF_INET, little-endian host */
    ipv4_udp(&k, 4);
    snprintf(want, sizeof(want), PREFIX "%s (36 bytes)\n", udp);
    assert_string_equal(fmt_text(NP_LINK_NULL, &k), want);

    k.n = 0;
    pk_be32(&k, 24); /* AF_INET6 on OpenBSD */
    ipv6_tcp(&k);
    assert_string_equal(fmt_text(NP_LINK_LOOP, &k),
                        PREFIX "IP6 2001:db8::1.443 > 2001:db8::2.50000: Flags [S], seq 7, win "
                               "65535, length 0 (64 bytes)\n");
    k.n = 0;
    ipv6_tcp(&k);
    assert_string_equal(fmt_text(NP_LINK_IPV6, &k),
                        PREFIX "IP6 2001:db8::1.443 > 2001:db8::2.50000: Flags [S], seq 7, win "
                               "65535, length 0 (60 bytes)\n");
}

/* ---- ICMP, ARP, other ---- */

static void icmp_echo_and_errors_name_the_type_and_what_was_quoted(void **state)
{
    (void)state;
    struct pkt k = { .n = 0 };
    pk_eth(&k, 0x0800);
    size_t at = pk_ipv4(&k, 1, 1, 0, 0);
    pk_icmp(&k, 8, 0, 7, 1);
    pk_fill(&k, 0, 8);
    pk_ipv4_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1 > 198.51.100.2: ICMP echo request, id 7, length 16 "
                               "(50 bytes)\n");

    k.n = 0;
    pk_eth(&k, 0x0800);
    at = pk_ipv4(&k, 1, 1, 0, 0);
    pk_icmp(&k, 3, 3, 0, 0);
    size_t q = pk_ipv4(&k, 17, 9, 0, 0);
    pk_udp(&k, 1000, 53);
    pk_ipv4_done(&k, q);
    pk_ipv4_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1 > 198.51.100.2: ICMP unreachable, code 3, quoting UDP "
                               "192.0.2.1.1000 > 198.51.100.2.53, length 36 (70 bytes)\n");

    k.n = 0;
    pk_eth(&k, 0x86dd);
    at = pk_ipv6(&k, 58);
    pk_icmp(&k, 129, 0, 7, 1);
    pk_fill(&k, 0, 8);
    pk_ipv6_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo reply, id 7, length 16 "
                               "(70 bytes)\n");

    k.n = 0;
    at = pk_ipv6(&k, 58);
    pk_icmp(&k, 135, 0, 0, 0);
    pk_fill(&k, 0, 16);
    pk_ipv6_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_RAW, &k),
                        PREFIX "IP6 2001:db8::1 > 2001:db8::2: ICMP6, neighbor solicitation, code "
                               "0, length 24 (64 bytes)\n");
}

static void arp_requests_and_replies_read_like_tcpdump(void **state)
{
    (void)state;
    struct pkt k;
    eth_arp(&k, 1, true);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 46 (60 "
                               "bytes)\n");
    eth_arp(&k, 2, false);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "ARP, Reply 10.0.0.1 is-at 02:00:00:00:00:01, length 28 (42 "
                               "bytes)\n");
    struct pkt s = { .n = 0 };
    sll_header(&s, 0x0806);
    pk_bytes(&s, &k.b[14], k.n - 14);
    assert_string_equal(fmt_text(NP_LINK_SLL, &s),
                        PREFIX "ARP, Reply 10.0.0.1 is-at 02:00:00:00:00:01, length 28 (44 "
                               "bytes)\n");
}

static void other_ethertypes_llc_and_unknown_link_types_are_named(void **state)
{
    (void)state;
    struct pkt k = { .n = 0 };
    pk_eth(&k, 0x88cc);
    pk_fill(&k, 0, 46);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k), PREFIX "LLDP, length 46 (60 bytes)\n");
    k.n = 0;
    pk_eth(&k, 0x1234);
    pk_fill(&k, 0, 46);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "ethertype 0x1234, length 46 (60 bytes)\n");
    k.n = 0;
    pk_eth(&k, 46);
    pk_fill(&k, 0x42, 46);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k), PREFIX "802.3 LLC, length 46 (60 bytes)\n");
    k.n = 0;
    pk_fill(&k, 0x50, 20);
    assert_string_equal(fmt_text(NP_LINK_RAW, &k),
                        PREFIX "raw IP, not decoded, length 20 (20 bytes)\n");
    assert_string_equal(fmt_text(147, &k), PREFIX "link-type 147 [unsupported] (20 bytes)\n");
}

/* ---- fragments ---- */

static void fragments_show_id_offset_and_the_first_ones_ports(void **state)
{
    (void)state;
    struct pkt k = { .n = 0 };
    pk_eth(&k, 0x0800);
    size_t at = pk_ipv4(&k, 17, 7, 0x2000, 0);
    pk_be16(&k, 40000);
    pk_be16(&k, 5000);
    pk_be16(&k, 24); /* the whole datagram's UDP length */
    pk_be16(&k, 0);
    pk_fill(&k, 'f', 8);
    pk_ipv4_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1.40000 > 198.51.100.2.5000: UDP fragment id 7, offset "
                               "0, length 16, more (50 bytes)\n");
    k.n = 0;
    pk_eth(&k, 0x0800);
    at = pk_ipv4(&k, 17, 7, 2, 0);
    pk_fill(&k, 'g', 8);
    pk_ipv4_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1 > 198.51.100.2: UDP fragment id 7, offset 16, length "
                               "8 (42 bytes)\n");
    k.n = 0;
    at = pk_ipv6(&k, 44);
    pk_frag6(&k, 17, 16, false, 99);
    pk_fill(&k, 'h', 8);
    pk_ipv6_done(&k, at);
    assert_string_equal(fmt_text(NP_LINK_IPV6, &k),
                        PREFIX "IP6 2001:db8::1 > 2001:db8::2: UDP fragment id 99, offset 16, "
                               "length 8 (56 bytes)\n");
}

/* ---- damaged frames ---- */

static void cut_and_impossible_headers_print_what_decoded_and_say_so(void **state)
{
    (void)state;
    struct pkt k;
    eth_ipv4_tcp(&k, NP_TCP_SYN, 1, 0, 0);
    uint32_t w = (uint32_t)k.n;
    assert_string_equal(fmt_cut(NP_LINK_ETHERNET, &k, 10, w, NP_PKT_LINE_TEXT, false),
                        PREFIX "Ethernet [truncated] (10 of 54 bytes)\n");
    assert_string_equal(fmt_cut(NP_LINK_ETHERNET, &k, 20, w, NP_PKT_LINE_TEXT, false),
                        PREFIX "IP [truncated] (20 of 54 bytes)\n");
    assert_string_equal(fmt_cut(NP_LINK_ETHERNET, &k, 40, w, NP_PKT_LINE_TEXT, false),
                        PREFIX "IP 192.0.2.1 > 198.51.100.2: TCP [truncated] (40 of 54 bytes)\n");
    assert_string_equal(fmt_cut(NP_LINK_ETHERNET, &k, 0, w, NP_PKT_LINE_TEXT, false),
                        PREFIX "Ethernet [truncated] (0 of 54 bytes)\n");
    k.b[14 + 20 + 12] = 0x40; /* data offset 16 bytes */
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k),
                        PREFIX "IP 192.0.2.1 > 198.51.100.2: TCP [malformed] (54 bytes)\n");
    k.b[14] = 0x65; /* version 6 in an IPv4 ethertype */
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &k), PREFIX "IP [malformed] (54 bytes)\n");

    struct pkt v = { .n = 0 };
    pk_eth(&v, 0x8100);
    for (int i = 0; i < NP_MAX_VLAN; i++)
        pk_vlan(&v, (uint16_t)(i + 1), 0x8100);
    pk_vlan(&v, 9, 0x0800);
    ipv4_udp(&v, 4);
    assert_string_equal(fmt_text(NP_LINK_ETHERNET, &v),
                        PREFIX "vlan 1 VLAN stack deeper than 4 [unsupported] (66 bytes)\n");
}

static void a_summary_is_cut_to_the_buffer_and_terminated(void **state)
{
    (void)state;
    struct pkt k;
    eth_ipv4_tcp(&k, NP_TCP_SYN, 1, 0, 0);
    struct np_pkt p = {
        .data = k.b, .caplen = (uint32_t)k.n, .wirelen = (uint32_t)k.n, .linktype = NP_LINK_ETHERNET
    };
    char s[NP_PKT_LINE_SUMMARY_MAX];
    memset(s, 'z', sizeof(s));
    assert_int_equal(np_pkt_line_summary(s, 11, &p), 10);
    assert_string_equal(s, "IP 192.0.2");
    assert_int_equal(s[11], 'z');
    assert_int_equal(np_pkt_line_summary(s, 1, &p), 0);
    assert_string_equal(s, "");
}

/* ---- hex dump ---- */

static void the_hex_dump_is_tcpdump_xx_with_spaces_and_controls_as_dots(void **state)
{
    (void)state;
    static const uint8_t b[] = { 0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0xb1,
                                 0xe6, 0xac, 0x10, 0x0a, 0x63, 0x20, 0x7e, 0x7f, 0x41, 0x42 };
    struct pkt k = { .n = 0 };
    pk_bytes(&k, b, sizeof(b));
    const char *want = "\t0x0000:  4500 003c 1c46 4000 4006 b1e6 ac10 0a63  E..<.F@.@......c\n"
                       "\t0x0010:  207e 7f41 42                             .~.AB\n";
    fmt_cut(147, &k, k.n, (uint32_t)k.n, NP_PKT_LINE_TEXT, true);
    const char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, want);

    /* Exactly 16 bytes: one full line; 0 bytes: no line. */
    k.n = 16;
    fmt_cut(147, &k, k.n, (uint32_t)k.n, NP_PKT_LINE_TEXT, true);
    assert_string_equal(strchr(text, '\n') + 1,
                        "\t0x0000:  4500 003c 1c46 4000 4006 b1e6 ac10 0a63  E..<.F@.@......c\n");
    fmt_cut(147, &k, 0, 16, NP_PKT_LINE_TEXT, true);
    assert_string_equal(strchr(text, '\n') + 1, "");
}

static void offsets_past_64_kib_get_a_fifth_digit(void **state)
{
    (void)state;
    size_t n = 65536 + 3;
    uint8_t *b = calloc(1, n);
    assert_non_null(b);
    int fd = memfd_create("hex", 0);
    assert_true(fd >= 0);
    struct np_out o;
    assert_int_equal(np_out_init(&o, fd, 1 << 16), 0);
    np_pkt_line_hexdump(&o, b, n);
    assert_int_equal(np_out_flush(&o), 0);
    np_out_fini(&o);
    off_t size = lseek(fd, 0, SEEK_END);
    /* 4096 lines of 1 + 8 + 40 + 2 + 16 + 1 bytes, then the short one. */
    size_t full = 4096u * 68u;
    assert_int_equal((size_t)size, full + 1 + 9 + 40 + 2 + 3 + 1);
    char last[64] = { 0 };
    assert_int_equal(pread(fd, last, 8, (off_t)full), 8);
    assert_string_equal(last, "\t0x10000");
    close(fd);
    free(b);
}

/* ---- JSON ---- */

/* A minimal checker for one line: an object of unique keys whose values are
 * strings, non-negative integers, true, false or null; then "\n" and the
 * end. Fills keys[] with pointers to each key's value. */
#define MAX_KEYS 40
struct jobj {
    int n;
    char key[MAX_KEYS][32];
    const char *val[MAX_KEYS];
};

static const char *j_string(const char *s)
{
    if (*s != '"')
        return NULL;
    for (s++; *s != '"'; s++) {
        if ((unsigned char)*s < 0x20)
            return NULL;
        if (*s == '\\') {
            s++;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
                        return NULL;
                s += 4;
            } else if (strchr("\"\\/bfnrt", *s) == NULL || *s == '\0') {
                return NULL;
            }
        }
    }
    return s + 1;
}

static bool j_parse(const char *s, struct jobj *o)
{
    o->n = 0;
    if (*s++ != '{')
        return false;
    for (;;) {
        const char *k = s, *e = j_string(s);
        if (e == NULL || e - k - 2 >= 32 || o->n == MAX_KEYS || *e != ':')
            return false;
        memcpy(o->key[o->n], k + 1, (size_t)(e - k - 2));
        o->key[o->n][e - k - 2] = '\0';
        for (int i = 0; i < o->n; i++)
            if (strcmp(o->key[i], o->key[o->n]) == 0)
                return false;
        s = e + 1;
        o->val[o->n++] = s;
        if (*s == '"') {
            s = j_string(s);
            if (s == NULL)
                return false;
        } else if (strncmp(s, "null", 4) == 0 || strncmp(s, "true", 4) == 0) {
            s += 4;
        } else if (strncmp(s, "false", 5) == 0) {
            s += 5;
        } else if (*s >= '0' && *s <= '9') {
            if (*s == '0' && s[1] >= '0' && s[1] <= '9')
                return false;
            while (*s >= '0' && *s <= '9')
                s++;
        } else {
            return false;
        }
        if (*s == '}')
            return strcmp(s, "}\n") == 0;
        if (*s++ != ',')
            return false;
    }
}

static const char *const json_keys[] = {
    "frame",    "ts",        "ts_ns",  "ifid",      "linktype",  "caplen",
    "wirelen",  "vlan",      "net",    "ethertype", "ip_ver",    "src",
    "dst",      "proto",     "sport",  "dport",     "tcp_flags", "tcp_flags_str",
    "seq",      "ack",       "win",    "icmp_type", "icmp_code", "frag_id",
    "frag_off", "frag_more", "length", "status",    "summary",
};

#define N_JSON_KEYS (sizeof(json_keys) / sizeof(json_keys[0]))

static void check_json_line(const char *line, bool data)
{
    struct jobj o;
    if (!j_parse(line, &o))
        fail_msg("not a JSON line: %s", line);
    assert_int_equal(o.n, N_JSON_KEYS + (data ? 1 : 0));
    for (size_t i = 0; i < N_JSON_KEYS; i++)
        assert_string_equal(o.key[i], json_keys[i]);
    if (data)
        assert_string_equal(o.key[N_JSON_KEYS], "data");
}

static void json_gives_every_field_in_order_with_nulls_where_not_applicable(void **state)
{
    (void)state;
    struct pkt k;
    eth_ipv4_tcp(&k, NP_TCP_SYN | NP_TCP_ACK, 1234, 5678, 0);
    const char *j = fmt_cut(NP_LINK_ETHERNET, &k, k.n, (uint32_t)k.n, NP_PKT_LINE_JSON, false);
    assert_string_equal(
            j, "{\"frame\":1,\"ts\":\"2026-11-23T01:02:03.123456789Z\",\"ts_ns\":"
               "1795395723123456789,\"ifid\":0,\"linktype\":1,\"caplen\":54,\"wirelen\":54,"
               "\"vlan\":null,\"net\":\"ipv4\",\"ethertype\":2048,\"ip_ver\":4,\"src\":\"192.0.2."
               "1\",\"dst\":\"198.51.100.2\",\"proto\":\"tcp\",\"sport\":51234,\"dport\":80,"
               "\"tcp_flags\":18,\"tcp_flags_str\":\"S.\",\"seq\":1234,\"ack\":5678,\"win\":65535,"
               "\"icmp_type\":null,\"icmp_code\":null,\"frag_id\":null,\"frag_off\":null,"
               "\"frag_more\":null,\"length\":0,\"status\":\"ok\",\"summary\":\"IP 192.0.2.1.51234 "
               "> 198.51.100.2.80: Flags [S.], seq 1234, ack 5678, win 65535, length 0\"}\n");
    check_json_line(j, false);

    j = fmt_cut(NP_LINK_ETHERNET, &k, 20, (uint32_t)k.n, NP_PKT_LINE_JSON, true);
    check_json_line(j, true);
    assert_non_null(strstr(j, "\"caplen\":20,\"wirelen\":54,\"vlan\":null,\"net\":\"ipv4\","
                              "\"ethertype\":2048,\"ip_ver\":null,\"src\":null,"));
    assert_non_null(strstr(j, "\"status\":\"truncated\",\"summary\":\"IP [truncated]\","
                              "\"data\":\"0200000000010200000000020800450000280001\"}\n"));

    struct pkt f = { .n = 0 };
    pk_eth(&f, 0x8100);
    pk_vlan(&f, 42, 0x0800);
    size_t at = pk_ipv4(&f, 17, 7, 0x2000 | 3, 0);
    pk_fill(&f, 0, 8);
    pk_ipv4_done(&f, at);
    j = fmt_cut(NP_LINK_ETHERNET, &f, f.n, (uint32_t)f.n, NP_PKT_LINE_JSON, false);
    check_json_line(j, false);
    assert_non_null(strstr(j, "\"vlan\":42,"));
    assert_non_null(strstr(j, "\"proto\":\"udp\",\"sport\":null,\"dport\":null,\"tcp_flags\":null,"
                              "\"tcp_flags_str\":null,\"seq\":null,\"ack\":null,\"win\":null,"
                              "\"icmp_type\":null,\"icmp_code\":null,\"frag_id\":7,\"frag_off\":24,"
                              "\"frag_more\":true,\"length\":8,\"status\":\"ok\""));

    eth_arp(&k, 1, true);
    j = fmt_cut(NP_LINK_ETHERNET, &k, k.n, (uint32_t)k.n, NP_PKT_LINE_JSON, false);
    check_json_line(j, false);
    assert_non_null(strstr(j, "\"net\":\"arp\",\"ethertype\":2054,\"ip_ver\":null,\"src\":null,"
                              "\"dst\":null,\"proto\":null,"));
}

/* ---- every cut, every link type, random bytes ---- */

/* Real-looking frames to cut: TCP with options and data, ICMP quoting
 * IPv6, ARP, a first fragment, IPv6 with extension headers, SLL2. */
static size_t sweep_frames(struct pkt *f, size_t max)
{
    static const uint8_t opts[20] = {
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7
    };
    size_t n = 0;
    assert_true(max >= 7);
    f[n].n = 0;
    pk_eth(&f[n], 0x0800);
    size_t at = pk_ipv4(&f[n], 6, 1, 0, 8);
    pk_tcp(&f[n], 1, 2, 3, 4, NP_TCP_SYN | NP_TCP_ACK | NP_TCP_URG, opts, sizeof(opts));
    pk_fill(&f[n], 'd', 30);
    pk_ipv4_done(&f[n], at);
    n++;
    f[n].n = 0;
    pk_eth(&f[n], 0x86dd);
    at = pk_ipv6(&f[n], 58);
    pk_icmp(&f[n], 1, 4, 0, 0);
    size_t q = pk_ipv6(&f[n], 0);
    pk_ext(&f[n], 6, 0);
    pk_tcp(&f[n], 5, 6, 7, 8, NP_TCP_ACK, NULL, 0);
    pk_ipv6_done(&f[n], q);
    pk_ipv6_done(&f[n], at);
    n++;
    eth_arp(&f[n], 4, true);
    n++;
    f[n].n = 0;
    pk_eth(&f[n], 0x8100);
    pk_vlan(&f[n], 7, 0x0800);
    at = pk_ipv4(&f[n], 6, 77, 0x2000, 0);
    pk_tcp(&f[n], 9, 10, 11, 12, NP_TCP_PSH, NULL, 0);
    pk_ipv4_done(&f[n], at);
    n++;
    f[n].n = 0;
    at = pk_ipv6(&f[n], 0);
    pk_ext(&f[n], 60, 1);
    pk_ext(&f[n], 17, 0);
    pk_udp_payload(&f[n], 53, 53, 'q', 12);
    pk_ipv6_done(&f[n], at);
    n++;
    f[n].n = 0;
    sll2_header(&f[n], 0x86dd);
    at = pk_ipv6(&f[n], 44);
    pk_frag6(&f[n], 6, 0, true, 5);
    pk_tcp(&f[n], 80, 81, 1, 2, NP_TCP_RST, NULL, 0);
    pk_ipv6_done(&f[n], at);
    n++;
    f[n].n = 0;
    pk_le32(&f[n], 30);
    at = pk_ipv6(&f[n], 58);
    pk_icmp(&f[n], 128, 0, 1, 2);
    pk_ipv6_done(&f[n], at);
    n++;
    return n;
}

static const uint16_t all_linktypes[] = { 1, 0, 12, 101, 108, 113, 228, 229, 276, 147 };
#define N_LT (sizeof(all_linktypes) / sizeof(all_linktypes[0]))

static void every_cut_of_every_frame_as_every_link_type_is_formatted_safely(void **state)
{
    (void)state;
    static struct pkt f[8];
    size_t nf = sweep_frames(f, 8);
    for (size_t i = 0; i < nf; i++)
        for (size_t l = 0; l < N_LT; l++)
            for (size_t cut = 0; cut <= f[i].n; cut++) {
                fmt_cut(all_linktypes[l], &f[i], cut, (uint32_t)f[i].n, NP_PKT_LINE_TEXT, true);
                assert_non_null(strstr(text, " bytes)\n"));
                fmt_cut(all_linktypes[l], &f[i], cut, (uint32_t)f[i].n, NP_PKT_LINE_JSON, true);
                check_json_line(text, true);
            }
}

static void random_bytes_as_every_link_type_give_one_valid_line(void **state)
{
    (void)state;
    static struct pkt k;
    rng_seed(0x706b746c696e65ull);
    for (int round = 0; round < 3000; round++) {
        k.n = rng_below(200);
        for (size_t i = 0; i < k.n; i++)
            k.b[i] = (uint8_t)rng_next();
        /* Often a plausible start, so the decoder gets deep. */
        if (k.n > 20 && (round & 1))
            k.b[rng_below(2) ? 12 : 0] = (round & 2) ? 0x08 : 0x45;
        uint16_t lt = all_linktypes[rng_below(N_LT)];
        uint32_t wire = (uint32_t)k.n + (rng_below(4) == 0 ? rng_below(3000) : 0);
        fmt_cut(lt, &k, k.n, wire, NP_PKT_LINE_TEXT, false);
        const char *nl = strchr(text, '\n');
        assert_non_null(nl);
        assert_int_equal(nl[1], '\0');
        fmt_cut(lt, &k, k.n, wire, NP_PKT_LINE_JSON, round % 5 == 0);
        check_json_line(text, round % 5 == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_syn_ack_is_a_tcpdump_line_with_time_and_frame_length),
        cmocka_unit_test(a_data_segment_shows_its_sequence_range_and_payload_length),
        cmocka_unit_test(a_pure_ack_has_no_sequence_and_a_sequence_range_wraps),
        cmocka_unit_test(a_payload_cut_by_the_snaplen_shows_both_lengths_and_is_not_truncated),
        cmocka_unit_test(ipv6_ports_follow_the_address_after_a_dot),
        cmocka_unit_test(a_vlan_tag_shows_its_outer_id_first),
        cmocka_unit_test(cooked_raw_and_loopback_link_types_give_the_same_line),
        cmocka_unit_test(icmp_echo_and_errors_name_the_type_and_what_was_quoted),
        cmocka_unit_test(arp_requests_and_replies_read_like_tcpdump),
        cmocka_unit_test(other_ethertypes_llc_and_unknown_link_types_are_named),
        cmocka_unit_test(fragments_show_id_offset_and_the_first_ones_ports),
        cmocka_unit_test(cut_and_impossible_headers_print_what_decoded_and_say_so),
        cmocka_unit_test(a_summary_is_cut_to_the_buffer_and_terminated),
        cmocka_unit_test(the_hex_dump_is_tcpdump_xx_with_spaces_and_controls_as_dots),
        cmocka_unit_test(offsets_past_64_kib_get_a_fifth_digit),
        cmocka_unit_test(json_gives_every_field_in_order_with_nulls_where_not_applicable),
        cmocka_unit_test(every_cut_of_every_frame_as_every_link_type_is_formatted_safely),
        cmocka_unit_test(random_bytes_as_every_link_type_give_one_valid_line),
    };
    return cmocka_run_group_tests_name("pkt_line", tests, NULL, pk_teardown);
}
