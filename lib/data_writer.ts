/**
 * Typed binary writes onto an output stream, as UWP's
 * `Windows.Storage.Streams.DataWriter`.
 *
 * @module
 */

import { ByteOrder } from "./byte_order.ts";
import type { OutputStream } from "./output_stream.ts";
import { UnicodeEncoding } from "./unicode_encoding.ts";
import { COPY_LIMIT } from "./_copy_limit.ts";
import { describe } from "./_format.ts";
import { BufferPool } from "./_buffer_pool.ts";
import { copyInto } from "./_small_copies.ts";

/** Ticks (100 ns) from 1601-01-01T00:00:00Z, the UWP epoch, to 1970-01-01. */
const UNIX_EPOCH_TICKS = 116444736000000000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TWO_POW_32 = 2 ** 32;
const INITIAL_CAPACITY = 256;
/**
 * Below this length a JavaScript loop encodes UTF-8 faster than
 * `TextEncoder.encodeInto`, which costs a subarray and a native call.
 */
const SHORT_STRING = 64;
const GUID_PATTERN =
  /^([0-9a-fA-F]{8})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{12})$/;

/** A writer's buffer with its view, made once: large ones go to the pool. */
interface WriterBuffer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

/** Buffers up to this length stay with their writer; larger ones go back to the pool between stores. */
const KEEP_LIMIT = 16 * 1024;
/**
 * The large buffers writers hand back between stores (`_buffer_pool.ts`).
 * 1,000 echoing connections had 112 of 128 KiB out at once (14 MiB); a
 * 4 MiB cap then made a new buffer for most frames.
 */
const pool = new BufferPool<WriterBuffer>(32 * 1024 * 1024);

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

/**
 * Writes typed values into an internal buffer and sends them to an output
 * stream with {@linkcode DataWriter.storeAsync}, as UWP's `DataWriter`.
 *
 * Without a stream the writer only collects bytes, which
 * {@linkcode DataWriter.detachBuffer} hands out. Multi-byte values follow
 * {@linkcode DataWriter.byteOrder} (big-endian by default) and strings follow
 * {@linkcode DataWriter.unicodeEncoding} (UTF-8 by default); strings carry no
 * length prefix, so write one first (see {@linkcode DataWriter.measureString}).
 *
 * The buffer grows geometrically and is reused after each store; a buffer
 * over 16 KiB goes back to a pool shared by all writers once its store no
 * longer needs it, so a connection idle between two large answers holds
 * none. Stores below
 * 16 KiB rely on the library's `OutputStream` contract that `writeAsync`
 * copies such buffers before it returns; a custom `OutputStream` given to a
 * `DataWriter` must do the same (or be done with the bytes by then).
 *
 * @example Frame a string with its byte length, as the framed echo does
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataReader, DataWriter } from "@seed/sockets";
 *
 * const writer = new DataWriter();
 * const text = "Hello, wörld!";
 * writer.writeUInt32(writer.measureString(text));
 * writer.writeString(text);
 *
 * const reader = DataReader.fromBuffer(writer.detachBuffer());
 * assert.equal(reader.readString(reader.readUInt32()), text);
 * ```
 */
export class DataWriter {
  #stream: OutputStream | undefined;
  #buffer: Uint8Array = EMPTY;
  #view: DataView = EMPTY_VIEW;
  #length = 0;
  /** The current buffer with its view when it is large: it goes back to the pool (`_buffer_pool.ts`). */
  #large: WriterBuffer | undefined;
  /** How many bytes the last store held: at least the size to take next. */
  #lentLength = 0;
  /**
   * The bytes of the last small store, a view of `#buffer` kept while the
   * size repeats: a `subarray` costs about 50 ns on Deno 2.9.6, and a framed
   * server stores answers of one size again and again. Small stores from
   * the writer's own small buffer only: the stream has copied them by the
   * time `writeAsync` returns, and a pooled buffer is not the writer's to
   * keep alive.
   */
  #stored: Uint8Array = EMPTY;
  /** The buffer `#stored` views. */
  #storedFrom: Uint8Array = EMPTY;
  #littleEndian = false;
  #encoding: UnicodeEncoding = UnicodeEncoding.Utf8;
  #disposed = false;

  /**
   * Creates a writer over `outputStream`, or a stream-less writer that only
   * collects bytes.
   *
   * @param outputStream Where {@linkcode DataWriter.storeAsync} sends the
   * bytes; omit it to collect them with {@linkcode DataWriter.detachBuffer}.
   *
   * @example Collect bytes without a stream
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeByte(7);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([7]));
   * ```
   */
  constructor(outputStream?: OutputStream) {
    this.#stream = outputStream;
  }

