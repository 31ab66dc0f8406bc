/**
 * Reads newline-terminated UTF-8 lines from any input stream.
 *
 * @module
 */

import { type InputStream, InputStreamOptions } from "./input_stream.ts";
import type { AbortOptions } from "./abort_options.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { signalOf } from "./_abort.ts";

/** Options of a {@linkcode LineReader}. */
export interface LineReaderOptions {
  /**
   * The longest line accepted, in bytes, without its line ending. A longer
   * line fails with `MessageTooLong`, so a peer cannot grow memory without
   * bound.
   *
   * @default {65536}
   */
  maxLineLength?: number;
}

const LF = 10;
const CR = 13;
const INITIAL_SIZE = 1024;
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads lines ending in `\n` (or `\r\n`) from an {@linkcode InputStream},
 * such as a socket's `inputStream`. Lines are decoded as strict UTF-8.
 *
 * The buffer starts at 1 KiB and grows only as long lines require, up to
 * `maxLineLength`. Failures are `SocketError`s: `MessageTooLong` for a line
 * over the limit, `Unknown` for invalid UTF-8 or a stream that ends in the
 * middle of a line; errors of the stream itself pass through. After such a
 * failure, close the connection: the reader's position is lost.
 *
 * A `signal` gives a read a deadline without that cost: an aborted
 * `readLine` rejects, and the next one returns the same line, whole, once it
 * arrives (the socket's input stream keeps what arrives after the abort).
 *
 * Concurrency: one `readLine` at a time. A call made while another is
 * pending (directly, or through an iterator) is refused at once with a
 * `TypeError`: racing a `readLine` against a timer and calling again would
 * otherwise hand the line to a caller who left. Use a `signal` instead.
 *
 * @example Read lines until the end
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader } from "@seed/sockets";
 *
 * const bytes = new TextEncoder().encode("one\r\ntwo\n");
 * let sent = false;
 * const input = {
 *   readAsync(buffer: Uint8Array): Promise<number> {
 *     if (sent) return Promise.resolve(0);
 *     sent = true;
 *     buffer.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * const lines = [];
 * for await (const line of new LineReader(input)) lines.push(line);
 * assert.deepEqual(lines, ["one", "two"]);
 * ```
 */
export class LineReader implements AsyncIterable<string> {
  #input: InputStream;
  #maxLineLength: number;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  /** Where the search for the next newline resumes. */
  #scanned = 0;
  #reading = false;

  /**
   * Creates a reader over `input`.
   *
   * @param input The stream to read from.
   * @param options The maximum line length.
   * @throws {RangeError} If `maxLineLength` is not a positive integer.
   */
  constructor(input: InputStream, options: LineReaderOptions = {}) {
    if (typeof input?.readAsync !== "function") {
      throw new TypeError(
        `Cannot create a LineReader: "input" must be an InputStream`,
      );
    }
    const max = options.maxLineLength ?? 64 * 1024;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create a LineReader: "maxLineLength" must be a positive integer, got ${
          String(max)
        }`,
      );
    }
    this.#input = input;
    this.#maxLineLength = max;
    this.#buffer = new Uint8Array(Math.min(INITIAL_SIZE, max + 2));
  }

  /**
   * Reads the next line, without its line ending.
   *
   * @param options A `signal` that aborts the wait; nothing is lost, the
   * next call gets the line.
   * @returns The line, or `null` at the end of the stream.
   * @throws {TypeError} If another `readLine` is pending, or the signal is
   * not an `AbortSignal`.
   * @throws {SocketError} `MessageTooLong` for a line over the limit;
   * `Unknown` for invalid UTF-8 or an unterminated last line;
   * `ConnectionTimedOut` or `OperationAborted` if the signal aborted.
   *
   * @example Read one line
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineReader } from "@seed/sockets";
   *
   * const input = {
   *   readAsync(buffer: Uint8Array): Promise<number> {
   *     buffer.set(new TextEncoder().encode("hello\n"));
   *     return Promise.resolve(6);
   *   },
   * };
   * assert.equal(await new LineReader(input).readLine(), "hello");
   * ```
   */
  async readLine(options?: AbortOptions): Promise<string | null> {
    const signal = signalOf(options, "Cannot read a line");
    if (this.#reading) {
      throw new TypeError(
        "Cannot read a line: another readLine() is pending on this LineReader; await it first, or give it a signal and abort it",
      );
    }
    this.#reading = true;
    try {
      return await this.#readLine(signal);
    } finally {
      this.#reading = false;
    }
  }

  async #readLine(signal: AbortSignal | undefined): Promise<string | null> {
    const abort = signal === undefined ? undefined : { signal };
    while (true) {
      const newline = this.#buffer.subarray(this.#scanned, this.#end).indexOf(
        LF,
      );
      if (newline >= 0) return this.#take(this.#scanned + newline);
      this.#scanned = this.#end;
      if (this.#end - this.#start > this.#maxLineLength + 1) {
        throw this.#tooLong();
      }
      const room = this.#makeRoom();
      const n = await this.#input.readAsync(
        this.#buffer.subarray(this.#end),
        room,
        InputStreamOptions.Partial,
        abort,
      );
      if (n === 0) return this.#atEnd();
      this.#end += n;
    }
  }

  /**
   * Hands over the bytes read past the last line, for a protocol that
   * switches from lines to something else; the reader is empty afterwards.
   *
   * @returns A copy of the unconsumed bytes.
   *
   * @example Nothing left over
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineReader } from "@seed/sockets";
   *
   * const reader = new LineReader({ readAsync: () => Promise.resolve(0) });
   * assert.equal(reader.detachBuffer().length, 0);
   * ```
   */
  detachBuffer(): Uint8Array {
    const rest = this.#buffer.slice(this.#start, this.#end);
    this.#start = this.#end = this.#scanned = 0;
    return rest;
  }

  /**
   * Iterates over the lines until the end of the stream.
   *
   * @returns An iterator of lines.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (let line; (line = await this.readLine()) !== null;) yield line;
  }

  /**
   * Iterates over the lines until the end of the stream, each read under
   * `signal` (for example a signal that a shutdown aborts).
   *
   * @param options The signal every read waits under.
   * @returns An iterable of lines, for `for await`.
   *
   * @example Stop iterating on a signal
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineReader } from "@seed/sockets";
   *
   * const bytes = new TextEncoder().encode("a\nb\n");
   * let sent = false;
   * const input = {
   *   readAsync(buffer: Uint8Array): Promise<number> {
   *     if (sent) return Promise.resolve(0);
   *     sent = true;
   *     buffer.set(bytes);
   *     return Promise.resolve(bytes.length);
   *   },
   * };
   * const lines = [];
   * for await (const line of new LineReader(input).lines({ signal: AbortSignal.timeout(1_000) })) lines.push(line);
   * assert.deepEqual(lines, ["a", "b"]);
   * ```
   */
  async *lines(options?: AbortOptions): AsyncIterable<string> {
    for (let line; (line = await this.readLine(options)) !== null;) yield line;
  }

  #take(newline: number): string {
    let lineEnd = newline;
    if (lineEnd > this.#start && this.#buffer[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd - this.#start > this.#maxLineLength) throw this.#tooLong();
    const bytes = this.#buffer.subarray(this.#start, lineEnd);
    this.#start = this.#scanned = newline + 1;
    if (this.#start === this.#end) this.#start = this.#end = this.#scanned = 0;
    try {
      return decoder.decode(bytes);
    } catch (error) {
      throw new SocketError("Cannot read a line: it is not valid UTF-8", {
        status: SocketErrorStatus.Unknown,
        cause: error,
      });
    }
  }

  /** Frees space at the end of the buffer: compacts first, grows only for a long line. */
  #makeRoom(): number {
    if (this.#end < this.#buffer.length) return this.#buffer.length - this.#end;
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#scanned -= this.#start;
      this.#start = 0;
      if (this.#end < this.#buffer.length) {
        return this.#buffer.length - this.#end;
      }
    }
    const size = Math.min(this.#buffer.length * 2, this.#maxLineLength + 2);
    const grown = new Uint8Array(size);
    grown.set(this.#buffer.subarray(0, this.#end));
    this.#buffer = grown;
    return size - this.#end;
  }

  #atEnd(): null {
    if (this.#end === this.#start) return null;
    const pending = this.#end - this.#start;
    this.#start = this.#end = this.#scanned = 0;
    throw new SocketError(
      `Cannot read a line: the stream ended after ${pending} bytes without a newline`,
      { status: SocketErrorStatus.Unknown },
    );
  }

  #tooLong(): SocketError {
    this.#start = this.#end = this.#scanned = 0;
    return new SocketError(
      `Cannot read a line: it is longer than ${this.#maxLineLength} bytes; raise "maxLineLength" or send shorter lines`,
      { status: SocketErrorStatus.MessageTooLong },
    );
  }
}
