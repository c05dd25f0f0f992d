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

  store ... [--ts UID]
      the same, proposing (and sending the data set in) transfer syntax UID
      instead of Implicit VR Little Endian; DATASET must already be in it.
  echo HOST PORT CALLED CALLING [SECONDS]
      associate (Verification), C-ECHO, release, all within SECONDS (default
      5).  Prints "status 0xXXXX in T s" (T: connect to C-ECHO-RSP), or why
      not ("failed after T s: ...", exit 3).
  mkdeep OUT LEVELS [--query] [--explicit] [--deflate]
         [--uids SOPCLASS,SOPINST,STUDY,SERIES]
      write a data set (no meta header) whose Referenced Image Sequence
      (0008,1140) nests LEVELS sequences deep, each sequence and item of
      undefined length: 32 bytes a level in implicit VR little endian, 36 in
      explicit.  With --uids: SOP Class/Instance, Study and Series Instance
      UIDs and a Patient ID around it (a C-STORE data set); with --query:
      Query/Retrieve Level STUDY and an empty Study Instance UID (a C-FIND
      identifier).  --deflate: raw deflate of the explicit VR bytes (for
      Deflated Explicit VR Little Endian).
  find HOST PORT CALLED CALLING DATASET [--pid PID]
      associate proposing Study Root Query/Retrieve FIND (implicit VR LE),
      send a C-FIND-RQ with the identifier in file DATASET, then report the
      outcome (see OUTCOMES).
  bigfind HOST PORT CALLED CALLING NBYTES [--pid PID]
      the same with an identifier of NBYTES bytes made up as it is sent (a
      Query/Retrieve Level and one Patient Comments value filling the rest),
      in P-DATA PDUs of the size the peer announced; sending stops as soon
      as the peer closes.  Prints "sent N of NBYTES bytes" and the outcome.
  pdatalen HOST PORT CALLED CALLING [MAXBYTES] [--pid PID]
      associate (Verification), then send a P-DATA-TF PDU header whose length
      field says 0xFFFFFFFF and stream zeros behind it (up to MAXBYTES,
      default 64 MiB) until the peer closes.  Prints "sent N bytes" and the
      outcome.
  afterrelease HOST PORT CALLED CALLING
      two associations: (a) Verification: A-RELEASE-RQ, then P-DATA PDUs
      with C-ECHO-RQ command fragments; (b) Computed Radiography storage: a
      C-STORE-RQ and the first data set fragment, then A-RELEASE-RQ, then
      more data set fragments.  Prints one line each: "a: ..." and "b: ..."
      with the PDUs the peer sent back and the outcome.
  badcmd HOST PORT CALLED CALLING VARIANT
      associate (Verification), send a C-ECHO-RQ command set that breaks a
      rule: VARIANT undef (an element of undefined length holding a nested
      item), group (an element of group 0008 among the group 0000 ones) or
      big (a 70,000-byte command set in several fragments); then report the
      outcome.
  halfrq HOST PORT N CLAIMED SENT READYFILE STOPFILE [SECONDS] [--spread]
      open N connections (with --spread, connection i from source address
      127.0.0.(2 + i), so that each comes from its own loopback "host");
      on each send the 6-byte header of an
      A-ASSOCIATE-RQ whose PDU length field says CLAIMED bytes, then only
      SENT bytes of the PDU body, then nothing.  Touches READYFILE when all are sent, waits
      until STOPFILE exists (at most SECONDS, default 60), then prints
      "K of N still open" and, if some were closed by the peer, after how
      long the first was.

OUTCOMES (find, bigfind, pdatalen, badcmd; within 15 s):
  "outcome closed" (the peer closed or reset the connection),
  "outcome aborted" (A-ABORT, then closed),
  "outcome response 0xXXXX" (a DIMSE response with that status),
  "outcome pdu 0xNN" (some other PDU), "outcome still open".
  With --pid PID, also "rss KB0 max KB1": the VmRSS of process PID before
  and at most during the exchange (sampled while sending and waiting).

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
    for key in ("--cmd-sop-inst", "--cmd-sop-class", "--ts"):
        if key in args:
            i = args.index(key)
            opts[key] = args[i + 1]
            del args[i:i + 2]
    host, port, called, calling, dsfile, sop_class, sop_inst = args[:7]
    with open(dsfile, "rb") as f:
        dataset = f.read()
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, sop_class, [opts.get("--ts", IMPLICIT_LE)])])
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


