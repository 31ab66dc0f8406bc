import assert from "node:assert/strict";
import {
  DataWriter,
  SocketError,
  SocketErrorStatus,
  SocketOutputStream,
} from "../mod.ts";
import { SocketLink } from "../lib/_socket_link.ts";
import type { SocketConnection } from "../lib/socket_connection.ts";
import { connectedPair, readAll, within } from "./_helpers.ts";
import { Random } from "../lib/_random.ts";

function statusOf(error: unknown): number | undefined {
  return error instanceof SocketError ? error.status : undefined;
}

/** A connection that keeps a copy of every write, taken when the write runs. */
function recording(): {
  link: SocketLink;
  sent: Uint8Array[];
  lengths: number[];
} {
  const sent: Uint8Array[] = [];
  const lengths: number[] = [];
  const connection: SocketConnection = {
    read: () => Promise.resolve(null),
    write: (p) => {
      sent.push(p.slice());
      lengths.push(p.length);
      return Promise.resolve(p.length);
    },
    closeWrite: () => Promise.resolve(),
    close: () => {},
    localAddr: { hostname: "127.0.0.1", port: 1 },
    remoteAddr: { hostname: "127.0.0.1", port: 2 },
  };
  const link = new SocketLink();
  link.connection = connection;
  return { link, sent, lengths };
}

