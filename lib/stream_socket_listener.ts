/**
 * A TCP listener, as UWP's `StreamSocketListener`.
 *
 * @module
 */

import { HostName } from "./host_name.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  StreamSocket,
  StreamSocketControl,
} from "./stream_socket.ts";
import { Certificate } from "./certificate.ts";
import { parseServiceName } from "./_service_name.ts";
import type { SocketErrorEvent } from "./socket_error_event.ts";
import type { SocketAddress } from "./socket_connection.ts";
import { checkCertificateWithKey } from "./_certificate_check.ts";
import { checkBoolean } from "./_setting_checks.ts";
import { ErrorEvents } from "./_error_events.ts";
import {
  delivery,
  deliveryPath,
  DirectListeners,
  type Listener,
  stopDelivery,
} from "./_direct_listeners.ts";
import { describe, formatEndpoint } from "./_format.ts";
import {
  type Accepted,
  type Acceptor,
  type AcceptorHooks,
  listen,
  type ListenSocketOptions,
  type TlsListenSettings,
} from "./_acceptors.ts";
import type { AcceptFailure } from "./_accept_backoff.ts";
import { checkReusePort } from "./_reuse_port.ts";
import { UnixAcceptor, unixPath } from "./_unix_socket.ts";
import { idleGroups } from "./_idle_sweep.ts";
import { setTimer } from "./_timer.ts";

// Exported here before it moved to stream_socket.ts: importers of the
// "./stream-socket-listener" subpath keep it.
export { DEFAULT_HANDSHAKE_TIMEOUT };

/** The socket options a bind passes on; `reusePort` is checked here. */
function listenOptions(
  control: StreamSocketListenerControl,
): ListenSocketOptions {
  // Accepted connections come from Deno.listen: they cannot honour these,
  // and a setting that silently does nothing is worse than an error.
  if (control.keepAliveDelay !== 0 || control.tcpBackend !== "deno") {
    throw new TypeError(
      'Cannot bind: "keepAliveDelay" and "tcpBackend" apply to client sockets only; accepted connections come from Deno.listen, which has neither',
    );
  }
  if (!control.reusePort) return {};
  checkReusePort("Cannot bind");
  return { reusePort: true };
}

/** `(socket, value) => ...` as a function to bind to a socket as its `this`. */
function onSocket<T>(
  callback: (socket: StreamSocket, value: T) => void,
): (this: StreamSocket, value: T) => void {
  return function (this: StreamSocket, value: T): void {
    callback(this, value);
  };
}

/** Records the listener delivering `event` (set by the event class). */
let beginDelivery: (
  event: ConnectionReceivedEvent,
  target: EventTarget,
) => void;

/**
 * The event raised for each accepted connection (UWP's
 * `StreamSocketListenerConnectionReceivedEventArgs`).
 *
 * @example Take the socket from the event
 * ```ts
 * import { StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("connectionreceived", (event) => {
 *   event.socket.close();
 * });
 * ```
 */
export class ConnectionReceivedEvent extends Event {
  /** The accepted socket; the handler owns it and should close it. */
  readonly socket: StreamSocket;

  /** The listener that delivered the event directly to its listeners. */
  #deliveredBy: EventTarget | null = null;

  static {
    beginDelivery = (event, target) => {
      event.#deliveredBy = target;
    };
  }

  /**
   * Creates the event.
   *
   * @param socket The accepted socket.
   */
  constructor(socket: StreamSocket) {
    super("connectionreceived");
    this.socket = socket;
  }

  // A listener hands accepted sockets to its listeners without
  // dispatchEvent; these members then answer as dispatchEvent would have
  // them answer.

  /**
   * The listener that accepted the connection, once raised.
   *
   * @example The accepting listener
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * const accepted = Promise.withResolvers<EventTarget | null>();
   * listener.addEventListener("connectionreceived", (event) => {
   *   event.socket.close();
   *   accepted.resolve(event.target);
   * });
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * assert.equal(await accepted.promise, listener);
   * ```
   */
  override get target(): EventTarget | null {
    return super.target ?? this.#deliveredBy;
  }

  /** The listener whose handler runs, while one runs. */
  override get currentTarget(): EventTarget | null {
    return delivery.event === this ? this.#deliveredBy : super.currentTarget;
  }

