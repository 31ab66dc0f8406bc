import assert from "node:assert/strict";
import {
  InputStreamOptions,
  SocketError,
  SocketErrorStatus,
  type StreamSocket,
} from "../mod.ts";
import { SocketPair } from "../testing.ts";
import { connectedPair, within } from "./_helpers.ts";
import { Random } from "../lib/_random.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const { Partial } = InputStreamOptions;

function statusOf(error: unknown): number | undefined {
  return error instanceof SocketError ? error.status : undefined;
}

async function send(socket: StreamSocket, text: string): Promise<void> {
  await socket.outputStream.writeAsync(encoder.encode(text));
}

async function readText(
  socket: StreamSocket,
  count: number,
  options: number = InputStreamOptions.None,
): Promise<string> {
  const buffer = new Uint8Array(count);
  const n = await within(
    socket.inputStream.readAsync(buffer, count, options),
    5_000,
    "a read",
  );
  return decoder.decode(buffer.subarray(0, n));
}

Deno.test("SocketInputStream.readAsync() rejects with OperationAborted on abort, and the next read gets the bytes that arrive after it", async () => {
  await using pair = await connectedPair();
  const controller = new AbortController();
  const buffer = new Uint8Array(16).fill(0xee);
  const aborted = pair.client.inputStream.readAsync(buffer, 16, Partial, {
    signal: controller.signal,
  });
  const reason = new Error("user cancelled");
  controller.abort(reason);
  const error = await aborted.then(() => undefined, (e) => e);
  assert.equal(statusOf(error), SocketErrorStatus.OperationAborted);
  assert.equal((error as Error).cause, reason);
  await send(pair.server, "after");
  assert.equal(await readText(pair.client, 5), "after");
  assert.ok(
    buffer.every((b) => b === 0xee),
    "the aborted read's buffer was written",
  );
});

Deno.test("SocketInputStream.readAsync() maps a TimeoutError reason (AbortSignal.timeout) to ConnectionTimedOut", async () => {
  await using pair = await connectedPair();
  const error = await pair.client.inputStream.readAsync(
    new Uint8Array(4),
    4,
    Partial,
    { signal: AbortSignal.timeout(10) },
  ).then(() => undefined, (e) => e);
  assert.equal(statusOf(error), SocketErrorStatus.ConnectionTimedOut);
  assert.equal(((error as Error).cause as Error).name, "TimeoutError");
  assert.match((error as Error).message, /deadline passed/);
  await send(pair.server, "ok");
  assert.equal(await readText(pair.client, 2), "ok");
});

Deno.test("SocketInputStream.readAsync() rejects at once with an already aborted signal, and reads nothing", async () => {
  await using pair = await connectedPair();
  await send(pair.server, "kept");
  const signal = AbortSignal.abort();
  await assert.rejects(
    pair.client.inputStream.readAsync(new Uint8Array(4), 4, Partial, {
      signal,
    }),
    (e) => statusOf(e) === SocketErrorStatus.OperationAborted,
  );
  assert.equal(await readText(pair.client, 4), "kept");
});

Deno.test("SocketInputStream.readAsync() completes as the Partial flag says: ReadAhead alone waits for count, Partial | ReadAhead does not", async () => {
  await using pair = await connectedPair();
  const waiting = readText(pair.client, 4, InputStreamOptions.ReadAhead);
  await send(pair.server, "ab");
  await new Promise((resolve) => setTimeout(resolve, 20));
  await send(pair.server, "cd");
  assert.equal(await waiting, "abcd");
  await send(pair.server, "ef");
  assert.equal(
    await readText(
      pair.client,
      4,
      InputStreamOptions.Partial | InputStreamOptions.ReadAhead,
    ),
    "ef",
  );
  await assert.rejects(
    pair.client.inputStream.readAsync(new Uint8Array(4), 4, 4),
    new TypeError(
      'Cannot read: "options" must be InputStreamOptions flags (0 to 3), got 4',
    ),
  );
});

Deno.test("SocketInputStream.readAsync() with None gives back what an aborted read had gathered", async () => {
  await using pair = await connectedPair();
  await send(pair.server, "abcd");
  const controller = new AbortController();
  const full = pair.client.inputStream.readAsync(
    new Uint8Array(10),
    10,
    InputStreamOptions.None,
    { signal: controller.signal },
  );
  // Let the read take "abcd" and wait for more. The assertion below holds
  // whether or not it did by then; this only makes the give-back path run.
  await new Promise((resolve) => setTimeout(resolve, 10));
  controller.abort();
  await assert.rejects(
    full,
    (e) => statusOf(e) === SocketErrorStatus.OperationAborted,
  );
  await send(pair.server, "efgh");
  assert.equal(await readText(pair.client, 8), "abcdefgh");
});

