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

Deno.test("DeadlineQueue with a deadline past 2^31 ms waits for it, without waking every millisecond", async () => {
  let looks = 0;
  const queue = new DeadlineQueue(() => {
    looks++;
    return Date.now();
  });
  queue.add(3e9, () => assert.fail("expired at once"));
  await new Promise((resolve) => setTimeout(resolve, 50));
  queue.clear();
  // One look to add it, one to arm the timer: a timer cut to 1 ms looked
  // twice per millisecond.
  assert.ok(looks <= 4, `${looks} looks at the clock in 50 ms`);
});
