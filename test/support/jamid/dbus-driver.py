#!/usr/bin/python3
"""JSON-lines bridge between a test process and one D-Bus bus, for test/support/jamid.ts.

Run with the system interpreter (/usr/bin/python3, which has the Debian python3-dbus and python3-gi
packages): dbus-driver.py <bus address>

stdin, one JSON object a line:
  {"id": 1, "dest": "...", "path": "...", "iface": "...", "method": "...", "signature": "a{ss}",
   "args": [...], "timeout": 25}
stdout, one JSON object a line:
  {"type": "ready", "unique_name": ":1.0"}                  once connected and subscribed
  {"type": "reply", "id": 1, "result": [...]}               the method's out arguments
  {"type": "error", "id": 1, "name": "org.freedesktop.DBus.Error.NoReply", "message": "..."}
  {"type": "signal", "t": 1712.5, "sender": ":1.1", "path": "...", "interface": "...",
   "member": "...", "args": [...]}                          every signal on the bus, in arrival order

Every signal on the bus is subscribed to before "ready" is printed, so signals caused by any later
call are never missed. The process exits when stdin closes.
"""
import json
import os
import sys
import time

import dbus
import dbus.bus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib


def to_json(value):
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Dictionary, dict)):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (dbus.ByteArray, bytes)):
        return list(bytes(value))
    if isinstance(value, (dbus.Array, dbus.Struct, list, tuple)):
        return [to_json(v) for v in value]
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
        sys.stderr.write("usage: dbus-driver.py <bus address>\n")
        return 2
    loop = GLib.MainLoop()
    bus = dbus.bus.BusConnection(sys.argv[1], mainloop=DBusGMainLoop())

    def on_signal(*args, **kw):
        emit(
            {
                "type": "signal",
                "t": time.monotonic() * 1000,
                "sender": str(kw.get("sender") or ""),
                "path": str(kw.get("path") or ""),
                "interface": str(kw.get("interface") or ""),
                "member": str(kw.get("member") or ""),
                "args": to_json(list(args)),
            }
        )

    bus.add_signal_receiver(
        on_signal,
        sender_keyword="sender",
        path_keyword="path",
        interface_keyword="interface",
        member_keyword="member",
    )
    # A round trip after AddMatch: the bus has applied the match rule before we report ready.
    bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", "", ())
    emit({"type": "ready", "unique_name": str(bus.get_unique_name())})

    pending = bytearray()

    def handle(request):
        rid = request.get("id")

        def on_reply(*out):
            emit({"type": "reply", "id": rid, "result": to_json(list(out))})

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
        except Exception as err:  # bad arguments for the signature, unknown keys, ...
            on_error(err)

    def on_stdin(fd, condition):
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
