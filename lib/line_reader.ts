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
 * A line alone in the buffer, up to this many bytes, is built from its bytes
 * when all are ASCII: about 35 ns for a 4-byte line where a TextDecoder call
 * costs about 580 ns. Several lines go through the decoder in one call.
 */
const SHORT_LINE = 64;

/** The ASCII text of `bytes[start..end)`, or `undefined` if a byte is not ASCII. */
function asciiText(
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  let text = "";
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

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
  /** Complete lines decoded together, from `#textAt`; their bytes are still in the buffer from `#start`. */
  #text = "";
  #textAt = 0;
  /** The signal of the pending `readLine`, as the options of its reads. */
  #abort: AbortOptions | undefined;

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
  readLine(options?: AbortOptions): Promise<string | null> {
    // A line already buffered costs no async frame: a pipelining peer sends
    // many per chunk.
    let signal: AbortSignal | undefined;
    let line: string | undefined;
    try {
      if (options !== undefined) {
        signal = signalOf(options, "Cannot read a line");
      }
      if (this.#reading) {
        throw new TypeError(
          "Cannot read a line: another readLine() is pending on this LineReader; await it first, or give it a signal and abort it",
        );
      }
      line = this.tryReadLine();
    } catch (error) {
      return Promise.reject(error);
    }
    if (line !== undefined) return Promise.resolve(line);
    return this.#waitForLine(signal);
  }

  /**
   * Takes the next line if it is already buffered, without waiting: a server
   * answering pipelined requests can take every line of a chunk at once and
   * answer them in one write.
   *
   * @returns The line without its line ending, or `undefined` when no complete
   * line is buffered (then `readLine()` waits for one).
   * @throws {SocketError} `MessageTooLong` for a line over the limit;
   * `Unknown` for invalid UTF-8.
   *
   * @example Take the buffered lines after one readLine()
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineReader } from "@seed/sockets";
   *
   * const input = {
   *   readAsync(buffer: Uint8Array): Promise<number> {
   *     buffer.set(new TextEncoder().encode("a\nb\nc"));
   *     return Promise.resolve(5);
   *   },
   * };
   * const reader = new LineReader(input);
   * assert.equal(await reader.readLine(), "a");
   * assert.equal(reader.tryReadLine(), "b");
   * assert.equal(reader.tryReadLine(), undefined);
   * ```
   */
  tryReadLine(): string | undefined {
    // A readLine() is waiting, so nothing complete is buffered, and its read
    // may still fill the buffer past the data: leave it alone.
    if (this.#reading) return undefined;
    return this.#nextBuffered();
  }

  #nextBuffered(): string | undefined {
    if (this.#textAt < this.#text.length) return this.#takeDecoded();
    const buffer = this.#buffer;
    const end = this.#end;
    const near = this.#nearNewline(buffer, end);
    if (near >= 0) return this.#take(near);
    // A newline just past the data stops the search there, without a
    // subarray per line: the free space after it is overwritten by reads.
    if (end < buffer.length) buffer[end] = LF;
    const newline = buffer.indexOf(LF, this.#scanned);
    if (newline < 0 || newline >= end) {
      this.#scanned = end;
      return undefined;
    }
    // Several complete lines: decode them in one call, not one per line.
    const last = buffer.lastIndexOf(LF, end - 1);
    if (last > newline && this.#decode(last)) return this.#takeDecoded();
    return this.#take(newline);
  }

  /**
   * The newline ending the next line when it is within a short line's
   * reach, found by a loop over the bytes: for a few bytes that costs a third
   * of `indexOf`. -1 when it is further, or when a non-ASCII byte comes
   * first: the general path decodes several such lines in one call.
   */
  #nearNewline(buffer: Uint8Array, end: number): number {
    const stop = Math.min(end, this.#start + SHORT_LINE + 2);
    for (let i = this.#scanned; i < stop; i++) {
      const byte = buffer[i]!;
      if (byte === LF) return i;
      if (byte >= 0x80) return -1;
    }
    return -1;
  }

  /** Decodes the complete lines up to the newline at `last` into `#text`; false if they are not valid UTF-8 (then each is decoded alone, so the valid lines before the bad one still come out). */
  #decode(last: number): boolean {
    try {
      this.#text = decoder.decode(this.#buffer.subarray(this.#start, last + 1));
    } catch {
      return false;
    }
    this.#textAt = 0;
    return true;
  }

  /** Takes the next line of `#text`; its bytes are the next line of the buffer. */
  #takeDecoded(): string {
    const text = this.#text;
    const at = this.#textAt;
    const start = this.#start;
    // A newline is a newline byte in UTF-8 and a "\n" in the decoded text.
    const newline = this.#buffer.indexOf(LF, start);
    const textNewline = text.indexOf("\n", at);
    let textEnd = textNewline;
    let lineEnd = newline;
    if (lineEnd > start && this.#buffer[lineEnd - 1] === CR) {
      lineEnd--;
      textEnd--;
    }
    if (lineEnd - start > this.#maxLineLength) throw this.#tooLong();
    this.#start = this.#scanned = newline + 1;
    if (this.#start === this.#end) this.#start = this.#end = this.#scanned = 0;
    const next = textNewline + 1;
    if (next === text.length) {
      this.#text = "";
      this.#textAt = 0;
    } else {
      this.#textAt = next;
    }
    return text.slice(at, textEnd);
  }

  #waitForLine(signal: AbortSignal | undefined): Promise<string | null> {
    this.#reading = true;
    this.#abort = signal === undefined ? undefined : { signal };
    try {
      return this.#fill();
    } catch (error) {
      this.#stopReading();
      return Promise.reject(error);
    }
  }

  /**
   * Reads more and looks for a line in what came. A chain of `then`s rather
   * than an async loop: a pipelining peer makes this once per chunk, and
   * each async frame costs a promise and a resumption on top of the read's.
   */
  #fill(): Promise<string | null> {
    if (this.#end - this.#start > this.#maxLineLength + 1) {
      throw this.#tooLong();
    }
    const room = this.#makeRoom();
    const buffer = this.#buffer;
    // Promise.resolve: a stream written in JavaScript may return a plain
    // value, which `await` took; a native promise comes back as it is.
    return Promise.resolve(this.#input.readAsync(
      this.#end === 0 ? buffer : buffer.subarray(this.#end),
      room,
      InputStreamOptions.Partial,
      this.#abort,
    )).then(this.#filled, this.#failed);
  }

  #filled = (n: number): string | null | Promise<string | null> => {
    try {
      if (n === 0) {
        this.#stopReading();
        return this.#atEnd();
      }
      this.#end += n;
      const line = this.#nextBuffered();
      if (line === undefined) return this.#fill();
      this.#stopReading();
      return line;
    } catch (error) {
      this.#stopReading();
      throw error;
    }
  };

  #failed = (error: unknown): never => {
    this.#stopReading();
    throw error;
  };

  /** Ends the pending `readLine`; its signal is not kept past it. */
  #stopReading(): void {
    this.#reading = false;
    this.#abort = undefined;
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
    this.#text = "";
    this.#textAt = 0;
    return rest;
  }

  /**
   * Iterates over the lines until the end of the stream.
   *
   * @returns An iterator of lines.
   */
  [Symbol.asyncIterator](): AsyncIterator<string> {
    return new LineIterator(this);
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
  lines(options?: AbortOptions): AsyncIterable<string> {
    return { [Symbol.asyncIterator]: () => new LineIterator(this, options) };
  }

  #take(newline: number): string {
    let lineEnd = newline;
    if (lineEnd > this.#start && this.#buffer[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd - this.#start > this.#maxLineLength) throw this.#tooLong();
    const start = this.#start;
    const ascii = lineEnd - start <= SHORT_LINE
      ? asciiText(this.#buffer, start, lineEnd)
      : undefined;
    const bytes = ascii === undefined
      ? this.#buffer.subarray(start, lineEnd)
      : undefined;
    this.#start = this.#scanned = newline + 1;
    if (this.#start === this.#end) this.#start = this.#end = this.#scanned = 0;
    if (bytes === undefined) return ascii!;
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
    this.#text = "";
    this.#textAt = 0;
    return new SocketError(
      `Cannot read a line: it is longer than ${this.#maxLineLength} bytes; raise "maxLineLength" or send shorter lines`,
      { status: SocketErrorStatus.MessageTooLong },
    );
  }
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * The iterator of a {@linkcode LineReader}: a buffered line is handed over
 * one microtask later, where an async generator takes three; the output
 * stream gathers the answers to a whole chunk's lines into one send only
 * while they come that close together.
 */
class LineIterator implements AsyncIterator<string> {
  #reader: LineReader;
  #options: AbortOptions | undefined;
  #done = false;
  #settle = (line: string | null): IteratorResult<string> => {
    if (line !== null) return { value: line, done: false };
    this.#done = true;
    return DONE;
  };
  #fail = (error: unknown): never => {
    this.#done = true;
    throw error;
  };

  constructor(reader: LineReader, options?: AbortOptions) {
    this.#reader = reader;
    this.#options = options;
  }

  next(): Promise<IteratorResult<string>> {
    if (this.#done) return Promise.resolve(DONE);
    let line: string | undefined;
    try {
      line = this.#reader.tryReadLine();
    } catch (error) {
      this.#done = true;
      return Promise.reject(error);
    }
    if (line !== undefined) {
      return Promise.resolve({ value: line, done: false });
    }
    return this.#reader.readLine(this.#options).then(this.#settle, this.#fail);
  }

  return(): Promise<IteratorResult<string>> {
    this.#done = true;
    return Promise.resolve(DONE);
  }
}
