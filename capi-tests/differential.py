#!/usr/bin/env python3
"""Differential check of the API surface: our library against Debian's libzmq.

The same probe runs twice, each time in its own process with one library loaded through
ctypes (two libzmq's never share a process): every context option, every socket option id of
every socket type (its default read back at each buffer size, valid and invalid values set and
read back, wrong sizes, NULL), and the misuse of every API function (NULL and closed handles,
wrong states, bad flags, bad endpoints, zero-length buffers). Each case gives a short outcome
("rc=0 len=4 val=01000000", "rc=-1 EINVAL", "crash SIGSEGV"). A case that kills its process is
recorded as a crash (one that does not end within CASE_TIMEOUT as a hang): each case runs in a
process of its own, forked from the probe, which never creates a context itself.

The parent compares the two outcome tables. Every difference must be listed in
capi-tests/differential-known.txt (a pattern on the case name, then why); the script prints a
table of all differences, marks the listed ones with their reason, and exits 1 when one is not
listed (or a listed pattern no longer matches anything: the list stays true).

usage: capi-tests/differential.py [--ours LIB] [--theirs LIB] [--all] [--filter PATTERN]
  --all      print every difference in full (default: one line per group of socket types)
  --filter   only the cases whose name matches the fnmatch PATTERN
"""

import ctypes
import errno
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KNOWN = os.path.join(HERE, "differential-known.txt")

SOCKET_TYPES = ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB",
                "XSUB", "STREAM"]
ZMQ_ERRNOS = {156384763: "EFSM", 156384764: "ENOCOMPATPROTO", 156384765: "ETERM",
              156384766: "EMTHREAD"}
MAX_OPTION = 120
CASE_TIMEOUT = 5
# Whether the probe runs in a network namespace of its own: only then does it try the multicast
# transports (pgm, epgm, norm), whose packets must never reach the machine's real interfaces.
MULTICAST = False
Z85_KEY = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"  # a public key from RFC 32


def option_names():
    """Option id -> name, from our header (the socket option block and the draft one)."""
    names = {}
    text = open(os.path.join(ROOT, "include", "zmq.h")).read()
    start = text.index("#define ZMQ_AFFINITY")
    end = text.index("#define ZMQ_MORE")
    for m in re.finditer(r"#define (ZMQ_\w+) (\d+)", text[start:end]):
        names.setdefault(int(m.group(2)), m.group(1))
    for name in ("ZMQ_TCP_ACCEPT_FILTER", "ZMQ_IPC_FILTER_PID", "ZMQ_IPC_FILTER_UID",
                 "ZMQ_IPC_FILTER_GID", "ZMQ_IPV4ONLY"):
        m = re.search(r"#define %s (\d+)" % name, text)
        names.setdefault(int(m.group(1)), name)
    draft = text.index("#define ZMQ_ZAP_ENFORCE_DOMAIN")
    for m in re.finditer(r"#define (ZMQ_\w+) (\d+)", text[draft:text.index("#define ZMQ_PRIORITY")
                                                           + 30]):
        if int(m.group(2)) >= 93:
            names.setdefault(int(m.group(2)), m.group(1))
    return names


# ------------------------------------------------------------------ the probe (child process)

