import assert from "node:assert/strict";
import { ByteOrder } from "../lib/byte_order.ts";
import { DataWriter } from "../lib/data_writer.ts";
import type { OutputStream } from "../lib/output_stream.ts";
import { UnicodeEncoding } from "../lib/unicode_encoding.ts";
import { runDeno } from "./_helpers.ts";

/**
 * An output stream that follows the socket output stream's contract: it
 * copies buffers under 16 KiB before `writeAsync` returns and keeps larger
 * ones by reference until the write settles, which the test controls.
 */
class FakeOutputStream implements OutputStream {
  /** What each write held when it was accepted (large ones by reference). */
  readonly writes: Uint8Array[] = [];
  readonly pending: PromiseWithResolvers<void>[] = [];
  flushes = 0;
  autoResolve: boolean;

  constructor(autoResolve = true) {
    this.autoResolve = autoResolve;
  }

  writeAsync(bytes: Uint8Array): Promise<void> {
    this.writes.push(bytes.length < 16 * 1024 ? bytes.slice() : bytes);
    const deferred = Promise.withResolvers<void>();
    this.pending.push(deferred);
    if (this.autoResolve) deferred.resolve();
    return deferred.promise;
  }

  flushAsync(): Promise<void> {
    this.flushes++;
    return Promise.resolve();
  }
}

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

Deno.test("DataWriter.storeAsync() sends the written bytes and resolves with their count", async () => {
  const stream = new FakeOutputStream();
  const writer = new DataWriter(stream);
  writer.writeUInt32(5);
  writer.writeString("hello");
  assert.equal(writer.unstoredBufferLength, 9);
  assert.equal(await writer.storeAsync(), 9);
  assert.equal(writer.unstoredBufferLength, 0);
  assert.deepEqual(
    stream.writes,
    [new Uint8Array([0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f])],
  );
  assert.equal(await writer.storeAsync(), 0);
  assert.equal(stream.writes.length, 1, "an empty store writes nothing");
});

Deno.test("DataWriter reuses its buffer at once after a small store", async () => {
  const stream = new FakeOutputStream(false);
  const writer = new DataWriter(stream);
  const stores: Promise<number>[] = [];
  for (let i = 0; i < 100; i++) {
    writer.writeBytes(pattern(1000, i));
    stores.push(writer.storeAsync());
  }
  for (const deferred of stream.pending) deferred.resolve();
  assert.deepEqual(await Promise.all(stores), new Array(100).fill(1000));
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(stream.writes[i], pattern(1000, i));
  }
});

Deno.test("DataWriter stores of one size, of changing sizes and after the buffer grew or went to the pool each send exactly their own bytes", async () => {
  const stream = new FakeOutputStream();
  const writer = new DataWriter(stream);
  // Repeated sizes (the writer reuses its view of them), a change of size,
  // growth past the first buffer, a large store (a pooled buffer) and small
  // ones after it.
  const sizes = [36, 36, 36, 7, 36, 36, 3000, 3000, 9000, 36, 20_000, 36, 36];
  for (const [i, size] of sizes.entries()) {
    writer.writeBytes(pattern(size, i));
    assert.equal(await writer.storeAsync(), size);
    // Checked at once: the stream holds a large store by reference.
    assert.equal(stream.writes.length, i + 1);
    assert.deepEqual(stream.writes[i]!.slice(), pattern(size, i), `store ${i}`);
  }
});

