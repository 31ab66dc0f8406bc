import assert from "node:assert/strict";
import {
  AcceptBackoff,
  acceptWithBackoff,
  FIRST_BACKOFF,
  MAX_BACKOFF,
} from "../lib/_accept_backoff.ts";
import { within } from "./_helpers.ts";

Deno.test("AcceptBackoff doubles from 5 ms to 1 s and starts over after a success", () => {
  const backoff = new AcceptBackoff(() => 0);
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    backoff.failed(new Error("EMFILE"));
    delays.push(backoff.delay);
  }
  assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  backoff.succeeded();
  backoff.failed(new Error("EMFILE"));
  assert.equal(backoff.delay, FIRST_BACKOFF);
  assert.equal(MAX_BACKOFF, 1_000);
});

Deno.test("AcceptBackoff reports once per back-off period with the count of repeats left out", () => {
  let now = 0;
  const backoff = new AcceptBackoff(() => now);
  const reports = [];
  // 3 s of failures, each after the pause the schedule asks for.
  while (now < 3_000) {
    const failure = backoff.failed(new Error("EMFILE"));
    if (failure !== undefined) reports.push(failure);
    now += backoff.delay;
  }
  assert.equal(reports[0]!.suppressed, 0);
  assert.equal(reports[0]!.retryIn, 5);
  assert.ok(reports.length <= 4, `${reports.length} reports in 3 s`);
  const total = reports.reduce((n, r) => n + 1 + r.suppressed, 0);
  assert.ok(total > reports.length, "some repeats were left out and counted");
});

Deno.test("acceptWithBackoff retries after a pause, and cancel() ends a pause at once", async () => {
  const backoff = new AcceptBackoff();
  let calls = 0;
  const reported: unknown[] = [];
  const conn = await acceptWithBackoff(
    () =>
      ++calls < 3
        ? Promise.reject(new Error("EMFILE"))
        : Promise.resolve("conn"),
    backoff,
    () => false,
    (failure) => reported.push(failure.error),
  );
  assert.equal(conn, "conn");
  assert.equal(calls, 3);
  assert.equal(reported.length, 1);
  assert.equal(backoff.delay, 0);

  // A listener closed while it backs off: no timer is left behind.
  let closed = false;
  const waiting = acceptWithBackoff(
    () => Promise.reject(new Error("EMFILE")),
    backoff,
    () => closed,
    () => {},
  );
  for (let i = 0; i < 8; i++) backoff.failed(new Error("EMFILE"));
  closed = true;
  backoff.cancel();
  await assert.rejects(
    within(waiting, 1_000, "the end of the pause"),
    /EMFILE/,
  );
});

Deno.test("acceptWithBackoff retries at once, unreported, after clients that reset in the backlog", async () => {
  const backoff = new AcceptBackoff();
  const left = [
    new Deno.errors.NotConnected("Transport endpoint is not connected"),
    new Deno.errors.ConnectionReset("Connection reset by peer"),
    new Deno.errors.ConnectionAborted("Software caused connection abort"),
  ];
  let calls = 0;
  const reported: unknown[] = [];
  const conn = await acceptWithBackoff(
    () =>
      calls < left.length
        ? Promise.reject(left[calls++])
        : Promise.resolve("conn"),
    backoff,
    () => false,
    (failure) => reported.push(failure.error),
  );
  assert.equal(conn, "conn");
  assert.deepEqual(reported, []);
  assert.equal(backoff.delay, 0);
});
