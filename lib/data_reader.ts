/**
 * Typed binary reads from an input stream, as UWP's
 * `Windows.Storage.Streams.DataReader`.
 *
 * @module
 */

import { copyOf } from "./_small_copies.ts";
import { ByteOrder } from "./byte_order.ts";
import { type InputStream, InputStreamOptions } from "./input_stream.ts";
import type { AbortOptions } from "./abort_options.ts";
import { signalOf } from "./_abort.ts";
import { describe } from "./_format.ts";
import { UnicodeEncoding } from "./unicode_encoding.ts";

/** Ticks (100 ns) from 1601-01-01T00:00:00Z, the UWP epoch, to 1970-01-01. */
const UNIX_EPOCH_TICKS = 116444736000000000n;
/** Large enough that `ReadAhead` saves reads on typical messages. */
const INITIAL_CAPACITY = 4096;
const EMPTY = new Uint8Array(0);
const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

// One fatal decoder per encoding: invalid input throws instead of turning
// into U+FFFD, and a leading byte order mark is kept as text, not dropped.
const DECODERS = [
  new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }),
  new TextDecoder("utf-16le", { fatal: true, ignoreBOM: true }),
  new TextDecoder("utf-16be", { fatal: true, ignoreBOM: true }),
] as const;
const ENCODING_NAMES = ["UTF-8", "UTF-16LE", "UTF-16BE"] as const;

/**
 * Reads typed values from bytes loaded from an input stream, as UWP's
 * `DataReader`.
 *
 * {@linkcode DataReader.loadAsync} loads bytes into an internal buffer; the
 * `read*` methods then consume them synchronously. Multi-byte values follow
 * {@linkcode DataReader.byteOrder} (big-endian by default) and strings
 * follow {@linkcode DataReader.unicodeEncoding} (UTF-8 by default). A read
 * of more than is loaded throws a `RangeError` and consumes nothing.
 *
 * @example Read a length-prefixed string, as the framed echo does
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataReader, DataWriter } from "@seed/sockets";
 *
 * const writer = new DataWriter();
 * writer.writeUInt32(writer.measureString("héllo"));
 * writer.writeString("héllo");
 *
 * const reader = DataReader.fromBuffer(writer.detachBuffer());
 * const length = reader.readUInt32();
 * assert.equal(reader.readString(length), "héllo");
 * assert.equal(reader.unconsumedBufferLength, 0);
 * ```
 */
export class DataReader {
  #stream: InputStream | undefined;
  #buffer: Uint8Array = EMPTY;
  #view: DataView = new DataView(EMPTY.buffer);
  /** Index of the next unconsumed byte in `#buffer`. */
  #start = 0;
  /** Index just past the last loaded byte in `#buffer`. */
  #end = 0;
  /** Bytes consumed before `#buffer[0]`, for offsets in error messages. */
  #base = 0;
  #littleEndian = false;
  #encoding: UnicodeEncoding = UnicodeEncoding.Utf8;
  #options: InputStreamOptions = InputStreamOptions.None;
  #loading = false;
  /** How many bytes the pending read asked for, to check what it resolves with. */
  #asked = 0;
  /** A `ReadAhead` load: the bytes it must load, those it has, its signal. */
  #want = 0;
  #got = 0;
  #aheadAbort: AbortOptions | undefined = undefined;
  /** Made by the first `ReadAhead` load: readers that never use it do not pay for it. */
  #aheadLoaded: ((n: number) => number | Promise<number>) | undefined =
    undefined;
  #detached = false;
  #disposed = false;

  /**
   * Creates a reader that loads from `inputStream`.
   *
   * @param inputStream Where {@linkcode DataReader.loadAsync} reads from.
   * @throws {TypeError} If `inputStream` has no `readAsync` method.
   *
   * @example Read over an in-memory stream
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, type InputStream } from "@seed/sockets";
   *
   * let sent = false;
   * const stream: InputStream = {
   *   readAsync(buffer) {
   *     if (sent) return Promise.resolve(0);
   *     sent = true;
   *     buffer.set([0, 0, 0, 42]);
   *     return Promise.resolve(4);
   *   },
   * };
   * const reader = new DataReader(stream);
   * assert.equal(await reader.loadAsync(4), 4);
   * assert.equal(reader.readUInt32(), 42);
   * assert.equal(await reader.loadAsync(4), 0);
   * ```
   */
  constructor(inputStream: InputStream) {
    if (typeof inputStream?.readAsync !== "function") {
      throw new TypeError(
        `Cannot create a DataReader: "inputStream" must be an InputStream with readAsync(), got ${
          describe(inputStream)
        }`,
      );
    }
    this.#stream = inputStream;
  }