Deno.test("SocketInputStream.readAsync() refuses a second read while one is pending, and the first still gets its bytes", async () => {
  await using pair = await connectedPair();
  const first = pair.client.inputStream.readAsync(new Uint8Array(3), 3);
  await assert.rejects(
    pair.client.inputStream.readAsync(new Uint8Array(3), 3),
    (e) => e instanceof TypeError && /another read is pending/.test(e.message),
  );
  await send(pair.server, "one");
  assert.equal(await within(first, 5_000, "the first read"), 3);
});

Deno.test("SocketInputStream.readAsync() refuses a second read while a signalled one is pending", async () => {
  await using pair = await connectedPair();
  const controller = new AbortController();
  const first = pair.client.inputStream.readAsync(
    new Uint8Array(3),
    3,
    Partial,
    {
      signal: controller.signal,
    },
  );
  await assert.rejects(
    pair.client.inputStream.readAsync(new Uint8Array(3), 3),
    TypeError,
  );
  await send(pair.server, "abc");
  const n = await within(first, 5_000, "the signalled read");
  assert.ok(n > 0);
  controller.abort();
  if (n < 3) assert.equal((await readText(pair.client, 3 - n)).length, 3 - n);
});

Deno.test("SocketInputStream.readAsync() checks its signal argument", async () => {
  await using pair = await connectedPair();
  await assert.rejects(
    pair.client.inputStream.readAsync(
      new Uint8Array(1),
      1,
      Partial,
      { signal: "soon" as unknown as AbortSignal },
    ),
    (e) =>
      e instanceof TypeError &&
      e.message === 'Cannot read: "signal" must be an AbortSignal, got "soon"',
  );
});

Deno.test("SocketInputStream.readable: cancelling it while a read is pending loses nothing", async () => {
  await using pair = await connectedPair();
  const reader = pair.client.inputStream.readable.getReader();
  const pending = reader.read();
  await reader.cancel();
  assert.deepEqual(await pending, { done: true, value: undefined });
  await send(pair.server, "one two three");
  assert.equal(await readText(pair.client, 13), "one two three");
});

Deno.test("SocketInputStream.readable: releasing its reader while a read is pending loses nothing", async () => {
  await using pair = await connectedPair();
  const stream = pair.client.inputStream.readable;
  const reader = stream.getReader();
  const pending = reader.read();
  reader.releaseLock();
  await assert.rejects(pending, TypeError);
  await send(pair.server, "kept");
  assert.equal(await readText(pair.client, 4), "kept");
});

Deno.test("SocketInputStream.readable: a new reader after a release gets the bytes of the pending read", async () => {
  await using pair = await connectedPair();
  const stream = pair.client.inputStream.readable;
  const first = stream.getReader();
  const pending = first.read();
  first.releaseLock();
  await assert.rejects(pending, TypeError);
  await send(pair.server, "again");
  const second = stream.getReader();
  let text = "";
  while (text.length < 5) {
    const { value } = await within(second.read(), 5_000, "a chunk");
    text += decoder.decode(value);
  }
  assert.equal(text, "again");
  second.releaseLock();
});

Deno.test("SocketInputStream.readable: after a cancel, readable is a new stream that reads on", async () => {
  await using pair = await connectedPair();
  const first = pair.client.inputStream.readable;
  await first.cancel();
  const second = pair.client.inputStream.readable;
  assert.notEqual(first, second);
  await send(pair.server, "x");
  const reader = second.getReader();
  const { value } = await within(reader.read(), 5_000, "a chunk");
  assert.equal(decoder.decode(value), "x");
  reader.releaseLock();
});

