/**
 * Copies of a few bytes: carved out of shared blocks, and made by a loop.
 *
 * Deno pays about 0.5 µs for every new `ArrayBuffer`, whatever its size: a
 * framed server that copies each 32-byte payload out of its reader spent
 * more on those allocations than on the system calls. Node's
 * `Buffer.allocUnsafe` answers with a pool, and so does this: copies under
 * 4 KiB are views into an 8 KiB block, a fresh block when the current one is
 * full. A copy is still the caller's alone (nobody else writes its bytes),
 * but its `buffer` is shared; the docs of the readers that return these say
 * so.
 *
 * @module
 */

const BLOCK_SIZE = 8 * 1024;
/** Copies from this size on get their own `ArrayBuffer`. */
export const SMALL_COPY_LIMIT = BLOCK_SIZE / 2;

let block = new Uint8Array(BLOCK_SIZE);
let used = 0;

/** A copy of `source[start..end)`, from the shared block when it is small. */
export function copyOf(
  source: Uint8Array,
  start: number,
  end: number,
): Uint8Array {
  const length = end - start;
  if (length >= SMALL_COPY_LIMIT || length === 0) {
    return source.slice(start, end);
  }
  // A caller who transferred a copy's buffer detached the block: start anew.
  if (used + length > BLOCK_SIZE || block.byteLength === 0) {
    block = new Uint8Array(BLOCK_SIZE);
    used = 0;
  }
  const copy = block.subarray(used, used + length);
  // Eight-byte aligned, so that a DataView or a wider typed array over the
  // copy's bytes is aligned as a fresh buffer would be.
  used += (length + 7) & ~7;
  copyInto(copy, 0, source, start, length);
  return copy;
}

/** Up to this length `copyInto` copies part of its source by a loop: `subarray` costs about 50 ns. */
const SHORT_COPY = 32;
/**
 * Up to this length it copies a whole source by a loop too; longer, one
 * `set` call (15 to 20 ns whatever the length) beats a loop of 32 bytes
 * (measured on Deno 2.9.6: a framed echo's 32-byte payloads, 7% less time).
 */
const WHOLE_LOOP = 8;

/**
 * Copies `length` bytes of `source` from `start` into `target` at `at`: by a
 * loop when they are few, since a `set` call (and the `subarray` it needs for
 * part of `source`) costs more than a loop over a few bytes; by `set` when
 * `source` is whole and more than a few bytes. The copies of
 * short answers and fields on every hot path go through here.
 */
export function copyInto(
  target: Uint8Array,
  at: number,
  source: Uint8Array,
  start: number,
  length: number,
): void {
  if (start === 0 && length === source.length && length > WHOLE_LOOP) {
    target.set(source, at);
  } else if (length <= SHORT_COPY) {
    for (let i = 0; i < length; i++) target[at + i] = source[start + i]!;
  } else {
    target.set(source.subarray(start, start + length), at);
  }
}
