#!/usr/bin/python3
"""fake_sftp_server: a misbehaving SFTP v3 server on stdin/stdout, for the
engine's hostile-server tests (fxc-cli --fd-cmd "python3 fake_sftp_server.py MODE").

It speaks real SFTP framing and serves one in-memory file, /file (FILE_SIZE
bytes of a known pattern, see pattern()), plus / as a directory, so that a
client can get far enough for each misbehaviour to hit a request in flight.

Modes (one per run):
  honest        behaves (the control case)
  random        answers the first request with random bytes, then silence
  zero-length   answers with a packet whose length field is 0
  huge-length   answers with a length of 0xfffffff0
  unknown-id    answers with a request id nobody sent
  name-count    answers REALPATH/READDIR with NAME count 1e9
  wrong-type    answers OPEN with ATTRS instead of HANDLE
  truncated     sends the first half of a reply, then silence
  silence       reads requests, never answers
  short-reads   READ returns at most 1000 bytes (legal; the client re-requests)
  zero-data     READ returns empty DATA forever (the client must give up)
  too-much-data READ returns more bytes than asked
  version-garbage  answers INIT with random bytes
  version-6     answers INIT with VERSION 6
  close-early   closes stdout after VERSION

"Silence" keeps reading stdin so the process ends when the client closes
the pipe: nothing outlives the test.
"""

import os
import random
import select
import struct
import sys

FILE_SIZE = 1 << 20
MODES = ('honest random zero-length huge-length unknown-id name-count wrong-type truncated '
         'silence short-reads zero-data too-much-data version-garbage version-6 '
         'close-early').split()

EXTS = [(b'posix-rename@openssh.com', b'1'), (b'statvfs@openssh.com', b'2'),
        (b'limits@openssh.com', b'1')]


