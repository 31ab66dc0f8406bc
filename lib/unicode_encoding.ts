/**
 * The text encoding of strings on the wire, as UWP's
 * `Windows.Storage.Streams.UnicodeEncoding`.
 *
 * @module
 */

/**
 * How `DataReader.readString` and `DataWriter.writeString` encode text, with
 * the UWP numeric values.
 *
 * String lengths count code units: bytes for `Utf8`, 16-bit units for
 * `Utf16LE` and `Utf16BE`. The default is `Utf8`, as in UWP.
 *
 * @example Write UTF-16 little-endian text
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataWriter, UnicodeEncoding } from "@seed/sockets";
 *
 * const writer = new DataWriter();
 * writer.unicodeEncoding = UnicodeEncoding.Utf16LE;
 * assert.equal(writer.writeString("é"), 1);
 * assert.deepEqual(writer.detachBuffer(), new Uint8Array([0xe9, 0x00]));
 * ```
 */
export const UnicodeEncoding = {
  /** UTF-8; lengths count bytes. The default. */
  Utf8: 0,
  /** UTF-16 little-endian; lengths count 16-bit code units. */
  Utf16LE: 1,
  /** UTF-16 big-endian; lengths count 16-bit code units. */
  Utf16BE: 2,
} as const;

/** One of the {@linkcode UnicodeEncoding} values. */
export type UnicodeEncoding =
  typeof UnicodeEncoding[keyof typeof UnicodeEncoding];