Deno.test("DataWriter does not touch a store of 16 KiB or more until the stream is done with it", async () => {
  const stream = new FakeOutputStream(false);
  const writer = new DataWriter(stream);
  const sizes = [16 * 1024, 100_000, 16 * 1024 - 1, 20_000, 16 * 1024, 65_536];
  const stores: Promise<number>[] = [];
  for (const [i, size] of sizes.entries()) {
    writer.writeBytes(pattern(size, i));
    stores.push(writer.storeAsync());
  }
  // Everything is still in flight: nothing may have been overwritten.
  for (const [i, size] of sizes.entries()) {
    assert.deepEqual(stream.writes[i], pattern(size, i), `store ${i}`);
  }
  // Settle them one at a time, writing more in between, so that buffers
  // coming back are reused while later stores are still in flight.
  for (const [i, deferred] of stream.pending.slice().entries()) {
    deferred.resolve();
    assert.equal(await stores[i], sizes[i]);
    writer.writeBytes(pattern(30_000, 100 + i));
    stores.push(writer.storeAsync());
    for (const [j, bytes] of stream.writes.entries()) {
      const size = j < sizes.length ? sizes[j]! : 30_000;
      const seed = j < sizes.length ? j : 100 + j - sizes.length;
      if (j > i) assert.deepEqual(bytes, pattern(size, seed), `store ${j}`);
    }
  }
  for (const deferred of stream.pending) deferred.resolve();
  await Promise.all(stores);
});

Deno.test("DataWriter stores awaited one after another send from the same large buffer", async () => {
  const stream = new FakeOutputStream();
  const writer = new DataWriter(stream);
  for (let i = 0; i < 4; i++) {
    writer.writeUInt32(60_000);
    writer.writeBytes(pattern(60_000, i));
    assert.equal(await writer.storeAsync(), 60_004);
    // Sent by reference: check it before the next store reuses the buffer.
    assert.deepEqual(stream.writes[i]!.subarray(4), pattern(60_000, i));
  }
  const buffers = new Set(stream.writes.map((bytes) => bytes.buffer));
  assert.equal(buffers.size, 1, "one buffer, handed back and taken again");
});

Deno.test("DataWriter large buffers handed back between writers never reach a store still in flight", async () => {
  // Several writers share the pool of large buffers: settle their stores in
  // a scrambled order, writing more in between, and check every store
  // still holds its own bytes until it settles.
  const streams = Array.from({ length: 4 }, () => new FakeOutputStream(false));
  const writers = streams.map((stream) => new DataWriter(stream));
  const expected = new Map<Uint8Array, Uint8Array>();
  const inFlight: { stream: FakeOutputStream; index: number }[] = [];
  let seed = 0;
  const store = (w: number, size: number): void => {
    const bytes = pattern(size, seed++);
    writers[w]!.writeBytes(bytes);
    void writers[w]!.storeAsync();
    const stream = streams[w]!;
    expected.set(stream.writes[stream.writes.length - 1]!, bytes);
    inFlight.push({ stream, index: stream.pending.length - 1 });
  };
  const check = (): void => {
    for (const { stream, index } of inFlight) {
      const sent = stream.writes[index]!;
      assert.deepEqual(sent, expected.get(sent), `a store of ${sent.length} B`);
    }
  };
  for (let round = 0; round < 40; round++) {
    store(round % 4, round % 3 === 0 ? 10_000 : 20_000 + round * 1_000);
    check();
    if (round % 2 === 1) {
      const [settled] = inFlight.splice((round * 7) % inFlight.length, 1);
      settled!.stream.pending[settled!.index]!.resolve();
      // Let the writer's `then` hand the buffer back.
      await null;
      await null;
      check();
    }
  }
  for (const { stream, index } of inFlight) stream.pending[index]!.resolve();
});

Deno.test("DataWriter keeps writing correctly after a large buffer went back on a small store", async () => {
  const stream = new FakeOutputStream();
  const writer = new DataWriter(stream);
  writer.writeBytes(pattern(50_000, 1));
  await writer.storeAsync();
  // The buffer the writer takes now is large; a small store hands it back.
  writer.writeBytes(pattern(100, 2));
  await writer.storeAsync();
  writer.writeBytes(pattern(30_000, 3));
  writer.writeUInt16(0xbeef);
  await writer.storeAsync();
  assert.deepEqual(stream.writes[1], pattern(100, 2));
  assert.deepEqual(stream.writes[2]!.subarray(0, 30_000), pattern(30_000, 3));
  assert.deepEqual(
    stream.writes[2]!.subarray(30_000),
    new Uint8Array([0xbe, 0xef]),
  );
});