  /** `Event.AT_TARGET` while a handler runs, else `Event.NONE`. */
  override get eventPhase(): number {
    return delivery.event === this ? Event.AT_TARGET : super.eventPhase;
  }

  /**
   * The listener while a handler runs, else empty.
   *
   * @returns The event's path.
   */
  override composedPath(): EventTarget[] {
    return deliveryPath(this, this.#deliveredBy) ?? super.composedPath();
  }

  /** Keeps the handlers after the current one from running. */
  override stopImmediatePropagation(): void {
    if (!stopDelivery(this)) super.stopImmediatePropagation();
  }
}

/** The events of a {@linkcode StreamSocketListener}, by name. */
export interface StreamSocketListenerEventMap {
  /** A connection was accepted. */
  connectionreceived: ConnectionReceivedEvent;
  /**
   * A handler failed, or accepting failed, or (TLS) a client failed the
   * handshake and was refused; the listener keeps serving in every case.
   */
  error: SocketErrorEvent;
}

/** Options of {@linkcode StreamSocketListener.closeAsync}. */
export interface StreamSocketListenerCloseOptions {
  /**
   * What happens to the sockets the listener handed out and that are still
   * open: `"close"` closes them at once, `"wait"` waits until their handlers
   * close them.
   *
   * @default {"close"}
   */
  sockets?: "close" | "wait";
  /**
   * With `sockets: "wait"`: how long to wait, in ms; the sockets still open
   * then are closed. `Infinity` waits for as long as they stay open.
   *
   * @default {Infinity}
   */
  timeout?: number;
}

/**
 * Options of a listener (UWP's `StreamSocketListenerControl`) plus TLS, which
 * UWP listeners lack: set `serverCertificate` before binding to accept TLS,
 * and `clientCertificateRequired` to accept only clients whose certificate
 * chains to `trustedClientRoots`.
 *
 * Without client authentication the listener uses `Deno.listenTls`; with it
 * (or `trustedClientRoots`, or `tlsBackend = "node"`) Deno's `node:tls` on
 * connections `Deno.listen` accepted, since `Deno.listenTls` cannot verify
 * client certificates. Either way a client that fails the handshake never
 * reaches `connectionreceived`. `Deno.listenTls` keeps the descriptor of a
 * client closed mid-handshake (by `handshakeTimeout`) until that client
 * leaves; `node:tls` releases it at once.
 *
 * @example Require client certificates
 * ```ts
 * import assert from "node:assert/strict";
 * import { Certificate, SocketProtectionLevel, StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * const dir = new URL("../tests/testdata/", import.meta.url);
 * await using listener = new StreamSocketListener();
 * listener.control.serverCertificate = await Certificate.fromFiles(new URL("server.pem", dir), new URL("server.key", dir));
 * listener.control.clientCertificateRequired = true;
 * listener.control.trustedClientRoots = [await Certificate.fromFiles(new URL("ca.pem", dir))];
 * const seen = Promise.withResolvers<string | undefined>();
 * listener.addEventListener("connectionreceived", ({ socket }) => {
 *   seen.resolve(socket.information.clientCertificate?.commonName);
 *   socket.close();
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using client = new StreamSocket();
 * client.control.trustedRootCertificates = [listener.control.trustedClientRoots[0]!];
 * client.control.clientCertificate = await Certificate.fromFiles(new URL("client.pem", dir), new URL("client.key", dir));
 * await client.connectAsync("localhost", listener.information.localPort, SocketProtectionLevel.Tls12);
 * assert.equal(await seen.promise, "test-client");
 * ```
 */
export class StreamSocketListenerControl extends StreamSocketControl {
  #serverCertificate: Certificate | undefined;
  #clientCertificateRequired = false;
  #trustedClientRoots: readonly Certificate[] = [];
  #reusePort = false;
  #handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
  #maxConnections = Infinity;