  /**
   * The byte order of multi-byte values; `ByteOrder.BigEndian` by default.
   *
   * @example Switch to little-endian
   * ```ts
   * import assert from "node:assert/strict";
   * import { ByteOrder, DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.byteOrder = ByteOrder.LittleEndian;
   * writer.writeUInt32(1);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([1, 0, 0, 0]));
   * ```
   */
  get byteOrder(): ByteOrder {
    return this.#littleEndian ? ByteOrder.LittleEndian : ByteOrder.BigEndian;
  }

  /**
   * Sets the byte order of the following writes.
   *
   * @param value `ByteOrder.BigEndian` or `ByteOrder.LittleEndian`.
   * @throws {RangeError} If `value` is not a `ByteOrder`.
   */
  set byteOrder(value: ByteOrder) {
    if (value !== ByteOrder.BigEndian && value !== ByteOrder.LittleEndian) {
      throw new RangeError(
        `Cannot set DataWriter.byteOrder: "byteOrder" must be ByteOrder.BigEndian (1) or ByteOrder.LittleEndian (0), got ${
          describe(value)
        }`,
      );
    }
    this.#littleEndian = value === ByteOrder.LittleEndian;
  }

  /**
   * The encoding of strings; `UnicodeEncoding.Utf8` by default.
   *
   * @example Write UTF-16 big-endian text
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter, UnicodeEncoding } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.unicodeEncoding = UnicodeEncoding.Utf16BE;
   * writer.writeString("A");
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([0x00, 0x41]));
   * ```
   */
  get unicodeEncoding(): UnicodeEncoding {
    return this.#encoding;
  }

  /**
   * Sets the encoding of the following string writes.
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
        `Cannot set DataWriter.unicodeEncoding: "unicodeEncoding" must be a UnicodeEncoding (0, 1 or 2), got ${
          describe(value)
        }`,
      );
    }
    this.#encoding = value;
  }

  /**
   * The number of bytes written and not yet stored or detached.
   *
   * @example Count pending bytes
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeDouble(1.5);
   * assert.equal(writer.unstoredBufferLength, 8);
   * ```
   */
  get unstoredBufferLength(): number {
    return this.#length;
  }