Deno.test("DataWriter stores of exactly 16 KiB do not fill the shared pool with buffers nobody takes", async () => {
  // A 16 KiB buffer is kept by its writer, never taken from the pool; handed
  // to it after each 16 KiB store, 2,048 of them filled its 32 MiB, and from
  // then on no writer's large buffer went back. In a process of its own: the
  // pool is shared by the whole isolate, and a large buffer another test
  // left there would be taken for the 16 KiB stores and hide the bug.
  const script = `
    import { DataWriter } from ${
    JSON.stringify(new URL("../lib/data_writer.ts", import.meta.url).href)
  };
    const writes = [];
    const stream = {
      writeAsync(bytes) {
        writes.push(bytes);
        return Promise.resolve();
      },
      flushAsync: () => Promise.resolve(),
    };
    const writer = new DataWriter(stream);
    const payload = new Uint8Array(16 * 1024).fill(5);
    for (let i = 0; i < 2_100; i++) {
      writer.writeBytes(payload);
      await writer.storeAsync();
    }
    writes.length = 0;
    const other = new DataWriter(stream);
    for (let i = 0; i < 3; i++) {
      other.writeBytes(new Uint8Array(60_000).fill(i));
      await other.storeAsync();
    }
    console.log(new Set(writes.map((bytes) => bytes.buffer)).size);
  `;
  const result = await runDeno(["eval", "--ext=js", script], 30_000);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout.trim(),
    "1",
    "the large buffer went back to the pool",
  );
});

Deno.test("DataWriter after one large store takes buffers the size of later stores, not of that one for good", async () => {
  // One 1 MiB frame must not make every later 20 KB answer take (or, once
  // the pool is short, allocate) a 1 MiB buffer for the connection's life.
  const stream = new FakeOutputStream();
  const writer = new DataWriter(stream);
  writer.writeBytes(pattern(1024 * 1024, 1));
  await writer.storeAsync();
  for (let i = 0; i < 3; i++) {
    writer.writeBytes(pattern(20_000, i));
    await writer.storeAsync();
  }
  const last = stream.writes[stream.writes.length - 1]!;
  assert.deepEqual(last, pattern(20_000, 2));
  assert.ok(
    last.buffer.byteLength < 1024 * 1024,
    `a 20,000 B store sent from a buffer of ${last.buffer.byteLength} B`,
  );
});

Deno.test("DataWriter.storeAsync() over a stream whose writeAsync returns no promise resolves instead of throwing", async () => {
  const sent: Uint8Array[] = [];
  const stream = {
    writeAsync(bytes: Uint8Array): Promise<void> {
      sent.push(bytes.slice());
      return undefined as unknown as Promise<void>;
    },
    flushAsync: (): Promise<void> => Promise.resolve(),
  };
  const writer = new DataWriter(stream);
  writer.writeByte(1);
  assert.equal(await writer.storeAsync(), 1);
  writer.writeBytes(pattern(20_000, 1));
  assert.equal(await writer.storeAsync(), 20_000);
  assert.deepEqual(sent, [new Uint8Array([1]), pattern(20_000, 1)]);
});

Deno.test("DataWriter.storeAsync() rejects with the stream's error", async () => {
  const failure = new Error("broken pipe");
  const writer = new DataWriter({
    writeAsync: () => Promise.reject(failure),
    flushAsync: () => Promise.resolve(),
  });
  writer.writeByte(1);
  await assert.rejects(writer.storeAsync(), (error) => error === failure);
});

Deno.test("DataWriter.flushAsync() waits on the stream's flushAsync", async () => {
  const stream = new FakeOutputStream();
  const writer = new DataWriter(stream);
  writer.writeByte(1);
  await writer.flushAsync();
  assert.equal(stream.flushes, 1);
  assert.equal(stream.writes.length, 0, "flushAsync does not store");
  assert.equal(writer.unstoredBufferLength, 1);
});

