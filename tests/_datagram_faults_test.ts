import assert from "node:assert/strict";
import {
  checkFaults,
  FaultLane,
  NO_FAULTS,
  type ResolvedFaults,
} from "../lib/_datagram_faults.ts";
import { Random } from "../lib/_random.ts";
import { within } from "./_helpers.ts";
import { countTimers } from "./_timers.ts";

/** Pushes `count` numbered datagrams through a lane and returns what it sent at once. */
function run(
  faults: ResolvedFaults,
  seed: number,
  count: number,
): { sent: number[]; lane: FaultLane } {
  const sent: number[] = [];
  const lane = new FaultLane(
    new Random(seed),
    () => faults,
    (datagram) => sent.push(datagram[0]!),
  );
  for (let i = 0; i < count; i++) lane.push(new Uint8Array([i]));
  return { sent, lane };
}

const faults = (given: object): ResolvedFaults =>
  checkFaults(given, "Cannot test");

Deno.test("FaultLane without faults sends every datagram once, in order, at once", () => {
  const { sent, lane } = run(NO_FAULTS, 1, 5);
  assert.deepEqual(sent, [0, 1, 2, 3, 4]);
  lane.close();
});

Deno.test("FaultLane loss drops about its share, the same ones for the same seed", () => {
  const first = run(faults({ loss: 0.3 }), 11, 200).sent;
  assert.deepEqual(run(faults({ loss: 0.3 }), 11, 200).sent, first);
  assert.notDeepEqual(run(faults({ loss: 0.3 }), 12, 200).sent, first);
  // 140 expected; the bounds are far outside what 200 draws produce.
  assert.ok(first.length > 100 && first.length < 180, String(first.length));
  assert.deepEqual(run(faults({ loss: 1 }), 11, 20).sent, []);
});

Deno.test("FaultLane duplication sends a datagram twice", () => {
  assert.deepEqual(
    run(faults({ duplication: 1 }), 1, 3).sent,
    [0, 0, 1, 1, 2, 2],
  );
});

Deno.test("FaultLane reordering swaps a held datagram with the next one", () => {
  const { sent, lane } = run(faults({ reordering: 1 }), 1, 5);
  assert.deepEqual(sent, [1, 0, 3, 2]);
  lane.close();
  assert.deepEqual(sent, [1, 0, 3, 2], "closing drops the held one");
});

Deno.test("FaultLane latency sends later, jitter stays within its bounds", async () => {
  const sent = Promise.withResolvers<number>();
  const lane = new FaultLane(
    new Random(1),
    () => faults({ latency: 20, jitter: 5 }),
    () => sent.resolve(performance.now()),
  );
  const started = performance.now();
  lane.push(new Uint8Array(1));
  const at = await within(sent.promise, 5_000, "the delayed datagram");
  assert.ok(at - started >= 15 - 2);
  lane.close();
});

Deno.test("checkFaults() fills in zeros and names a bad field", () => {
  assert.deepEqual(faults({ loss: 0.5 }), { ...NO_FAULTS, loss: 0.5 });
  assert.throws(
    () => checkFaults({ reordering: -0.1 }, "Cannot go"),
    /Cannot go: "faults.reordering" must be a probability from 0 to 1, got -0.1/,
  );
  assert.throws(
    () => checkFaults(null, "Cannot go"),
    new TypeError('Cannot go: "faults" must be an object, got null'),
  );
});

Deno.test("FaultLane.close() clears the timers of delayed and held datagrams", () => {
  using timers = countTimers();
  const sent: number[] = [];
  const lane = new FaultLane(
    new Random(1),
    () => faults({ latency: 60_000 }),
    (datagram) => sent.push(datagram[0]!),
  );
  lane.push(new Uint8Array([1]));
  const held = run(faults({ reordering: 1 }), 1, 1);
  assert.equal(timers.pending, 2);
  lane.close();
  held.lane.close();
  assert.equal(timers.pending, 0);
  assert.deepEqual([...sent, ...held.sent], []);
});
