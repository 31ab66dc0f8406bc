/**
 * Buffers that connections hand back between uses, for other connections
 * to take: `DataWriter`s between stores, output streams between rounds.
 *
 * A framed server answers each frame with one store, and between two of
 * them its writer and its output stream hold nothing worth keeping. Kept
 * per connection, the 128 KiB a writer grew to for its largest frame and
 * the batches its stream gathered answers in stay for the connection's whole
 * life: for a thousand connections that is more than raw Deno's read
 * buffers themselves. Handed back, only the connections between a first
 * write and the end of its send hold any, and the few in use stay in the
 * processor's cache. A pool only ever holds buffers that were in use at the
 * same time, up to its cap; beyond it, the garbage collector has them.
 *
 * @module
 */

/** What a pool holds: a buffer, with whatever its owner keeps alongside. */
export interface Pooled {
  readonly bytes: Uint8Array;
}

/** How many size classes above the one asked for `take` looks in. */
const LARGER_CLASSES = 2;

/**
 * A pool of buffers handed back, bounded in bytes. Buffers are kept by size
 * class (powers of two), so that taking one costs the same however many
 * the pool holds.
 */
export class BufferPool<T extends Pooled> {
  /**
   * `#classes[c]` holds buffers of 2^c bytes or more, under 2^(c+1); all 32
   * made at once, since reading a hole of a sparse array is a slow lookup.
   */
  #classes: T[][] = Array.from({ length: 32 }, (): T[] => []);
  #bytes = 0;
  #maxBytes: number;

  /** @param maxBytes The most the pool holds. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * A buffer of at least `size` bytes, of the smallest class that has one
   * (up to two classes larger), the last handed back first: still in the
   * cache. `undefined` if none.
   *
   * @param max The most the buffer may hold: owners that share a pool may
   * have different limits (an output stream's `maxBatchSize`). A class
   * whose last buffer is larger is passed over, not searched.
   */
  take(size: number, max: number = Infinity): T | undefined {
    const classes = this.#classes;
    // The class whose every buffer holds `size`: 2^c >= size.
    const first = size <= 1 ? 0 : 32 - Math.clz32(size - 1);
    const last = Math.min(classes.length - 1, first + LARGER_CLASSES);
    for (let c = first; c <= last; c++) {
      const items = classes[c]!;
      if (items.length === 0) continue;
      if (items[items.length - 1]!.bytes.length > max) continue;
      const item = items.pop()!;
      this.#bytes -= item.bytes.length;
      return item;
    }
    return undefined;
  }

  /** Takes back a buffer nobody uses any more, unless the pool is full. */
  give(item: T): void {
    const length = item.bytes.length;
    if (length === 0 || this.#bytes + length > this.#maxBytes) return;
    this.#classes[31 - Math.clz32(length)]!.push(item);
    this.#bytes += length;
  }

  /** How many bytes the pool holds. */
  get bytes(): number {
    return this.#bytes;
  }
}
