/**
 * Private helper of the TLS acceptors: handshake deadlines on one timer per
 * listener, not one per connection. Every handshake of a listener gets the
 * same timeout, so deadlines expire in the order they were set: a queue
 * whose head alone needs the timer. A handshake that ends in time is only
 * marked done; its entry is dropped when it reaches the head.
 *
 * @module
 */
import { setTimer } from "./_timer.ts";

/** A deadline in the queue; `done()` once the guarded work ends in time. */
export interface Deadline {
  done(): void;
}

interface Entry extends Deadline {
  readonly at: number;
  readonly expire: () => void;
  finished: boolean;
}

/** Deadlines of one listener, in the order they expire. */
export class DeadlineQueue {
  #entries: Entry[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** How many deadlines are pending (not done, not expired). */
  get size(): number {
    let n = 0;
    for (let i = this.#head; i < this.#entries.length; i++) {
      if (!this.#entries[i]!.finished) n++;
    }
    return n;
  }

  /**
   * Calls `expire` in `ms` unless `done()` is called first.
   *
   * A later deadline set with a shorter `ms` waits for those before it: the
   * timeout is meant to be one value per listener.
   */
  add(ms: number, expire: () => void): Deadline {
    const entry: Entry = {
      at: this.#now() + ms,
      expire,
      finished: false,
      done() {
        entry.finished = true;
      },
    };
    this.#entries.push(entry);
    if (this.#timer === undefined) this.#arm();
    return entry;
  }

  /** Drops every deadline and the timer (the listener closed). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries = [];
    this.#head = 0;
  }

  #arm(): void {
    this.#skipFinished();
    const head = this.#entries[this.#head];
    if (head === undefined) {
      this.#entries = [];
      this.#head = 0;
      return;
    }
    this.#timer = setTimer(this.#fire, Math.max(0, head.at - this.#now()));
  }

  #fire = (): void => {
    this.#timer = undefined;
    const now = this.#now();
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head]!;
      if (!entry.finished && entry.at > now) break;
      this.#head++;
      if (!entry.finished) {
        entry.finished = true;
        entry.expire();
      }
    }
    // Compact now and then, so the array does not grow with a busy listener.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
  };

  #skipFinished(): void {
    while (
      this.#head < this.#entries.length &&
      this.#entries[this.#head]!.finished
    ) this.#head++;
  }
}
