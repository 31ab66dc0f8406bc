// deno-lint-ignore-file no-console
/**
 * DataWriter and DataReader against hand-written DataView code, on 1,000,000
 * mixed values (uint8, int16, uint32, int32, double, float32, uint64 from a
 * bigint, short UTF-8 string), alternating the contenders for several rounds
 * in one process. The goal is DataWriter at 0.8x the hand-written speed or
 * better, judged at 1,000,000 values and 7 rounds or more (`--smoke`: 8,000
 * values, 2 rounds, no goal).
 *
 * Run: deno run bench/data_writer_bench.ts [--values 1000000] [--rounds 7] [--smoke]
 */
import { parseArgs } from "node:util";
import { DataReader, DataWriter } from "../mod.ts";
import { Goals, median, positive, size } from "./_common.ts";

const { values } = parseArgs({
  options: {
    values: { type: "string", default: size("1000000", "8000") },
    rounds: { type: "string", default: size("7", "2") },
    smoke: { type: "boolean", default: false },
  },
});
const KINDS = 8;
/** One group holds one value of each kind. */
const GROUPS = Math.ceil(positive(values.values, "values") / KINDS);
const VALUES = GROUPS * KINDS;
const ROUNDS = positive(values.rounds, "rounds");

const STRINGS = [
  "hello",
  "Hello, World!",
  "héllo",
  "ok",
  "données",
  "日本語",
  "id-42",
  "🎉 party",
  "a",
  "status: ready",
  "ümlaut",
  "€100",
  "",
  "GET /index.html",
  "naïve café",
  "x",
];
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const STRING_BYTES = STRINGS.map((s) => encoder.encode(s).length);

const u8s = new Uint8Array(GROUPS);
const i16s = new Int16Array(GROUPS);
const u32s = new Uint32Array(GROUPS);
const i32s = new Int32Array(GROUPS);
const f64s = new Float64Array(GROUPS);
const f32s = new Float64Array(GROUPS);
const u64s: bigint[] = new Array(GROUPS);
const strs: string[] = new Array(GROUPS);
let total = 0;
for (let i = 0; i < GROUPS; i++) {
  u8s[i] = i * 7;
  i16s[i] = i * 13 - 30000;
  u32s[i] = (i * 2654435761) >>> 0;
  i32s[i] = (i * 40503) | 0;
  f64s[i] = i * 1.000001 - 5e5;
  f32s[i] = i / 3;
  u64s[i] = BigInt(i) * 0x1_0000_0001n + 0x8000_0000_0000_0000n;
  strs[i] = STRINGS[i & 15]!;
  total += 1 + 2 + 4 + 4 + 8 + 4 + 8 + STRING_BYTES[i & 15]!;
}

const writer = new DataWriter();
function encodeWithDataWriter(): void {
  const w = writer;
  for (let i = 0; i < GROUPS; i++) {
    w.writeByte(u8s[i]!);
    w.writeInt16(i16s[i]!);
    w.writeUInt32(u32s[i]!);
    w.writeInt32(i32s[i]!);
    w.writeDouble(f64s[i]!);
    w.writeSingle(f32s[i]!);
    w.writeUInt64(u64s[i]!);
    w.writeString(strs[i]!);
  }
}

const handBuffer = new Uint8Array(total);
const handView = new DataView(handBuffer.buffer);
/** The fixed-size values of group `i` at `p`; returns the position after them (small enough for V8 to inline). */
function writeFixedByHand(i: number, p: number): number {
  const u8 = handBuffer;
  const view = handView;
  u8[p] = u8s[i]!;
  view.setInt16(p + 1, i16s[i]!);
  view.setUint32(p + 3, u32s[i]!);
  view.setInt32(p + 7, i32s[i]!);
  view.setFloat64(p + 11, f64s[i]!);
  view.setFloat32(p + 19, f32s[i]!);
  view.setBigUint64(p + 23, u64s[i]!);
  return p + 31;
}

function encodeByHand(): number {
  const u8 = handBuffer;
  let p = 0;
  for (let i = 0; i < GROUPS; i++) {
    p = writeFixedByHand(i, p);
    p += encoder.encodeInto(strs[i]!, u8.subarray(p)).written;
  }
  return p;
}

/** The same, with strings encoded by a JavaScript loop, as DataWriter does. */
function encodeByHandJsStrings(): number {
  const u8 = handBuffer;
  let p = 0;
  for (let i = 0; i < GROUPS; i++) {
    p = writeFixedByHand(i, p);
    const s = strs[i]!;
    for (let j = 0; j < s.length; j++) {
      let c = s.charCodeAt(j);
      if (c < 0x80) {
        u8[p++] = c;
      } else if (c < 0x800) {
        u8[p++] = 0xc0 | (c >> 6);
        u8[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        u8[p++] = 0xe0 | (c >> 12);
        u8[p++] = 0x80 | ((c >> 6) & 0x3f);
        u8[p++] = 0x80 | (c & 0x3f);
      } else {
        c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++j) - 0xdc00);
        u8[p++] = 0xf0 | (c >> 18);
        u8[p++] = 0x80 | ((c >> 12) & 0x3f);
        u8[p++] = 0x80 | ((c >> 6) & 0x3f);
        u8[p++] = 0x80 | (c & 0x3f);
      }
    }
  }
  return p;
}

