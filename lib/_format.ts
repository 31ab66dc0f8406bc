/**
 * Formatting shared by error messages.
 *
 * @module
 */

import type { SocketAddress } from "./socket_connection.ts";

/** Formats `host:port`, with brackets around IPv6 addresses. */
export function formatEndpoint(endpoint: SocketAddress): string {
  const host = endpoint.hostname.includes(":")
    ? `[${endpoint.hostname}]`
    : endpoint.hostname;
  return `${host}:${endpoint.port}`;
}

/**
 * Renders a value received for an argument, for the `got <value>` end of an
 * argument error: `Cannot <action>: "<argument>" must be <what>, got <value>`.
 * Strings are quoted (so `"1"` and `1` differ), bigints end in `n`, objects
 * are named by their class, functions are not printed.
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return "a function";
    case "object":
      if (value === null) return "null";
      return value.constructor?.name ?? "an object";
    default:
      return String(value);
  }
}
