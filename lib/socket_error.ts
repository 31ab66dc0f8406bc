/**
 * Network failures as one error class with UWP's `SocketErrorStatus`, mapped
 * from whatever Deno (or `node:net`, `node:tls`, `AbortSignal`) throws.
 *
 * The mapping is pure: it reads `name`, `code`, `message` and `cause` and
 * never calls `Deno.*`, so it works on errors from any runtime.
 *
 * @module
 */

import type { SocketAddress } from "./socket_connection.ts";
import { describe } from "./_format.ts";

/**
 * Why a network operation failed, with UWP's `SocketErrorStatus` names and
 * numeric values.
 *
 * `Unknown` is used for failures that have no better status. Permission
 * failures (`--allow-net` missing) have no status of their own: check them
 * with {@linkcode SocketError.isPermissionError}.
 *
 * @example Compare a status
 * ```ts
 * import assert from "node:assert/strict";
 * import { SocketErrorStatus } from "@seed/sockets";
 *
 * assert.equal(SocketErrorStatus.ConnectionRefused, 12);
 * assert.equal(SocketErrorStatus.CertificateIsInvalid, 30);
 * ```
 */
export const SocketErrorStatus = {
  /** No better status applies; see the error's `cause`. */
  Unknown: 0,
  /** The operation was aborted (signal, or the socket closed while pending). */
  OperationAborted: 1,
  /** The HTTP server sent an invalid response. */
  HttpInvalidServerResponse: 2,
  /** The connection or operation timed out. */
  ConnectionTimedOut: 3,
  /** The address family (e.g. IPv6) is not supported. */
  AddressFamilyNotSupported: 4,
  /** The socket type is not supported. */
  SocketTypeNotSupported: 5,
  /** The host name does not exist. */
  HostNotFound: 6,
  /** The name exists but has no record of the requested type. */
  NoDataRecordOfRequestedType: 7,
  /** Temporary failure in name resolution. */
  NonAuthoritativeHostNotFound: 8,
  /** The class type was not found. */
  ClassTypeNotFound: 9,
  /** The local address and port are already in use. */
  AddressAlreadyInUse: 10,
  /** The local address does not belong to this machine. */
  CannotAssignRequestedAddress: 11,
  /** Nothing listens on the remote port. */
  ConnectionRefused: 12,
  /** The network cannot be reached. */
  NetworkIsUnreachable: 13,
  /** The host cannot be reached. */
  UnreachableHost: 14,
  /** The network is down. */
  NetworkIsDown: 15,
  /** The network dropped the connection on reset. */
  NetworkDroppedConnectionOnReset: 16,
  /** The local system aborted the connection. */
  SoftwareCausedConnectionAbort: 17,
  /** The peer reset or closed the connection. */
  ConnectionResetByPeer: 18,
  /** The host is down. */
  HostIsDown: 19,
  /** Name resolution returned no usable address. */
  NoAddressesFound: 20,
  /** The process has too many open files (sockets). */
  TooManyOpenFiles: 21,
  /** A datagram was larger than the transport allows. */
  MessageTooLong: 22,
  /** The certificate has expired (or is not yet valid). */
  CertificateExpired: 23,
  /** The certificate chains to an untrusted root. */
  CertificateUntrustedRoot: 24,
  /** The certificate is not valid for the host name. */
  CertificateCommonNameIsIncorrect: 25,
  /** The certificate is not valid for the requested usage. */
  CertificateWrongUsage: 26,
  /** The certificate has been revoked. */
  CertificateRevoked: 27,
  /** The certificate's revocation status could not be checked. */
  CertificateNoRevocationCheck: 28,
  /** The revocation server was offline. */
  CertificateRevocationServerOffline: 29,
  /** The certificate is invalid (bad signature, bad encoding, ...). */
  CertificateIsInvalid: 30,
} as const;

/** One of the {@linkcode SocketErrorStatus} values. */
export type SocketErrorStatus =
  typeof SocketErrorStatus[keyof typeof SocketErrorStatus];

const STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(SocketErrorStatus).map(([name, value]) => [value, name]),
);

