/**
 * The toxics a {@linkcode FaultProxy} applies: toxiproxy's names,
 * attributes, units and defaults.
 *
 * @module
 */

/**
 * A toxic's kind. Each takes the attributes listed (all default to 0, as in
 * toxiproxy):
 *
 * | type | attributes | what it does |
 * | --- | --- | --- |
 * | `latency` | `latency`, `jitter` (ms) | delays each chunk by `latency` ± `jitter` |
 * | `bandwidth` | `rate` (KB/s, 1 KB = 1000 bytes; 0 = unlimited) | limits the throughput |
 * | `slow_close` | `delay` (ms) | delays the end of the stream |
 * | `timeout` | `timeout` (ms) | drops all data, and closes the connection after `timeout` (0: never) |
 * | `reset_peer` | `timeout` (ms) | once data arrives, waits `timeout`, then resets both sides with a real TCP RST |
 * | `slicer` | `average_size`, `size_variation` (bytes), `delay` (µs) | cuts chunks into slices of `average_size` ± `size_variation` |
 * | `limit_data` | `bytes` | passes that many bytes, then closes the connection |
 * | `limit_time` | `duration` (ms) | passes data for `duration`, then closes the connection ("cable unplugged"; not in toxiproxy) |
 *
 * @example A toxic type
 * ```ts
 * import type { ToxicType } from "@seed/sockets/testing";
 *
 * const type: ToxicType = "latency";
 * ```
 */
export type ToxicType =
  | "latency"
  | "bandwidth"
  | "slow_close"
  | "timeout"
  | "reset_peer"
  | "slicer"
  | "limit_data"
  | "limit_time";

/**
 * Which direction a toxic acts on: `"downstream"` is what the server sends
 * to the client, `"upstream"` what the client sends to the server.
 *
 * @example Slow uploads
 * ```ts
 * import type { ToxicStream } from "@seed/sockets/testing";
 *
 * const stream: ToxicStream = "upstream";
 * ```
 */
export type ToxicStream = "downstream" | "upstream";

/**
 * A toxic's attributes, with toxiproxy's names and units. Each toxic type
 * takes only its own (see {@linkcode ToxicType}); all are non-negative
 * integers.
 *
 * @example A latency of 100 ± 10 ms
 * ```ts
 * import type { ToxicAttributes } from "@seed/sockets/testing";
 *
 * const attributes: ToxicAttributes = { latency: 100, jitter: 10 };
 * ```
 */
export interface ToxicAttributes {
  /**
   * `latency`: the delay added to each chunk, in milliseconds.
   *
   * @default {0}
   */
  latency?: number;
  /**
   * `latency`: the most the delay varies either way, in milliseconds.
   *
   * @default {0}
   */
  jitter?: number;
  /**
   * `bandwidth`: the rate in KB/s (1 KB = 1000 bytes); 0 means unlimited.
   *
   * @default {0}
   */
  rate?: number;
  /**
   * `slow_close`: how long the end of the stream is held, in milliseconds.
   * `slicer`: the pause after each slice, in microseconds.
   *
   * @default {0}
   */
  delay?: number;
  /**
   * `timeout`: when the connection is closed, in milliseconds (0: never).
   * `reset_peer`: how long after the first data the connection is reset.
   *
   * @default {0}
   */
  timeout?: number;
  /**
   * `slicer`: the average slice, in bytes (at least 1).
   *
   * @default {1}
   */
  average_size?: number;
  /**
   * `slicer`: how much a slice varies either way, in bytes (less than
   * `average_size`).
   *
   * @default {0}
   */
  size_variation?: number;
  /**
   * `limit_data`: the bytes passed before the connection is closed.
   *
   * @default {0}
   */
  bytes?: number;
  /**
   * `limit_time`: how long data passes before the connection is closed, in
   * milliseconds, counted from when the toxic reached the connection.
   *
   * @default {0}
   */
  duration?: number;
}

/**
 * What {@linkcode FaultProxy.prototype.addToxic} takes.
 *
 * @example Half the connections get 50 ms more on uploads
 * ```ts
 * import type { ToxicOptions } from "@seed/sockets/testing";
 *
 * const options: ToxicOptions = {
 *   type: "latency",
 *   stream: "upstream",
 *   toxicity: 0.5,
 *   attributes: { latency: 50 },
 * };
 * ```
 */
export interface ToxicOptions {
  /**
   * The toxic's name, unique on its proxy.
   *
   * @default {`${type}_${stream}`}
   */
  name?: string;
  /** The kind of toxic. */
  type: ToxicType;
  /**
   * The direction it acts on.
   *
   * @default {"downstream"}
   */
  stream?: ToxicStream;
  /**
   * The probability, from 0 to 1, that the toxic applies to a connection
   * (drawn once per connection from the proxy's seeded generator).
   *
   * @default {1}
   */
  toxicity?: number;
  /** The toxic's attributes; missing ones take their defaults. */
  attributes?: ToxicAttributes;
}

/**
 * A toxic on a proxy, as {@linkcode FaultProxy.prototype.toxics} lists it,
 * with every default filled in.
 *
 * @example List a proxy's toxics
 * ```ts
 * import assert from "node:assert/strict";
 * import { FaultProxy } from "@seed/sockets/testing";
 *
 * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
 * proxy.addToxic({ type: "latency", attributes: { latency: 20 } });
 * const [toxic] = proxy.toxics;
 * assert.equal(toxic?.name, "latency_downstream");
 * assert.deepEqual(toxic?.attributes, { latency: 20, jitter: 0 });
 * ```
 */
export interface Toxic {
  /** The toxic's name. */
  readonly name: string;
  /** The kind of toxic. */
  readonly type: ToxicType;
  /** The direction it acts on. */
  readonly stream: ToxicStream;
  /** The probability that it applies to a connection. */
  readonly toxicity: number;
  /** Its attributes, defaults included. */
  readonly attributes: Readonly<ToxicAttributes>;
}