  /**
   * How long, in ms, a TLS client may take to finish its handshake; one that
   * takes longer is closed and reported (an `error` event with status
   * `ConnectionTimedOut`). `0` means no limit. Read as each handshake starts.
   *
   * @default {10000}
   * @throws {RangeError} If it is not a finite number of 0 or more.
   *
   * @example A shorter handshake timeout
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.control.handshakeTimeout = 5_000;
   * assert.equal(listener.control.handshakeTimeout, 5_000);
   * ```
   */
  get handshakeTimeout(): number {
    return this.#handshakeTimeout;
  }
  set handshakeTimeout(value: number) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `Cannot set handshakeTimeout: "handshakeTimeout" must be a finite number of ms, 0 or more, got ${
          describe(value)
        }`,
      );
    }
    this.#handshakeTimeout = value;
  }

  /**
   * The most connections the listener holds at once: the sockets it handed
   * out and still open, plus (TLS) the handshakes in progress. At the cap it
   * stops accepting, so new clients wait in the kernel's backlog (as nginx
   * does, rather than Node's accept-then-close), and it resumes as soon as a
   * socket closes.
   * Read as each connection is accepted: raising it while the listener
   * waits at the cap takes effect when the next socket closes.
   *
   * @default {Infinity}
   * @throws {RangeError} If it is not a positive integer or `Infinity`.
   *
   * @example At most 100 clients at once
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.control.maxConnections = 100;
   * assert.equal(listener.control.maxConnections, 100);
   * ```
   */
  get maxConnections(): number {
    return this.#maxConnections;
  }
  set maxConnections(value: number) {
    if (
      value !== Infinity && (!Number.isInteger(value) || (value as number) < 1)
    ) {
      throw new RangeError(
        `Cannot set maxConnections: "maxConnections" must be a positive integer or Infinity, got ${
          describe(value)
        }`,
      );
    }
    this.#maxConnections = value;
  }

  /**
   * The certificate (with its private key) the listener presents; setting it
   * makes the listener accept TLS. Set it before binding.
   *
   * @default {undefined}
   * @throws {TypeError} If it is not a `Certificate` with a private key.
   */
  get serverCertificate(): Certificate | undefined {
    return this.#serverCertificate;
  }
  set serverCertificate(value: Certificate | undefined) {
    if (value !== undefined) {
      checkCertificateWithKey(value, "serverCertificate");
    }
    this.#serverCertificate = value;
  }

  /**
   * Accept only clients presenting a certificate that chains to
   * `trustedClientRoots` (or, when that is empty, to the system's roots).
   *
   * @default {false}
   */
  get clientCertificateRequired(): boolean {
    return this.#clientCertificateRequired;
  }
  set clientCertificateRequired(value: boolean) {
    this.#clientCertificateRequired = checkBoolean(
      value,
      "clientCertificateRequired",
    );
  }

  /**
   * Sets `SO_REUSEPORT` on the listening socket, so that several listeners
   * (in Workers or processes) bind the same address and port and the kernel
   * spreads incoming connections across them. Linux only, and unstable in
   * Deno: binding throws a `TypeError` naming what is missing elsewhere or
   * without `--unstable-net`. Not with client certificates (`node:tls`).
   * Set it before binding.
   *
   * @default {false}
   * @throws {TypeError} If the value is not a boolean.
   *
   * @example Two listeners on one port
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * if (Deno.build.os === "linux") {
   *   await using first = new StreamSocketListener();
   *   first.control.reusePort = true;
   *   await first.bindEndpointAsync("127.0.0.1", 0);
   *   await using second = new StreamSocketListener();
   *   second.control.reusePort = true;
   *   await second.bindEndpointAsync("127.0.0.1", first.information.localPort);
   *   assert.equal(second.information.localPort, first.information.localPort);
   * }
   * ```
   */
  get reusePort(): boolean {
    return this.#reusePort;
  }
  set reusePort(value: boolean) {
    this.#reusePort = checkBoolean(value, "reusePort");
  }

  /**
   * The roots client certificates must chain to (PEM strings or
   * `Certificate`s). Without `clientCertificateRequired`, clients are asked
   * for a certificate but may connect without one; an accepted socket's
   * `information.clientCertificate` is set only for a verified certificate.
   *
   * @default {[]}
   */
  get trustedClientRoots(): readonly Certificate[] {
    return this.#trustedClientRoots;
  }
  set trustedClientRoots(value: readonly (Certificate | string)[]) {
    if (!Array.isArray(value)) {
      throw new TypeError(
        `Cannot set trustedClientRoots: "trustedClientRoots" must be an array of Certificates or PEM strings, got ${
          describe(value)
        }`,
      );
    }
    this.#trustedClientRoots = Object.freeze(
      value.map((item) =>
        item instanceof Certificate ? item : Certificate.fromPem(item)
      ),
    );
  }
}

