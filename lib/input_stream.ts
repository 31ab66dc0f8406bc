/**
 * The input side of a socket, as UWP's `IInputStream`: read bytes into a
 * buffer you own.
 *
 * @module
 */

import type { AbortOptions } from "./abort_options.ts";

/**
 * How {@linkcode InputStream.readAsync} and `DataReader.loadAsync` read, with
 * the UWP numeric values. As in UWP they are flags: `Partial` says when a
 * read completes, `ReadAhead` lets a reader fetch more than asked, and
 * `Partial | ReadAhead` (3) does both.
 *
 * - `None` (0): complete once `count` bytes arrived or the stream ended.
 * - `Partial` (1): complete as soon as at least one byte arrived.
 * - `ReadAhead` (2): complete once `count` bytes arrived or the stream
 *   ended, as `None` does; a `DataReader` fills the free space of its
 *   buffer with each read, so the next loads often find their bytes there.
 * - `Partial | ReadAhead` (3): complete as soon as some bytes arrived, with
 *   as many as fit.
 *
 * For a stream read into your own buffer, `ReadAhead` changes nothing: a
 * read never takes more than `count`.
 *
 * @example Choose partial reads, or combine the flags as in UWP
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataReader, InputStreamOptions } from "@seed/sockets";
 *
 * assert.equal(InputStreamOptions.Partial, 1);
 * const reader = new DataReader({ readAsync: () => Promise.resolve(0) });
 * reader.inputStreamOptions = InputStreamOptions.Partial | InputStreamOptions.ReadAhead;
 * assert.equal(reader.inputStreamOptions, 3);
 * ```
 */
export const InputStreamOptions = {
  /** Complete once `count` bytes arrived, or at the end of the stream. */
  None: 0,
  /** Complete as soon as some data arrived. */
  Partial: 1,
  /** A reader may read more than asked; alone, complete as `None` does. */
  ReadAhead: 2,
} as const;

/**
 * One of the {@linkcode InputStreamOptions} flags, or `Partial | ReadAhead`
 * (3). `DataReader.inputStreamOptions` and `SocketInputStream.readAsync`
 * also take the `number` that `|` gives in TypeScript, and check it.
 */
export type InputStreamOptions =
  | typeof InputStreamOptions[keyof typeof InputStreamOptions]
  | 3;

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