function joined(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

Deno.test("SocketOutputStream with maxBatchSize 1024 sends two 8 KiB DataWriter stores intact and in order", async () => {
  const { link, sent } = recording();
  const stream = new SocketOutputStream(link, { maxBatchSize: 1024 });
  const writer = new DataWriter(stream);
  for (const value of [1, 2]) {
    writer.writeBytes(new Uint8Array(8192).fill(value));
    writer.storeAsync();
  }
  await stream.flushAsync();
  const all = joined(sent);
  assert.equal(all.length, 16384);
  assert.ok(all.subarray(0, 8192).every((b) => b === 1), "first store");
  assert.ok(all.subarray(8192).every((b) => b === 2), "second store");
  assert.ok(sent.every((chunk) => chunk.length <= 1024), "batch size");
});

Deno.test("SocketOutputStream refuses a copyThreshold under 16 KiB, which would let DataWriter overwrite queued bytes", () => {
  const { link } = recording();
  assert.throws(
    () => new SocketOutputStream(link, { copyThreshold: 1024 }),
    (e) =>
      e instanceof RangeError &&
      /"copyThreshold" must be at least 16384/.test(e.message),
  );
  assert.throws(
    () => new SocketOutputStream(link, { maxBatchSize: 0 }),
    RangeError,
  );
});

Deno.test("SocketOutputStream.writeAsync() takes an aborted queued write out of the queue, and the others go out", async () => {
  await using pair = await connectedPair();
  const out = pair.client.outputStream;
  const encoder = new TextEncoder();
  const controller = new AbortController();
  const first = out.writeAsync(encoder.encode("one "));
  const dropped = out.writeAsync(encoder.encode("two "), {
    signal: controller.signal,
  });
  const third = out.writeAsync(encoder.encode("three"));
  controller.abort();
  await assert.rejects(
    dropped,
    (e) => statusOf(e) === SocketErrorStatus.OperationAborted,
  );
  await Promise.all([first, third, out.flushAsync()]);
  await out.closeAsync();
  const text = new TextDecoder().decode(await readAll(pair.server));
  assert.equal(text, "one three");
});

Deno.test("SocketOutputStream.writeAsync() with a signal that never aborts sends in order with the gathered writes", async () => {
  await using pair = await connectedPair();
  const out = pair.client.outputStream;
  const encoder = new TextEncoder();
  const signal = new AbortController().signal;
  out.writeAsync(encoder.encode("a"));
  const b = out.writeAsync(encoder.encode("b"), { signal });
  out.writeAsync(encoder.encode("c"));
  await b;
  await out.closeAsync();
  assert.equal(new TextDecoder().decode(await readAll(pair.server)), "abc");
});

Deno.test("SocketOutputStream.writeAsync() aborted while its bytes go out fails the stream with a clear error", async () => {
  await using pair = await connectedPair();
  const out = pair.client.outputStream;
  // The server reads nothing: a large write stays in progress.
  const big = new Uint8Array(32 * 1024 * 1024);
  const controller = new AbortController();
  const writing = out.writeAsync(big, { signal: controller.signal });
  const later = out.writeAsync(new Uint8Array(10));
  // The pump starts in a microtask: after one macrotask the write is going out.
  await new Promise((resolve) => setTimeout(resolve, 0));
  controller.abort(new DOMException("deadline", "TimeoutError"));
  const error = await within(
    writing.then(() => undefined, (e) => e),
    5_000,
    "the aborted write",
  );
  assert.equal(statusOf(error), SocketErrorStatus.ConnectionTimedOut);
  assert.match(
    (error as Error).message,
    /while it was going out.*cannot go on, close the socket/,
  );
  await assert.rejects(later, SocketError);
  await assert.rejects(out.flushAsync(), SocketError);
  pair.client.close();
});

Deno.test("SocketOutputStream.flushAsync() with a signal stops waiting, and the writes still go out", async () => {
  await using pair = await connectedPair();
  const out = pair.client.outputStream;
  out.writeAsync(new Uint8Array(8 * 1024 * 1024));
  await assert.rejects(
    out.flushAsync({ signal: AbortSignal.timeout(10) }),
    (e) => statusOf(e) === SocketErrorStatus.ConnectionTimedOut,
  );
  const received = readAll(pair.server, 8 * 1024 * 1024);
  await within(out.flushAsync(), 10_000, "the flush");
  await out.closeAsync();
  assert.equal((await received).length, 8 * 1024 * 1024);
});

Deno.test("SocketOutputStream.writeAsync() checks its signal and rejects at once when already aborted", async () => {
  await using pair = await connectedPair();
  const out = pair.client.outputStream;
  await assert.rejects(
    out.writeAsync(new Uint8Array(1), {
      signal: 1 as unknown as AbortSignal,
    }),
    (e) =>
      e instanceof TypeError &&
      e.message ===
        'Cannot write: "signal" must be an AbortSignal, got 1',
  );
  await assert.rejects(
    out.writeAsync(new Uint8Array(1), { signal: AbortSignal.abort() }),
    (e) => statusOf(e) === SocketErrorStatus.OperationAborted,
  );
  assert.equal(out.unsentBytes, 0);
});

/** An output stream over a connection that records each write it is given. */
/** An output stream over `recording()`, and the length of each write it made. */
function recorded(): {
  stream: SocketOutputStream;
  writes: number[];
  link: SocketLink;
} {
  const { link, lengths } = recording();
  return { stream: new SocketOutputStream(link), writes: lengths, link };
}

const reply = new TextEncoder().encode("+PONG\r\n");

Deno.test("SocketOutputStream sends writes made a few microtasks apart in one write", async () => {
  const { stream, writes } = recorded();
  // What a line server answering 16 buffered lines does: a write per line,
  // each one or two microtasks after the last.
  for (let i = 0; i < 16; i++) {
    stream.writeAsync(reply);
    await null;
    if (i % 2 === 0) await null;
  }
  await within(stream.flushAsync(), 5_000, "the flush");
  assert.deepEqual(writes, [16 * reply.length]);
});

Deno.test("SocketOutputStream sends at the next tick once the program goes back to reading, without waiting for the writes to stop", async () => {
  const { stream, writes, link } = recorded();
  // A line server's chunk: writes a tick apart, then a read.
  for (let i = 0; i < 3; i++) {
    stream.writeAsync(reply);
    await null;
  }
  link.reading = true;
  await null;
  await null;
  assert.deepEqual(writes, [3 * reply.length]);
  link.reading = false;
});

Deno.test("SocketOutputStream sends at once a write that follows a round of one write, and gathers the writes that come while it is out", async () => {
  const { stream, writes } = recorded();
  await within(stream.writeAsync(reply), 5_000, "the first write");
  // The first round settled (the stream might have been gathering) and
  // carried one write: a producer awaiting each write. The next one goes
  // out at once, as raw Deno's conn.write() does.
  const second = stream.writeAsync(reply);
  assert.deepEqual(writes, [reply.length, reply.length]);
  await within(second, 5_000, "the second write");
  // A burst: its first write goes at once, the rest while it is out go
  // together, as Node's net gathers writes queued behind a pending one.
  for (let i = 0; i < 4; i++) stream.writeAsync(reply);
  await within(stream.flushAsync(), 5_000, "the flush");
  assert.deepEqual(writes, [
    reply.length,
    reply.length,
    reply.length,
    3 * reply.length,
  ]);
  // After a round of several writes, the next first write settles again.
  for (let i = 0; i < 2; i++) stream.writeAsync(reply);
  assert.equal(writes.length, 4);
  await within(stream.flushAsync(), 5_000, "the last flush");
  assert.deepEqual(writes.slice(4), [2 * reply.length]);
});

Deno.test("SocketOutputStream sends awaited writes one by one, each resolving", async () => {
  const { stream, writes } = recorded();
  for (let i = 0; i < 3; i++) {
    await within(stream.writeAsync(reply), 5_000, "a write");
  }
  assert.deepEqual(writes, [reply.length, reply.length, reply.length]);
});

Deno.test("SocketOutputStream sends a full batch without waiting for the writes to stop", async () => {
  const { stream, writes } = recorded();
  const chunk = new Uint8Array(1024);
  // 80 KiB of small writes a microtask apart: the bytes start leaving
  // once a 64 KiB batch's worth is queued, before the last write.
  let sentBeforeTheLast = 0;
  for (let i = 0; i < 80; i++) {
    stream.writeAsync(chunk);
    await null;
    if (i === 78) sentBeforeTheLast = writes.reduce((a, b) => a + b, 0);
  }
  await within(stream.flushAsync(), 5_000, "the flush");
  assert.ok(sentBeforeTheLast >= 64 * 1024, `sent ${sentBeforeTheLast}`);
  assert.equal(writes.reduce((a, b) => a + b, 0), 80 * 1024);
  assert.ok(writes.every((n) => n <= 64 * 1024));
});

Deno.test("SocketOutputStream gathers an answer in a small batch and a burst in full ones", async () => {
  const { stream, writes } = recorded();
  await within(stream.writeAsync(reply), 5_000, "the answer");
  const chunk = new Uint8Array(1000);
  for (let i = 0; i < 100; i++) stream.writeAsync(chunk);
  await within(stream.flushAsync(), 5_000, "the burst");
  // The burst's first write went at once (the last round was one write),
  // in a batch that fits it; the rest, queued behind it, in 64 KiB ones.
  assert.deepEqual(writes, [reply.length, 1000, 65000, 34000]);
});

Deno.test("SocketOutputStream.abort() while a gathered batch is being written rejects its writes and leaves the stream failed, without an uncaught error", async () => {
  const link = new SocketLink();
  const write = Promise.withResolvers<number>();
  link.connection = {
    write: (): Promise<number> => write.promise,
  } as unknown as SocketConnection;
  const stream = new SocketOutputStream(link);
  const written = stream.writeAsync(reply);
  // Let the round start: the batch's write is now pending.
  for (let i = 0; i < 8 && !link.writing; i++) await null;
  assert.ok(link.writing, "the batch is being written");
  stream.abort(new Error("stop"));
  write.resolve(reply.length);
  await assert.rejects(
    written,
    (e) => statusOf(e) === SocketErrorStatus.OperationAborted,
  );
  for (let i = 0; i < 4; i++) await null;
  assert.equal(link.writing, false);
  await assert.rejects(stream.flushAsync());
});

Deno.test("SocketOutputStream.abort() while a large write goes out part by part sends no further part: its caller may reuse the buffer", async () => {
  const link = new SocketLink();
  const calls: number[] = [];
  let pending = Promise.withResolvers<number>();
  link.connection = {
    write: (bytes: Uint8Array): Promise<number> => {
      calls.push(bytes.length);
      return pending.promise;
    },
  } as unknown as SocketConnection;
  const stream = new SocketOutputStream(link);
  // Large: sent from the caller's memory, not copied.
  const bytes = new Uint8Array(100_000).fill(7);
  const written = stream.writeAsync(bytes);
  for (let i = 0; i < 8 && calls.length === 0; i++) await null;
  assert.deepEqual(calls, [100_000]);
  // The kernel takes a part; the rest goes in a second write, pending.
  const first = pending;
  pending = Promise.withResolvers<number>();
  first.resolve(30_000);
  for (let i = 0; i < 8 && calls.length === 1; i++) await null;
  assert.deepEqual(calls, [100_000, 70_000]);
  stream.abort(new Error("stop"));
  await assert.rejects(
    written,
    (e) => statusOf(e) === SocketErrorStatus.OperationAborted,
  );
  // The caller reuses its buffer; the part being written then completes.
  bytes.fill(0xee);
  const second = pending;
  pending = Promise.withResolvers<number>();
  second.resolve(20_000);
  for (let i = 0; i < 16; i++) await null;
  assert.deepEqual(calls, [100_000, 70_000], "no part after the abort");
  assert.equal(link.writing, false);
  await assert.rejects(stream.flushAsync());
});

Deno.test("SocketOutputStream keeps every connection's bytes intact while streams share batches between rounds", async () => {
  // Streams hand their spare batches to a shared pool when they go idle, and
  // a stream whose last round was one write sends the next at once: four
  // connections writing messages of random sizes, some awaited and some not,
  // interleaved, must each receive exactly what they were sent.
  const pairs = await Promise.all(
    Array.from({ length: 4 }, () => connectedPair()),
  );
  try {
    const random = new Random(7);
    const sent = pairs.map((): number[] => []);
    const received = pairs.map((pair) => readAll(pair.server));
    let seed = 0;
    for (let i = 0; i < 200; i++) {
      const p = random.below(pairs.length);
      const length = 1 + random.below(20_000);
      const message = Uint8Array.from(
        { length },
        (_, k) => (k * 7 + seed) & 0xff,
      );
      seed++;
      for (const byte of message) sent[p]!.push(byte);
      const written = pairs[p]!.client.outputStream.writeAsync(message);
      // Scribbled over at once: small writes must have been copied.
      if (length < 16 * 1024) message.fill(0);
      if (random.below(3) === 0) await written;
    }
    for (const pair of pairs) {
      await within(pair.client.outputStream.flushAsync(), 10_000, "a flush");
      pair.client.close();
    }
    for (const [p, bytes] of (await Promise.all(received)).entries()) {
      assert.deepEqual(bytes, Uint8Array.from(sent[p]!), `connection ${p}`);
    }
  } finally {
    for (const pair of pairs) await pair[Symbol.asyncDispose]();
  }
});

Deno.test("SocketOutputStream keeps to its maxBatchSize with batches another stream handed to the shared pool", async () => {
  // A default stream's idle 64 KiB batches go to the pool; a stream with a
  // smaller maxBatchSize must not gather more than that into one of them.
  const chunk = new Uint8Array(1000);
  const bulk = recorded();
  for (let i = 0; i < 200; i++) bulk.stream.writeAsync(chunk);
  await within(bulk.stream.flushAsync(), 5_000, "the default stream");
  assert.ok(bulk.writes.some((n) => n > 16 * 1024), "64 KiB batches sent");
  const { link, lengths } = recording();
  const small = new SocketOutputStream(link, { maxBatchSize: 16 * 1024 });
  for (let i = 0; i < 200; i++) small.writeAsync(chunk);
  await within(small.flushAsync(), 5_000, "the small-batch stream");
  assert.equal(lengths.reduce((a, b) => a + b, 0), 200 * chunk.length);
  assert.ok(
    lengths.every((n) => n <= 16 * 1024),
    `writes of ${lengths.join(", ")} B`,
  );
});

// Four seeds in the suite; SOCKETS_WRITE_SEEDS=100 soaks more.
const writeSeeds = Number(Deno.env.get("SOCKETS_WRITE_SEEDS") ?? 4);
for (let seed = 1; seed <= writeSeeds; seed++) {
  Deno.test(`SocketOutputStream and DataWriter deliver every byte in order across connections sharing the send pools (seed ${seed})`, async () => {
    // Three connections, each with a DataWriter and direct writes, sizes on
    // both sides of every threshold (4 KiB batches, 16 KiB copies, 64 KiB
    // batches), stores and writes awaited or not, caller buffers reused
    // as soon as the contract allows: what arrives must be exactly what
    // was written, in order.
    const random = new Random(seed);
    const sizes = [
      1,
      7,
      32,
      33,
      4095,
      4096,
      4097,
      16_383,
      16_384,
      16_385,
      65_535,
      65_536,
      65_540,
      200_000,
    ];
    const pairs = await Promise.all(
      Array.from({ length: 3 }, () => connectedPair()),
    );
    const timers: ReturnType<typeof setTimeout>[] = [];
    try {
      const writers = pairs.map((pair) =>
        new DataWriter(pair.client.outputStream)
      );
      const expected = pairs.map((): Uint8Array[] => []);
      // The readers start late, so that the kernel's buffers fill and
      // writes stay pending while later ones are made: a buffer handed back
      // too early would then be overwritten before it is sent.
      const received = pairs.map(async (pair) => {
        await new Promise((resolve) => timers.push(setTimeout(resolve, 100)));
        return await readAll(pair.server);
      });
      // A failure below must not leave these rejecting unhandled.
      for (const reading of received) reading.catch(() => {});
      const pending: Promise<unknown>[] = [];
      // One scratch buffer per connection, reused for every direct write.
      const scratch = pairs.map(() => new Uint8Array(200_000));
      let stamp = 0;
      for (let step = 0; step < 200; step++) {
        const c = random.below(pairs.length);
        const size = random.below(4) === 0
          ? sizes[random.below(sizes.length)]!
          : 1 + random.below(70_000);
        const bytes = scratch[c]!.subarray(0, size);
        for (let i = 0; i < size; i++) bytes[i] = (i * 13 + stamp) & 0xff;
        stamp++;
        expected[c]!.push(bytes.slice());
        let done: Promise<unknown>;
        const direct = random.below(2) === 0;
        if (direct) {
          done = pairs[c]!.client.outputStream.writeAsync(bytes);
        } else {
          // The writer copies: its stores may stay pending while others go.
          writers[c]!.writeBytes(bytes);
          done = writers[c]!.storeAsync();
        }
        if (random.below(3) === 0 || (direct && size >= 16 * 1024)) {
          // Large direct writes are sent from the caller's memory: the
          // scratch buffer is reused only once they resolve.
          await within(done, 10_000, `write ${step}`);
        } else {
          pending.push(done);
          // Small ones were copied: scribble over the scratch at once.
          bytes.fill(0xee);
        }
        if (random.below(10) === 0) {
          await within(
            pairs[c]!.client.outputStream.flushAsync(),
            10_000,
            "a flush",
          );
        }
      }
      await within(Promise.all(pending), 10_000, "the unawaited writes");
      for (const pair of pairs) {
        await within(
          pair.client.outputStream.flushAsync(),
          10_000,
          "the last flush",
        );
        pair.client.close();
      }
      for (const [c, bytes] of (await Promise.all(received)).entries()) {
        const want = new Uint8Array(
          expected[c]!.reduce((n, b) => n + b.length, 0),
        );
        let at = 0;
        for (const part of expected[c]!) {
          want.set(part, at);
          at += part.length;
        }
        assert.equal(bytes.length, want.length, `connection ${c}: length`);
        assert.ok(
          bytes.every((byte, i) => byte === want[i]),
          `connection ${c}: first difference at ${
            bytes.findIndex((b, i) => b !== want[i])
          }`,
        );
      }
    } finally {
      for (const timer of timers) clearTimeout(timer);
      for (const pair of pairs) await pair[Symbol.asyncDispose]();
    }
  });
}