/**
 * Facts about a bound listener (UWP's `StreamSocketListenerInformation`).
 *
 * @example Read the bound port
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * assert.ok(listener.information.localPort > 0);
 * ```
 */
export class StreamSocketListenerInformation {
  /** The bound port (the real one when bound to port 0); 0 before binding. */
  localPort = 0;
  /** The bound address; `undefined` before binding and for a Unix socket. */
  localAddress: HostName | undefined;
  /** The path of a Unix socket listener; `undefined` for TCP (whose port is `localPort`, 0 here). */
  localPath: string | undefined;
}

/**
 * Accepts TCP connections (UWP's `StreamSocketListener`).
 *
 * Handle connections with the `connectionreceived` event (register it before
 * binding, as in UWP) or with `for await (const socket of listener)`; use one
 * or the other. A handler that throws or rejects raises an `error` event,
 * its socket is closed, and the listener keeps serving; without an `error`
 * listener the error is written to stderr (never thrown: one bad client
 * must not end the process). A TLS client
 * that fails the handshake (an untrusted or missing client certificate) is
 * refused and raises an `error` event only if you listen to `error`: a
 * client must never be able to stop the server.
 *
 * A connection that arrives once every `connectionreceived` handler has
 * been removed is closed at once.
 *
 * Accepted connections reach `connectionreceived` listeners as
 * `dispatchEvent` would deliver them (in order, with `target`,
 * `currentTarget`, `eventPhase`, `once`, `signal` and
 * `stopImmediatePropagation()` behaving the same), but without going through
 * `dispatchEvent`, whose per-event bookkeeping grows the heap of a server
 * accepting thousands of connections; events you dispatch yourself reach the
 * same listeners.
 *
 * The listener knows the sockets it handed out (`sockets`): closing it closes
 * them, or waits for them with `closeAsync({ sockets: "wait" })`.
 *
 * It never stops serving by itself: a failed accept (descriptors exhausted,
 * say) pauses 5 ms, doubling to 1 s, then retries, and is reported once per
 * pause with the count of repeats left out; `control.maxConnections` stops
 * accepting at a cap (clients wait in the kernel's backlog) and
 * `control.handshakeTimeout` closes TLS clients that stall their handshake.
 *
 * > [!IMPORTANT]
 * > Needs `--allow-net`.
 *
 * @example An echo server for one line
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader, StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("connectionreceived", async ({ socket }) => {
 *   await using s = socket;
 *   const line = await new LineReader(s.inputStream).readLine();
 *   await s.outputStream.writeAsync(new TextEncoder().encode(`${line}\n`));
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * await client.outputStream.writeAsync(new TextEncoder().encode("ping\n"));
 * assert.equal(await new LineReader(client.inputStream).readLine(), "ping");
 * ```
 */
