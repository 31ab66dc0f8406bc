import assert from "node:assert/strict";
import {
  type InputStream,
  InputStreamOptions,
  LineReader,
  SocketError,
  SocketErrorStatus,
} from "../mod.ts";
import { connectedPair, within } from "./_helpers.ts";
import { Random } from "../lib/_random.ts";

const encoder = new TextEncoder();

/** One step of a scripted stream: bytes (or text) to deliver, or an error to throw. */
type Step = Uint8Array | string | Error;

/** An in-memory InputStream that delivers `steps` in order, then the end of the stream. */
interface ScriptedStream extends InputStream {
  /** How many times readAsync was called. */
  reads: number;
  /** The largest backing buffer the reader offered: its real memory use. */
  largestBuffer: number;
}

/** Delivers each step as one read (split only when the reader asks for less), and checks the reader's arguments. */
function scripted(steps: Iterable<Step>): ScriptedStream {
  const iterator = steps[Symbol.iterator]();
  let pending: Uint8Array | undefined;
  const stream: ScriptedStream = {
    reads: 0,
    largestBuffer: 0,
    readAsync(
      buffer: Uint8Array,
      count = buffer.length,
      options: InputStreamOptions = InputStreamOptions.None,
    ): Promise<number> {
      stream.reads++;
      stream.largestBuffer = Math.max(
        stream.largestBuffer,
        buffer.buffer.byteLength,
      );
      assert.ok(
        Number.isInteger(count) && count >= 1 && count <= buffer.length,
        `readAsync called with count ${count} for a buffer of ${buffer.length}`,
      );
      assert.equal(options, InputStreamOptions.Partial);
      if (pending === undefined) {
        const step = iterator.next();
        if (step.done) return Promise.resolve(0);
        if (step.value instanceof Error) return Promise.reject(step.value);
        pending = typeof step.value === "string"
          ? encoder.encode(step.value)
          : step.value;
      }
      const n = Math.min(count, pending.length);
      buffer.set(pending.subarray(0, n));
      pending = n === pending.length ? undefined : pending.subarray(n);
      return Promise.resolve(n);
    },
  };
  return stream;
}

/** Splits `text` into one-byte chunks, cutting multi-byte characters apart. */
function byteByByte(text: string): Uint8Array[] {
  return [...encoder.encode(text)].map((byte) => new Uint8Array([byte]));
}

/** Reads every line until the end of the stream (at most `limit`). */
async function readLines(
  reader: LineReader,
  limit = 100_000,
): Promise<string[]> {
  const lines: string[] = [];
  for (let i = 0; i < limit; i++) {
    const line = await reader.readLine();
    if (line === null) return lines;
    lines.push(line);
  }
  throw new Error(`More than ${limit} lines`);
}