/**
 * Returns the member name of a {@linkcode SocketErrorStatus} value, for
 * messages and logs.
 *
 * @param status The status value.
 * @returns The member name (e.g. `"ConnectionRefused"`), or the number as a
 * string if it is not a known status.
 *
 * @example Name a status
 * ```ts
 * import assert from "node:assert/strict";
 * import { SocketErrorStatus, socketErrorStatusName } from "@seed/sockets";
 *
 * assert.equal(
 *   socketErrorStatusName(SocketErrorStatus.HostNotFound),
 *   "HostNotFound",
 * );
 * ```
 */
export function socketErrorStatusName(status: SocketErrorStatus): string {
  return STATUS_NAMES.get(status) ?? String(status);
}

/**
 * A remote (or local) network endpoint.
 *
 * @deprecated Use {@linkcode SocketAddress}: the same shape under the name
 * the rest of the library uses.
 */
export type SocketEndpoint = SocketAddress;

/** Options for the {@linkcode SocketError} constructor. */
export interface SocketErrorOptions {
  /** Why the operation failed. */
  status: SocketErrorStatus;
  /**
   * The endpoint the operation was about, when known.
   *
   * @default {undefined}
   */
  endpoint?: SocketAddress | undefined;
  /**
   * The original error (usually the one Deno threw).
   *
   * @default {undefined}
   */
  cause?: unknown;
}

/** Context for {@linkcode SocketError.from}. */
export interface SocketErrorContext {
  /** What was being done, in sentence case: `"Cannot connect to"`. */
  action: string;
  /**
   * The endpoint the action was about; printed after the action.
   *
   * @default {undefined}
   */
  endpoint?: SocketAddress | undefined;
}

type Status = SocketErrorStatus;
const S = SocketErrorStatus;

/** Deno error class names (and DOMException names) with a definite status. */
const BY_NAME: ReadonlyMap<string, Status> = new Map<string, Status>([
  ["ConnectionRefused", S.ConnectionRefused],
  ["ConnectionReset", S.ConnectionResetByPeer],
  ["ConnectionAborted", S.SoftwareCausedConnectionAbort],
  // ENOTCONN and a premature end of stream mean the connection is gone.
  ["NotConnected", S.ConnectionResetByPeer],
  ["BrokenPipe", S.ConnectionResetByPeer],
  ["UnexpectedEof", S.ConnectionResetByPeer],
  ["WriteZero", S.ConnectionResetByPeer],
  ["AddrInUse", S.AddressAlreadyInUse],
  ["AddrNotAvailable", S.CannotAssignRequestedAddress],
  ["NetworkUnreachable", S.NetworkIsUnreachable],
  ["TimedOut", S.ConnectionTimedOut],
  ["TimeoutError", S.ConnectionTimedOut],
  ["Interrupted", S.OperationAborted],
  ["BadResource", S.OperationAborted],
  ["AbortError", S.OperationAborted],
]);

