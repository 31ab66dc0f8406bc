import assert from "node:assert/strict";
import {
  MAX_POOLED_RECEIVE,
  RECEIVE_CHUNK_SIZE,
  ReceivePool,
  SEND_CHUNK_SIZE,
  SendPool,
} from "../lib/_datagram_buffers.ts";

Deno.test("ReceivePool.copy() copies small datagrams side by side into one chunk", () => {
  const pool = new ReceivePool();
  const source = new Uint8Array([1, 2, 3]);
  const a = pool.copy(source);
  source.fill(9);
  const b = pool.copy(source);
  assert.deepEqual(a, new Uint8Array([1, 2, 3]));
  assert.deepEqual(b, new Uint8Array([9, 9, 9]));
  assert.equal(a.buffer, b.buffer);
  assert.equal(a.buffer.byteLength, RECEIVE_CHUNK_SIZE);
  assert.equal(b.byteOffset, a.byteOffset + 3);
  assert.equal(pool.copy(new Uint8Array(0)).length, 0);
});

Deno.test("ReceivePool.copy() starts a new chunk when one is full, and never reuses one", () => {
  const pool = new ReceivePool();
  const size = MAX_POOLED_RECEIVE;
  const copies = Array.from(
    { length: RECEIVE_CHUNK_SIZE / size + 1 },
    (_, i) => pool.copy(new Uint8Array(size).fill(i)),
  );
  assert.notEqual(copies.at(-1)!.buffer, copies[0]!.buffer);
  copies.forEach((copy, i) => assert.ok(copy.every((byte) => byte === i)));
});

Deno.test("ReceivePool.copy() gives larger datagrams a buffer of their own", () => {
  const copy = new ReceivePool().copy(new Uint8Array(MAX_POOLED_RECEIVE + 1));
  assert.equal(copy.buffer.byteLength, MAX_POOLED_RECEIVE + 1);
});

Deno.test("SendPool.take() copies small buffers and reuses a chunk once its copies are released", () => {
  const pool = new SendPool();
  const source = new Uint8Array([1, 2]);
  const first = pool.take(source);
  const firstChunk = pool.chunk;
  source.fill(7);
  const second = pool.take(source);
  assert.deepEqual(first, new Uint8Array([1, 2]));
  assert.deepEqual(second, new Uint8Array([7, 7]));
  assert.equal(pool.chunk, firstChunk);
  assert.equal(second.byteOffset, first.byteOffset + 2);
  pool.release(firstChunk);
  pool.release(firstChunk);
  // Every copy sent: the chunk starts over, with the same view for the same size.
  const third = pool.take(new Uint8Array([5, 6]));
  assert.equal(third, first);
  assert.deepEqual(third, new Uint8Array([5, 6]));
});

Deno.test("SendPool.take() moves to another chunk when one is full and keeps the free one as spare", () => {
  const pool = new SendPool();
  const half = new Uint8Array(SEND_CHUNK_SIZE / 2);
  pool.take(half);
  const a = pool.chunk;
  pool.take(half);
  pool.take(half);
  const b = pool.chunk;
  assert.notEqual(a, b);
  pool.release(a);
  pool.release(a);
  pool.take(half);
  pool.take(half); // b is full again: back to a, now spare.
  assert.equal(pool.chunk, a);
});

Deno.test("SendPool.take() passes buffers of 16 KiB or more through uncopied", () => {
  const pool = new SendPool();
  const big = new Uint8Array(SEND_CHUNK_SIZE);
  assert.equal(pool.take(big), big);
  assert.equal(pool.chunk, undefined);
  pool.release(undefined);
});
