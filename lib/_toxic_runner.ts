/**
 * What each toxic does to one direction of one proxied connection: the
 * per-connection state and behaviour behind a `Toxic` description.
 *
 * @module
 */

import type { Toxic, ToxicType } from "./toxic.ts";
import type { Random } from "./_random.ts";
import { setTimer } from "./_timer.ts";

/** A piece of one direction of a connection; `data: null` is its end. */
export interface Chunk {
  readonly data: Uint8Array | null;
  /** When it arrived (`performance.now()`), for latency that pipelines. */
  readonly at: number;
}

/** Hands a chunk to the rest of the chain; resolves once it is written (or dropped). */
export type Pass = (chunk: Chunk) => Promise<void>;

/** What a toxic may do to its connection. */
export interface LinkControl {
  /** Ends both sides with a FIN, as toxiproxy closes a connection. */
  close(): void;
  /** Ends both sides with a TCP RST. */
  reset(): void;
}

/**
 * Resolves after `ms`, or at once when `signal` aborts; never rejects, and
 * leaves no timer behind.
 */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  if (!(ms > 0) || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimer(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

type Handler = (r: ToxicRunner, chunk: Chunk, pass: Pass) => Promise<void>;

/** What each type does to a chunk; set in the class's static block, which can reach its private state. */
let HANDLERS: Record<ToxicType, Handler>;

/**
 * One toxic on one direction of one connection. Removing the toxic
 * ({@linkcode ToxicRunner.stop}) interrupts whatever it waits for and hands
 * the chunk it holds on unchanged, so a removal never stalls the stream nor
 * drops data the toxic had not already dropped by design.
 */
export class ToxicRunner {
  readonly toxic: Toxic;
  /** False when the toxicity draw spared this connection. */
  readonly active: boolean;
  /** Where chunks it still emits go once removed: the index its successor moved to. */
  removedAt = 0;
  readonly #random: Random;
  readonly #link: LinkControl;
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** limit_data: bytes passed; bandwidth: when the next piece may leave. */
  #count = 0;
  /** timeout: whether data was dropped (the stream is corrupt from then on). */
  #dropped = false;

  constructor(toxic: Toxic, random: Random, link: LinkControl) {
    this.toxic = toxic;
    this.#random = random;
    this.#link = link;
    this.active = toxic.toxicity >= 1 || random.next() < toxic.toxicity;
  }

  /** Starts the toxics that act on time rather than on data. */
  start(): void {
    if (!this.active) return;
    const { type, attributes } = this.toxic;
    if (type === "timeout" && attributes.timeout! > 0) {
      this.#timer = setTimer(() => this.#link.close(), attributes.timeout!);
    } else if (type === "limit_time") {
      this.#timer = setTimer(() => this.#link.close(), attributes.duration!);
    }
  }

  /** Applies the toxic to `chunk`, handing what comes out to `pass`. */
  handle(chunk: Chunk, pass: Pass): Promise<void> {
    if (!this.active || this.#controller.signal.aborted) return pass(chunk);
    return HANDLERS[this.toxic.type](this, chunk, pass);
  }

  /**
   * The toxic was removed. A `timeout` toxic that dropped data closes the
   * connection, as toxiproxy's does: the stream lost bytes and cannot go on.
   */
  stop(): void {
    this.dispose();
    if (this.#dropped) this.#link.close();
  }

  /** The connection is gone: end waits and timers. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#controller.abort();
  }

  static {
    const signal = (r: ToxicRunner): AbortSignal => r.#controller.signal;
    HANDLERS = {
      async latency(r, chunk, pass) {
        if (chunk.data === null) return pass(chunk);
        const jitter = r.toxic.attributes.jitter!;
        const delay = r.toxic.attributes.latency! +
          (jitter > 0 ? r.#random.below(jitter * 2) - jitter : 0);
        const due = chunk.at + delay;
        await wait(due - performance.now(), signal(r));
        return pass({ data: chunk.data, at: Math.max(due, chunk.at) });
      },
      async bandwidth(r, chunk, pass) {
        const rate = r.toxic.attributes.rate!;
        const data = chunk.data;
        if (data === null || rate === 0) return pass(chunk);
        // rate KB/s is `rate` bytes per millisecond; pieces of 100 ms each.
        const piece = rate * 100;
        // Bounded by the chunk's length: each turn passes at least one byte.
        for (let offset = 0; offset < data.length; offset += piece) {
          const part = data.subarray(offset, offset + piece);
          r.#count = Math.max(r.#count, performance.now()) + part.length / rate;
          await wait(r.#count - performance.now(), signal(r));
          if (signal(r).aborted) {
            return pass({ data: data.subarray(offset), at: chunk.at });
          }
          await pass({ data: part, at: chunk.at });
        }
      },
      async slow_close(r, chunk, pass) {
        if (chunk.data === null) {
          await wait(r.toxic.attributes.delay!, signal(r));
        }
        return pass(chunk);
      },
      timeout(r, chunk, pass) {
        if (chunk.data === null) return pass(chunk);
        r.#dropped = true;
        return Promise.resolve();
      },
      async reset_peer(r, chunk, pass) {
        await wait(r.toxic.attributes.timeout!, signal(r));
        // Removed while waiting: the chunk goes on, the connection lives.
        if (signal(r).aborted) return pass(chunk);
        r.#link.reset();
      },
      async slicer(r, chunk, pass) {
        const data = chunk.data;
        if (data === null) return pass(chunk);
        const { average_size, size_variation, delay } = r.toxic.attributes;
        const bounds = sliceBounds(
          data.length,
          average_size!,
          size_variation!,
          r.#random,
        );
        for (let i = 1; i < bounds.length; i++) {
          if (signal(r).aborted) {
            return pass({ data: data.subarray(bounds[i - 1]), at: chunk.at });
          }
          await pass({
            data: data.subarray(bounds[i - 1], bounds[i]),
            at: chunk.at,
          });
          if (i < bounds.length - 1) await wait(delay! / 1000, signal(r));
        }
      },
      async limit_data(r, chunk, pass) {
        const data = chunk.data;
        if (data === null) return pass(chunk);
        const bytes = r.toxic.attributes.bytes!;
        const allowed = Math.max(0, bytes - r.#count);
        const part = allowed < data.length ? data.subarray(0, allowed) : data;
        if (part.length > 0) {
          r.#count += part.length;
          await pass({ data: part, at: chunk.at });
        }
        if (r.#count >= bytes) r.#link.close();
      },
      limit_time(_r, chunk, pass) {
        return pass(chunk);
      },
    };
  }
}

/**
 * The boundaries of a slicer's slices over `length` bytes: halves split
 * again until a piece is within `variation` of `average`, each cut moved by
 * up to `variation` either way (toxiproxy's scheme). Depth is log2(length).
 */
export function sliceBounds(
  length: number,
  average: number,
  variation: number,
  random: Random,
): number[] {
  const bounds = [0];
  const split = (start: number, end: number): void => {
    if (end - start - average <= variation) {
      bounds.push(end);
      return;
    }
    let middle = start + Math.floor((end - start) / 2);
    if (variation > 0) middle += random.below(variation * 2) - variation;
    split(start, middle);
    split(middle, end);
  };
  split(0, length);
  return bounds;
}