/** Errno-style `code` values (Deno, `node:net`, `node:dns`, `node:tls`). */
const BY_CODE: ReadonlyMap<string, Status> = new Map<string, Status>([
  ["EINTR", S.OperationAborted],
  ["ECANCELED", S.OperationAborted],
  ["ECANCELLED", S.OperationAborted],
  ["EBADF", S.OperationAborted],
  ["ETIMEDOUT", S.ConnectionTimedOut],
  ["EAFNOSUPPORT", S.AddressFamilyNotSupported],
  ["EPFNOSUPPORT", S.AddressFamilyNotSupported],
  ["EBADFAMILY", S.AddressFamilyNotSupported],
  ["ESOCKTNOSUPPORT", S.SocketTypeNotSupported],
  ["EPROTONOSUPPORT", S.SocketTypeNotSupported],
  ["EPROTOTYPE", S.SocketTypeNotSupported],
  ["ENOTFOUND", S.HostNotFound],
  ["EAI_NONAME", S.HostNotFound],
  ["ENONAME", S.HostNotFound],
  ["EBADNAME", S.HostNotFound],
  ["ENODATA", S.NoDataRecordOfRequestedType],
  ["EAI_NODATA", S.NoDataRecordOfRequestedType],
  ["EAI_AGAIN", S.NonAuthoritativeHostNotFound],
  ["ESERVFAIL", S.NonAuthoritativeHostNotFound],
  // node:dns uses ETIMEOUT (not ETIMEDOUT) only for DNS query time-outs.
  ["ETIMEOUT", S.NonAuthoritativeHostNotFound],
  ["EADDRINUSE", S.AddressAlreadyInUse],
  ["EADDRNOTAVAIL", S.CannotAssignRequestedAddress],
  ["ECONNREFUSED", S.ConnectionRefused],
  ["ENETUNREACH", S.NetworkIsUnreachable],
  ["EHOSTUNREACH", S.UnreachableHost],
  ["ENETDOWN", S.NetworkIsDown],
  ["ENETRESET", S.NetworkDroppedConnectionOnReset],
  ["ECONNABORTED", S.SoftwareCausedConnectionAbort],
  ["ECONNRESET", S.ConnectionResetByPeer],
  ["EPIPE", S.ConnectionResetByPeer],
  ["ENOTCONN", S.ConnectionResetByPeer],
  ["EHOSTDOWN", S.HostIsDown],
  ["EMFILE", S.TooManyOpenFiles],
  ["ENFILE", S.TooManyOpenFiles],
  ["EMSGSIZE", S.MessageTooLong],
  ["CERT_HAS_EXPIRED", S.CertificateExpired],
  ["CERT_NOT_YET_VALID", S.CertificateExpired],
  ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", S.CertificateUntrustedRoot],
  ["SELF_SIGNED_CERT_IN_CHAIN", S.CertificateUntrustedRoot],
  ["DEPTH_ZERO_SELF_SIGNED_CERT", S.CertificateUntrustedRoot],
  ["UNABLE_TO_GET_ISSUER_CERT", S.CertificateUntrustedRoot],
  ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", S.CertificateUntrustedRoot],
  ["CERT_UNTRUSTED", S.CertificateUntrustedRoot],
  ["ERR_TLS_CERT_ALTNAME_INVALID", S.CertificateCommonNameIsIncorrect],
  ["HOSTNAME_MISMATCH", S.CertificateCommonNameIsIncorrect],
  ["INVALID_PURPOSE", S.CertificateWrongUsage],
  ["CERT_REVOKED", S.CertificateRevoked],
  ["UNABLE_TO_GET_CRL", S.CertificateNoRevocationCheck],
  ["CRL_HAS_EXPIRED", S.CertificateNoRevocationCheck],
  ["CERT_SIGNATURE_FAILURE", S.CertificateIsInvalid],
  ["CERT_REJECTED", S.CertificateIsInvalid],
  ["UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY", S.CertificateIsInvalid],
  ["CERT_CHAIN_TOO_LONG", S.CertificateIsInvalid],
  ["INVALID_CA", S.CertificateIsInvalid],
]);

/**
 * `(os error N)` numbers that mean the same on every platform: 24 (EMFILE on
 * all Unixes) and the Windows `WSAE*`/`ERROR_*` codes, which no Unix uses.
 */
const BY_OS_ERROR: ReadonlyMap<number, Status> = new Map<number, Status>([
  [24, S.TooManyOpenFiles],
  [995, S.OperationAborted],
  [1225, S.ConnectionRefused],
  [1236, S.SoftwareCausedConnectionAbort],
  [10004, S.OperationAborted],
  [10024, S.TooManyOpenFiles],
  [10040, S.MessageTooLong],
  [10043, S.SocketTypeNotSupported],
  [10044, S.SocketTypeNotSupported],
  [10047, S.AddressFamilyNotSupported],
  [10048, S.AddressAlreadyInUse],
  [10049, S.CannotAssignRequestedAddress],
  [10050, S.NetworkIsDown],
  [10051, S.NetworkIsUnreachable],
  [10052, S.NetworkDroppedConnectionOnReset],
  [10053, S.SoftwareCausedConnectionAbort],
  [10054, S.ConnectionResetByPeer],
  [10060, S.ConnectionTimedOut],
  [10061, S.ConnectionRefused],
  [10064, S.HostIsDown],
  [10065, S.UnreachableHost],
  [11001, S.HostNotFound],
  [11002, S.NonAuthoritativeHostNotFound],
  [11004, S.NoDataRecordOfRequestedType],
]);

