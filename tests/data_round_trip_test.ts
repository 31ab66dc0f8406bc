import assert from "node:assert/strict";
import { ByteOrder } from "../lib/byte_order.ts";
import { DataReader } from "../lib/data_reader.ts";
import { DataWriter } from "../lib/data_writer.ts";
import { UnicodeEncoding } from "../lib/unicode_encoding.ts";

const BYTE_ORDERS = [
  ["BigEndian", ByteOrder.BigEndian],
  ["LittleEndian", ByteOrder.LittleEndian],
] as const;
const ENCODINGS = [
  ["Utf8", UnicodeEncoding.Utf8],
  ["Utf16LE", UnicodeEncoding.Utf16LE],
  ["Utf16BE", UnicodeEncoding.Utf16BE],
] as const;

const STRINGS = [
  "",
  "a",
  "Hello, World!",
  "é",
  "日本語のテキスト",
  "🎉",
  "𝄞 clef",
  "mixed: Ελληνικά, русский, עברית, العربية, हिन्दी, 中文, 😀👍🏽",
  "\0nul and \uFEFF bom",
  "\uFEFFleading bom",
  "x".repeat(100),
  "ü".repeat(5000),
];

const GUIDS = [
  "00000000-0000-0000-0000-000000000000",
  "00112233-4455-6677-8899-aabbccddeeff",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
];

const DATES = [
  new Date("1601-01-01T00:00:00.000Z"),
  new Date("1601-01-01T00:00:00.001Z"),
  new Date("1600-12-31T23:59:59.999Z"),
  new Date("1970-01-01T00:00:00.000Z"),
  new Date("2024-02-29T12:34:56.789Z"),
  new Date("9999-12-31T23:59:59.999Z"),
  new Date("+030828-09-14T02:48:05.477Z"),
  new Date("-027627-04-19T21:11:54.523Z"),
];