Deno.test("DataWriter without a stream rejects storeAsync() and flushAsync()", async () => {
  const writer = new DataWriter();
  writer.writeByte(1);
  const message =
    "the DataWriter has no output stream; pass one to new DataWriter(outputStream) or use detachBuffer()";
  await assert.rejects(
    writer.storeAsync(),
    new Error(`Cannot storeAsync(): ${message}`),
  );
  await assert.rejects(
    writer.flushAsync(),
    new Error(`Cannot flushAsync(): ${message}`),
  );
  assert.equal(writer.unstoredBufferLength, 1);
});

Deno.test("DataWriter.detachStream() lets go of the stream and keeps the unstored bytes", async () => {
  const stream = new FakeOutputStream();
  const writer = new DataWriter(stream);
  writer.writeUInt16(7);
  assert.equal(writer.detachStream(), stream);
  assert.equal(writer.detachStream(), undefined);
  await assert.rejects(writer.storeAsync(), /no output stream/);
  assert.deepEqual(writer.detachBuffer(), new Uint8Array([0, 7]));
});

Deno.test("DataWriter.detachBuffer() returns a copy and resets the writer", () => {
  const writer = new DataWriter();
  for (let i = 0; i < 10_000; i++) writer.writeUInt16(i);
  const first = writer.detachBuffer();
  assert.equal(first.length, 20_000);
  assert.equal(writer.unstoredBufferLength, 0);
  writer.writeUInt16(0xffff);
  assert.deepEqual(writer.detachBuffer(), new Uint8Array([0xff, 0xff]));
  assert.equal(first[0], 0);
  assert.equal(new DataView(first.buffer).getUint16(19_998), 9_999);
});

Deno.test("DataWriter[Symbol.dispose]() makes later calls throw", async () => {
  const writer = new DataWriter(new FakeOutputStream());
  writer.writeByte(1);
  writer[Symbol.dispose]();
  assert.throws(
    () => writer.writeByte(1),
    new Error("Cannot write: the DataWriter is disposed"),
  );
  assert.throws(() => writer.writeDouble(1), /disposed/);
  assert.throws(() => writer.writeString(""), /disposed/);
  assert.throws(() => writer.writeBytes(new Uint8Array()), /disposed/);
  assert.throws(() => writer.detachBuffer(), /disposed/);
  assert.throws(() => writer.detachStream(), /disposed/);
  assert.equal(writer.unstoredBufferLength, 0);
  await assert.rejects(
    writer.storeAsync(),
    new Error("Cannot storeAsync(): the DataWriter is disposed"),
  );
  await assert.rejects(writer.flushAsync(), /disposed/);
});

Deno.test("DataWriter[Symbol.dispose]() lets go of its small buffer, though a store just sent a view of it", async () => {
  // A disposed writer may stay referenced (a closed connection's state):
  // its buffer must not. Needs the garbage collector, so in a subprocess.
  const script = `
    import { DataWriter } from ${
    JSON.stringify(new URL("../lib/data_writer.ts", import.meta.url).href)
  };
    let buffer;
    const stream = {
      writeAsync(bytes) {
        buffer = new WeakRef(bytes.buffer);
        return Promise.resolve();
      },
      flushAsync: () => Promise.resolve(),
    };
    const writer = new DataWriter(stream);
    for (let i = 0; i < 2; i++) {
      writer.writeBytes(new Uint8Array(36).fill(i));
      await writer.storeAsync();
    }
    writer[Symbol.dispose]();
    await new Promise((resolve) => setTimeout(resolve, 0));
    globalThis.gc();
    console.log(buffer.deref() === undefined, writer.unstoredBufferLength);
  `;
  const result = await runDeno(
    ["eval", "--ext=js", "--v8-flags=--expose-gc", script],
    30_000,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), "true 0", "the buffer was collected");
});