/**
 * Message patterns, first match wins: TLS (rustls `Debug` and `Display`
 * forms, TLS alerts from the peer, OpenSSL texts), then DNS, then OS texts.
 */
const BY_MESSAGE: ReadonlyArray<readonly [RegExp, Status]> = [
  // Before "Expired": rustls' ExpiredRevocationList also starts with it.
  [
    /RevocationList|revocation list|UnknownRevocationStatus|revocation status|unable to get certificate CRL|CRL has expired/i,
    S.CertificateNoRevocationCheck,
  ],
  [
    /invalid peer certificate: (Expired|NotValidYet)|certificate (has )?expired|certificate (is )?not (yet valid|valid yet)|fatal alert: CertificateExpired/i,
    S.CertificateExpired,
  ],
  [
    /UnknownIssuer|fatal alert: UnknownCA|self[- ]signed certificate|unable to get (local )?issuer certificate|unable to verify the first certificate|certificate not trusted/i,
    S.CertificateUntrustedRoot,
  ],
  [
    /NotValidForName|certificate not valid for name|does not match certificate's altnames|certificate is not valid for the requested host/i,
    S.CertificateCommonNameIsIncorrect,
  ],
  [
    /InvalidPurpose|does not allow extended key usage|unsupported certificate purpose|fatal alert: UnsupportedCertificate/i,
    S.CertificateWrongUsage,
  ],
  [
    /invalid peer certificate: Revoked|certificate (has been )?revoked|fatal alert: CertificateRevoked/i,
    S.CertificateRevoked,
  ],
  [
    /invalid peer certificate|fatal alert: BadCertificate|certificate signature failure|peer sent no certificates/i,
    S.CertificateIsInvalid,
  ],
  [
    /temporary failure in name resolution|temporary error during hostname resolution|getaddrinfo EAI_AGAIN/i,
    S.NonAuthoritativeHostNotFound,
  ],
  [
    /no address associated with hostname|no data of the requested type|getaddrinfo (EAI_NODATA|ENODATA)/i,
    S.NoDataRecordOfRequestedType,
  ],
  [
    /no resolved address found|could not resolve to any addresses/i,
    S.NoAddressesFound,
  ],
  [
    /name or service not known|nodename nor servname provided|no such host is known|failed to lookup address information|getaddrinfo ENOTFOUND|dns error/i,
    S.HostNotFound,
  ],
  [/too many open files/i, S.TooManyOpenFiles],
  [/message too long/i, S.MessageTooLong],
  [/address already in use/i, S.AddressAlreadyInUse],
  [/can(no|')t assign requested address/i, S.CannotAssignRequestedAddress],
  [/connection refused/i, S.ConnectionRefused],
  [/network is unreachable/i, S.NetworkIsUnreachable],
  [/no route to host|host is unreachable/i, S.UnreachableHost],
  [/network is down/i, S.NetworkIsDown],
  [/network dropped connection on reset/i, S.NetworkDroppedConnectionOnReset],
  [
    /software caused connection abort|connection aborted/i,
    S.SoftwareCausedConnectionAbort,
  ],
  [/connection reset|broken pipe/i, S.ConnectionResetByPeer],
  [/host is down/i, S.HostIsDown],
  [/timed out/i, S.ConnectionTimedOut],
  [/address family not supported/i, S.AddressFamilyNotSupported],
  [
    /socket type not supported|protocol not supported/i,
    S.SocketTypeNotSupported,
  ],
  [
    /operation (was )?(canceled|cancelled|aborted)|bad resource id/i,
    S.OperationAborted,
  ],
];

/** The short reason used in messages made by {@linkcode SocketError.from}. */
const REASONS: Readonly<Record<Status, string>> = {
  [S.Unknown]: "unknown error",
  [S.OperationAborted]: "operation aborted",
  [S.HttpInvalidServerResponse]: "invalid server response",
  [S.ConnectionTimedOut]: "connection timed out",
  [S.AddressFamilyNotSupported]:
    "address family not supported; use an IPv4 or IPv6 address on both ends",
  [S.SocketTypeNotSupported]: "socket type not supported",
  [S.HostNotFound]: "host not found",
  [S.NoDataRecordOfRequestedType]: "host has no address of the requested type",
  [S.NonAuthoritativeHostNotFound]:
    "temporary failure in name resolution; try again later",
  [S.ClassTypeNotFound]: "class type not found",
  [S.AddressAlreadyInUse]:
    "address already in use; choose another port or use port 0",
  [S.CannotAssignRequestedAddress]:
    "cannot assign requested address; use an address of this machine or 0.0.0.0",
  [S.ConnectionRefused]: "connection refused",
  [S.NetworkIsUnreachable]: "network is unreachable",
  [S.UnreachableHost]: "host is unreachable",
  [S.NetworkIsDown]: "network is down",
  [S.NetworkDroppedConnectionOnReset]: "network dropped connection on reset",
  [S.SoftwareCausedConnectionAbort]: "connection aborted",
  [S.ConnectionResetByPeer]: "connection reset by peer",
  [S.HostIsDown]: "host is down",
  [S.NoAddressesFound]: "no addresses found",
  [S.TooManyOpenFiles]:
    "too many open files; close unused sockets or raise the limit (ulimit -n)",
  [S.MessageTooLong]:
    "message too long; send smaller datagrams or use a stream socket",
  [S.CertificateExpired]: "certificate has expired or is not yet valid",
  [S.CertificateUntrustedRoot]:
    "certificate is not trusted; add its issuing CA to the trusted certificates",
  [S.CertificateCommonNameIsIncorrect]:
    "certificate is not valid for this host name",
  [S.CertificateWrongUsage]: "certificate is not valid for this usage",
  [S.CertificateRevoked]: "certificate has been revoked",
  [S.CertificateNoRevocationCheck]:
    "certificate revocation status could not be checked",
  [S.CertificateRevocationServerOffline]:
    "certificate revocation server is offline",
  [S.CertificateIsInvalid]: "certificate is invalid",
};

const PERMISSION_NAMES: ReadonlySet<string> = new Set([
  "NotCapable",
  "PermissionDenied",
]);
const PERMISSION_CODES: ReadonlySet<string> = new Set(["EACCES", "EPERM"]);
const MAX_CAUSE_DEPTH = 8;

/** Reads a property without ever throwing (getters, proxies, primitives). */
function read(value: unknown, key: string): unknown {
  if (value === null || typeof value !== "object") return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function readString(value: unknown, key: string): string | undefined {
  const property = read(value, key);
  return typeof property === "string" ? property : undefined;
}

/** `instanceof` that treats a throwing prototype lookup (a proxy) as false. */
function isInstance(
  value: unknown,
  type: abstract new (...args: never[]) => unknown,
): boolean {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}

/** The message of an error, or the text of a thrown string. */
function messageOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  return readString(value, "message");
}

/** The value itself, then its `cause`s, stopping at cycles and depth. */
function* causeChain(error: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH; depth++) {
    if (current === undefined || current === null || seen.has(current)) {
      return;
    }
    seen.add(current);
    yield current;
    current = read(current, "cause");
  }
}

function statusFromMessage(message: string): Status | undefined {
  for (const [pattern, status] of BY_MESSAGE) {
    if (pattern.test(message)) return status;
  }
  const osError = /\bos error (\d+)/i.exec(message);
  if (osError?.[1] !== undefined) return BY_OS_ERROR.get(Number(osError[1]));
  return undefined;
}

/** The status of one error, ignoring its cause; `undefined` when unsure. */
function statusOf(error: unknown): Status | undefined {
  if (isInstance(error, SocketError)) return (error as SocketError).status;
  const name = readString(error, "name");
  if (name !== undefined) {
    if (PERMISSION_NAMES.has(name)) return S.Unknown;
    const byName = BY_NAME.get(name);
    if (byName !== undefined) return byName;
  }
  const code = readString(error, "code");
  if (code !== undefined) {
    if (PERMISSION_CODES.has(code)) return S.Unknown;
    const byCode = BY_CODE.get(code.toUpperCase());
    if (byCode !== undefined) return byCode;
  }
  const message = messageOf(error);
  if (message !== undefined) {
    const byMessage = statusFromMessage(message);
    if (byMessage !== undefined) return byMessage;
  }
  // Deno.resolveDns() throws NotFound for a name without records.
  if (name === "NotFound") return S.HostNotFound;
  return undefined;
}

function isPermissionFailure(error: unknown): boolean {
  const name = readString(error, "name");
  if (name !== undefined && PERMISSION_NAMES.has(name)) return true;
  const code = readString(error, "code");
  return code !== undefined && PERMISSION_CODES.has(code);
}

/** Formats `host:port`, with IPv6 addresses in brackets. */
function formatEndpoint(endpoint: SocketAddress): string {
  const host = endpoint.hostname.includes(":") &&
      !endpoint.hostname.startsWith("[")
    ? `[${endpoint.hostname}]`
    : endpoint.hostname;
  return `${host}:${endpoint.port}`;
}

/** A safe, sentence-case, period-free rendering of any thrown value. */
function reasonOf(error: unknown): string {
  let text = messageOf(error);
  if (text === undefined) {
    try {
      text = String(error);
    } catch {
      text = "";
    }
  }
  text = text.trim().replace(/\.$/, "");
  if (text === "" || text === "[object Object]") return REASONS[S.Unknown];
  // Lower-case "Bad resource ID" but not "TLS handshake failed".
  if (/^[A-Z][a-z]/.test(text)) text = text[0]!.toLowerCase() + text.slice(1);
  return text;
}

/** The reason for a permission failure, naming the flag to add. */
function permissionReason(
  error: unknown,
  endpoint: SocketAddress | undefined,
): string {
  const denied = [...causeChain(error)].find(isPermissionFailure);
  const message = messageOf(denied) ?? "";
  // Deno 2 throws NotCapable; Deno 1 threw PermissionDenied naming the flag.
  const deniedByDeno = readString(denied, "name") === "NotCapable" ||
    message.includes("--allow-");
  if (!deniedByDeno) {
    const privileged = endpoint !== undefined && endpoint.port > 0 &&
      endpoint.port < 1024;
    return privileged
      ? "permission denied by the operating system; ports below 1024 need elevated privileges, or use port 0"
      : "permission denied by the operating system";
  }
  // A Unix socket needs read and write access to its path, not net access.
  const file = /Requires (read|write) access to "([^"]+)"/.exec(message);
  if (file !== null) {
    return `${file[1]} access to ${
      file[2]
    } denied; a Unix socket needs --allow-read and --allow-write for its path`;
  }
  // Deno names the exact target, e.g. the DNS server for Deno.resolveDns().
  let target = /net access to "([^"]+)"/.exec(message)?.[1] ??
    (endpoint === undefined ? undefined : formatEndpoint(endpoint));
  // Port 0 is "any free port": granting it alone would not cover the port the
  // system picks, so suggest the host.
  if (target?.endsWith(":0")) target = target.slice(0, -2);
  return target === undefined
    ? "network access denied; run with --allow-net"
    : `network access denied; run with --allow-net (or --allow-net=${target})`;
}

