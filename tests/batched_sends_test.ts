import assert from "node:assert/strict";
import { runBatchedSends } from "../examples/batched_sends.ts";
import { ROOT, runDeno } from "./_helpers.ts";

Deno.test("runBatchedSends() delivers every byte intact, three ways", async () => {
  const lines: string[] = [];
  const results = await runBatchedSends(500, (line) => lines.push(line));
  assert.deepEqual(results.map((r) => r.name), [
    "awaited loop",
    "Promise.all",
    "writer + flushAsync",
  ]);
  for (const result of results) assert.equal(result.received, 500 * 13);
  assert.equal(lines.length, 3);
});

Deno.test("runBatchedSends() rejects a count that is not a positive integer", async () => {
  await assert.rejects(runBatchedSends(0, () => {}), RangeError);
});

Deno.test("examples/batched_sends.ts runs with --count 2000 and prints each way", async () => {
  const { code, stdout, stderr } = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    `${ROOT}examples/batched_sends.ts`,
    "--count",
    "2000",
  ], 30_000);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 3, stdout);
  assert.match(
    lines[0]!,
    /^awaited loop .* 1\.0x the awaited loop +\(26000 bytes verified\)$/,
  );
  assert.match(
    lines[1]!,
    /^Promise\.all .*x the awaited loop +\(26000 bytes verified\)$/,
  );
  assert.match(
    lines[2]!,
    /^writer \+ flushAsync .*x the awaited loop +\(26000 bytes verified\)$/,
  );
});
