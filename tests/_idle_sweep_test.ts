import assert from "node:assert/strict";
import { idleClock, IdleSweep } from "../lib/_idle_sweep.ts";
import { within } from "./_helpers.ts";

interface Item {
  name: string;
  activeAt: number;
  timeout: number;
}

function sweepOf(expire: (item: Item) => void): IdleSweep<Item> {
  return new IdleSweep<Item>({
    activeAt: (item) => item.activeAt,
    timeout: (item) => item.timeout,
    expire,
  });
}

Deno.test("IdleSweep.add() expires a silent item and stops its timer with the last one", async () => {
  const expired = Promise.withResolvers<Item>();
  const sweep = sweepOf((item) => expired.resolve(item));
  const item = { name: "a", activeAt: 0, timeout: 20 };
  sweep.add(item);
  item.activeAt = idleClock.now;
  assert.equal(sweep.size, 1);
  assert.ok(sweep.running);
  assert.equal(await within(expired.promise, 5_000, "the expiry"), item);
  assert.equal(sweep.size, 0);
  assert.equal(sweep.running, false, "the timer stopped with the last item");
});

Deno.test("IdleSweep.addGroup() expires the silent members of a set, skips those without a time-out, and lets the set go once empty", async () => {
  const group = new Set<Item>();
  const expired: string[] = [];
  const done = Promise.withResolvers<void>();
  const silent = { name: "silent", activeAt: 0, timeout: 20 };
  const untimed = { name: "untimed", activeAt: 0, timeout: 0 };
  const sweep = sweepOf((item) => {
    expired.push(item.name);
    // Members leave their owner's set as they close, as a listener's sockets do.
    group.delete(item);
    group.delete(untimed);
    done.resolve();
  });
  // The untimed member first, so that every pass looks at it before the
  // silent one expires, whatever the timer's lateness.
  group.add(untimed).add(silent);
  sweep.addGroup(group, silent.timeout);
  silent.activeAt = untimed.activeAt = idleClock.now;
  // Not watched on its own: deleting it leaves the group's watch running.
  sweep.delete(silent);
  assert.equal(sweep.size, 1);
  await within(done.promise, 5_000, "the expiry");
  assert.deepEqual(expired, ["silent"]);
  assert.equal(sweep.size, 0, "the empty group is dropped");
  assert.equal(sweep.running, false, "and the timer stopped");
});

Deno.test("IdleSweep.addGroup() drops a group and stops its timer once no member has a time-out, though untimed members stay", async () => {
  const group = new Set<Item>();
  const sweep = sweepOf(() => assert.fail("nothing may expire"));
  const timed = { name: "timed", activeAt: 0, timeout: 20 };
  const untimed = { name: "untimed", activeAt: 0, timeout: 0 };
  group.add(untimed).add(timed);
  sweep.addGroup(group, timed.timeout);
  timed.activeAt = untimed.activeAt = idleClock.now;
  // The one timed member is set back to no time-out, as a socket's
  // idleTimeout = 0 does; the listener still holds both sockets.
  timed.timeout = 0;
  for (let i = 0; i < 500 && sweep.running; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(sweep.running, false, "the timer stopped");
  assert.equal(sweep.size, 0);
  assert.equal(group.size, 2, "the owner's set is untouched");
  // A member given a time-out again brings the group back.
  timed.timeout = 20;
  sweep.addGroup(group, timed.timeout);
  assert.ok(sweep.running);
  timed.timeout = 0;
  for (let i = 0; i < 500 && sweep.running; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(sweep.running, false);
});

Deno.test("IdleSweep.addGroup() keeps a member that stays active until it falls silent", async () => {
  const group = new Set<Item>();
  const expired: string[] = [];
  const first = Promise.withResolvers<void>();
  const both = Promise.withResolvers<void>();
  const sweep = sweepOf((item) => {
    group.delete(item);
    expired.push(item.name);
    first.resolve();
    if (group.size === 0) both.resolve();
  });
  // Active at every look until the first expiry, however late the timer
  // runs: the sweep reads the time of its last activity, and gets "now".
  const talkingUntil: { at?: number } = {};
  const talking = {
    name: "talking",
    get activeAt(): number {
      return talkingUntil.at ?? idleClock.now;
    },
    timeout: 200,
  };
  const silent = { name: "silent", activeAt: 0, timeout: 200 };
  group.add(talking).add(silent);
  sweep.addGroup(group, 200);
  silent.activeAt = idleClock.now;
  await within(first.promise, 5_000, "the first expiry");
  talkingUntil.at = idleClock.now;
  assert.deepEqual(expired, ["silent"]);
  await within(both.promise, 5_000, "the second expiry");
  assert.deepEqual(expired, ["silent", "talking"]);
  assert.equal(sweep.size, 0);
});

Deno.test("IdleSweep looks at the items of a set only once one of them may be due", async () => {
  const group = new Set<Item>();
  const looked: string[] = [];
  const expired: Record<string, PromiseWithResolvers<void>> = {
    short: Promise.withResolvers<void>(),
    long: Promise.withResolvers<void>(),
  };
  const sweep = new IdleSweep<Item>({
    activeAt: (item) => {
      looked.push(item.name);
      return item.activeAt;
    },
    timeout: (item) => item.timeout,
    expire: (item) => {
      group.delete(item);
      expired[item.name]!.resolve();
    },
  });
  const long = { name: "long", activeAt: 0, timeout: 60_000 };
  const short = { name: "short", activeAt: 0, timeout: 20 };
  group.add(long);
  sweep.addGroup(group, long.timeout);
  long.activeAt = idleClock.now;
  sweep.add(short);
  short.activeAt = idleClock.now;
  await within(expired.short!.promise, 5_000, "the short expiry");
  assert.ok(looked.includes("short"));
  assert.ok(
    !looked.includes("long"),
    "a member 60 s from its time-out is not looked at",
  );
  // A shorter time-out given to a member makes the group due at once.
  long.timeout = 1;
  sweep.addGroup(group, long.timeout);
  await within(expired.long!.promise, 5_000, "the long member's expiry");
  assert.equal(sweep.size, 0);
  assert.equal(sweep.running, false);
});
