import assert from "node:assert/strict";
import { ByteOrder } from "../lib/byte_order.ts";
import { UnicodeEncoding } from "../lib/unicode_encoding.ts";

Deno.test("ByteOrder has the UWP values", () => {
  assert.deepEqual({ ...ByteOrder }, { LittleEndian: 0, BigEndian: 1 });
});

Deno.test("UnicodeEncoding has the UWP values", () => {
  assert.deepEqual({ ...UnicodeEncoding }, { Utf8: 0, Utf16LE: 1, Utf16BE: 2 });
});
