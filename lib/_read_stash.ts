/**
 * Bytes a stream socket read that nobody has taken yet.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/**
 * Holds what a read brought in after its caller stopped waiting, in order,
 * for the next read: Deno cannot cancel a pending `conn.read()`, so a read
 * whose signal aborted (or whose `readable` was cancelled) still completes,
 * into memory the library owns, and its bytes, its end of stream or its
 * error wait here.
 *
 * A socket has one only once it used a signal or cancelled a read: the main
 * path reads straight into the caller's buffer and never touches it.
 */
export class ReadStash {
  #buffer: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  /** The peer ended the stream: every later read gets 0, after the bytes. */
  ended = false;
  /** A failed read nobody waited for: the next read rejects with it. */
  error: unknown = undefined;
  /**
   * A read still pending on the connection whose result comes here; it
   * settles once the result is stashed.
   */
  inFlight: Promise<void> | undefined = undefined;
  /** Whether a caller is still waiting for `inFlight` (a second caller is refused). */
  owned = false;

  /** Bytes held. */
  get size(): number {
    return this.#end - this.#start;
  }

  /** Whether a read can be answered from here without the connection. */
  get ready(): boolean {
    return this.#end > this.#start || this.ended || this.error !== undefined;
  }

  /** Whether nothing is held and nothing is coming: reads may go straight to the connection. */
  get idle(): boolean {
    return !this.ready && this.inFlight === undefined;
  }

  /**
   * Room for `count` more bytes at the end, for a read to fill; commit what
   * it filled with {@linkcode ReadStash.commit}. The memory is reused.
   */
  reserve(count: number): Uint8Array {
    const size = this.#end - this.#start;
    if (this.#buffer.length - this.#end < count) {
      if (this.#buffer.length - size >= count) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(size + count, 2 * size));
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      }
      this.#start = 0;
      this.#end = size;
    }
    return this.#buffer.subarray(this.#end, this.#end + count);
  }

  /**
   * Keeps `count` bytes a read wrote into `room`, from the last
   * {@linkcode ReadStash.reserve}. Bytes taken or put back meanwhile may
   * have moved the others: then the new ones are copied to the end.
   */
  commit(room: Uint8Array, count: number): void {
    const buffer = this.#buffer;
    if (
      room.buffer === buffer.buffer &&
      room.byteOffset === buffer.byteOffset + this.#end
    ) {
      this.#end += count;
      return;
    }
    const bytes = room.subarray(0, count);
    this.reserve(count).set(bytes);
    this.#end += count;
  }

  /** Puts bytes back in front, for a read that gave them up. */
  unshift(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#start >= bytes.length) {
      this.#start -= bytes.length;
      this.#buffer.set(bytes, this.#start);
      return;
    }
    const held = this.#buffer.subarray(this.#start, this.#end);
    const joined = new Uint8Array(bytes.length + held.length);
    joined.set(bytes);
    joined.set(held, bytes.length);
    this.#buffer = joined;
    this.#start = 0;
    this.#end = joined.length;
  }

  /**
   * Answers a read from what is held: copies up to `target.length` bytes and
   * returns how many (0 at the end of the stream), or throws the stashed
   * error. Call only when {@linkcode ReadStash.ready}.
   */
  take(target: Uint8Array): number {
    const size = this.#end - this.#start;
    if (size > 0) {
      const n = Math.min(size, target.length);
      target.set(this.#buffer.subarray(this.#start, this.#start + n));
      this.#start += n;
      if (this.#start === this.#end) this.#start = this.#end = 0;
      return n;
    }
    if (this.error !== undefined) {
      const error = this.error;
      this.error = undefined;
      throw error;
    }
    return 0;
  }
}
