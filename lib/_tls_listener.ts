/**
 * Acceptors for stream-socket listeners: plain TCP (`Deno.listen`), TLS
 * without client authentication (`Deno.listenTls`), and TLS through
 * `node:tls`, which can require and verify client certificates.
 *
 * Every acceptor hands out connections only once their handshake succeeded,
 * so a client that fails it never reaches the application.
 *
 * @module
 */

import * as tls from "node:tls";
import type { Certificate } from "./certificate.ts";
import type { SocketAddress, SocketConnection } from "./socket_connection.ts";
import { SocketProtectionLevel } from "./socket_protection_level.ts";
import { NodeTlsConnection } from "./_tls_node_connection.ts";
import { privateKeys } from "./_tls_private_keys.ts";

/** An accepted connection and its TLS facts. */
export interface Accepted {
  connection: SocketConnection;
  protectionLevel: SocketProtectionLevel;
  serverCertificate: Certificate | undefined;
  clientCertificate: Certificate | undefined;
}

/** Where accepted connections come from. */
export interface Acceptor {
  readonly addr: SocketAddress;
  /** The next connection; rejects once closed. */
  accept(): Promise<Accepted>;
  close(): void;
}

/** TLS settings of a listener. */
export interface TlsListenSettings {
  serverCertificate: Certificate;
  clientCertificateRequired: boolean;
  trustedClientRoots: readonly Certificate[];
  backend: "deno" | "node";
  /** A client failed the handshake; it is dropped and never accepted. */
  clientFailed(error: unknown, remote: SocketAddress): void;
}

/** Socket options of a listener beyond its address. */
export interface ListenSocketOptions {
  /** Sets `SO_REUSEPORT` (checked by the caller: Linux, `--unstable-net`). */
  reusePort?: boolean;
}

/** Opens the acceptor the settings call for. */
export async function listen(
  hostname: string,
  port: number,
  settings: TlsListenSettings | undefined,
  options: ListenSocketOptions = {},
): Promise<Acceptor> {
  // Passed only when set: without --unstable-net, Deno exits on reusePort.
  const reuse = options.reusePort === true ? { reusePort: true } : {};
  if (settings === undefined) return new TcpAcceptor(hostname, port, reuse);
  const needsNode = settings.clientCertificateRequired ||
    settings.trustedClientRoots.length > 0 || settings.backend === "node";
  if (needsNode && options.reusePort === true) {
    throw new TypeError(
      'Cannot bind: "reusePort" is not available on node:tls listeners (client certificates, tlsBackend "node")',
    );
  }
  return needsNode
    ? await NodeTlsAcceptor.listen(hostname, port, settings)
    : new DenoTlsAcceptor(hostname, port, settings, reuse);
}

class TcpAcceptor implements Acceptor {
  #listener: Deno.TcpListener;

  constructor(hostname: string, port: number, reuse: ListenSocketOptions) {
    this.#listener = Deno.listen({
      hostname,
      port,
      transport: "tcp",
      ...reuse,
    });
  }

  get addr(): SocketAddress {
    return this.#listener.addr;
  }

  async accept(): Promise<Accepted> {
    return {
      connection: await this.#listener.accept(),
      protectionLevel: SocketProtectionLevel.PlainSocket,
      serverCertificate: undefined,
      clientCertificate: undefined,
    };
  }

  close(): void {
    this.#listener.close();
  }
}

/** A queue of handshaken connections fed by a background producer. */
class Ready<T> {
  #items: T[] = [];
  #waiting: PromiseWithResolvers<T>[] = [];
  #closed: Error | undefined;

  push(item: T, release: (item: T) => void): void {
    if (this.#closed !== undefined) return release(item);
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.resolve(item);
    else this.#items.push(item);
  }

  take(): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const waiter = Promise.withResolvers<T>();
    this.#waiting.push(waiter);
    return waiter.promise;
  }

