/**
 * A TCP (or TLS) stream socket, as UWP's `StreamSocket`.
 *
 * @module
 */

import { HostName } from "./host_name.ts";
import {
  type SocketEndpoint,
  SocketError,
  SocketErrorStatus,
} from "./socket_error.ts";
import { SocketProtectionLevel } from "./socket_protection_level.ts";
import { SocketInputStream } from "./socket_input_stream.ts";
import { SocketOutputStream } from "./socket_output_stream.ts";
import type { SocketConnection } from "./socket_connection.ts";
import { parseServiceName } from "./_service_name.ts";
import { describe, formatEndpoint } from "./_format.ts";

/** Options of {@linkcode StreamSocket.connectAsync}. */
export interface StreamSocketConnectOptions {
  /**
   * How to protect the connection.
   *
   * @default {SocketProtectionLevel.PlainSocket}
   */
  protectionLevel?: SocketProtectionLevel;
  /** Cancels the connection attempt; the promise rejects with `OperationAborted`. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the connection before rejecting with
   * `ConnectionTimedOut`.
   *
   * @default {30000}
   */
  timeout?: number;
}

/** Options of {@linkcode StreamSocket.fromConnection}. */
export interface StreamSocketAdoptOptions {
  /** Settings to apply to the connection (`noDelay`, `keepAlive`, buffer size). */
  control?: StreamSocketControl;
  /** The protection level the connection already has. */
  protectionLevel?: SocketProtectionLevel;
}

/**
 * Socket options (UWP's `StreamSocketControl`). Set them before connecting;
 * `noDelay` and `keepAlive` also apply at once to a connected socket.
 *
 * @example Turn on keep-alive before connecting
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSocket } from "@seed/sockets";
 *
 * const socket = new StreamSocket();
 * socket.control.keepAlive = true;
 * assert.equal(socket.control.noDelay, true);
 * socket.close();
 * ```
 */
export class StreamSocketControl {
  #noDelay = true;
  #keepAlive = false;
  #outboundBufferSizeInBytes = 512 * 1024;
  #connection: SocketConnection | undefined;

  /**
   * Disables Nagle's algorithm, so small writes leave at once.
   *
   * @default {true}
   */
  get noDelay(): boolean {
    return this.#noDelay;
  }
  set noDelay(value: boolean) {
    this.#noDelay = checkBoolean(value, "noDelay");
    this.#connection?.setNoDelay?.(this.#noDelay);
  }

