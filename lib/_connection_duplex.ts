/**
 * Private helper of the two `node:tls` servers: a `node:stream` `Duplex`
 * over a plain connection, for `node:tls` to run a server `TLSSocket` over.
 * The client-certificate listener (`_acceptors.ts`) wraps the connections
 * `Deno.listen` accepted; `upgradeToSslAsServerAsync()`
 * (`_tls_server_upgrade.ts`) the connection a socket already has.
 *
 * Backpressure pauses this duplex, not the TLS socket over it
 * (`_node_net_connection.ts`): paused, it stops reading once `push()` says
 * its buffer is full, and the kernel's window holds the peer back.
 *
 * @module
 */

import { Duplex } from "node:stream";
import type { SocketConnection } from "./socket_connection.ts";

/** What the duplex uses of a connection: `Deno.TcpConn` and every {@linkcode SocketConnection} fit. */
export type DuplexConnection = Pick<
  SocketConnection,
  "read" | "write" | "closeWrite" | "close"
>;

/** Bytes read from the connection per read. */
const READ_SIZE = 64 * 1024;
/** How long a destroyed duplex waits for the writes it took while lingering. */
export const LINGER_LIMIT_MS = 1_000;

/**
 * Adapts `conn`, which it owns from now on; destroying the duplex closes it,
 * one timer turn later unless a write was still going out, and at most
 * `LINGER_LIMIT_MS` after the writes it took in that turn began. Half-open: the
 * peer's end of stream does not end our side.
 *
 * Concurrency: `node:stream` serialises the calls into it. One loop reads
 * `conn`, so at most one read is in flight; writes go out one at a time, in
 * order, including those taken while it lingers after `destroy()`.
 */
export class ConnectionDuplex extends Duplex {
  /** Bytes received so far (0: the peer sent nothing). */
  received = 0;
  #conn: DuplexConnection;
  /**
   * The one read buffer. Each read pushes a copy of what it brought: a view
   * of a fresh buffer per read would keep 64 KiB alive for every chunk
   * waiting in the duplex, and while backpressure pauses it a peer sending
   * a byte at a time would make the 64 KiB it holds (node:stream's
   * high-water mark) keep 4 GiB alive.
   */
  #buffer = new Uint8Array(READ_SIZE);
  #reading = false;
  #closed = false;
  /** The write in progress, if any. */
  #writing: Promise<void> | undefined;
  #lingering = false;

  constructor(conn: DuplexConnection) {
    super({ allowHalfOpen: true });
    this.#conn = conn;
  }

  override _read(): void {
    // node:stream calls _read again after every push; while the loop runs,
    // it is already reading for that call.
    if (this.#reading) return;
    this.#reading = true;
    this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      // Bounded by the peer: each pass reads real bytes, and its end of
      // stream (or push() asking to wait until the next _read) stops it.
      while (true) {
        const n = await this.#conn.read(this.#buffer);
        if (n === null) {
          this.push(null);
          return;
        }
        this.received += n;
        if (!this.push(this.#buffer.slice(0, n))) return;
      }
    } catch (error) {
      if (!this.#closed) this.destroy(error as Error);
    } finally {
      this.#reading = false;
    }
  }

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    callback: (error?: Error | null) => void,
  ): void {
    const writing = writeAll(this.#conn, chunk);
    this.#writing = writing;
    writing.then(() => callback(), callback).finally(() => {
      if (this.#writing === writing) this.#writing = undefined;
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#conn.closeWrite().then(() => callback(), (error) => {
      // The peer left first: nothing to finish.
      callback(this.#closed ? null : error);
    });
  }

  /**
   * Closes after what node:tls queued (a refused handshake's alert, say)
   * went out and our side ended, destroying the duplex then; or after
   * `LINGER_LIMIT_MS` at most: a client that does not read could keep those
   * bytes waiting for room, and the descriptor with them.
   */
  endThenDestroy(): void {
    if (this.destroyed) return;
    const limit = setTimeout(() => this.destroy(), LINGER_LIMIT_MS);
    // Called on the finish, and on a destroy before it.
    this.end(() => {
      clearTimeout(limit);
      this.destroy();
    });
  }

  override _destroy(
    error: Error | null,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#writing !== undefined) {
      // Abandoned, as destroy() means: a peer that stopped reading would
      // never let it finish, and the connection must close regardless.
      this.#release();
    } else {
      // node:tls destroys its stream first and writes its last alert (a
      // client certificate required, say) just after: take writes for one
      // more turn, or the client sees a reset instead of the alert.
      this.#lingering = true;
      setTimeout(this.#releaseAfterWrites, 0);
    }
    callback(error);
  }

  /** Writes arriving after destroy() while it lingers go straight out. */
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    if (!this.#lingering || !(chunk instanceof Uint8Array)) {
      return (super.write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }
    const previous = this.#writing ?? Promise.resolve();
    this.#writing = previous.then(() => writeAll(this.#conn, chunk)).catch(
      () => {},
    );
    return false;
  }

  #releaseAfterWrites = (): void => {
    if (this.#writing === undefined) return this.#release();
    // An alert is a few bytes, but a peer that stopped reading can keep even
    // those waiting for room, and with them the descriptor: it gets
    // LINGER_LIMIT_MS.
    const limit = setTimeout(() => this.#release(), LINGER_LIMIT_MS);
    this.#writing.finally(() => {
      clearTimeout(limit);
      this.#release();
    });
  };

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
  }
}

async function writeAll(
  conn: DuplexConnection,
  bytes: Uint8Array,
): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}
