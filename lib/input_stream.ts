/**
 * The input side of a socket, as UWP's `IInputStream`: read bytes into a
 * buffer you own.
 *
 * @module
 */

import type { AbortOptions } from "./abort_options.ts";

/**
 * How {@linkcode InputStream.readAsync} and `DataReader.loadAsync` decide
 * that a read is complete, with the UWP numeric values.
 *
 * - `None` (0): wait until `count` bytes arrived or the stream ended.
 * - `Partial` (1): complete as soon as at least one byte arrived.
 * - `ReadAhead` (2): like `Partial`, and the reader may read more than asked
 *   to save calls (meaningful for `DataReader`).
 *
 * @example Choose partial reads
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputStreamOptions } from "@seed/sockets";
 *
 * assert.equal(InputStreamOptions.Partial, 1);
 * ```
 */
export const InputStreamOptions = {
  /** Wait for `count` bytes or the end of the stream. */
  None: 0,
  /** Complete as soon as some data arrived. */
  Partial: 1,
  /** Complete as soon as some data arrived; may read more than asked. */
  ReadAhead: 2,
} as const;

/** One of the {@linkcode InputStreamOptions} values. */
export type InputStreamOptions =
  typeof InputStreamOptions[keyof typeof InputStreamOptions];

/**
 * A source of bytes, read into caller-owned buffers (UWP's `IInputStream`).
 *
 * Every input stream of the library implements it, so `DataReader` and
 * `LineReader` work over TCP, TLS and in-memory streams alike.
 *
 * @example Read from any input stream
 * ```ts
 * import assert from "node:assert/strict";
 * import type { InputStream } from "@seed/sockets";
 *
 * const bytes = new Uint8Array([1, 2, 3]);
 * let done = false;
 * const stream: InputStream = {
 *   readAsync(buffer: Uint8Array): Promise<number> {
 *     if (done) return Promise.resolve(0);
 *     done = true;
 *     buffer.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const target = new Uint8Array(8);
 * assert.equal(await stream.readAsync(target, 8), 3);
 * ```
 */
export interface InputStream {
  /**
   * Reads up to `count` bytes into `buffer`, starting at index 0.
   *
   * @param buffer Where the bytes go; must hold at least `count` bytes.
   * @param count How many bytes to read at most (default `buffer.length`).
   * @param options When to complete (default `InputStreamOptions.None`).
   * @param abort A `signal` that aborts the read. An implementation that
   * takes it must reject once it aborts and never write into `buffer`
   * afterwards, keeping what arrives for the next read; `DataReader` and
   * `LineReader` pass their callers' signals down and rely on this.
   * @returns The number of bytes read; 0 only at the end of the stream.
   */
  readAsync(
    buffer: Uint8Array,
    count?: number,
    options?: InputStreamOptions,
    abort?: AbortOptions,
  ): Promise<number>;
}
