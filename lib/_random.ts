/**
 * A small seeded pseudo-random generator for the fault proxies: the same seed
 * gives the same faults, so a failing test run can be replayed.
 *
 * @module
 */

import { describe } from "./_format.ts";

/**
 * Mulberry32: 32 bits of state, a full period of 2^32, and statistics that
 * are ample for choosing faults. Not for anything secret.
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n), for n >= 1. */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/**
 * Derives the seed of one stream of choices (one connection, one direction)
 * from the proxy's seed, so that concurrent connections do not share a
 * sequence and their interleaving cannot change what each one sees.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = seed >>> 0;
  for (const part of parts) {
    // splitmix32's finaliser over the running value and each part.
    h = (h ^ Math.imul(part >>> 0, 0x9e3779b9)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
    h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
    h = (h ^ (h >>> 15)) >>> 0;
  }
  return h;
}

/** A fresh seed for proxies given none: still reported, so the run can be replayed. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** Checks a `seed` option: an integer from 0 to 2^32 - 1. */
export function checkSeed(value: unknown, action: string): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 0 ||
    value > 0xffffffff
  ) {
    throw new RangeError(
      `${action}: "seed" must be an integer from 0 to 4294967295, got ${
        describe(value)
      }`,
    );
  }
  return value;
}