/** Lets `count` microtask turns pass: a read's steps interleave with other code at each. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await null;
}

// In memory (SocketPair) the bytes land in a known microtask turn, so every
// turn between a None read's chunks is tried.
Deno.test("SocketInputStream.readAsync() with None refuses a read started between its chunks, and gets its bytes", async () => {
  for (let turn = 0; turn < 12; turn++) {
    await using pair = new SocketPair();
    const input = pair.server.inputStream;
    const buffer = new Uint8Array(4);
    const first = input.readAsync(buffer, 4);
    const sent = pair.client.outputStream.writeAsync(new Uint8Array([1, 2]));
    await turns(turn);
    const second = input.readAsync(new Uint8Array(4), 4, Partial).then(
      (n) => n,
      (error) => error,
    );
    await sent;
    await pair.client.outputStream.writeAsync(new Uint8Array([3, 4, 5]));
    assert.equal(await first, 4, `turn ${turn}`);
    assert.deepEqual([...buffer], [1, 2, 3, 4], `turn ${turn}`);
    assert.ok((await second) instanceof TypeError, `turn ${turn}`);
  }
});

Deno.test("SocketInputStream.readAsync() aborted while it takes over an abandoned read leaves its buffer and the bytes alone", async () => {
  for (let turn = 0; turn < 12; turn++) {
    await using pair = new SocketPair();
    const input = pair.server.inputStream;
    const left = new AbortController();
    const abandoned = input.readAsync(new Uint8Array(8), 8, Partial, {
      signal: left.signal,
    });
    left.abort();
    await assert.rejects(abandoned, SocketError);
    const controller = new AbortController();
    const buffer = new Uint8Array(8);
    const reading = input.readAsync(buffer, 8, Partial, {
      signal: controller.signal,
    }).then((n) => n, (error) => error);
    const sent = pair.client.outputStream.writeAsync(new Uint8Array([1, 2, 3]));
    await turns(turn);
    controller.abort();
    await sent;
    const result = await reading;
    if (typeof result === "number") {
      assert.deepEqual([...buffer.subarray(0, result)], [1, 2, 3]);
      continue;
    }
    assert.equal(statusOf(result), SocketErrorStatus.OperationAborted);
    assert.ok(
      buffer.every((b) => b === 0),
      `turn ${turn}: written after the abort`,
    );
    const next = new Uint8Array(8);
    const n = await within(input.readAsync(next, 8, Partial), 5_000, "a read");
    assert.deepEqual([...next.subarray(0, n)], [1, 2, 3], `turn ${turn}`);
  }
});

for (const first of ["default", "byob"] as const) {
  Deno.test(`SocketInputStream.readable: a BYOB reader after releasing a ${first} reader whose read was pending gets the bytes`, async () => {
    // In memory, so the read left behind has stashed the bytes before the
    // new reader comes: the stream still holds that read's request.
    await using pair = new SocketPair();
    const stream = pair.server.inputStream.readable;
    const left = first === "byob"
      ? stream.getReader({ mode: "byob" })
      : stream.getReader();
    const pending = left instanceof ReadableStreamBYOBReader
      ? left.read(new Uint8Array(16))
      : left.read();
    await turns(2);
    left.releaseLock();
    await assert.rejects(pending, TypeError);
    await send(pair.client, "abc");
    await turns(4);
    const reader = stream.getReader({ mode: "byob" });
    const two = await within(reader.read(new Uint8Array(2)), 5_000, "a read");
    assert.equal(decoder.decode(two.value), "ab");
    const rest = await within(reader.read(new Uint8Array(8)), 5_000, "a read");
    assert.equal(decoder.decode(rest.value), "c");
    reader.releaseLock();
  });
}

// Eight seeds in the suite; SOCKETS_PROPERTY_SEEDS=200 soaks more.
const seeds = Number(Deno.env.get("SOCKETS_PROPERTY_SEEDS") ?? 8);
for (let seed = 1; seed <= seeds; seed++) {
  Deno.test(`SocketInputStream: random aborts, overlapping reads, readable cancels and chunking lose, reorder and corrupt nothing (seed ${seed})`, async () => {
    // Seeded, so that a failing run replays.
    const random = new Random(seed);
    const next = (): number => random.next();
    await using pair = await connectedPair();
    const total = 512 * 1024;
    const sent = new Uint8Array(total);
    for (let i = 0; i < total; i++) sent[i] = (i * 7 + (i >> 9)) & 0xff;
    // The sender slices the bytes from 1 B to 64 KiB, with pauses.
    const sending = (async () => {
      for (let offset = 0; offset < total;) {
        const size = Math.min(
          total - offset,
          1 + Math.floor(next() ** 3 * 64 * 1024),
        );
        await pair.server.outputStream.writeAsync(
          sent.subarray(offset, offset + size),
        );
        offset += size;
        if (next() < 0.3) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    // Reported by the final await; a failed read must not leave it unhandled.
    sending.catch(() => {});
    const received = new Uint8Array(total);
    let got = 0;
    const input = pair.client.inputStream;
    const deadline = Date.now() + 20_000;
    for (let step = 0; got < total && step < 20_000; step++) {
      assert.ok(Date.now() < deadline, `only ${got} of ${total} bytes in 20 s`);
      const choice = next();
      const size = 1 + Math.floor(next() * 8192);
      const buffer = new Uint8Array(size).fill(0xee);
      if (choice < 0.35) {
        // A read that may be aborted at a random moment.
        const controller = new AbortController();
        const reading = input.readAsync(
          buffer,
          size,
          next() < 0.5 ? Partial : InputStreamOptions.None,
          { signal: controller.signal },
        );
        // An overlapping read is refused at once and changes nothing, unless
        // the first was answered at once from bytes already there: then it
        // reads after it, in call order.
        const small = new Uint8Array(4);
        const stopOverlapping = new AbortController();
        const overlapping = input.readAsync(small, 4, Partial, {
          signal: stopOverlapping.signal,
        }).then(
          (n) => n,
          (e) => {
            assert.ok(
              e instanceof TypeError ||
                statusOf(e) === SocketErrorStatus.OperationAborted,
              String(e),
            );
            return -1;
          },
        );
        const wait = Math.floor(next() * 3);
        if (wait === 0) controller.abort();
        else if (wait === 1) queueMicrotask(() => controller.abort());
        else setTimeout(() => controller.abort(), 1);
        const n = await reading.catch((e) => {
          assert.equal(
            statusOf(e),
            SocketErrorStatus.OperationAborted,
            String(e),
          );
          return -1;
        });
        if (n > 0) {
          received.set(buffer.subarray(0, n), got);
          got += n;
        } else {
          assert.ok(
            buffer.every((b) => b === 0xee),
            "an aborted read wrote into its buffer",
          );
        }
        // It may be waiting past the last byte: stop it, losing nothing.
        stopOverlapping.abort();
        const m = await overlapping;
        if (m > 0) {
          assert.ok(n >= 0, "a read overlapping a pending one was not refused");
          received.set(small.subarray(0, m), got);
          got += m;
        }
      } else if (choice < 0.6) {
        const n = await input.readAsync(
          buffer,
          Math.min(size, total - got),
          Partial,
        );
        received.set(buffer.subarray(0, n), got);
        got += n;
      } else {
        // The readable, through a default or a BYOB reader, left by a
        // cancel or a release, or read to the end of a chunk.
        const stream = input.readable;
        const byob = next() < 0.4;
        const reader = byob
          ? stream.getReader({ mode: "byob" })
          : stream.getReader();
        const reading = byob
          ? (reader as ReadableStreamBYOBReader).read(new Uint8Array(size))
          : (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        const how = next();
        if (how < 0.4) await reader.cancel();
        else if (how < 0.8) reader.releaseLock();
        const result = await reading.catch(() => undefined);
        if (result?.value !== undefined) {
          received.set(result.value, got);
          got += result.value.length;
        }
        if (how >= 0.8) reader.releaseLock();
      }
    }
    await sending;
    assert.equal(got, total);
    assert.deepEqual(received, sent);
  });
}

Deno.test("SocketInputStream.readable: bytes a small BYOB read cannot take after a re-lock go to the next readAsync", async () => {
  await using pair = await connectedPair();
  const stream = pair.client.inputStream.readable;
  const first = stream.getReader();
  const pending = first.read().catch((e) => e);
  // Let its pull start a read into a 64 KiB view.
  await new Promise((resolve) => setTimeout(resolve, 10));
  first.releaseLock();
  await pending;
  const byob = stream.getReader({ mode: "byob" });
  const small = byob.read(new Uint8Array(4));
  await pair.server.outputStream.writeAsync(
    new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
  );
  assert.deepEqual([...(await within(small, 5_000, "the BYOB read")).value!], [
    1,
    2,
    3,
    4,
  ]);
  byob.releaseLock();
  await pair.server.outputStream.writeAsync(new Uint8Array([11, 12]));
  const received: number[] = [];
  const buffer = new Uint8Array(16);
  while (received.length < 8) {
    const n = await within(
      pair.client.inputStream.readAsync(buffer, 16, Partial),
      5_000,
      "the rest",
    );
    received.push(...buffer.subarray(0, n));
  }
  assert.deepEqual(received, [5, 6, 7, 8, 9, 10, 11, 12]);
});
