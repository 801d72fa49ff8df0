"""A small, independent reader of capture files for the corpus tests.

Reads classic pcap (both byte orders, microsecond and nanosecond magic) and
pcapng (Section Header, Interface Description, Enhanced, Simple and obsolete
Packet blocks; per-interface if_tsresol and if_tsoffset; several sections),
going by the magic number, never by the file name. It is written from the
file-format specifications only (libpcap's pcap-savefile(5) and the pcapng
draft), not from netpeek's code, so that a test can check netpeek's output
files with it.

    cap = capfile.read(path)
    cap.format          'pcap' or 'pcapng'
    cap.records         [Record, ...] in file order (frame number = index + 1)
    cap.interfaces      [Interface, ...] (pcapng: over all sections; pcap: one)

A Record's timestamp is exact: `ts_units` ticks of 1/`ts_res` seconds since
the epoch (pcapng if_tsoffset already added), so `ts` (a Fraction of
seconds) and `ts_ns` (integer nanoseconds, when the resolution allows it
exactly) lose nothing.
"""
import hashlib
import struct
from fractions import Fraction

PCAP_MAGICS = {
    # magic as read little-endian -> (byte order, ticks per second)
    0xA1B2C3D4: ("<", 10**6),
    0xA1B23C4D: ("<", 10**9),
    0xD4C3B2A1: (">", 10**6),
    0x4D3CB2A1: (">", 10**9),
}
SHB = 0x0A0D0D0A
BYTE_ORDER_MAGIC = 0x1A2B3C4D


class CaptureError(Exception):
    """The file is not a capture this reader understands, or is damaged."""


class Interface:
    __slots__ = ("linktype", "snaplen", "ts_res", "ts_offset", "section")

    def __init__(self, linktype, snaplen, ts_res, ts_offset=0, section=0):
        self.linktype = linktype      # link-layer header type (LINKTYPE_*)
        self.snaplen = snaplen
        self.ts_res = ts_res          # ticks per second (10**6, 10**9, 2**n ...)
        self.ts_offset = ts_offset    # seconds added to every timestamp
        self.section = section

    def __repr__(self):
        return f"Interface(linktype={self.linktype}, snaplen={self.snaplen}, ts_res={self.ts_res})"


class Record:
    __slots__ = ("ts_units", "ts_res", "caplen", "wirelen", "data", "interface", "linktype")

    def __init__(self, ts_units, ts_res, caplen, wirelen, data, interface, linktype):
        self.ts_units = ts_units      # timestamp in ticks of 1/ts_res s (offset included)
        self.ts_res = ts_res
        self.caplen = caplen
        self.wirelen = wirelen
        self.data = data              # the captured bytes (len == caplen)
        self.interface = interface    # index into Capture.interfaces
        self.linktype = linktype

    @property
    def ts(self):
        """Exact timestamp in seconds since the epoch."""
        return Fraction(self.ts_units, self.ts_res)

    @property
    def ts_ns(self):
        """Timestamp in integer nanoseconds (floor if the resolution is finer)."""
        return (self.ts_units * 10**9) // self.ts_res

    def sha256(self):
        return hashlib.sha256(self.data).hexdigest()

    def key(self, res=None):
        """(timestamp, caplen, wirelen, linktype, sha256) for comparisons; the
        timestamp is truncated to `res` ticks per second when given."""
        ts = self.ts if res is None else truncate(self.ts, res)
        return (ts, self.caplen, self.wirelen, self.linktype, self.sha256())


class Capture:
    def __init__(self, fmt):
        self.format = fmt             # 'pcap' or 'pcapng'
        self.interfaces = []
        self.records = []
        self.pcap_res = None          # pcap: ticks per second of the file's magic
        self.byte_order = None        # pcap: '<' or '>'; pcapng: of the first section

    def linktypes(self):
        """Link types of the interfaces (all declared ones)."""
        return sorted({i.linktype for i in self.interfaces})

    def used_linktypes(self):
        """Link types of the interfaces that carry at least one record."""
        return sorted({r.linktype for r in self.records})


