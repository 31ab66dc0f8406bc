import assert from "node:assert/strict";
import { SocketOutputStream } from "../mod.ts";
import { SocketLink } from "../lib/_socket_link.ts";
import type { SocketConnection } from "../lib/socket_connection.ts";
import { within } from "./_helpers.ts";

/** An output stream over a connection that records each write it is given. */
function recorded(): { stream: SocketOutputStream; writes: number[] } {
  const writes: number[] = [];
  const link = new SocketLink();
  link.connection = {
    write: (bytes: Uint8Array): Promise<number> => {
      writes.push(bytes.length);
      return Promise.resolve(bytes.length);
    },
  } as unknown as SocketConnection;
  return { stream: new SocketOutputStream(link), writes };
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
  // The burst's first 4 KiB batch is followed by 64 KiB ones.
  assert.deepEqual(writes, [reply.length, 4000, 65000, 31000]);
});
