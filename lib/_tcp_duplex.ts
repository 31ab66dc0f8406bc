/**
 * Private helper of the `node:tls` acceptor: a `node:stream` `Duplex` over
 * a `Deno.Conn`, so that `node:tls` can run a server handshake on a
 * connection that `Deno.listen` accepted.
 *
 * Why not `tls.Server.listen()`: Deno's `node:net` server (its Rust
 * `TCPWrap`) stops accepting for good after one failed `accept()` (EMFILE),
 * silently, and offers no way to pause accepting at a connection cap. With
 * `Deno.listen` the listener's own accept loop (back-off, cap, handshake
 * bound) serves this kind too, and closing the `Deno.Conn` releases the
 * descriptor at once whatever state the handshake is in.
 *
 * @module
 */

import { Duplex } from "node:stream";

const CHUNK = 64 * 1024;

/** Adapts `conn`; destroying the duplex closes it. Half-open: the peer's end of stream does not end our side. */
export class ConnDuplex extends Duplex {
  readonly conn: Deno.TcpConn;
  /** Bytes received so far (0: the peer sent nothing). */
  received = 0;
  #reading = false;
  #closed = false;
  #buffer = new Uint8Array(CHUNK);
  /** The write in progress, if any. */
  #writing: Promise<void> | undefined;
  #lingering = false;

  constructor(conn: Deno.TcpConn) {
    super({ allowHalfOpen: true });
    this.conn = conn;
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      // Bounded by the peer: each pass reads real bytes, and its end of
      // stream (or push() asking to wait) stops it.
      while (true) {
        const n = await this.conn.read(this.#buffer);
        if (n === null) {
          this.push(null);
          return;
        }
        this.received += n;
        // A copy of what arrived, not a fresh 64 KiB buffer per read: a
        // handshake's records are a few hundred bytes.
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
    const writing = writeAll(this.conn, chunk);
    this.#writing = writing;
    writing.then(() => callback(), callback).finally(() => {
      if (this.#writing === writing) this.#writing = undefined;
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.conn.closeWrite().then(() => callback(), (error) => {
      // The peer left first: nothing to finish.
      callback(this.#closed ? null : error);
    });
  }

  override _destroy(
    error: Error | null,
    callback: (error?: Error | null) => void,
  ): void {
    // node:tls destroys its stream first and writes its last alert (a
    // client certificate required, say) just after: take writes for one
    // more turn, or the client sees a reset instead of the alert.
    this.#lingering = true;
    setTimeout(this.#releaseAfterWrites, 0);
    callback(error);
  }

  /** Writes arriving after destroy() while it lingers go straight out. */
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    if (!this.#lingering || !(chunk instanceof Uint8Array)) {
      return (super.write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }
    const previous = this.#writing ?? Promise.resolve();
    this.#writing = previous.then(() => writeAll(this.conn, chunk)).catch(
      () => {},
    );
    return false;
  }

  #releaseAfterWrites = (): void => {
    if (this.#writing === undefined) this.#release();
    else this.#writing.finally(() => this.#release());
  };

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
  }
}

async function writeAll(conn: Deno.Conn, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    written += await conn.write(chunk.subarray(written));
  }
}
