/**
 * Loss, duplication, reordering and latency for one direction of one
 * datagram flow through a `DatagramFaultProxy`, with seeded choices.
 *
 * @module
 */

import type { DatagramFaults } from "./datagram_fault_proxy.ts";
import type { Random } from "./_random.ts";
import { describe } from "./_format.ts";
import { setTimer } from "./_timer.ts";

/** How long a datagram held back for reordering waits for a successor before it goes anyway. */
export const REORDER_HOLD_MS = 50;

/** Faults with every field filled in. */
export type ResolvedFaults = Readonly<Required<DatagramFaults>>;

/** No faults. */
export const NO_FAULTS: ResolvedFaults = Object.freeze({
  loss: 0,
  duplication: 0,
  reordering: 0,
  latency: 0,
  jitter: 0,
});

const PROBABILITIES = ["loss", "duplication", "reordering"] as const;
const DURATIONS = ["latency", "jitter"] as const;

/** Validates faults and fills in zeros. */
export function checkFaults(faults: unknown, action: string): ResolvedFaults {
  if (typeof faults !== "object" || faults === null) {
    throw new TypeError(
      `${action}: "faults" must be an object, got ${describe(faults)}`,
    );
  }
  const known: readonly string[] = [...PROBABILITIES, ...DURATIONS];
  for (const key of Object.keys(faults)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${action}: "faults" must hold only datagram faults (${
          known.join(", ")
        }), got "${key}"`,
      );
    }
  }
  const given = faults as DatagramFaults;
  const resolved: Record<string, number> = { ...NO_FAULTS };
  for (const key of PROBABILITIES) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      throw new RangeError(
        `${action}: "faults.${key}" must be a probability from 0 to 1, got ${
          describe(value)
        }`,
      );
    }
    resolved[key] = value;
  }
  for (const key of DURATIONS) {
    const value = given[key];
    if (value === undefined) continue;
    if (
      typeof value !== "number" || !Number.isSafeInteger(value) || value < 0
    ) {
      throw new RangeError(
        `${action}: "faults.${key}" must be a non-negative integer of milliseconds, got ${
          describe(value)
        }`,
      );
    }
    resolved[key] = value;
  }
  return Object.freeze(resolved) as ResolvedFaults;
}

/**
 * Applies the current faults to each datagram of one direction and calls
 * `send` when (and as often as) it is to be delivered. Choices are drawn in
 * a fixed order per datagram, so the same seed and the same datagrams give
 * the same deliveries.
 */
export class FaultLane {
  readonly #random: Random;
  readonly #faults: () => ResolvedFaults;
  readonly #send: (datagram: Uint8Array) => void;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #held:
    | { datagram: Uint8Array; timer: ReturnType<typeof setTimeout> }
    | undefined;
  #closed = false;

  constructor(
    random: Random,
    faults: () => ResolvedFaults,
    send: (datagram: Uint8Array) => void,
  ) {
    this.#random = random;
    this.#faults = faults;
    this.#send = send;
  }

  /** Takes one datagram (the lane keeps it: pass a copy if the buffer is reused). */
  push(datagram: Uint8Array): void {
    if (this.#closed) return;
    const faults = this.#faults();
    const random = this.#random;
    if (random.next() < faults.loss) return;
    const copies = random.next() < faults.duplication ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const jitter = faults.jitter > 0
        ? random.below(faults.jitter * 2 + 1) - faults.jitter
        : 0;
      const delay = Math.max(0, faults.latency + jitter);
      const reorder = random.next() < faults.reordering;
      this.#after(
        delay,
        () => reorder ? this.#hold(datagram) : this.#deliver(datagram),
      );
    }
  }

  /** Drops what is delayed or held, and clears every timer. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#held !== undefined) clearTimeout(this.#held.timer);
    this.#held = undefined;
  }

  #after(delay: number, action: () => void): void {
    if (delay === 0) {
      action();
      return;
    }
    const timer = setTimer(() => {
      this.#timers.delete(timer);
      action();
    }, delay);
    this.#timers.add(timer);
  }

  /** Sends `datagram`, then the one held back for it, if any. */
  #deliver(datagram: Uint8Array): void {
    this.#send(datagram);
    this.#release();
  }

  /**
   * Holds `datagram` until the next one has gone (or REORDER_HOLD_MS
   * passed). If one is held already, `datagram` overtakes it instead: the
   * held one still goes after its successor.
   */
  #hold(datagram: Uint8Array): void {
    if (this.#held !== undefined) {
      this.#deliver(datagram);
      return;
    }
    const timer = setTimeout(() => this.#release(), REORDER_HOLD_MS);
    this.#held = { datagram, timer };
  }

  #release(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    clearTimeout(held.timer);
    this.#send(held.datagram);
  }
}
