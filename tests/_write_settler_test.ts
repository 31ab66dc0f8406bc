import assert from "node:assert/strict";
import { settleLater } from "../lib/_write_settler.ts";

Deno.test("settleLater() calls every waiting step once per tick, on one chain, until each returns true", async () => {
  const calls: string[] = [];
  const step = (name: string, times: number) => () => {
    calls.push(name);
    return --times === 0;
  };
  settleLater(step("a", 3));
  // Queued between the two: with a chain per step it would run between them.
  queueMicrotask(() => calls.push("between"));
  settleLater(step("b", 1));
  // Three ticks and a margin: a and b share each pass.
  for (let i = 0; i < 6; i++) await null;
  assert.deepEqual(calls.filter((c) => c !== "between"), ["a", "b", "a", "a"]);
  assert.deepEqual(
    calls.slice(0, 3),
    ["a", "b", "between"],
    "one pass for both",
  );
});

Deno.test("settleLater() from inside a step waits for the next pass", async () => {
  const calls: string[] = [];
  settleLater(() => {
    calls.push("first");
    settleLater(() => {
      calls.push("second");
      return true;
    });
    return true;
  });
  await null;
  assert.deepEqual(calls, ["first"]);
  for (let i = 0; i < 3; i++) await null;
  assert.deepEqual(calls, ["first", "second"]);
});

Deno.test("settleLater() keeps calling the other steps when one throws, and reports the error", async () => {
  const calls: string[] = [];
  const reported = Promise.withResolvers<unknown>();
  const onError = (event: ErrorEvent): void => {
    event.preventDefault();
    reported.resolve(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    settleLater(() => {
      throw new Error("broken step");
    });
    let left = 2;
    settleLater(() => {
      calls.push("other");
      return --left === 0;
    });
    const error = await reported.promise;
    assert.equal((error as Error).message, "broken step");
    for (let i = 0; i < 3; i++) await null;
    assert.deepEqual(calls, ["other", "other"]);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});
