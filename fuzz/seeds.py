#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses (fuzz/corpus/<target>/): a few well-formed
inputs per harness, so that fuzzing starts from the protocol's real shapes. Run it again after
changing the input layout of a harness in src/fuzz.rs; the files are checked in."""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def greeting(mechanism=b"NULL", as_server=0, minor=1):
    return (b"\xff" + b"\0" * 7 + b"\x01\x7f" + bytes([3, minor]) + mechanism.ljust(20, b"\0")
            + bytes([as_server]) + b"\0" * 31)


def props(**kw):
    out = b""
    for k, v in kw.items():
        k = k.replace("_", "-").encode()
        out += bytes([len(k)]) + k + struct.pack(">I", len(v)) + v
    return out


def cmd(name, data=b""):
    return bytes([len(name)]) + name + data


def frame(body, more=False, command=False):
    flags = (1 if more else 0) | (4 if command else 0)
    if len(body) > 255:
        return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


SOCKET_TYPES = ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH",
                "XPUB", "XSUB", "STREAM"]


def ready(peer_type, **kw):
    return frame(cmd(b"READY", props(Socket_Type=peer_type.encode(), **kw)), command=True)


def hello_plain(user=b"admin", password=b"secret"):
    return cmd(b"HELLO", bytes([len(user)]) + user + bytes([len(password)]) + password)


def curve_hello():
    return cmd(b"HELLO", b"\x01\x00" + b"\0" * 72 + b"\x11" * 32 + b"\0" * 8 + b"\x22" * 80)


def lp(*bodies):
    return b"".join(bytes([len(b)]) + b for b in bodies)


SEEDS = {
    "greeting": {
        "v3-null": b"\x00\x04\x01\x3c\x03" + greeting(),
        "v3-plain-server": b"\x19\x01\x01\x01\x01" + greeting(b"PLAIN", 1),
        "v3-curve": b"\x02\x40\x40\x40\x40" + greeting(b"CURVE"),
        "v2": b"\x00\x05\x05\x05\x05" + b"\xff" + b"\0" * 7 + b"\x01\x7f\x01\x05",
        "v1": b"\x00\x01\x01\x01\x01" + b"\x06\x00hello",
    },
    "frame_decoder": {
        "v3-frames": b"\x02\x03\x07\x01\x40" + frame(b"hello", more=True) + frame(b"world")
        + frame(b"x" * 300) + frame(cmd(b"PING", b"\x00\x0a"), command=True),
        "v3-maxmsgsize": b"\x0e\x08\x08\x08\x08" + frame(b"y" * 40) + frame(b"z" * 4),
        "v2-frames": b"\x01\x02\x02\x02\x02" + frame(b"ab", more=True) + frame(b"c" * 260),
        "v1-frames": b"\x00\x01\x02\x03\x04" + b"\x06\x01hello\x01\x00"
        + b"\xff" + struct.pack(">Q", 301) + b"\x00" + b"q" * 300,
    },
    "command": {
        "ready": cmd(b"READY", props(Socket_Type=b"DEALER", Identity=b"id")),
        "error": cmd(b"ERROR", b"\x03400"),
        "ping": cmd(b"PING", b"\x00\x64ctx"),
        "pong": cmd(b"PONG", b"ctx"),
        "subscribe": cmd(b"SUBSCRIBE", b"topic"),
        "cancel": cmd(b"CANCEL", b"topic"),
        "join": cmd(b"JOIN", b"group"),
        "leave": cmd(b"LEAVE", b"group"),
        "plain-hello": hello_plain(),
        "plain-welcome": cmd(b"WELCOME"),
        "plain-initiate": cmd(b"INITIATE", props(Socket_Type=b"REQ")),
        "curve-hello": curve_hello(),
        "sub-message": b"\x01topic",
    },
    "metadata": {
        "two": props(Socket_Type=b"ROUTER", Identity=b"abc"),
        "user": props(User_Id=b"admin", X_Custom=b"v\0after"),
    },
    # The control byte: socket type index in the high four bits, ZAP in bit 3.
    "null": {
        "ready": b"\x60" + lp(cmd(b"READY", props(Socket_Type=b"DEALER", Identity=b"x"))),
        "zap": b"\x68" + lp(cmd(b"READY", props(Socket_Type=b"DEALER"))),
        "error": b"\x60" + lp(cmd(b"ERROR", b"\x03500")),
    },
    "plain": {
        "server": b"\x50" + lp(hello_plain(), cmd(b"INITIATE", props(Socket_Type=b"DEALER"))),
        "server-zap": b"\x58" + lp(hello_plain(), cmd(b"INITIATE", props(Socket_Type=b"DEALER"))),
        "client": b"\x51" + lp(cmd(b"WELCOME"), cmd(b"READY", props(Socket_Type=b"ROUTER"))),
    },
    "curve": {
        "server": b"\x50" + lp(curve_hello(), cmd(b"INITIATE", b"\0" * 200)),
        "client": b"\x51" + lp(cmd(b"WELCOME", b"\0" * 16 + b"\x33" * 144),
                               cmd(b"READY", b"\0" * 40)),
        # The high bit: MESSAGE boxes after a real handshake; each piece is a flags byte, then
        # the body (0x80 in the flags byte flips a byte of the box).
        "messages": b"\x80" + lp(b"\x01hello", b"\x00world", b"\x02\x04PING", b"\x00"),
        "messages-flipped": b"\x80" + lp(b"\x00first", b"\x85second"),
    },
    "z85": {
        "hello-world": b"HelloWorld",
        "key": b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
        "bytes": b"\x86\x4f\xd2\x6f",
    },
    "address": {k: v.encode() for k, v in {
        "tcp-v4": "127.0.0.1:5555",
        "tcp-wild": "*:*",
        "tcp-v6": "[::1]:5555",
        "tcp-zone": "[fe80::1%lo]:80",
        "tcp-nic": "lo:5555",
        "tcp-source": "127.0.0.1:0;127.0.0.1:5555",
        "mask": "10.0.0.0/8",
        "mask-v6": "::1/128",
        "endpoint-tcp": "tcp://127.0.0.1:5555",
        "endpoint-ipc": "ipc:///tmp/zmq-fuzz",
        "endpoint-abstract": "ipc://@abstract",
        "endpoint-inproc": "inproc://name",
        "endpoint-udp": "udp://127.0.0.1:5555",
    }.items()},
}

# The engine: a control byte (socket type index in the low four bits; mechanism in the high
# four: 0 NULL, 1 PLAIN server, 2 PLAIN client, 3 CURVE server, 4 CURVE client), a split byte
# (bit 0 heartbeats, bit 1 ZAP, bit 2 fire the timers, bits 3-7 the ZAP reply: 0 is status 200;
# its bits also size the pieces), then the peer's bytes.
NULL, PLAIN_SERVER, PLAIN_CLIENT, CURVE_SERVER = 0, 1, 2, 3
HEARTBEATS, ZAP, TIMERS = 0x01, 0x02, 0x04


def control(ours, mechanism=NULL):
    return SOCKET_TYPES.index(ours) | mechanism << 4


ENGINE = {}
for ours, peer in [("PULL", "PUSH"), ("ROUTER", "DEALER"), ("XPUB", "SUB"), ("SUB", "PUB"),
                   ("REQ", "REP"), ("PAIR", "PAIR")]:
    body = frame(b"hello", more=True) + frame(b"world")
    if ours == "XPUB":
        body = frame(cmd(b"SUBSCRIBE", b"top"), command=True) + frame(b"\x01old-style")
    ENGINE["null-" + ours.lower()] = (bytes([control(ours), 0x20]) + greeting()
                                      + ready(peer, Identity=b"peer") + body)
ENGINE["null-heartbeat"] = (bytes([control("PULL"), HEARTBEATS | TIMERS]) + greeting()
                            + ready("PUSH") + frame(cmd(b"PING", b"\x00\x0a"), command=True))
ENGINE["null-zap"] = (bytes([control("PULL"), ZAP]) + greeting() + ready("PUSH")
                      + frame(b"msg"))
plain_client_steps = (frame(hello_plain(), command=True)
                      + frame(cmd(b"INITIATE", props(Socket_Type=b"PUSH")), command=True)
                      + frame(b"msg"))
ENGINE["plain-server-zap"] = (bytes([control("PULL", PLAIN_SERVER), ZAP])
                              + greeting(b"PLAIN") + plain_client_steps)
ENGINE["plain-server-zap-heartbeat"] = (bytes([control("PULL", PLAIN_SERVER),
                                              ZAP | HEARTBEATS | TIMERS])
                                        + greeting(b"PLAIN") + plain_client_steps)
ENGINE["plain-server-no-zap"] = (bytes([control("PULL", PLAIN_SERVER), 0x20])
                                 + greeting(b"PLAIN") + frame(hello_plain(), command=True))
ENGINE["plain-client"] = (bytes([control("PUSH", PLAIN_CLIENT), 0x20]) + greeting(b"PLAIN", 1)
                          + frame(cmd(b"WELCOME"), command=True)
                          + frame(cmd(b"READY", props(Socket_Type=b"PULL")), command=True))
ENGINE["curve-server"] = (bytes([control("PULL", CURVE_SERVER), 0x20]) + greeting(b"CURVE")
                          + frame(curve_hello(), command=True))
ENGINE["v2-peer"] = (bytes([control("PULL"), 0x30]) + b"\xff" + b"\0" * 7 + b"\x01\x7f\x01\x08"
                     + b"\x00\x00" + b"\x00\x05hello")
ENGINE["v1-peer"] = bytes([control("PULL"), 0x30]) + b"\x01\x00" + b"\x06\x00hello"
ENGINE["stream"] = bytes([control("STREAM"), 0x30]) + b"GET / HTTP/1.0\r\n\r\n"
SEEDS["engine"] = ENGINE

for target, seeds in SEEDS.items():
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
print("seeds:", sum(len(s) for s in SEEDS.values()), "files in", len(SEEDS), "corpora")
