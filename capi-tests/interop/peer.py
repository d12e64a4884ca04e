#!/usr/bin/python3
"""Interop peer on Debian's libzmq (python3-zmq); the twin of peer.c, which runs on OUR library.

    peer.py ROLE TYPE ENDPOINT SCENARIO      (same arguments and protocol as peer.c; see there)
"""
import os
import sys
import threading
import time

import zmq
import zmq.utils.z85

BIG = bytearray(i % 251 for i in range(1024 * 1024))
BIG[0:5] = b"topic"
BIG = bytes(BIG)

ECHO = [[b""], [b"a"], [b"one", b"two", b"three"], [BIG]]
PUBM = [[b"topic"], [b"topic.multi", b"two", b"three"], [BIG]]
FILTERED = [[b""], [b"x"], [b"other"]]
SYNC = [b"topic.sync"]
END = [b"topic.end"]


def fail(what):
    sys.stderr.write("peer.py: %s\n" % what)
    sys.exit(1)


def expect(s, want, what):
    try:
        got = s.recv_multipart()
    except zmq.Again:
        fail("timed out (EAGAIN) waiting for %s" % what)
    if got != want:
        fail("unexpected message for %s: %d parts, sizes %s" % (what, len(got), [len(p) for p in got]))


def curve_keys(wrong=False):
    """The curve scenario's keys (as peer.c makes them): Z85 secret and public keys; `wrong`:
    the client's are another pair."""
    ss = zmq.utils.z85.encode(bytes(range(1, 33)))
    cs = zmq.utils.z85.encode(bytes(range(201, 233) if wrong else range(101, 133)))
    return ss, zmq.curve_public(ss), cs, zmq.curve_public(cs)


def zap_handler(h, stop):
    """The plain and curve scenarios' ZAP handler (RFC 27): admin/password, or the curve
    client's public key, gets 200; anyone else 400."""
    client_key = zmq.utils.z85.decode(curve_keys()[3])
    while not stop.is_set():
        try:
            f = h.recv_multipart()
        except zmq.Again:
            continue
        ok = (len(f) == 8 and f[5] == b"PLAIN" and f[6:] == [b"admin", b"password"]) or (
            len(f) == 7 and f[5] == b"CURVE" and f[6] == client_key
        )
        h.send_multipart([b"1.0", f[1], b"200" if ok else b"400", b"", b"admin" if ok else b"", b""])
    h.close()


def main():
    if len(sys.argv) != 5:
        fail("usage: peer.py bind|connect TYPE ENDPOINT SCENARIO (see the top of peer.c)")
    role, tname, ep, scenario = sys.argv[1:]
    bind = role == "bind"
    stype = getattr(zmq, tname)
    hb = scenario in ("heartbeat", "curve-heartbeat")
    curve = scenario.startswith("curve")
    plain = scenario.startswith("plain") or curve
    nozap = "-nozap" in scenario
    wrong = "-wrong" in scenario
    refused = wrong or (plain and not curve and nozap)
    if not hb and not plain and scenario != "basic":
        fail("unknown scenario")

    ctx = zmq.Context()
    zap = None
    if plain and bind and not nozap:
        h = ctx.socket(zmq.REP)
        h.setsockopt(zmq.RCVTIMEO, 50)
        h.setsockopt(zmq.LINGER, 0)
        h.bind("inproc://zeromq.zap.01")
        stop = threading.Event()
        zap = (threading.Thread(target=zap_handler, args=(h, stop)), stop)
        zap[0].start()
    s = ctx.socket(stype)
    if curve:
        ss, sp, cs, cp = curve_keys(wrong)
        if bind:
            s.setsockopt(zmq.CURVE_SERVER, 1)
            s.setsockopt(zmq.CURVE_SECRETKEY, ss)
        else:
            s.setsockopt(zmq.CURVE_SERVERKEY, sp)
            s.setsockopt(zmq.CURVE_PUBLICKEY, cp)
            s.setsockopt(zmq.CURVE_SECRETKEY, cs)
    elif plain and bind:
        s.setsockopt(zmq.PLAIN_SERVER, 1)
    elif plain:
        s.setsockopt(zmq.PLAIN_USERNAME, b"admin")
        s.setsockopt(zmq.PLAIN_PASSWORD, b"wrong" if wrong else b"password")
    s.setsockopt(zmq.RCVTIMEO, 5000)
    s.setsockopt(zmq.SNDTIMEO, 5000)
    s.setsockopt(zmq.LINGER, 5000)
    mon = None
    if refused:
        mon = s.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_AUTH
        )
    if hb:
        s.setsockopt(zmq.HEARTBEAT_IVL, 100)
        mon = s.get_monitor_socket(zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECTED | zmq.EVENT_ACCEPTED)
    if stype == zmq.DEALER:
        s.setsockopt(zmq.ROUTING_ID, b"dealer-id")
    if stype == zmq.SUB:
        s.setsockopt(zmq.SUBSCRIBE, b"topic")

    if bind:
        s.bind(ep)
        print(s.getsockopt(zmq.LAST_ENDPOINT).decode(), flush=True)
    else:
        s.connect(ep)

    try:
        if refused:
            run_refused(s, stype, mon)
        else:
            run(s, stype, bind, hb, mon)
    except zmq.Again:
        fail("timed out (EAGAIN)")

    if mon is not None:
        s.disable_monitor()
        mon.close()
    s.close()
    if zap is not None:
        zap[1].set()
        zap[0].join()
    ctx.term()


