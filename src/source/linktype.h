/* source/linktype.h: LINKTYPE_* (in files) to and from DLT_* (libpcap's
 * in-memory link types).
 *
 * Internal to src/source/. The two agree except for a few old values;
 * these helpers mirror libpcap's private linktype_to_dlt() and
 * dlt_to_linktype() for those on Linux. LINKTYPE 12 in a file is taken by
 * libpcap as DLT_RAW too, so DLT_RAW maps back to LINKTYPE_RAW (101).
 */
#ifndef NP_SOURCE_LINKTYPE_H
#define NP_SOURCE_LINKTYPE_H

#include <stdint.h>

#include <pcap/pcap.h>

static inline int np_linktype_to_dlt(uint16_t linktype)
{
    switch (linktype) {
    case 100:
        return DLT_ATM_RFC1483;
    case 101:
        return DLT_RAW;
    case 102:
        return DLT_SLIP_BSDOS;
    case 103:
        return DLT_PPP_BSDOS;
    case 106:
        return DLT_ATM_CLIP;
    default:
        return linktype;
    }
}

static inline uint16_t np_dlt_to_linktype(int dlt)
{
    switch (dlt) {
    case DLT_ATM_RFC1483:
        return 100;
    case DLT_RAW:
        return 101;
    case DLT_SLIP_BSDOS:
        return 102;
    case DLT_PPP_BSDOS:
        return 103;
    case DLT_ATM_CLIP:
        return 106;
    default:
        return (uint16_t)dlt;
    }
}

#endif