# ------------------------------------------------------------------------
# hostile peers (tests/e2e/hostile.sh)

STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"


def take_opt(args, key, default=None):
    """Remove "key value" from the list args; return value (or default)."""
    if key in args:
        i = args.index(key)
        v = args[i + 1]
        del args[i:i + 2]
        return v
    return default


def take_flag(args, key):
    if key in args:
        args.remove(key)
        return True
    return False


def rss_kb(pid):
    """VmRSS of pid in kB, or 0 when it cannot be read."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class RssWatch:
    """The VmRSS of a process before and at most during an exchange."""

    def __init__(self, pid):
        self.pid = int(pid) if pid else None
        self.first = self.max = rss_kb(self.pid) if self.pid else 0
        self.last = 0.0

    def sample(self, force=False):
        if self.pid is None:
            return
        now = time.time()
        if force or now - self.last >= 0.02:
            self.last = now
            self.max = max(self.max, rss_kb(self.pid))

    def report(self):
        if self.pid is not None:
            self.sample(True)
            print("rss %d max %d" % (self.first, self.max))


def command_bytes(field, sop_class, msgid=1, dataset=True, extra=()):
    """A command set: field (0x0001 C-STORE, 0x0020 C-FIND, 0x0030 C-ECHO)."""
    fields = [(0x0002, uidb(sop_class)),
              (0x0100, struct.pack("<H", field)),
              (0x0110, struct.pack("<H", msgid))]
    if field != 0x0030:
        fields.append((0x0700, struct.pack("<H", 0)))
    fields.append((0x0800, struct.pack("<H", 0x0000 if dataset else 0x0101)))
    fields.extend(extra)
    fields.sort()
    return command_set(fields)


def outcome(s, watch=None, timeout=15.0):
    """Wait for what the peer does next; print and return the outcome."""
    deadline = time.time() + timeout
    res = "still open"
    s.settimeout(0.05)
    buf = b""
    try:
        while time.time() < deadline:
            if watch:
                watch.sample()
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            if not d:
                res = "closed"
                break
            buf += d
            if len(buf) >= 6:
                ptype = buf[0]
                if ptype == 0x07:
                    res = "aborted"
                    break
                if ptype == 0x04:
                    (ln,) = struct.unpack(">I", buf[2:6])
                    if len(buf) >= 6 + ln:
                        st = get_status(buf[12:6 + ln])
                        res = "response 0x%04x" % st if st is not None \
                            else "pdu 0x04"
                        break
                else:
                    res = "pdu 0x%02x" % ptype
                    break
    except OSError:
        res = "closed"
    if watch:
        watch.sample(True)
    s.close()
    print("outcome %s" % res)
    return res


def cmd_echo(a):
    host, port, called, calling = a[:4]
    limit = float(a[4]) if len(a) > 4 else 5.0
    t0 = time.time()
    try:
        s = socket.create_connection((host, int(port)), timeout=limit)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(max(0.01, limit - (time.time() - t0)))
        s.sendall(assoc_rq(called, calling, [(1, VERIFICATION, [IMPLICIT_LE])]))
        ptype, body = read_pdu(s)
        if ptype != 0x02:
            raise EOFError("PDU type 0x%02x instead of A-ASSOCIATE-AC" % ptype)
        max_pdu, pcs = parse_ac(body)
        if pcs.get(1, (1,))[0] != 0:
            raise EOFError("Verification not accepted")
        s.settimeout(max(0.01, limit - (time.time() - t0)))
        send_message(s, 1, command_bytes(0x0030, VERIFICATION, dataset=False),
                     True, max_pdu)
        st = get_status(read_message(s))
        t = time.time() - t0
    except (OSError, EOFError) as e:
        print("failed after %.3f s: %s" % (time.time() - t0, e))
        return 3
    release(s)
    print("status 0x%04x in %.3f s" % (st if st is not None else 0xffff, t))
    return 0 if st == 0 else 3


def deep_bytes(levels, explicit):
    """LEVELS nested (0008,1140) sequences of undefined length."""
    if explicit:
        sq = struct.pack("<HH", 0x0008, 0x1140) + b"SQ\0\0" + b"\xff" * 4
    else:
        sq = struct.pack("<HHI", 0x0008, 0x1140, 0xFFFFFFFF)
    item = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    end = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + \
        struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return (sq + item) * levels + end * levels


def el(group, element, vr, value, explicit):
    if len(value) % 2:
        value += b"\0" if vr == "UI" else b" "
    if not explicit:
        return struct.pack("<HHI", group, element, len(value)) + value
    if vr in ("OB", "OW", "SQ", "UN", "UT", "UC", "UR"):
        return struct.pack("<HH", group, element) + vr.encode() + b"\0\0" + \
            struct.pack("<I", len(value)) + value
    return struct.pack("<HH", group, element) + vr.encode() + \
        struct.pack("<H", len(value)) + value


def cmd_mkdeep(a):
    args = list(a)
    uids = take_opt(args, "--uids")
    query = take_flag(args, "--query")
    explicit = take_flag(args, "--explicit")
    deflate = take_flag(args, "--deflate")
    out, levels = args[0], int(args[1])
    if deflate:
        explicit = True
    pre = post = b""
    if uids:
        cls, inst, study, series = uids.split(",")
        pre = el(0x0008, 0x0016, "UI", cls.encode(), explicit) + \
            el(0x0008, 0x0018, "UI", inst.encode(), explicit) + \
            el(0x0008, 0x0060, "CS", b"CR", explicit)
        post = el(0x0010, 0x0020, "LO", b"RS-HOSTILE", explicit) + \
            el(0x0020, 0x000D, "UI", study.encode(), explicit) + \
            el(0x0020, 0x000E, "UI", series.encode(), explicit)
    elif query:
        pre = el(0x0008, 0x0052, "CS", b"STUDY", explicit)
        post = el(0x0020, 0x000D, "UI", b"", explicit)
    data = pre + deep_bytes(levels, explicit) + post
    if deflate:
        import zlib
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = c.compress(data) + c.flush()
        if len(data) % 2:
            data += b"\0"
    with open(out, "wb") as f:
        f.write(data)
    print("wrote %d bytes" % len(data))
    return 0


def find_assoc(host, port, called, calling):
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, STUDY_ROOT_FIND, [IMPLICIT_LE])])
    if s is None:
        print(max_pdu)
        return None, 0
    if pcs.get(1, (1,))[0] != 0:
        print("presentation context not accepted: %r" % (pcs.get(1),))
        release(s)
        return None, 0
    return s, max_pdu


def cmd_find(a):
    args = list(a)
    watch = RssWatch(take_opt(args, "--pid"))
    host, port, called, calling, dsfile = args[:5]
    with open(dsfile, "rb") as f:
        ident = f.read()
    s, max_pdu = find_assoc(host, port, called, calling)
    if s is None:
        return 4
    try:
        send_message(s, 1, command_bytes(0x0020, STUDY_ROOT_FIND), True, max_pdu)
        send_message(s, 1, ident, False, max_pdu)
        print("sent a %d-byte identifier" % len(ident))
    except OSError as e:
        print("peer closed while sending: %s" % e)
    outcome(s, watch)
    watch.report()
    return 0


def cmd_bigfind(a):
    args = list(a)
    watch = RssWatch(take_opt(args, "--pid"))
    host, port, called, calling, total = args[:4] + [int(args[4])]
    s, max_pdu = find_assoc(host, port, called, calling)
    if s is None:
        return 4
    chunk = max(16, (max_pdu or 16384) - 6)
    head = el(0x0008, 0x0052, "CS", b"STUDY", False)
    head += struct.pack("<HHI", 0x0010, 0x4000, total - len(head) - 8)
    filler = b"A" * chunk
    sent = 0
    t0 = time.time()
    try:
        send_message(s, 1, command_bytes(0x0020, STUDY_ROOT_FIND), True, max_pdu)
        while sent < total:
            n = min(chunk, total - sent)
            part = (head + filler)[:n] if sent == 0 else filler[:n]
            s.sendall(pdata(1, False, sent + n >= total, part))
            sent += n
            watch.sample()
        print("sent %d of %d bytes in %.1f s" % (sent, total, time.time() - t0))
    except OSError as e:
        print("sent %d of %d bytes in %.1f s: the peer closed (%s)" %
              (sent, total, time.time() - t0, e.__class__.__name__))
    outcome(s, watch)
    watch.report()
    return 0


def cmd_pdatalen(a):
    args = list(a)
    watch = RssWatch(take_opt(args, "--pid"))
    host, port, called, calling = args[:4]
    limit = int(args[4]) if len(args) > 4 else 64 << 20
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, VERIFICATION, [IMPLICIT_LE])])
    if s is None:
        print(max_pdu)
        return 4
    zeros = b"\0" * 65536
    sent = 0
    try:
        s.sendall(struct.pack(">BBI", 0x04, 0, 0xFFFFFFFF) +
                  struct.pack(">IBB", 0xFFFFFFFF - 4, 1, 3))
        while sent < limit:
            s.sendall(zeros)
            sent += len(zeros)
            watch.sample()
        print("sent %d bytes after the header" % sent)
    except OSError as e:
        print("sent %d bytes after the header: the peer closed (%s)" %
              (sent, e.__class__.__name__))
    outcome(s, watch)
    watch.report()
    return 0


def pdu_trail(s, timeout):
    """Read until the peer closes (or timeout): "PDU types ..., closed"."""
    got = []
    deadline = time.time() + timeout
    t0 = time.time()
    s.settimeout(0.2)
    buf = b""
    end = "still open after %.0f s" % timeout
    while time.time() < deadline:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            end = "reset after %.1f s" % (time.time() - t0)
            break
        if not d:
            end = "closed after %.1f s" % (time.time() - t0)
            break
        buf += d
        while len(buf) >= 6:
            (ln,) = struct.unpack(">I", buf[2:6])
            if len(buf) < 6 + ln:
                break
            got.append("0x%02x" % buf[0])
            buf = buf[6 + ln:]
    s.close()
    return "got [%s], %s" % (" ".join(got), end)


def cmd_afterrelease(a):
    host, port, called, calling = a[:4]
    rel = struct.pack(">BBI", 0x05, 0, 4) + b"\0" * 4
    # (a) release, then a C-ECHO-RQ in fragments
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, VERIFICATION, [IMPLICIT_LE])])
    if s is None:
        print("a: %s" % max_pdu)
        return 4
    cmd = command_bytes(0x0030, VERIFICATION, dataset=False)
    try:
        s.sendall(rel)
        for i in range(0, len(cmd), 16):
            s.sendall(pdata(1, True, i + 16 >= len(cmd), cmd[i:i + 16]))
    except OSError as e:
        print("a: (send failed: %s)" % e.__class__.__name__)
    print("a: " + pdu_trail(s, 15))
    # (b) a C-STORE begun, release, more data set fragments
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, CR_STORAGE, [IMPLICIT_LE])])
    if s is None:
        print("b: %s" % max_pdu)
        return 4
    inst = "2.25.%d" % random.getrandbits(64)
    cmd = command_bytes(0x0001, CR_STORAGE,
                        extra=[(0x1000, uidb(inst))])
    ds = el(0x0008, 0x0016, "UI", CR_STORAGE.encode(), False) + \
        el(0x0008, 0x0018, "UI", inst.encode(), False)
    try:
        s.sendall(pdata(1, True, True, cmd))
        s.sendall(pdata(1, False, False, ds))
        s.sendall(rel)
        for _ in range(8):
            s.sendall(pdata(1, False, False, b"\0" * 1024))
        s.sendall(pdata(1, False, True, b"\0" * 16))
    except OSError as e:
        print("b: (send failed: %s)" % e.__class__.__name__)
    print("b: " + pdu_trail(s, 15))
    print("b: sop %s" % inst)
    return 0


def cmd_badcmd(a):
    host, port, called, calling, variant = a[:5]
    s, max_pdu, pcs = associate(host, port, called, calling,
                                [(1, VERIFICATION, [IMPLICIT_LE])])
    if s is None:
        print(max_pdu)
        return 4
    base = [(0x0002, uidb(VERIFICATION)), (0x0100, struct.pack("<H", 0x0030)),
            (0x0110, struct.pack("<H", 1)), (0x0800, struct.pack("<H", 0x0101))]
    if variant == "undef":
        # (0000,0900) of undefined length with an item inside, like a
        # sequence; group length counts the bytes actually there
        nested = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + \
            struct.pack("<HHI", 0x0000, 0x0900, 2) + b"\0\0" + \
            struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + \
            struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
        body = b"".join(elem(0, e, v) for e, v in base) + \
            struct.pack("<HHI", 0x0000, 0x0900, 0xFFFFFFFF) + nested
        cmd = elem(0, 0, struct.pack("<I", len(body))) + body
    elif variant == "group":
        body = b"".join(elem(0, e, v) for e, v in base) + \
            elem(0x0008, 0x0016, uidb(VERIFICATION))
        cmd = elem(0, 0, struct.pack("<I", len(body))) + body
    elif variant == "big":
        cmd = command_set(base + [(0x0902, b"x" * 70000)])
    else:
        sys.stderr.write("badcmd: unknown variant %s\n" % variant)
        return 2
    try:
        send_message(s, 1, cmd, True, min(max_pdu or 16384, 16384))
    except OSError as e:
        print("peer closed while sending: %s" % e.__class__.__name__)
    outcome(s)
    return 0


def cmd_halfrq(a):
    a = list(a)
    spread = take_flag(a, "--spread")
    host, port = a[0], a[1]
    n, claimed, sent = int(a[2]), int(a[3]), int(a[4])
    ready, stop = a[5], a[6]
    secs = float(a[7]) if len(a) > 7 else 60.0
    body = assoc_rq("RADSCRIBE", "HALFRQ", [(1, VERIFICATION, [IMPLICIT_LE])])[6:]
    # a user information item that goes on and on
    body += struct.pack(">BBH", 0x50, 0, 0xFFFF)
    body += b"\0" * max(0, sent - len(body))
    data = struct.pack(">BBI", 0x01, 0, claimed) + body[:sent]
    socks = []
    for i in range(n):
        src = ("127.0.0.%d" % (2 + i), 0) if spread else None
        s = socket.create_connection((host, int(port)), timeout=10,
                                     source_address=src)
        s.sendall(data)
        socks.append(s)
    t0 = time.time()
    open(ready, "w").close()
    closed_at = {}
    for s in socks:
        s.setblocking(False)
    while time.time() - t0 < secs and not os.path.exists(stop):
        for i, s in enumerate(socks):
            if i in closed_at:
                continue
            try:
                if not s.recv(4096):
                    closed_at[i] = time.time() - t0
            except BlockingIOError:
                pass
            except OSError:
                closed_at[i] = time.time() - t0
        time.sleep(0.05)
    for s in socks:
        s.close()
    msg = "%d of %d still open" % (n - len(closed_at), n)
    if closed_at:
        msg += " (the first closed by the peer %.1f s after all were sent)" % \
            min(closed_at.values())
    print(msg)
    return 0


def main(argv):
    cmds = {"garbage": (cmd_garbage, 2), "hugepdu": (cmd_hugepdu, 2),
            "badrq": (cmd_badrq, 2), "bigpdata": (cmd_bigpdata, 4),
            "hold": (cmd_hold, 5), "store": (cmd_store, 7),
            "propose": (cmd_propose, 6), "idle": (cmd_idle, 3),
            "echo": (cmd_echo, 4), "mkdeep": (cmd_mkdeep, 2),
            "find": (cmd_find, 5), "bigfind": (cmd_bigfind, 5),
            "pdatalen": (cmd_pdatalen, 4),
            "afterrelease": (cmd_afterrelease, 4),
            "badcmd": (cmd_badcmd, 5), "halfrq": (cmd_halfrq, 7)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 < cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]][0](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
