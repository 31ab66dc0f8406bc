/**
 * The client side of TLS for stream sockets: which protection levels Deno can
 * honour, which server-certificate errors can be ignored
 * (`ignorableServerCertificateErrors`: what the option accepts and what Deno
 * can honour), connecting through `Deno.connectTls` or `node:tls`, STARTTLS
 * through `Deno.startTls`, and telling a server's rejection of the client
 * certificate apart from other failures.
 *
 * @module
 */

import * as tls from "node:tls";
import type { Certificate } from "./certificate.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { SocketProtectionLevel } from "./socket_protection_level.ts";
import type {
  ChainValidationResult,
  TcpBackend,
  TlsBackend,
} from "./stream_socket.ts";
import type { SocketAddress, SocketConnection } from "./socket_connection.ts";
import { NodeTlsConnection } from "./_tls_node_connection.ts";
import { bindError } from "./_node_net_connection.ts";
import { privateKeys } from "./_tls_private_keys.ts";
import { describe, formatEndpoint } from "./_format.ts";

/** What a TLS client needs from the socket's control. */
export interface TlsClientSettings {
  clientCertificate: Certificate | undefined;
  trustedRootCertificates: readonly Certificate[];
  ignorableServerCertificateErrors: readonly SocketErrorStatus[];
  tlsBackend: TlsBackend;
  /** The plain-TCP stack asked for (`"node"` also moves TLS onto `node:tls`, to allow a reset). */
  tcpBackend?: TcpBackend | undefined;
  /** The local address to bind (an {@linkcode EndpointPair}); any when undefined. */
  localAddress?: string | undefined;
  /** The local port to bind; any when undefined. */
  localPort?: number | undefined;
  /** Idle time before the first keep-alive probe; the system's when undefined. */
  keepAliveDelay?: number | undefined;
}

/** A TLS connection and what the handshake told. */
export interface TlsClientResult {
  connection: SocketConnection;
  protectionLevel: SocketProtectionLevel;
  serverCertificate: Certificate | undefined;
}

const L = SocketProtectionLevel;
const S = SocketErrorStatus;

const LEVEL_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(SocketProtectionLevel).map(([name, value]) => [value, name]),
);

/** Names a protection level for messages: `Tls10 (6)`. */
export function levelName(level: SocketProtectionLevel): string {
  return `${LEVEL_NAMES.get(level) ?? "unknown level"} (${String(level)})`;
}

/** Whether a level means TLS. */
export function isTls(level: SocketProtectionLevel): boolean {
  return level === L.Ssl || level === L.Tls12 || level === L.Tls13;
}

/**
 * Refuses levels Deno cannot honour, naming what it supports.
 *
 * @throws {RangeError} For the legacy, null-encryption and Bluetooth levels.
 */
export function checkProtectionLevel(
  level: SocketProtectionLevel,
  action: string,
): void {
  if (
    level === L.PlainSocket || level === L.Unspecified || isTls(level)
  ) return;
  if (typeof level !== "number" || !LEVEL_NAMES.has(level)) {
    throw new RangeError(
      `${action}: "protectionLevel" must be a SocketProtectionLevel, got ${
        describe(level)
      }`,
    );
  }
  throw new RangeError(
    `${action} with protection level ${
      levelName(level)
    }: Deno's TLS stack speaks TLS 1.2 and 1.3 only; use PlainSocket, Ssl, Tls12 or Tls13`,
  );
}

const CHAIN_VALIDATION_RESULTS: Readonly<
  Record<ChainValidationResult, SocketErrorStatus>
> = {
  Untrusted: SocketErrorStatus.CertificateUntrustedRoot,
  IncompleteChain: SocketErrorStatus.CertificateUntrustedRoot,
  Revoked: SocketErrorStatus.CertificateRevoked,
  Expired: SocketErrorStatus.CertificateExpired,
  InvalidSignature: SocketErrorStatus.CertificateIsInvalid,
  WrongUsage: SocketErrorStatus.CertificateWrongUsage,
  InvalidName: SocketErrorStatus.CertificateCommonNameIsIncorrect,
  RevocationInformationMissing: SocketErrorStatus.CertificateNoRevocationCheck,
  RevocationFailure: SocketErrorStatus.CertificateRevocationServerOffline,
};

const CERTIFICATE_STATUSES: ReadonlySet<number> = new Set([
  23,
  24,
  25,
  26,
  27,
  28,
  29,
  30,
]);

/**
 * Reads `control.ignorableServerCertificateErrors`: `SocketErrorStatus`
 * values or UWP `ChainValidationResult` names, stored as statuses.
 *
 * @throws {TypeError} If `value` is not an array, or an entry is not a
 * certificate status or name.
 */
