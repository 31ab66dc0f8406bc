/**
 * One shared timer that closes idle sockets.
 *
 * @module
 */

/**
 * The coarse clock that reads and writes stamp their activity with, in whole
 * milliseconds: reading a number costs nothing, where a `performance.now()`
 * per read or a timer per socket would cost every read or every socket. The
 * sweep advances it; it stands still while no socket has an idle time-out.
 */
export const idleClock: { now: number } = { now: 0 };

/** The shortest and longest time between two sweeps, in ms. */
const MIN_PERIOD = 5;
const MAX_PERIOD = 1_000;

/**
 * Sets of sockets that their owner keeps anyway, by the `onClose` callback
 * that takes a socket out of its set: a listener holds its open sockets in a
 * set and adopts each one with the same callback. A socket adopted with a
 * callback found here is watched through its owner's set, not on its own, so
 * an idle time-out costs it no entry in the sweep (with 5,000 watched
 * sockets, an entry of its own measured about 35 B of heap each).
 */
export const idleGroups: WeakMap<object, ReadonlySet<unknown>> = new WeakMap();

/** What the sweep needs to know of the sockets it watches. */
export interface IdleItems<T> {
  /** When the item last read or wrote, on {@linkcode idleClock}. */
  activeAt(item: T): number;
  /** Its idle time-out in ms; 0 (a member of a group without one) is skipped. */
  timeout(item: T): number;
  /** Closes it because it was idle too long. */
  expire(item: T): void;
}

/**
 * Watches sockets with an idle time-out through one timer for all of them,
 * as nginx and Go's net/http do with their coarse clocks: thousands of idle
 * sockets cost one interval, and a read or write costs one stored number.
 *
 * An item is closed once it has been idle at least its time-out, and at most
 * its time-out plus two sweep periods (a quarter of the shortest time-out,
 * from 5 ms to 1 s): activity is stamped with the clock of the last sweep,
 * so the check adds one period to stay on the late side, never the early one.
 *
 * Items are watched on their own ({@linkcode IdleSweep.add}) or through a set
 * their owner keeps ({@linkcode IdleSweep.addGroup}): a group is watched
 * while it has members, and its members leave it by themselves as they close.
 *
 * A sweep looks at the items of a set only once one of them may be due: each
 * pass notes the earliest time an item could expire (its last activity plus
 * its time-out; activity only moves that later), and a new item or time-out
 * moves it earlier. Between passes a sweep only advances the clock, so a
 * long time-out over thousands of sockets costs a pass per time-out, not one
 * per period.
 */
export class IdleSweep<T> {
  #items = new Set<T>();
  /** No item watched on its own can expire before this time, on the idle clock. */
  #itemsDue = Infinity;
  /** The groups, each with the time before which none of its members can expire. */
  #groups = new Map<ReadonlySet<T>, number>();
  #of: IdleItems<T>;
  #period = MAX_PERIOD;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param of How to read and close the items. */
  constructor(of: IdleItems<T>) {
    this.#of = of;
  }

  /** Starts watching `item`, whose activity must be stamped from now on. */
  add(item: T): void {
    this.#items.add(item);
    const timeout = this.#of.timeout(item);
    this.#started(timeout);
    this.#itemsDue = Math.min(this.#itemsDue, idleClock.now + timeout);
  }

  /**
   * Watches the members of `group` whose time-out is positive, for as long
   * as it has members: call it again when a member's time-out is set (it
   * costs no allocation when the group is watched already).
   *
   * @param group A set its owner keeps, which its members leave as they close.
   * @param timeout The time-out a member was just given, in ms (positive).
   */
  addGroup(group: ReadonlySet<T>, timeout: number): void {
    this.#started(timeout);
    const due = idleClock.now + timeout;
    const known = this.#groups.get(group);
    if (known === undefined || due < known) this.#groups.set(group, due);
  }

  /** Stops watching `item` on its own; the timer stops with the last one. */
  delete(item: T): void {
    if (this.#items.delete(item)) this.#stopIfEmpty();
  }

  /** How many items are watched on their own, and groups. */
  get size(): number {
    return this.#items.size + this.#groups.size;
  }

  /** Whether the sweep's timer runs (it must stop once nothing is watched). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Stamps the clock and makes the period fit a time-out just watched. */
  #started(timeout: number): void {
    idleClock.now = Math.floor(performance.now());
    const period = Math.min(
      MAX_PERIOD,
      Math.max(MIN_PERIOD, Math.floor(timeout / 4)),
    );
    if (this.#timer !== undefined && period >= this.#period) return;
    if (this.#timer !== undefined) {
      // The period is the slack the due times were counted with: a shorter
      // one brings every expiry that much closer.
      const closer = this.#period - period;
      this.#itemsDue -= closer;
      for (const [group, due] of this.#groups) {
        this.#groups.set(group, due - closer);
      }
    }
    this.#period = Math.min(period, this.#period);
    this.#restart();
  }

  #stopIfEmpty(): void {
    if (this.#items.size > 0 || this.#groups.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#period = MAX_PERIOD;
  }

  #restart(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#sweep(), this.#period);
    // The sweep alone must not keep a program alive: the sockets do.
    Deno.unrefTimer(this.#timer);
  }

  #sweep(): void {
    const now = idleClock.now = Math.floor(performance.now());
    if (now >= this.#itemsDue) {
      this.#itemsDue = this.#pass(this.#items, now, true);
    }
    for (const [group, due] of this.#groups) {
      if (now < due) continue;
      const next = this.#pass(group, now, false);
      // No member with a time-out left (they closed, or were set to 0): the
      // group is dropped, so that the timer can stop while the listener
      // still holds untimed sockets. A member given a time-out adds it back.
      if (next === Infinity) this.#groups.delete(group);
      else this.#groups.set(group, next);
    }
    this.#stopIfEmpty();
  }

  /**
   * Expires the items of `items` idle too long, taking them out of the set
   * when it is `own` (a group's members leave it by themselves as they
   * close).
   *
   * @returns The earliest time one of the others may expire.
   */
  #pass(items: ReadonlySet<T>, now: number, own: boolean): number {
    const of = this.#of;
    const slack = this.#period;
    let due = Infinity;
    for (const item of items) {
      const timeout = of.timeout(item);
      if (timeout === 0) continue;
      const activeAt = of.activeAt(item);
      if (now - activeAt >= timeout + slack) {
        if (own) this.#items.delete(item);
        of.expire(item);
      } else {
        // When it will expire, not when it times out: an item in its slack
        // would otherwise make every pass walk the whole set again.
        due = Math.min(due, activeAt + timeout + slack);
      }
    }
    return due;
  }
}
