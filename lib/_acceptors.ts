/**
 * Acceptors for stream-socket listeners: plain TCP (`Deno.listen`), TLS
 * without client authentication (`Deno.listenTls`), and TLS through
 * `node:tls` over connections `Deno.listen` accepted, which can require and
 * verify client certificates.
 *
 * Every acceptor hands out connections only once their handshake succeeded,
 * so a client that fails it never reaches the application. Every one
 * accepts through {@linkcode acceptWithBackoff} (a failed accept pauses on
 * Go's schedule, never spins, never ends the listener) and only while the
 * listener has room (`maxConnections`, and at most `MAX_HANDSHAKES`
 * handshakes in progress), so that clients beyond it wait in the kernel's
 * backlog.
 *
 * The Unix-domain acceptor (`_unix_socket.ts`) implements the same
 * {@linkcode Acceptor} interface.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import * as tls from "node:tls";
import type { Certificate } from "./certificate.ts";
import type { SocketAddress, SocketConnection } from "./socket_connection.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { SocketProtectionLevel } from "./socket_protection_level.ts";
import { NodeTlsConnection } from "./_tls_node_connection.ts";
import { privateKeys } from "./_tls_private_keys.ts";
import {
  AcceptBackoff,
  type AcceptFailure,
  acceptWithBackoff,
  pauseAfter,
} from "./_accept_backoff.ts";
import { type Deadline, DeadlineQueue } from "./_deadline_queue.ts";
import { ConnectionDuplex } from "./_connection_duplex.ts";

/**
 * Handshakes one TLS listener runs at once; further clients wait in the
 * backlog. Bounds the memory and CPU a flood of slow handshakes can take,
 * while leaving room for legitimate clients during one (with the default
 * 10 s timeout, an attacker needs this many silent connections every 10 s
 * to delay others).
 */
export const MAX_HANDSHAKES = 512;

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
  /** The listener now holds (and counts) the last connection accept() gave. */
  adopted(): void;
  close(): void;
}

/** What an acceptor asks of its listener. */
export interface AcceptorHooks {
  /** Accepting failed; the acceptor pauses, then retries. */
  acceptFailed(failure: AcceptFailure): void;
  /**
   * `undefined` when the listener may take `pending` more connections than
   * it holds now, else a promise that settles when that may have changed
   * (a socket closed, or the listener closed).
   */
  room(pending: number): Promise<void> | undefined;
}

/** TLS settings of a listener. */
export interface TlsListenSettings {
  serverCertificate: Certificate;
  clientCertificateRequired: boolean;
  trustedClientRoots: readonly Certificate[];
  backend: "deno" | "node";
  /** The handshake timeout in ms (0: none), read as each handshake starts. */
  handshakeTimeout(): number;
  /** A client failed the handshake; it is dropped and never accepted. */
  clientFailed(error: unknown, remote: SocketAddress): void;
}

/** Socket options of a listener beyond its address. */
export interface ListenSocketOptions {
  /** Sets `SO_REUSEPORT` (checked by the caller: Linux, `--unstable-net`). */
  reusePort?: boolean;
}

/** Opens the acceptor the settings call for. */
export function listen(
  hostname: string,
  port: number,
  settings: TlsListenSettings | undefined,
  hooks: AcceptorHooks,
  options: ListenSocketOptions = {},
): Acceptor {
  // Passed only when set: without --unstable-net, Deno exits on reusePort.
  const reuse = options.reusePort === true ? { reusePort: true } : {};
  if (settings === undefined) {
    return new TcpAcceptor(hostname, port, hooks, reuse);
  }
  const needsNode = settings.clientCertificateRequired ||
    settings.trustedClientRoots.length > 0 || settings.backend === "node";
  if (needsNode && options.reusePort === true) {
    throw new TypeError(
      'Cannot bind: "reusePort" is not available on node:tls listeners (client certificates, tlsBackend "node")',
    );
  }
  return needsNode
    ? new NodeTlsAcceptor(hostname, port, settings, hooks)
    : new DenoTlsAcceptor(hostname, port, settings, hooks, reuse);
}