export function ignorableStatuses(
  value: readonly (SocketErrorStatus | ChainValidationResult)[],
): readonly SocketErrorStatus[] {
  if (!Array.isArray(value)) {
    throw new TypeError(
      `Cannot set ignorableServerCertificateErrors: "ignorableServerCertificateErrors" must be an array, got ${
        describe(value)
      }`,
    );
  }
  return Object.freeze(value.map(certificateStatus));
}

function certificateStatus(value: unknown, index: number): SocketErrorStatus {
  if (typeof value === "number" && CERTIFICATE_STATUSES.has(value)) {
    return value as SocketErrorStatus;
  }
  if (
    typeof value === "string" && Object.hasOwn(CHAIN_VALIDATION_RESULTS, value)
  ) {
    return CHAIN_VALIDATION_RESULTS[value as ChainValidationResult];
  }
  throw new TypeError(
    `Cannot set ignorableServerCertificateErrors: "ignorableServerCertificateErrors[${index}]" must be a certificate SocketErrorStatus (23 to 30) or a ChainValidationResult name (${
      Object.keys(CHAIN_VALIDATION_RESULTS).join(", ")
    }), got ${describe(value)}`,
  );
}

/** Certificate errors Deno can ignore, and the option that does it. */
const IGNORABLE_ON_DENO: ReadonlySet<SocketErrorStatus> = new Set([
  S.CertificateCommonNameIsIncorrect,
  // Deno (rustls) never checks revocation, so these errors cannot occur: ignoring them is a no-op.
  S.CertificateNoRevocationCheck,
  S.CertificateRevocationServerOffline,
]);

/**
 * Checks `ignorableServerCertificateErrors` against what Deno can honour.
 *
 * @returns Whether to disable host-name verification.
 * @throws {RangeError} Naming the first error that cannot be ignored.
 */
function ignoreHostname(
  ignorable: readonly SocketErrorStatus[],
  endpoint: SocketAddress,
): boolean {
  for (const status of ignorable) {
    if (IGNORABLE_ON_DENO.has(status)) continue;
    const name = Object.entries(S).find(([, value]) => value === status)?.[0];
    throw new RangeError(
      `Cannot connect to ${
        formatEndpoint(endpoint)
      }: "ignorableServerCertificateErrors" holds ${name} (${status}), which Deno's TLS stack cannot ignore; only CertificateCommonNameIsIncorrect can be ignored (add the issuing CA to "trustedRootCertificates" instead)`,
    );
  }
  return ignorable.includes(S.CertificateCommonNameIsIncorrect);
}

/** Opens a TLS connection with the stack the level and settings call for. */
export async function connectTls(
  endpoint: SocketAddress,
  serverName: string,
  level: SocketProtectionLevel,
  settings: TlsClientSettings,
  signal: AbortSignal,
): Promise<TlsClientResult> {
  const skipName = ignoreHostname(
    settings.ignorableServerCertificateErrors,
    endpoint,
  );
  // Only node:tls can pin TLS 1.3, report the version and the server
  // certificate, bind a local endpoint, set a keep-alive delay and reset.
  if (
    settings.tlsBackend === "node" || level === L.Tls13 ||
    settings.tcpBackend === "node" || settings.localAddress !== undefined ||
    settings.localPort !== undefined || settings.keepAliveDelay !== undefined
  ) {
    return await connectNode(
      endpoint,
      serverName,
      level,
      settings,
      skipName,
      signal,
    );
  }
  const key = keyOf(settings.clientCertificate);
  const attempt = Deno.connectTls({
    hostname: endpoint.hostname,
    port: endpoint.port,
    caCerts: settings.trustedRootCertificates.map((c) => c.pem),
    unsafelyDisableHostnameVerification: skipName,
    ...(key === undefined
      ? {}
      : { cert: settings.clientCertificate!.pem, key }),
  });
  const conn = await abortable(attempt, signal, (c) => c.close());
  try {
    await abortable(conn.handshake(), signal, () => {});
  } catch (error) {
    conn.close();
    throw error;
  }
  if (signal.aborted) {
    conn.close();
    throw signal.reason;
  }
  return {
    connection: conn,
    protectionLevel: level,
    serverCertificate: undefined,
  };
}

