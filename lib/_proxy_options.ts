/**
 * The options both fault proxies share: where to forward, where to listen,
 * and the seed.
 *
 * @module
 */

import type { SocketAddress } from "./socket_connection.ts";
import { checkSeed, randomSeed } from "./_random.ts";
import { describe } from "./_format.ts";

/** What both proxies are given. */
export interface ProxyAddressOptions {
  upstream: SocketAddress;
  hostname?: string;
  port?: number;
  seed?: number;
}

/** The shared options, checked, with their defaults. */
export interface ResolvedProxyOptions {
  upstream: SocketAddress;
  hostname: string;
  port: number;
  seed: number;
}

/**
 * Checks the shared options.
 *
 * @throws {TypeError} If `options` is not an object, `upstream` not an
 * address or `hostname` not a string.
 * @throws {RangeError} If a port or the seed is out of range.
 */
export function checkProxyOptions(
  options: unknown,
  action: string,
): ResolvedProxyOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${action}: "options" must be an object, got ${describe(options)}`,
    );
  }
  const given = options as ProxyAddressOptions;
  const upstream = given.upstream;
  if (
    typeof upstream !== "object" || upstream === null ||
    typeof upstream.hostname !== "string"
  ) {
    throw new TypeError(
      `${action}: "upstream" must be an address ({ hostname, port }), got ${
        describe(upstream)
      }`,
    );
  }
  checkPort(upstream.port, "upstream.port", 1, action);
  const hostname = given.hostname ?? "127.0.0.1";
  if (typeof hostname !== "string") {
    throw new TypeError(
      `${action}: "hostname" must be a string, got ${describe(hostname)}`,
    );
  }
  const port = checkPort(given.port ?? 0, "port", 0, action);
  const seed = given.seed === undefined
    ? randomSeed()
    : checkSeed(given.seed, action);
  return {
    upstream: Object.freeze({
      hostname: upstream.hostname,
      port: upstream.port,
    }),
    hostname,
    port,
    seed,
  };
}

function checkPort(
  value: unknown,
  name: string,
  min: number,
  action: string,
): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < min ||
    value > 65535
  ) {
    throw new RangeError(
      `${action}: "${name}" must be an integer from ${min} to 65535, got ${
        describe(value)
      }`,
    );
  }
  return value;
}
