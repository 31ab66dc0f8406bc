/**
 * The protection level of a stream socket, with the UWP values.
 *
 * @module
 */

/**
 * How a {@linkcode StreamSocket} protects its traffic (UWP's
 * `SocketProtectionLevel`, same numeric values).
 *
 * Deno's TLS stack (rustls) speaks TLS 1.2 and TLS 1.3 only, so `Ssl`,
 * `Tls12` and `Tls13` are honoured; the legacy and Bluetooth levels are
 * refused with a clear error.
 *
 * @example Name a level
 * ```ts
 * import assert from "node:assert/strict";
 * import { SocketProtectionLevel } from "@seed/sockets";
 *
 * assert.equal(SocketProtectionLevel.Tls12, 8);
 * ```
 */
export const SocketProtectionLevel = {
  /** Plain TCP, no encryption. */
  PlainSocket: 0,
  /** TLS, the best version both sides speak (TLS 1.2 or 1.3 on Deno). */
  Ssl: 1,
  /** TLS allowing null encryption: not available on Deno. */
  SslAllowNullEncryption: 2,
  /** Bluetooth: not available on Deno. */
  BluetoothEncryptionAllowNullAuthentication: 3,
  /** Bluetooth: not available on Deno. */
  BluetoothEncryptionWithAuthentication: 4,
  /** SSL 3 with weak ciphers: not available on Deno. */
  Ssl3AllowWeakEncryption: 5,
  /** TLS 1.0: not available on Deno. */
  Tls10: 6,
  /** TLS 1.1: not available on Deno. */
  Tls11: 7,
  /** TLS 1.2 or newer (Deno negotiates TLS 1.3 when the server offers it). */
  Tls12: 8,
  /** Not known yet (before connecting). */
  Unspecified: 9,
  /** TLS 1.3 (an addition of this library; not a UWP value). */
  Tls13: 10,
} as const;

/** One of the {@linkcode SocketProtectionLevel} values. */
export type SocketProtectionLevel =
  typeof SocketProtectionLevel[keyof typeof SocketProtectionLevel];

// TlsBackend lived here once: re-exported so that the "./socket-protection-level"
// subpath keeps it. It belongs with the other backend choice, in stream_socket.ts.
export type { TlsBackend } from "./stream_socket.ts";