Deno.test("DataWriter integer writes reject out-of-range and non-integer values, naming method and value", () => {
  const writer = new DataWriter();
  const cases: [() => void, ErrorConstructor, string][] = [
    [
      () => writer.writeByte(256),
      RangeError,
      'Cannot writeByte(): "value" must be an integer from 0 to 255, got 256',
    ],
    [
      () => writer.writeByte(-1),
      RangeError,
      'Cannot writeByte(): "value" must be an integer from 0 to 255, got -1',
    ],
    [
      () => writer.writeByte(1.5),
      RangeError,
      'Cannot writeByte(): "value" must be an integer from 0 to 255, got 1.5',
    ],
    [
      () => writer.writeByte(NaN),
      RangeError,
      'Cannot writeByte(): "value" must be an integer from 0 to 255, got NaN',
    ],
    [
      () => writer.writeByte("1" as unknown as number),
      TypeError,
      'Cannot writeByte(): "value" must be an integer from 0 to 255, got "1"',
    ],
    [
      () => writer.writeInt16(32768),
      RangeError,
      'Cannot writeInt16(): "value" must be an integer from -32768 to 32767, got 32768',
    ],
    [
      () => writer.writeInt16(-32769),
      RangeError,
      'Cannot writeInt16(): "value" must be an integer from -32768 to 32767, got -32769',
    ],
    [
      () => writer.writeUInt16(65536),
      RangeError,
      'Cannot writeUInt16(): "value" must be an integer from 0 to 65535, got 65536',
    ],
    [
      () => writer.writeInt32(2 ** 31),
      RangeError,
      'Cannot writeInt32(): "value" must be an integer from -2147483648 to 2147483647, got 2147483648',
    ],
    [
      () => writer.writeInt32(Infinity),
      RangeError,
      'Cannot writeInt32(): "value" must be an integer from -2147483648 to 2147483647, got Infinity',
    ],
    [
      () => writer.writeUInt32(-1),
      RangeError,
      'Cannot writeUInt32(): "value" must be an integer from 0 to 4294967295, got -1',
    ],
    [
      () => writer.writeUInt32(2 ** 32),
      RangeError,
      'Cannot writeUInt32(): "value" must be an integer from 0 to 4294967295, got 4294967296',
    ],
    [
      () => writer.writeUInt32(null as unknown as number),
      TypeError,
      'Cannot writeUInt32(): "value" must be an integer from 0 to 4294967295, got null',
    ],
    [
      () => writer.writeUInt32(1n as unknown as number),
      TypeError,
      'Cannot writeUInt32(): "value" must be an integer from 0 to 4294967295, got 1n',
    ],
    [
      () => writer.writeInt64(2n ** 63n),
      RangeError,
      'Cannot writeInt64(): "value" must be a bigint from -9223372036854775808n to 9223372036854775807n or a safe integer, got 9223372036854775808n',
    ],
    [
      () => writer.writeInt64(2 ** 53),
      RangeError,
      'Cannot writeInt64(): "value" must be a bigint from -9223372036854775808n to 9223372036854775807n or a safe integer, got 9007199254740992',
    ],
    [
      () => writer.writeInt64("1" as unknown as bigint),
      TypeError,
      'Cannot writeInt64(): "value" must be a bigint from -9223372036854775808n to 9223372036854775807n or a safe integer, got "1"',
    ],
    [
      () => writer.writeUInt64(-1n),
      RangeError,
      'Cannot writeUInt64(): "value" must be a bigint from 0n to 18446744073709551615n or a safe integer, got -1n',
    ],
    [
      () => writer.writeUInt64(-1),
      RangeError,
      'Cannot writeUInt64(): "value" must be a bigint from 0n to 18446744073709551615n or a safe integer, got -1',
    ],
    [
      () => writer.writeUInt64(2n ** 64n),
      RangeError,
      'Cannot writeUInt64(): "value" must be a bigint from 0n to 18446744073709551615n or a safe integer, got 18446744073709551616n',
    ],
    [
      () => writer.writeSingle("1" as unknown as number),
      TypeError,
      'Cannot writeSingle(): "value" must be a number, got "1"',
    ],
    [
      () => writer.writeDouble(undefined as unknown as number),
      TypeError,
      'Cannot writeDouble(): "value" must be a number, got undefined',
    ],
    [
      () => writer.writeBoolean(1 as unknown as boolean),
      TypeError,
      'Cannot writeBoolean(): "value" must be a boolean, got 1',
    ],
  ];
  for (const [write, type, message] of cases) {
    assert.throws(write, (error: unknown) => {
      assert.ok(error instanceof type, `${message}: got ${error}`);
      assert.equal((error as Error).message, message);
      return true;
    });
  }
  assert.equal(writer.unstoredBufferLength, 0, "failed writes write nothing");
});