let sink = 0;
function decodeWithDataReader(bytes: Uint8Array): void {
  const r = DataReader.fromBuffer(bytes);
  let sum = 0;
  for (let i = 0; i < GROUPS; i++) {
    sum += r.readByte();
    sum += r.readInt16();
    sum += r.readUInt32();
    sum += r.readInt32();
    sum += r.readDouble();
    sum += r.readSingle();
    sum += Number(r.readUInt64() & 1n);
    sum += r.readString(STRING_BYTES[i & 15]!).length;
  }
  sink += sum;
}

function decodeByHand(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let p = 0;
  let sum = 0;
  for (let i = 0; i < GROUPS; i++) {
    sum += bytes[p]!;
    sum += view.getInt16(p + 1);
    sum += view.getUint32(p + 3);
    sum += view.getInt32(p + 7);
    sum += view.getFloat64(p + 11);
    sum += view.getFloat32(p + 19);
    sum += Number(view.getBigUint64(p + 23) & 1n);
    p += 31;
    const n = STRING_BYTES[i & 15]!;
    sum += decoder.decode(bytes.subarray(p, p + n)).length;
    p += n;
  }
  sink += sum;
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const rate = (ms: number): string =>
  `${(VALUES / ms * 1000 / 1e6).toFixed(1)}M values/s`;

console.log(
  `${VALUES.toLocaleString("en")} mixed values, ${
    total.toLocaleString("en")
  } bytes, ${ROUNDS} rounds (round 1 is warm-up)`,
);
const writes: number[] = [];
const hands: number[] = [];
const handJs: number[] = [];
const reads: number[] = [];
const handReads: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const w = time(encodeWithDataWriter);
  const written = writer.detachBuffer();
  const h = time(() => {
    if (encodeByHand() !== total) throw new Error("hand-written size mismatch");
  });
  if (!sameBytes(written, handBuffer)) {
    throw new Error("DataWriter and hand-written bytes differ");
  }
  handBuffer.fill(0);
  const hj = time(() => {
    if (encodeByHandJsStrings() !== total) {
      throw new Error("hand-written size mismatch");
    }
  });
  if (!sameBytes(written, handBuffer)) {
    throw new Error("DataWriter and hand-written (JS strings) bytes differ");
  }
  const r = time(() => decodeWithDataReader(written));
  const hr = time(() => decodeByHand(handBuffer));
  console.log(
    `round ${round}: write ${w.toFixed(1)} ms vs hand ${h.toFixed(1)} ms / ${
      hj.toFixed(1)
    } ms; read ${r.toFixed(1)} ms vs hand ${hr.toFixed(1)} ms`,
  );
  if (round === 1) continue;
  writes.push(w);
  hands.push(h);
  handJs.push(hj);
  reads.push(r);
  handReads.push(hr);
}
const [w, h, hj, r, hr] = [writes, hands, handJs, reads, handReads].map(
  median,
) as [
  number,
  number,
  number,
  number,
  number,
];
console.log("bytes identical: yes");
console.log(`DataWriter    ${rate(w)} (median ${w.toFixed(1)} ms)`);
console.log(
  `hand DataView ${rate(h)} (median ${h.toFixed(1)} ms), strings by encodeInto`,
);
console.log(
  `hand DataView ${rate(hj)} (median ${
    hj.toFixed(1)
  } ms), strings by a JS loop`,
);
console.log(
  `write ratio: DataWriter is ${
    (h / w).toFixed(2)
  }x hand-written with encodeInto, ${
    (hj / w).toFixed(2)
  }x hand-written with a JS loop`,
);
const goals = new Goals(
  VALUES >= 1_000_000 && ROUNDS >= 7,
  "--values 1000000 --rounds 7",
);
goals.check(
  "DataWriter >= 0.8x hand-written with encodeInto",
  "DataWriter vs hand-written with encodeInto",
  `${(h / w).toFixed(2)}x`,
  h / w >= 0.8,
);
console.log(`DataReader    ${rate(r)} (median ${r.toFixed(1)} ms)`);
console.log(`hand DataView ${rate(hr)} (median ${hr.toFixed(1)} ms)`);
console.log(`read ratio: DataReader is ${(hr / r).toFixed(2)}x hand-written`);
goals.end();
if (sink === 42) console.log("");
