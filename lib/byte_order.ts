/**
 * The byte order of multi-byte values on the wire, as UWP's
 * `Windows.Storage.Streams.ByteOrder`.
 *
 * @module
 */

/**
 * Which end of a multi-byte value comes first, with the UWP numeric values.
 *
 * `DataReader` and `DataWriter` default to `BigEndian` (network order), as in
 * UWP.
 *
 * @example Write a little-endian value
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteOrder, DataWriter } from "@seed/sockets";
 *
 * const writer = new DataWriter();
 * writer.byteOrder = ByteOrder.LittleEndian;
 * writer.writeUInt16(0x0102);
 * assert.deepEqual(writer.detachBuffer(), new Uint8Array([0x02, 0x01]));
 * ```
 */
export const ByteOrder = {
  /** Least significant byte first. */
  LittleEndian: 0,
  /** Most significant byte first (network order); the default. */
  BigEndian: 1,
} as const;

/** One of the {@linkcode ByteOrder} values. */
export type ByteOrder = typeof ByteOrder[keyof typeof ByteOrder];