/**
 * Puts the status into the first line of `error.stack`, Node's convention
 * for coded errors (`SystemError [ERR_X]: ...`), which `Deno.inspect()` and
 * `console.log()` print. V8 writes that line from `name` when the stack is
 * first read, so `name` carries the status for that moment only, and
 * `error.name` stays "SocketError". (Deno's report of an uncaught error is
 * written from `name` and `message` at the throw, so it shows no status.)
 * Still done on first read: formatting a stack costs about 20 µs, which an
 * error nobody prints never pays.
 */
function withStatusInStack(error: SocketError): void {
  const get = Object.getOwnPropertyDescriptor(error, "stack")?.get;
  if (get === undefined) return;
  const settle = (value: unknown): void => {
    Object.defineProperty(error, "stack", {
      value,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  };
  Object.defineProperty(error, "stack", {
    configurable: true,
    enumerable: false,
    get(): unknown {
      const name = error.name;
      error.name = `${name} [${socketErrorStatusName(error.status)}]`;
      let stack: unknown;
      try {
        stack = get.call(error);
      } finally {
        error.name = name;
      }
      settle(stack);
      return stack;
    },
    set: settle,
  });
}

/**
 * A network failure, with a UWP {@linkcode SocketErrorStatus}, the endpoint
 * when known, and the original error as `cause`.
 *
 * Library functions throw it for every network failure; argument errors stay
 * `TypeError` and `RangeError`.
 *
 * @example Handle a refused connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { SocketError, SocketErrorStatus } from "@seed/sockets";
 *
 * const error = new SocketError("Cannot connect to 127.0.0.1:9: connection refused", {
 *   status: SocketErrorStatus.ConnectionRefused,
 *   endpoint: { hostname: "127.0.0.1", port: 9 },
 * });
 * assert.equal(error.name, "SocketError");
 * assert.equal(error.status, SocketErrorStatus.ConnectionRefused);
 * assert.equal(error.endpoint?.port, 9);
 * ```
 */
export class SocketError extends Error {
  /** Always `"SocketError"`. */
  override name: string = "SocketError";
  /** Why the operation failed. */
  readonly status: SocketErrorStatus;
  /** The endpoint the operation was about, when known. */
  readonly endpoint: SocketAddress | undefined;

  /**
   * Creates a socket error.
   *
   * @param message The message, Deno std style:
   * `"Cannot connect to 127.0.0.1:9: connection refused"`.
   * @param options The status, and optionally the endpoint and the cause.
   * @throws {TypeError} If `options` is not an object.
   * @throws {RangeError} If `options.status` is not a `SocketErrorStatus`.
   *
   * @example Wrap an error with a status
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus } from "@seed/sockets";
   *
   * const cause = new Error("Connection reset by peer (os error 104)");
   * const error = new SocketError("Cannot read from 127.0.0.1:9: connection reset by peer", {
   *   status: SocketErrorStatus.ConnectionResetByPeer,
   *   cause,
   * });
   * assert.equal(error.cause, cause);
   * assert.equal(error.endpoint, undefined);
   * ```
   */
  constructor(message: string, options: SocketErrorOptions) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `Cannot create SocketError: "options" must be an object, got ${
          describe(options)
        }`,
      );
    }
    if (!STATUS_NAMES.has(options.status)) {
      throw new RangeError(
        `Cannot create SocketError: "options.status" must be a SocketErrorStatus, got ${
          describe(options.status)
        }`,
      );
    }
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.status = options.status;
    this.endpoint = options.endpoint === undefined ? undefined : Object.freeze({
      hostname: options.endpoint.hostname,
      port: options.endpoint.port,
    });
    withStatusInStack(this);
  }

  /**
   * The name, the status and the message, as `Deno.inspect()` prints them
   * (the first line of `stack`).
   *
   * @returns For example `"SocketError [ConnectionRefused]: Cannot connect
   * to 127.0.0.1:9: connection refused"`.
   *
   * @example Print an error with its status
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus } from "@seed/sockets";
   *
   * const error = new SocketError("Cannot connect to 127.0.0.1:9: connection refused", {
   *   status: SocketErrorStatus.ConnectionRefused,
   * });
   * assert.equal(
   *   String(error),
   *   "SocketError [ConnectionRefused]: Cannot connect to 127.0.0.1:9: connection refused",
   * );
   * assert.equal(error.name, "SocketError");
   * assert.match(Deno.inspect(error), /^SocketError \[ConnectionRefused\]: Cannot connect/);
   * ```
   */
  override toString(): string {
    const head = `${this.name} [${socketErrorStatusName(this.status)}]`;
    return this.message === "" ? head : `${head}: ${this.message}`;
  }

  /**
   * Returns the {@linkcode SocketErrorStatus} of any thrown value: a
   * `SocketError`'s own status, or the status mapped from a Deno error (by
   * class name, errno-style `code`, message, then its `cause` chain).
   *
   * Never throws, whatever it is given.
   *
   * @param error Any thrown value.
   * @returns The status, or `SocketErrorStatus.Unknown` when nothing matches.
   *
   * @example Map a Deno error
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus } from "@seed/sockets";
   *
   * const error = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
   * assert.equal(SocketError.getStatus(error), SocketErrorStatus.ConnectionRefused);
   * assert.equal(SocketError.getStatus("no idea"), SocketErrorStatus.Unknown);
   * ```
   */
  static getStatus(error: unknown): SocketErrorStatus {
    try {
      for (const item of causeChain(error)) {
        const status = statusOf(item);
        if (status !== undefined) return status;
      }
    } catch {
      // A hostile value (e.g. a throwing `Symbol.hasInstance` lookup) maps to
      // Unknown instead of replacing the error being handled.
    }
    return S.Unknown;
  }

  /**
   * Returns `true` when `error` is `status`: shorthand for
   * `SocketError.getStatus(error) === status`.
   *
   * @param error Any thrown value.
   * @param status The status to compare with.
   * @returns Whether the error maps to `status`.
   *
   * @example Check for a refused connection
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus } from "@seed/sockets";
   *
   * const error = new Deno.errors.AddrInUse("Address already in use (os error 98)");
   * assert.ok(SocketError.is(error, SocketErrorStatus.AddressAlreadyInUse));
   * assert.ok(!SocketError.is(error, SocketErrorStatus.ConnectionRefused));
   * ```
   */
  static is(error: unknown, status: SocketErrorStatus): boolean {
    return SocketError.getStatus(error) === status;
  }

  /**
   * Returns `true` for permission failures: Deno's `NotCapable` (missing
   * `--allow-net`) and `PermissionDenied` (refused by the operating system),
   * also when found in the `cause` chain of a `SocketError`. They have no
   * UWP status.
   *
   * @param error Any thrown value.
   * @returns Whether the error is a permission failure.
   *
   * @example Recognise a missing --allow-net
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError } from "@seed/sockets";
   *
   * const denied = new Deno.errors.NotCapable('Requires net access to "127.0.0.1:9"');
   * assert.ok(SocketError.isPermissionError(denied));
   * assert.ok(SocketError.isPermissionError(
   *   SocketError.from(denied, { action: "Cannot connect to" }),
   * ));
   * assert.ok(!SocketError.isPermissionError(new Error("nope")));
   * ```
   */
  static isPermissionError(error: unknown): boolean {
    try {
      for (const item of causeChain(error)) {
        if (isPermissionFailure(item)) return true;
      }
    } catch {
      // Same as getStatus(): never throw while classifying an error.
    }
    return false;
  }

  /**
   * Wraps anything thrown by Deno into an error for users of this library:
   * a `SocketError` with the mapped status, a message in the Deno std style
   * (`"Cannot connect to 127.0.0.1:9: connection refused"`) with a hint at
   * the fix where there is one, the endpoint and the original error as
   * `cause`.
   *
   * A `SocketError`, `TypeError` or `RangeError` is returned unchanged.
   * Permission failures become a `SocketError` with status `Unknown` whose
   * message names the `--allow-net` flag to add.
   *
   * @param error Any thrown value.
   * @param context What was being done and to which endpoint.
   * @returns The error to throw.
   *
   * @example Wrap a refused connection
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus } from "@seed/sockets";
   *
   * const cause = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
   * const error = SocketError.from(cause, {
   *   action: "Cannot connect to",
   *   endpoint: { hostname: "127.0.0.1", port: 9 },
   * });
   * assert.ok(error instanceof SocketError);
   * assert.equal(error.message, "Cannot connect to 127.0.0.1:9: connection refused");
   * assert.equal(error.status, SocketErrorStatus.ConnectionRefused);
   * assert.equal(error.cause, cause);
   * ```
   */
  static from(
    error: unknown,
    context: SocketErrorContext,
  ): Error {
    if (
      isInstance(error, SocketError) || isInstance(error, TypeError) ||
      isInstance(error, RangeError)
    ) {
      return error as Error;
    }
    const endpoint = context.endpoint;
    const prefix = endpoint === undefined
      ? context.action
      : `${context.action} ${formatEndpoint(endpoint)}`;
    if (SocketError.isPermissionError(error)) {
      return new SocketError(
        `${prefix}: ${permissionReason(error, endpoint)}`,
        { status: S.Unknown, endpoint, cause: error },
      );
    }
    const status = SocketError.getStatus(error);
    const reason = status === S.Unknown ? reasonOf(error) : REASONS[status];
    return new SocketError(`${prefix}: ${reason}`, {
      status,
      endpoint,
      cause: error,
    });
  }
}