/** Upgrades an open TCP connection (STARTTLS) with `Deno.startTls`. */
export async function upgradeTls(
  conn: Deno.TcpConn,
  endpoint: SocketAddress,
  serverName: string,
  level: SocketProtectionLevel,
  settings: TlsClientSettings,
  signal: AbortSignal,
): Promise<TlsClientResult> {
  if (level === L.Tls13) {
    throw new RangeError(
      `Cannot upgrade the connection to ${
        formatEndpoint(endpoint)
      } with protection level ${
        levelName(level)
      }: Deno.startTls cannot pin TLS 1.3; use Ssl or Tls12 (TLS 1.3 is still negotiated when the server offers it)`,
    );
  }
  const skipName = ignoreHostname(
    settings.ignorableServerCertificateErrors,
    endpoint,
  );
  const tlsConn = await Deno.startTls(conn, {
    hostname: serverName,
    caCerts: settings.trustedRootCertificates.map((c) => c.pem),
    unsafelyDisableHostnameVerification: skipName,
  });
  try {
    await abortable(tlsConn.handshake(), signal, () => {});
  } catch (error) {
    tlsConn.close();
    throw error;
  }
  return {
    connection: tlsConn,
    protectionLevel: level,
    serverCertificate: undefined,
  };
}

async function connectNode(
  endpoint: SocketAddress,
  serverName: string,
  level: SocketProtectionLevel,
  settings: TlsClientSettings,
  skipName: boolean,
  signal: AbortSignal,
): Promise<TlsClientResult> {
  const key = keyOf(settings.clientCertificate);
  const extra = settings.trustedRootCertificates.map((c) => c.pem);
  const socket = tls.connect({
    host: endpoint.hostname,
    port: endpoint.port,
    // SNI carries DNS names only.
    ...(isIpAddress(serverName) ? {} : { servername: serverName }),
    // Deno's node:tls adds `ca` to its built-in roots (reading tls.rootCertificates would need --allow-sys).
    ...(extra.length === 0 ? {} : { ca: extra }),
    ...(key === undefined
      ? {}
      : { cert: settings.clientCertificate!.pem, key }),
    minVersion: level === L.Tls13 ? "TLSv1.3" : "TLSv1.2",
    maxVersion: level === L.Tls12 ? "TLSv1.2" : "TLSv1.3",
    ...(skipName ? { checkServerIdentity: () => undefined } : {}),
    ...(settings.localAddress === undefined
      ? {}
      : { localAddress: settings.localAddress }),
    ...(settings.localPort === undefined
      ? {}
      : { localPort: settings.localPort }),
  });
  if (settings.keepAliveDelay !== undefined) {
    socket.setKeepAlive(true, settings.keepAliveDelay);
  }
  const ready = new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  try {
    await abortable(ready, signal, () => {});
  } catch (error) {
    socket.destroy();
    throw bindError(error) ?? error;
  }
  const connection = new NodeTlsConnection(socket);
  return {
    connection,
    protectionLevel: connection.protocol === "TLSv1.3" ? L.Tls13 : L.Tls12,
    serverCertificate: connection.peerCertificate(),
  };
}

function keyOf(certificate: Certificate | undefined): string | undefined {
  return certificate === undefined ? undefined : privateKeys.get(certificate);
}

function isIpAddress(name: string): boolean {
  return name.includes(":") || /^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/** Races `promise` with `signal`; a result that arrives after the abort is released with `release`. */
function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  release: (value: T) => void,
): Promise<T> {
  if (signal.aborted) {
    promise.then(release, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.then(release, () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** TLS alerts a server sends when it refuses the client's certificate (or its absence). */
const CLIENT_CERTIFICATE_ALERT =
  /(?:received fatal alert|alert): ?(CertificateRequired|BadCertificate|UnsupportedCertificate|CertificateRevoked|CertificateExpired|CertificateUnknown|UnknownCA|AccessDenied)|certificate required|peer did not return a certificate/i;

/**
 * Recognises a server's refusal of the client certificate (TLS 1.3 servers
 * send it after the handshake, so it surfaces on the first read or write).
 *
 * @returns A `SocketError` saying so, or `undefined` for any other error.
 */
export function clientCertificateRejection(
  error: unknown,
  endpoint: SocketAddress,
  certificate: Certificate | undefined,
): SocketError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const match = CLIENT_CERTIFICATE_ALERT.exec(message);
  if (match === null) return undefined;
  const where = formatEndpoint(endpoint);
  const missing = certificate === undefined ||
    /CertificateRequired|certificate required|did not return/i.test(match[0]);
  if (missing) {
    return new SocketError(
      `The server at ${where} rejected the connection: it requires a client certificate (${message}); set socket.control.clientCertificate before connecting`,
      { status: S.CertificateIsInvalid, endpoint, cause: error },
    );
  }
  const status = SocketError.getStatus(error);
  return new SocketError(
    `The server at ${where} rejected the client certificate "${certificate.subject}" (${message}); check that the server trusts its issuer "${certificate.issuer}" and that it is valid for client authentication`,
    {
      status: status === S.Unknown ? S.CertificateIsInvalid : status,
      endpoint,
      cause: error,
    },
  );
}
