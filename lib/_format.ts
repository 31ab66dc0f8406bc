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

/** Names a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value === "string"
    ? `"${value}"`
    : `${typeof value} ${String(value)}`;
}
