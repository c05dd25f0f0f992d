#!/usr/bin/python3
"""Minimal raw DICOM upper-layer client for radscribe negative tests.

Standard library only.  It speaks just enough of PS3.8 to open an
association, send hand-made C-STORE requests (including forged ones) and send
malformed PDUs.  Sub-commands (HOST PORT first):

  garbage HOST PORT [NBYTES]
      connect, send NBYTES random bytes, close.
  hugepdu HOST PORT
      send an A-ASSOCIATE-RQ header whose length field says 0xFFFFFFF0 and then
      a little data, close.
  badrq HOST PORT
      send A-ASSOCIATE-RQ PDUs with corrupt item lengths (one per connection).
  bigpdata HOST PORT CALLED CALLING
      associate (Verification), then send a P-DATA-TF PDU longer than the
      max PDU length the peer announced; report what the peer did.
  hold HOST PORT CALLED CALLING SECONDS [READYFILE]
      associate (Verification) and keep the association open for SECONDS,
      then release.  Prints "accepted" or "rejected R S REASON"; touches
      READYFILE once the association is accepted (or rejected).
  propose HOST PORT CALLED CALLING ABSTRACT TS[,TS...]
      associate proposing one presentation context; prints
      "result N ts UID" (N: 0 acceptance, 3 abstract syntax not supported,
      4 transfer syntaxes not supported, ...) or "rejected R S REASON".
  idle HOST PORT SECONDS
      connect and send nothing; prints "closed after T s" when the peer
      closes the connection, or "still open after SECONDS s".
  store HOST PORT CALLED CALLING DATASET SOPCLASS SOPINST [--cmd-sop-inst UID]
        [--cmd-sop-class UID]
      associate proposing SOPCLASS with Implicit VR Little Endian and send the
      raw dataset bytes in file DATASET (implicit VR LE, no meta header), with
      a command whose Affected SOP Class/Instance UID are SOPCLASS/SOPINST
      unless overridden.  Prints "status 0xXXXX" (the C-STORE-RSP status).

Exit status: 0 when the exchange went as far as it could, 2 on usage errors,
3 when the peer closed or aborted unexpectedly, 4 on A-ASSOCIATE-RJ (for
store/hold).
"""
import os
import random
import socket
import struct
import sys
import time

APP_CTX = b"1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
IMPL_CLASS = b"1.2.826.0.1.3680043.8.498.1"


def ae(s):
    b = s.encode("ascii")[:16]
    return b + b" " * (16 - len(b))


def uidb(u):
    b = u.encode("ascii") if isinstance(u, str) else u
    if len(b) % 2:
        b += b"\0"
    return b


def item(itype, payload):
    return struct.pack(">BBH", itype, 0, len(payload)) + payload


def assoc_rq(called, calling, contexts, max_pdu=16384):
    """contexts: list of (pcid, abstract_uid, [ts_uids])."""
    body = struct.pack(">HH", 1, 0) + ae(called) + ae(calling) + b"\0" * 32
    body += item(0x10, APP_CTX)
    for pcid, abstract, tss in contexts:
        sub = item(0x30, abstract.encode())
        for ts in tss:
            sub += item(0x40, ts.encode())
        body += item(0x20, struct.pack(">BBBB", pcid, 0, 0, 0) + sub)
    ui = item(0x51, struct.pack(">I", max_pdu)) + item(0x52, IMPL_CLASS)
    body += item(0x50, ui)
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_pdu(sock):
    hdr = recv_exact(sock, 6)
    ptype, _r, length = struct.unpack(">BBI", hdr)
    return ptype, recv_exact(sock, length)


def parse_ac(body):
    """Return (max_pdu, {pcid: (result, ts)})."""
    pos = 68
    max_pdu = 0
    pcs = {}
    while pos + 4 <= len(body):
        itype, _r, ilen = struct.unpack(">BBH", body[pos:pos + 4])
        payload = body[pos + 4:pos + 4 + ilen]
        pos += 4 + ilen
        if itype == 0x21:
            pcid, _r1, result, _r2 = struct.unpack(">BBBB", payload[:4])
            ts = None
            if len(payload) > 8:
                ts = payload[8:].rstrip(b"\0 ").decode()
            pcs[pcid] = (result, ts)
        elif itype == 0x50:
            p = 0
            while p + 4 <= len(payload):
                st, _r, sl = struct.unpack(">BBH", payload[p:p + 4])
                if st == 0x51:
                    (max_pdu,) = struct.unpack(">I", payload[p + 4:p + 8])
                p += 4 + sl
    return max_pdu, pcs