  close(error: Error, release: (item: T) => void): void {
    this.#closed ??= error;
    for (const waiter of this.#waiting) waiter.reject(error);
    for (const item of this.#items) release(item);
    this.#waiting = [];
    this.#items = [];
  }
}

class DenoTlsAcceptor implements Acceptor {
  #listener: Deno.TlsListener;
  #ready = new Ready<Deno.TlsConn>();
  #handshaking = new Set<Deno.TlsConn>();
  #certificate: Certificate;
  #clientFailed: TlsListenSettings["clientFailed"];

  constructor(
    hostname: string,
    port: number,
    settings: TlsListenSettings,
    reuse: ListenSocketOptions,
  ) {
    this.#certificate = settings.serverCertificate;
    this.#clientFailed = settings.clientFailed;
    this.#listener = Deno.listenTls({
      hostname,
      port,
      transport: "tcp",
      ...reuse,
      cert: settings.serverCertificate.pem,
      key: privateKeys.get(settings.serverCertificate)!,
    });
    this.#run();
  }

  get addr(): SocketAddress {
    return this.#listener.addr;
  }

  async accept(): Promise<Accepted> {
    return {
      connection: await this.#ready.take(),
      // Deno does not report the negotiated version: at least TLS 1.2.
      protectionLevel: SocketProtectionLevel.Tls12,
      serverCertificate: this.#certificate,
      clientCertificate: undefined,
    };
  }

  close(): void {
    this.#listener.close();
    for (const conn of this.#handshaking) conn.close();
    this.#ready.close(new Deno.errors.BadResource("Listener closed"), release);
  }

  async #run(): Promise<void> {
    while (true) {
      let conn: Deno.TlsConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        this.#ready.close(error as Error, release);
        return;
      }
      this.#handshake(conn);
    }
  }

  async #handshake(conn: Deno.TlsConn): Promise<void> {
    this.#handshaking.add(conn);
    try {
      await conn.handshake();
      this.#ready.push(conn, release);
    } catch (error) {
      // A client that fails the handshake never reaches the application.
      release(conn);
      this.#clientFailed(error, conn.remoteAddr);
    } finally {
      this.#handshaking.delete(conn);
    }
  }
}

class NodeTlsAcceptor implements Acceptor {
  readonly addr: SocketAddress;
  #server: tls.Server;
  #ready = new Ready<tls.TLSSocket>();
  #certificate: Certificate;

  private constructor(
    server: tls.Server,
    addr: SocketAddress,
    certificate: Certificate,
  ) {
    this.#server = server;
    this.addr = addr;
    this.#certificate = certificate;
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      this.#ready.push(socket, destroy);
    });
  }

  static async listen(
    hostname: string,
    port: number,
    settings: TlsListenSettings,
  ): Promise<NodeTlsAcceptor> {
    const roots = settings.trustedClientRoots.map((c) => c.pem);
    const requestCert = settings.clientCertificateRequired || roots.length > 0;
    const server = tls.createServer({
      cert: settings.serverCertificate.pem,
      key: privateKeys.get(settings.serverCertificate)!,
      minVersion: "TLSv1.2",
      // Half-close: the peer's end of stream must not end our side too.
      allowHalfOpen: true,
      requestCert,
      rejectUnauthorized: settings.clientCertificateRequired,
      ...(roots.length === 0 ? {} : { ca: roots }),
    });
    // A client that fails the handshake (no or bad certificate) is dropped here.
    server.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
      // Deno's node:tls forgets the TLS socket's address once the handshake
      // failed; the TCP socket under it (`_parent`) still knows.
      const tcp = (socket as { _parent?: tls.TLSSocket })._parent;
      settings.clientFailed(error, {
        hostname: socket.remoteAddress ?? tcp?.remoteAddress ?? "",
        port: socket.remotePort ?? tcp?.remotePort ?? 0,
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, hostname, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as { address: string; port: number };
    return new NodeTlsAcceptor(
      server,
      { hostname: address.address, port: address.port },
      settings.serverCertificate,
    );
  }

  async accept(): Promise<Accepted> {
    const socket = await this.#ready.take();
    const connection = new NodeTlsConnection(socket);
    return {
      connection,
      protectionLevel: connection.protocol === "TLSv1.3"
        ? SocketProtectionLevel.Tls13
        : SocketProtectionLevel.Tls12,
      serverCertificate: this.#certificate,
      clientCertificate: socket.authorized
        ? connection.peerCertificate()
        : undefined,
    };
  }

  close(): void {
    this.#server.close();
    this.#ready.close(new Deno.errors.BadResource("Listener closed"), destroy);
  }
}

function release(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function destroy(socket: tls.TLSSocket): void {
  socket.destroy();
}