def run_refused(s, stype, mon):
    """A refused client: no message gets through, and both sides see the failure."""
    if stype == zmq.PUSH:
        s.send(b"a")
    elif stype == zmq.PULL:
        s.setsockopt(zmq.RCVTIMEO, 1500)
        try:
            s.recv()
            fail("a refused client got a message through")
        except zmq.Again:
            pass
    else:
        fail("refused scenarios are PUSH to PULL")
    if not mon.poll(3000):
        fail("no HANDSHAKE_FAILED event for a refused client")
    s.setsockopt(zmq.LINGER, 0)


def check_monitor(s, mon):
    """After the idle period, before the last message (the peer may close right after it):
    the heartbeats must have kept the one connection: no disconnect, exactly one connect."""
    events = []
    while mon.poll(0):
        ev = mon.recv_multipart()
        events.append(int.from_bytes(ev[0][:2], "little"))
    if zmq.EVENT_DISCONNECTED in events:
        fail("heartbeat: the connection dropped while idle (monitor events %s)" % events)
    ups = [e for e in events if e in (zmq.EVENT_CONNECTED, zmq.EVENT_ACCEPTED)]
    if len(ups) != 1:
        fail("heartbeat: expected one connection, monitor events %s" % events)


def run(s, stype, bind, hb, mon):
    if hb:
        if stype != zmq.PAIR:
            fail("heartbeat scenario is PAIR only")
        for i, m in enumerate([[b"hb1"], [b"hb2"]]):
            if not bind:
                if i:
                    time.sleep(0.5)
                    check_monitor(s, mon)
                s.send_multipart(m)
                expect(s, m, "heartbeat echo")
            else:
                expect(s, m, "heartbeat")
                if i:
                    check_monitor(s, mon)
                s.send_multipart(m)
    elif (stype == zmq.PAIR and not bind) or stype in (zmq.REQ, zmq.DEALER):
        for m in ECHO:
            s.send_multipart(m)
            expect(s, m, "echo reply")
    elif stype in (zmq.PAIR, zmq.REP):
        for m in ECHO:
            expect(s, m, "echo request")
            s.send_multipart(m)
    elif stype == zmq.ROUTER:
        for m in ECHO:
            got = s.recv_multipart()
            if got[0] != b"dealer-id":
                fail("ROUTER: first frame is %r, not the dealer's routing id" % got[0][:32])
            if got[1:] != m:
                fail("ROUTER: unexpected body")
            s.send_multipart(got)
    elif stype == zmq.PUSH:
        for m in ECHO:
            s.send_multipart(m)
    elif stype == zmq.PULL:
        for i, m in enumerate(ECHO):
            expect(s, m, "PULL message %d" % i)
    elif stype in (zmq.PUB, zmq.XPUB):
        if stype == zmq.PUB:
            f = os.environ.get("INTEROP_SYNC") or fail("PUB needs INTEROP_SYNC")
            deadline = time.monotonic() + 10
            while not os.path.exists(f):
                if time.monotonic() > deadline:
                    fail("PUB: the subscriber never got a message")
                s.send_multipart(SYNC)
                time.sleep(0.02)
        else:
            expect(s, [b"\x01topic"], "XPUB subscription")
        for i in range(3):
            s.send_multipart(FILTERED[i])
            s.send_multipart(PUBM[i])
        s.send_multipart(END)
    elif stype in (zmq.SUB, zmq.XSUB):
        if stype == zmq.XSUB:
            s.send(b"\x01topic")
        got_sync = False
        while True:
            got = s.recv_multipart()
            if got != SYNC:
                break
            if not got_sync and stype == zmq.SUB:
                f = os.environ.get("INTEROP_SYNC") or fail("SUB needs INTEROP_SYNC")
                open(f, "w").close()
            got_sync = True
        if got != PUBM[0]:
            fail("SUB: first message is not the first published one (filter or order broken)")
        for m in PUBM[1:]:
            expect(s, m, "SUB")
        expect(s, END, "SUB end")
    else:
        fail("unsupported type")


if __name__ == "__main__":
    main()