const CLOSED = "Listener closed";

class TcpAcceptor implements Acceptor {
  #listener: Deno.TcpListener;
  #hooks: AcceptorHooks;
  #backoff = new AcceptBackoff();
  #closed = false;

  constructor(
    hostname: string,
    port: number,
    hooks: AcceptorHooks,
    reuse: ListenSocketOptions,
  ) {
    this.#listener = Deno.listen({
      hostname,
      port,
      transport: "tcp",
      ...reuse,
    });
    this.#hooks = hooks;
  }

  get addr(): SocketAddress {
    return this.#listener.addr;
  }

  accept(): Promise<Accepted> {
    const wait = this.#hooks.room(0);
    if (wait !== undefined) return wait.then(this.#afterWait);
    // No async frame nor extra promise per connection: accepting thousands
    // of them otherwise grows the heap (bench/idle_connections.ts).
    return this.#listener.accept().then(this.#accepted, this.#failed);
  }

  #accepted = (connection: Deno.TcpConn): Accepted => {
    this.#backoff.succeeded();
    return {
      connection,
      protectionLevel: SocketProtectionLevel.PlainSocket,
      serverCertificate: undefined,
      clientCertificate: undefined,
    };
  };

  /**
   * A run of failures loops in one frame rather than chain a promise per
   * failure onto the accept that failed first: clients resetting in the
   * backlog are retried at once, and a chain would hold a promise for each
   * until the next connection came.
   */
  #failed = async (error: unknown): Promise<Accepted> => {
    // Bounded by the peers and the listener: each pass waits for accept(),
    // and pauseAfter() throws once the listener is closed.
    while (true) {
      await pauseAfter(
        error,
        this.#backoff,
        this.#isClosed,
        this.#hooks.acceptFailed,
      );
      // As accept(): wait while the listener is full, then look again.
      for (let wait; (wait = this.#hooks.room(0)) !== undefined;) {
        await wait;
        if (this.#closed) throw new Deno.errors.BadResource(CLOSED);
      }
      if (this.#closed) throw new Deno.errors.BadResource(CLOSED);
      try {
        return this.#accepted(await this.#listener.accept());
      } catch (next) {
        error = next;
      }
    }
  };

  #afterWait = (): Promise<Accepted> => {
    if (this.#closed) throw new Deno.errors.BadResource(CLOSED);
    return this.accept();
  };

  adopted(): void {}

  close(): void {
    this.#closed = true;
    this.#backoff.cancel();
    this.#listener.close();
  }

  #isClosed = (): boolean => this.#closed;
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

/**
 * What both TLS acceptors share: a background loop that accepts while there
 * is room, starts each handshake under a deadline, and queues the
 * connections whose handshake succeeded.
 */
abstract class HandshakingAcceptor<Raw extends Deno.Conn, Secure>
  implements Acceptor {
  protected readonly settings: TlsListenSettings;
  protected readonly deadlines = new DeadlineQueue();
  protected readonly ready = new Ready<Secure>();
  protected closed = false;
  #listener: Deno.Listener<Raw, Deno.NetAddr>;
  #hooks: AcceptorHooks;
  #backoff = new AcceptBackoff();
  /** Handshakes in progress. */
  #handshaking = 0;
  /**
   * Connections whose handshake succeeded and that the listener does not
   * count yet (queued, or on their way through accept()): counted here so
   * the cap holds in between.
   */
  #secured = 0;
  /** Wakes the loop when a handshake ends (room for another). */
  #handshakeEnded: (() => void) | undefined;

  constructor(
    listener: Deno.Listener<Raw, Deno.NetAddr>,
    settings: TlsListenSettings,
    hooks: AcceptorHooks,
  ) {
    this.#listener = listener;
    this.settings = settings;
    this.#hooks = hooks;
  }

  get addr(): SocketAddress {
    return this.#listener.addr;
  }

  abstract accept(): Promise<Accepted>;
  /** Closes the connections whose handshake is in progress. */
  protected abstract abortHandshakes(): void;
  protected abstract releaseSecure(item: Secure): void;
  /** Starts the handshake of `raw`; `deadline` is done when it ends. */
  protected abstract handshake(raw: Raw, timeout: number): void;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#backoff.cancel();
    this.deadlines.clear();
    this.#handshakeEnded?.();
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    this.abortHandshakes();
    this.ready.close(new Deno.errors.BadResource(CLOSED), this.#releaseQueued);
  }

  adopted(): void {
    this.#secured--;
  }

  /** Queues a connection whose handshake succeeded. */
  protected secured(item: Secure): void {
    this.#secured++;
    this.ready.push(item, this.#releaseQueued);
  }

  #releaseQueued = (item: Secure): void => {
    this.#secured--;
    this.releaseSecure(item);
  };

  /** Runs the accept loop; subclasses call it once constructed. */
  protected async run(): Promise<void> {
    while (!this.closed) {
      const wait = this.#room();
      if (wait !== undefined) {
        await wait;
        continue;
      }
      let raw: Raw;
      try {
        raw = await acceptWithBackoff(
          () => this.#listener.accept(),
          this.#backoff,
          () => this.closed,
          this.#hooks.acceptFailed,
        );
      } catch {
        return;
      }
      this.#handshaking++;
      this.handshake(raw, this.settings.handshakeTimeout());
    }
  }

  /** A handshake ended, one way or the other. */
  protected ended(deadline: Deadline | undefined): void {
    this.#handshaking--;
    deadline?.done();
    const wake = this.#handshakeEnded;
    this.#handshakeEnded = undefined;
    wake?.();
  }

  /** Sets the deadline of one handshake. */
  protected limit(timeout: number, expire: () => void): Deadline | undefined {
    return timeout > 0 ? this.deadlines.add(timeout, expire) : undefined;
  }

  /** A handshake took longer than `timeout` ms. */
  protected timedOut(timeout: number): SocketError {
    return new SocketError(
      `the TLS handshake did not finish within ${timeout} ms`,
      { status: SocketErrorStatus.ConnectionTimedOut },
    );
  }

  #room(): Promise<void> | undefined {
    const handshaking = this.#handshaking;
    const listenerWait = this.#hooks.room(handshaking + this.#secured);
    if (handshaking < MAX_HANDSHAKES && listenerWait === undefined) {
      return undefined;
    }
    const ended = new Promise<void>((resolve) => {
      this.#handshakeEnded = resolve;
    });
    return listenerWait === undefined
      ? ended
      : Promise.race([ended, listenerWait]);
  }
}

class DenoTlsAcceptor extends HandshakingAcceptor<Deno.TlsConn, Deno.TlsConn> {
  #handshaking = new Set<Deno.TlsConn>();

  constructor(
    hostname: string,
    port: number,
    settings: TlsListenSettings,
    hooks: AcceptorHooks,
    reuse: ListenSocketOptions,
  ) {
    super(
      Deno.listenTls({
        hostname,
        port,
        transport: "tcp",
        ...reuse,
        cert: settings.serverCertificate.pem,
        key: privateKeys.get(settings.serverCertificate)!,
      }),
      settings,
      hooks,
    );
    this.run();
  }

  async accept(): Promise<Accepted> {
    return {
      connection: await this.ready.take(),
      // Deno does not report the negotiated version: at least TLS 1.2.
      protectionLevel: SocketProtectionLevel.Tls12,
      serverCertificate: this.settings.serverCertificate,
      clientCertificate: undefined,
    };
  }

  protected abortHandshakes(): void {
    for (const conn of this.#handshaking) release(conn);
    this.#handshaking.clear();
  }

  protected releaseSecure(conn: Deno.TlsConn): void {
    release(conn);
  }

  protected async handshake(
    conn: Deno.TlsConn,
    timeout: number,
  ): Promise<void> {
    this.#handshaking.add(conn);
    let expired = false;
    const deadline = this.limit(timeout, () => {
      expired = true;
      // Deno.listenTls keeps the descriptor of a connection closed during
      // its handshake until the peer leaves (measured on Deno 2.9); the
      // node:tls listener does not have this limit.
      release(conn);
    });
    try {
      await conn.handshake();
      this.secured(conn);
    } catch (error) {
      // A client that fails the handshake never reaches the application.
      release(conn);
      if (!this.closed) {
        this.settings.clientFailed(
          expired ? this.timedOut(timeout) : error,
          conn.remoteAddr,
        );
      }
    } finally {
      this.#handshaking.delete(conn);
      this.ended(deadline);
    }
  }
}

/** One connection in its `node:tls` handshake. */
interface NodeHandshake {
  readonly duplex: ConnectionDuplex;
  /** The client, for the report of a failed handshake and for the socket handed out. */
  readonly remoteAddr: Deno.NetAddr;
  /** Our end: a TLS socket over a duplex knows neither. */
  readonly localAddr: Deno.NetAddr;
  deadline: Deadline | undefined;
  /** Set once it ended: handed out, or refused and reported. */
  settled: boolean;
}

/** The TLS alert codes node:tls reports for a refused client certificate, by status. */
const CERTIFICATE_STATUSES: ReadonlyMap<string, SocketErrorStatus> = new Map([
  ["CERT_HAS_EXPIRED", SocketErrorStatus.CertificateExpired],
  ["CERT_NOT_YET_VALID", SocketErrorStatus.CertificateExpired],
  ["CERT_REVOKED", SocketErrorStatus.CertificateRevoked],
  ["CERT_SIGNATURE_FAILURE", SocketErrorStatus.CertificateIsInvalid],
  ["INVALID_PURPOSE", SocketErrorStatus.CertificateWrongUsage],
]);

/**
 * Runs `node:tls` server handshakes over the connections `Deno.listen`
 * accepted, each wrapped in a {@linkcode ConnectionDuplex}.
 *
 * Why not `tls.Server.listen()`: Deno's `node:net` server (its Rust
 * `TCPWrap`) stops accepting for good after one failed `accept()` (EMFILE),
 * silently, and offers no way to pause accepting at a connection cap. With
 * `Deno.listen` the listener's own accept loop (back-off, cap, handshake
 * bound) serves this kind too, and closing the `Deno.Conn` releases the
 * descriptor at once whatever state the handshake is in.
 */
class NodeTlsAcceptor extends HandshakingAcceptor<Deno.TcpConn, tls.TLSSocket> {
  #server: tls.Server;
  /** node:tls's handler of a server's new connection: it starts the handshake. */
  #startHandshake: (this: tls.Server, socket: unknown) => void;
  #handshakes = new Set<NodeHandshake>();
  /**
   * The handshake each secured socket came from: its duplex, for the
   * socket's backpressure (`_node_net_connection.ts`), and its endpoints.
   */
  #secured = new WeakMap<tls.TLSSocket, NodeHandshake>();

  constructor(
    hostname: string,
    port: number,
    settings: TlsListenSettings,
    hooks: AcceptorHooks,
  ) {
    super(Deno.listen({ hostname, port, transport: "tcp" }), settings, hooks);
    const roots = settings.trustedClientRoots.map((c) => c.pem);
    const requestCert = settings.clientCertificateRequired || roots.length > 0;
    // Never listens: it runs the handshakes of the connections Deno.listen
    // accepted, as Node lets a server take connections accepted elsewhere.
    // Half-open comes from each ConnectionDuplex.
    this.#server = tls.createServer({
      cert: settings.serverCertificate.pem,
      key: privateKeys.get(settings.serverCertificate)!,
      minVersion: "TLSv1.2",
      requestCert,
      rejectUnauthorized: settings.clientCertificateRequired,
      ...(roots.length === 0 ? {} : { ca: roots }),
    });
    this.#startHandshake = this.#server.listeners("connection")[0] as (
      this: tls.Server,
      socket: unknown,
    ) => void;
    this.run();
  }

  async accept(): Promise<Accepted> {
    const socket = await this.ready.take();
    const state = this.#secured.get(socket)!;
    const connection = new NodeTlsConnection(socket, {
      localAddr: state.localAddr,
      remoteAddr: state.remoteAddr,
    }, state.duplex);
    return {
      connection,
      protectionLevel: connection.protocol === "TLSv1.3"
        ? SocketProtectionLevel.Tls13
        : SocketProtectionLevel.Tls12,
      serverCertificate: this.settings.serverCertificate,
      clientCertificate: socket.authorized
        ? connection.peerCertificate()
        : undefined,
    };
  }

  protected abortHandshakes(): void {
    for (const state of this.#handshakes) state.duplex.destroy();
    this.#handshakes.clear();
  }

  protected releaseSecure(socket: tls.TLSSocket): void {
    socket.destroy();
  }

  protected handshake(conn: Deno.TcpConn, timeout: number): void {
    const duplex = new ConnectionDuplex(conn);
    const state: NodeHandshake = {
      duplex,
      remoteAddr: conn.remoteAddr,
      localAddr: conn.localAddr,
      deadline: undefined,
      settled: false,
    };
    this.#handshakes.add(state);
    state.deadline = this.limit(
      timeout,
      () => this.#fail(state, this.timedOut(timeout), false),
    );
    // Without these, a client that leaves before or during the handshake
    // keeps its descriptor: the half-open TLS socket waits for an end that
    // never comes (what tls.Server with allowHalfOpen did).
    duplex.on("end", () => this.#fail(state, leftEarly(duplex), false));
    duplex.on("error", (error: Error) => this.#fail(state, error, false));
    // node:tls tells the outcome through events of the server that started
    // the handshake: one emitter per connection (inheriting the server's
    // settings) says which connection it is about.
    const events = Object.create(this.#server) as tls.Server;
    EventEmitter.call(events);
    events.on("secureConnection", (socket: tls.TLSSocket) => {
      if (state.settled) {
        socket.destroy();
        return;
      }
      this.#settle(state);
      this.#secured.set(socket, state);
      this.secured(socket);
    });
    events.on("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
      // Deno's node:tls checks a client certificate after the handshake
      // and then reports only "socket hang up"; the reason is in
      // authorizationError.
      const code = socket.authorizationError as unknown as string | null;
      this.#fail(state, code ? certificateError(code, error) : error);
    });
    this.#startHandshake.call(events, duplex);
  }

  #fail(state: NodeHandshake, error: unknown, graceful = true): void {
    if (state.settled) return;
    this.#settle(state);
    const duplex = state.duplex;
    // node:tls may just have queued an alert (a certificate required, say):
    // let it out before closing, or the client sees a reset instead.
    if (graceful) duplex.endThenDestroy();
    else duplex.destroy();
    if (!this.closed) {
      this.settings.clientFailed(error, state.remoteAddr);
    }
  }

  #settle(state: NodeHandshake): void {
    state.settled = true;
    this.#handshakes.delete(state);
    this.ended(state.deadline);
  }
}

function leftEarly(duplex: ConnectionDuplex): SocketError {
  const message = duplex.received === 0
    ? "the client closed the connection before sending anything"
    : "the client closed the connection during the TLS handshake";
  return new SocketError(message, {
    status: SocketErrorStatus.ConnectionResetByPeer,
  });
}

function certificateError(code: string, cause: Error): SocketError {
  const status = CERTIFICATE_STATUSES.get(code) ??
    SocketErrorStatus.CertificateUntrustedRoot;
  return new SocketError(`the client certificate was refused (${code})`, {
    status,
    cause,
  });
}

function release(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
