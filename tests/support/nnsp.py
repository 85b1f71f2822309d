# SPDX-License-Identifier: BSD-3-Clause
"""nanomsg's wire protocol (SP over ipc://), enough for tests to poke at the
daemons' nanomsg sockets without a nanomsg binding: a raw REQ that can send
anything (garbage included), and a raw SUB that collects what a PUB sends.

  handshake  each side: 00 'S' 'P' 00, protocol (u16, big-endian), 00 00
  message    01, length (u64, big-endian), body; a REQ body starts with a
             4-byte request id (top bit set) that the REP's reply echoes

The bodies are frames of proto/rpc.h: HDR, then a protobuf payload, which
pb_fields() reads at the top level. (nanomsg's src/transports/ipc/sipc.c
and src/protocols/reqrep/req.c.)
"""
import socket
import struct
import time

SP_REQ, SP_REP, SP_PUB, SP_SUB = 48, 49, 32, 33


def sp_connect(path, proto, timeout=3.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(b"\x00SP\x00" + struct.pack(">H", proto) + b"\x00\x00")
    peer = _read(s, 8)
    if peer is None or peer[:4] != b"\x00SP\x00":
        raise RuntimeError("not an SP peer: %r" % peer)
    return s


def _read(s, n):
    data = b""
    while len(data) < n:
        try:
            c = s.recv(n - len(data))
        except (socket.timeout, ConnectionResetError):
            return None
        if not c:
            return None
        data += c
    return data


def sp_recv(s):
    hdr = _read(s, 9)
    if hdr is None:
        return None
    return _read(s, struct.unpack(">Q", hdr[1:])[0])


def sp_request(path, payload):
    """One REQ/REP exchange; the reply's payload, or None (connection closed)."""
    s = sp_connect(path, SP_REQ)
    body = struct.pack(">I", 0x80000001) + payload
    s.sendall(b"\x01" + struct.pack(">Q", len(body)) + body)
    r = sp_recv(s)
    s.close()
    return r[4:] if r else None


HDR = struct.Struct("<IBBHIIB3x")  # proto/rpc.h: magic ver flags type id len n_fds
MAGIC = 0x50524c53


def frame(type_, id_, payload, flags=0):
    return HDR.pack(MAGIC, 1, flags, type_, id_, len(payload), 0) + payload


def pb_fields(buf):
    """Top-level protobuf fields: {number: [values]} (varints and bytes)."""
    out, i = {}, 0

    def varint():
        nonlocal i
        v = shift = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7f) << shift
            shift += 7
            if b < 0x80:
                return v
    while i < len(buf):
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            val = varint()
        elif wt == 2:
            n = varint()
            val = buf[i:i + n]
            i += n
        elif wt == 1:
            val = buf[i:i + 8]
            i += 8
        elif wt == 5:
            val = buf[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(val)
    return out


def sub_collect(path, seconds, want_type):
    """Frames of want_type published at path within seconds: [(hdr, fields)]."""
    s = sp_connect(path, SP_SUB, timeout=0.2)
    got, t0 = [], time.time()
    while time.time() - t0 < seconds:
        m = sp_recv(s)
        if m is None or len(m) < HDR.size:
            continue
        h = HDR.unpack(m[:HDR.size])
        if h[0] == MAGIC and h[3] == want_type:
            got.append((h, pb_fields(m[HDR.size:])))
    s.close()
    return got