  /**
   * Sends TCP keep-alive probes on an idle connection.
   *
   * @default {false}
   */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }
  set keepAlive(value: boolean) {
    this.#keepAlive = checkBoolean(value, "keepAlive");
    this.#connection?.setKeepAlive?.(this.#keepAlive);
  }

  /**
   * Unsent bytes the output stream holds before `writer.ready` waits (its
   * high-water mark). Takes effect for sockets connected afterwards.
   *
   * @default {524288}
   */
  get outboundBufferSizeInBytes(): number {
    return this.#outboundBufferSizeInBytes;
  }
  set outboundBufferSizeInBytes(value: number) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `"outboundBufferSizeInBytes" must be a positive integer, got ${
          String(value)
        }`,
      );
    }
    this.#outboundBufferSizeInBytes = value;
  }

  /**
   * Copies these settings from another control.
   *
   * @param other Where to copy from.
   */
  copyFrom(other: StreamSocketControl): void {
    this.#noDelay = other.noDelay;
    this.#keepAlive = other.keepAlive;
    this.#outboundBufferSizeInBytes = other.outboundBufferSizeInBytes;
  }

  /**
   * Applies the settings to a new connection, and to it again on later changes.
   *
   * @param connection The connection.
   */
  applyTo(connection: SocketConnection): void {
    this.#connection = connection;
    connection.setNoDelay?.(this.#noDelay);
    connection.setKeepAlive?.(this.#keepAlive);
  }
}

/**
 * Facts about a connection (UWP's `StreamSocketInformation`): endpoints and
 * protection level. Before connecting, addresses are `undefined` and ports 0.
 *
 * @example Read the endpoints
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * assert.equal(client.information.remotePort, listener.information.localPort);
 * assert.equal(client.information.remoteAddress?.canonicalName, "127.0.0.1");
 * ```
 */
export class StreamSocketInformation {
  /** The local IP address. */
  localAddress: HostName | undefined;
  /** The local port. */
  localPort = 0;
  /** The remote IP address. */
  remoteAddress: HostName | undefined;
  /** The remote port. */
  remotePort = 0;
  /** The host name given to `connectAsync` (the remote address for accepted sockets). */
  remoteHostName: HostName | undefined;
  /** The service name given to `connectAsync` (the remote port for accepted sockets). */
  remoteServiceName = "";
  /** The protection level in force. */
  protectionLevel: SocketProtectionLevel = SocketProtectionLevel.Unspecified;
}

/**
 * A TCP stream socket (UWP's `StreamSocket`): connect, read through
 * `inputStream`, write through `outputStream`, close.
 *
 * > [!IMPORTANT]
 * > Needs `--allow-net` (for example `--allow-net=127.0.0.1`).
 *
 * @example Connect, send a line, read the echo
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader, StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("connectionreceived", async ({ socket }) => {
 *   const line = await new LineReader(socket.inputStream).readLine();
 *   await socket.outputStream.writeAsync(new TextEncoder().encode(`${line}\n`));
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using socket = new StreamSocket();
 * await socket.connectAsync("127.0.0.1", listener.information.localPort);
 * await socket.outputStream.writeAsync(new TextEncoder().encode("Hello, World!\n"));
 * assert.equal(await new LineReader(socket.inputStream).readLine(), "Hello, World!");
 * ```
 */
export class StreamSocket implements AsyncDisposable {
  #control = new StreamSocketControl();
  #information = new StreamSocketInformation();
  #connection: SocketConnection | undefined;
  #endpoint: { hostname: string; port: number } = { hostname: "", port: 0 };
  #inputStream: SocketInputStream | undefined;
  #outputStream: SocketOutputStream | undefined;
  #connecting = false;
  #closed = false;
  #closedSignal = Promise.withResolvers<void>();
  #isClosed = (): boolean => this.#closed;

  /**
   * Connects a new socket: the same as `new StreamSocket()` then
   * {@linkcode StreamSocket.prototype.connectAsync}.
   *
   * @param host Where to connect: a `HostName`, a DNS name or an IP address.
   * @param service The port, as a number or a string (`"80"`, `"http"`).
   * @param options A protection level, or connection options.
   * @returns The connected socket.
   * @throws {TypeError} If `host` or `service` is invalid.
   * @throws {SocketError} If the connection failed (`ConnectionRefused`,
   * `HostNotFound`, `ConnectionTimedOut`, ...).
   *
   * @example Connect in one call
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * ```
   */
  static async connectAsync(
    host: HostName | string,
    service: string | number,
    options?: SocketProtectionLevel | StreamSocketConnectOptions,
  ): Promise<StreamSocket> {
    const socket = new StreamSocket();
    await socket.connectAsync(host, service, options);
    return socket;
  }

  /**
   * Adopts a connection made elsewhere (an accepted `Deno.TcpConn`, a
   * `Deno.TlsConn`, or an adapter): the socket owns it from now on.
   *
   * @param connection The open connection.
   * @param options Settings and the protection level it already has.
   * @returns A connected socket.
   *
   * @example Wrap a `Deno.Conn`
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * await using socket = StreamSocket.fromConnection(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
   * assert.equal(socket.information.remotePort, listener.addr.port);
   * ```
   */
  static fromConnection(
    connection: SocketConnection,
    options: StreamSocketAdoptOptions = {},
  ): StreamSocket {
    const socket = new StreamSocket();
    if (options.control !== undefined) {
      socket.#control.copyFrom(options.control);
    }
    const remote = connection.remoteAddr;
    socket.#information.remoteHostName = hostNameOf(remote.hostname);
    socket.#information.remoteServiceName = String(remote.port);
    socket.#adopt(
      connection,
      options.protectionLevel ?? SocketProtectionLevel.PlainSocket,
    );
    return socket;
  }

  /**
   * Socket options; set them before connecting.
   *
   * @example Disable no-delay
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using socket = new StreamSocket();
   * socket.control.noDelay = false;
   * ```
   */
  get control(): StreamSocketControl {
    return this.#control;
  }

  /**
   * Endpoints and protection level of the connection.
   *
   * @example Before connecting
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket } from "@seed/sockets";
   *
   * const socket = new StreamSocket();
   * assert.equal(socket.information.remotePort, 0);
   * socket.close();
   * ```
   */
  get information(): StreamSocketInformation {
    return this.#information;
  }

  /**
   * Where to read what the peer sends.
   *
   * @throws {SocketError} `OperationAborted` if the socket is not connected.
   *
   * @example Read up to 1 KiB
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.addEventListener("connectionreceived", ({ socket }) => socket.close());
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * await socket.inputStream.readAsync(new Uint8Array(1024), 1024, 1);
   * ```
   */
  get inputStream(): SocketInputStream {
    this.#inputStream ??= new SocketInputStream(
      this.#connected("read from"),
      this.#endpoint,
      this.#isClosed,
    );
    return this.#inputStream;
  }

  /**
   * Where to write what the peer should receive; writes are coalesced.
   *
   * @throws {SocketError} `OperationAborted` if the socket is not connected.
   *
   * @example Write and flush
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * socket.outputStream.writeAsync(new Uint8Array([1, 2, 3]));
   * await socket.outputStream.flushAsync();
   * ```
   */
  get outputStream(): SocketOutputStream {
    this.#outputStream ??= new SocketOutputStream(
      this.#connected("write to"),
      this.#endpoint,
      this.#isClosed,
      { highWaterMark: this.#control.outboundBufferSizeInBytes },
    );
    return this.#outputStream;
  }

  /**
   * Resolves once the socket is closed, by whichever side of the program.
   *
   * @example Wait for the close
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * const socket = new StreamSocket();
   * socket.close();
   * await socket.closed;
   * ```
   */
  get closed(): Promise<void> {
    return this.#closedSignal.promise;
  }

  /**
   * Connects to a remote host (UWP's `ConnectAsync`).
   *
   * @param host Where to connect: a `HostName`, a DNS name or an IP address
   * (IPv6 with or without brackets).
   * @param service The port, as a number or a string (`"80"`, `"http"`).
   * @param options A `SocketProtectionLevel` (the UWP overload), or options
   * with a protection level, an `AbortSignal` and a time-out.
   * @returns Resolves once connected.
   * @throws {TypeError} If `host` or `service` is invalid, or the socket is
   * already connected.
   * @throws {RangeError} If the port is 0 or the time-out is not positive.
   * @throws {SocketError} If the connection failed: `ConnectionRefused`,
   * `HostNotFound`, `ConnectionTimedOut`, `OperationAborted`, ...
   *
   * @example Connection refused
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus, StreamSocket } from "@seed/sockets";
   *
   * const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = closed.addr.port;
   * closed.close();
   * await using socket = new StreamSocket();
   * await assert.rejects(socket.connectAsync("127.0.0.1", port), (error) =>
   *   SocketError.getStatus(error) === SocketErrorStatus.ConnectionRefused);
   * ```
   */
  async connectAsync(
    host: HostName | string,
    service: string | number,
    options?: SocketProtectionLevel | StreamSocketConnectOptions,
  ): Promise<void> {
    if (this.#connection !== undefined || this.#connecting || this.#closed) {
      throw new TypeError(
        "Cannot connect: this socket is already connected, connecting or closed; use a new StreamSocket",
      );
    }
    const hostName = host instanceof HostName ? host : new HostName(host);
    const port = parseServiceName(service, "service");
    if (port === 0) {
      throw new RangeError(
        `Cannot connect to port 0: give the port the server listens on`,
      );
    }
    const { protectionLevel, signal, timeout } = connectOptions(options);
    const endpoint = { hostname: hostName.canonicalName, port };
    this.#information.remoteHostName = hostName;
    this.#information.remoteServiceName = String(service);
    this.#connecting = true;
    try {
      const connection = await withDeadline(
        (deadline) => openConnection(endpoint, protectionLevel, deadline),
        endpoint,
        signal,
        timeout,
      );
      if (this.#closed) {
        connection.close();
        throw new SocketError(
          `Cannot connect to ${
            formatEndpoint(endpoint)
          }: the socket was closed`,
          {
            status: SocketErrorStatus.OperationAborted,
            endpoint,
          },
        );
      }
      this.#adopt(connection, protectionLevel);
    } finally {
      this.#connecting = false;
    }
  }

  /**
   * Closes the socket at once: pending reads and writes reject with
   * `OperationAborted`, unsent bytes are dropped. Calling it again does
   * nothing. Prefer `await using` (or `Symbol.asyncDispose`), which sends
   * what was written first.
   *
   * @example Close twice
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * const socket = new StreamSocket();
   * socket.close();
   * socket.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#connection?.close();
    } catch {
      // Already closed by the peer side of Deno's resource table: nothing left to release.
    }
    this.#closedSignal.resolve();
  }

  /**
   * Closes gracefully: waits (at most 10 s) until written bytes reached the
   * kernel, then closes. Errors while flushing are not thrown: the socket is
   * going away.
   *
   * @returns Resolves once closed.
   *
   * @example Dispose with `await using`
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * {
   *   await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   *   socket.outputStream.writeAsync(new TextEncoder().encode("bye"));
   * } // flushed, then closed
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    const output = this.#outputStream;
    if (output !== undefined && output.unsentBytes > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 10_000);
      });
      try {
        await Promise.race([output.flushAsync().catch(() => {}), limit]);
      } finally {
        clearTimeout(timer);
      }
    }
    this.close();
  }

  #adopt(
    connection: SocketConnection,
    protectionLevel: SocketProtectionLevel,
  ): void {
    this.#connection = connection;
    this.#control.applyTo(connection);
    const local = connection.localAddr;
    const remote = connection.remoteAddr;
    this.#endpoint.hostname = remote.hostname;
    this.#endpoint.port = remote.port;
    const info = this.#information;
    info.localAddress = hostNameOf(local.hostname);
    info.localPort = local.port;
    info.remoteAddress = hostNameOf(remote.hostname);
    info.remotePort = remote.port;
    info.protectionLevel = protectionLevel;
  }

  #connected(verb: string): SocketConnection {
    if (this.#connection !== undefined) return this.#connection;
    throw new SocketError(
      `Cannot ${verb} the socket: it is not connected; call connectAsync() first`,
      {
        status: SocketErrorStatus.OperationAborted,
      },
    );
  }
}

function hostNameOf(address: string): HostName | undefined {
  try {
    return new HostName(address);
  } catch {
    // Deno reports IP addresses; anything else (a Unix path) has no HostName.
    return undefined;
  }
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`"${name}" must be a boolean, got ${describe(value)}`);
  }
  return value;
}

interface ResolvedConnectOptions {
  protectionLevel: SocketProtectionLevel;
  signal: AbortSignal | undefined;
  timeout: number;
}

function connectOptions(
  options: SocketProtectionLevel | StreamSocketConnectOptions | undefined,
): ResolvedConnectOptions {
  const given = typeof options === "number"
    ? { protectionLevel: options }
    : options ?? {};
  if (typeof given !== "object" || given === null) {
    throw new TypeError(
      `Cannot connect: "options" must be a SocketProtectionLevel or an options object, got ${
        describe(options)
      }`,
    );
  }
  const timeout = given.timeout ?? 30_000;
  if (typeof timeout !== "number" || !(timeout > 0)) {
    throw new RangeError(
      `Cannot connect: "timeout" must be a positive number of milliseconds, got ${
        String(timeout)
      }`,
    );
  }
  if (given.signal !== undefined && !(given.signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot connect: "signal" must be an AbortSignal, got ${
        describe(given.signal)
      }`,
    );
  }
  return {
    protectionLevel: given.protectionLevel ?? SocketProtectionLevel.PlainSocket,
    signal: given.signal,
    timeout,
  };
}

async function openConnection(
  endpoint: SocketEndpoint,
  protectionLevel: SocketProtectionLevel,
  signal: AbortSignal,
): Promise<SocketConnection> {
  if (
    protectionLevel !== SocketProtectionLevel.PlainSocket &&
    protectionLevel !== SocketProtectionLevel.Unspecified
  ) {
    throw new RangeError(
      `Cannot connect with protection level ${
        String(protectionLevel)
      }: this version supports PlainSocket only`,
    );
  }
  return await Deno.connect({
    hostname: endpoint.hostname,
    port: endpoint.port,
    signal,
  });
}

/** Runs `attempt` with a signal that fires on the caller's abort or after `timeout` ms, and names which one it was. */
async function withDeadline<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  endpoint: SocketEndpoint,
  signal: AbortSignal | undefined,
  timeout: number,
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal?.aborted) onAbort();
    return await attempt(controller.signal);
  } catch (error) {
    if (timedOut) {
      throw new SocketError(
        `Cannot connect to ${
          formatEndpoint(endpoint)
        }: no answer within ${timeout} ms; check the host and port, or raise "timeout"`,
        {
          status: SocketErrorStatus.ConnectionTimedOut,
          endpoint,
          cause: error,
        },
      );
    }
    if (signal?.aborted) {
      throw new SocketError(
        `Cannot connect to ${
          formatEndpoint(endpoint)
        }: the attempt was aborted`,
        {
          status: SocketErrorStatus.OperationAborted,
          endpoint,
          cause: signal.reason,
        },
      );
    }
    if (error instanceof RangeError || error instanceof TypeError) throw error;
    throw SocketError.from(error, { action: "Cannot connect to", endpoint });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
