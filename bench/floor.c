/* bench/floor.c: the floor every benchmark is measured against.
 *
 * A bare libpcap read loop: pcap_open_offline, pcap_next_ex until the end,
 * counting packets and bytes. Prints "packets=N wire_bytes=N". Any netpeek
 * figure is quoted as a ratio to this loop over the same file in the same run.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: floor FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (p == NULL) {
        fprintf(stderr, "floor: %s\n", errbuf);
        return 2;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t pkts = 0, wire = 0, cap = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        pkts++;
        wire += h->len;
        cap += h->caplen;
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "floor: %s\n", pcap_geterr(p));
        return 1;
    }
    printf("packets=%" PRIu64 " wire_bytes=%" PRIu64 " captured_bytes=%" PRIu64 "\n", pkts, wire,
           cap);
    pcap_close(p);
    return 0;
}
