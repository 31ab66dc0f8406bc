import assert from "node:assert/strict";
import { LINES_PER_WINDOW, LogLimiter } from "../lib/_log_limiter.ts";

Deno.test("LogLimiter lets a few lines per second through, then says how many it left out", () => {
  let now = 0;
  const lines: unknown[][] = [];
  const limiter = new LogLimiter((...data) => lines.push(data), () => now);
  for (let i = 0; i < 1_000; i++) limiter.write(`line ${i}`);
  assert.equal(lines.length, LINES_PER_WINDOW);
  assert.equal(limiter.suppressed, 1_000 - LINES_PER_WINDOW);
  now += 1_000;
  assert.equal(limiter.write("later"), true);
  assert.match(
    String(lines[LINES_PER_WINDOW]![0]),
    /^\(995 similar reports suppressed/,
  );
  assert.deepEqual(lines.at(-1), ["later"]);
});