  /**
   * Writes one unsigned byte.
   *
   * @param value An integer in 0..255.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not an integer in range.
   *
   * @example Write a byte
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeByte(0xff);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([0xff]));
   * ```
   */
  writeByte(value: number): void {
    if (typeof value !== "number" || (value & 0xff) !== value) {
      integerError("writeByte", value, 0, 255);
    }
    const p = this.#length;
    if (p + 1 > this.#buffer.length) this.#grow(1);
    this.#buffer[p] = value;
    this.#length = p + 1;
  }

  /**
   * Writes a boolean as one byte: 1 for `true`, 0 for `false`.
   *
   * @param value The boolean.
   * @throws {TypeError} If `value` is not a boolean.
   *
   * @example Write a flag
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeBoolean(true);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([1]));
   * ```
   */
  writeBoolean(value: boolean): void {
    if (typeof value !== "boolean") {
      throw new TypeError(
        `Cannot writeBoolean(): "value" must be a boolean, got ${
          describe(value)
        }`,
      );
    }
    const p = this.#length;
    if (p + 1 > this.#buffer.length) this.#grow(1);
    this.#buffer[p] = value ? 1 : 0;
    this.#length = p + 1;
  }

  /**
   * Writes all of `bytes`, copied into the writer.
   *
   * @param bytes The bytes to write.
   * @throws {TypeError} If `bytes` is not a `Uint8Array`.
   *
   * @example Write raw bytes
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeBytes(new Uint8Array([1, 2, 3]));
   * assert.equal(writer.unstoredBufferLength, 3);
   * ```
   */
  writeBytes(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot writeBytes(): "bytes" must be a Uint8Array, got ${
          describe(bytes)
        }`,
      );
    }
    this.#copy(bytes);
  }

  /**
   * Writes `count` bytes of `bytes` from index `start`, copied into the
   * writer (UWP's `WriteBuffer(buffer, start, count)`).
   *
   * @param bytes The source bytes.
   * @param start The index of the first byte to write (default 0).
   * @param count How many bytes to write (default: up to the end).
   * @throws {TypeError} If `bytes` is not a `Uint8Array`.
   * @throws {RangeError} If `start` or `count` is not an integer or points
   * outside `bytes`.
   *
   * @example Write part of a buffer
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeBuffer(new Uint8Array([1, 2, 3, 4]), 1, 2);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([2, 3]));
   * ```
   */
  writeBuffer(bytes: Uint8Array, start = 0, count?: number): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot writeBuffer(): "bytes" must be a Uint8Array, got ${
          describe(bytes)
        }`,
      );
    }
    if (!Number.isInteger(start) || start < 0 || start > bytes.length) {
      throw new RangeError(
        `Cannot writeBuffer(): "start" must be an integer from 0 to ${bytes.length}, got ${
          describe(start)
        }`,
      );
    }
    const n = count ?? bytes.length - start;
    if (!Number.isInteger(n) || n < 0 || start + n > bytes.length) {
      throw new RangeError(
        `Cannot writeBuffer(): "count" must be an integer from 0 to ${
          bytes.length - start
        }, got ${describe(count)}`,
      );
    }
    this.#copy(
      start === 0 && n === bytes.length
        ? bytes
        : bytes.subarray(start, start + n),
    );
  }

  /**
   * Writes a signed 16-bit integer in {@linkcode DataWriter.byteOrder}.
   *
   * @param value An integer in -32768..32767.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not an integer in range.
   *
   * @example Write -2 big-endian
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeInt16(-2);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([0xff, 0xfe]));
   * ```
   */
  writeInt16(value: number): void {
    if (typeof value !== "number" || ((value << 16) >> 16) !== value) {
      integerError("writeInt16", value, -32768, 32767);
    }
    const p = this.#length;
    if (p + 2 > this.#buffer.length) this.#grow(2);
    this.#view.setInt16(p, value, this.#littleEndian);
    this.#length = p + 2;
  }

  /**
   * Writes a signed 32-bit integer in {@linkcode DataWriter.byteOrder}.
   *
   * @param value An integer in -2147483648..2147483647.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not an integer in range.
   *
   * @example Write -1
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeInt32(-1);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([255, 255, 255, 255]));
   * ```
   */
  writeInt32(value: number): void {
    if (typeof value !== "number" || (value | 0) !== value) {
      integerError("writeInt32", value, -2147483648, 2147483647);
    }
    const p = this.#length;
    if (p + 4 > this.#buffer.length) this.#grow(4);
    this.#view.setInt32(p, value, this.#littleEndian);
    this.#length = p + 4;
  }

  /**
   * Writes a signed 64-bit integer in {@linkcode DataWriter.byteOrder}.
   *
   * @param value A `bigint` in -2^63..2^63-1, or a safe integer `number`.
   * @throws {TypeError} If `value` is neither a bigint nor a number.
   * @throws {RangeError} If `value` is out of range, or a number that is not
   * a safe integer.
   *
   * @example Write the smallest 64-bit integer
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeInt64(-(2n ** 63n));
   * writer.writeInt64(-5);
   * const reader = DataReader.fromBuffer(writer.detachBuffer());
   * assert.equal(reader.readInt64(), -(2n ** 63n));
   * assert.equal(reader.readInt64(), -5n);
   * ```
   */
  writeInt64(value: bigint | number): void {
    const p = this.#length;
    if (typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX) {
      if (p + 8 > this.#buffer.length) this.#grow(8);
      this.#view.setBigInt64(p, value, this.#littleEndian);
    } else if (Number.isSafeInteger(value)) {
      if (p + 8 > this.#buffer.length) this.#grow(8);
      this.#setWords(p, value as number);
    } else {
      int64Error(
        "writeInt64",
        value,
        "from -9223372036854775808n to 9223372036854775807n",
      );
    }
    this.#length = p + 8;
  }

  /**
   * Writes an unsigned 16-bit integer in {@linkcode DataWriter.byteOrder}.
   *
   * @param value An integer in 0..65535.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not an integer in range.
   *
   * @example Write 0x0102 big-endian
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeUInt16(0x0102);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([1, 2]));
   * ```
   */
  writeUInt16(value: number): void {
    if (typeof value !== "number" || (value & 0xffff) !== value) {
      integerError("writeUInt16", value, 0, 65535);
    }
    const p = this.#length;
    if (p + 2 > this.#buffer.length) this.#grow(2);
    this.#view.setUint16(p, value, this.#littleEndian);
    this.#length = p + 2;
  }

  /**
   * Writes an unsigned 32-bit integer in {@linkcode DataWriter.byteOrder}.
   *
   * @param value An integer in 0..4294967295.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not an integer in range.
   *
   * @example Write a length prefix
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeUInt32(0x01020304);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([1, 2, 3, 4]));
   * ```
   */
  writeUInt32(value: number): void {
    if (typeof value !== "number" || (value >>> 0) !== value) {
      integerError("writeUInt32", value, 0, 4294967295);
    }
    const p = this.#length;
    if (p + 4 > this.#buffer.length) this.#grow(4);
    this.#view.setUint32(p, value, this.#littleEndian);
    this.#length = p + 4;
  }

  /**
   * Writes an unsigned 64-bit integer in {@linkcode DataWriter.byteOrder}.
   *
   * @param value A `bigint` in 0..2^64-1, or a non-negative safe integer
   * `number`.
   * @throws {TypeError} If `value` is neither a bigint nor a number.
   * @throws {RangeError} If `value` is out of range, or a number that is not
   * a safe integer.
   *
   * @example Write the largest 64-bit unsigned integer
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeUInt64(2n ** 64n - 1n);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array(8).fill(0xff));
   * ```
   */
  writeUInt64(value: bigint | number): void {
    const p = this.#length;
    if (typeof value === "bigint" && value >= 0n && value <= UINT64_MAX) {
      if (p + 8 > this.#buffer.length) this.#grow(8);
      this.#view.setBigUint64(p, value, this.#littleEndian);
    } else if (Number.isSafeInteger(value) && (value as number) >= 0) {
      if (p + 8 > this.#buffer.length) this.#grow(8);
      this.#setWords(p, value as number);
    } else {
      int64Error("writeUInt64", value, "from 0n to 18446744073709551615n");
    }
    this.#length = p + 8;
  }

  /**
   * Writes a 32-bit IEEE 754 float (rounded from `value`) in
   * {@linkcode DataWriter.byteOrder}.
   *
   * @param value Any number, including NaN, -0 and ±Infinity.
   * @throws {TypeError} If `value` is not a number.
   *
   * @example Write 1.5
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeSingle(1.5);
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array([0x3f, 0xc0, 0, 0]));
   * ```
   */
  writeSingle(value: number): void {
    if (typeof value !== "number") numberError("writeSingle", "value", value);
    const p = this.#length;
    if (p + 4 > this.#buffer.length) this.#grow(4);
    this.#view.setFloat32(p, value, this.#littleEndian);
    this.#length = p + 4;
  }

  /**
   * Writes a 64-bit IEEE 754 float in {@linkcode DataWriter.byteOrder}.
   *
   * @param value Any number, including NaN, -0 and ±Infinity.
   * @throws {TypeError} If `value` is not a number.
   *
   * @example Write 1
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeDouble(1);
   * assert.deepEqual(
   *   writer.detachBuffer(),
   *   new Uint8Array([0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
   * );
   * ```
   */
  writeDouble(value: number): void {
    if (typeof value !== "number") numberError("writeDouble", "value", value);
    const p = this.#length;
    if (p + 8 > this.#buffer.length) this.#grow(8);
    this.#view.setFloat64(p, value, this.#littleEndian);
    this.#length = p + 8;
  }

  /**
   * Writes `value` in {@linkcode DataWriter.unicodeEncoding}, without a
   * length prefix or byte order mark.
   *
   * @param value The text; it must be well-formed (no lone surrogates).
   * @returns The code units written: bytes for UTF-8, 16-bit units for
   * UTF-16.
   * @throws {TypeError} If `value` is not a string, or holds a lone
   * surrogate (which no Unicode encoding can carry).
   *
   * @example Count the bytes of non-ASCII text
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * assert.equal(writer.writeString("héllo"), 6);
   * assert.equal(writer.unstoredBufferLength, 6);
   * ```
   */
  writeString(value: string): number {
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot writeString(): "value" must be a string, got ${
          describe(value)
        }`,
      );
    }
    if (this.#disposed) throw disposedError("writeString");
    if (this.#encoding === UnicodeEncoding.Utf8) return this.#writeUtf8(value);
    return this.#writeUtf16(value);
  }

  /**
   * Computes how many code units {@linkcode DataWriter.writeString} would
   * write for `value`, without writing or encoding it.
   *
   * Use it to write a length prefix before the string.
   *
   * @param value The text; it must be well-formed (no lone surrogates).
   * @returns Bytes for UTF-8, 16-bit code units for UTF-16.
   * @throws {TypeError} If `value` is not a string or holds a lone surrogate.
   *
   * @example Measure in bytes, not characters
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * assert.equal(writer.measureString("日本"), 6);
   * assert.equal(writer.measureString("🎉"), 4);
   * ```
   */
  measureString(value: string): number {
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot measureString(): "value" must be a string, got ${
          describe(value)
        }`,
      );
    }
    if (this.#encoding === UnicodeEncoding.Utf8) return utf8Length(value);
    if (!value.isWellFormed()) throw loneSurrogateError("measureString");
    return value.length;
  }

  /**
   * Writes `value` as a signed 64-bit count of 100 ns ticks since
   * 1601-01-01T00:00:00Z (UWP's `DateTime.UniversalTime`).
   *
   * @param value A valid `Date`.
   * @throws {TypeError} If `value` is not a `Date`.
   * @throws {RangeError} If `value` is an invalid date, or later than year
   * 30828 or earlier than year -27627 (outside the signed 64-bit tick range).
   *
   * @example The UWP epoch is 0 ticks
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeDateTime(new Date("1601-01-01T00:00:00Z"));
   * assert.deepEqual(writer.detachBuffer(), new Uint8Array(8));
   * ```
   */
  writeDateTime(value: Date): void {
    if (!(value instanceof Date)) {
      throw new TypeError(
        `Cannot writeDateTime(): "value" must be a Date, got ${
          describe(value)
        }`,
      );
    }
    const ms = value.getTime();
    if (Number.isNaN(ms)) {
      throw new RangeError(
        `Cannot writeDateTime(): "value" must be a valid Date, got Invalid Date`,
      );
    }
    const ticks = BigInt(ms) * 10000n + UNIX_EPOCH_TICKS;
    if (ticks < INT64_MIN || ticks > INT64_MAX) {
      throw new RangeError(
        `Cannot writeDateTime(): "value" must be a Date within the 64-bit tick range (years -27627 to 30828), got ${value.toISOString()}`,
      );
    }
    this.#writeTicks(ticks);
  }

  /**
   * Writes a duration given in milliseconds as a signed 64-bit count of
   * 100 ns ticks (UWP's `TimeSpan`), rounded to the nearest tick.
   *
   * @param milliseconds A finite duration; fractions down to 0.0001 ms are
   * kept.
   * @throws {TypeError} If `milliseconds` is not a number.
   * @throws {RangeError} If `milliseconds` is not finite or exceeds the
   * 64-bit tick range.
   *
   * @example One millisecond is 10,000 ticks
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeTimeSpan(1);
   * assert.equal(DataReader.fromBuffer(writer.detachBuffer()).readTimeSpanTicks(), 10000n);
   * ```
   */
  writeTimeSpan(milliseconds: number): void {
    if (typeof milliseconds !== "number") {
      numberError("writeTimeSpan", "milliseconds", milliseconds);
    }
    const ticks = Math.round(milliseconds * 10000);
    // 2^63 is exact as a double; anything at or beyond it does not fit.
    if (!Number.isFinite(ticks) || ticks >= 2 ** 63 || ticks < -(2 ** 63)) {
      throw new RangeError(
        `Cannot writeTimeSpan(): "milliseconds" must be a finite number of milliseconds within the 64-bit tick range, got ${
          describe(milliseconds)
        }`,
      );
    }
    this.#writeTicks(BigInt(ticks));
  }

  /**
   * Writes a duration as an exact signed 64-bit count of 100 ns ticks (UWP's
   * `TimeSpan.Duration`).
   *
   * @param ticks A `bigint` in -2^63..2^63-1.
   * @throws {TypeError} If `ticks` is not a bigint.
   * @throws {RangeError} If `ticks` is out of range.
   *
   * @example Write one second
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataReader, DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeTimeSpanTicks(10_000_000n);
   * assert.equal(DataReader.fromBuffer(writer.detachBuffer()).readTimeSpan(), 1000);
   * ```
   */
  writeTimeSpanTicks(ticks: bigint): void {
    if (typeof ticks !== "bigint") {
      throw new TypeError(
        `Cannot writeTimeSpanTicks(): "ticks" must be a bigint, got ${
          describe(ticks)
        }`,
      );
    }
    if (ticks < INT64_MIN || ticks > INT64_MAX) {
      throw new RangeError(
        `Cannot writeTimeSpanTicks(): "ticks" must be a bigint from -9223372036854775808n to 9223372036854775807n, got ${
          describe(ticks)
        }`,
      );
    }
    this.#writeTicks(ticks);
  }

  /**
   * Writes a GUID as 16 bytes: Data1 (32 bits), Data2 and Data3 (16 bits
   * each) in {@linkcode DataWriter.byteOrder}, then the last 8 bytes as they
   * appear in the text.
   *
   * @param guid `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal, either
   * case, optionally in braces.
   * @throws {TypeError} If `guid` is not a string in that form.
   *
   * @example Write a GUID little-endian, as Windows stores it
   * ```ts
   * import assert from "node:assert/strict";
   * import { ByteOrder, DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.byteOrder = ByteOrder.LittleEndian;
   * writer.writeGuid("00112233-4455-6677-8899-aabbccddeeff");
   * assert.deepEqual(
   *   writer.detachBuffer().subarray(0, 8),
   *   new Uint8Array([0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66]),
   * );
   * ```
   */
  writeGuid(guid: string): void {
    const text = typeof guid === "string" && guid.startsWith("{") &&
        guid.endsWith("}")
      ? guid.slice(1, -1)
      : guid;
    const match = typeof text === "string" ? GUID_PATTERN.exec(text) : null;
    if (match === null) {
      throw new TypeError(
        `Cannot writeGuid(): "guid" must be a GUID like "00112233-4455-6677-8899-aabbccddeeff", got ${
          describe(guid)
        }`,
      );
    }
    const [, data1, data2, data3, data4a, data4b] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const p = this.#length;
    if (p + 16 > this.#buffer.length) this.#grow(16);
    const view = this.#view;
    view.setUint32(p, parseInt(data1, 16), this.#littleEndian);
    view.setUint16(p + 4, parseInt(data2, 16), this.#littleEndian);
    view.setUint16(p + 6, parseInt(data3, 16), this.#littleEndian);
    const tail = data4a + data4b;
    for (let i = 0; i < 8; i++) {
      this.#buffer[p + 8 + i] = parseInt(tail.slice(i * 2, i * 2 + 2), 16);
    }
    this.#length = p + 16;
  }

  /**
   * Sends everything written since the last store to the output stream.
   *
   * The writer can be written to again at once, even before the returned
   * promise settles.
   *
   * @returns The number of bytes stored, once the stream accepted them.
   * @throws {Error} If the writer has no stream (none given, or detached) or
   * was disposed.
   * @throws {SocketError} Whatever the stream's `writeAsync` rejects with.
   *
   * @example Store into an in-memory stream
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter, type OutputStream } from "@seed/sockets";
   *
   * const sent: Uint8Array[] = [];
   * const stream: OutputStream = {
   *   writeAsync(bytes) {
   *     sent.push(bytes.slice());
   *     return Promise.resolve();
   *   },
   *   flushAsync: () => Promise.resolve(),
   * };
   * const writer = new DataWriter(stream);
   * writer.writeUInt16(42);
   * assert.equal(await writer.storeAsync(), 2);
   * assert.deepEqual(sent, [new Uint8Array([0, 42])]);
   * ```
   */
  storeAsync(): Promise<number> {
    const stream = this.#stream;
    if (this.#disposed) return Promise.reject(disposedError("storeAsync"));
    if (stream === undefined) {
      return Promise.reject(noStreamError("storeAsync"));
    }
    const n = this.#length;
    if (n === 0) return Promise.resolve(0);
    const buffer = this.#buffer;
    let bytes = this.#stored;
    if (bytes.length !== n || this.#storedFrom !== buffer) {
      bytes = buffer.subarray(0, n);
      // A large buffer goes back to the pool after this store.
      if (n < COPY_LIMIT && this.#large === undefined) {
        this.#stored = bytes;
        this.#storedFrom = buffer;
      }
    }
    let written: Promise<void>;
    try {
      // Promise.resolve: a stream written in JavaScript may return a plain
      // value; `.then` on it would throw after the bytes left the writer.
      written = Promise.resolve(stream.writeAsync(bytes));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#length = 0;
    // Under COPY_LIMIT the stream took a copy: the buffer is free at once.
    if (n < COPY_LIMIT) {
      if (this.#large !== undefined) pool.give(this.#handBack(n)!);
      return written.then(() => n);
    }
    // The stream sends a large store from our memory: the buffer goes back
    // to the pool once the stream is done with it, and the next write takes
    // one (this one, when the store was awaited).
    const large = this.#handBack(n);
    return written.then(() => {
      if (large !== undefined) pool.give(large);
      return n;
    });
  }

  /**
   * Waits until everything stored so far reached the operating system (the
   * stream's `flushAsync`).
   *
   * It does not store unstored bytes: call {@linkcode DataWriter.storeAsync}
   * first, as in UWP.
   *
   * @returns A promise that settles like the stream's `flushAsync`.
   * @throws {Error} If the writer has no stream or was disposed.
   *
   * @example Store, then flush
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter, type OutputStream } from "@seed/sockets";
   *
   * let flushed = false;
   * const stream: OutputStream = {
   *   writeAsync: () => Promise.resolve(),
   *   flushAsync() {
   *     flushed = true;
   *     return Promise.resolve();
   *   },
   * };
   * const writer = new DataWriter(stream);
   * writer.writeByte(1);
   * await writer.storeAsync();
   * await writer.flushAsync();
   * assert.ok(flushed);
   * ```
   */
  flushAsync(): Promise<void> {
    const stream = this.#stream;
    if (this.#disposed) return Promise.reject(disposedError("flushAsync"));
    if (stream === undefined) {
      return Promise.reject(noStreamError("flushAsync"));
    }
    try {
      return stream.flushAsync();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Lets go of the output stream without closing it, so that it outlives
   * the writer; unstored bytes stay in the writer.
   *
   * @returns The stream, or `undefined` if there was none.
   * @throws {Error} If the writer was disposed.
   *
   * @example Keep the stream after the writer
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter, type OutputStream } from "@seed/sockets";
   *
   * const stream: OutputStream = {
   *   writeAsync: () => Promise.resolve(),
   *   flushAsync: () => Promise.resolve(),
   * };
   * const writer = new DataWriter(stream);
   * assert.equal(writer.detachStream(), stream);
   * await assert.rejects(writer.storeAsync(), /no output stream/);
   * ```
   */
  detachStream(): OutputStream | undefined {
    if (this.#disposed) throw disposedError("detachStream");
    const stream = this.#stream;
    this.#stream = undefined;
    return stream;
  }

  /**
   * Takes the unstored bytes out of the writer and empties it; the writer
   * stays usable.
   *
   * @returns A copy of the bytes written since the last store or detach.
   * @throws {Error} If the writer was disposed.
   *
   * @example Build a message in memory
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * const writer = new DataWriter();
   * writer.writeString("hi");
   * assert.deepEqual(writer.detachBuffer(), new TextEncoder().encode("hi"));
   * assert.equal(writer.unstoredBufferLength, 0);
   * ```
   */
  detachBuffer(): Uint8Array {
    if (this.#disposed) throw disposedError("detachBuffer");
    const bytes = this.#buffer.slice(0, this.#length);
    this.#length = 0;
    return bytes;
  }

  /**
   * Releases the writer's buffers without storing them; the stream is not
   * closed. Later calls throw.
   *
   * @example Dispose with `using`
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataWriter } from "@seed/sockets";
   *
   * let escaped: DataWriter;
   * {
   *   using writer = new DataWriter();
   *   escaped = writer;
   * }
   * assert.throws(() => escaped.writeByte(1), /disposed/);
   * ```
   */
  [Symbol.dispose](): void {
    this.#disposed = true;
    this.#stream = undefined;
    if (this.#large !== undefined) pool.give(this.#handBack(0)!);
    this.#length = 0;
    // An empty buffer sends every later write to #grow, which throws, so the
    // hot paths need no disposed check of their own.
    this.#setBuffer(EMPTY);
    // Nor may the view of the last store keep the old buffer alive.
    this.#stored = this.#storedFrom = EMPTY;
  }

  #setBuffer(buffer: Uint8Array): void {
    this.#buffer = buffer;
    this.#view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  }

  /**
   * Lets go of the current buffer and its view, leaving the writer without
   * one: the next write goes to #grow, which takes at least `stored` bytes.
   * The store's size, not the buffer's: each buffer is at least the last
   * one's length, so one large frame would make every later store take (or,
   * the pool short, allocate) a buffer that large for the writer's life.
   *
   * @returns The buffer for the pool, or `undefined` when it is not large
   * (a buffer of exactly 16 KiB, stored whole): #grow never takes one of
   * `KEEP_LIMIT` or less from the pool, so it would sit there, counted
   * against the cap, until 2,048 of them left no room for any other.
   */
  #handBack(stored: number): WriterBuffer | undefined {
    const large = this.#large;
    this.#lentLength = stored;
    this.#large = undefined;
    this.#buffer = EMPTY;
    this.#view = EMPTY_VIEW;
    return large;
  }

  /** Makes room for `extra` more bytes, or throws if the writer is disposed. */
  #grow(extra: number): void {
    if (this.#disposed) throw disposedError("write");
    const needed = this.#length + extra;
    if (needed <= this.#buffer.length) return;
    // The old buffer goes: no view of it may keep it alive.
    this.#stored = this.#storedFrom = EMPTY;
    // After a large store, the size that store needed at once.
    const capacity = Math.max(
      needed,
      this.#buffer.length * 2,
      INITIAL_CAPACITY,
      this.#lentLength,
    );
    let next: WriterBuffer | undefined;
    if (capacity > KEEP_LIMIT) {
      next = pool.take(capacity);
    } else if (this.#buffer === EMPTY && this.#lentLength > 0) {
      // A large buffer just went back: take one again even for a small
      // store (it goes back after it) rather than make a small buffer that
      // the next large frame would drop.
      next = pool.take(KEEP_LIMIT + 1);
    }
    if (capacity > KEEP_LIMIT) {
      if (next === undefined) {
        // A power of two, so that it fits every request of its size class.
        const bytes = new Uint8Array(2 ** Math.ceil(Math.log2(capacity)));
        next = { bytes, view: new DataView(bytes.buffer) };
      }
    }
    const old = this.#large;
    const bytes = next?.bytes ?? new Uint8Array(capacity);
    bytes.set(this.#buffer.subarray(0, this.#length));
    if (next === undefined) this.#setBuffer(bytes);
    else {
      this.#buffer = bytes;
      this.#view = next.view;
    }
    this.#large = next;
    // The old large buffer held only what was just copied.
    if (old !== undefined) pool.give(old);
  }

  #copy(bytes: Uint8Array): void {
    if (this.#disposed) throw disposedError("write");
    const p = this.#length;
    const n = bytes.length;
    if (p + n > this.#buffer.length) this.#grow(n);
    copyInto(this.#buffer, p, bytes, 0, n);
    this.#length = p + n;
  }

  /** Writes a safe integer as two 32-bit words, avoiding a BigInt. */
  #setWords(p: number, value: number): void {
    const high = Math.floor(value / TWO_POW_32);
    const low = value - high * TWO_POW_32;
    const view = this.#view;
    if (this.#littleEndian) {
      view.setUint32(p, low, true);
      view.setInt32(p + 4, high, true);
    } else {
      view.setInt32(p, high, false);
      view.setUint32(p + 4, low, false);
    }
  }

  #writeTicks(ticks: bigint): void {
    const p = this.#length;
    if (p + 8 > this.#buffer.length) this.#grow(8);
    this.#view.setBigInt64(p, ticks, this.#littleEndian);
    this.#length = p + 8;
  }

  #writeUtf8(value: string): number {
    const length = value.length;
    let p = this.#length;
    // Three bytes per UTF-16 unit is the worst case of UTF-8.
    if (p + length * 3 > this.#buffer.length) {
      this.#grow(length * 3 <= 4096 ? length * 3 : utf8Length(value));
    }
    const buffer = this.#buffer;
    if (length >= SHORT_STRING) {
      if (!value.isWellFormed()) throw loneSurrogateError("writeString");
      const { written } = encoder.encodeInto(value, buffer.subarray(p));
      this.#length = p + written;
      return written;
    }
    const start = p;
    for (let i = 0; i < length; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        buffer[p++] = c;
      } else if (c < 0x800) {
        buffer[p++] = 0xc0 | (c >> 6);
        buffer[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buffer[p++] = 0xe0 | (c >> 12);
        buffer[p++] = 0x80 | ((c >> 6) & 0x3f);
        buffer[p++] = 0x80 | (c & 0x3f);
      } else {
        const next = value.charCodeAt(i + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
          throw loneSurrogateError("writeString");
        }
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        buffer[p++] = 0xf0 | (c >> 18);
        buffer[p++] = 0x80 | ((c >> 12) & 0x3f);
        buffer[p++] = 0x80 | ((c >> 6) & 0x3f);
        buffer[p++] = 0x80 | (c & 0x3f);
      }
    }
    this.#length = p;
    return p - start;
  }

  #writeUtf16(value: string): number {
    if (!value.isWellFormed()) throw loneSurrogateError("writeString");
    const length = value.length;
    const p = this.#length;
    if (p + length * 2 > this.#buffer.length) this.#grow(length * 2);
    const view = this.#view;
    const little = this.#encoding === UnicodeEncoding.Utf16LE;
    for (let i = 0; i < length; i++) {
      view.setUint16(p + i * 2, value.charCodeAt(i), little);
    }
    this.#length = p + length * 2;
    return length;
  }
}

/** Counts the UTF-8 bytes of `value` from its UTF-16 code units. */
function utf8Length(value: string): number {
  const length = value.length;
  let bytes = length;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c < 0xd800 || c > 0xdfff) {
      bytes += 2;
    } else {
      const next = value.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw loneSurrogateError("measureString");
      }
      // A surrogate pair is two units and four bytes.
      bytes += 2;
      i++;
    }
  }
  return bytes;
}

function integerError(
  method: string,
  value: unknown,
  min: number,
  max: number,
): never {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${method}(): "value" must be an integer from ${min} to ${max}, got ${
        describe(value)
      }`,
    );
  }
  throw new RangeError(
    `Cannot ${method}(): "value" must be an integer from ${min} to ${max}, got ${
      describe(value)
    }`,
  );
}

function int64Error(method: string, value: unknown, range: string): never {
  if (typeof value !== "bigint" && typeof value !== "number") {
    throw new TypeError(
      `Cannot ${method}(): "value" must be a bigint ${range} or a safe integer, got ${
        describe(value)
      }`,
    );
  }
  throw new RangeError(
    `Cannot ${method}(): "value" must be a bigint ${range} or a safe integer, got ${
      describe(value)
    }`,
  );
}

function numberError(method: string, name: string, value: unknown): never {
  throw new TypeError(
    `Cannot ${method}(): "${name}" must be a number, got ${describe(value)}`,
  );
}

function loneSurrogateError(method: string): TypeError {
  return new TypeError(
    `Cannot ${method}(): "value" must be a well-formed string, got one with a lone surrogate; use String.prototype.toWellFormed() to replace it`,
  );
}

function disposedError(method: string): Error {
  return method === "write"
    ? new Error("Cannot write: the DataWriter is disposed")
    : new Error(`Cannot ${method}(): the DataWriter is disposed`);
}

function noStreamError(method: string): Error {
  return new Error(
    `Cannot ${method}(): the DataWriter has no output stream; pass one to new DataWriter(outputStream) or use detachBuffer()`,
  );
}