  /**
   * Creates a reader over bytes that are all loaded already (UWP's
   * `DataReader.FromBuffer`).
   *
   * The reader reads `bytes` in place without copying them, so leave them
   * unchanged while reading. {@linkcode DataReader.loadAsync} resolves with 0,
   * as at the end of a stream.
   *
   * @param bytes The bytes to read.
   * @returns A reader whose {@linkcode DataReader.unconsumedBufferLength} is
   * `bytes.length`.
   * @throws {TypeError} If `bytes` is not a `Uint8Array`.
   *
   * @example Decode a buffer
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([0x01, 0x02]));
   * assert.equal(reader.readUInt16(), 0x0102);
   * ```
   */
  static fromBuffer(bytes: Uint8Array): DataReader {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot fromBuffer(): "bytes" must be a Uint8Array, got ${
          describe(bytes)
        }`,
      );
    }
    const reader = new DataReader({ readAsync: () => Promise.resolve(0) });
    reader.#stream = undefined;
    reader.#setBuffer(bytes);
    reader.#end = bytes.length;
    return reader;
  }

  /**
   * The byte order of multi-byte values; `ByteOrder.BigEndian` by default.
   *
   * @example Read little-endian
   * ```ts
   * import assert from "node:assert/strict";
   * import { ByteOrder, DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([1, 0]));
   * reader.byteOrder = ByteOrder.LittleEndian;
   * assert.equal(reader.readUInt16(), 1);
   * ```
   */
  get byteOrder(): ByteOrder {
    return this.#littleEndian ? ByteOrder.LittleEndian : ByteOrder.BigEndian;
  }

  /**
   * Sets the byte order of the following reads.
   *
   * @param value `ByteOrder.BigEndian` or `ByteOrder.LittleEndian`.
   * @throws {RangeError} If `value` is not a `ByteOrder`.
   */
  set byteOrder(value: ByteOrder) {
    if (value !== ByteOrder.BigEndian && value !== ByteOrder.LittleEndian) {
      throw new RangeError(
        `Cannot set DataReader.byteOrder: "byteOrder" must be ByteOrder.BigEndian (1) or ByteOrder.LittleEndian (0), got ${
          describe(value)
        }`,
      );
    }
    this.#littleEndian = value === ByteOrder.LittleEndian;
  }

  /**
   * The encoding of strings; `UnicodeEncoding.Utf8` by default.
   *
   * @example Read UTF-16LE
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, UnicodeEncoding } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([0x41, 0x00]));
   * reader.unicodeEncoding = UnicodeEncoding.Utf16LE;
   * assert.equal(reader.readString(1), "A");
   * ```
   */
  get unicodeEncoding(): UnicodeEncoding {
    return this.#encoding;
  }

  /**
   * Sets the encoding of the following string reads.
   *
   * @param value A `UnicodeEncoding` value.
   * @throws {RangeError} If `value` is not a `UnicodeEncoding`.
   */
  set unicodeEncoding(value: UnicodeEncoding) {
    if (
      value !== UnicodeEncoding.Utf8 && value !== UnicodeEncoding.Utf16LE &&
      value !== UnicodeEncoding.Utf16BE
    ) {
      throw new RangeError(
        `Cannot set DataReader.unicodeEncoding: "unicodeEncoding" must be a UnicodeEncoding (0, 1 or 2), got ${
          describe(value)
        }`,
      );
    }
    this.#encoding = value;
  }

  /**
   * How {@linkcode DataReader.loadAsync} reads and when it completes;
   * `InputStreamOptions.None` by default. Flags, as in UWP:
   *
   * - `None`: once `count` bytes arrived, or at the end of the stream,
   *   reading exactly what is missing.
   * - `Partial`: as soon as some bytes arrived (at most `count`).
   * - `ReadAhead`: once `count` bytes arrived, or at the end of the stream;
   *   each read fills the free space of the internal buffer, so a load
   *   often brings the bytes of the next ones, which then need no read.
   * - `Partial | ReadAhead`: as soon as some bytes arrived, as many as fit
   *   in the free space.
   *
   * @example Load whole frames, reading ahead
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, InputStreamOptions, type InputStream } from "@seed/sockets";
   *
   * // Two frames (a uint32 length, then the bytes), 3 bytes per read.
   * const wire = [0, 0, 0, 2, 0x68, 0x69, 0, 0, 0, 1, 0x21];
   * let offset = 0;
   * const stream: InputStream = {
   *   readAsync(buffer, count = buffer.length) {
   *     const n = Math.min(3, count, wire.length - offset);
   *     buffer.set(wire.slice(offset, offset + n));
   *     offset += n;
   *     return Promise.resolve(n);
   *   },
   * };
   * const reader = new DataReader(stream);
   * reader.inputStreamOptions = InputStreamOptions.ReadAhead;
   * const texts: string[] = [];
   * while (true) {
   *   // Load only what is missing: reading ahead may have brought the rest.
   *   const header = 4 - reader.unconsumedBufferLength;
   *   if (header > 0 && await reader.loadAsync(header) < header) break;
   *   const length = reader.readUInt32();
   *   const body = length - reader.unconsumedBufferLength;
   *   if (body > 0) assert.ok(await reader.loadAsync(body) >= body);
   *   texts.push(reader.readString(length));
   * }
   * assert.deepEqual(texts, ["hi", "!"]);
   * ```
   */
  get inputStreamOptions(): InputStreamOptions {
    return this.#options;
  }

  /**
   * Sets how the following loads read and complete.
   *
   * @param value `InputStreamOptions` flags: 0 to 3.
   * @throws {RangeError} If `value` is not `InputStreamOptions` flags.
   */
  set inputStreamOptions(value: InputStreamOptions | number) {
    if (value !== 0 && value !== 1 && value !== 2 && value !== 3) {
      throw new RangeError(
        `Cannot set DataReader.inputStreamOptions: "inputStreamOptions" must be InputStreamOptions flags (0 to 3), got ${
          describe(value)
        }`,
      );
    }
    this.#options = value;
  }

  /**
   * The number of loaded bytes not yet read.
   *
   * @example Count what is left
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array(5));
   * reader.readUInt32();
   * assert.equal(reader.unconsumedBufferLength, 1);
   * ```
   */
  get unconsumedBufferLength(): number {
    return this.#end - this.#start;
  }

  /**
   * Loads up to `count` more bytes from the stream, appended to the
   * unconsumed ones, completing as {@linkcode DataReader.inputStreamOptions}
   * says.
   *
   * As in UWP, `count` counts new bytes, whatever is unconsumed already: to
   * make sure 4 bytes can be read, load
   * `4 - reader.unconsumedBufferLength` when that is positive.
   *
   * @param count How many bytes to load (a non-negative integer).
   * @param options A `signal` that aborts the load: it rejects and loses
   * nothing. The bytes that came before the abort stay readable (with
   * `None` over a socket, whose stream gathers them, the next load gets
   * them), and what arrives afterwards goes to the next load.
   * @returns The number of bytes this call loaded: fewer than `count` only at
   * the end of the stream (or with the `Partial` flag), more when the
   * `ReadAhead` flag fetched more; 0 at a clean end of the stream. A reader made by
   * {@linkcode DataReader.fromBuffer} always resolves with 0.
   * @throws {TypeError} If `count` is not a number.
   * @throws {RangeError} If `count` is not a non-negative integer.
   * @throws {TypeError} If another load is pending (one at a time, as in
   * UWP; give the first a signal to abort it instead of racing it).
   * @throws {Error} If the stream was detached, or the reader was disposed;
   * or whatever the stream's `readAsync` rejects with (bytes loaded before
   * the failure stay readable): `ConnectionTimedOut` or `OperationAborted`
   * if the signal aborted.
   *
   * @example Load a frame header, then its body
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, type InputStream } from "@seed/sockets";
   *
   * const wire = new Uint8Array([0, 0, 0, 2, 0x68, 0x69]);
   * let offset = 0;
   * const stream: InputStream = {
   *   readAsync(buffer, count = buffer.length) {
   *     const n = Math.min(count, wire.length - offset);
   *     buffer.set(wire.subarray(offset, offset + n));
   *     offset += n;
   *     return Promise.resolve(n);
   *   },
   * };
   * const reader = new DataReader(stream);
   * await reader.loadAsync(4);
   * const length = reader.readUInt32();
   * assert.equal(await reader.loadAsync(length), 2);
   * assert.equal(reader.readString(length), "hi");
   * ```
   */
  loadAsync(count: number, options?: AbortOptions): Promise<number> {
    let abort: AbortOptions | undefined;
    try {
      if (this.#disposed) throw disposedError("loadAsync");
      checkCount("loadAsync", "count", count);
      const signal = signalOf(options, "Cannot load");
      abort = signal === undefined ? undefined : { signal };
      if (this.#loading) {
        throw new TypeError(
          "Cannot load: another loadAsync() is pending on this DataReader; await it first, or give it a signal and abort it",
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const stream = this.#stream;
    if (stream === undefined) {
      return this.#detached
        ? Promise.reject(
          new Error("Cannot loadAsync(): the DataReader's stream was detached"),
        )
        : Promise.resolve(0);
    }
    if (count === 0) return Promise.resolve(0);
    const completion = this.#options;
    if (completion === InputStreamOptions.None) {
      return this.#loadAll(stream, count, abort);
    }
    // One read, chained with `then` rather than awaited in async frames: a
    // framed server loads once or twice per frame, and each frame costs a
    // promise and a resumption on top of the read's.
    this.#loading = true;
    let read: Promise<number>;
    try {
      this.#reserve(count);
      read = this.#read(
        stream,
        completion === InputStreamOptions.Partial
          ? count
          : this.#buffer.length - this.#end,
        InputStreamOptions.Partial,
        abort,
      );
    } catch (error) {
      this.#loading = false;
      return Promise.reject(error);
    }
    // Promise.resolve: a stream written in JavaScript may return a plain
    // value, which `await` took; `.then` on it would throw here and leave
    // #loading set for good. A native promise comes back as it is.
    if (completion !== InputStreamOptions.ReadAhead) {
      return Promise.resolve(read).then(this.#loaded, this.#loadFailed);
    }
    this.#want = count;
    this.#got = 0;
    this.#aheadAbort = abort;
    return Promise.resolve(read).then(
      this.#aheadLoaded ??= (n) => this.#readAhead(n),
      this.#loadFailed,
    );
  }

  #loaded = (n: number): number => {
    this.#loading = false;
    return this.#took(n);
  };

  /** A load is over, whichever way: the next may start. */
  #endLoad(): void {
    this.#loading = false;
    this.#aheadAbort = undefined;
  }

  #loadFailed = (error: unknown): never => {
    this.#endLoad();
    throw error;
  };

  /**
   * `ReadAhead` alone: the first read of a load came back; done once the
   * load has its `count` bytes or the stream ended. A load that needs more
   * reads settles one promise of its own at the end: a `then` chain whose
   * callbacks return the next read's promise would hold every read's
   * promise until the last one, memory in proportion to the reads (a peer
   * trickling a large frame a byte at a time).
   */
  #readAhead(n: number): number | Promise<number> {
    const first = this.#aheadStep(n);
    if (first === undefined) return this.#got;
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    const failed = (error: unknown): void => {
      this.#endLoad();
      reject(error);
    };
    const next = (m: number): void => {
      let read: Promise<number> | undefined;
      try {
        read = this.#aheadStep(m);
      } catch (error) {
        reject(error);
        return;
      }
      if (read === undefined) resolve(this.#got);
      else read.then(next, failed);
    };
    first.then(next, failed);
    return promise;
  }

  /**
   * Appends what a read of a `ReadAhead` load brought: `undefined` once the
   * load is done (its total in `#got`), else the next read, started.
   */
  #aheadStep(n: number): Promise<number> | undefined {
    let read: Promise<number>;
    try {
      const got = this.#got += this.#took(n);
      if (n === 0 || got >= this.#want) {
        this.#endLoad();
        return undefined;
      }
      this.#reserve(this.#want - got);
      read = this.#read(
        this.#stream!,
        this.#buffer.length - this.#end,
        InputStreamOptions.Partial,
        this.#aheadAbort,
      );
    } catch (error) {
      this.#endLoad();
      throw error;
    }
    // A stream written in JavaScript may return a plain value.
    return Promise.resolve(read);
  }

