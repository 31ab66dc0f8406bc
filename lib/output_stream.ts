/**
 * The output side of a socket, as UWP's `IOutputStream`.
 *
 * @module
 */

import type { AbortOptions } from "./abort_options.ts";

/**
 * A sink of bytes (UWP's `IOutputStream`).
 *
 * Writes may be started without awaiting each one: they are sent in order.
 * `flushAsync()` resolves once everything written before it has been handed
 * to the operating system, and rejects if any of it failed.
 *
 * For stream sockets, consecutive writes are coalesced into fewer system
 * calls. For datagram output streams, each `writeAsync` is one datagram.
 *
 * Contract for implementations: a buffer smaller than 16 KiB is taken (copied
 * or sent) before `writeAsync` returns, so callers such as `DataWriter` may
 * reuse it at once; a larger buffer may be read until the returned promise
 * settles.
 *
 * @example Collect writes in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OutputStream } from "@seed/sockets";
 *
 * const chunks: Uint8Array[] = [];
 * const stream: OutputStream = {
 *   writeAsync(bytes: Uint8Array): Promise<void> {
 *     chunks.push(bytes.slice());
 *     return Promise.resolve();
 *   },
 *   flushAsync(): Promise<void> {
 *     return Promise.resolve();
 *   },
 * };
 * await stream.writeAsync(new Uint8Array([1, 2]));
 * await stream.flushAsync();
 * assert.equal(chunks.length, 1);
 * ```
 */
export interface OutputStream {
  /**
   * Queues `bytes` for sending.
   *
   * @param bytes The bytes to send.
   * @param options A `signal` that takes the write out of the queue if it
   * aborts before the bytes were handed to the system.
   * @returns A promise that resolves once these bytes reached the operating
   * system, and rejects with a `SocketError` if sending failed or the
   * signal aborted.
   */
  writeAsync(bytes: Uint8Array, options?: AbortOptions): Promise<void>;
  /**
   * Waits until everything written so far reached the operating system.
   *
   * @param options A `signal` that stops the wait (the writes go on).
   * @returns A promise that rejects with a `SocketError` if any write failed.
   */
  flushAsync(options?: AbortOptions): Promise<void>;
}
