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

/** What the sweep needs to know of the sockets it watches. */
export interface IdleItems<T> {
  /** When the item last read or wrote, on {@linkcode idleClock}. */
  activeAt(item: T): number;
  /** Its idle time-out in ms (positive). */
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
 */
export class IdleSweep<T> {
  #items = new Set<T>();
  #of: IdleItems<T>;
  #period = MAX_PERIOD;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param of How to read and close the items. */
  constructor(of: IdleItems<T>) {
    this.#of = of;
  }

  /** Starts watching `item`, whose activity must be stamped from now on. */
  add(item: T): void {
    idleClock.now = Math.floor(performance.now());
    this.#items.add(item);
    const period = Math.min(
      MAX_PERIOD,
      Math.max(MIN_PERIOD, Math.floor(this.#of.timeout(item) / 4)),
    );
    if (this.#timer !== undefined && period >= this.#period) return;
    this.#period = Math.min(period, this.#period);
    this.#restart();
  }

  /** Stops watching `item`; the timer stops with the last one. */
  delete(item: T): void {
    if (!this.#items.delete(item) || this.#items.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#period = MAX_PERIOD;
  }

  /** How many items are watched. */
  get size(): number {
    return this.#items.size;
  }

  #restart(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#sweep(), this.#period);
    // The sweep alone must not keep a program alive: the sockets do.
    Deno.unrefTimer(this.#timer);
  }

  #sweep(): void {
    const now = idleClock.now = Math.floor(performance.now());
    const of = this.#of;
    const slack = this.#period;
    for (const item of this.#items) {
      if (now - of.activeAt(item) >= of.timeout(item) + slack) {
        this.#items.delete(item);
        of.expire(item);
      }
    }
    if (this.#items.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#period = MAX_PERIOD;
    }
  }
}
