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
  // 80 KiB of small writes a microtask apart: the first 64 KiB batch goes
  // out as soon as it is full.
  for (let i = 0; i < 80; i++) {
    stream.writeAsync(chunk);
    await null;
  }
  await within(stream.flushAsync(), 5_000, "the flush");
  assert.equal(writes.reduce((a, b) => a + b, 0), 80 * 1024);
  assert.equal(writes[0], 64 * 1024);
});