function writeEverything(writer: DataWriter): number[] {
  const stringLengths: number[] = [];
  writer.writeByte(0);
  writer.writeByte(255);
  writer.writeBoolean(true);
  writer.writeBoolean(false);
  writer.writeBytes(new Uint8Array([]));
  writer.writeBytes(new Uint8Array([1, 2, 3]));
  writer.writeBuffer(new Uint8Array([9, 8, 7, 6]), 1, 2);
  for (const v of [0, 1, -1, -32768, 32767]) writer.writeInt16(v);
  for (const v of [0, 1, -1, -2147483648, 2147483647]) writer.writeInt32(v);
  for (const v of [0n, -1n, -(2n ** 63n), 2n ** 63n - 1n]) writer.writeInt64(v);
  for (const v of [Number.MIN_SAFE_INTEGER, -1, Number.MAX_SAFE_INTEGER]) {
    writer.writeInt64(v);
  }
  for (const v of [0, 65535, 0x0102]) writer.writeUInt16(v);
  for (const v of [0, 4294967295, 0x01020304]) writer.writeUInt32(v);
  for (const v of [0n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
    writer.writeUInt64(v);
  }
  writer.writeUInt64(Number.MAX_SAFE_INTEGER);
  for (
    const v of [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      1.5,
      0.1,
      3.4028234663852886e38,
      1e-45,
    ]
  ) {
    writer.writeSingle(v);
  }
  for (
    const v of [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      0.1,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
    ]
  ) {
    writer.writeDouble(v);
  }
  for (const s of STRINGS) {
    const measured = writer.measureString(s);
    writer.writeUInt32(measured);
    const written = writer.writeString(s);
    assert.equal(written, measured, `measureString(${JSON.stringify(s)})`);
    stringLengths.push(written);
  }
  for (const d of DATES) writer.writeDateTime(d);
  for (const ms of [0, 1, -1, 1.5, 0.0001, 86_400_000, -123456.789]) {
    writer.writeTimeSpan(ms);
  }
  for (const t of [0n, 1n, -(2n ** 63n), 2n ** 63n - 1n]) {
    writer.writeTimeSpanTicks(t);
  }
  for (const g of GUIDS) writer.writeGuid(g);
  writer.writeGuid("{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}");
  return stringLengths;
}

function readEverything(reader: DataReader): void {
  assert.equal(reader.readByte(), 0);
  assert.equal(reader.readByte(), 255);
  assert.equal(reader.readBoolean(), true);
  assert.equal(reader.readBoolean(), false);
  assert.deepEqual(reader.readBytes(0), new Uint8Array([]));
  const three = new Uint8Array(3);
  reader.readBytes(three);
  assert.deepEqual(three, new Uint8Array([1, 2, 3]));
  assert.deepEqual(reader.readBuffer(2), new Uint8Array([8, 7]));
  for (const v of [0, 1, -1, -32768, 32767]) {
    assert.equal(reader.readInt16(), v);
  }
  for (const v of [0, 1, -1, -2147483648, 2147483647]) {
    assert.equal(reader.readInt32(), v);
  }
  for (const v of [0n, -1n, -(2n ** 63n), 2n ** 63n - 1n]) {
    assert.equal(reader.readInt64(), v);
  }
  for (const v of [Number.MIN_SAFE_INTEGER, -1, Number.MAX_SAFE_INTEGER]) {
    assert.equal(reader.readInt64(), BigInt(v));
  }
  for (const v of [0, 65535, 0x0102]) assert.equal(reader.readUInt16(), v);
  for (const v of [0, 4294967295, 0x01020304]) {
    assert.equal(reader.readUInt32(), v);
  }
  for (const v of [0n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
    assert.equal(reader.readUInt64(), v);
  }
  assert.equal(reader.readUInt64(), BigInt(Number.MAX_SAFE_INTEGER));
  for (
    const v of [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      1.5,
      Math.fround(0.1),
      3.4028234663852886e38,
      Math.fround(1e-45),
    ]
  ) {
    // Object.is tells -0 from 0 and matches NaN.
    const got = reader.readSingle();
    assert.ok(Object.is(got, v), `readSingle() gave ${got}, expected ${v}`);
  }
  assert.notEqual(Math.fround(0.1), 0.1);
  for (
    const v of [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      0.1,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
    ]
  ) {
    const got = reader.readDouble();
    assert.ok(Object.is(got, v), `readDouble() gave ${got}, expected ${v}`);
  }
  for (const s of STRINGS) {
    assert.equal(reader.readString(reader.readUInt32()), s);
  }
  for (const d of DATES) {
    assert.equal(reader.readDateTime().toISOString(), d.toISOString());
  }
  for (const ms of [0, 1, -1, 1.5, 0.0001, 86_400_000, -123456.789]) {
    assert.equal(reader.readTimeSpan(), ms);
  }
  for (const t of [0n, 1n, -(2n ** 63n), 2n ** 63n - 1n]) {
    assert.equal(reader.readTimeSpanTicks(), t);
  }
  for (const g of GUIDS) assert.equal(reader.readGuid(), g);
  assert.equal(reader.readGuid(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  assert.equal(reader.unconsumedBufferLength, 0);
}

for (const [orderName, order] of BYTE_ORDERS) {
  for (const [encodingName, encoding] of ENCODINGS) {
    Deno.test(`DataWriter writes every type that DataReader reads back (${orderName}, ${encodingName})`, () => {
      const writer = new DataWriter();
      writer.byteOrder = order;
      writer.unicodeEncoding = encoding;
      writeEverything(writer);
      const reader = DataReader.fromBuffer(writer.detachBuffer());
      reader.byteOrder = order;
      reader.unicodeEncoding = encoding;
      readEverything(reader);
    });
  }
}

Deno.test("DataWriter and DataReader round-trip through a stream loaded one byte at a time", async () => {
  const writer = new DataWriter();
  writeEverything(writer);
  const bytes = writer.detachBuffer();
  let offset = 0;
  const reader = new DataReader({
    readAsync(buffer, count = buffer.length) {
      const n = Math.min(1, count, bytes.length - offset);
      buffer.set(bytes.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  });
  assert.equal(await reader.loadAsync(bytes.length), bytes.length);
  readEverything(reader);
  assert.equal(await reader.loadAsync(1), 0);
});

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

interface KnownBytes {
  name: string;
  write(writer: DataWriter): void;
  read(reader: DataReader): unknown;
  value: unknown;
  be: string;
  le: string;
}

const KNOWN: KnownBytes[] = [
  {
    name: "writeByte(0xab)",
    write: (w) => w.writeByte(0xab),
    read: (r) => r.readByte(),
    value: 0xab,
    be: "ab",
    le: "ab",
  },
  {
    name: "writeBoolean(true)",
    write: (w) => w.writeBoolean(true),
    read: (r) => r.readBoolean(),
    value: true,
    be: "01",
    le: "01",
  },
  {
    name: "writeBoolean(false)",
    write: (w) => w.writeBoolean(false),
    read: (r) => r.readBoolean(),
    value: false,
    be: "00",
    le: "00",
  },
  {
    name: "writeInt16(-2)",
    write: (w) => w.writeInt16(-2),
    read: (r) => r.readInt16(),
    value: -2,
    be: "ff fe",
    le: "fe ff",
  },
  {
    name: "writeUInt16(0x0102)",
    write: (w) => w.writeUInt16(0x0102),
    read: (r) => r.readUInt16(),
    value: 0x0102,
    be: "01 02",
    le: "02 01",
  },
  {
    name: "writeInt32(-2)",
    write: (w) => w.writeInt32(-2),
    read: (r) => r.readInt32(),
    value: -2,
    be: "ff ff ff fe",
    le: "fe ff ff ff",
  },
  {
    name: "writeUInt32(0x01020304)",
    write: (w) => w.writeUInt32(0x01020304),
    read: (r) => r.readUInt32(),
    value: 0x01020304,
    be: "01 02 03 04",
    le: "04 03 02 01",
  },
  {
    name: "writeInt64(-2n)",
    write: (w) => w.writeInt64(-2n),
    read: (r) => r.readInt64(),
    value: -2n,
    be: "ff ff ff ff ff ff ff fe",
    le: "fe ff ff ff ff ff ff ff",
  },
  {
    name: "writeInt64(-2) from a number",
    write: (w) => w.writeInt64(-2),
    read: (r) => r.readInt64(),
    value: -2n,
    be: "ff ff ff ff ff ff ff fe",
    le: "fe ff ff ff ff ff ff ff",
  },
  {
    name: "writeUInt64(0x0102030405060708n)",
    write: (w) => w.writeUInt64(0x0102030405060708n),
    read: (r) => r.readUInt64(),
    value: 0x0102030405060708n,
    be: "01 02 03 04 05 06 07 08",
    le: "08 07 06 05 04 03 02 01",
  },
  {
    name: "writeUInt64(0x0010203040506070) from a number",
    write: (w) => w.writeUInt64(0x0010203040506070),
    read: (r) => r.readUInt64(),
    value: 0x0010203040506070n,
    be: "00 10 20 30 40 50 60 70",
    le: "70 60 50 40 30 20 10 00",
  },
  {
    name: "writeSingle(1.5)",
    write: (w) => w.writeSingle(1.5),
    read: (r) => r.readSingle(),
    value: 1.5,
    be: "3f c0 00 00",
    le: "00 00 c0 3f",
  },
  {
    name: "writeSingle(-0)",
    write: (w) => w.writeSingle(-0),
    read: (r) => r.readSingle(),
    value: -0,
    be: "80 00 00 00",
    le: "00 00 00 80",
  },
  {
    name: "writeDouble(1)",
    write: (w) => w.writeDouble(1),
    read: (r) => r.readDouble(),
    value: 1,
    be: "3f f0 00 00 00 00 00 00",
    le: "00 00 00 00 00 00 f0 3f",
  },
  {
    name: "writeDouble(-Infinity)",
    write: (w) => w.writeDouble(-Infinity),
    read: (r) => r.readDouble(),
    value: -Infinity,
    be: "ff f0 00 00 00 00 00 00",
    le: "00 00 00 00 00 00 f0 ff",
  },
  {
    name: "writeDateTime(1601-01-01Z) is 0 ticks",
    write: (w) => w.writeDateTime(new Date("1601-01-01T00:00:00Z")),
    read: (r) => r.readDateTime().toISOString(),
    value: "1601-01-01T00:00:00.000Z",
    be: "00 00 00 00 00 00 00 00",
    le: "00 00 00 00 00 00 00 00",
  },
  {
    // 116444736000000000 = 0x019db1ded53e8000
    name: "writeDateTime(1970-01-01Z) is 116444736000000000 ticks",
    write: (w) => w.writeDateTime(new Date(0)),
    read: (r) => r.readDateTime().getTime(),
    value: 0,
    be: "01 9d b1 de d5 3e 80 00",
    le: "00 80 3e d5 de b1 9d 01",
  },
  {
    name: "writeTimeSpan(1) is 10000 ticks",
    write: (w) => w.writeTimeSpan(1),
    read: (r) => r.readTimeSpan(),
    value: 1,
    be: "00 00 00 00 00 00 27 10",
    le: "10 27 00 00 00 00 00 00",
  },
  {
    name: "writeTimeSpanTicks(-1n)",
    write: (w) => w.writeTimeSpanTicks(-1n),
    read: (r) => r.readTimeSpanTicks(),
    value: -1n,
    be: "ff ff ff ff ff ff ff ff",
    le: "ff ff ff ff ff ff ff ff",
  },
  {
    name: 'writeGuid("00112233-4455-6677-8899-aabbccddeeff")',
    write: (w) => w.writeGuid("00112233-4455-6677-8899-aabbccddeeff"),
    read: (r) => r.readGuid(),
    value: "00112233-4455-6677-8899-aabbccddeeff",
    be: "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff",
    le: "33 22 11 00 55 44 77 66 88 99 aa bb cc dd ee ff",
  },
];

for (const known of KNOWN) {
  Deno.test(`DataWriter.${known.name} writes the pinned bytes in both byte orders`, () => {
    for (const [name, order] of BYTE_ORDERS) {
      const writer = new DataWriter();
      writer.byteOrder = order;
      known.write(writer);
      const bytes = writer.detachBuffer();
      const expected = order === ByteOrder.BigEndian ? known.be : known.le;
      assert.equal(hex(bytes), expected, name);
      const reader = DataReader.fromBuffer(bytes);
      reader.byteOrder = order;
      assert.ok(Object.is(known.read(reader), known.value), name);
      assert.equal(reader.unconsumedBufferLength, 0);
    }
  });
}

const KNOWN_STRINGS: [string, UnicodeEncoding, string, number][] = [
  ["é", UnicodeEncoding.Utf8, "c3 a9", 2],
  ["é", UnicodeEncoding.Utf16LE, "e9 00", 1],
  ["é", UnicodeEncoding.Utf16BE, "00 e9", 1],
  ["A€", UnicodeEncoding.Utf8, "41 e2 82 ac", 4],
  ["𝄞", UnicodeEncoding.Utf8, "f0 9d 84 9e", 4],
  ["𝄞", UnicodeEncoding.Utf16LE, "34 d8 1e dd", 2],
  ["𝄞", UnicodeEncoding.Utf16BE, "d8 34 dd 1e", 2],
  ["\uFEFF", UnicodeEncoding.Utf8, "ef bb bf", 3],
];

Deno.test("DataWriter.writeString() writes the pinned bytes in each encoding, without prefix or BOM", () => {
  for (const [text, encoding, expected, units] of KNOWN_STRINGS) {
    for (const [, order] of BYTE_ORDERS) {
      const writer = new DataWriter();
      writer.byteOrder = order; // Strings ignore the byte order.
      writer.unicodeEncoding = encoding;
      assert.equal(writer.writeString(text), units);
      const bytes = writer.detachBuffer();
      assert.equal(hex(bytes), expected, `${text} in encoding ${encoding}`);
      const reader = DataReader.fromBuffer(bytes);
      reader.unicodeEncoding = encoding;
      assert.equal(reader.readString(units), text);
    }
  }
});
