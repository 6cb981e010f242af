#!/usr/bin/python3
"""D-Bus bridge of `enclave-agent host-room`: one private session bus, JSON lines on stdin/stdout.

Run with the system interpreter (Debian python3-dbus and python3-gi): host-room-dbus.py <bus address>

stdin:  {"id": 1, "dest": "...", "path": "...", "iface": "...", "method": "...", "signature": "s", "args": [...]}
stdout: {"type": "ready"} once connected and subscribed to the daemon's signals;
        {"type": "reply", "id": 1, "result": [...]} or {"type": "error", "id": 1, "name": "...", "message": "..."};
        {"type": "signal", "member": "...", "args": [...]} for signals of the cx.ring.Ring interfaces.
Exits when stdin closes or the bus goes away.
"""
import json
import os
import sys

import dbus
import dbus.bus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib


def plain(value):
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Dictionary, dict)):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (dbus.ByteArray, bytes)):
        return list(bytes(value))
    if isinstance(value, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def emit(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: host-room-dbus.py <bus address>\n")
        return 2
    loop = GLib.MainLoop()
    bus = dbus.bus.BusConnection(sys.argv[1], mainloop=DBusGMainLoop())
    bus.call_on_disconnection(lambda _conn: loop.quit())

    def on_signal(*args, **kw):
        interface = str(kw.get("interface") or "")
        if interface.startswith("cx.ring.Ring."):
            emit({"type": "signal", "member": str(kw.get("member") or ""), "args": plain(list(args))})

    bus.add_signal_receiver(on_signal, interface_keyword="interface", member_keyword="member")
    bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", "", ())
    emit({"type": "ready"})
    pending = bytearray()

    def handle(request):
        rid = request.get("id")

        def on_reply(*out):
            emit({"type": "reply", "id": rid, "result": plain(list(out))})

        def on_error(err):
            name = err.get_dbus_name() if isinstance(err, dbus.DBusException) else type(err).__name__
            emit({"type": "error", "id": rid, "name": name or "", "message": str(err)})

        try:
            bus.call_async(
                request["dest"],
                request["path"],
                request["iface"],
                request["method"],
                request.get("signature", ""),
                tuple(request.get("args", [])),
                on_reply,
                on_error,
                timeout=float(request.get("timeout", 25)),
            )
        except Exception as err:
            on_error(err)

    def on_stdin(fd, _condition):
        chunk = os.read(fd, 65536)
        if not chunk:
            loop.quit()
            return False
        pending.extend(chunk)
        while b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            if line.strip():
                handle(json.loads(line))
        return True

    GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, on_stdin)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
