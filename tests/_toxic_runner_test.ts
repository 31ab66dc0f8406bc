import assert from "node:assert/strict";
import {
  type Chunk,
  type LinkControl,
  sliceBounds,
  ToxicRunner,
  wait,
} from "../lib/_toxic_runner.ts";
import { checkToxic } from "../lib/_toxic_check.ts";
import { Random } from "../lib/_random.ts";
import type { ToxicOptions } from "../lib/toxic.ts";
import { countTimers } from "./_timers.ts";

function runner(
  options: ToxicOptions,
  seed = 1,
): { runner: ToxicRunner; link: LinkControl & { calls: string[] } } {
  const calls: string[] = [];
  const link = {
    calls,
    close: () => calls.push("close"),
    reset: () => calls.push("reset"),
  };
  const toxic = checkToxic(options, new Set());
  return { runner: new ToxicRunner(toxic, new Random(seed), link), link };
}

function collect(): { passed: Chunk[]; pass: (chunk: Chunk) => Promise<void> } {
  const passed: Chunk[] = [];
  return {
    passed,
    pass: (chunk) => {
      passed.push(chunk);
      return Promise.resolve();
    },
  };
}

const bytes = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => i);

Deno.test("sliceBounds() covers the data in order with slices of 1 to average + variation bytes", () => {
  for (
    const [length, average, variation] of [
      [1000, 7, 3],
      [5, 10, 0],
      [64, 1, 0],
      [333, 4, 3],
    ]
  ) {
    const bounds = sliceBounds(length!, average!, variation!, new Random(9));
    assert.equal(bounds[0], 0);
    assert.equal(bounds.at(-1), length);
    for (let i = 1; i < bounds.length; i++) {
      const size = bounds[i]! - bounds[i - 1]!;
      assert.ok(size >= 1 && size <= average! + variation!, `slice ${size}`);
    }
  }
});

Deno.test("sliceBounds() gives the same slices for the same seed", () => {
  assert.deepEqual(
    sliceBounds(500, 10, 5, new Random(3)),
    sliceBounds(500, 10, 5, new Random(3)),
  );
  assert.notDeepEqual(
    sliceBounds(500, 10, 5, new Random(3)),
    sliceBounds(500, 10, 5, new Random(4)),
  );
});

Deno.test("ToxicRunner timeout drops data; removing it then closes the connection", async () => {
  const { runner: r, link } = runner({ type: "timeout" });
  const { passed, pass } = collect();
  await r.handle({ data: bytes(3), at: 0 }, pass);
  assert.equal(passed.length, 0);
  r.stop();
  assert.deepEqual(link.calls, ["close"]);
});

Deno.test("ToxicRunner timeout removed before dropping anything leaves the connection open", () => {
  const { runner: r, link } = runner({ type: "timeout" });
  r.stop();
  assert.deepEqual(link.calls, []);
});

Deno.test("ToxicRunner limit_data passes up to its bytes across chunks, then closes", async () => {
  const { runner: r, link } = runner({
    type: "limit_data",
    attributes: { bytes: 5 },
  });
  const { passed, pass } = collect();
  await r.handle({ data: bytes(3), at: 0 }, pass);
  assert.deepEqual(link.calls, []);
  await r.handle({ data: bytes(3), at: 0 }, pass);
  assert.deepEqual(passed.map((c) => c.data?.length), [3, 2]);
  assert.deepEqual(link.calls, ["close"]);
});

Deno.test("ToxicRunner reset_peer removed while waiting passes the chunk on and resets nothing", async () => {
  const { runner: r, link } = runner({
    type: "reset_peer",
    attributes: { timeout: 60_000 },
  });
  const { passed, pass } = collect();
  const handled = r.handle({ data: bytes(1), at: 0 }, pass);
  r.stop();
  await handled;
  assert.equal(passed.length, 1);
  assert.deepEqual(link.calls, []);
});

Deno.test("ToxicRunner slicer removed mid-chunk passes the rest in one piece", async () => {
  const { runner: r } = runner({
    type: "slicer",
    attributes: { average_size: 1, delay: 60_000_000 },
  });
  const passed: number[] = [];
  const handled = r.handle({ data: bytes(10), at: 0 }, (chunk) => {
    passed.push(chunk.data!.length);
    return Promise.resolve();
  });
  await Promise.resolve();
  r.stop();
  await handled;
  assert.equal(passed.reduce((a, b) => a + b), 10);
  assert.ok(passed.length >= 2);
});

Deno.test("ToxicRunner with toxicity 0 passes everything unchanged", async () => {
  const { runner: r, link } = runner({ type: "limit_data", toxicity: 0 });
  assert.equal(r.active, false);
  const { passed, pass } = collect();
  await r.handle({ data: bytes(4), at: 0 }, pass);
  assert.equal(passed[0]?.data?.length, 4);
  assert.deepEqual(link.calls, []);
});

Deno.test("wait() resolves at once on abort and leaves no timer", async () => {
  using timers = countTimers();
  const controller = new AbortController();
  const waited = wait(60_000, controller.signal);
  controller.abort();
  await waited;
  await wait(0, controller.signal);
  assert.equal(timers.pending, 0);
});
