/**
 * A {@linkcode SocketConnection} over a `node:tls` `TLSSocket`, so that
 * stream sockets can use what Deno's `node:tls` offers and `Deno.connectTls`
 * / `Deno.listenTls` do not: client-certificate verification on the server,
 * the peer's certificate, and the negotiated protocol version.
 *
 * @module
 */

import type { TLSSocket } from "node:tls";
import type { SocketAddress, SocketConnection } from "./socket_connection.ts";
import { Certificate } from "./certificate.ts";

/** Received bytes held before the socket is paused: bounds memory when the reader is slower than the peer. */
const HIGH_WATER_MARK = 256 * 1024;

/** Adapts a connected (handshaken) `TLSSocket`; it owns the socket from now on. */
export class NodeTlsConnection implements SocketConnection {
  readonly localAddr: SocketAddress;
  readonly remoteAddr: SocketAddress;
  #socket: TLSSocket;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  #wake: PromiseWithResolvers<void> | undefined;
  #drain: PromiseWithResolvers<void> | undefined;
  #finished = Promise.withResolvers<void>();

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    this.localAddr = {
      hostname: plainAddress(socket.localAddress),
      port: socket.localPort ?? 0,
    };
    this.remoteAddr = {
      hostname: plainAddress(socket.remoteAddress),
      port: socket.remotePort ?? 0,
    };
    socket.on("data", (chunk: Uint8Array) => {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued >= HIGH_WATER_MARK) socket.pause();
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
    socket.on("drain", () => {
      this.#drain?.resolve();
      this.#drain = undefined;
    });
    socket.on("finish", () => this.#finished.resolve());
    // The peer may have gone between the handshake and the adoption.
    if (socket.destroyed) this.#ended = true;
    this.#finished.promise.catch(() => {});
  }

  /** The negotiated protocol (`"TLSv1.2"`, `"TLSv1.3"`), when known. */
  get protocol(): string | undefined {
    return this.#socket.getProtocol() ?? undefined;
  }

  /** The certificate the peer presented, when it presented one. */
  peerCertificate(): Certificate | undefined {
    const peer = this.#socket.getPeerCertificate();
    if (peer === null || peer === undefined || peer.raw === undefined) {
      return undefined;
    }
    return Certificate.fromDer(new Uint8Array(peer.raw));
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
    if (this.#queued < HIGH_WATER_MARK && this.#socket.isPaused()) {
      this.#socket.resume();
    }
    return written;
  }

  async write(p: Uint8Array): Promise<number> {
    this.#check();
    // The caller may reuse `p` once this resolves, and node:tls may still hold it: copy.
    const accepted = this.#socket.write(p.slice());
    if (!accepted) {
      this.#drain ??= Promise.withResolvers<void>();
      const drain = this.#drain;
      await drain.promise;
      this.#check();
    }
    return p.length;
  }

  async closeWrite(): Promise<void> {
    this.#check();
    this.#socket.end();
    await this.#finished.promise;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Send close_notify and FIN first: a bare destroy() makes peers that are
    // still writing (their own close_notify) see ECONNRESET.
    this.#socket.end();
    this.#socket.destroySoon();
    const closed = new Deno.errors.BadResource("The connection was closed");
    this.#drain?.reject(closed);
    this.#drain = undefined;
    this.#finished.reject(closed);
    this.#notify();
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive(keepAlive);
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
      this.#drain?.reject(this.#error ?? new Deno.errors.BadResource());
      this.#drain = undefined;
    }
  }
}

/** Strips the IPv4-mapped prefix node reports on dual-stack sockets. */
function plainAddress(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("::ffff:") && address.includes(".")
    ? address.slice(7)
    : address;
}