def connect(host, port, timeout=30):
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def associate(host, port, called, calling, contexts):
    s = connect(host, port)
    s.sendall(assoc_rq(called, calling, contexts))
    ptype, body = read_pdu(s)
    if ptype == 0x03:
        _r, result, source, reason = struct.unpack(">BBBB", body[:4])
        s.close()
        return None, ("rejected %d %d %d" % (result, source, reason)), None
    if ptype != 0x02:
        s.close()
        return None, "unexpected PDU type 0x%02x" % ptype, None
    max_pdu, pcs = parse_ac(body)
    return s, max_pdu, pcs


def elem(group, element, value):
    return struct.pack("<HHI", group, element, len(value)) + value


def command_set(fields):
    """fields: list of (element, bytes) for group 0000, sorted."""
    body = b"".join(elem(0, e, v) for e, v in fields)
    return elem(0, 0, struct.pack("<I", len(body))) + body


def pdata(pcid, is_command, last, payload):
    mch = (1 if is_command else 0) | (2 if last else 0)
    pdv = struct.pack(">IBB", len(payload) + 2, pcid, mch) + payload
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


def send_message(s, pcid, data, is_command, max_pdu):
    # a P-DATA PDU of max_pdu bytes holds a PDV of max_pdu - 6 bytes
    # (4 length + 2 header), so at most max_pdu - 6 bytes of data
    chunk = max(16, (max_pdu or 16384) - 6)
    if not data:
        s.sendall(pdata(pcid, is_command, True, b""))
        return
    for off in range(0, len(data), chunk):
        part = data[off:off + chunk]
        s.sendall(pdata(pcid, is_command, off + chunk >= len(data), part))


def read_message(s):
    """Read one complete command (and ignore any data). Returns bytes."""
    cmd = b""
    while True:
        ptype, body = read_pdu(s)
        if ptype != 0x04:
            raise EOFError("got PDU type 0x%02x instead of P-DATA" % ptype)
        pos = 0
        while pos < len(body):
            (ilen,) = struct.unpack(">I", body[pos:pos + 4])
            mch = body[pos + 5]
            val = body[pos + 6:pos + 4 + ilen]
            pos += 4 + ilen
            if mch & 1:
                cmd += val
                if mch & 2:
                    return cmd


def get_status(cmd):
    pos = 0
    while pos + 8 <= len(cmd):
        g, e, ln = struct.unpack("<HHI", cmd[pos:pos + 8])
        if g == 0 and e == 0x0900:
            return struct.unpack("<H", cmd[pos + 8:pos + 10])[0]
        pos += 8 + ln
    return None


def release(s):
    try:
        s.sendall(struct.pack(">BBI", 0x05, 0, 4) + b"\0" * 4)
        read_pdu(s)
    except (OSError, EOFError):
        pass
    s.close()


def cmd_garbage(a):
    host, port = a[0], a[1]
    n = int(a[2]) if len(a) > 2 else 4096
    rnd = random.Random(int(os.environ.get("SEED", "1234")))
    data = bytes(rnd.getrandbits(8) for _ in range(n))
    s = connect(host, port, timeout=10)
    try:
        s.sendall(data)
        s.settimeout(5)
        s.recv(1024)
    except OSError:
        pass
    s.close()
    print("sent %d random bytes" % n)
    return 0


def cmd_hugepdu(a):
    s = connect(a[0], a[1], timeout=10)
    try:
        s.sendall(struct.pack(">BBI", 0x01, 0, 0xFFFFFFF0) +
                  struct.pack(">HH", 1, 0) + ae("RADSCRIBE") + ae("HUGE") +
                  b"\0" * 32 + b"x" * 1000)
        s.settimeout(5)
        s.recv(1024)
    except OSError:
        pass
    s.close()
    print("sent A-ASSOCIATE-RQ with length 0xFFFFFFF0")
    return 0


def cmd_badrq(a):
    host, port = a[0], a[1]
    good = assoc_rq("RADSCRIBE", "BADRQ", [(1, VERIFICATION, [IMPLICIT_LE])])
    variants = []
    # item length pointing past the end of the PDU
    b = bytearray(good)
    b[6 + 68 + 2:6 + 68 + 4] = struct.pack(">H", 0xFFFF)
    variants.append(bytes(b))
    # PDU length shorter than the fixed header
    variants.append(struct.pack(">BBI", 0x01, 0, 10) + good[6:16])
    # unknown PDU type
    variants.append(struct.pack(">BBI", 0x42, 0, 8) + b"\0" * 8)
    # presentation context item with zero length
    b = bytearray(good[:6 + 68 + 4 + len(APP_CTX)])
    b += item(0x20, b"")
    b[2:6] = struct.pack(">I", len(b) - 6)
    variants.append(bytes(b))
    # P-DATA before any association
    variants.append(pdata(1, True, True, b"\0" * 32))
    for v in variants:
        s = connect(host, port, timeout=10)
        try:
            s.sendall(v)
            s.settimeout(5)
            s.recv(1024)
        except OSError:
            pass
        s.close()
    print("sent %d malformed A-ASSOCIATE-RQ PDUs" % len(variants))
    return 0