Deno.test("DataWriter integer writes accept both ends of their range and -0", () => {
  const writer = new DataWriter();
  writer.writeByte(0);
  writer.writeByte(255);
  writer.writeInt16(-32768);
  writer.writeInt16(32767);
  writer.writeUInt16(65535);
  writer.writeInt32(-2147483648);
  writer.writeUInt32(4294967295);
  writer.writeUInt32(-0);
  writer.writeInt64(Number.MIN_SAFE_INTEGER);
  writer.writeUInt64(0);
  assert.equal(
    writer.unstoredBufferLength,
    1 + 1 + 2 + 2 + 2 + 4 + 4 + 4 + 8 + 8,
  );
});

Deno.test("DataWriter.writeString() and measureString() reject lone surrogates", () => {
  for (
    const encoding of [
      UnicodeEncoding.Utf8,
      UnicodeEncoding.Utf16LE,
      UnicodeEncoding.Utf16BE,
    ]
  ) {
    const writer = new DataWriter();
    writer.unicodeEncoding = encoding;
    for (
      const text of [
        "\ud800",
        "a\udc00b",
        "x\ud83d",
        "\ud83d" + "y".repeat(100),
      ]
    ) {
      assert.throws(
        () => writer.writeString(text),
        /Cannot writeString\(\): "value" must be a well-formed string, got one with a lone surrogate/,
      );
      assert.throws(
        () => writer.measureString(text),
        /Cannot measureString\(\): "value" must be a well-formed string/,
      );
    }
    assert.equal(writer.unstoredBufferLength, 0);
    assert.throws(
      () => writer.writeString(1 as unknown as string),
      new TypeError('Cannot writeString(): "value" must be a string, got 1'),
    );
  }
});

Deno.test("DataWriter.measureString() matches what writeString() writes", () => {
  const texts = [
    "",
    "ascii",
    "é",
    "€",
    "𝄞",
    "🎉🎉",
    "日本語".repeat(40),
    "mixed ü € 😀 " + "a".repeat(100),
    "\u07ff\u0800\uffff",
  ];
  for (
    const encoding of [
      UnicodeEncoding.Utf8,
      UnicodeEncoding.Utf16LE,
      UnicodeEncoding.Utf16BE,
    ]
  ) {
    for (const text of texts) {
      const writer = new DataWriter();
      writer.unicodeEncoding = encoding;
      const measured = writer.measureString(text);
      assert.equal(writer.writeString(text), measured);
      const bytes = writer.detachBuffer();
      assert.equal(
        bytes.length,
        encoding === UnicodeEncoding.Utf8 ? measured : measured * 2,
      );
      if (encoding === UnicodeEncoding.Utf8) {
        assert.deepEqual(bytes, new TextEncoder().encode(text));
      }
    }
  }
});

Deno.test("DataWriter.writeString() encodes long strings that need the buffer to grow", () => {
  const writer = new DataWriter();
  writer.writeByte(0);
  const text = "€".repeat(5000) + "abc".repeat(10_000);
  assert.equal(writer.writeString(text), 15_000 + 30_000);
  const bytes = writer.detachBuffer();
  assert.deepEqual(bytes.subarray(1), new TextEncoder().encode(text));
});

