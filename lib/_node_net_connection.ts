/**
 * A {@linkcode SocketConnection} over a `node:net` `Socket`, so that stream
 * sockets can use what Deno's `node:net` offers and `Deno.connect` does not:
 * binding the local address and port of a client (`localAddress`,
 * `localPort`), a keep-alive idle time (`setKeepAlive(true, ms)`), and an
 * abortive close that sends a TCP RST (`resetAndDestroy()`). The TLS
 * connection over `node:tls` builds on it.
 *
 * Chosen per socket, only when one of these is asked for: `Deno.connect`
 * stays the default (bench/tcp_bulk_echo.ts measures the difference).
 *
 * @module
 */

import * as net from "node:net";
import type { SocketAddress, SocketConnection } from "./socket_connection.ts";

/** Received bytes held before the socket is paused: bounds memory when the reader is slower than the peer. */
const HIGH_WATER_MARK = 256 * 1024;

/**
 * How long `close()` lets the socket send what it still holds (over TLS,
 * the close_notify at least) before destroying it: a peer that stopped
 * reading would otherwise keep the socket, and its descriptor, for good.
 * Written bytes the kernel took still go out after the descriptor closes.
 */
export const CLOSE_LIMIT_MS = 1_000;

/** A readable stream's flow control, as backpressure uses it. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
  isPaused(): boolean;
}

/** Adapts a connected `node:net` socket (or a subclass); it owns the socket from now on. */
export class NodeNetConnection<S extends net.Socket = net.Socket>
  implements SocketConnection {
  readonly localAddr: SocketAddress;
  readonly remoteAddr: SocketAddress;
  protected readonly socket: S;
  /** What backpressure pauses: the socket, or the stream a TLS socket runs over. */
  #source: Pausable;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  #wake: PromiseWithResolvers<void> | undefined;
  /** Writes waiting for node:net's callback; failed at once on close or error, in case it never comes. */
  // Made on the first write: servers hold many idle connections.
  #writes: Set<PromiseWithResolvers<void>> | undefined;
  #finished = Promise.withResolvers<void>();

  /**
   * @param socket The connected socket.
   * @param addresses The endpoints, when the socket cannot know them (a TLS
   * socket over a stream rather than a TCP handle).
   * @param source The stream a TLS socket runs over, paused instead of the
   * socket when the reader falls behind: Deno 2.9.6's `node:tls` over a
   * JavaScript stream delivers nothing more, not even the end, once its
   * socket was paused and resumed (a client's 1 MB and its end never
   * arrived). Paused there, the kernel's window holds the peer back alike.
   */
  constructor(
    socket: S,
    addresses?: { localAddr: SocketAddress; remoteAddr: SocketAddress },
    source?: Pausable,
  ) {
    this.socket = socket;
    this.#source = source ?? socket;
    this.localAddr = addresses?.localAddr ?? {
      hostname: plainAddress(socket.localAddress),
      port: socket.localPort ?? 0,
    };
    this.remoteAddr = addresses?.remoteAddr ?? {
      hostname: plainAddress(socket.remoteAddress),
      port: socket.remotePort ?? 0,
    };
    socket.on("data", (chunk: Uint8Array) => {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued >= HIGH_WATER_MARK) this.#source.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error ??= error;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("finish", () => this.#finished.resolve());
    // The peer may have gone between the connection and the adoption.
    if (socket.destroyed) this.#ended = true;
    this.#finished.promise.catch(() => {});
  }

  /**
   * Whether the socket copies what it is given to write before `write`
   * returns (TLS encrypts it into records), so that a close may still flush
   * writes it rejected without reading their callers' buffers.
   */
  protected get copiesWrites(): boolean {
    return false;
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#queue.length === 0) {
      if (this.#closed) {
        throw new Deno.errors.BadResource("The connection was closed");
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      this.#wake = Promise.withResolvers<void>();
      await this.#wake.promise;
    }
    let written = 0;
    while (written < p.length && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const n = Math.min(head.length, p.length - written);
      p.set(n === head.length ? head : head.subarray(0, n), written);
      written += n;
      if (n === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(n);
    }
    this.#queued -= written;
    if (this.#queued < HIGH_WATER_MARK && this.#source.isPaused()) {
      this.#source.resume();
    }
    return written;
  }

  async write(p: Uint8Array): Promise<number> {
    this.#check();
    // The caller may reuse `p` once this resolves: resolve when node:net
    // has handed it to the kernel (its write callback), not before.
    const written = Promise.withResolvers<void>();
    (this.#writes ??= new Set()).add(written);
    this.socket.write(p, (error) => {
      if (error) written.reject(error);
      else written.resolve();
    });
    try {
      await written.promise;
    } finally {
      this.#writes.delete(written);
    }
    this.#check();
    return p.length;
  }

  async closeWrite(): Promise<void> {
    this.#check();
    this.socket.end();
    await this.#finished.promise;
  }

  close(): void {
    // Writes still waiting for node:net fail now, and their callers may
    // reuse their buffers at once: node:net must not send from them later
    // (end() would flush them), so drop what it still holds.
    const unsent = !this.copiesWrites && (this.#writes?.size ?? 0) > 0;
    if (!this.#markClosed()) return;
    if (unsent) {
      this.socket.destroy();
      return;
    }
    // Send FIN (and close_notify over TLS) first: a bare destroy() makes
    // peers that are still writing see ECONNRESET.
    this.socket.end();
    this.socket.destroySoon();
    if (this.socket.destroyed) return;
    const socket = this.socket;
    const limit = setTimeout(() => socket.destroy(), CLOSE_LIMIT_MS);
    socket.once("close", () => clearTimeout(limit));
  }

  /**
   * Closes abortively: the kernel drops unsent data and sends a TCP RST, so
   * the peer's next read or write fails with a connection reset.
   */
  reset(): void {
    if (!this.#markClosed()) return;
    this.socket.resetAndDestroy();
  }

  setNoDelay(noDelay = true): void {
    this.socket.setNoDelay(noDelay);
  }

  /**
   * Turns keep-alive on or off; `delayMs` is the idle time before the first
   * probe (`TCP_KEEPIDLE`), the system's when 0.
   */
  setKeepAlive(keepAlive = true, delayMs = 0): void {
    this.socket.setKeepAlive(keepAlive, delayMs);
  }

  /** Marks the connection closed and fails what waits; `false` if it already was. */
  #markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    const closed = new Deno.errors.BadResource("The connection was closed");
    this.#finished.reject(closed);
    this.#notify();
    return true;
  }

  #check(): void {
    if (this.#closed) {
      throw new Deno.errors.BadResource("The connection was closed");
    }
    if (this.#error !== undefined) throw this.#error;
  }

  #notify(): void {
    this.#wake?.resolve();
    this.#wake = undefined;
    if (this.#error !== undefined || this.#closed) {
      const error = this.#error ??
        new Deno.errors.BadResource("The connection was closed");
      for (const write of this.#writes ?? []) write.reject(error);
      this.#writes?.clear();
    }
  }
}

/** Where a client connection goes, and optionally where it comes from. */
export interface NodeNetConnectOptions {
  hostname: string;
  port: number;
  /** The local address to bind; any when absent. */
  localAddress?: string | undefined;
  /** The local port to bind; any (0) when absent. */
  localPort?: number | undefined;
  /** Idle time before the first keep-alive probe, when keep-alive should be on from the start. */
  keepAliveDelay?: number | undefined;
}

/**
 * Connects with `node:net`; the attempt is abandoned (and the socket
 * destroyed) when `signal` aborts.
 */
export async function connectNodeNet(
  options: NodeNetConnectOptions,
  signal: AbortSignal,
): Promise<NodeNetConnection> {
  signal.throwIfAborted();
  const socket = net.connect({
    host: options.hostname,
    port: options.port,
    // Half-close: the peer's end of stream must not end our side too.
    allowHalfOpen: true,
    ...(options.localAddress === undefined
      ? {}
      : { localAddress: options.localAddress }),
    ...(options.localPort === undefined
      ? {}
      : { localPort: options.localPort }),
    ...(options.keepAliveDelay === undefined
      ? {}
      : { keepAlive: true, keepAliveInitialDelay: options.keepAliveDelay }),
  });
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const onAbort = (): void => reject(signal.reason);
  socket.once("connect", resolve);
  socket.once("error", reject);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await promise;
  } catch (error) {
    socket.destroy();
    throw bindError(error) ?? error;
  } finally {
    socket.off("connect", resolve);
    socket.off("error", reject);
    signal.removeEventListener("abort", onAbort);
  }
  return new NodeNetConnection(socket);
}

/**
 * Deno's `node:net` reports a local address this machine does not have as
 * `bind EINVAL` where the kernel said EADDRNOTAVAIL: restore the meaning.
 */
export function bindError(error: unknown): Error | undefined {
  const { code, syscall, address } = error as {
    code?: unknown;
    syscall?: unknown;
    address?: unknown;
  };
  if (syscall !== "bind" || code !== "EINVAL") return undefined;
  return Object.assign(
    new Error(
      `cannot bind the local address ${
        String(address)
      }: it is not an address of this machine`,
      { cause: error },
    ),
    { code: "EADDRNOTAVAIL" },
  );
}

/** Strips the IPv4-mapped prefix node reports on dual-stack sockets. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("::ffff:") && address.includes(".")
    ? address.slice(7)
    : address;
}
