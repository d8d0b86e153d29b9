#!/usr/bin/python3
"""delayproxy: a TCP proxy on loopback that adds latency, for tests and benches.

    delayproxy.py --target 127.0.0.1:PORT [--listen 127.0.0.1:0] [--delay-ms 10]
                  [--control stdin|none]

Prints `listening HOST:PORT` on stdout once it accepts connections.

Model. Each direction of each connection is a queue of (due time, chunk):
a chunk read at time t is written at t + delay. Reading never waits for the
delay, so throughput is not limited by it (a 10 ms one-way delay each way is
a 20 ms RTT, and the full bandwidth-delay product stays in flight). Up to
HIGH_WATER bytes are held per direction; beyond that, and while the far
side's socket buffer is full, reading pauses (TCP backpressure, as a real
link would do). EOF and resets travel through the queue too, so they arrive
after the data that preceded them, delayed like it.

Control (one command per line on stdin with --control stdin; each answered
with a line starting `ok`, or `error ...`):
  stall         hold every byte in both directions, on all connections, with
                no FIN and no RST: to both ends the link looks dead
  resume        deliver what was held and carry on (as TCP would after an outage)
  cut           reset every connection (RST to both ends) and forget it
  down          cut, and stop listening: new connections are refused (RST to
                the SYN, ECONNREFUSED), as when the server's host is down
  up            listen again on the same address and port
  delay MS      change the one-way delay for data read from now on
  stats         `ok connections=N bytes_up=N bytes_down=N`
  quit
EOF on stdin also quits, so a killed test cannot leak the proxy.
Signals: SIGUSR1 toggles stall, SIGUSR2 cuts, SIGTERM/SIGINT quit.
"""

import argparse
import asyncio
import collections
import signal
import socket
import struct
import sys

HIGH_WATER = 32 * 1024 * 1024  # bytes held per direction before reading pauses
_EOF = object()
_RESET = object()


class Proxy:
    def __init__(self, loop, target, delay):
        self.loop = loop
        self.target = target
        self.delay = delay
        self.stalled = False
        self.conns = set()
        self.bytes = {'up': 0, 'down': 0}
        self.server = None
        self.addr = None
        self.up_task = None

    def set_stall(self, on):
        self.stalled = on
        if not on:
            for c in list(self.conns):
                c.up.kick()
                c.down.kick()

    def cut(self):
        for c in list(self.conns):
            c.reset()

    def listen(self, host, port):
        """Start accepting on host:port (the future resolves to the server)."""
        return self.loop.create_server(_client_factory(self), host, port, backlog=128,
                                       reuse_address=True)

    def go_down(self):
        if self.up_task is not None:
            self.up_task.cancel()
            self.up_task = None
        if self.server is not None:
            self.server.close()
            self.server = None
        self.cut()

    def go_up(self):
        """Listen again on the same port; an error text when it is taken.
        The socket listens at once; asyncio starts serving it a moment
        later (connections wait in the backlog meanwhile)."""
        if self.server is not None or self.up_task is not None:
            return None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(self.addr)
            sock.listen(128)
            sock.setblocking(False)
        except OSError as e:
            sock.close()
            return 'cannot listen on %s:%d again: %s' % (self.addr[0], self.addr[1], e)

        async def serve():
            try:
                self.server = await self.loop.create_server(_client_factory(self), sock=sock)
            except BaseException:
                sock.close()
                raise
            finally:
                self.up_task = None
        self.up_task = self.loop.create_task(serve())
        return None


class Half:
    """One direction: read from src, write to dst after the delay."""

    def __init__(self, conn, name):
        self.conn = conn
        self.proxy = conn.proxy
        self.name = name
        self.src = None  # transports, set once both sides exist
        self.dst = None
        self.queue = collections.deque()
        self.held = 0
        self.timer = None
        self.dst_paused = False
        self.src_paused = False
        self.done = False

    def push(self, item, size=0):
        if self.conn.closed:
            return
        self.queue.append((self.proxy.loop.time() + self.proxy.delay, item))
        self.held += size
        self.update_reading()
        self.kick()

    def kick(self):
        if self.timer is not None or not self.queue or self.proxy.stalled or self.dst is None:
            return
        self.timer = self.proxy.loop.call_at(self.queue[0][0], self.flush)

    def flush(self):
        self.timer = None
        now = self.proxy.loop.time()
        while self.queue and not self.proxy.stalled and self.queue[0][0] <= now:
            _, item = self.queue.popleft()
            if item is _EOF:
                self.finish_eof()
            elif item is _RESET:
                self.conn.reset()
                return
            else:
                self.held -= len(item)
                self.proxy.bytes[self.name] += len(item)
                self.dst.write(item)
        self.update_reading()
        self.kick()

    def finish_eof(self):
        self.done = True
        if self.dst.can_write_eof():
            self.dst.write_eof()
        self.conn.maybe_close()

    def update_reading(self):
        if self.src is None or self.src.is_closing():
            return
        want_pause = self.held > HIGH_WATER or self.dst_paused
        if want_pause and not self.src_paused:
            self.src.pause_reading()
        elif not want_pause and self.src_paused:
            self.src.resume_reading()
        self.src_paused = want_pause


