import assert from "node:assert/strict";
import { BufferPool } from "../lib/_buffer_pool.ts";

function item(length: number): { bytes: Uint8Array } {
  return { bytes: new Uint8Array(length) };
}

Deno.test("BufferPool.take() returns nothing from an empty pool, and what was given back otherwise", () => {
  const pool = new BufferPool(1024 * 1024);
  assert.equal(pool.take(100), undefined);
  const a = item(4096);
  pool.give(a);
  assert.equal(pool.bytes, 4096);
  assert.equal(pool.take(4096), a);
  assert.equal(pool.bytes, 0);
  assert.equal(pool.take(4096), undefined);
});

Deno.test("BufferPool.take() returns a buffer at least as large as asked, from its size class or up to two above", () => {
  const pool = new BufferPool(1024 * 1024);
  const small = item(4096);
  const odd = item(6000);
  const large = item(65_536);
  pool.give(large);
  pool.give(small);
  pool.give(odd);
  // 4,096 B and 6,000 B share a class (4 KiB up to 8 KiB): either holds 4 KiB.
  assert.equal(pool.take(4096), odd);
  assert.equal(pool.take(4096), small);
  pool.give(odd);
  // Not every buffer of that class holds 5,000 B, so the search starts at
  // 8 KiB, and 64 KiB is more than two classes above it.
  assert.equal(pool.take(5000), undefined);
  assert.equal(pool.take(16 * 1024), large);
  assert.equal(pool.take(4096), odd);
});

Deno.test("BufferPool hands out the last buffer given back first", () => {
  const pool = new BufferPool(1024 * 1024);
  const first = item(4096);
  const second = item(4096);
  pool.give(first);
  pool.give(second);
  assert.equal(pool.take(4096), second);
  assert.equal(pool.take(4096), first);
});

Deno.test("BufferPool holds at most its cap and ignores empty buffers", () => {
  const pool = new BufferPool(10_000);
  pool.give(item(0));
  pool.give(item(4096));
  pool.give(item(4096));
  pool.give(item(4096));
  assert.equal(pool.bytes, 8192);
  assert.ok(pool.take(4096));
  assert.ok(pool.take(4096));
  assert.equal(pool.take(4096), undefined);
});

Deno.test("BufferPool.take() passes over buffers larger than the most asked for", () => {
  const pool = new BufferPool(1024 * 1024);
  const large = item(65_536);
  pool.give(large);
  assert.equal(pool.take(16 * 1024, 16 * 1024), undefined);
  assert.equal(pool.bytes, 65_536);
  assert.equal(pool.take(16 * 1024, 65_536), large);
});
