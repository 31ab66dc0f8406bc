/**
 * Private helpers of `DatagramSocket`: the `--unstable-net` check, address
 * resolution, the senders' `HostName`s, and an input stream over one
 * datagram.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

import { HostName, HostNameType } from "./host_name.ts";
import type { InputStream } from "./input_stream.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { describe } from "./_format.ts";

/** The largest UDP payload over IPv4 (65,535 - 8 UDP - 20 IP header bytes). */
export const MAX_IPV4_PAYLOAD = 65_507;
/** The largest UDP payload over IPv6 without jumbograms (65,535 - 8). */
export const MAX_IPV6_PAYLOAD = 65_527;

/** How many senders' `HostName`s are kept for reuse. */
const MAX_CACHED_HOSTS = 256;

/**
 * The senders' `HostName`s, reused for a repeated sender so that a datagram
 * from a known peer costs no `HostName` parse.
 */
export class SenderNames {
  #last: HostName | undefined;
  #hosts = new Map<string, HostName>();

  /** The `HostName` of `address`, reused for a repeated sender. */
  get(address: string): HostName {
    const last = this.#last;
    if (last !== undefined && last.rawName === address) return last;
    let host = this.#hosts.get(address);
    if (host === undefined) {
      // Bounded: a flood of distinct senders costs allocations, not memory.
      if (this.#hosts.size >= MAX_CACHED_HOSTS) this.#hosts.clear();
      host = new HostName(address);
      this.#hosts.set(address, host);
    }
    this.#last = host;
    return host;
  }
}

/** Throws unless `Deno.listenDatagram` exists (it needs `--unstable-net`). */
export function requireUnstableNet(action: string): void {
  if (typeof Deno.listenDatagram === "function") return;
  throw new Error(
    `Cannot ${action}: Deno.listenDatagram is not available; run with --unstable-net (or add "unstable": ["net"] to deno.json)`,
  );
}

/** Turns a `HostName` or string argument into a `HostName`. */
export function toHostName(
  value: HostName | string,
  name: string,
  action: string,
): HostName {
  if (value instanceof HostName) return value;
  if (typeof value !== "string") {
    throw new TypeError(
      `${action}: "${name}" must be a HostName or a string, got ${
        describe(value)
      }`,
    );
  }
  return new HostName(value);
}

/**
 * Resolves a host name to one IP address: literals as they are, `localhost`
 * to the loopback address of `family` (IPv4 unless the socket is IPv6), other
 * names through DNS (A first, then AAAA).
 */
export async function resolveAddress(
  host: HostName,
  family: "v4" | "v6" | undefined,
): Promise<string> {
  if (host.type !== HostNameType.DomainName) return host.canonicalName;
  const name = host.canonicalName;
  if (name === "localhost" || name.endsWith(".localhost")) {
    return family === "v6" ? "::1" : "127.0.0.1";
  }
  const order: ("A" | "AAAA")[] = family === "v6"
    ? ["AAAA", "A"]
    : ["A", "AAAA"];
  let lastError: unknown;
  for (const type of order) {
    try {
      const records = await Deno.resolveDns(name, type);
      if (records[0] !== undefined) return records[0];
    } catch (error) {
      lastError = error;
    }
  }
  if (SocketError.isPermissionError(lastError)) {
    throw SocketError.from(lastError, { action: `Cannot resolve "${name}"` });
  }
  throw new SocketError(`Cannot resolve "${name}": host not found`, {
    status: SocketErrorStatus.HostNotFound,
    cause: lastError,
  });
}

/** The address family of an IP address string. */
export function familyOf(address: string): "v4" | "v6" {
  return address.includes(":") ? "v6" : "v4";
}

/** Whether an IP address string is a loopback address. */
export function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.");
}

/** An input stream over one datagram's bytes; reads end at its end. */
export function bytesInputStream(bytes: Uint8Array): InputStream {
  let offset = 0;
  return {
    readAsync(buffer: Uint8Array, count = buffer.length): Promise<number> {
      if (!(buffer instanceof Uint8Array)) {
        return Promise.reject(
          new TypeError(
            `Cannot read: "buffer" must be a Uint8Array, got ${
              describe(buffer)
            }`,
          ),
        );
      }
      if (!Number.isInteger(count) || count < 0 || count > buffer.length) {
        return Promise.reject(
          new RangeError(
            `Cannot read: "count" must be an integer from 0 to the buffer length ${buffer.length}, got ${
              describe(count)
            }`,
          ),
        );
      }
      const n = Math.min(count, bytes.length - offset);
      buffer.set(bytes.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}
