/**
 * A {@linkcode SocketConnection} over a `node:tls` `TLSSocket`, so that
 * stream sockets can use what Deno's `node:tls` offers and `Deno.connectTls`
 * / `Deno.listenTls` do not: client-certificate verification on the server,
 * the peer's certificate, and the negotiated protocol version.
 *
 * @module
 */

import type { TLSSocket } from "node:tls";
import { Certificate } from "./certificate.ts";
import { NodeNetConnection } from "./_node_net_connection.ts";

/** Adapts a connected (handshaken) `TLSSocket`; it owns the socket from now on. */
export class NodeTlsConnection extends NodeNetConnection<TLSSocket> {
  /** Deno's node:tls encrypts a write into records before `write` returns. */
  protected override get copiesWrites(): boolean {
    return true;
  }

  /** The negotiated protocol (`"TLSv1.2"`, `"TLSv1.3"`), when known. */
  get protocol(): string | undefined {
    return this.socket.getProtocol() ?? undefined;
  }

  /** The certificate the peer presented, when it presented one. */
  peerCertificate(): Certificate | undefined {
    const peer = this.socket.getPeerCertificate();
    if (peer === null || peer === undefined || peer.raw === undefined) {
      return undefined;
    }
    return Certificate.fromDer(new Uint8Array(peer.raw));
  }
}