  /** `InputStreamOptions.None`: reads until `count` bytes came or the stream ended. */
  async #loadAll(
    stream: InputStream,
    count: number,
    abort: AbortOptions | undefined,
  ): Promise<number> {
    this.#loading = true;
    try {
      this.#reserve(count);
      let total = 0;
      while (total < count) {
        const n = this.#took(
          await this.#read(
            stream,
            count - total,
            InputStreamOptions.None,
            abort,
          ),
        );
        if (n === 0) break;
        total += n;
      }
      return total;
    } finally {
      this.#loading = false;
    }
  }

  /**
   * Reads one unsigned byte.
   *
   * @returns An integer in 0..255.
   * @throws {RangeError} If no byte is loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read a byte
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * assert.equal(DataReader.fromBuffer(new Uint8Array([200])).readByte(), 200);
   * ```
   */
  readByte(): number {
    const p = this.#start;
    if (this.#end - p < 1) throw this.#shortRead("readByte", 1);
    this.#start = p + 1;
    return this.#buffer[p]!;
  }

  /**
   * Reads one byte as a boolean: any non-zero byte is `true`.
   *
   * @returns The boolean.
   * @throws {RangeError} If no byte is loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read a flag
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * assert.equal(DataReader.fromBuffer(new Uint8Array([1])).readBoolean(), true);
   * ```
   */
  readBoolean(): boolean {
    const p = this.#start;
    if (this.#end - p < 1) throw this.#shortRead("readBoolean", 1);
    this.#start = p + 1;
    return this.#buffer[p] !== 0;
  }

  /**
   * Reads `length` bytes into a new array.
   *
   * @param length How many bytes to read.
   * @returns A copy of the bytes, owned by the caller. Under 4 KiB it is a
   * view into a block shared with other small copies, as Node's
   * `Buffer.allocUnsafe` does (a new `ArrayBuffer` costs Deno about 0.5 µs):
   * use its `byteOffset` and `byteLength` rather than its whole `buffer`,
   * and `slice()` it to transfer it.
   * @throws {RangeError} If `length` is not a non-negative integer or more
   * than is loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read two bytes
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([1, 2, 3]));
   * assert.deepEqual(reader.readBytes(2), new Uint8Array([1, 2]));
   * ```
   */
  readBytes(length: number): Uint8Array;
  /**
   * Fills `target` with the next `target.length` bytes (UWP's
   * `ReadBytes(byte[])`).
   *
   * @param target The array to fill.
   * @throws {RangeError} If fewer than `target.length` bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Fill an array
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([1, 2, 3]));
   * const target = new Uint8Array(3);
   * reader.readBytes(target);
   * assert.deepEqual(target, new Uint8Array([1, 2, 3]));
   * ```
   */
  readBytes(target: Uint8Array): void;
  readBytes(arg: number | Uint8Array): Uint8Array | void {
    if (arg instanceof Uint8Array) {
      const n = arg.length;
      const p = this.#take("readBytes", n);
      arg.set(this.#buffer.subarray(p, p + n));
      return;
    }
    checkCount("readBytes", "length", arg);
    const p = this.#take("readBytes", arg);
    return copyOf(this.#buffer, p, p + arg);
  }

  /**
   * Reads `length` bytes into a new buffer (UWP's `ReadBuffer`).
   *
   * @param length How many bytes to read.
   * @returns A copy of the bytes, owned by the caller. Under 4 KiB it is a
   * view into a block shared with other small copies, as Node's
   * `Buffer.allocUnsafe` does (a new `ArrayBuffer` costs Deno about 0.5 µs):
   * use its `byteOffset` and `byteLength` rather than its whole `buffer`,
   * and `slice()` it to transfer it.
   * @throws {RangeError} If `length` is not a non-negative integer or more
   * than is loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read the rest
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([9, 8]));
   * const rest = reader.readBuffer(reader.unconsumedBufferLength);
   * assert.deepEqual(rest, new Uint8Array([9, 8]));
   * ```
   */
  readBuffer(length: number): Uint8Array {
    checkCount("readBuffer", "length", length);
    const p = this.#take("readBuffer", length);
    return copyOf(this.#buffer, p, p + length);
  }

  /**
   * Reads `length` bytes as a view into the reader's own buffer, without
   * copying them: for a payload that goes straight on, to a `DataWriter` or
   * an output stream, as an echo or a proxy does (Go's `bufio.Reader.Peek`
   * makes the same trade). A 64 KiB `readBytes` costs a new buffer and a copy
   * that the garbage collector then has to reclaim.
   *
   * The view is valid until the next {@linkcode DataReader.loadAsync},
   * which may overwrite it. Hand it on before loading again: `writeBytes`
   * copies it at once, while an output stream's `writeAsync` may send from
   * it until its promise settles, so await that first. `slice()` it to keep
   * it.
   *
   * @param length How many bytes to read.
   * @returns A view of the bytes inside the reader's buffer.
   * @throws {RangeError} If `length` is not a non-negative integer or more
   * than is loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Echo a payload without copying it out of the reader
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, DataWriter } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([0, 0, 0, 2, 0x68, 0x69]));
   * const writer = new DataWriter();
   * const length = reader.readUInt32();
   * writer.writeUInt32(length);
   * writer.writeBytes(reader.readView(length));
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([0, 0, 0, 2, 0x68, 0x69]));
   * ```
   */
  readView(length: number): Uint8Array {
    checkCount("readView", "length", length);
    const p = this.#take("readView", length);
    return this.#buffer.subarray(p, p + length);
  }

  /**
   * Reads a signed 16-bit integer in {@linkcode DataReader.byteOrder}.
   *
   * @returns An integer in -32768..32767.
   * @throws {RangeError} If fewer than 2 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read -2
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * assert.equal(DataReader.fromBuffer(new Uint8Array([0xff, 0xfe])).readInt16(), -2);
   * ```
   */
  readInt16(): number {
    const p = this.#start;
    if (this.#end - p < 2) throw this.#shortRead("readInt16", 2);
    this.#start = p + 2;
    return this.#view.getInt16(p, this.#littleEndian);
  }

  /**
   * Reads a signed 32-bit integer in {@linkcode DataReader.byteOrder}.
   *
   * @returns An integer in -2147483648..2147483647.
   * @throws {RangeError} If fewer than 4 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read -1
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * assert.equal(DataReader.fromBuffer(new Uint8Array(4).fill(255)).readInt32(), -1);
   * ```
   */
  readInt32(): number {
    const p = this.#start;
    if (this.#end - p < 4) throw this.#shortRead("readInt32", 4);
    this.#start = p + 4;
    return this.#view.getInt32(p, this.#littleEndian);
  }

  /**
   * Reads a signed 64-bit integer in {@linkcode DataReader.byteOrder}.
   *
   * @returns A `bigint` in -2^63..2^63-1.
   * @throws {RangeError} If fewer than 8 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read -1
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * assert.equal(DataReader.fromBuffer(new Uint8Array(8).fill(255)).readInt64(), -1n);
   * ```
   */
  readInt64(): bigint {
    const p = this.#start;
    if (this.#end - p < 8) throw this.#shortRead("readInt64", 8);
    this.#start = p + 8;
    return this.#view.getBigInt64(p, this.#littleEndian);
  }

  /**
   * Reads an unsigned 16-bit integer in {@linkcode DataReader.byteOrder}.
   *
   * @returns An integer in 0..65535.
   * @throws {RangeError} If fewer than 2 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read 0x0102
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * assert.equal(DataReader.fromBuffer(new Uint8Array([1, 2])).readUInt16(), 0x0102);
   * ```
   */
  readUInt16(): number {
    const p = this.#start;
    if (this.#end - p < 2) throw this.#shortRead("readUInt16", 2);
    this.#start = p + 2;
    return this.#view.getUint16(p, this.#littleEndian);
  }

  /**
   * Reads an unsigned 32-bit integer in {@linkcode DataReader.byteOrder}.
   *
   * @returns An integer in 0..4294967295.
   * @throws {RangeError} If fewer than 4 bytes are loaded, naming what
   * remains and how much to load.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read a length prefix
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([1, 2, 3, 4]));
   * assert.equal(reader.readUInt32(), 0x01020304);
   * assert.throws(() => reader.readUInt32(), RangeError);
   * ```
   */
  readUInt32(): number {
    const p = this.#start;
    if (this.#end - p < 4) throw this.#shortRead("readUInt32", 4);
    this.#start = p + 4;
    return this.#view.getUint32(p, this.#littleEndian);
  }

  /**
   * Reads an unsigned 64-bit integer in {@linkcode DataReader.byteOrder}.
   *
   * @returns A `bigint` in 0..2^64-1.
   * @throws {RangeError} If fewer than 8 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read the largest value
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array(8).fill(255));
   * assert.equal(reader.readUInt64(), 2n ** 64n - 1n);
   * ```
   */
  readUInt64(): bigint {
    const p = this.#start;
    if (this.#end - p < 8) throw this.#shortRead("readUInt64", 8);
    this.#start = p + 8;
    return this.#view.getBigUint64(p, this.#littleEndian);
  }

  /**
   * Reads a 32-bit IEEE 754 float in {@linkcode DataReader.byteOrder}.
   *
   * @returns The value as a number (exactly representable).
   * @throws {RangeError} If fewer than 4 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read 1.5
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([0x3f, 0xc0, 0, 0]));
   * assert.equal(reader.readSingle(), 1.5);
   * ```
   */
  readSingle(): number {
    const p = this.#start;
    if (this.#end - p < 4) throw this.#shortRead("readSingle", 4);
    this.#start = p + 4;
    return this.#view.getFloat32(p, this.#littleEndian);
  }

  /**
   * Reads a 64-bit IEEE 754 float in {@linkcode DataReader.byteOrder}.
   *
   * @returns The number.
   * @throws {RangeError} If fewer than 8 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read 1
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([0x3f, 0xf0, 0, 0, 0, 0, 0, 0]));
   * assert.equal(reader.readDouble(), 1);
   * ```
   */
  readDouble(): number {
    const p = this.#start;
    if (this.#end - p < 8) throw this.#shortRead("readDouble", 8);
    this.#start = p + 8;
    return this.#view.getFloat64(p, this.#littleEndian);
  }

  /**
   * Reads a string of `codeUnitCount` code units in
   * {@linkcode DataReader.unicodeEncoding}.
   *
   * @param codeUnitCount Bytes for UTF-8, 16-bit code units (2 bytes each)
   * for UTF-16, as {@linkcode DataWriter.writeString} returns.
   * @returns The decoded text; a leading byte order mark is kept as U+FEFF.
   * @throws {RangeError} If `codeUnitCount` is not a non-negative integer or
   * needs more bytes than are loaded.
   * @throws {TypeError} If the bytes are not valid in the encoding (e.g. a
   * truncated UTF-8 sequence or a lone UTF-16 surrogate); nothing is consumed.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read UTF-8 text by its byte length
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new TextEncoder().encode("né"));
   * assert.equal(reader.readString(3), "né");
   * ```
   */
  readString(codeUnitCount: number): string {
    checkCount("readString", "codeUnitCount", codeUnitCount);
    const encoding = this.#encoding;
    const length = encoding === UnicodeEncoding.Utf8
      ? codeUnitCount
      : codeUnitCount * 2;
    const p = this.#peek("readString", length);
    const bytes = this.#buffer.subarray(p, p + length);
    let text: string;
    try {
      text = DECODERS[encoding].decode(bytes);
    } catch (error) {
      throw new TypeError(
        `Cannot read a string with readString(${codeUnitCount}) at offset ${
          this.#base + p
        }: the ${length} bytes are not valid ${
          ENCODING_NAMES[encoding]
        }; nothing was consumed`,
        { cause: error },
      );
    }
    this.#start = p + length;
    return text;
  }

  /**
   * Reads a date stored as a signed 64-bit count of 100 ns ticks since
   * 1601-01-01T00:00:00Z (UWP's `DateTime.UniversalTime`).
   *
   * A `Date` holds milliseconds, so the sub-millisecond part is dropped
   * (rounding towards the past); every 64-bit tick count falls within the
   * range of `Date`.
   *
   * @returns The date.
   * @throws {RangeError} If fewer than 8 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Zero ticks is the UWP epoch
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array(8));
   * assert.equal(reader.readDateTime().toISOString(), "1601-01-01T00:00:00.000Z");
   * ```
   */
  readDateTime(): Date {
    const p = this.#start;
    if (this.#end - p < 8) throw this.#shortRead("readDateTime", 8);
    this.#start = p + 8;
    const sinceUnix = this.#view.getBigInt64(p, this.#littleEndian) -
      UNIX_EPOCH_TICKS;
    // BigInt division truncates towards zero; floor keeps earlier instants
    // earlier for dates before 1970.
    let ms = sinceUnix / 10000n;
    if (sinceUnix % 10000n < 0n) ms -= 1n;
    return new Date(Number(ms));
  }

  /**
   * Reads a duration stored as a signed 64-bit count of 100 ns ticks (UWP's
   * `TimeSpan`) and returns it in milliseconds.
   *
   * The result keeps the sub-millisecond part as a fraction; it is exact up
   * to 2^53 ticks (about 28 years). Use
   * {@linkcode DataReader.readTimeSpanTicks} for the exact tick count.
   *
   * @returns The duration in milliseconds.
   * @throws {RangeError} If fewer than 8 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example 15,000 ticks are 1.5 ms
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeTimeSpanTicks(15_000n);
   * assert.equal(DataReader.fromBuffer(writer.detachBuffer()).readTimeSpan(), 1.5);
   * ```
   */
  readTimeSpan(): number {
    const p = this.#start;
    if (this.#end - p < 8) throw this.#shortRead("readTimeSpan", 8);
    this.#start = p + 8;
    return Number(this.#view.getBigInt64(p, this.#littleEndian)) / 10000;
  }

  /**
   * Reads a duration as its exact signed 64-bit count of 100 ns ticks (UWP's
   * `TimeSpan.Duration`).
   *
   * @returns The tick count.
   * @throws {RangeError} If fewer than 8 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read one second
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeTimeSpan(1000);
   * assert.equal(DataReader.fromBuffer(writer.detachBuffer()).readTimeSpanTicks(), 10_000_000n);
   * ```
   */
  readTimeSpanTicks(): bigint {
    const p = this.#start;
    if (this.#end - p < 8) throw this.#shortRead("readTimeSpanTicks", 8);
    this.#start = p + 8;
    return this.#view.getBigInt64(p, this.#littleEndian);
  }

  /**
   * Reads a 16-byte GUID: Data1 (32 bits), Data2 and Data3 (16 bits each) in
   * {@linkcode DataReader.byteOrder}, then 8 bytes as they are.
   *
   * @returns The GUID as lower-case `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
   * @throws {RangeError} If fewer than 16 bytes are loaded.
   * @throws {Error} If the reader was disposed.
   *
   * @example Read a big-endian GUID
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 0x11);
   * assert.equal(
   *   DataReader.fromBuffer(bytes).readGuid(),
   *   "00112233-4455-6677-8899-aabbccddeeff",
   * );
   * ```
   */
  readGuid(): string {
    const p = this.#start;
    if (this.#end - p < 16) throw this.#shortRead("readGuid", 16);
    this.#start = p + 16;
    const view = this.#view;
    const little = this.#littleEndian;
    const b = this.#buffer;
    const hex = (i: number): string => HEX[b[p + i]!]!;
    const data1 = view.getUint32(p, little).toString(16).padStart(8, "0");
    const data2 = view.getUint16(p + 4, little).toString(16).padStart(4, "0");
    const data3 = view.getUint16(p + 6, little).toString(16).padStart(4, "0");
    return `${data1}-${data2}-${data3}-${hex(8)}${hex(9)}-${hex(10)}${hex(11)}${
      hex(12)
    }${hex(13)}${hex(14)}${hex(15)}`;
  }

  /**
   * Lets go of the input stream without closing it, so that it outlives the
   * reader. Loaded bytes stay readable; later loads reject.
   *
   * @returns The stream, or `undefined` if there was none.
   * @throws {Error} If a load is pending or the reader was disposed.
   *
   * @example Hand the stream on
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, type InputStream } from "@seed/sockets";
   *
   * const stream: InputStream = { readAsync: () => Promise.resolve(0) };
   * const reader = new DataReader(stream);
   * assert.equal(reader.detachStream(), stream);
   * await assert.rejects(reader.loadAsync(1), /detached/);
   * ```
   */
  detachStream(): InputStream | undefined {
    if (this.#disposed) throw disposedError("detachStream");
    if (this.#loading) {
      throw new Error(
        "Cannot detachStream() while loadAsync() is pending on this DataReader; await it first",
      );
    }
    const stream = this.#stream;
    this.#stream = undefined;
    this.#detached = true;
    return stream;
  }

  /**
   * Takes the unconsumed bytes out of the reader, leaving it empty but
   * usable.
   *
   * @returns A copy of the loaded bytes not yet read, owned by the caller.
   * @throws {Error} If the reader was disposed.
   *
   * @example Take what is left
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * const reader = DataReader.fromBuffer(new Uint8Array([1, 2, 3]));
   * reader.readByte();
   * assert.deepEqual(reader.detachBuffer(), new Uint8Array([2, 3]));
   * assert.equal(reader.unconsumedBufferLength, 0);
   * ```
   */
  detachBuffer(): Uint8Array {
    if (this.#disposed) throw disposedError("detachBuffer");
    const bytes = this.#buffer.slice(this.#start, this.#end);
    this.#base += this.#end - this.#start;
    // Keep #end: a pending load appends there.
    this.#start = this.#end;
    return bytes;
  }

  /**
   * Releases the reader's buffer; the stream is not closed. Later calls
   * throw, and a pending load rejects when its read completes.
   *
   * @example Dispose with `using`
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader } from "@seed/sockets";
   *
   * let escaped: DataReader;
   * {
   *   using reader = DataReader.fromBuffer(new Uint8Array(4));
   *   escaped = reader;
   * }
   * assert.throws(() => escaped.readUInt32(), /disposed/);
   * ```
   */
  [Symbol.dispose](): void {
    this.#disposed = true;
    this.#stream = undefined;
    // With nothing loaded every read takes the slow path, which reports the
    // disposal, so the hot paths need no check of their own.
    this.#start = 0;
    this.#end = 0;
    this.#setBuffer(EMPTY);
  }

  #setBuffer(buffer: Uint8Array): void {
    this.#buffer = buffer;
    this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  }

  /** Makes room for `count` more bytes after the unconsumed ones. */
  #reserve(count: number): void {
    const start = this.#start;
    const unconsumed = this.#end - start;
    if (unconsumed === 0 && start !== 0) {
      this.#base += start;
      this.#start = this.#end = 0;
    }
    if (this.#end + count <= this.#buffer.length) return;
    if (unconsumed + count <= this.#buffer.length) {
      this.#buffer.copyWithin(0, start, this.#end);
    } else {
      const capacity = Math.max(
        unconsumed + count,
        this.#buffer.length * 2,
        INITIAL_CAPACITY,
      );
      const buffer = new Uint8Array(capacity);
      buffer.set(this.#buffer.subarray(start, this.#end));
      this.#setBuffer(buffer);
    }
    this.#base += start;
    this.#start = 0;
    this.#end = unconsumed;
  }

  /** Starts one read from the stream into the free space after `#end`. */
  #read(
    stream: InputStream,
    count: number,
    options: InputStreamOptions,
    abort: AbortOptions | undefined,
  ): Promise<number> {
    const end = this.#end;
    this.#asked = count;
    // The stream fills from index 0, so hand it a view starting at #end;
    // with nothing unconsumed (the usual case) that is the buffer itself.
    const target = end === 0 ? this.#buffer : this.#buffer.subarray(end);
    return abort === undefined
      ? stream.readAsync(target, count, options)
      : stream.readAsync(target, count, options, abort);
  }

  /** Checks what a read resolved with and appends its bytes. */
  #took(n: number): number {
    if (this.#disposed) throw disposedError("loadAsync");
    if (!Number.isInteger(n) || n < 0 || n > this.#asked) {
      throw new RangeError(
        `Cannot load: the input stream's readAsync() must resolve with an integer from 0 to ${this.#asked} (the bytes asked for), got ${
          describe(n)
        }`,
      );
    }
    // A pending load's bytes land at #end: detachBuffer() keeps it there.
    this.#end += n;
    return n;
  }

  /** Checks that `length` bytes are loaded and consumes them. */
  #take(method: string, length: number): number {
    const p = this.#peek(method, length);
    this.#start = p + length;
    return p;
  }

  /** Checks that `length` bytes are loaded, without consuming them. */
  #peek(method: string, length: number): number {
    if (this.#disposed) throw disposedError(method);
    const p = this.#start;
    if (this.#end - p < length) throw this.#shortRead(method, length);
    return p;
  }

  #shortRead(method: string, length: number): Error {
    if (this.#disposed) return disposedError(method);
    const remaining = this.#end - this.#start;
    return new RangeError(
      `Cannot read ${plural(length)} with ${method}() at offset ${
        this.#base + this.#start
      }: only ${plural(remaining)} ${
        remaining === 1 ? "is" : "are"
      } loaded; call loadAsync(${length - remaining}) first`,
    );
  }
}

function plural(n: number): string {
  return n === 1 ? "1 byte" : `${n} bytes`;
}

function checkCount(method: string, name: string, count: unknown): void {
  if (typeof count !== "number") {
    throw new TypeError(
      `Cannot ${method}(): "${name}" must be a non-negative integer, got ${
        describe(count)
      }`,
    );
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot ${method}(): "${name}" must be a non-negative integer, got ${
        describe(count)
      }`,
    );
  }
}

function disposedError(method: string): Error {
  return new Error(`Cannot ${method}(): the DataReader is disposed`);
}