def pattern(off, n):
    """Bytes [off, off+n) of /file: byte i is (i * 7 + i // 251) & 0xff."""
    return bytes(((i * 7 + i // 251) & 0xff) for i in range(off, off + n))


FILE = pattern(0, FILE_SIZE)


def u32(v):
    return struct.pack('>I', v)


def u64(v):
    return struct.pack('>Q', v)


def string(b):
    return u32(len(b)) + b


def packet(ptype, payload):
    body = bytes([ptype]) + payload
    return u32(len(body)) + body


def status(rid, code, msg=b''):
    return packet(101, u32(rid) + u32(code) + string(msg) + string(b''))


def attrs_file():
    return u32(0x1 | 0x4) + u64(FILE_SIZE) + u32(0o100644)


def attrs_dir():
    return u32(0x4) + u32(0o40755)


class Server:
    def __init__(self, mode):
        self.mode = mode
        self.inbuf = b''
        self.out = sys.stdout.buffer
        self.dir_listed = False

    def send(self, data):
        try:
            self.out.write(data)
            self.out.flush()
        except BrokenPipeError:
            sys.exit(0)

    def read_packet(self):
        """One whole packet (type byte + payload), or None at EOF."""
        while True:
            if len(self.inbuf) >= 4:
                n = struct.unpack('>I', self.inbuf[:4])[0]
                if len(self.inbuf) >= 4 + n:
                    pkt = self.inbuf[4:4 + n]
                    self.inbuf = self.inbuf[4 + n:]
                    return pkt
            chunk = os.read(0, 1 << 16)
            if not chunk:
                return None
            self.inbuf += chunk

    def silence(self):
        """Never answer again; leave when the client closes the pipe."""
        while True:
            select.select([0], [], [])
            if not os.read(0, 1 << 16):
                sys.exit(0)

    def version(self):
        if self.mode == 'version-garbage':
            self.send(random.Random(1).randbytes(300))
            self.silence()
        v = 6 if self.mode == 'version-6' else 3
        self.send(packet(2, u32(v) + b''.join(string(k) + string(d) for k, d in EXTS)))
        if self.mode == 'close-early':
            os.close(1)  # sys.stdout.close() would leave fd 1 open
            self.silence()

    def hostile(self, rid, ptype):
        """The reply for modes that break on the first request, or None."""
        m = self.mode
        if m == 'random':
            return random.Random(2).randbytes(5000)
        if m == 'zero-length':
            return u32(0)
        if m == 'huge-length':
            return u32(0xfffffff0) + b'\x65' * 64
        if m == 'unknown-id':
            return status(rid + 1000, 0)
        if m == 'name-count' and ptype in (16, 12):
            return packet(104, u32(rid) + u32(1000000000) + string(b'x') + string(b'') + u32(0))
        if m == 'wrong-type' and ptype == 3:
            return packet(105, u32(rid) + attrs_file())
        if m == 'truncated':
            whole = packet(104, u32(rid) + u32(1) + string(b'/') + string(b'') + attrs_dir())
            return whole[:len(whole) // 2]
        return None

    def read_reply(self, rid, off, n):
        if off >= FILE_SIZE:
            return status(rid, 1, b'EOF')
        if self.mode == 'short-reads':
            n = min(n, 1000)
        if self.mode == 'zero-data':
            n = 0
        data = FILE[off:off + n]
        if self.mode == 'too-much-data':
            data = data + b'x' * 10
        return packet(103, u32(rid) + string(data))

    def honest(self, rid, ptype, body):
        path = None
        if ptype in (7, 17, 16, 11, 3):
            n = struct.unpack('>I', body[:4])[0]
            path = body[4:4 + n]
        if ptype == 16:  # REALPATH
            p = b'/' if path in (b'.', b'', b'/') else path
            return packet(104, u32(rid) + u32(1) + string(p) + string(b'') + u32(0))
        if ptype in (7, 17):  # LSTAT, STAT
            if path == b'/file':
                return packet(105, u32(rid) + attrs_file())
            if path == b'/':
                return packet(105, u32(rid) + attrs_dir())
            return status(rid, 2, b'No such file')
        if ptype == 3 and path == b'/file':  # OPEN
            return packet(102, u32(rid) + string(b'F'))
        if ptype == 11 and path == b'/':  # OPENDIR
            self.dir_listed = False
            return packet(102, u32(rid) + string(b'D'))
        if ptype == 12:  # READDIR
            if self.dir_listed:
                return status(rid, 1, b'EOF')
            self.dir_listed = True
            ents = [(b'.', attrs_dir()), (b'file', attrs_file()), (b'a/b', attrs_file()),
                    (b'', attrs_file())]
            return packet(104, u32(rid) + u32(len(ents)) + b''.join(
                string(n) + string(n) + a for n, a in ents))
        if ptype == 5:  # READ
            hl = struct.unpack('>I', body[:4])[0]
            off, n = struct.unpack('>QI', body[4 + hl:4 + hl + 12])
            return self.read_reply(rid, off, n)
        if ptype == 4:  # CLOSE
            return status(rid, 0)
        if ptype == 200:  # EXTENDED
            n = struct.unpack('>I', body[:4])[0]
            if body[4:4 + n] == b'limits@openssh.com':
                return packet(201, u32(rid) + u64(262144) + u64(261120) + u64(261120)
                              + u64(100))
            return packet(201, u32(rid) + b''.join(u64(v) for v in (4096,) * 11))
        return status(rid, 8, b'unsupported')

    def run(self):
        init = self.read_packet()
        if init is None or init[0] != 1:
            return
        self.version()
        while True:
            pkt = self.read_packet()
            if pkt is None:
                return
            ptype, rid = pkt[0], struct.unpack('>I', pkt[1:5])[0]
            # limits@ is part of the client's start-up: answer it, so the
            # misbehaviour hits requests made after the engine is running.
            if ptype == 200 and b'limits@openssh.com' in pkt[5:40]:
                self.send(self.honest(rid, ptype, pkt[5:]))
                continue
            if self.mode == 'silence':
                self.silence()
            bad = self.hostile(rid, ptype)
            if bad is not None:
                self.send(bad)
                self.silence()
            self.send(self.honest(rid, ptype, pkt[5:]))


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.stderr.write('usage: fake_sftp_server.py MODE\nmodes: %s\n' % ' '.join(MODES))
        sys.exit(2)
    Server(sys.argv[1]).run()


if __name__ == '__main__':
    main()
