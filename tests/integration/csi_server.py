#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A CSI Identity/Node gRPC server on a unix socket for vigil's tests, built on python3-grpcio.

Run with Debian's /usr/bin/python3 (python3-grpcio). Its behaviour is switched at run time by a
control file holding one line, re-read on every call:

  healthy            plugin info, ready=true, two node capabilities
  not-ready          Probe answers ready=false
  no-ready           Probe answers without the ready field (the spec counts that as ready)
  slow SECONDS       Probe sleeps that long before answering
  unimplemented      Probe answers UNIMPLEMENTED
  node-unimplemented NodeGetCapabilities answers UNIMPLEMENTED (a plugin without a Node service)
  error              GetPluginInfo answers INTERNAL "backend exploded: 50% of disks gone"

Responses are encoded by hand (the messages are tiny), so no generated Python code is needed.

usage: csi_server.py SOCKET CONTROL_FILE
"""
import sys
import time
from concurrent import futures

import grpc

PLUGIN_NAME = "csi.alluxio.com"
PLUGIN_VERSION = "2.9.0-test"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number, value):
    return varint(number << 3) + varint(value)


class Csi:
    def __init__(self, control):
        self.control = control

    def mode(self):
        try:
            with open(self.control) as f:
                words = f.read().split()
        except OSError:
            words = []
        return (words[0], words[1:]) if words else ("healthy", [])

    def get_plugin_info(self, request, context):
        mode, _ = self.mode()
        if mode == "error":
            context.abort(grpc.StatusCode.INTERNAL, "backend exploded: 50% of disks gone")
        return field_bytes(1, PLUGIN_NAME.encode()) + field_bytes(2, PLUGIN_VERSION.encode())

    def probe(self, request, context):
        mode, args = self.mode()
        if mode == "slow":
            time.sleep(float(args[0]) if args else 10)
        if mode == "unimplemented":
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "Probe is not implemented")
        if mode == "no-ready":
            return b""
        value = b"" if mode == "not-ready" else field_varint(1, 1)  # BoolValue{value}
        return field_bytes(1, value)

    def node_get_capabilities(self, request, context):
        mode, _ = self.mode()
        if mode == "node-unimplemented":
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "unknown service csi.v1.Node")
        out = b""
        for rpc_type in (1, 2):  # STAGE_UNSTAGE_VOLUME, GET_VOLUME_STATS
            out += field_bytes(1, field_bytes(1, field_varint(1, rpc_type)))
        return out


def raw(fn):
    return grpc.unary_unary_rpc_method_handler(fn, request_deserializer=None, response_serializer=None)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    socket_path, control = sys.argv[1], sys.argv[2]
    csi = Csi(control)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("csi.v1.Identity", {
            "GetPluginInfo": raw(csi.get_plugin_info),
            "Probe": raw(csi.probe),
        }),
        grpc.method_handlers_generic_handler("csi.v1.Node", {
            "NodeGetCapabilities": raw(csi.node_get_capabilities),
        }),
    ))
    server.add_insecure_port("unix:" + socket_path)
    server.start()
    print("serving", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
