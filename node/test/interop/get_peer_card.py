"""Calls /tracenet.v1.Federation/GetPeerCard from gRPC C-core (Debian's python3-grpcio).

Usage: get_peer_card.py <address> <server-cert.pem> [<client-cert.pem> <client-key.pem>]

Trusts only the node's own certificate, sends the server name `tracenet-peer` as target name
override (docs/protocol.md 2.5; TRACENET_TARGET_NAME gives another, for a negative test) and,
when given, presents the client certificate. Prints one JSON
line: {"ok": true, "response": "<hex of GetPeerCardResponse>"} or {"ok": false, "code": "<gRPC
status>", "details": "..."}; the request is the empty GetPeerCardRequest, so no generated code is
needed.
"""
import json
import os
import sys

import grpc


def main() -> None:
    address, server_cert = sys.argv[1], sys.argv[2]
    with open(server_cert, "rb") as f:
        root = f.read()
    chain = key = None
    if len(sys.argv) > 3:
        with open(sys.argv[3], "rb") as f:
            chain = f.read()
        with open(sys.argv[4], "rb") as f:
            key = f.read()
    credentials = grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=chain)
    target_name = os.environ.get("TRACENET_TARGET_NAME", "tracenet-peer")
    options = [("grpc.ssl_target_name_override", target_name)]
    with grpc.secure_channel(address, credentials, options=options) as channel:
        get_peer_card = channel.unary_unary("/tracenet.v1.Federation/GetPeerCard")
        try:
            response = get_peer_card(b"", timeout=10)
        except grpc.RpcError as error:
            print(json.dumps({"ok": False, "code": error.code().name, "details": error.details()}))
            return
    print(json.dumps({"ok": True, "response": response.hex(), "grpcio": grpc.__version__}))


if __name__ == "__main__":
    main()