Deno.test("DataWriter.writeBuffer() validates start and count", () => {
  const writer = new DataWriter();
  const bytes = new Uint8Array([1, 2, 3]);
  writer.writeBuffer(bytes);
  writer.writeBuffer(bytes, 2);
  writer.writeBuffer(bytes, 3, 0);
  assert.deepEqual(writer.detachBuffer(), new Uint8Array([1, 2, 3, 3]));
  assert.throws(
    () => writer.writeBuffer(bytes, 4),
    new RangeError(
      'Cannot writeBuffer(): "start" must be an integer from 0 to 3, got 4',
    ),
  );
  assert.throws(
    () => writer.writeBuffer(bytes, 1, 3),
    new RangeError(
      'Cannot writeBuffer(): "count" must be an integer from 0 to 2, got 3',
    ),
  );
  assert.throws(
    () => writer.writeBytes([1] as unknown as Uint8Array),
    new TypeError(
      'Cannot writeBytes(): "bytes" must be a Uint8Array, got Array',
    ),
  );
});

Deno.test("DataWriter.writeDateTime() validates its date", () => {
  const writer = new DataWriter();
  assert.throws(
    () => writer.writeDateTime(new Date(NaN)),
    new RangeError(
      'Cannot writeDateTime(): "value" must be a valid Date, got Invalid Date',
    ),
  );
  assert.throws(
    () => writer.writeDateTime(new Date("+030828-09-14T02:48:05.478Z")),
    /Cannot writeDateTime\(\): "value" must be a Date within the 64-bit tick range/,
  );
  assert.throws(
    () => writer.writeDateTime(0 as unknown as Date),
    new TypeError('Cannot writeDateTime(): "value" must be a Date, got 0'),
  );
  assert.equal(writer.unstoredBufferLength, 0);
});

Deno.test("DataWriter.writeTimeSpan() and writeTimeSpanTicks() validate their duration", () => {
  const writer = new DataWriter();
  assert.throws(() => writer.writeTimeSpan(Infinity), RangeError);
  assert.throws(() => writer.writeTimeSpan(NaN), RangeError);
  assert.throws(() => writer.writeTimeSpan(2 ** 63 / 10000), RangeError);
  assert.throws(
    () => writer.writeTimeSpan("1" as unknown as number),
    TypeError,
  );
  assert.throws(() => writer.writeTimeSpanTicks(2n ** 63n), RangeError);
  assert.throws(
    () => writer.writeTimeSpanTicks(1 as unknown as bigint),
    TypeError,
  );
  assert.equal(writer.unstoredBufferLength, 0);
});

Deno.test("DataWriter.writeGuid() rejects malformed GUIDs", () => {
  const writer = new DataWriter();
  for (
    const guid of [
      "",
      "00112233445566778899aabbccddeeff",
      "00112233-4455-6677-8899-aabbccddeefg",
      "{00112233-4455-6677-8899-aabbccddeeff",
      42,
    ]
  ) {
    assert.throws(
      () => writer.writeGuid(guid as string),
      /Cannot writeGuid\(\): "guid" must be a GUID like "00112233-4455-6677-8899-aabbccddeeff", got/,
    );
  }
  assert.equal(writer.unstoredBufferLength, 0);
});

Deno.test("DataWriter property setters reject unknown values", () => {
  const writer = new DataWriter();
  assert.equal(writer.byteOrder, ByteOrder.BigEndian);
  assert.equal(writer.unicodeEncoding, UnicodeEncoding.Utf8);
  assert.throws(
    () => writer.byteOrder = "big" as unknown as ByteOrder,
    new RangeError(
      'Cannot set DataWriter.byteOrder: "byteOrder" must be ByteOrder.BigEndian (1) or ByteOrder.LittleEndian (0), got "big"',
    ),
  );
  assert.throws(
    () => writer.unicodeEncoding = 3 as UnicodeEncoding,
    RangeError,
  );
});