class Side(asyncio.Protocol):
    """The protocol of one socket; `inbound` is the Half it feeds."""

    def __init__(self, conn, inbound, outbound):
        self.conn = conn
        self.inbound = inbound
        self.outbound = outbound

    def connection_made(self, transport):
        self.inbound.src = transport
        self.outbound.dst = transport
        self.outbound.kick()
        self.inbound.update_reading()

    def data_received(self, data):
        self.inbound.push(data, len(data))

    def eof_received(self):
        self.inbound.push(_EOF)
        return True  # keep our sending side open (half close)

    def connection_lost(self, exc):
        if not self.conn.closed:
            # an abortive close (RST) is passed on as one, after the data
            self.inbound.push(_RESET if exc is not None else _EOF)

    def pause_writing(self):
        self.outbound.dst_paused = True
        self.outbound.update_reading()

    def resume_writing(self):
        self.outbound.dst_paused = False
        self.outbound.update_reading()


class Conn:
    def __init__(self, proxy):
        self.proxy = proxy
        self.closed = False
        self.up = Half(self, 'up')      # client -> server
        self.down = Half(self, 'down')  # server -> client
        self.client = Side(self, self.up, self.down)
        self.server = Side(self, self.down, self.up)
        proxy.conns.add(self)

    async def connect(self):
        host, port = self.proxy.target
        try:
            await self.proxy.loop.create_connection(lambda: self.server, host, port)
        except OSError:
            self.reset()

    def maybe_close(self):
        if self.up.done and self.down.done:
            self.close(abort=False)

    def reset(self):
        self.close(abort=True)

    def close(self, abort):
        if self.closed:
            return
        self.closed = True
        self.proxy.conns.discard(self)
        for h in (self.up, self.down):
            if h.timer is not None:
                h.timer.cancel()
            h.queue.clear()
        for t in (self.up.src, self.down.src):
            if t is None:
                continue
            if abort:
                _set_rst(t)
                t.abort()
            else:
                t.close()


def _set_rst(transport):
    sock = transport.get_extra_info('socket')
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        except OSError:
            pass


def _client_factory(proxy):
    def make():
        conn = Conn(proxy)
        proxy.loop.create_task(conn.connect())
        return conn.client
    return make


def _hostport(s):
    host, port = s.rsplit(':', 1)
    return host, int(port)


def _command(proxy, line, stop):
    words = line.split()
    if not words:
        return None
    cmd = words[0]
    if cmd == 'stall':
        proxy.set_stall(True)
    elif cmd == 'resume':
        proxy.set_stall(False)
    elif cmd == 'cut':
        proxy.cut()
    elif cmd == 'down':
        proxy.go_down()
    elif cmd == 'up':
        err = proxy.go_up()
        if err:
            return 'error ' + err
    elif cmd == 'delay' and len(words) == 2:
        proxy.delay = float(words[1]) / 1000.0
    elif cmd == 'stats':
        return 'ok connections=%d bytes_up=%d bytes_down=%d' % (
            len(proxy.conns), proxy.bytes['up'], proxy.bytes['down'])
    elif cmd == 'quit':
        stop()
    else:
        return 'error unknown command: ' + line.strip()
    return 'ok'


def _add_control(loop, proxy, stop):
    buf = bytearray()

    def readable():
        data = sys.stdin.buffer.raw.read(4096)
        if not data:
            stop()
            return
        buf.extend(data)
        while b'\n' in buf:
            line, _, rest = bytes(buf).partition(b'\n')
            buf[:] = rest
            ans = _command(proxy, line.decode(errors='replace'), stop)
            if ans is not None:
                sys.stdout.write(ans + '\n')
                sys.stdout.flush()
    loop.add_reader(sys.stdin.fileno(), readable)


async def main(args):
    loop = asyncio.get_running_loop()
    proxy = Proxy(loop, _hostport(args.target), args.delay_ms / 1000.0)
    host, port = _hostport(args.listen)
    server = await proxy.listen(host, port)
    proxy.server = server
    proxy.addr = server.sockets[0].getsockname()[:2]
    done = loop.create_future()

    def stop():
        if not done.done():
            done.set_result(None)
    loop.add_signal_handler(signal.SIGTERM, stop)
    loop.add_signal_handler(signal.SIGINT, stop)
    loop.add_signal_handler(signal.SIGUSR1, lambda: proxy.set_stall(not proxy.stalled))
    loop.add_signal_handler(signal.SIGUSR2, proxy.cut)
    if args.control == 'stdin':
        _add_control(loop, proxy, stop)
    addr = server.sockets[0].getsockname()
    sys.stdout.write('listening %s:%d\n' % (addr[0], addr[1]))
    sys.stdout.flush()
    await done
    proxy.go_down()


def parse(argv):
    ap = argparse.ArgumentParser(description='TCP proxy adding a fixed one-way delay')
    ap.add_argument('--target', required=True, help='HOST:PORT to forward to')
    ap.add_argument('--listen', default='127.0.0.1:0', help='HOST:PORT (port 0: any)')
    ap.add_argument('--delay-ms', type=float, default=10.0, help='one-way delay per direction')
    ap.add_argument('--control', choices=['stdin', 'none'], default='none')
    return ap.parse_args(argv)


if __name__ == '__main__':
    asyncio.run(main(parse(sys.argv[1:])))
