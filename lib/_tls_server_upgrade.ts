/**
 * The server side of STARTTLS: a plain connection a listener accepted (a
 * `Deno.TcpConn`) becomes TLS with this end as the server. `Deno.startTls`
 * is client-only; Deno's `node:tls` runs a server `TLSSocket` over any
 * duplex stream, so the plain connection is wrapped in one.
 *
 * @module
 */

import * as tls from "node:tls";
import type { Certificate } from "./certificate.ts";
import type { SocketConnection } from "./socket_connection.ts";
import { SocketProtectionLevel } from "./socket_protection_level.ts";
import { NodeTlsConnection } from "./_tls_node_connection.ts";
import { ConnectionDuplex } from "./_connection_duplex.ts";
import { privateKeys } from "./_tls_private_keys.ts";

/** What the server side of the handshake needs. */
export interface TlsServerUpgradeSettings {
  serverCertificate: Certificate;
  clientCertificateRequired: boolean;
  trustedClientRoots: readonly Certificate[];
}

/** The TLS connection and what its handshake told. */
export interface TlsServerUpgradeResult {
  connection: NodeTlsConnection;
  protectionLevel: SocketProtectionLevel;
  clientCertificate: Certificate | undefined;
}

/**
 * Runs the server side of a TLS handshake over `conn`, which it owns from
 * now on (closed if the handshake fails or `signal` aborts).
 */
export async function upgradeTlsServer(
  conn: SocketConnection,
  settings: TlsServerUpgradeSettings,
  signal: AbortSignal | undefined,
): Promise<TlsServerUpgradeResult> {
  signal?.throwIfAborted();
  const roots = settings.trustedClientRoots.map((c) => c.pem);
  // A tls.Server that never listens: handed the connection, it runs the
  // server handshake, and (unlike a bare server TLSSocket in Deno's
  // node:tls) requests and verifies client certificates.
  const server = tls.createServer({
    cert: settings.serverCertificate.pem,
    key: privateKeys.get(settings.serverCertificate)!,
    minVersion: "TLSv1.2",
    allowHalfOpen: true,
    requestCert: settings.clientCertificateRequired || roots.length > 0,
    rejectUnauthorized: settings.clientCertificateRequired,
    ...(roots.length === 0 ? {} : { ca: roots }),
  });
  const duplex = new ConnectionDuplex(conn);
  const { promise, resolve, reject } = Promise.withResolvers<tls.TLSSocket>();
  const onAbort = (): void => reject(signal?.reason);
  const onLeft = (): void =>
    reject(
      new Deno.errors.ConnectionReset(
        "The client closed the connection during the TLS handshake",
      ),
    );
  server.once("secureConnection", resolve);
  server.once("tlsClientError", reject);
  // The end too: node:tls over a half-open duplex waits for good when the
  // client sends its end (FIN) before finishing the handshake.
  duplex.once("end", onLeft);
  duplex.once("close", onLeft);
  signal?.addEventListener("abort", onAbort, { once: true });
  let socket: tls.TLSSocket;
  try {
    server.emit("connection", duplex);
    socket = await promise;
  } catch (error) {
    duplex.destroy();
    throw error;
  } finally {
    server.off("secureConnection", resolve);
    server.off("tlsClientError", reject);
    duplex.off("end", onLeft);
    duplex.off("close", onLeft);
    signal?.removeEventListener("abort", onAbort);
  }
  // Backpressure pauses the duplex, not the socket (`_node_net_connection.ts`).
  const connection = new NodeTlsConnection(socket, {
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
  }, duplex);
  return {
    connection,
    protectionLevel: connection.protocol === "TLSv1.3"
      ? SocketProtectionLevel.Tls13
      : SocketProtectionLevel.Tls12,
    clientCertificate: socket.authorized
      ? connection.peerCertificate()
      : undefined,
  };
}
