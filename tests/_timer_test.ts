import assert from "node:assert/strict";
import { MAX_TIMER_DELAY, setTimer } from "../lib/_timer.ts";

Deno.test("setTimer() keeps a delay of Infinity or over 2^31 ms waiting, where setTimeout fires it after 1 ms", async () => {
  let fired = 0;
  const timers = [Infinity, 2 ** 31, MAX_TIMER_DELAY].map((ms) =>
    setTimer(() => fired++, ms)
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const timer of timers) clearTimeout(timer);
  assert.equal(fired, 0);
});

Deno.test("setTimer() fires a short delay as setTimeout does", async () => {
  const fired = Promise.withResolvers<void>();
  setTimer(fired.resolve, 1);
  await fired.promise;
});
