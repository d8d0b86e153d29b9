#!/usr/bin/env python3
"""Writes the seed corpus of fxp_decode_fuzzer: valid SFTP v3 replies as an
OpenSSH sftp-server sends them, one or several per file. Re-run after
changing it:  test/fuzz/gen_corpus.py test/fuzz/fxp_decode_fuzzer.corpus
"""
import os
import struct
import sys


def u32(v):
    return struct.pack('>I', v)


def u64(v):
    return struct.pack('>Q', v)


def string(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def packet(ptype, body, rid=None):
    payload = bytes([ptype]) + (b'' if rid is None else u32(rid)) + body
    return u32(len(payload)) + payload


def attrs(size=None, uidgid=None, perm=None, times=None, ext=None):
    """An ATTRS block; each argument present sets its flag, in wire order."""
    fields = [(0x1, size, lambda v: u64(v)),
              (0x2, uidgid, lambda v: u32(v[0]) + u32(v[1])),
              (0x4, perm, lambda v: u32(v)),
              (0x8, times, lambda v: u32(v[0]) + u32(v[1])),
              (0x80000000, ext, lambda v: u32(len(v)) + b''.join(
                  string(k) + string(d) for k, d in v))]
    flags, body = 0, b''
    for flag, value, enc in fields:
        if value is not None:
            flags |= flag
            body += enc(value)
    return u32(flags) + body


EXTS = [('posix-rename@openssh.com', '1'), ('statvfs@openssh.com', '2'),
        ('fstatvfs@openssh.com', '2'), ('hardlink@openssh.com', '1'),
        ('fsync@openssh.com', '1'), ('lsetstat@openssh.com', '1'),
        ('limits@openssh.com', '1'), ('expand-path@openssh.com', '1'),
        ('copy-data', '1'), ('home-directory', '1'),
        ('users-groups-by-id@openssh.com', '1')]


def seeds():
    full = attrs(4096, (0, 0), 0o40755, (1700000000, 1700000001))
    yield 'version', packet(2, u32(3) + b''.join(string(k) + string(v) for k, v in EXTS))
    yield 'version_bare', packet(2, u32(3))
    yield 'status_ok', packet(101, u32(0) + string('Success') + string(''), 1)
    yield 'status_nofile', packet(101, u32(2) + string('No such file') + string('en'), 2)
    yield 'status_codeonly', packet(101, u32(4), 3)
    yield 'handle', packet(102, string(b'\x00\x00\x00\x01'), 4)
    yield 'data', packet(103, string(bytes(range(256)) * 4), 5)
    yield 'data_empty', packet(103, string(b''), 6)
    yield 'attrs', packet(105, full, 7)
    yield 'attrs_ext', packet(105, attrs(1, ext=[('a@b', '1'), ('c@d', 'xyz')]), 8)
    names = [('.', full), ('..', full),
             ('file.txt', attrs(12, (1000, 1000), 0o100644, (1, 2))),
             ('link', attrs(4, (1000, 1000), 0o120777, (3, 4)))]
    body = u32(len(names)) + b''.join(
        string(n) + string('-rw-r--r--  1 u g 12 Jan 1 00:00 ' + n) + a for n, a in names)
    yield 'name_readdir', packet(104, body, 9)
    yield 'name_realpath', packet(104, u32(1) + string('/home/u') + string('') + attrs(), 10)
    yield 'statvfs', packet(201, b''.join(u64(v) for v in
                                          (4096, 4096, 1 << 20, 1 << 19, 1 << 19, 65536,
                                           60000, 60000, 0x1234, 1, 255)), 11)
    yield 'limits', packet(201, u64(262144) + u64(261120) + u64(261120) + u64(19995), 12)
    stream = b''.join(packet(101, u32(0) + string('') + string(''), i) for i in range(13, 16))
    yield 'stream', stream + packet(103, string(b'xyz'), 16)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'fxp_decode_fuzzer.corpus')
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