def cmd_bigpdata(a):
    host, port, called, calling = a[:4]
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, VERIFICATION, [IMPLICIT_LE])])
    if s is None:
        print(max_pdu)
        return 4
    size = (max_pdu or 16384) * 4 + 1000
    print("peer max PDU %d, sending a P-DATA PDU of %d bytes" % (max_pdu, size))
    try:
        s.sendall(pdata(1, True, True, b"\0" * (size - 12)))
        s.settimeout(10)
        ptype, _ = read_pdu(s)
        print("peer answered PDU type 0x%02x" % ptype)
    except (OSError, EOFError) as e:
        print("peer closed: %s" % e)
    s.close()
    return 0


def cmd_hold(a):
    host, port, called, calling, secs = a[:5]
    ready = a[5] if len(a) > 5 else None
    s, info, pcs = associate(host, port, called, calling,
                             [(1, VERIFICATION, [IMPLICIT_LE])])
    if s is None:
        print(info)
        sys.stdout.flush()
        if ready:
            open(ready, "w").close()
        return 4
    print("accepted")
    sys.stdout.flush()
    if ready:
        open(ready, "w").close()
    deadline = time.time() + float(secs)
    s.settimeout(0.5)
    while time.time() < deadline:
        try:
            d = s.recv(1024)
            if not d:
                print("peer closed")
                return 3
        except socket.timeout:
            pass
    release(s)
    return 0


def cmd_propose(a):
    host, port, called, calling, abstract, tss = a[:6]
    s, info, pcs = associate(host, port, called, calling,
                             [(1, abstract, tss.split(","))])
    if s is None:
        print(info)
        return 4
    result, ts = pcs.get(1, (None, None))
    print("result %s ts %s" % (result, ts))
    release(s)
    return 0


def cmd_idle(a):
    host, port, secs = a[0], a[1], float(a[2])
    s = connect(host, port)
    t0 = time.time()
    s.settimeout(0.5)
    while time.time() - t0 < secs:
        try:
            d = s.recv(1024)
            if not d:
                print("closed after %.1f s" % (time.time() - t0))
                return 0
        except socket.timeout:
            pass
        except OSError:
            print("closed after %.1f s" % (time.time() - t0))
            return 0
    print("still open after %.1f s" % secs)
    s.close()
    return 0


def cmd_store(a):
    args = list(a)
    opts = {}
    for key in ("--cmd-sop-inst", "--cmd-sop-class"):
        if key in args:
            i = args.index(key)
            opts[key] = args[i + 1]
            del args[i:i + 2]
    host, port, called, calling, dsfile, sop_class, sop_inst = args[:7]
    with open(dsfile, "rb") as f:
        dataset = f.read()
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, sop_class, [IMPLICIT_LE])])
    if s is None:
        print(max_pdu)
        return 4
    if pcs.get(1, (1,))[0] != 0:
        print("presentation context not accepted: %r" % (pcs.get(1),))
        release(s)
        return 4
    cmd = command_set([
        (0x0002, uidb(opts.get("--cmd-sop-class", sop_class))),
        (0x0100, struct.pack("<H", 0x0001)),
        (0x0110, struct.pack("<H", 1)),
        (0x0700, struct.pack("<H", 0)),
        (0x0800, struct.pack("<H", 0x0000)),
        (0x1000, uidb(opts.get("--cmd-sop-inst", sop_inst))),
    ])
    try:
        send_message(s, 1, cmd, True, max_pdu)
        send_message(s, 1, dataset, False, max_pdu)
        rsp = read_message(s)
    except (OSError, EOFError) as e:
        print("peer closed: %s" % e)
        s.close()
        return 3
    st = get_status(rsp)
    print("status 0x%04x" % st if st is not None else "status none")
    release(s)
    return 0


def main(argv):
    cmds = {"garbage": (cmd_garbage, 2), "hugepdu": (cmd_hugepdu, 2),
            "badrq": (cmd_badrq, 2), "bigpdata": (cmd_bigpdata, 4),
            "hold": (cmd_hold, 5), "store": (cmd_store, 7),
            "propose": (cmd_propose, 6), "idle": (cmd_idle, 3)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 < cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]][0](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