def truncate(ts, res):
    """A Fraction timestamp truncated (towards minus infinity) to 1/res s."""
    return Fraction((ts.numerator * res) // ts.denominator, res)


def read(path):
    with open(path, "rb") as f:
        buf = f.read()
    return parse(buf)


def parse(buf):
    if len(buf) < 4:
        raise CaptureError("file shorter than a magic number")
    magic = struct.unpack_from("<I", buf, 0)[0]
    if magic in PCAP_MAGICS:
        return _parse_pcap(buf, *PCAP_MAGICS[magic])
    if magic == SHB:
        return _parse_pcapng(buf)
    raise CaptureError(f"unknown magic 0x{magic:08x}")


def _parse_pcap(buf, bo, res):
    if len(buf) < 24:
        raise CaptureError("pcap file header cut short")
    _magic, _vmaj, _vmin, _zone, _sigfigs, snaplen, linktype = struct.unpack_from(
        bo + "IHHiIII", buf, 0)
    cap = Capture("pcap")
    cap.pcap_res = res
    cap.byte_order = bo
    cap.interfaces.append(Interface(linktype, snaplen, res))
    off = 24
    hdr = struct.Struct(bo + "IIII")
    while off < len(buf):
        if off + 16 > len(buf):
            raise CaptureError(f"record header cut short at offset {off}")
        sec, frac, caplen, wirelen = hdr.unpack_from(buf, off)
        off += 16
        if off + caplen > len(buf):
            raise CaptureError(f"record at offset {off - 16} claims {caplen} bytes past the end")
        cap.records.append(Record(sec * res + frac, res, caplen, wirelen,
                                  buf[off:off + caplen], 0, linktype))
        off += caplen
    return cap


def _options(body, bo):
    """(code, value) pairs of a pcapng option list."""
    off = 0
    while off + 4 <= len(body):
        code, length = struct.unpack_from(bo + "HH", body, off)
        off += 4
        if code == 0:
            return
        yield code, body[off:off + length]
        off += (length + 3) & ~3


def _tsresol(v):
    if v & 0x80:
        return 2 ** (v & 0x7F)
    return 10 ** v


def _parse_pcapng(buf):
    cap = Capture("pcapng")
    off = 0
    bo = None
    section = -1
    ifaces = []                       # this section's interfaces: global indexes
    while off < len(buf):
        if off + 12 > len(buf):
            raise CaptureError(f"block header cut short at offset {off}")
        btype_le = struct.unpack_from("<I", buf, off)[0]
        if btype_le == SHB:
            bom = buf[off + 8:off + 12]
            if bom == struct.pack("<I", BYTE_ORDER_MAGIC):
                bo = "<"
            elif bom == struct.pack(">I", BYTE_ORDER_MAGIC):
                bo = ">"
            else:
                raise CaptureError(f"bad byte-order magic at offset {off}")
            if cap.byte_order is None:
                cap.byte_order = bo
            section += 1
            ifaces = []
        elif bo is None:
            raise CaptureError("pcapng file does not start with a section header")
        btype, blen = struct.unpack_from(bo + "II", buf, off)
        if blen < 12 or blen % 4 or off + blen > len(buf):
            raise CaptureError(f"block at offset {off} has bad length {blen}")
        (trail,) = struct.unpack_from(bo + "I", buf, off + blen - 4)
        if trail != blen:
            raise CaptureError(f"block at offset {off}: trailing length {trail} != {blen}")
        body = buf[off + 8:off + blen - 4]
        if btype == 1:                                   # Interface Description
            linktype, _res, snaplen = struct.unpack_from(bo + "HHI", body, 0)
            res, tsoff = 10**6, 0
            for code, val in _options(body[8:], bo):
                if code == 9 and len(val) >= 1:          # if_tsresol
                    res = _tsresol(val[0])
                elif code == 14 and len(val) >= 8:       # if_tsoffset
                    (tsoff,) = struct.unpack_from(bo + "q", val, 0)
            ifaces.append(len(cap.interfaces))
            cap.interfaces.append(Interface(linktype, snaplen, res, tsoff, section))
        elif btype in (6, 2):                            # Enhanced / obsolete Packet
            if btype == 6:
                iid, hi, lo, caplen, wirelen = struct.unpack_from(bo + "IIIII", body, 0)
            else:
                iid, _drops, hi, lo, caplen, wirelen = struct.unpack_from(bo + "HHIIII", body, 0)
            if iid >= len(ifaces):
                raise CaptureError(f"packet block at offset {off} names interface {iid}")
            if 20 + caplen > len(body):
                raise CaptureError(f"packet block at offset {off} claims {caplen} bytes")
            g = ifaces[iid]
            it = cap.interfaces[g]
            units = ((hi << 32) | lo) + it.ts_offset * it.ts_res
            cap.records.append(Record(units, it.ts_res, caplen, wirelen,
                                      body[20:20 + caplen], g, it.linktype))
        elif btype == 3:                                 # Simple Packet
            if not ifaces:
                raise CaptureError(f"simple packet block at offset {off} before any interface")
            it = cap.interfaces[ifaces[0]]
            (wirelen,) = struct.unpack_from(bo + "I", body, 0)
            caplen = wirelen if it.snaplen == 0 else min(wirelen, it.snaplen)
            caplen = min(caplen, len(body) - 4)
            # A simple packet has no timestamp.
            cap.records.append(Record(0, it.ts_res, caplen, wirelen,
                                      body[4:4 + caplen], ifaces[0], it.linktype))
        off += blen
    return cap