export class StreamSocketListener extends EventTarget
  implements AsyncDisposable, AsyncIterable<StreamSocket> {
  #control = new StreamSocketListenerControl();
  #information = new StreamSocketListenerInformation();
  #listener: Acceptor | undefined;
  #binding = false;
  #sockets = new Set<StreamSocket>();
  #errors = new ErrorEvents(this);
  // A handler that throws or rejects has its socket closed and its
  // failure reported.
  #listeners = new DirectListeners(
    this,
    "connectionreceived",
    this.#errors,
    (promise, event) =>
      this.#handlerPending(promise, (event as ConnectionReceivedEvent).socket),
    (error, event) =>
      this.#handlerFailed((event as ConnectionReceivedEvent).socket, error),
  );
  #acceptLoop: Promise<void> | undefined;
  #iterating = false;
  #closing = false;

  /**
   * Options for accepted sockets (`noDelay`, `keepAlive`,
   * `outboundBufferSizeInBytes`), applied as each one is accepted, and TLS
   * (`serverCertificate`, `clientCertificateRequired`,
   * `trustedClientRoots`), read when binding.
   *
   * @example Keep-alive on accepted sockets
   * ```ts
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.control.keepAlive = true;
   * ```
   */
  get control(): StreamSocketListenerControl {
    return this.#control;
  }

  /**
   * The bound address and port.
   *
   * @example After binding to port 0
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", "0");
   * assert.notEqual(listener.information.localPort, 0);
   * ```
   */
  get information(): StreamSocketListenerInformation {
    return this.#information;
  }

  /**
   * The sockets this listener handed out that are still open.
   *
   * @example None before any connection
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * assert.equal(listener.sockets.size, 0);
   * ```
   */
  get sockets(): ReadonlySet<StreamSocket> {
    return this.#sockets;
  }

  /**
   * Listens on every local address (IPv6 and IPv4 where the system allows,
   * else IPv4) at `service` (UWP's `BindServiceNameAsync`).
   *
   * @param service A port (`0` or `""` for any free port) or a well-known
   * service name such as `"http"`.
   * @returns Resolves once listening.
   * @throws {TypeError} If `service` is invalid or the listener is bound.
   * @throws {SocketError} `AddressAlreadyInUse` and the like.
   *
   * @example Listen on all addresses
   * ```ts ignore
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindServiceNameAsync("1337");
   * ```
   */
  async bindServiceNameAsync(service: string | number): Promise<void> {
    const port = parseServiceName(service, "service");
    try {
      await this.#bind("::", port);
    } catch (error) {
      // No IPv6 on this machine: all IPv4 addresses it is.
      const status = SocketError.getStatus(error);
      if (
        status !== SocketErrorStatus.CannotAssignRequestedAddress &&
        status !== SocketErrorStatus.AddressFamilyNotSupported
      ) throw error;
      await this.#bind("0.0.0.0", port);
    }
  }

  /**
   * Listens on one local address (UWP's `BindEndpointAsync`).
   *
   * @param localHost The address to listen on, such as `"127.0.0.1"` or `"::1"`.
   * @param service A port (`0` for any free port) or a well-known service name.
   * @returns Resolves once listening.
   * @throws {TypeError} If an argument is invalid or the listener is bound.
   * @throws {SocketError} `AddressAlreadyInUse`, `CannotAssignRequestedAddress`, ...
   *
   * @example Listen on loopback, any free port
   * ```ts
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * ```
   */
  bindEndpointAsync(
    localHost: HostName | string,
    service: string | number,
  ): Promise<void> {
    let host: HostName;
    let port: number;
    try {
      host = localHost instanceof HostName
        ? localHost
        : new HostName(localHost);
      port = parseServiceName(service, "service");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#bind(host.canonicalName, port);
  }

  /**
   * Listens on a Unix domain stream socket (not in UWP; Deno's
   * `Deno.listen({ transport: "unix" })`). Accepted sockets have
   * `information.localPath` set and no addresses or ports; TLS is not
   * offered on Unix sockets. A socket file left behind by a process that is
   * gone is replaced; a path that exists and is not a socket is refused and
   * left alone; the socket file is removed when the listener closes.
   *
   * > [!IMPORTANT]
   * > Needs `--allow-net` (or `--allow-net=unix:PATH`), `--allow-read` and
   * > `--allow-write` for the path. Not on Windows.
   *
   * @param path Where to create the socket.
   * @returns Resolves once listening.
   * @throws {TypeError} If the path is empty, the listener is bound, or a
   * server certificate is set.
   * @throws {SocketError} `AddressAlreadyInUse` if another listener owns the
   * path or the path is not a socket.
   *
   * @example Serve on a Unix socket
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * const path = `${await Deno.makeTempDir()}/app.sock`;
   * await using listener = new StreamSocketListener();
   * await listener.bindUnixAsync(path);
   * assert.equal(listener.information.localPath, path);
   * assert.equal(listener.information.localPort, 0);
   * ```
   */
  bindUnixAsync(path: string | URL): Promise<void> {
    let file: string;
    try {
      file = unixPath(path, "bind");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#bind(file, 0, (tls) => {
      if (tls !== undefined) {
        throw new TypeError(
          "Cannot bind: TLS is not offered on Unix sockets; clear control.serverCertificate",
        );
      }
      return UnixAcceptor.listen(file, this.#hooks);
    });
  }

  /**
   * Registers an event handler; `connectionreceived` handlers may be async,
   * and their failures become `error` events.
   *
   * @param type `"connectionreceived"` or `"error"`.
   * @param listener The handler.
   * @param options Standard `addEventListener` options.
   */
  override addEventListener<K extends keyof StreamSocketListenerEventMap>(
    type: K,
    listener: (
      this: StreamSocketListener,
      event: StreamSocketListenerEventMap[K],
    ) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Registers a handler for any event type.
   *
   * @param type The event type.
   * @param listener The handler.
   * @param options Standard `addEventListener` options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (type === "connectionreceived" && listener !== null && this.#iterating) {
      throw new TypeError(
        "Cannot add a connectionreceived handler: this listener is being iterated with for await; use one or the other",
      );
    }
    if (!this.#listeners.addEventListener(type, listener, options)) return;
    if (this.#listener !== undefined) this.#startAccepting();
  }

  /**
   * Removes an event handler.
   *
   * @param type The event type.
   * @param listener The handler given to `addEventListener`.
   * @param options Standard `removeEventListener` options.
   */
  override removeEventListener<K extends keyof StreamSocketListenerEventMap>(
    type: K,
    listener: (
      this: StreamSocketListener,
      event: StreamSocketListenerEventMap[K],
    ) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a handler for any event type.
   *
   * @param type The event type.
   * @param listener The handler.
   * @param options Standard `removeEventListener` options.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | EventListenerOptions,
  ): void {
    this.#listeners.removeEventListener(type, listener, options);
  }

  /**
   * Yields each accepted socket until the listener is closed.
   *
   * @returns An iterator of accepted sockets; you own each one.
   * @throws {TypeError} If `connectionreceived` handlers are registered.
   *
   * @example Serve with `for await`
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * for await (const socket of listener) {
   *   await using s = socket;
   *   break;
   * }
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<StreamSocket> {
    // Written out rather than an async generator: a generator costs every
    // accept a queued request, a promise and a resumed frame, garbage that
    // grows the heap of a server taking thousands of connections.
    let acceptor: Acceptor | undefined;
    let finished = false;
    // next() calls made before the previous one settled wait their turn, as
    // with a generator: a listener takes one accept at a time.
    let inFlight = 0;
    let tail: Promise<IteratorResult<StreamSocket>> | undefined;
    const settled = (): void => {
      if (--inFlight === 0) tail = undefined;
    };
    const finish = (): IteratorResult<StreamSocket> => {
      if (!finished) {
        finished = true;
        if (acceptor !== undefined) this.#iterating = false;
      }
      return { value: undefined, done: true };
    };
    const adopt = (accepted: Accepted): IteratorResult<StreamSocket> => {
      settled();
      return { value: this.#adopt(accepted), done: false };
    };
    const failed = (error: unknown): IteratorResult<StreamSocket> => {
      settled();
      finish();
      if (this.#closing) return { value: undefined, done: true };
      throw this.#acceptError(error);
    };
    const step = (): Promise<IteratorResult<StreamSocket>> => {
      try {
        if (finished || this.#closing) {
          settled();
          return Promise.resolve(finish());
        }
        acceptor ??= this.#startIterating();
      } catch (error) {
        settled();
        finished = true;
        return Promise.reject(error);
      }
      return acceptor.accept().then(adopt, failed);
    };
    return {
      next: (): Promise<IteratorResult<StreamSocket>> => {
        inFlight++;
        return tail = tail === undefined ? step() : tail.then(step, step);
      },
      return: (): Promise<IteratorResult<StreamSocket>> =>
        Promise.resolve(finish()),
    };
  }

  /**
   * Stops accepting and closes the sockets handed out; calling it again does
   * nothing.
   *
   * @example Close at once
   * ```ts
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * const listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * listener.close();
   * ```
   */
  close(): void {
    this.#stop();
    for (const socket of this.#sockets) socket.close();
  }

  /**
   * Stops accepting, then closes the sockets handed out or waits until their
   * handlers close them.
   *
   * @param options What to do with open sockets.
   * @returns Resolves once the listener and (with `"wait"`) its sockets are closed.
   *
   * @example Let handlers finish
   * ```ts
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * const listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await listener.closeAsync({ sockets: "wait" });
   * ```
   */
  async closeAsync(
    options: StreamSocketListenerCloseOptions = {},
  ): Promise<void> {
    const mode = options.sockets ?? "close";
    if (mode !== "close" && mode !== "wait") {
      throw new TypeError(
        `Cannot close: "sockets" must be "close" or "wait", got ${
          describe(mode)
        }`,
      );
    }
    const timeout = options.timeout ?? Infinity;
    if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
      throw new RangeError(
        `Cannot close: "timeout" must be a number of ms, 0 or more, got ${
          describe(timeout)
        }`,
      );
    }
    this.#stop();
    await this.#acceptLoop;
    if (mode === "close") {
      for (const socket of this.#sockets) socket.close();
    }
    const closed = Promise.all(
      [...this.#sockets].map((socket) => socket.closed),
    );
    if (mode === "close" || timeout === Infinity) {
      await closed;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimer(resolve, timeout);
    });
    try {
      await Promise.race([closed, late]);
    } finally {
      clearTimeout(timer);
    }
    for (const socket of this.#sockets) socket.close();
    await closed;
  }

  /**
   * Same as `closeAsync()`: stops accepting and closes the sockets handed out.
   *
   * @returns Resolves once closed.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAsync();
  }

  async #bind(
    hostname: string,
    port: number,
    open: (
      tls: TlsListenSettings | undefined,
    ) => Acceptor | Promise<Acceptor> = (tls) =>
      listen(hostname, port, tls, this.#hooks, listenOptions(this.#control)),
  ): Promise<void> {
    if (this.#listener !== undefined || this.#closing || this.#binding) {
      throw new TypeError(
        "Cannot bind: this listener is already bound or closed; use a new StreamSocketListener",
      );
    }
    const control = this.#control;
    const tls = control.serverCertificate === undefined ? undefined : {
      serverCertificate: control.serverCertificate,
      clientCertificateRequired: control.clientCertificateRequired,
      trustedClientRoots: control.trustedClientRoots,
      backend: control.tlsBackend,
      handshakeTimeout: () => control.handshakeTimeout,
      clientFailed: this.#clientFailed,
    };
    if (tls === undefined && control.clientCertificateRequired) {
      throw new TypeError(
        "Cannot bind: clientCertificateRequired needs TLS; set control.serverCertificate first",
      );
    }
    this.#binding = true;
    // The bind is synchronous; yielding once keeps bind errors asynchronous
    // and gives close() called right after a chance to run first.
    await Promise.resolve();
    try {
      this.#listener = await open(tls);
    } catch (error) {
      throw SocketError.from(error, {
        action: "Cannot listen on",
        endpoint: { hostname, port },
      });
    } finally {
      this.#binding = false;
    }
    if (this.#closing) {
      this.#listener.close();
      return;
    }
    const addr = this.#listener.addr;
    this.#information.localPort = addr.port;
    // A Unix socket has a path, not an address.
    this.#information.localAddress = addr.hostname === ""
      ? undefined
      : new HostName(addr.hostname);
    if (this.#listener instanceof UnixAcceptor) {
      this.#information.localPath = this.#listener.path;
    }
    // Accepted sockets with an idle time-out are watched through the set
    // that holds them here, not one by one (see _idle_sweep.ts).
    idleGroups.set(this.#forgetSocket, this.#sockets);
    if (this.#listeners.size > 0) this.#startAccepting();
  }

  /** Checks that iterating is allowed, and marks the listener as iterated. */
  #startIterating(): Acceptor {
    if (this.#listeners.size > 0) {
      throw new TypeError(
        "Cannot iterate: this listener dispatches connectionreceived events; use one or the other",
      );
    }
    const acceptor = this.#bound();
    this.#iterating = true;
    return acceptor;
  }

  #bound(): Acceptor {
    if (this.#listener !== undefined) return this.#listener;
    throw new TypeError(
      "Cannot accept: the listener is not bound; call bindEndpointAsync() first",
    );
  }

  #startAccepting(): void {
    this.#acceptLoop ??= this.#accept(this.#bound());
  }

  async #accept(listener: Acceptor): Promise<void> {
    while (!this.#closing) {
      let accepted: Accepted;
      try {
        accepted = await listener.accept();
      } catch (error) {
        if (this.#closing) return;
        this.#errors.report(this.#acceptError(error));
        continue;
      }
      if (this.#listeners.size === 0) {
        // Every handler was removed: nobody would ever own or close it.
        listener.adopted();
        try {
          accepted.connection.close();
        } catch {
          // Already closed by the peer: nothing to release.
        }
        continue;
      }
      const event = new ConnectionReceivedEvent(this.#adopt(accepted));
      // What dispatchEvent would do, without its per-event bookkeeping:
      // accepting thousands of connections otherwise grows the heap.
      beginDelivery(event, this);
      this.#listeners.deliver(event);
    }
  }

  #adopt(accepted: Accepted): StreamSocket {
    const socket = StreamSocket.fromConnection(accepted.connection, {
      control: this.#control,
      protectionLevel: accepted.protectionLevel,
      serverCertificate: accepted.serverCertificate,
      clientCertificate: accepted.clientCertificate,
      onClose: this.#forgetSocket,
    });
    this.#sockets.add(socket);
    this.#listener?.adopted();
    return socket;
  }

  // A client's failed handshake is the client's doing: it goes to `error`
  // listeners only, never to stderr, so clients cannot flood the log.
  #clientFailed = (error: unknown, remote: SocketAddress): void => {
    if (this.#closing) return;
    const action = "Refused a TLS connection from";
    const endpoint = { hostname: remote.hostname, port: remote.port };
    // The acceptors' own errors (timeout, early close, refused certificate)
    // are SocketErrors without the endpoint: add it.
    this.#errors.tell(
      error instanceof SocketError && error.endpoint === undefined
        ? new SocketError(
          `${action} ${formatEndpoint(endpoint)}: ${error.message}`,
          { status: error.status, endpoint, cause: error.cause ?? error },
        )
        : SocketError.from(error, { action, endpoint }),
    );
  };

  /** What the acceptor asks of this listener: room under the cap, and where to report failures. */
  #hooks: AcceptorHooks = {
    acceptFailed: (failure: AcceptFailure): void => {
      if (this.#closing) return;
      this.#errors.report(this.#backoffError(failure));
    },
    room: (pending: number): Promise<void> | undefined => {
      if (
        this.#closing ||
        this.#sockets.size + pending < this.#control.maxConnections
      ) return undefined;
      this.#roomWaiter ??= Promise.withResolvers<void>();
      return this.#roomWaiter.promise;
    },
  };
  /** Settles when a socket closes (or the listener), for an acceptor at the cap. */
  #roomWaiter: PromiseWithResolvers<void> | undefined;

  #wakeAcceptor(): void {
    const waiter = this.#roomWaiter;
    this.#roomWaiter = undefined;
    waiter?.resolve();
  }

  #backoffError(failure: AcceptFailure): Error {
    const error = this.#acceptError(failure.error);
    const suppressed = failure.suppressed === 0
      ? ""
      : `; ${failure.suppressed} more since the last report`;
    return new SocketError(
      `${error.message} (retrying in ${failure.retryIn} ms${suppressed})`,
      {
        status: SocketError.getStatus(error),
        endpoint: error instanceof SocketError ? error.endpoint : undefined,
        cause: failure.error,
      },
    );
  }

  /**
   * Closes the socket of a `connectionreceived` handler whose promise
   * rejects, and reports the failure.
   */
  #handlerPending(promise: Promise<unknown>, socket: StreamSocket): void {
    // Bound rather than a closure: it keeps only the socket alive, not the
    // event (about 220 bytes), and costs 48 bytes with the socket as its
    // `this` (72 with the socket as a bound argument, 104 for a closure and
    // its context), for each of the thousands of handlers a server may have
    // waiting.
    promise.then(undefined, this.#handlerRejected.bind(socket));
  }

  #handlerFailed = (socket: StreamSocket, error: unknown): void => {
    socket.close();
    // Failures caused by our own close() while shutting down are expected, not news.
    if (
      this.#closing &&
      SocketError.getStatus(error) === SocketErrorStatus.OperationAborted
    ) return;
    this.#errors.report(error);
  };

  /** What `#handlerFailed` does, for a socket bound as `this`. */
  #handlerRejected = onSocket(this.#handlerFailed);

  #forgetSocket = (socket: StreamSocket): void => {
    this.#sockets.delete(socket);
    this.#wakeAcceptor();
  };

  #acceptError(error: unknown): Error {
    const endpoint = {
      hostname: this.#information.localAddress?.canonicalName ?? "",
      port: this.#information.localPort,
    };
    return SocketError.from(error, {
      action: "Cannot accept a connection on",
      endpoint,
    });
  }

  #stop(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#wakeAcceptor();
    try {
      this.#listener?.close();
    } catch {
      // Closed already: nothing to release.
    }
  }
}
