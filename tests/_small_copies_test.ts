import assert from "node:assert/strict";
import { copyInto, copyOf, SMALL_COPY_LIMIT } from "../lib/_small_copies.ts";

Deno.test("copyOf() gives copies that later writes to the source or to other copies never change", () => {
  const source = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
  const copies = [];
  // Enough small copies to fill several shared blocks.
  for (let i = 0; i < 2_000; i++) {
    const start = (i * 37) % 60_000;
    const length = 1 + (i % 100);
    copies.push({ start, copy: copyOf(source, start, start + length) });
  }
  source.fill(0);
  copies[0]!.copy.fill(1);
  for (const [i, { start, copy }] of copies.entries()) {
    for (let k = 0; k < copy.length; k++) {
      const expected = i === 0 ? 1 : (start + k) & 0xff;
      assert.equal(copy[k], expected, `copy ${i} byte ${k}`);
    }
  }
});

Deno.test("copyOf() aligns small copies to 8 bytes and gives large or empty ones their own buffer", () => {
  const source = new Uint8Array(SMALL_COPY_LIMIT * 2);
  const small = copyOf(source, 1, 4);
  assert.equal(copyOf(source, 0, 5).byteOffset % 8, 0);
  assert.equal(small.length, 3);
  const large = copyOf(source, 0, SMALL_COPY_LIMIT);
  assert.equal(large.byteOffset, 0);
  assert.equal(large.buffer.byteLength, SMALL_COPY_LIMIT);
  assert.equal(copyOf(source, 3, 3).length, 0);
  assert.notEqual(copyOf(source, 3, 3).buffer, small.buffer);
});

Deno.test("copyOf() goes on with a new block after a caller transferred a copy's buffer", () => {
  const source = new Uint8Array([1, 2, 3, 4]);
  const first = copyOf(source, 0, 2);
  (first.buffer as ArrayBuffer).transfer();
  assert.equal(first.length, 0, "the transferred copy is detached");
  assert.deepEqual(copyOf(source, 2, 4), new Uint8Array([3, 4]));
});

Deno.test("copyInto() copies short and long runs, whole or part of the source, at the target offset", () => {
  const source = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
  for (
    const [start, length] of [[0, 5], [3, 32], [0, 33], [10, 60], [0, 100]]
  ) {
    const target = new Uint8Array(120);
    copyInto(target, 7, source, start!, length!);
    assert.deepEqual(
      target.subarray(7, 7 + length!),
      source.subarray(start!, start! + length!),
    );
    assert.ok(target.subarray(0, 7).every((b) => b === 0), "nothing before");
    assert.ok(
      target.subarray(7 + length!).every((b) => b === 0),
      "nothing after",
    );
  }
  // Whole sources, from those a loop copies to those one set() call does.
  for (const length of [1, 8, 9, 20, 32, 33]) {
    const whole = source.slice(0, length);
    const target = new Uint8Array(50);
    copyInto(target, 3, whole, 0, length);
    assert.deepEqual(target.subarray(3, 3 + length), whole);
    assert.equal(target[2], 0);
    assert.equal(target[3 + length], 0);
  }
});
