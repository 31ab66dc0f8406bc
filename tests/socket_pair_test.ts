import assert from "node:assert/strict";
import {
  DataReader,
  DataWriter,
  LineReader,
  SocketError,
  SocketErrorStatus,
} from "../mod.ts";
import { SocketPair } from "../testing.ts";
import { readAll, within } from "./_helpers.ts";

const encoder = new TextEncoder();

function isStatus(status: SocketErrorStatus): (error: unknown) => boolean {
  return (error) => SocketError.getStatus(error) === status;
}

Deno.test("SocketPair carries bytes both ways with DataWriter and DataReader", async () => {
  await using pair = new SocketPair();
  const writer = new DataWriter(pair.client.outputStream);
  writer.writeUInt32(0xdeadbeef);
  writer.writeString("héllo");
  await writer.storeAsync();
  const reader = new DataReader(pair.server.inputStream);
  assert.equal(await reader.loadAsync(4 + 6), 10);
  assert.equal(reader.readUInt32(), 0xdeadbeef);
  assert.equal(reader.readString(6), "héllo");
  await pair.server.outputStream.writeAsync(encoder.encode("back\n"));
  assert.equal(
    await new LineReader(pair.client.inputStream).readLine(),
    "back",
  );
});

Deno.test("SocketPair closing one end gives the other the end of the stream after the data", async () => {
  await using pair = new SocketPair();
  await pair.client.outputStream.writeAsync(encoder.encode("one\ntwo\n"));
  await pair.client.outputStream.closeAsync();
  const lines: string[] = [];
  for await (const line of new LineReader(pair.server.inputStream)) {
    lines.push(line);
  }
  assert.deepEqual(lines, ["one", "two"]);
  pair.server.close();
  pair.client.close();
});

Deno.test("SocketPair close() on one end ends the other's stream, and its writes fail with ConnectionResetByPeer", async () => {
  await using pair = new SocketPair();
  const read = pair.server.inputStream.readAsync(new Uint8Array(4));
  pair.client.close();
  assert.equal(await read, 0);
  await assert.rejects(
    pair.server.outputStream.writeAsync(encoder.encode("anyone?")),
    isStatus(SocketErrorStatus.ConnectionResetByPeer),
  );
});

Deno.test("SocketPair.abort() fails pending and later operations on both ends with ConnectionResetByPeer", async () => {
  await using pair = new SocketPair();
  const serverRead = pair.server.inputStream.readAsync(new Uint8Array(1));
  const clientRead = pair.client.inputStream.readAsync(new Uint8Array(1));
  pair.abort();
  await assert.rejects(
    serverRead,
    isStatus(SocketErrorStatus.ConnectionResetByPeer),
  );
  await assert.rejects(
    clientRead,
    isStatus(SocketErrorStatus.ConnectionResetByPeer),
  );
  await assert.rejects(
    pair.client.outputStream.writeAsync(new Uint8Array(1)),
    isStatus(SocketErrorStatus.ConnectionResetByPeer),
  );
});

Deno.test("SocketPair.abort(error) reports the status the error maps to", async () => {
  await using pair = new SocketPair();
  const read = pair.client.inputStream.readAsync(new Uint8Array(1));
  pair.abort(new Deno.errors.TimedOut("timed out"));
  await assert.rejects(read, isStatus(SocketErrorStatus.ConnectionTimedOut));
});

Deno.test("SocketPair with capacity 0 completes a write only when the other end reads it", async () => {
  await using pair = new SocketPair({ capacity: 0 });
  let done = false;
  const written = pair.client.outputStream.writeAsync(
    new Uint8Array(10).fill(1),
  )
    .then(() => done = true);
  // Let every queued task run: nothing reads, so the write must still wait.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(done, false);
  const buffer = new Uint8Array(10);
  assert.equal(await pair.server.inputStream.readAsync(buffer), 10);
  await within(written, 5_000, "the write");
  assert.deepEqual([...buffer], new Array(10).fill(1));
});

Deno.test("SocketPair with a small capacity moves more than its capacity, in order", async () => {
  await using pair = new SocketPair({ capacity: 7 });
  const bytes = new Uint8Array(10_000).map((_, i) => i % 253);
  const writing = (async () => {
    await pair.client.outputStream.writeAsync(bytes);
    await pair.client.outputStream.closeAsync();
  })();
  const received = await within(readAll(pair.server), 5_000, "every byte");
  await writing;
  assert.deepEqual(received, bytes);
});

Deno.test("SocketPair works with the batching output stream's writer", async () => {
  await using pair = new SocketPair({ capacity: 16 });
  // Read while writing: with a 16-byte buffer, closing the writer first
  // would wait for a reader forever (the deadlock small buffers expose).
  const lines = (async () => {
    const read: string[] = [];
    for await (const line of new LineReader(pair.server.inputStream)) {
      read.push(line);
    }
    return read;
  })();
  const writer = pair.client.outputStream.getWriter();
  for (let i = 0; i < 100; i++) writer.write(encoder.encode(`${i}\n`));
  await writer.close();
  const read = await within(lines, 5_000, "the lines");
  assert.deepEqual(read, Array.from({ length: 100 }, (_, i) => String(i)));
});

Deno.test("SocketPair sockets report memory addresses", async () => {
  await using pair = new SocketPair();
  assert.equal(pair.client.information.remoteAddress?.canonicalName, "memory");
  assert.equal(pair.client.information.remotePort, 2);
  assert.equal(pair.server.information.remotePort, 1);
});

Deno.test("SocketPair rejects a bad capacity naming it", () => {
  assert.throws(
    () => new SocketPair({ capacity: -1 }),
    new RangeError(
      'Cannot create the socket pair: "capacity" must be a non-negative integer, got -1',
    ),
  );
  assert.throws(() => new SocketPair({ capacity: 1.5 }), RangeError);
});
