import assert from "node:assert/strict";
import { ByteOrder } from "../lib/byte_order.ts";
import { DataReader } from "../lib/data_reader.ts";
import { DataWriter } from "../lib/data_writer.ts";
import { type InputStream, InputStreamOptions } from "../lib/input_stream.ts";
import { UnicodeEncoding } from "../lib/unicode_encoding.ts";
import { SocketError, SocketErrorStatus } from "../lib/socket_error.ts";
import {
  connectedPair,
  EVERY_INPUT_STREAM_OPTION,
  runDeno,
  within,
} from "./_helpers.ts";
import { Random } from "../lib/_random.ts";

type Piece = Uint8Array | Error;

/**
 * An input stream that hands out scripted pieces: each read returns bytes
 * from the current piece only (at most `count`), an Error piece rejects, and
 * after the last piece it reports the end of the stream.
 */
class ScriptedStream implements InputStream {
  readonly calls: { count: number; options: InputStreamOptions }[] = [];
  #pieces: Piece[];
  #offset = 0;

  constructor(pieces: Piece[]) {
    this.#pieces = pieces;
  }

  readAsync(
    buffer: Uint8Array,
    count = buffer.length,
    options: InputStreamOptions = InputStreamOptions.None,
  ): Promise<number> {
    this.calls.push({ count, options });
    assert.ok(count <= buffer.length, "count must fit in the buffer");
    const piece = this.#pieces[0];
    if (piece === undefined) return Promise.resolve(0);
    if (piece instanceof Error) {
      this.#pieces.shift();
      return Promise.reject(piece);
    }
    const n = Math.min(count, piece.length - this.#offset);
    buffer.set(piece.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    if (this.#offset === piece.length) {
      this.#pieces.shift();
      this.#offset = 0;
    }
    return Promise.resolve(n);
  }
}

function oneByteAtATime(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (b) => new Uint8Array([b]));
}

function frames(...texts: string[]): Uint8Array {
  const writer = new DataWriter();
  for (const text of texts) {
    writer.writeUInt32(writer.measureString(text));
    writer.writeString(text);
  }
  return writer.detachBuffer();
}

/** Reads frames as the framed echo does, whatever the load options. */
async function readFrames(reader: DataReader): Promise<string[]> {
  const texts: string[] = [];
  while (true) {
    while (reader.unconsumedBufferLength < 4) {
      const n = await reader.loadAsync(4 - reader.unconsumedBufferLength);
      if (n === 0) return texts;
    }
    const length = reader.readUInt32();
    while (reader.unconsumedBufferLength < length) {
      const n = await reader.loadAsync(length - reader.unconsumedBufferLength);
      assert.notEqual(n, 0, "stream ended inside a frame");
    }
    texts.push(reader.readString(length));
  }
}

Deno.test("DataReader.loadAsync() with None waits until count bytes arrived", async () => {
  const stream = new ScriptedStream(
    oneByteAtATime(new Uint8Array([1, 2, 3, 4, 5])),
  );
  const reader = new DataReader(stream);
  assert.equal(reader.inputStreamOptions, InputStreamOptions.None);
  assert.equal(await reader.loadAsync(4), 4);
  assert.equal(stream.calls.length, 4);
  assert.deepEqual(stream.calls.map((c) => c.count), [4, 3, 2, 1]);
  assert.equal(reader.unconsumedBufferLength, 4);
  assert.equal(reader.readUInt32(), 0x01020304);
});

Deno.test("DataReader.loadAsync() with Partial returns as soon as some bytes arrived", async () => {
  const stream = new ScriptedStream([
    new Uint8Array([1]),
    new Uint8Array([2, 3, 4]),
  ]);
  const reader = new DataReader(stream);
  reader.inputStreamOptions = InputStreamOptions.Partial;
  assert.equal(await reader.loadAsync(4), 1);
  assert.deepEqual(stream.calls, [{
    count: 4,
    options: InputStreamOptions.Partial,
  }]);
  assert.equal(await reader.loadAsync(3), 3);
  assert.equal(reader.readUInt32(), 0x01020304);
});

Deno.test("DataReader.loadAsync() with ReadAhead reads more than asked into the free space", async () => {
  const stream = new ScriptedStream([new Uint8Array(100).fill(7)]);
  const reader = new DataReader(stream);
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  assert.equal(await reader.loadAsync(2), 100);
  assert.equal(stream.calls.length, 1);
  assert.ok(stream.calls[0]!.count >= 4096, `asked ${stream.calls[0]!.count}`);
  assert.equal(reader.unconsumedBufferLength, 100);
});

Deno.test("DataReader.loadAsync() with ReadAhead alone waits for count bytes, each read filling the free space", async () => {
  const stream = new ScriptedStream([
    new Uint8Array([1]),
    new Uint8Array([2, 3]),
    new Uint8Array([4, 5, 6, 7, 8, 9]),
  ]);
  const reader = new DataReader(stream);
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  // Three reads, each asking for all the free space, until 4 bytes came;
  // the last one brought 5 more, which the next load takes without a read.
  assert.equal(await reader.loadAsync(4), 9);
  assert.equal(stream.calls.length, 3);
  for (const call of stream.calls) {
    assert.equal(call.options, InputStreamOptions.Partial);
  }
  assert.ok(stream.calls[0]!.count >= 4096, `asked ${stream.calls[0]!.count}`);
  assert.equal(stream.calls[1]!.count, stream.calls[0]!.count - 1);
  assert.equal(reader.readUInt32(), 0x01020304);
  assert.equal(reader.unconsumedBufferLength, 5);
  // At the end of the stream it resolves with what it got.
  assert.equal(await reader.loadAsync(4), 0);
  assert.equal(reader.readByte(), 5);
});

Deno.test("DataReader.loadAsync() with Partial | ReadAhead completes with the first read, as many bytes as fit", async () => {
  const stream = new ScriptedStream([
    new Uint8Array([1]),
    new Uint8Array(5000).fill(2),
  ]);
  const reader = new DataReader(stream);
  reader.inputStreamOptions = InputStreamOptions.Partial |
    InputStreamOptions.ReadAhead;
  assert.equal(await reader.loadAsync(4), 1);
  assert.ok(stream.calls[0]!.count >= 4096, `asked ${stream.calls[0]!.count}`);
  // More than asked: all the free space after the byte the buffer holds.
  const free = stream.calls[0]!.count - 1;
  assert.equal(await reader.loadAsync(4000), free);
  assert.equal(stream.calls.length, 2);
  assert.equal(stream.calls[1]!.count, free);
  assert.equal(reader.unconsumedBufferLength, 1 + free);
});

Deno.test("DataReader.loadAsync() with ReadAhead keeps the bytes of the reads before a failure, and can load again", async () => {
  const failure = new Error("connection reset");
  const stream = new ScriptedStream([
    new Uint8Array([1, 2]),
    failure,
    new Uint8Array([3, 4]),
  ]);
  const reader = new DataReader(stream);
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  await assert.rejects(reader.loadAsync(4), (e) => e === failure);
  assert.equal(reader.unconsumedBufferLength, 2);
  assert.equal(await reader.loadAsync(2), 2);
  assert.equal(reader.readUInt32(), 0x01020304);
});

Deno.test("DataReader.loadAsync() with ReadAhead over a million one-byte reads needs no more memory than None (in a process of its own, with a 32 MB heap)", async () => {
  // A peer trickling a large frame a byte at a time: a load of that many
  // reads must not hold a promise per read until the last one comes.
  const module = JSON.stringify(import.meta.resolve("../lib/data_reader.ts"));
  const script = `
    import { DataReader } from ${module};
    const count = 1_000_000;
    for (const options of [0, 2]) {
      const reader = new DataReader({
        readAsync(buffer) {
          buffer[0] = 7;
          return Promise.resolve(1);
        },
      });
      reader.inputStreamOptions = options;
      const loaded = await reader.loadAsync(count);
      if (loaded !== count) throw new Error("loaded " + loaded);
      console.log("options " + options + ": " + loaded);
    }
  `;
  const output = await runDeno([
    "eval",
    "--v8-flags=--max-old-space-size=32",
    script,
  ]);
  assert.equal(
    output.stdout,
    "options 0: 1000000\noptions 2: 1000000\n",
    output.stderr.slice(0, 500),
  );
  assert.equal(output.code, 0);
});

Deno.test("DataReader.loadAsync() with ReadAhead aborted between two reads rejects and keeps what it loaded", async () => {
  await using pair = await connectedPair();
  const reader = new DataReader(pair.client.inputStream);
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  const controller = new AbortController();
  const load = reader.loadAsync(4, { signal: controller.signal });
  await pair.server.outputStream.writeAsync(new Uint8Array([1, 2]));
  // Wait until the first read brought its 2 bytes and the second waits.
  for (let i = 0; i < 200 && reader.unconsumedBufferLength < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  controller.abort();
  await assert.rejects(
    load,
    (e) => SocketError.getStatus(e) === SocketErrorStatus.OperationAborted,
  );
  assert.equal(reader.unconsumedBufferLength, 2);
  await pair.server.outputStream.writeAsync(new Uint8Array([3, 4]));
  assert.equal(await within(reader.loadAsync(2), 5_000, "the load"), 2);
  assert.equal(reader.readUInt32(), 0x01020304);
});

Deno.test("DataReader.loadAsync() returns the partial count, then 0, at the end of the stream", async () => {
  for (const options of EVERY_INPUT_STREAM_OPTION) {
    const reader = new DataReader(new ScriptedStream([new Uint8Array([1, 2])]));
    reader.inputStreamOptions = options;
    assert.equal(await reader.loadAsync(4), 2);
    assert.equal(await reader.loadAsync(4), 0);
    assert.equal(await reader.loadAsync(4), 0);
    assert.equal(reader.unconsumedBufferLength, 2);
    assert.equal(reader.readUInt16(), 0x0102);
  }
});

Deno.test("DataReader.loadAsync(0) resolves with 0 without reading", async () => {
  const stream = new ScriptedStream([new Uint8Array([1])]);
  const reader = new DataReader(stream);
  assert.equal(await reader.loadAsync(0), 0);
  assert.equal(stream.calls.length, 0);
});

Deno.test("DataReader reads many frames delivered in one chunk", async () => {
  const texts = ["Hello, World!", "", "héllo wörld", "🎉 𝄞 日本"];
  for (const options of EVERY_INPUT_STREAM_OPTION) {
    const stream = new ScriptedStream([frames(...texts)]);
    const reader = new DataReader(stream);
    reader.inputStreamOptions = options;
    assert.deepEqual(await readFrames(reader), texts);
    if (options === InputStreamOptions.ReadAhead) {
      // One read fetched everything; the last one saw the end.
      assert.equal(stream.calls.length, 2);
    }
  }
});

Deno.test("DataReader reads a frame split one byte at a time", async () => {
  const text = "Hello, wörld! 👋";
  for (const options of EVERY_INPUT_STREAM_OPTION) {
    const reader = new DataReader(
      new ScriptedStream(oneByteAtATime(frames(text, text))),
    );
    reader.inputStreamOptions = options;
    assert.deepEqual(await readFrames(reader), [text, text]);
  }
});

Deno.test("DataReader.loadAsync(4) then loadAsync(length) follows the framed echo protocol", async () => {
  const reader = new DataReader(
    new ScriptedStream(oneByteAtATime(frames("ça va?"))),
  );
  assert.equal(await reader.loadAsync(4), 4);
  const length = reader.readUInt32();
  assert.equal(length, 7);
  assert.equal(await reader.loadAsync(length), 7);
  assert.equal(reader.readString(length), "ça va?");
  assert.equal(await reader.loadAsync(4), 0);
});

Deno.test("DataReader.loadAsync() rejects with the stream's error and keeps the bytes loaded before it", async () => {
  const failure = new Error("connection reset");
  const reader = new DataReader(
    new ScriptedStream([new Uint8Array([1]), failure]),
  );
  await assert.rejects(reader.loadAsync(4), (error) => error === failure);
  assert.equal(reader.unconsumedBufferLength, 1);
  assert.equal(reader.readByte(), 1);
  // The reader is not stuck in the loading state after a failure.
  assert.equal(await reader.loadAsync(1), 0);
});

Deno.test("DataReader.loadAsync() rejects when the stream reports more bytes than asked", async () => {
  const reader = new DataReader({ readAsync: () => Promise.resolve(10) });
  await assert.rejects(
    reader.loadAsync(4),
    new RangeError(
      "Cannot load: the input stream's readAsync() must resolve with an integer from 0 to 4 (the bytes asked for), got 10",
    ),
  );
});

Deno.test("DataReader.loadAsync() rejects a second concurrent load", async () => {
  const { promise, resolve } = Promise.withResolvers<number>();
  let target: Uint8Array | undefined;
  const reader = new DataReader({
    readAsync(buffer) {
      target = buffer;
      return promise;
    },
  });
  const first = reader.loadAsync(2);
  await assert.rejects(
    reader.loadAsync(2),
    (error) =>
      error instanceof TypeError &&
      /Cannot load: another loadAsync\(\) is pending/.test(error.message),
  );
  assert.throws(() => reader.detachStream(), /while loadAsync\(\) is pending/);
  target!.set([0xab, 0xcd]);
  resolve(2);
  assert.equal(await first, 2);
  assert.equal(reader.readUInt16(), 0xabcd);
});

Deno.test("DataReader.loadAsync() validates count", async () => {
  const reader = new DataReader(new ScriptedStream([]));
  await assert.rejects(
    reader.loadAsync(-1),
    new RangeError(
      'Cannot loadAsync(): "count" must be a non-negative integer, got -1',
    ),
  );
  await assert.rejects(
    reader.loadAsync(1.5),
    new RangeError(
      'Cannot loadAsync(): "count" must be a non-negative integer, got 1.5',
    ),
  );
  await assert.rejects(
    reader.loadAsync("4" as unknown as number),
    new TypeError(
      'Cannot loadAsync(): "count" must be a non-negative integer, got "4"',
    ),
  );
});

Deno.test("DataReader compacts and grows its buffer across loads", async () => {
  const big = new Uint8Array(10_000).map((_, i) => i & 0xff);
  const pieces = [new Uint8Array([1, 2, 3]), big, new Uint8Array([4, 5])];
  const reader = new DataReader(new ScriptedStream(pieces));
  assert.equal(await reader.loadAsync(3), 3);
  reader.readByte();
  assert.equal(await reader.loadAsync(10_000), 10_000);
  assert.equal(reader.unconsumedBufferLength, 10_002);
  assert.equal(reader.readUInt16(), 0x0203);
  assert.deepEqual(reader.readBytes(10_000), big);
  assert.equal(await reader.loadAsync(2), 2);
  assert.equal(reader.readUInt16(), 0x0405);
  // Offsets in errors count every byte consumed since the start.
  assert.throws(() => reader.readByte(), /at offset 10005:/);
});

Deno.test("DataReader reuses its buffer after everything was consumed", async () => {
  const pieces = Array.from(
    { length: 1000 },
    (_, i) => new Uint8Array([i & 0xff, 0, 0, 0]),
  );
  const targets = new Set<ArrayBufferLike>();
  const stream = new ScriptedStream(pieces);
  const reader = new DataReader({
    readAsync(buffer, count, options) {
      targets.add(buffer.buffer);
      return stream.readAsync(buffer, count, options);
    },
  });
  for (let i = 0; i < 1000; i++) {
    assert.equal(await reader.loadAsync(4), 4);
    assert.equal(reader.readUInt32(), ((i & 0xff) << 24) >>> 0);
  }
  assert.equal(targets.size, 1);
});

Deno.test("DataReader read methods throw a RangeError naming the method, size and what remains", () => {
  const reader = DataReader.fromBuffer(new Uint8Array([1, 2]));
  assert.throws(
    () => reader.readUInt32(),
    new RangeError(
      "Cannot read 4 bytes with readUInt32() at offset 0: only 2 bytes are loaded; call loadAsync(2) first",
    ),
  );
  reader.readByte();
  assert.throws(
    () => reader.readDouble(),
    new RangeError(
      "Cannot read 8 bytes with readDouble() at offset 1: only 1 byte is loaded; call loadAsync(7) first",
    ),
  );
  reader.readByte();
  assert.throws(
    () => reader.readByte(),
    new RangeError(
      "Cannot read 1 byte with readByte() at offset 2: only 0 bytes are loaded; call loadAsync(1) first",
    ),
  );
  const checks: [string, () => unknown, number][] = [
    ["readBoolean", () => reader.readBoolean(), 1],
    ["readInt16", () => reader.readInt16(), 2],
    ["readUInt16", () => reader.readUInt16(), 2],
    ["readInt32", () => reader.readInt32(), 4],
    ["readInt64", () => reader.readInt64(), 8],
    ["readUInt64", () => reader.readUInt64(), 8],
    ["readSingle", () => reader.readSingle(), 4],
    ["readDateTime", () => reader.readDateTime(), 8],
    ["readTimeSpan", () => reader.readTimeSpan(), 8],
    ["readTimeSpanTicks", () => reader.readTimeSpanTicks(), 8],
    ["readGuid", () => reader.readGuid(), 16],
    ["readBytes", () => reader.readBytes(3), 3],
    ["readBytes", () => reader.readBytes(new Uint8Array(3)), 3],
    ["readBuffer", () => reader.readBuffer(3), 3],
    ["readString", () => reader.readString(3), 3],
  ];
  for (const [method, read, size] of checks) {
    assert.throws(
      read,
      new RangeError(
        `Cannot read ${size} ${
          size === 1 ? "byte" : "bytes"
        } with ${method}() at offset 2: only 0 bytes are loaded; call loadAsync(${size}) first`,
      ),
    );
  }
});

Deno.test("DataReader.readString() with UTF-16 counts 16-bit code units", () => {
  const reader = DataReader.fromBuffer(
    new Uint8Array([0, 0x41, 0xd8, 0x34, 0xdd, 0x1e]),
  );
  reader.unicodeEncoding = UnicodeEncoding.Utf16BE;
  assert.throws(
    () => reader.readString(4),
    /Cannot read 8 bytes with readString\(\)/,
  );
  assert.equal(reader.readString(3), "A𝄞");
});

Deno.test("DataReader.readString() throws a TypeError on invalid UTF-8 and consumes nothing", () => {
  const invalid = [
    [0xff],
    [0xc3], // truncated two-byte sequence
    [0xe2, 0x82], // truncated three-byte sequence
    [0xc0, 0x80], // overlong NUL
    [0xed, 0xa0, 0x80], // encoded surrogate
    [0x80],
  ];
  for (const bytes of invalid) {
    const reader = DataReader.fromBuffer(new Uint8Array([...bytes, 0x41]));
    assert.throws(
      () => reader.readString(bytes.length),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message ===
          `Cannot read a string with readString(${bytes.length}) at offset 0: the ${bytes.length} bytes are not valid UTF-8; nothing was consumed`,
    );
    assert.equal(reader.unconsumedBufferLength, bytes.length + 1);
  }
  // Splitting a valid sequence is invalid too: counts are in bytes.
  const split = DataReader.fromBuffer(new TextEncoder().encode("é"));
  assert.throws(() => split.readString(1), TypeError);
  assert.equal(split.readString(2), "é");
});

Deno.test("DataReader.readString() throws a TypeError on a lone UTF-16 surrogate and consumes nothing", () => {
  const cases: [UnicodeEncoding, number[]][] = [
    [UnicodeEncoding.Utf16LE, [0x00, 0xd8, 0x41, 0x00]], // high then 'A'
    [UnicodeEncoding.Utf16LE, [0x00, 0xdc]], // lone low
    [UnicodeEncoding.Utf16LE, [0x00, 0xd8]], // high at the end
    [UnicodeEncoding.Utf16BE, [0xd8, 0x00, 0x00, 0x41]],
    [UnicodeEncoding.Utf16BE, [0xdc, 0x00]],
  ];
  for (const [encoding, bytes] of cases) {
    const reader = DataReader.fromBuffer(new Uint8Array(bytes));
    reader.unicodeEncoding = encoding;
    assert.throws(
      () => reader.readString(bytes.length / 2),
      /are not valid UTF-16(LE|BE); nothing was consumed/,
    );
    assert.equal(reader.unconsumedBufferLength, bytes.length);
  }
});

Deno.test("DataReader.readString() keeps a leading byte order mark", () => {
  const reader = DataReader.fromBuffer(
    new Uint8Array([0xef, 0xbb, 0xbf, 0x41]),
  );
  assert.equal(reader.readString(4), "\uFEFFA");
});

Deno.test("DataReader.readBytes() and readBuffer() return copies the reader never touches again", async () => {
  const reader = new DataReader(
    new ScriptedStream([
      new Uint8Array([1, 2, 3, 4]),
      new Uint8Array([5, 6, 7, 8]),
    ]),
  );
  await reader.loadAsync(4);
  const a = reader.readBytes(2);
  const b = reader.readBuffer(2);
  await reader.loadAsync(4);
  assert.deepEqual(a, new Uint8Array([1, 2]));
  assert.deepEqual(b, new Uint8Array([3, 4]));
  const target = new Uint8Array(4);
  reader.readBytes(target);
  assert.deepEqual(target, new Uint8Array([5, 6, 7, 8]));
  assert.throws(
    () => reader.readBytes(-1),
    new RangeError(
      'Cannot readBytes(): "length" must be a non-negative integer, got -1',
    ),
  );
});

Deno.test("DataReader.readView() hands out the next bytes in place, consumed, without a copy", async () => {
  const reader = new DataReader(
    new ScriptedStream([new Uint8Array([0, 0, 0, 3, 7, 8, 9, 1])]),
  );
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  await reader.loadAsync(4);
  const length = reader.readUInt32();
  const view = reader.readView(length);
  assert.deepEqual(view, new Uint8Array([7, 8, 9]));
  // A view of the reader's own buffer, not a copy: the next view starts
  // where it ends, which no aligned copy does.
  const next = reader.readView(1);
  assert.equal(view.buffer, next.buffer);
  assert.equal(view.byteOffset, 4);
  assert.equal(next.byteOffset, view.byteOffset + 3);
  assert.equal(reader.unconsumedBufferLength, 0);
  assert.deepEqual(reader.readView(0), new Uint8Array(0));
  assert.throws(
    () => reader.readView(1),
    new RangeError(
      "Cannot read 1 byte with readView() at offset 8: only 0 bytes are loaded; call loadAsync(1) first",
    ),
  );
  assert.throws(
    () => reader.readView(1.5),
    new RangeError(
      'Cannot readView(): "length" must be a non-negative integer, got 1.5',
    ),
  );
});

Deno.test("DataReader.loadAsync() rejects when the stream's readAsync throws, and the reader loads again afterwards", async () => {
  let calls = 0;
  const stream: InputStream = {
    readAsync(buffer: Uint8Array): Promise<number> {
      if (calls++ === 0) throw new Error("no read today");
      buffer[0] = 42;
      return Promise.resolve(1);
    },
  };
  const reader = new DataReader(stream);
  reader.inputStreamOptions = InputStreamOptions.Partial;
  await assert.rejects(reader.loadAsync(1), new Error("no read today"));
  assert.equal(await reader.loadAsync(1), 1);
  assert.equal(reader.readByte(), 42);
});

Deno.test("DataReader.loadAsync() rejects, and loads again afterwards, when readAsync returns no promise", async () => {
  // A JavaScript stream may return a plain value; loadAsync awaited it
  // before, so a number loads and anything else rejects, and neither may
  // throw synchronously or leave the reader "pending" for good.
  const results: unknown[] = [undefined, 1];
  const stream = {
    readAsync(buffer: Uint8Array): Promise<number> {
      buffer[0] = 42;
      return results.shift() as Promise<number>;
    },
  };
  const reader = new DataReader(stream);
  reader.inputStreamOptions = InputStreamOptions.Partial;
  let loading: Promise<number> | undefined;
  assert.doesNotThrow(() => {
    loading = reader.loadAsync(1);
  });
  await assert.rejects(loading!, RangeError);
  assert.equal(await reader.loadAsync(1), 1);
  assert.equal(reader.readByte(), 42);
});

Deno.test("DataReader.readDateTime() rounds sub-millisecond ticks towards the past", () => {
  const cases: [bigint, string][] = [
    [0n, "1601-01-01T00:00:00.000Z"],
    [1n, "1601-01-01T00:00:00.000Z"],
    [9999n, "1601-01-01T00:00:00.000Z"],
    [-1n, "1600-12-31T23:59:59.999Z"],
    [116444736000000000n, "1970-01-01T00:00:00.000Z"],
    [116444735999999999n, "1969-12-31T23:59:59.999Z"],
    [2n ** 63n - 1n, "+030828-09-14T02:48:05.477Z"],
    [-(2n ** 63n), "-027627-04-19T21:11:54.522Z"],
  ];
  for (const [ticks, iso] of cases) {
    const writer = new DataWriter();
    writer.writeTimeSpanTicks(ticks);
    const reader = DataReader.fromBuffer(writer.detachBuffer());
    assert.equal(reader.readDateTime().toISOString(), iso, `${ticks} ticks`);
  }
});

Deno.test("DataReader.readTimeSpan() returns milliseconds with the sub-millisecond fraction", () => {
  const writer = new DataWriter();
  writer.writeTimeSpanTicks(1n);
  writer.writeTimeSpanTicks(-15_000n);
  const reader = DataReader.fromBuffer(writer.detachBuffer());
  assert.equal(reader.readTimeSpan(), 0.0001);
  assert.equal(reader.readTimeSpan(), -1.5);
});

Deno.test("DataReader.fromBuffer() reads the bytes in place and loadAsync() resolves with 0", async () => {
  const bytes = new Uint8Array([0, 1, 2, 3, 4, 5]).subarray(2);
  const reader = DataReader.fromBuffer(bytes);
  assert.equal(reader.unconsumedBufferLength, 4);
  assert.equal(await reader.loadAsync(4), 0);
  reader.byteOrder = ByteOrder.LittleEndian;
  assert.equal(reader.readUInt32(), 0x05040302);
  assert.equal(reader.detachStream(), undefined);
  assert.throws(
    () => DataReader.fromBuffer([1, 2] as unknown as Uint8Array),
    new TypeError(
      'Cannot fromBuffer(): "bytes" must be a Uint8Array, got Array',
    ),
  );
});

Deno.test("new DataReader() rejects a value that is not an input stream", () => {
  assert.throws(
    () => new DataReader({} as InputStream),
    new TypeError(
      'Cannot create a DataReader: "inputStream" must be an InputStream with readAsync(), got Object',
    ),
  );
});

Deno.test("DataReader property setters reject unknown values", () => {
  const reader = DataReader.fromBuffer(new Uint8Array(0));
  assert.equal(reader.byteOrder, ByteOrder.BigEndian);
  assert.equal(reader.unicodeEncoding, UnicodeEncoding.Utf8);
  assert.throws(() => reader.byteOrder = 2 as ByteOrder, RangeError);
  assert.throws(
    () => reader.unicodeEncoding = 3 as UnicodeEncoding,
    RangeError,
  );
  for (const value of [4, -1, 1.5, NaN]) {
    assert.throws(
      () => reader.inputStreamOptions = value,
      new RangeError(
        `Cannot set DataReader.inputStreamOptions: "inputStreamOptions" must be InputStreamOptions flags (0 to 3), got ${value}`,
      ),
    );
  }
  // The flags combine as in UWP.
  reader.inputStreamOptions = InputStreamOptions.Partial |
    InputStreamOptions.ReadAhead;
  assert.equal(reader.inputStreamOptions, 3);
});

Deno.test("DataReader.detachStream() returns the stream; loaded bytes stay readable, loads reject", async () => {
  const stream = new ScriptedStream([new Uint8Array([1, 2, 3, 4])]);
  const reader = new DataReader(stream);
  await reader.loadAsync(2);
  assert.equal(reader.detachStream(), stream);
  assert.equal(reader.detachStream(), undefined);
  assert.equal(reader.readUInt16(), 0x0102);
  await assert.rejects(
    reader.loadAsync(2),
    new Error("Cannot loadAsync(): the DataReader's stream was detached"),
  );
  // The stream was not consumed beyond what the reader asked for.
  const rest = new Uint8Array(2);
  assert.equal(await stream.readAsync(rest), 2);
  assert.deepEqual(rest, new Uint8Array([3, 4]));
});

Deno.test("DataReader.detachBuffer() hands out the unconsumed bytes and empties the reader", async () => {
  const reader = new DataReader(
    new ScriptedStream([new Uint8Array([1, 2, 3]), new Uint8Array([4])]),
  );
  await reader.loadAsync(3);
  reader.readByte();
  const rest = reader.detachBuffer();
  assert.deepEqual(rest, new Uint8Array([2, 3]));
  assert.equal(reader.unconsumedBufferLength, 0);
  assert.equal(await reader.loadAsync(1), 1);
  assert.equal(reader.readByte(), 4);
  assert.deepEqual(rest, new Uint8Array([2, 3]));
});

Deno.test("DataReader[Symbol.dispose]() makes later calls throw", async () => {
  const reader = new DataReader(
    new ScriptedStream([new Uint8Array([1, 2, 3, 4])]),
  );
  await reader.loadAsync(4);
  reader[Symbol.dispose]();
  assert.throws(
    () => reader.readUInt32(),
    new Error("Cannot readUInt32(): the DataReader is disposed"),
  );
  assert.throws(() => reader.readString(0), /disposed/);
  assert.throws(() => reader.readBytes(0), /disposed/);
  assert.throws(() => reader.detachBuffer(), /disposed/);
  assert.throws(() => reader.detachStream(), /disposed/);
  await assert.rejects(
    reader.loadAsync(1),
    new Error("Cannot loadAsync(): the DataReader is disposed"),
  );
});

Deno.test("DataReader[Symbol.dispose]() during a load makes that load reject", async () => {
  const { promise, resolve } = Promise.withResolvers<number>();
  const reader = new DataReader({ readAsync: () => promise });
  const load = reader.loadAsync(4);
  reader[Symbol.dispose]();
  resolve(4);
  await assert.rejects(load, /the DataReader is disposed/);
});

Deno.test("DataReader.loadAsync() aborted by its signal keeps what it loaded, and the next load gets the rest", async () => {
  await using pair = await connectedPair();
  const reader = new DataReader(pair.client.inputStream);
  const writer = new DataWriter(pair.server.outputStream);
  writer.writeUInt32(5);
  writer.writeString("he");
  await writer.storeAsync();
  const controller = new AbortController();
  const header = await within(reader.loadAsync(4), 5_000, "the header");
  assert.equal(header, 4);
  const length = reader.readUInt32();
  const body = reader.loadAsync(length, { signal: controller.signal });
  await new Promise((resolve) => setTimeout(resolve, 10));
  controller.abort();
  await assert.rejects(
    body,
    (error: unknown) =>
      error instanceof SocketError &&
      error.status === SocketErrorStatus.OperationAborted,
  );
  writer.writeString("llo");
  await writer.storeAsync();
  const loaded = reader.unconsumedBufferLength;
  await within(reader.loadAsync(length - loaded), 5_000, "the rest");
  assert.equal(reader.readString(length), "hello");
});

Deno.test("DataReader.loadAsync() checks its signal", async () => {
  const reader = new DataReader({ readAsync: () => Promise.resolve(0) });
  await assert.rejects(
    reader.loadAsync(1, { signal: {} as AbortSignal }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        'Cannot load: "signal" must be an AbortSignal, got Object',
  );
});

Deno.test("DataReader over a socket reads every frame intact whatever the options and however the bytes are cut", async () => {
  const random = new Random(11);
  const texts = Array.from(
    { length: 300 },
    (_, i) => "x".repeat(random.below(3000)) + i,
  );
  const wire = frames(...texts);
  for (const options of EVERY_INPUT_STREAM_OPTION) {
    await using pair = await connectedPair();
    const sending = (async () => {
      for (let at = 0; at < wire.length;) {
        const n = Math.min(wire.length - at, 1 + random.below(5000));
        await pair.server.outputStream.writeAsync(wire.slice(at, at + n));
        at += n;
      }
      await pair.server.outputStream.flushAsync();
      pair.server.close();
    })();
    const reader = new DataReader(pair.client.inputStream);
    reader.inputStreamOptions = options;
    assert.deepEqual(
      await within(readFrames(reader), 10_000, "the frames"),
      texts,
    );
    await sending;
  }
});

Deno.test("DataReader disposed while a load reads from a socket: the load rejects, and the socket reads on", async () => {
  await using pair = await connectedPair();
  for (
    const options of [
      InputStreamOptions.Partial,
      InputStreamOptions.ReadAhead,
      InputStreamOptions.Partial | InputStreamOptions.ReadAhead,
    ]
  ) {
    const reader = new DataReader(pair.client.inputStream);
    reader.inputStreamOptions = options;
    const load = reader.loadAsync(4);
    reader[Symbol.dispose]();
    await pair.server.outputStream.writeAsync(new Uint8Array([1, 2, 3, 4]));
    await assert.rejects(within(load, 5_000, "the load"), /disposed/);
    // The read the reader started is settled: the socket takes a new one.
    await pair.server.outputStream.writeAsync(new Uint8Array([5]));
    const buffer = new Uint8Array(1);
    assert.equal(
      await within(
        pair.client.inputStream.readAsync(buffer, 1),
        5_000,
        "the next read",
      ),
      1,
    );
    assert.equal(buffer[0], 5);
  }
});
