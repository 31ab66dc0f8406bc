import assert from "node:assert/strict";
import { DeadlineQueue } from "../lib/_deadline_queue.ts";
import { within } from "./_helpers.ts";

Deno.test("DeadlineQueue expires what is not done in time, in order, on one timer", async () => {
  const queue = new DeadlineQueue();
  const expired: number[] = [];
  const all = Promise.withResolvers<void>();
  const deadlines = [0, 1, 2, 3].map((i) =>
    queue.add(20, () => {
      expired.push(i);
      if (expired.length === 2) all.resolve();
    })
  );
  deadlines[1]!.done();
  deadlines[2]!.done();
  assert.equal(queue.size, 2);
  await within(all.promise, 5_000, "the expiries");
  assert.deepEqual(expired, [0, 3]);
  assert.equal(queue.size, 0);
});

Deno.test("DeadlineQueue.clear() drops every deadline and its timer", () => {
  const queue = new DeadlineQueue();
  queue.add(60_000, () => assert.fail("expired after clear()"));
  queue.clear();
  assert.equal(queue.size, 0);
});
