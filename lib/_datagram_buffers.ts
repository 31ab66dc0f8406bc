/**
 * Private helpers of `DatagramSocket`: where received and sent datagrams'
 * bytes live. Allocating an `ArrayBuffer` per datagram costs more than the
 * copy itself (a fresh 64-byte `slice()` takes several times as long as a
 * 1,200-byte copy into existing memory), so datagrams are copied into
 * shared chunks instead.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

import { COPY_LIMIT } from "./_copy_limit.ts";

/**
 * The size of the chunks received datagrams are copied into. Larger chunks
 * cost less per datagram, but a datagram kept alive keeps its whole chunk.
 */
export const RECEIVE_CHUNK_SIZE = 32_768;
/** Received datagrams larger than this get a buffer of their own. */
export const MAX_POOLED_RECEIVE = 2_048;
/**
 * The size of the chunks outgoing datagrams are copied into: room for the
 * largest copy. Writes of `COPY_LIMIT` (16 KiB) or more are not copied:
 * `OutputStream` lets a stream read them until the write settles.
 */
export const SEND_CHUNK_SIZE = COPY_LIMIT;

/**
 * Copies received datagrams into shared, never reused chunks: each copy is a
 * view nobody else writes to, and a chunk lives as long as any view of it.
 */
export class ReceivePool {
  #chunk = new Uint8Array(0);
  #offset = 0;

  /** A copy of `bytes` that the caller owns. */
  copy(bytes: Uint8Array): Uint8Array {
    const length = bytes.length;
    if (length > MAX_POOLED_RECEIVE) return bytes.slice();
    let offset = this.#offset;
    if (offset + length > this.#chunk.length) {
      this.#chunk = new Uint8Array(RECEIVE_CHUNK_SIZE);
      offset = 0;
    }
    const copy = this.#chunk.subarray(offset, offset + length);
    copy.set(bytes);
    this.#offset = offset + length;
    return copy;
  }
}

/** A chunk of a {@linkcode SendPool}. */
export interface SendChunk {
  bytes: Uint8Array;
  /** How many bytes from the start hold copies. */
  used: number;
  /** How many copies in it are not sent yet. */
  pending: number;
  /** The view of its first bytes handed out last, reused while it fits. */
  head: Uint8Array;
}

/**
 * Copies outgoing datagrams into chunks that are reused once every copy in
 * them was sent: a steady stream of sends of one size allocates nothing.
 * Each `take` must be paired with one `release` once its send settled.
 */
export class SendPool {
  #current: SendChunk | undefined;
  #spare: SendChunk | undefined;

  /**
   * The chunk the last `take` copied into, to pass to `release`;
   * `undefined` for a buffer sent as it is.
   */
  chunk: SendChunk | undefined;

  /** The bytes to send for `bytes`: a copy, or `bytes` if `COPY_LIMIT` or more. */
  take(bytes: Uint8Array): Uint8Array {
    const length = bytes.length;
    if (length >= COPY_LIMIT) {
      this.chunk = undefined;
      return bytes;
    }
    let chunk = this.#current;
    if (chunk === undefined || chunk.used + length > SEND_CHUNK_SIZE) {
      chunk = this.#spare ?? {
        bytes: new Uint8Array(SEND_CHUNK_SIZE),
        used: 0,
        pending: 0,
        head: new Uint8Array(0),
      };
      this.#spare = undefined;
      this.#current = chunk;
    }
    let copy: Uint8Array;
    if (chunk.used === 0 && chunk.head.length === length) {
      copy = chunk.head;
    } else {
      copy = chunk.bytes.subarray(chunk.used, chunk.used + length);
      if (chunk.used === 0) chunk.head = copy;
    }
    copy.set(bytes);
    chunk.used += length;
    chunk.pending++;
    this.chunk = chunk;
    return copy;
  }

  /** Marks one copy in `chunk` as sent; a chunk with none left is reused. */
  release(chunk: SendChunk | undefined): void {
    if (chunk === undefined || --chunk.pending > 0) return;
    chunk.used = 0;
    if (chunk !== this.#current) this.#spare = chunk;
  }
}