/** Runs `fn`, which must reject, and returns what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: "Expected a rejection" });
}

Deno.test("LineReader.readLine() assembles lines delivered one byte at a time", async () => {
  const stream = scripted(byteByByte("alpha\nbeta\r\n\ngamma\n"));
  const reader = new LineReader(stream);
  assert.deepEqual(await readLines(reader), ["alpha", "beta", "", "gamma"]);
});

Deno.test("LineReader.readLine() returns many lines from one chunk without reading again", async () => {
  const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
  const stream = scripted([lines.join("\n") + "\n"]);
  const reader = new LineReader(stream);
  for (const expected of lines) assert.equal(await reader.readLine(), expected);
  const readsForLines = stream.reads;
  assert.equal(await reader.readLine(), null);
  assert.equal(stream.reads, readsForLines + 1);
});

Deno.test("LineReader.readLine() strips \\r\\n and \\n but keeps a lone \\r inside a line", async () => {
  const reader = new LineReader(scripted(["a\r\nb\nc\rd\n\r\n\r\r\n"]));
  assert.deepEqual(await readLines(reader), ["a", "b", "c\rd", "", "\r"]);
});

Deno.test("LineReader.readLine() handles \\r\\n split across reads", async () => {
  const reader = new LineReader(scripted(["one\r", "\ntwo\r", "\n"]));
  assert.deepEqual(await readLines(reader), ["one", "two"]);
});

Deno.test("LineReader.readLine() returns empty lines as empty strings", async () => {
  const reader = new LineReader(scripted(["\n\n", "\r\n", "x\n\n"]));
  assert.deepEqual(await readLines(reader), ["", "", "", "x", ""]);
});

Deno.test("LineReader.readLine() accepts a line of exactly maxLineLength bytes", async () => {
  const max = 10;
  for (const ending of ["\n", "\r\n"]) {
    const reader = new LineReader(
      scripted(byteByByte(`0123456789${ending}abc${ending}`)),
      { maxLineLength: max },
    );
    assert.deepEqual(await readLines(reader), ["0123456789", "abc"]);
  }
  const whole = new LineReader(scripted(["0123456789\r\n0123456789\n"]), {
    maxLineLength: max,
  });
  assert.deepEqual(await readLines(whole), ["0123456789", "0123456789"]);
});

Deno.test("LineReader.readLine() rejects a line of maxLineLength + 1 bytes with MessageTooLong", async () => {
  const cases = [
    ["one chunk, \\n", ["0123456789a\n"]],
    ["one chunk, \\r\\n", ["0123456789a\r\n"]],
    ["byte by byte", byteByByte("0123456789a\n")],
    ["no newline yet", byteByByte("0123456789abcdef")],
  ] as const;
  for (const [label, steps] of cases) {
    const reader = new LineReader(scripted(steps), { maxLineLength: 10 });
    const error = await rejection(reader.readLine());
    assert.ok(error instanceof SocketError, label);
    assert.equal(error.status, SocketErrorStatus.MessageTooLong, label);
    assert.match(error.message, /longer than 10 bytes/, label);
    assert.match(error.message, /"maxLineLength"/, label);
  }
});

Deno.test("LineReader stops reading a line without end at the limit instead of buffering the stream", async () => {
  // An endless line: the reader must give up after about maxLineLength bytes.
  function* endless(): Generator<Uint8Array> {
    for (let i = 0; i < 10_000; i++) yield new Uint8Array(1000).fill(0x61);
  }
  const stream = scripted(endless());
  const reader = new LineReader(stream, { maxLineLength: 4096 });
  const error = await rejection(reader.readLine());
  assert.ok(SocketError.is(error, SocketErrorStatus.MessageTooLong));
  assert.ok(stream.reads <= 10, `${stream.reads} reads`);
  assert.ok(stream.largestBuffer <= 4096 + 2, `${stream.largestBuffer} bytes`);
});

Deno.test("LineReader grows its buffer only for long lines and compacts it for short ones", async () => {
  // Short lines in odd-sized chunks: the 1 KiB buffer is compacted, never grown.
  const short = "x".repeat(999) + "\n";
  const text = short.repeat(300);
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 777) {
    chunks.push(text.slice(i, i + 777));
  }
  const stream = scripted(chunks);
  const reader = new LineReader(stream);
  const lines = await readLines(reader);
  assert.equal(lines.length, 300);
  assert.ok(lines.every((line) => line.length === 999));
  assert.equal(stream.largestBuffer, 1024);

  // One long line grows it (doubling, up to the limit); later traffic does not grow it further.
  const long = "y".repeat(5000);
  const mixed = scripted([long + "\n", ...chunks]);
  const mixedReader = new LineReader(mixed);
  assert.equal(await mixedReader.readLine(), long);
  assert.equal(mixed.largestBuffer, 8192);
  assert.equal((await readLines(mixedReader)).length, 300);
  assert.equal(mixed.largestBuffer, 8192);

  // Growth stops at maxLineLength + 2 (room for \r\n), not the next power of two.
  const capped = scripted([`${"z".repeat(3000)}\r\n`]);
  const cappedReader = new LineReader(capped, { maxLineLength: 3000 });
  assert.equal(await cappedReader.readLine(), "z".repeat(3000));
  assert.equal(capped.largestBuffer, 3002);
});

Deno.test("LineReader.readLine() rejects invalid UTF-8 with a SocketError carrying the decoder's error", async () => {
  const reader = new LineReader(
    scripted([new Uint8Array([0xff, 0xfe, 0x0a])]),
  );
  const error = await rejection(reader.readLine());
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.Unknown);
  assert.equal(error.message, "Cannot read a line: it is not valid UTF-8");
  assert.ok(error.cause instanceof TypeError);

  // A truncated multi-byte character is invalid too, not silently replaced.
  const truncated = new LineReader(
    scripted([new Uint8Array([0x61, 0xe6, 0xbc, 0x0a])]),
  );
  assert.ok(SocketError.is(await rejection(truncated.readLine()), 0));
});

Deno.test("LineReader.readLine() rejects a stream that ends mid-line with a SocketError", async () => {
  const reader = new LineReader(scripted(["done\n", "half"]));
  assert.equal(await reader.readLine(), "done");
  const error = await rejection(reader.readLine());
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.Unknown);
  assert.equal(
    error.message,
    "Cannot read a line: the stream ended after 4 bytes without a newline",
  );
});

Deno.test("LineReader.readLine() returns null when the stream ends at a line boundary, and again after", async () => {
  const reader = new LineReader(scripted(["a\nb\n"]));
  assert.equal(await reader.readLine(), "a");
  assert.equal(await reader.readLine(), "b");
  assert.equal(await reader.readLine(), null);
  assert.equal(await reader.readLine(), null);
  assert.equal(await new LineReader(scripted([])).readLine(), null);
});

Deno.test("LineReader.readLine() passes errors of the stream through unchanged", async () => {
  const reset = new SocketError("Cannot read from 127.0.0.1:9: reset", {
    status: SocketErrorStatus.ConnectionResetByPeer,
  });
  const reader = new LineReader(scripted(["ok\npart", reset]));
  assert.equal(await reader.readLine(), "ok");
  assert.equal(await rejection(reader.readLine()), reset);
});

Deno.test("LineReader iterates over lines with for await until the end of the stream", async () => {
  const reader = new LineReader(scripted(byteByByte("x\ny\r\n\nz\n")));
  const lines: string[] = [];
  for await (const line of reader) lines.push(line);
  assert.deepEqual(lines, ["x", "y", "", "z"]);
});

Deno.test("LineReader iteration rejects with the SocketError of a failed line", async () => {
  const reader = new LineReader(scripted(["fine\ncut"]));
  const lines: string[] = [];
  const error = await rejection((async () => {
    for await (const line of reader) lines.push(line);
  })());
  assert.deepEqual(lines, ["fine"]);
  assert.ok(error instanceof SocketError);
});

Deno.test("LineReader.detachBuffer() returns the bytes read past the last line and empties the reader", async () => {
  const tail = new Uint8Array([0x00, 0x01, 0xff, 0x0d]);
  const first = new Uint8Array([...encoder.encode("HELLO\r\n"), ...tail]);
  const reader = new LineReader(scripted([first, "next\n"]));
  assert.equal(await reader.readLine(), "HELLO");
  const rest = reader.detachBuffer();
  assert.deepEqual([...rest], [...tail]);
  assert.equal(reader.detachBuffer().length, 0);
  // The reader goes on with what the stream sends next.
  assert.equal(await reader.readLine(), "next");
  assert.equal(await reader.readLine(), null);
});

Deno.test("LineReader.detachBuffer() returns a copy, not a view the reader reuses", async () => {
  const reader = new LineReader(scripted(["a\nbcd", "e\n"]));
  assert.equal(await reader.readLine(), "a");
  const rest = reader.detachBuffer();
  assert.equal(new TextDecoder().decode(rest), "bcd");
  assert.equal(await reader.readLine(), "e");
  assert.equal(new TextDecoder().decode(rest), "bcd");
});

Deno.test("LineReader.readLine() decodes non-ASCII lines split at any byte", async () => {
  const lines = ["é", "漢字", "🎉", "héllo wörld 漢字 🎉", "Ωμέγα"];
  const text = lines.join("\r\n") + "\n";
  const bytes = byteByByte(text);
  assert.deepEqual(await readLines(new LineReader(scripted(bytes))), lines);
  assert.deepEqual(await readLines(new LineReader(scripted([text]))), lines);
  // maxLineLength counts bytes: "漢字" is 6 bytes.
  const error = await rejection(
    new LineReader(scripted(["漢字\n"]), { maxLineLength: 5 }).readLine(),
  );
  assert.ok(SocketError.is(error, SocketErrorStatus.MessageTooLong));
  assert.equal(
    await new LineReader(scripted(["漢字\n"]), { maxLineLength: 6 }).readLine(),
    "漢字",
  );
});

Deno.test("LineReader constructor validates its arguments", () => {
  const input = scripted([]);
  for (const bad of [undefined, null, {}, { readAsync: 1 }, "stream"]) {
    assert.throws(
      () => new LineReader(bad as unknown as InputStream),
      (error: unknown) =>
        error instanceof TypeError && /"input"/.test(error.message),
      String(bad),
    );
  }
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(
      () => new LineReader(input, { maxLineLength: bad }),
      (error: unknown) =>
        error instanceof RangeError && /"maxLineLength"/.test(error.message) &&
        error.message.includes(String(bad)),
      String(bad),
    );
  }
  assert.ok(new LineReader(input, { maxLineLength: 1 }) instanceof LineReader);
  assert.ok(new LineReader(input, {}) instanceof LineReader);
});

Deno.test("LineReader with maxLineLength 1 reads one-byte lines", async () => {
  const reader = new LineReader(scripted(byteByByte("a\r\nb\n\nc\n")), {
    maxLineLength: 1,
  });
  assert.deepEqual(await readLines(reader), ["a", "b", "", "c"]);
});

Deno.test("LineReader.readLine() refuses an overlapping call, and every line still arrives whole and in order (sent a b c d e)", async () => {
  await using pair = await connectedPair();
  const reader = new LineReader(pair.client.inputStream);
  const first = reader.readLine();
  await assert.rejects(
    reader.readLine(),
    (error: unknown) =>
      error instanceof TypeError &&
      /another readLine\(\) is pending/.test(error.message),
  );
  await pair.server.outputStream.writeAsync(encoder.encode("a\nb\nc\nd\ne\n"));
  const lines = [await within(first, 5_000, "the first line")];
  for (let i = 0; i < 4; i++) {
    lines.push((await within(reader.readLine(), 5_000, "a line"))!);
  }
  assert.deepEqual(lines, ["a", "b", "c", "d", "e"]);
});

Deno.test("LineReader.readLine() aborted by its signal loses nothing: the next call returns the line, whole", async () => {
  await using pair = await connectedPair();
  const reader = new LineReader(pair.client.inputStream);
  await pair.server.outputStream.writeAsync(encoder.encode("hel"));
  const controller = new AbortController();
  const waiting = reader.readLine({ signal: controller.signal });
  // Let the reader take "hel" before the abort (the result is the same either way).
  await new Promise((resolve) => setTimeout(resolve, 10));
  controller.abort();
  await assert.rejects(
    waiting,
    (error: unknown) =>
      error instanceof SocketError &&
      error.status === SocketErrorStatus.OperationAborted,
  );
  await pair.server.outputStream.writeAsync(encoder.encode("lo\nworld\n"));
  assert.equal(await within(reader.readLine(), 5_000, "the line"), "hello");
  assert.equal(
    await within(
      reader.readLine({ signal: AbortSignal.timeout(5_000) }),
      5_000,
      "the second line",
    ),
    "world",
  );
});

Deno.test("LineReader.readLine() with AbortSignal.timeout() is an idle deadline: ConnectionTimedOut, then reading goes on", async () => {
  await using pair = await connectedPair();
  const reader = new LineReader(pair.client.inputStream);
  await assert.rejects(
    reader.readLine({ signal: AbortSignal.timeout(20) }),
    (error: unknown) =>
      error instanceof SocketError &&
      error.status === SocketErrorStatus.ConnectionTimedOut,
  );
  await pair.server.outputStream.writeAsync(encoder.encode("late\n"));
  assert.equal(await within(reader.readLine(), 5_000, "the line"), "late");
});

Deno.test("LineReader.lines() iterates under a signal", async () => {
  await using pair = await connectedPair();
  await pair.server.outputStream.writeAsync(encoder.encode("x\ny\n"));
  await pair.server.outputStream.closeAsync();
  const lines = [];
  const reader = new LineReader(pair.client.inputStream);
  for await (
    const line of reader.lines({ signal: AbortSignal.timeout(5_000) })
  ) {
    lines.push(line);
  }
  assert.deepEqual(lines, ["x", "y"]);
});

Deno.test("LineReader.tryReadLine() takes the buffered lines without reading, then returns undefined", async () => {
  const stream = scripted(["a\r\nb\n\nc", "\n"]);
  const reader = new LineReader(stream);
  assert.equal(reader.tryReadLine(), undefined);
  assert.equal(stream.reads, 0);
  assert.equal(await reader.readLine(), "a");
  assert.equal(reader.tryReadLine(), "b");
  assert.equal(reader.tryReadLine(), "");
  assert.equal(reader.tryReadLine(), undefined);
  assert.equal(stream.reads, 1);
  assert.equal(await reader.readLine(), "c");
  assert.equal(await reader.readLine(), null);
});

Deno.test("LineReader.tryReadLine() throws a SocketError for a buffered line of invalid UTF-8", async () => {
  const reader = new LineReader(
    scripted([new Uint8Array([0x6f, 0x6b, 0x0a, 0xff, 0x0a])]),
  );
  assert.equal(await reader.readLine(), "ok");
  assert.throws(
    () => reader.tryReadLine(),
    (e) => SocketError.getStatus(e) === SocketErrorStatus.Unknown,
  );
});

Deno.test("LineReader.tryReadLine() does not take a newline left in the free part of its buffer", async () => {
  // "old\n" fills the buffer first; after it is taken, "new" lands over its
  // start and the stale "\n" must not end the new line.
  const stream = scripted(["old\n", "ne", "w\n"]);
  const reader = new LineReader(stream);
  assert.equal(await reader.readLine(), "old");
  assert.equal(await reader.readLine(), "new");
});

Deno.test("LineReader iteration ends after break and after a failure, like an async generator", async () => {
  const reader = new LineReader(scripted(["1\n2\n3\n"]));
  const iterator = reader[Symbol.asyncIterator]();
  assert.deepEqual(await iterator.next(), { value: "1", done: false });
  assert.deepEqual(await iterator.return!(), { value: undefined, done: true });
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  const failing = new LineReader(scripted(["cut"]))[Symbol.asyncIterator]();
  assert.ok(await rejection(failing.next()) instanceof SocketError);
  assert.deepEqual(await failing.next(), { value: undefined, done: true });
});

Deno.test("LineReader hands out the lines of one chunk decoded together, with the same results as one by one", async () => {
  const text = "ä\r\n\nßx\r\nplain\nrest";
  const reader = new LineReader(scripted([text]));
  assert.equal(await reader.readLine(), "ä");
  assert.equal(reader.tryReadLine(), "");
  assert.equal(await reader.readLine(), "ßx");
  assert.deepEqual(
    new TextDecoder().decode(reader.detachBuffer()),
    "plain\nrest",
  );
  assert.equal(reader.tryReadLine(), undefined);
});

Deno.test("LineReader delivers the valid lines of a chunk before the one with invalid UTF-8", async () => {
  const bytes = new Uint8Array([
    ...encoder.encode("one\ntwo\n"),
    0xc3,
    0x0a,
    ...encoder.encode("three\n"),
  ]);
  const reader = new LineReader(scripted([bytes]));
  assert.equal(await reader.readLine(), "one");
  assert.equal(await reader.readLine(), "two");
  const error = await rejection(reader.readLine());
  assert.equal(SocketError.getStatus(error), SocketErrorStatus.Unknown);
});

Deno.test("LineReader rejects an over-long line among lines decoded together", async () => {
  // The 1 KiB buffer holds both lines and the next.
  const reader = new LineReader(scripted([`ab\n${"x".repeat(1001)}\nx\n`]), {
    maxLineLength: 1000,
  });
  assert.equal(await reader.readLine(), "ab");
  const error = await rejection(reader.readLine());
  assert.equal(SocketError.getStatus(error), SocketErrorStatus.MessageTooLong);
});

Deno.test("LineReader reads lone lines around the short-line length the same way, ASCII or not", async () => {
  const lines = ["x".repeat(63) + "\x7f", "y".repeat(65), "é".repeat(20), ""];
  const reader = new LineReader(scripted(lines.map((line) => `${line}\r\n`)));
  assert.deepEqual(await readLines(reader), lines);
});

Deno.test("LineReader returns the same lines however a random mix of short, long, CRLF and non-ASCII lines is cut into reads (seeded)", async () => {
  const pieces = [
    "PING",
    "",
    "a\rb",
    "é",
    "日本",
    "x".repeat(70),
    "y".repeat(64),
  ];
  for (let seed = 1; seed <= 40; seed++) {
    const random = new Random(seed);
    const lines = Array.from({ length: 60 }, () => {
      let line = "";
      for (let k = random.below(3); k >= 0; k--) {
        line += pieces[random.below(pieces.length)];
      }
      return line;
    });
    const bytes = encoder.encode(
      lines.map((line) => line + (random.below(2) === 0 ? "\n" : "\r\n"))
        .join(""),
    );
    const steps: Uint8Array[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + random.below(random.below(2) === 0 ? 8 : 300);
      steps.push(bytes.subarray(at, at + n));
      at += n;
    }
    const reader = new LineReader(scripted(steps));
    assert.deepEqual(await readLines(reader), lines, `seed ${seed}`);
  }
});

Deno.test("LineReader reads from a stream whose readAsync returns a plain number, not a promise", async () => {
  const bytes = new TextEncoder().encode("one\ntwo\n");
  let sent = false;
  const input = {
    readAsync(buffer: Uint8Array): Promise<number> {
      if (sent) return 0 as unknown as Promise<number>;
      sent = true;
      buffer.set(bytes);
      return bytes.length as unknown as Promise<number>;
    },
  };
  const reader = new LineReader(input);
  assert.equal(await reader.readLine(), "one");
  assert.equal(await reader.readLine(), "two");
  assert.equal(await reader.readLine(), null);
});