class Probe:
    def __init__(self, path):
        self.z = ctypes.CDLL(path, use_errno=True)
        z = self.z
        for fn in ("zmq_ctx_new", "zmq_socket", "zmq_init", "zmq_z85_encode", "zmq_z85_decode",
                   "zmq_msg_data", "zmq_msg_gets", "zmq_timers_new", "zmq_atomic_counter_new",
                   "zmq_stopwatch_start"):
            getattr(z, fn).restype = ctypes.c_void_p
        z.zmq_socket.argtypes = [ctypes.c_void_p, ctypes.c_int]
        z.zmq_close.argtypes = [ctypes.c_void_p]
        z.zmq_ctx_term.argtypes = [ctypes.c_void_p]
        z.zmq_ctx_shutdown.argtypes = [ctypes.c_void_p]
        z.zmq_ctx_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        z.zmq_ctx_get.argtypes = [ctypes.c_void_p, ctypes.c_int]
        z.zmq_setsockopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                     ctypes.c_size_t]
        z.zmq_getsockopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                     ctypes.c_void_p]
        for fn in ("zmq_bind", "zmq_connect", "zmq_unbind", "zmq_disconnect"):
            getattr(z, fn).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        z.zmq_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        z.zmq_send_const.argtypes = z.zmq_send.argtypes
        z.zmq_recv.argtypes = z.zmq_send.argtypes
        z.zmq_msg_gets.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        z.zmq_msg_gets.restype = ctypes.c_char_p
        z.zmq_socket_monitor.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        z.zmq_poll.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long]
        z.zmq_z85_encode.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
        z.zmq_z85_decode.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        z.zmq_curve_public.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        z.zmq_curve_keypair.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        z.zmq_has.argtypes = [ctypes.c_char_p]
        z.zmq_proxy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        z.zmq_proxy_steerable.argtypes = [ctypes.c_void_p] * 4
        for fn in ("zmq_msg_init", "zmq_msg_close", "zmq_msg_size", "zmq_msg_more"):
            getattr(z, fn).argtypes = [ctypes.c_void_p]
        z.zmq_msg_size.restype = ctypes.c_size_t
        z.zmq_msg_init_size.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        z.zmq_msg_init_data.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                        ctypes.c_void_p, ctypes.c_void_p]
        z.zmq_msg_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        z.zmq_msg_recv.argtypes = z.zmq_msg_send.argtypes
        z.zmq_msg_copy.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        z.zmq_msg_move.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        z.zmq_msg_get.argtypes = [ctypes.c_void_p, ctypes.c_int]
        z.zmq_msg_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        z.zmq_sendiov.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        z.zmq_recviov.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                  ctypes.c_int]
        z.zmq_timers_destroy.argtypes = [ctypes.c_void_p]
        z.zmq_timers_cancel.argtypes = [ctypes.c_void_p, ctypes.c_int]
        z.zmq_timers_set_interval.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        z.zmq_timers_reset.argtypes = [ctypes.c_void_p, ctypes.c_int]
        z.zmq_timers_timeout.argtypes = [ctypes.c_void_p]
        z.zmq_timers_execute.argtypes = [ctypes.c_void_p]
        z.zmq_timers_add.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                     ctypes.c_void_p]

    # -- outcomes
    def rc(self, rc):
        if rc == -1:
            e = ctypes.get_errno()
            return "rc=-1 " + ZMQ_ERRNOS.get(e, errno.errorcode.get(e, str(e)))
        return "rc=%d" % rc

    def ptr(self, p):
        if not p:
            e = ctypes.get_errno()
            return "NULL " + ZMQ_ERRNOS.get(e, errno.errorcode.get(e, str(e)))
        return "ptr"

    def ctx(self):
        c = self.z.zmq_ctx_new()
        assert c
        return c

    def sock(self, c, t):
        s = self.z.zmq_socket(c, t)
        assert s, "zmq_socket(%d)" % t
        zero = ctypes.c_int(0)
        self.z.zmq_setsockopt(s, 17, ctypes.byref(zero), 4)
        return s

    def get(self, s, opt, size):
        buf = ctypes.create_string_buffer(size)
        n = ctypes.c_size_t(size)
        ctypes.set_errno(0)
        rc = self.z.zmq_getsockopt(s, opt, buf, ctypes.byref(n))
        out = self.rc(rc)
        if rc == 0:
            value = buf.raw[:n.value]
            if opt in (14,):  # ZMQ_FD: a descriptor number, different in every process
                value = b"<fd>"
            out += " len=%d val=%s" % (n.value, value.hex())
        return out

    # -- the cases: (name, function returning the outcome)
    def cases(self):
        out = []
        for i in list(range(12)) + [42, 70, 99]:
            out += self.ctx_option_cases(i)
        names = option_names()
        for t, tname in enumerate(SOCKET_TYPES):
            for opt in range(MAX_OPTION):
                out += self.option_cases(t, tname, opt, names.get(opt, "option%d" % opt))
        out += self.misuse_cases()
        return out

    def ctx_option_cases(self, opt):
        z = self.z
        res = []

        def get_default():
            c = self.ctx()
            try:
                ctypes.set_errno(0)
                return self.rc(z.zmq_ctx_get(c, opt))
            finally:
                z.zmq_ctx_term(c)
        res.append(("ctx/%d/get-default" % opt, get_default))
        for v in (-2, -1, 0, 1, 2, 1023, 65536, 2 ** 31 - 1):
            def set_get(v=v):
                c = self.ctx()
                try:
                    r = self.rc(z.zmq_ctx_set(c, opt, v))
                    ctypes.set_errno(0)
                    return r + " then " + self.rc(z.zmq_ctx_get(c, opt))
                finally:
                    z.zmq_ctx_term(c)
            res.append(("ctx/%d/set=%d" % (opt, v), set_get))
        return res

    def option_cases(self, t, tname, opt, oname):
        z = self.z
        base = "opt/%s/%s" % (oname, tname)
        res = []

        def with_socket(f):
            c = self.ctx()
            s = self.sock(c, t)
            try:
                return f(s)
            finally:
                z.zmq_close(s)
                z.zmq_ctx_term(c)

        def readback(s):
            return " | " + "; ".join("get%d %s" % (n, self.get(s, opt, n)) for n in (4, 8, 256))

        res.append((base + "/default",
                    lambda: with_socket(lambda s: "; ".join(
                        "get%d %s" % (n, self.get(s, opt, n)) for n in (0, 1, 4, 8, 256)))))

        def setter(raw, size):
            def f(s):
                if raw is None:
                    r = self.rc(z.zmq_setsockopt(s, opt, None, size))
                else:
                    buf = ctypes.create_string_buffer(raw, max(len(raw), 1))
                    r = self.rc(z.zmq_setsockopt(s, opt, buf, size))
                return r + (readback(s) if r == "rc=0" else "")
            return lambda: with_socket(f)

        for v in (-2, -1, 0, 1, 2, 1000, 2 ** 31 - 1):
            res.append((base + "/int=%d" % v, setter(v.to_bytes(4, "little", signed=True), 4)))
        for v in (-1, 0, 1, 2 ** 40):
            res.append((base + "/int64=%d" % v, setter(v.to_bytes(8, "little", signed=True), 8)))
        for n in (1, 3, 5, 16, 255, 256):
            res.append((base + "/bytes%d" % n, setter(b"a" * n, n)))
        res.append((base + "/bytes0", setter(b"", 0)))
        res.append((base + "/null0", setter(None, 0)))
        res.append((base + "/null4", setter(None, 4)))
        res.append((base + "/key32", setter(bytes(range(1, 33)), 32)))
        res.append((base + "/z85-40", setter(Z85_KEY, 40)))
        res.append((base + "/z85-41", setter(Z85_KEY + b"\0", 41)))
        res.append((base + "/text", setter(b"127.0.0.1", 9)))
        return res

    def misuse_cases(self):
        z = self.z
        c_ = ctypes
        res = []

        def case(name):
            def deco(f):
                res.append(("api/" + name, f))
                return f
            return deco

        def in_ctx(f):
            c = self.ctx()
            try:
                return f(c)
            finally:
                z.zmq_ctx_term(c)

        def with_sock(t, f):
            def run(c):
                s = self.sock(c, t)
                try:
                    return f(s)
                finally:
                    z.zmq_close(s)
            return lambda: in_ctx(run)

        # -- context
        res.append(("api/ctx_term(NULL)", lambda: self.rc(z.zmq_ctx_term(None))))
        res.append(("api/ctx_shutdown(NULL)", lambda: self.rc(z.zmq_ctx_shutdown(None))))
        res.append(("api/ctx_set(NULL)", lambda: self.rc(z.zmq_ctx_set(None, 1, 1))))
        res.append(("api/ctx_get(NULL)", lambda: self.rc(z.zmq_ctx_get(None, 1))))
        res.append(("api/socket(NULL)", lambda: self.ptr(z.zmq_socket(None, 0))))

        def ctx_term_twice():
            c = self.ctx()
            r = self.rc(z.zmq_ctx_term(c))
            return r + " then " + self.rc(z.zmq_ctx_term(c))
        res.append(("api/ctx_term twice", ctx_term_twice))

        def socket_after_shutdown():
            c = self.ctx()
            z.zmq_ctx_shutdown(c)
            r = self.ptr(z.zmq_socket(c, 0))
            z.zmq_ctx_term(c)
            return r
        res.append(("api/socket after ctx_shutdown", socket_after_shutdown))

        def ctx_term_on_socket():
            def f(c):
                s = self.sock(c, 0)
                r = self.rc(z.zmq_ctx_term(s))
                z.zmq_close(s)
                return r
            return in_ctx(f)
        res.append(("api/ctx_term(socket)", ctx_term_on_socket))

        def max_sockets():
            def f(c):
                z.zmq_ctx_set(c, 2, 1)
                s = self.sock(c, 0)
                r = self.ptr(z.zmq_socket(c, 0))
                z.zmq_close(s)
                return r
            return in_ctx(f)
        res.append(("api/socket past MAX_SOCKETS", max_sockets))
        def make_socket(t):
            def f(c):
                s = z.zmq_socket(c, t)
                out = self.ptr(s)
                if s:
                    z.zmq_close(s)
                return out
            return lambda: in_ctx(f)
        for t in (-1, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 1000):
            res.append(("api/socket(type %d)" % t, make_socket(t)))

        # -- close
        res.append(("api/close(NULL)", lambda: self.rc(z.zmq_close(None))))
        res.append(("api/close(ctx)", lambda: in_ctx(lambda c: self.rc(z.zmq_close(c)))))

        def close_twice():
            def f(c):
                s = self.sock(c, 0)
                r = self.rc(z.zmq_close(s))
                return r + " then " + self.rc(z.zmq_close(s))
            return in_ctx(f)
        res.append(("api/close twice", close_twice))

        # -- endpoints
        endpoints = [None, b"", b"tcp://", b"tcp://127.0.0.1", b"tcp://127.0.0.1:", b"tcp://*:99999",
                     b"tcp://127.0.0.1:-1", b"tcp://256.0.0.1:5555", b"tcp://[::1]:*",
                     b"tcp://no-such-host.invalid:5555", b"foo://x", b"inproc://", b"ipc://",
                     b"ipc://@", b"udp://127.0.0.1:5555", b"pgm://127.0.0.1;239.1.1.1:5555",
                     b"epgm://127.0.0.1;239.1.1.1:5555", b"norm://127.0.0.1:5555",
                     b"tipc://{5560,0,0}", b"ws://127.0.0.1:5555", b"wss://127.0.0.1:5555",
                     b"vmci://1:5555", b"tcp://127.0.0.1:5555;", b"tcp://:5555",
                     b"tcp://lo:*", b"tcp://eth99:*", b"TCP://127.0.0.1:*"]
        if not MULTICAST:
            endpoints = [e for e in endpoints
                         if not (e or b"").startswith((b"pgm:", b"epgm:", b"norm:"))]
        for fn in ("bind", "connect"):
            for ep in endpoints:
                for t, tname in ((8, "PUSH"), (1, "PUB"), (11, "STREAM")):
                    def f(s, fn=fn, ep=ep):
                        return self.rc(getattr(z, "zmq_" + fn)(s, ep))
                    res.append(("api/%s(%s, %r)" % (fn, tname, ep), with_sock(t, f)))
        for fn in ("unbind", "disconnect"):
            for ep in (None, b"", b"tcp://127.0.0.1:5555", b"inproc://nothing", b"foo://x"):
                def f(s, fn=fn, ep=ep):
                    return self.rc(getattr(z, "zmq_" + fn)(s, ep))
                res.append(("api/%s(%r) not bound" % (fn, ep), with_sock(8, f)))

        def unbind_wildcard():
            def f(s):
                z.zmq_bind(s, b"tcp://127.0.0.1:*")
                return self.rc(z.zmq_unbind(s, b"tcp://127.0.0.1:*"))
            return with_sock(8, f)()
        res.append(("api/unbind of the wildcard endpoint", unbind_wildcard))

        def bind_twice():
            def f(c):
                s = self.sock(c, 8)
                z.zmq_bind(s, b"inproc://twice")
                s2 = self.sock(c, 7)
                r = self.rc(z.zmq_bind(s2, b"inproc://twice"))
                z.zmq_close(s2)
                z.zmq_close(s)
                return r
            return in_ctx(f)
        res.append(("api/bind the same inproc name twice", bind_twice))

        # -- send and recv
        def send(t, buf, size, flags):
            return with_sock(t, lambda s: self.rc(z.zmq_send(s, buf, size, flags)))
        def recv(t, buf, size, flags):
            return with_sock(t, lambda s: self.rc(z.zmq_recv(s, buf, size, flags)))
        b5 = ctypes.create_string_buffer(5)
        for t, tname in enumerate(SOCKET_TYPES):
            res.append(("api/send(%s, dontwait)" % tname, send(t, b5, 5, 1)))
            res.append(("api/recv(%s, dontwait)" % tname, recv(t, b5, 5, 1)))
            res.append(("api/send(%s, NULL, 0, dontwait)" % tname, send(t, None, 0, 1)))
            res.append(("api/send(%s, sndmore|dontwait)" % tname, send(t, b5, 5, 3)))
        res.append(("api/send(NULL)", lambda: self.rc(z.zmq_send(None, b5, 5, 0))))
        res.append(("api/recv(NULL)", lambda: self.rc(z.zmq_recv(None, b5, 5, 0))))
        res.append(("api/send(ctx)", lambda: in_ctx(lambda c: self.rc(z.zmq_send(c, b5, 5, 0)))))
        res.append(("api/send(PUSH, NULL, 5)", send(8, None, 5, 1)))
        res.append(("api/send(PUSH, flags 0xff)", send(8, b5, 5, 0xFF)))
        res.append(("api/send(PUSH, flags -1)", send(8, b5, 5, -1)))
        res.append(("api/recv(PULL, NULL, 0)", recv(7, None, 0, 1)))
        res.append(("api/recv(PULL, NULL, 5)", recv(7, None, 5, 1)))
        res.append(("api/recv(PULL, flags 0xff)", recv(7, b5, 5, 0xFF)))
        res.append(("api/send_const(PUSH, NULL, 0)",
                    with_sock(8, lambda s: self.rc(z.zmq_send_const(s, None, 0, 1)))))
        res.append(("api/sendiov(PUSH, NULL, 0)",
                    with_sock(8, lambda s: self.rc(z.zmq_sendiov(s, None, 0, 1)))))
        res.append(("api/sendiov(PUSH, NULL, 1)",
                    with_sock(8, lambda s: self.rc(z.zmq_sendiov(s, None, 1, 1)))))
        res.append(("api/recviov(PULL, NULL, NULL)",
                    with_sock(7, lambda s: self.rc(z.zmq_recviov(s, None, None, 1)))))

        def pair(a, b, f, bind_to=b"inproc://pair"):
            """Sockets of types a (bound to bind_to) and b (connected to what a got)."""
            def run(c):
                x = self.sock(c, a)
                y = self.sock(c, b)
                z.zmq_bind(x, bind_to)
                ep = ctypes.create_string_buffer(256)
                n = ctypes.c_size_t(256)
                z.zmq_getsockopt(x, 32, ep, ctypes.byref(n))  # ZMQ_LAST_ENDPOINT
                z.zmq_connect(y, ep.value)
                try:
                    return f(x, y)
                finally:
                    z.zmq_close(x)
                    z.zmq_close(y)
            return lambda: in_ctx(run)
        res.append(("api/REQ recv before send", pair(4, 3, lambda rep, req: self.rc(
            z.zmq_recv(req, b5, 5, 1)))))
        res.append(("api/REQ send twice", pair(4, 3, lambda rep, req: self.rc(
            z.zmq_send(req, b5, 5, 1)) + " then " + self.rc(z.zmq_send(req, b5, 5, 1)))))
        res.append(("api/REP send before recv", pair(4, 3, lambda rep, req: self.rc(
            z.zmq_send(rep, b5, 5, 1)))))
        res.append(("api/recv truncates", pair(0, 0, lambda a, b: self.rc(
            z.zmq_send(a, b"abcdefgh", 8, 0)) + " then " + self.rc(
            z.zmq_recv(b, b5, 2, 0)) + " " + b5.raw[:2].decode())))
        res.append(("api/ROUTER send to unknown peer, mandatory", pair(6, 5, lambda r, d: (
            z.zmq_setsockopt(r, 33, ctypes.byref(ctypes.c_int(1)), 4) and "") + self.rc(
            z.zmq_send(r, b"nobody", 6, 3)))))
        res.append(("api/ROUTER send to unknown peer", pair(6, 5, lambda r, d: self.rc(
            z.zmq_send(r, b"nobody", 6, 3)) + " then " + self.rc(z.zmq_send(r, b5, 5, 1)))))

        # -- messages
        MSG = ctypes.c_ubyte * 64

        def msg_case(f):
            def run():
                m = MSG()
                return f(m)
            return run
        res.append(("api/msg_init(NULL)", lambda: self.rc(z.zmq_msg_init(None))))
        res.append(("api/msg_close(NULL)", lambda: self.rc(z.zmq_msg_close(None))))
        res.append(("api/msg_close twice", msg_case(lambda m: self.rc(z.zmq_msg_init(m)) + " " +
                    self.rc(z.zmq_msg_close(m)) + " then " + self.rc(z.zmq_msg_close(m)))))
        res.append(("api/msg_init_size(huge)", msg_case(lambda m: self.rc(
            z.zmq_msg_init_size(m, 2 ** 62)))))
        res.append(("api/msg_init_data(NULL, 0)", msg_case(lambda m: self.rc(
            z.zmq_msg_init_data(m, None, 0, None, None)))))
        res.append(("api/msg_init_data(NULL, 5)", msg_case(lambda m: self.rc(
            z.zmq_msg_init_data(m, None, 5, None, None)))))
        for prop in (1, 2, 3, 4, 5, 99, -1):
            res.append(("api/msg_get(%d)" % prop, msg_case(lambda m, p=prop: (
                z.zmq_msg_init_size(m, 100) and "") + self.rc(z.zmq_msg_get(m, p)))))
            res.append(("api/msg_set(%d)" % prop, msg_case(lambda m, p=prop: (
                z.zmq_msg_init(m) and "") + self.rc(z.zmq_msg_set(m, p, 1)))))
        for prop in (b"Socket-Type", b"Routing-Id", b"User-Id", b"Peer-Address", b"X-Foo", b""):
            res.append(("api/msg_gets(fresh msg, %r)" % prop, msg_case(lambda m, p=prop: (
                z.zmq_msg_init(m) and "") + str(z.zmq_msg_gets(m, p)) + " " + (
                "errno=" + errno.errorcode.get(ctypes.get_errno(), "?")))))
        res.append(("api/msg_send(NULL msg)", with_sock(8, lambda s: self.rc(
            z.zmq_msg_send(None, s, 1)))))
        res.append(("api/msg_send(closed msg)", with_sock(8, lambda s: (lambda m: (
            z.zmq_msg_init(m), z.zmq_msg_close(m)) and self.rc(z.zmq_msg_send(m, s, 1)))(MSG()))))
        res.append(("api/msg_recv(NULL msg)", with_sock(7, lambda s: self.rc(
            z.zmq_msg_recv(None, s, 1)))))
        res.append(("api/msg_copy(NULL, NULL)", lambda: self.rc(z.zmq_msg_copy(None, None))))
        res.append(("api/msg_move(NULL, NULL)", lambda: self.rc(z.zmq_msg_move(None, None))))
        res.append(("api/msg_copy(self)", msg_case(lambda m: (z.zmq_msg_init_size(m, 10) and "")
                                                    + self.rc(z.zmq_msg_copy(m, m)))))

        def shared_flag(size):
            def run():
                src, dst = MSG(), MSG()
                z.zmq_msg_init_size(src, size)
                z.zmq_msg_init(dst)
                before = self.rc(z.zmq_msg_get(src, 3))
                z.zmq_msg_copy(dst, src)
                after = self.rc(z.zmq_msg_get(src, 3))
                z.zmq_msg_close(src)
                z.zmq_msg_close(dst)
                return "before copy " + before + ", after " + after
            return run
        res.append(("api/msg SHARED of a small msg", shared_flag(10)))
        res.append(("api/msg SHARED of a large msg", shared_flag(1000)))

        def received_shared(size):
            def f(a, b):
                m = MSG()
                z.zmq_msg_init(m)
                z.zmq_send(a, b"x" * size, size, 0)
                r = self.rc(z.zmq_msg_recv(m, b, 0))
                r += " SHARED " + self.rc(z.zmq_msg_get(m, 3))
                z.zmq_msg_close(m)
                return r
            return f
        def tcp_pair(a, b, f):
            """As pair, over tcp on loopback."""
            return pair(a, b, f, b"tcp://127.0.0.1:*")
        for size in (10, 1000, 100000):
            res.append(("api/received msg SHARED, %d B tcp" % size,
                        tcp_pair(8, 7, received_shared(size))))

        def received_shared_batch(size, count):
            def f(a, b):
                import time
                out = []
                for _ in range(count):
                    z.zmq_send(a, b"x" * size, size, 0)
                time.sleep(0.3)  # all of them arrive, read in one go
                m = MSG()
                for _ in range(count):
                    z.zmq_msg_init(m)
                    z.zmq_msg_recv(m, b, 0)
                    out.append(str(z.zmq_msg_get(m, 3)))
                    z.zmq_msg_close(m)
                return "SHARED " + ",".join(out)
            return f
        for size in (100, 300, 5000):
            res.append(("api/received msgs SHARED, 8 x %d B tcp" % size,
                        tcp_pair(8, 7, received_shared_batch(size, 8))))

        def fd_wakes(push, pull):
            """An event loop that polls ZMQ_FD before it ever reads ZMQ_EVENTS."""
            import select
            import time
            fd = ctypes.c_int(-1)
            n = ctypes.c_size_t(4)
            z.zmq_getsockopt(pull, 14, ctypes.byref(fd), ctypes.byref(n))
            time.sleep(0.3)  # the connection is up
            z.zmq_send(push, b"hello", 5, 0)
            poller = select.poll()
            poller.register(fd.value, select.POLLIN)
            woke = bool(poller.poll(2000))
            return "ZMQ_FD readable: %s" % woke
        res.append(("api/ZMQ_FD wakes before any ZMQ_EVENTS, tcp", tcp_pair(8, 7, fd_wakes)))
        res.append(("api/received msg SHARED, 10 B inproc", pair(0, 0, received_shared(10))))
        res.append(("api/received msg SHARED, 1000 B inproc", pair(0, 0, received_shared(1000))))

        # -- poll
        res.append(("api/poll(NULL, 1)", lambda: self.rc(z.zmq_poll(None, 1, 0))))
        res.append(("api/poll(NULL, 0)", lambda: self.rc(z.zmq_poll(None, 0, 0))))
        res.append(("api/poll(NULL, -1)", lambda: self.rc(z.zmq_poll(None, -1, 0))))

        class Item(ctypes.Structure):
            _fields_ = [("socket", ctypes.c_void_p), ("fd", ctypes.c_int),
                        ("events", ctypes.c_short), ("revents", ctypes.c_short)]
        res.append(("api/poll(no socket, fd -1)", lambda: self.rc(
            z.zmq_poll(ctypes.byref(Item(None, -1, 1, 0)), 1, 0))))
        res.append(("api/poll(no socket, fd 9999)", lambda: (lambda it: self.rc(
            z.zmq_poll(ctypes.byref(it), 1, 0)) + " revents=%d" % it.revents)(Item(None, 9999, 1, 0))))
        res.append(("api/poll(ctx as socket)", lambda: in_ctx(lambda c: self.rc(
            z.zmq_poll(ctypes.byref(Item(c, 0, 1, 0)), 1, 0)))))
        res.append(("api/poll(PUSH, events 0)", with_sock(8, lambda s: (lambda it: self.rc(
            z.zmq_poll(ctypes.byref(it), 1, 0)) + " revents=%d" % it.revents)(Item(s, 0, 0, 0)))))
        res.append(("api/poll(PUB, POLLIN|POLLOUT)", with_sock(1, lambda s: (lambda it: self.rc(
            z.zmq_poll(ctypes.byref(it), 1, 0)) + " revents=%d" % it.revents)(Item(s, 0, 3, 0)))))

        # -- monitor
        def monitor_events(stop):
            def run(c):
                import struct
                s = self.sock(c, 2)
                if stop:
                    z.zmq_setsockopt(s, 109, ctypes.byref(ctypes.c_int(stop)), 4)
                z.zmq_socket_monitor(s, b"inproc://events", 0xFFFF)
                m = self.sock(c, 0)
                z.zmq_connect(m, b"inproc://events")
                z.zmq_setsockopt(m, 27, ctypes.byref(ctypes.c_int(500)), 4)
                z.zmq_connect(s, b"tcp://127.0.0.1:1")  # nothing listens on port 1
                buf = ctypes.create_string_buffer(256)
                events = []
                while len(events) < 6 and z.zmq_recv(m, buf, 256, 0) >= 6:
                    events.append(struct.unpack("=H", buf.raw[:2])[0])
                    z.zmq_recv(m, buf, 256, 0)
                z.zmq_close(s)
                z.zmq_close(m)
                return "events " + ",".join("%#x" % e for e in events)
            return lambda: in_ctx(run)
        res.append(("api/monitor: tcp connect refused", monitor_events(0)))
        for ep, mask in ((b"inproc://mon", 0x10000), (b"inproc://mon", -1), (b"inproc://mon", 0),
                         (b"inproc://mon", 0xFFFF), (b"tcp://127.0.0.1:5555", 0xFFFF),
                         (None, 0), (None, 0xFFFF), (b"", 0xFFFF), (b"foo://x", 0xFFFF)):
            res.append(("api/socket_monitor(%r, %#x)" % (ep, mask & 0xFFFFFFFF), with_sock(
                8, lambda s, ep=ep, mask=mask: self.rc(z.zmq_socket_monitor(s, ep, mask)))))
        res.append(("api/socket_monitor(NULL socket)", lambda: self.rc(
            z.zmq_socket_monitor(None, b"inproc://m", 0xFFFF))))

        def monitor_twice():
            def f(s):
                r = self.rc(z.zmq_socket_monitor(s, b"inproc://m1", 0xFFFF))
                return r + " then " + self.rc(z.zmq_socket_monitor(s, b"inproc://m1", 0xFFFF))
            return with_sock(8, f)()
        res.append(("api/socket_monitor twice, same endpoint", monitor_twice))

        # -- proxy
        res.append(("api/proxy(NULL, NULL, NULL)", lambda: self.rc(z.zmq_proxy(None, None, None))))
        res.append(("api/proxy_steerable(NULL...)", lambda: self.rc(
            z.zmq_proxy_steerable(None, None, None, None))))

        # -- z85 and curve
        buf = ctypes.create_string_buffer(64)
        for n in (0, 3, 4, 5, 8):
            res.append(("api/z85_encode(%d bytes)" % n, lambda n=n: self.ptr(
                z.zmq_z85_encode(buf, b"abcdefgh"[:n], n)) + " " + buf.value.decode("latin1")))
        for text in (b"", b"abc", b"abcde", b"HelloWorld", b"Hello\x7fWor", b"~~~~~"):
            res.append(("api/z85_decode(%r)" % text, lambda t=text: self.ptr(
                z.zmq_z85_decode(buf, t)) + " " + buf.raw[:8].hex()))
        res.append(("api/curve_public(bad)", lambda: self.rc(z.zmq_curve_public(buf, b"abc"))))
        res.append(("api/curve_public(40 ok)", lambda: self.rc(z.zmq_curve_public(
            buf, b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6")) + " " + buf.value.decode()))
        res.append(("api/curve_keypair", lambda: self.rc(z.zmq_curve_keypair(
            buf, ctypes.create_string_buffer(41)))))
        for cap in (b"ipc", b"pgm", b"tipc", b"norm", b"curve", b"gssapi", b"draft", b"udp",
                    b"ws", b"wss", b"vmci", b"", b"nothing"):
            res.append(("api/has(%r)" % cap, lambda cap=cap: "%d" % z.zmq_has(cap)))

        # -- timers
        res.append(("api/timers_destroy(NULL)", lambda: self.rc(z.zmq_timers_destroy(None))))

        def timers(f):
            def run():
                t = ctypes.c_void_p(z.zmq_timers_new())
                try:
                    return f(t)
                finally:
                    z.zmq_timers_destroy(ctypes.byref(t))
            return run
        res.append(("api/timers_cancel(unknown)", timers(lambda t: self.rc(
            z.zmq_timers_cancel(t, 99)))))
        res.append(("api/timers_reset(unknown)", timers(lambda t: self.rc(
            z.zmq_timers_reset(t, 99)))))
        res.append(("api/timers_set_interval(unknown)", timers(lambda t: self.rc(
            z.zmq_timers_set_interval(t, 99, 10)))))
        res.append(("api/timers_add(no handler)", timers(lambda t: self.rc(
            z.zmq_timers_add(t, 10, None, None)))))
        res.append(("api/timers_timeout(empty)", timers(lambda t: self.rc(
            z.zmq_timers_timeout(t)))))
        res.append(("api/timers_execute(empty)", timers(lambda t: self.rc(
            z.zmq_timers_execute(t)))))
        res.append(("api/timers_timeout(NULL)", lambda: self.rc(z.zmq_timers_timeout(None))))
        return res


def run_cases(cases, results):
    """Run `cases` in a forked process, in order, each with CASE_TIMEOUT; when that process
    dies, the case it was in gets the crash (or the hang) as its outcome and a new process
    goes on with the next one."""
    i = 0
    while i < len(cases):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            for name, f in cases[i:]:
                signal.alarm(CASE_TIMEOUT)
                try:
                    result = f()
                except Exception as e:  # a bug of this script, not of a library
                    result = "probe error: %r" % e
                os.write(w, (json.dumps(result) + "\n").encode())
            os._exit(0)
        os.close(w)
        with os.fdopen(r) as lines:
            for line in lines:
                results[cases[i][0]] = json.loads(line)
                i += 1
        _, status = os.waitpid(pid, 0)
        if i < len(cases):
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
                outcome = ("hang (>%d s)" % CASE_TIMEOUT if sig == signal.SIGALRM
                           else "crash " + signal.Signals(sig).name)
            else:
                outcome = "exit %d" % os.WEXITSTATUS(status)
            results[cases[i][0]] = outcome
            i += 1


def child(path, out):
    """Every case with the library at `path`, as one JSON object written to `out`. The option
    cases of one socket type share a process; each misuse case has its own, since a misuse may
    leave a library's state broken for whatever follows."""
    probe = Probe(path)
    results = {}
    groups = {}
    for name, f in probe.cases():
        parts = name.split("/")
        key = parts[2] if parts[0] == "opt" else parts[0] if parts[0] == "ctx" else name
        groups.setdefault(key, []).append((name, f))
    for cases in groups.values():
        run_cases(cases, results)
    with open(out, "w") as f:
        json.dump(results, f)


# ------------------------------------------------------------------ the parent

def isolated():
    """The command prefix that runs a probe in a network namespace of its own, with only `lo`
    up; None where no namespace can be made here."""
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']
    try:
        ok = subprocess.run(cmd + ["true"], stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        ok = False
    return cmd if ok else None


def run_probe(path, prefix):
    """The outcome of every case with the library at `path`."""
    out = "/tmp/zmqrs-differential.%d.json" % os.getpid()
    try:
        p = subprocess.run((prefix or []) + [sys.executable, os.path.abspath(__file__), "--child",
                                             path, out, "1" if prefix else "0"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={k: v for k, v in os.environ.items()
                                if k not in ("LD_LIBRARY_PATH", "LD_PRELOAD")})
        if p.returncode != 0:
            raise SystemExit("differential: the probe of %s failed (exit %d)"
                             % (path, p.returncode))
        with open(out) as f:
            return json.load(f)
    finally:
        if os.path.exists(out):
            os.unlink(out)


def load_known():
    known = []
    for line in open(KNOWN):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        pattern, _, reason = line.partition(" | ")
        known.append([pattern.strip(), reason.strip(), 0])
    return known


def group(diffs):
    """Merge the rows that differ only by socket type into one row naming the types."""
    rows = {}
    for name, ours, theirs in diffs:
        parts = name.split("/")
        if parts[0] == "opt" and parts[2] in SOCKET_TYPES:
            key = ("/".join(parts[:2] + ["*"] + parts[3:]), ours, theirs)
            rows.setdefault(key, []).append(parts[2])
        else:
            rows.setdefault((name, ours, theirs), [])
    out = []
    for (name, ours, theirs), types in rows.items():
        if types:
            label = "all" if len(types) == len(SOCKET_TYPES) else ",".join(types)
            name = name.replace("/*/", "/%s/" % label)
        out.append((name, ours, theirs))
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        global MULTICAST
        MULTICAST = sys.argv[4] == "1"
        child(sys.argv[2], sys.argv[3])
        return 0
    ours = os.path.join(ROOT, "target", "release", "libzmq.so")
    theirs = "/usr/lib/x86_64-linux-gnu/libzmq.so.5"
    show_all = False
    pattern = "*"
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--ours":
            ours = args.pop(0)
        elif a == "--theirs":
            theirs = args.pop(0)
        elif a == "--all":
            show_all = True
        elif a == "--filter":
            pattern = args.pop(0)
        else:
            print(__doc__)
            return 2
    for path in (ours, theirs):
        if not os.path.exists(path):
            print("differential: %s is missing" % path)
            return 2
    prefix = isolated()
    if prefix is None:
        print("differential: no network namespace here; the multicast endpoints (pgm, epgm, "
              "norm) are left out")
    a = run_probe(ours, prefix)
    b = run_probe(theirs, prefix)
    names = [n for n in a if fnmatch.fnmatchcase(n, pattern)]
    diffs = [(n, a[n], b.get(n, "-")) for n in names if a[n] != b.get(n, "-")]
    known = load_known()
    unlisted = 0
    rows = diffs if show_all else group(diffs)
    print("%-70s  %-40s  %s" % ("case", "ours", "libzmq"))
    for name, x, y in rows:
        reason = None
        for k in known:
            if fnmatch.fnmatchcase(name, k[0]):
                k[2] += 1
                reason = k[1]
                break
        if reason is None:
            unlisted += 1
        print("%s %-68s  %-40s  %s" % (" " if reason else "!", name, x, y))
        if reason:
            print("    -> %s" % reason)
    # Without a namespace the multicast endpoints were not tried: their lines cannot match.
    skipped = ("pgm://", "norm://") if prefix is None else ()
    stale = [k[0] for k in known if k[2] == 0 and not any(x in k[0] for x in skipped)
             ] if pattern == "*" and not show_all else []
    for k in stale:
        print("! listed in differential-known.txt but no longer different: %s" % k)
    print("differential: %d cases, %d differences (%d rows), %d not listed, %d stale entries"
          % (len(names), len(diffs), len(rows), unlisted, len(stale)))
    return 1 if unlisted or stale else 0


if __name__ == "__main__":
    sys.exit(main())
