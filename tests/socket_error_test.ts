import assert from "node:assert/strict";
import {
  SocketError,
  type SocketErrorStatus,
  SocketErrorStatus as Status,
  socketErrorStatusName,
} from "../lib/socket_error.ts";

/** Builds an `Error` carrying an errno-style `code`, like node:net does. */
function withCode(code: string, message = `${code} failure`): Error {
  return Object.assign(new Error(message), { code });
}

/** Runs `fn`, which must reject, and returns what it rejected with. */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: "Expected a rejection" });
}

/** A loopback port that nothing listens on (bound, read back, released). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** A UDP socket on a loopback port 0, closed on disposal. */
function datagramSocket(): {
  socket: Deno.DatagramConn;
  port: number;
  [Symbol.dispose](): void;
} {
  const socket = Deno.listenDatagram({
    hostname: "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  return {
    socket,
    port: (socket.addr as Deno.NetAddr).port,
    [Symbol.dispose]() {
      socket.close();
    },
  };
}

/** A connected loopback pair; disposing it closes everything still open. */
async function connectedPair(): Promise<
  {
    client: Deno.TcpConn;
    server: Deno.TcpConn;
    [Symbol.asyncDispose](): Promise<void>;
  }
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [client, server] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]);
    return {
      client,
      server,
      [Symbol.asyncDispose]() {
        for (const conn of [client, server]) {
          try {
            conn.close();
          } catch {
            // Already closed by the test.
          }
        }
        return Promise.resolve();
      },
    };
  } finally {
    listener.close();
  }
}

// ---------------------------------------------------------------------------
// SocketErrorStatus

const SPOT_CHECKS: ReadonlyArray<readonly [keyof typeof Status, number]> = [
  ["Unknown", 0],
  ["OperationAborted", 1],
  ["HttpInvalidServerResponse", 2],
  ["ConnectionTimedOut", 3],
  ["HostNotFound", 6],
  ["NonAuthoritativeHostNotFound", 8],
  ["AddressAlreadyInUse", 10],
  ["ConnectionRefused", 12],
  ["ConnectionResetByPeer", 18],
  ["NoAddressesFound", 20],
  ["MessageTooLong", 22],
  ["CertificateExpired", 23],
  ["CertificateRevocationServerOffline", 29],
  ["CertificateIsInvalid", 30],
];

for (const [name, value] of SPOT_CHECKS) {
  Deno.test(`SocketErrorStatus.${name} is ${value}`, () => {
    assert.equal(Status[name], value);
  });
}

Deno.test("SocketErrorStatus has the 31 UWP values 0 to 30 in order", () => {
  const values = Object.values(Status);
  assert.deepEqual(values, Array.from({ length: 31 }, (_, i) => i));
  assert.equal(new Set(Object.keys(Status)).size, 31);
});

Deno.test("socketErrorStatusName() returns the member name of every value", () => {
  for (const [name, value] of Object.entries(Status)) {
    assert.equal(socketErrorStatusName(value), name);
  }
});

Deno.test("socketErrorStatusName() returns the number for an unknown value", () => {
  assert.equal(socketErrorStatusName(99 as SocketErrorStatus), "99");
});

// ---------------------------------------------------------------------------
// SocketError construction

Deno.test("SocketError() sets name, message, status, endpoint and cause", () => {
  const cause = new Error("inner");
  const error = new SocketError(
    "Cannot connect to [::1]:9: connection refused",
    {
      status: Status.ConnectionRefused,
      endpoint: { hostname: "::1", port: 9 },
      cause,
    },
  );
  assert.ok(error instanceof Error);
  assert.equal(error.name, "SocketError");
  assert.equal(error.message, "Cannot connect to [::1]:9: connection refused");
  assert.equal(error.status, Status.ConnectionRefused);
  assert.deepEqual(error.endpoint, { hostname: "::1", port: 9 });
  assert.equal(error.cause, cause);
  assert.match(
    String(error),
    /^SocketError \[ConnectionRefused\]: Cannot connect/,
  );
});

Deno.test("SocketError prints its status name: String(), Deno.inspect() and the stack, with name still SocketError", () => {
  const cause = new Deno.errors.ConnectionRefused(
    "Connection refused (os error 111)",
  );
  const error = SocketError.from(cause, {
    action: "Cannot connect to",
    endpoint: { hostname: "127.0.0.1", port: 9 },
  });
  const line =
    "SocketError [ConnectionRefused]: Cannot connect to 127.0.0.1:9: connection refused";
  assert.equal(String(error), line);
  assert.equal(`${error}`, line);
  assert.equal(error.name, "SocketError");
  assert.equal(error.stack?.split("\n")[0], line);
  assert.match(error.stack ?? "", /\n {4}at /, "the frames are kept");
  assert.equal(error.stack, error.stack, "formatted once");
  const printed = Deno.inspect(error);
  assert.ok(printed.startsWith(`${line}\n`), printed);
  assert.match(printed, /\[cause\]: ConnectionRefused: Connection refused/);
  const empty = new SocketError("", { status: Status.Unknown });
  assert.equal(String(empty), "SocketError [Unknown]");
  empty.stack = "replaced";
  assert.equal(empty.stack, "replaced");
});

Deno.test("SocketError() leaves cause and endpoint unset when not given", () => {
  const error = new SocketError("Cannot read: operation aborted", {
    status: Status.OperationAborted,
  });
  assert.equal(error.endpoint, undefined);
  assert.equal("cause" in error, false);
});

Deno.test("SocketError() copies and freezes the endpoint", () => {
  const endpoint = { hostname: "127.0.0.1", port: 9 };
  const error = new SocketError("x", { status: Status.Unknown, endpoint });
  endpoint.port = 10;
  assert.equal(error.endpoint?.port, 9);
  assert.ok(Object.isFrozen(error.endpoint));
});

Deno.test("SocketError() throws RangeError for a status that is not a SocketErrorStatus", () => {
  assert.throws(
    () => new SocketError("x", { status: 31 as SocketErrorStatus }),
    { name: "RangeError", message: /options\.status.*got 31$/ },
  );
});

Deno.test("SocketError() throws TypeError when options is not an object", () => {
  assert.throws(
    () => new SocketError("x", null as unknown as { status: 0 }),
    {
      name: "TypeError",
      message: /"options" must be an object, got null$/,
    },
  );
});

// ---------------------------------------------------------------------------
// SocketError.getStatus(): synthetic errors, one row per mapping

type Row = readonly [label: string, error: unknown, status: SocketErrorStatus];

const DENO_ERRORS: readonly Row[] = [
  [
    "Deno.errors.ConnectionRefused",
    new Deno.errors.ConnectionRefused("x"),
    Status.ConnectionRefused,
  ],
  [
    "Deno.errors.ConnectionReset",
    new Deno.errors.ConnectionReset("x"),
    Status.ConnectionResetByPeer,
  ],
  [
    "Deno.errors.ConnectionAborted",
    new Deno.errors.ConnectionAborted("x"),
    Status.SoftwareCausedConnectionAbort,
  ],
  [
    "Deno.errors.NotConnected",
    new Deno.errors.NotConnected("x"),
    Status.ConnectionResetByPeer,
  ],
  [
    "Deno.errors.AddrInUse",
    new Deno.errors.AddrInUse("x"),
    Status.AddressAlreadyInUse,
  ],
  [
    "Deno.errors.AddrNotAvailable",
    new Deno.errors.AddrNotAvailable("x"),
    Status.CannotAssignRequestedAddress,
  ],
  [
    "Deno.errors.BrokenPipe",
    new Deno.errors.BrokenPipe("x"),
    Status.ConnectionResetByPeer,
  ],
  [
    "Deno.errors.TimedOut",
    new Deno.errors.TimedOut("x"),
    Status.ConnectionTimedOut,
  ],
  [
    "Deno.errors.Interrupted",
    new Deno.errors.Interrupted("x"),
    Status.OperationAborted,
  ],
  [
    "Deno.errors.BadResource",
    new Deno.errors.BadResource("x"),
    Status.OperationAborted,
  ],
  [
    "Deno.errors.NetworkUnreachable",
    new Deno.errors.NetworkUnreachable("x"),
    Status.NetworkIsUnreachable,
  ],
  ["Deno.errors.NotFound", new Deno.errors.NotFound("x"), Status.HostNotFound],
  [
    "Deno.errors.UnexpectedEof",
    new Deno.errors.UnexpectedEof("x"),
    Status.ConnectionResetByPeer,
  ],
  [
    "Deno.errors.WriteZero",
    new Deno.errors.WriteZero("x"),
    Status.ConnectionResetByPeer,
  ],
  [
    "Deno.errors.InvalidData without a certificate message",
    new Deno.errors.InvalidData("x"),
    Status.Unknown,
  ],
  ["Deno.errors.NotCapable", new Deno.errors.NotCapable("x"), Status.Unknown],
  [
    "Deno.errors.PermissionDenied",
    new Deno.errors.PermissionDenied("x"),
    Status.Unknown,
  ],
  [
    "an AbortError DOMException",
    new DOMException("The signal has been aborted", "AbortError"),
    Status.OperationAborted,
  ],
  [
    "a TimeoutError DOMException",
    new DOMException("Signal timed out.", "TimeoutError"),
    Status.ConnectionTimedOut,
  ],
];

const CODES: readonly Row[] = [
  ["ECONNREFUSED", withCode("ECONNREFUSED"), Status.ConnectionRefused],
  ["ECONNRESET", withCode("ECONNRESET"), Status.ConnectionResetByPeer],
  ["EPIPE", withCode("EPIPE"), Status.ConnectionResetByPeer],
  ["ENOTCONN", withCode("ENOTCONN"), Status.ConnectionResetByPeer],
  [
    "ECONNABORTED",
    withCode("ECONNABORTED"),
    Status.SoftwareCausedConnectionAbort,
  ],
  ["EADDRINUSE", withCode("EADDRINUSE"), Status.AddressAlreadyInUse],
  [
    "EADDRNOTAVAIL",
    withCode("EADDRNOTAVAIL"),
    Status.CannotAssignRequestedAddress,
  ],
  ["ETIMEDOUT", withCode("ETIMEDOUT"), Status.ConnectionTimedOut],
  ["EINTR", withCode("EINTR"), Status.OperationAborted],
  ["ECANCELED", withCode("ECANCELED"), Status.OperationAborted],
  ["ECANCELLED", withCode("ECANCELLED"), Status.OperationAborted],
  ["EBADF", withCode("EBADF"), Status.OperationAborted],
  ["ENETUNREACH", withCode("ENETUNREACH"), Status.NetworkIsUnreachable],
  ["EHOSTUNREACH", withCode("EHOSTUNREACH"), Status.UnreachableHost],
  ["ENETDOWN", withCode("ENETDOWN"), Status.NetworkIsDown],
  ["ENETRESET", withCode("ENETRESET"), Status.NetworkDroppedConnectionOnReset],
  ["EHOSTDOWN", withCode("EHOSTDOWN"), Status.HostIsDown],
  ["EMFILE", withCode("EMFILE"), Status.TooManyOpenFiles],
  ["ENFILE", withCode("ENFILE"), Status.TooManyOpenFiles],
  ["EMSGSIZE", withCode("EMSGSIZE"), Status.MessageTooLong],
  ["EAFNOSUPPORT", withCode("EAFNOSUPPORT"), Status.AddressFamilyNotSupported],
  ["EPFNOSUPPORT", withCode("EPFNOSUPPORT"), Status.AddressFamilyNotSupported],
  ["EBADFAMILY", withCode("EBADFAMILY"), Status.AddressFamilyNotSupported],
  [
    "ESOCKTNOSUPPORT",
    withCode("ESOCKTNOSUPPORT"),
    Status.SocketTypeNotSupported,
  ],
  [
    "EPROTONOSUPPORT",
    withCode("EPROTONOSUPPORT"),
    Status.SocketTypeNotSupported,
  ],
  ["EPROTOTYPE", withCode("EPROTOTYPE"), Status.SocketTypeNotSupported],
  ["ENOTFOUND", withCode("ENOTFOUND"), Status.HostNotFound],
  ["EAI_NONAME", withCode("EAI_NONAME"), Status.HostNotFound],
  ["ENONAME", withCode("ENONAME"), Status.HostNotFound],
  ["EBADNAME", withCode("EBADNAME"), Status.HostNotFound],
  ["EAI_AGAIN", withCode("EAI_AGAIN"), Status.NonAuthoritativeHostNotFound],
  ["ESERVFAIL", withCode("ESERVFAIL"), Status.NonAuthoritativeHostNotFound],
  ["ETIMEOUT", withCode("ETIMEOUT"), Status.NonAuthoritativeHostNotFound],
  ["EAI_NODATA", withCode("EAI_NODATA"), Status.NoDataRecordOfRequestedType],
  ["ENODATA", withCode("ENODATA"), Status.NoDataRecordOfRequestedType],
  ["CERT_HAS_EXPIRED", withCode("CERT_HAS_EXPIRED"), Status.CertificateExpired],
  [
    "CERT_NOT_YET_VALID",
    withCode("CERT_NOT_YET_VALID"),
    Status.CertificateExpired,
  ],
  [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    withCode("UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    Status.CertificateUntrustedRoot,
  ],
  [
    "SELF_SIGNED_CERT_IN_CHAIN",
    withCode("SELF_SIGNED_CERT_IN_CHAIN"),
    Status.CertificateUntrustedRoot,
  ],
  [
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    withCode("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
    Status.CertificateUntrustedRoot,
  ],
  [
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    withCode("UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),
    Status.CertificateUntrustedRoot,
  ],
  [
    "CERT_UNTRUSTED",
    withCode("CERT_UNTRUSTED"),
    Status.CertificateUntrustedRoot,
  ],
  [
    "ERR_TLS_CERT_ALTNAME_INVALID",
    withCode(
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
    ),
    Status.CertificateCommonNameIsIncorrect,
  ],
  [
    "HOSTNAME_MISMATCH",
    withCode("HOSTNAME_MISMATCH"),
    Status.CertificateCommonNameIsIncorrect,
  ],
  [
    "INVALID_PURPOSE",
    withCode("INVALID_PURPOSE"),
    Status.CertificateWrongUsage,
  ],
  ["CERT_REVOKED", withCode("CERT_REVOKED"), Status.CertificateRevoked],
  [
    "UNABLE_TO_GET_CRL",
    withCode("UNABLE_TO_GET_CRL"),
    Status.CertificateNoRevocationCheck,
  ],
  [
    "CRL_HAS_EXPIRED",
    withCode("CRL_HAS_EXPIRED"),
    Status.CertificateNoRevocationCheck,
  ],
  [
    "CERT_SIGNATURE_FAILURE",
    withCode("CERT_SIGNATURE_FAILURE"),
    Status.CertificateIsInvalid,
  ],
  ["CERT_REJECTED", withCode("CERT_REJECTED"), Status.CertificateIsInvalid],
  ["a lower-case code", withCode("econnrefused"), Status.ConnectionRefused],
  ["an unknown code", withCode("EWHATEVER", "whatever"), Status.Unknown],
];

/** Messages as Deno, rustls, glibc, macOS and Windows print them. */
const MESSAGES: readonly Row[] = [
  [
    "rustls Expired",
    new Deno.errors.InvalidData("invalid peer certificate: Expired"),
    Status.CertificateExpired,
  ],
  [
    "rustls ExpiredContext display",
    new Deno.errors.InvalidData(
      "invalid peer certificate: certificate expired: verification time 1795588486 (UNIX), but certificate is not valid after 1577923200 (217665286 seconds ago)",
    ),
    Status.CertificateExpired,
  ],
  [
    "rustls NotValidYet",
    new Deno.errors.InvalidData("invalid peer certificate: NotValidYet"),
    Status.CertificateExpired,
  ],
  [
    "rustls UnknownIssuer",
    new Deno.errors.InvalidData("invalid peer certificate: UnknownIssuer"),
    Status.CertificateUntrustedRoot,
  ],
  [
    "rustls NotValidForName",
    new Deno.errors.InvalidData("invalid peer certificate: NotValidForName"),
    Status.CertificateCommonNameIsIncorrect,
  ],
  [
    "rustls NotValidForNameContext display",
    new Deno.errors.InvalidData(
      'invalid peer certificate: certificate not valid for name "127.0.0.1"; certificate is only valid for DnsName("localhost")',
    ),
    Status.CertificateCommonNameIsIncorrect,
  ],
  [
    "rustls InvalidPurpose",
    new Deno.errors.InvalidData("invalid peer certificate: InvalidPurpose"),
    Status.CertificateWrongUsage,
  ],
  [
    "rustls InvalidPurposeContext display",
    new Deno.errors.InvalidData(
      "invalid peer certificate: certificate does not allow extended key usage for server authentication, allows client authentication",
    ),
    Status.CertificateWrongUsage,
  ],
  [
    "rustls Revoked",
    new Deno.errors.InvalidData("invalid peer certificate: Revoked"),
    Status.CertificateRevoked,
  ],
  [
    "rustls UnknownRevocationStatus",
    new Deno.errors.InvalidData(
      "invalid peer certificate: UnknownRevocationStatus",
    ),
    Status.CertificateNoRevocationCheck,
  ],
  [
    "rustls ExpiredRevocationList",
    new Deno.errors.InvalidData(
      "invalid peer certificate: ExpiredRevocationList",
    ),
    Status.CertificateNoRevocationCheck,
  ],
  [
    "rustls BadSignature",
    new Deno.errors.InvalidData("invalid peer certificate: BadSignature"),
    Status.CertificateIsInvalid,
  ],
  [
    "rustls BadEncoding",
    new Deno.errors.InvalidData("invalid peer certificate: BadEncoding"),
    Status.CertificateIsInvalid,
  ],
  [
    "rustls CaUsedAsEndEntity",
    new Deno.errors.InvalidData(
      "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
    ),
    Status.CertificateIsInvalid,
  ],
  [
    "the TLS alert UnknownCA",
    new Deno.errors.InvalidData("received fatal alert: UnknownCA"),
    Status.CertificateUntrustedRoot,
  ],
  [
    "the TLS alert CertificateExpired",
    new Deno.errors.InvalidData("received fatal alert: CertificateExpired"),
    Status.CertificateExpired,
  ],
  [
    "the TLS alert BadCertificate",
    new Deno.errors.InvalidData("received fatal alert: BadCertificate"),
    Status.CertificateIsInvalid,
  ],
  [
    "a server's node:tls refusing a client without a certificate",
    new Error("peer sent no certificates"),
    Status.CertificateIsInvalid,
  ],
  [
    "the TLS alert UnsupportedCertificate",
    new Deno.errors.InvalidData("received fatal alert: UnsupportedCertificate"),
    Status.CertificateWrongUsage,
  ],
  [
    "the TLS alert CertificateRevoked",
    new Deno.errors.InvalidData("received fatal alert: CertificateRevoked"),
    Status.CertificateRevoked,
  ],
  [
    "glibc EAI_NONAME",
    new Error(
      "failed to lookup address information: Name or service not known",
    ),
    Status.HostNotFound,
  ],
  [
    "glibc EAI_AGAIN",
    new Error(
      "failed to lookup address information: Temporary failure in name resolution",
    ),
    Status.NonAuthoritativeHostNotFound,
  ],
  [
    "glibc EAI_NODATA",
    new Error(
      "failed to lookup address information: No address associated with hostname",
    ),
    Status.NoDataRecordOfRequestedType,
  ],
  [
    "macOS EAI_NONAME",
    new Error(
      "failed to lookup address information: nodename nor servname provided, or not known",
    ),
    Status.HostNotFound,
  ],
  [
    "another lookup failure",
    new Error(
      "failed to lookup address information: Non-recoverable failure in name resolution",
    ),
    Status.HostNotFound,
  ],
  [
    "Windows WSAHOST_NOT_FOUND",
    new Error("No such host is known. (os error 11001)"),
    Status.HostNotFound,
  ],
  [
    "Windows WSATRY_AGAIN",
    new Error(
      "This is usually a temporary error during hostname resolution. (os error 11002)",
    ),
    Status.NonAuthoritativeHostNotFound,
  ],
  [
    "Windows WSANO_DATA",
    new Error("(os error 11004)"),
    Status.NoDataRecordOfRequestedType,
  ],
  [
    "No resolved address found",
    new Error("No resolved address found"),
    Status.NoAddressesFound,
  ],
  [
    "could not resolve to any addresses",
    new Error("could not resolve to any addresses"),
    Status.NoAddressesFound,
  ],
  ["Os error 24", new Error("Os error 24"), Status.TooManyOpenFiles],
  [
    "(os error 24)",
    new Error("Too many open files (os error 24)"),
    Status.TooManyOpenFiles,
  ],
  ["a bare (os error 24)", new Error("(os error 24)"), Status.TooManyOpenFiles],
  [
    "Too many open files",
    new Error("Too many open files"),
    Status.TooManyOpenFiles,
  ],
  [
    "Message too long",
    new Error("Message too long (os error 90)"),
    Status.MessageTooLong,
  ],
  [
    "Address already in use",
    new Error("Address already in use (os error 98)"),
    Status.AddressAlreadyInUse,
  ],
  [
    "Cannot assign requested address",
    new Error("Cannot assign requested address (os error 99)"),
    Status.CannotAssignRequestedAddress,
  ],
  [
    "macOS Can't assign requested address",
    new Error("Can't assign requested address (os error 49)"),
    Status.CannotAssignRequestedAddress,
  ],
  [
    "Connection refused",
    new Error("Connection refused (os error 111)"),
    Status.ConnectionRefused,
  ],
  [
    "Network is unreachable",
    new Error("Network is unreachable (os error 101)"),
    Status.NetworkIsUnreachable,
  ],
  [
    "No route to host",
    new Error("No route to host (os error 113)"),
    Status.UnreachableHost,
  ],
  [
    "Network is down",
    new Error("Network is down (os error 100)"),
    Status.NetworkIsDown,
  ],
  [
    "Network dropped connection on reset",
    new Error("Network dropped connection on reset (os error 102)"),
    Status.NetworkDroppedConnectionOnReset,
  ],
  [
    "Software caused connection abort",
    new Error("Software caused connection abort (os error 103)"),
    Status.SoftwareCausedConnectionAbort,
  ],
  [
    "Connection reset by peer",
    new Error("Connection reset by peer (os error 104)"),
    Status.ConnectionResetByPeer,
  ],
  [
    "Broken pipe",
    new Error("Broken pipe (os error 32)"),
    Status.ConnectionResetByPeer,
  ],
  ["Host is down", new Error("Host is down (os error 112)"), Status.HostIsDown],
  [
    "Connection timed out",
    new Error("Connection timed out (os error 110)"),
    Status.ConnectionTimedOut,
  ],
  [
    "Address family not supported",
    new Error("Address family not supported by protocol (os error 97)"),
    Status.AddressFamilyNotSupported,
  ],
  [
    "Socket type not supported",
    new Error("Socket type not supported (os error 94)"),
    Status.SocketTypeNotSupported,
  ],
  [
    "operation canceled",
    new Error("operation canceled"),
    Status.OperationAborted,
  ],
  ["Bad resource ID", new Error("Bad resource ID"), Status.OperationAborted],
  [
    "Windows WSAECONNREFUSED",
    new Error(
      "No connection could be made because the target machine actively refused it. (os error 10061)",
    ),
    Status.ConnectionRefused,
  ],
  [
    "Windows WSAECONNRESET",
    new Error(
      "An existing connection was forcibly closed by the remote host. (os error 10054)",
    ),
    Status.ConnectionResetByPeer,
  ],
  [
    "Windows WSAEADDRINUSE",
    new Error("(os error 10048)"),
    Status.AddressAlreadyInUse,
  ],
  [
    "Windows WSAEHOSTUNREACH",
    new Error("(os error 10065)"),
    Status.UnreachableHost,
  ],
  ["Windows WSAEMSGSIZE", new Error("(os error 10040)"), Status.MessageTooLong],
  [
    "a thrown string",
    "Connection refused (os error 111)",
    Status.ConnectionRefused,
  ],
  [
    "an unrelated message",
    new Error("something else went wrong"),
    Status.Unknown,
  ],
];

for (const [label, error, status] of [...DENO_ERRORS, ...CODES, ...MESSAGES]) {
  Deno.test(
    `SocketError.getStatus() maps ${label} to ${socketErrorStatusName(status)}`,
    () => {
      assert.equal(SocketError.getStatus(error), status);
      assert.equal(SocketError.is(error, status), true);
    },
  );
}

Deno.test("SocketError.getStatus() prefers the Deno class name over the message", () => {
  const error = new Deno.errors.ConnectionRefused("Connection reset by peer");
  assert.equal(SocketError.getStatus(error), Status.ConnectionRefused);
});

Deno.test("SocketError.getStatus() ignores the numeric code of a DOMException", () => {
  const error = new DOMException("Something", "NetworkError");
  assert.equal(typeof error.code, "number");
  assert.equal(SocketError.getStatus(error), Status.Unknown);
});

Deno.test("SocketError.getStatus() returns a SocketError's own status", () => {
  const error = new SocketError("x", {
    status: Status.CertificateRevoked,
    cause: new Deno.errors.ConnectionRefused("x"),
  });
  assert.equal(SocketError.getStatus(error), Status.CertificateRevoked);
});

// ---------------------------------------------------------------------------
// SocketError.getStatus(): causes

Deno.test("SocketError.getStatus() follows the cause of an unmatched error", () => {
  const error = new Error("wrapper", {
    cause: new Deno.errors.ConnectionReset("x"),
  });
  assert.equal(SocketError.getStatus(error), Status.ConnectionResetByPeer);
});

Deno.test("SocketError.getStatus() follows the cause of a fetch TypeError to HostNotFound", () => {
  const error = new TypeError("fetch failed", {
    cause: new Error(
      "error sending request for url (http://nothing.invalid/): client error (Connect): dns error: failed to lookup address information: Name or service not known",
    ),
  });
  assert.equal(SocketError.getStatus(error), Status.HostNotFound);
});

Deno.test("SocketError.getStatus() follows a chain of causes several levels deep", () => {
  let error: unknown = withCode("EHOSTUNREACH");
  for (let i = 0; i < 5; i++) error = new Error(`level ${i}`, { cause: error });
  assert.equal(SocketError.getStatus(error), Status.UnreachableHost);
});

Deno.test("SocketError.getStatus() stops at a cyclic cause chain", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  Object.defineProperty(a, "cause", { value: b });
  assert.equal(SocketError.getStatus(a), Status.Unknown);
});

Deno.test("SocketError.getStatus() does not let a cause override a permission error", () => {
  const error = new Deno.errors.NotCapable("x", {
    cause: new Deno.errors.ConnectionRefused("x"),
  });
  assert.equal(SocketError.getStatus(error), Status.Unknown);
});

// ---------------------------------------------------------------------------
// SocketError.getStatus(): odd inputs

const throwingGetters = Object.defineProperties({}, {
  name: {
    get() {
      throw new Error("name getter");
    },
  },
  code: {
    get() {
      throw new Error("code getter");
    },
  },
  message: {
    get() {
      throw new Error("message getter");
    },
  },
  cause: {
    get() {
      throw new Error("cause getter");
    },
  },
});

const hostileProxy = new Proxy({}, {
  get() {
    throw new Error("get trap");
  },
  getPrototypeOf() {
    throw new Error("getPrototypeOf trap");
  },
});

const ODD_INPUTS: ReadonlyArray<readonly [string, unknown]> = [
  ["undefined", undefined],
  ["null", null],
  ["a number", 42],
  ["a symbol", Symbol("x")],
  ["an empty string", ""],
  ["an unrelated string", "nope"],
  ["an empty object", {}],
  ["an object with a null prototype", Object.create(null)],
  ["an object with throwing getters", throwingGetters],
  ["a hostile proxy", hostileProxy],
  ["an object with non-string fields", { name: 1, code: {}, message: [] }],
  ["a function", () => {}],
];

for (const [label, input] of ODD_INPUTS) {
  Deno.test(`SocketError.getStatus() returns Unknown for ${label}`, () => {
    assert.equal(SocketError.getStatus(input), Status.Unknown);
    assert.equal(SocketError.isPermissionError(input), false);
  });
}

Deno.test("SocketError.getStatus() maps a plain object shaped like an error", () => {
  assert.equal(
    SocketError.getStatus({ name: "AddrInUse", message: "x" }),
    Status.AddressAlreadyInUse,
  );
  assert.equal(
    SocketError.getStatus({ code: "ECONNREFUSED" }),
    Status.ConnectionRefused,
  );
});

// ---------------------------------------------------------------------------
// SocketError.getStatus(): real errors on loopback

Deno.test("SocketError.getStatus() maps a real refused connection to ConnectionRefused", async () => {
  const port = closedPort();
  const error = await rejection(() =>
    Deno.connect({ hostname: "127.0.0.1", port })
  );
  assert.ok(error instanceof Deno.errors.ConnectionRefused);
  assert.equal(SocketError.getStatus(error), Status.ConnectionRefused);
});

Deno.test("SocketError.getStatus() maps a real second listen on one port to AddressAlreadyInUse", () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const error = (() => {
    try {
      using _second = Deno.listen({
        hostname: "127.0.0.1",
        port: listener.addr.port,
      });
    } catch (error) {
      return error;
    }
    throw new assert.AssertionError({ message: "Expected AddrInUse" });
  })();
  assert.ok(error instanceof Deno.errors.AddrInUse);
  assert.equal(SocketError.getStatus(error), Status.AddressAlreadyInUse);
});

Deno.test("SocketError.getStatus() maps a real read after close to OperationAborted", async () => {
  await using pair = await connectedPair();
  pair.client.close();
  const error = await rejection(() => pair.client.read(new Uint8Array(8)));
  assert.ok(error instanceof Deno.errors.BadResource);
  assert.equal(SocketError.getStatus(error), Status.OperationAborted);
});

Deno.test("SocketError.getStatus() maps a real read pending at close to OperationAborted", async () => {
  await using pair = await connectedPair();
  const pending = pair.client.read(new Uint8Array(8));
  pair.client.close();
  const error = await rejection(() => pending);
  assert.ok(error instanceof Deno.errors.Interrupted);
  assert.equal(SocketError.getStatus(error), Status.OperationAborted);
});

Deno.test("SocketError.getStatus() maps a real accept pending at close to OperationAborted", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pending = listener.accept();
  listener.close();
  const error = await rejection(() => pending);
  assert.equal(SocketError.getStatus(error), Status.OperationAborted);
});

Deno.test("SocketError.getStatus() maps a real write to a closed peer to ConnectionResetByPeer", async () => {
  await using pair = await connectedPair();
  pair.server.close();
  // The first write may still succeed: the reset arrives in answer to it.
  let error: unknown;
  for (let i = 0; i < 100 && error === undefined; i++) {
    try {
      await pair.client.write(new Uint8Array(1024));
    } catch (caught) {
      error = caught;
    }
  }
  assert.ok(error !== undefined, "Expected a write to fail");
  assert.equal(SocketError.getStatus(error), Status.ConnectionResetByPeer);
});

Deno.test("SocketError.getStatus() maps a real aborted connect to OperationAborted", async () => {
  const error = await rejection(() =>
    Deno.connect({
      hostname: "127.0.0.1",
      port: closedPort(),
      signal: AbortSignal.abort(),
    })
  );
  assert.equal(SocketError.getStatus(error), Status.OperationAborted);
});

Deno.test("SocketError.getStatus() maps a real oversized datagram to MessageTooLong", async () => {
  using udp = datagramSocket();
  const error = await rejection(() =>
    udp.socket.send(new Uint8Array(70_000), {
      hostname: "127.0.0.1",
      port: udp.port,
      transport: "udp",
    })
  );
  assert.equal(SocketError.getStatus(error), Status.MessageTooLong);
});

Deno.test("SocketError.getStatus() maps a real IPv6 send from an IPv4 socket to AddressFamilyNotSupported", async () => {
  using udp = datagramSocket();
  const error = await rejection(() =>
    udp.socket.send(new Uint8Array(1), {
      hostname: "::1",
      port: 9,
      transport: "udp",
    })
  );
  assert.equal(SocketError.getStatus(error), Status.AddressFamilyNotSupported);
});

Deno.test("SocketError.getStatus() maps a real lookup of nothing.invalid to HostNotFound", async () => {
  // With or without a reachable DNS server, Deno reports the name as unknown:
  // "failed to lookup address information: Name or service not known".
  const error = await rejection(() =>
    Deno.connect({ hostname: "nothing.invalid", port: 80 })
  );
  assert.match(String(error), /failed to lookup address information/);
  assert.equal(SocketError.getStatus(error), Status.HostNotFound);
});

// ---------------------------------------------------------------------------
// SocketError.isPermissionError()

const notCapable = new Deno.errors.NotCapable(
  'Requires net access to "127.0.0.1:9", run again with the --allow-net flag',
);

const PERMISSION_ROWS: ReadonlyArray<readonly [string, unknown, boolean]> = [
  ["Deno.errors.NotCapable", notCapable, true],
  [
    "Deno.errors.PermissionDenied",
    new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
    true,
  ],
  ["an EACCES code", withCode("EACCES"), true],
  [
    "an error caused by NotCapable",
    new Error("x", { cause: notCapable }),
    true,
  ],
  [
    "a SocketError caused by NotCapable",
    new SocketError("x", { status: Status.Unknown, cause: notCapable }),
    true,
  ],
  [
    "Deno.errors.ConnectionRefused",
    new Deno.errors.ConnectionRefused("x"),
    false,
  ],
  [
    "a SocketError without cause",
    new SocketError("x", { status: Status.Unknown }),
    false,
  ],
];

for (const [label, error, expected] of PERMISSION_ROWS) {
  Deno.test(`SocketError.isPermissionError() is ${expected} for ${label}`, () => {
    assert.equal(SocketError.isPermissionError(error), expected);
  });
}

// ---------------------------------------------------------------------------
// SocketError.from()

const connectTo = (hostname: string, port: number) => ({
  action: "Cannot connect to",
  endpoint: { hostname, port },
});

const FROM_ROWS: ReadonlyArray<
  readonly [
    label: string,
    error: unknown,
    context: Parameters<typeof SocketError.from>[1],
    message: string,
    status: SocketErrorStatus,
  ]
> = [
  [
    "a refused connection",
    new Deno.errors.ConnectionRefused("Connection refused (os error 111)"),
    connectTo("127.0.0.1", 9),
    "Cannot connect to 127.0.0.1:9: connection refused",
    Status.ConnectionRefused,
  ],
  [
    "an IPv6 endpoint in brackets",
    new Deno.errors.ConnectionRefused("Connection refused (os error 111)"),
    connectTo("::1", 9),
    "Cannot connect to [::1]:9: connection refused",
    Status.ConnectionRefused,
  ],
  [
    "an IPv6 endpoint already in brackets",
    new Deno.errors.ConnectionRefused("x"),
    connectTo("[::1]", 9),
    "Cannot connect to [::1]:9: connection refused",
    Status.ConnectionRefused,
  ],
  [
    "a DNS failure",
    new Error(
      "failed to lookup address information: Name or service not known",
    ),
    {
      action: "Cannot resolve",
      endpoint: { hostname: "nothing.invalid", port: 80 },
    },
    "Cannot resolve nothing.invalid:80: host not found",
    Status.HostNotFound,
  ],
  [
    "an address in use with a hint",
    new Deno.errors.AddrInUse("Address already in use (os error 98)"),
    {
      action: "Cannot listen on",
      endpoint: { hostname: "0.0.0.0", port: 8080 },
    },
    "Cannot listen on 0.0.0.0:8080: address already in use; choose another port or use port 0",
    Status.AddressAlreadyInUse,
  ],
  [
    "no endpoint",
    new Deno.errors.BadResource("Bad resource ID"),
    { action: "Cannot read" },
    "Cannot read: operation aborted",
    Status.OperationAborted,
  ],
  [
    "an untrusted certificate",
    new Deno.errors.InvalidData("invalid peer certificate: UnknownIssuer"),
    connectTo("localhost", 8443),
    "Cannot connect to localhost:8443: certificate is not trusted; add its issuing CA to the trusted certificates",
    Status.CertificateUntrustedRoot,
  ],
  [
    "an unknown error, keeping its message in sentence case",
    new Error("Something odd happened."),
    connectTo("127.0.0.1", 9),
    "Cannot connect to 127.0.0.1:9: something odd happened",
    Status.Unknown,
  ],
  [
    "an unknown error starting with an acronym",
    new Error("TLS handshake eof"),
    connectTo("127.0.0.1", 9),
    "Cannot connect to 127.0.0.1:9: TLS handshake eof",
    Status.Unknown,
  ],
  [
    "a thrown string",
    "boom",
    { action: "Cannot write to" },
    "Cannot write to: boom",
    Status.Unknown,
  ],
  [
    "a thrown empty object",
    {},
    { action: "Cannot write to" },
    "Cannot write to: unknown error",
    Status.Unknown,
  ],
  [
    "Deno's NotCapable, naming the flag",
    notCapable,
    connectTo("127.0.0.1", 9),
    "Cannot connect to 127.0.0.1:9: network access denied; run with --allow-net (or --allow-net=127.0.0.1:9)",
    Status.Unknown,
  ],
  [
    "Deno's NotCapable for Deno.resolveDns(), naming the DNS server",
    new Deno.errors.NotCapable(
      'Requires net access to "10.255.255.53:53", run again with the --allow-net flag',
    ),
    {
      action: "Cannot resolve",
      endpoint: { hostname: "example.com", port: 80 },
    },
    "Cannot resolve example.com:80: network access denied; run with --allow-net (or --allow-net=10.255.255.53:53)",
    Status.Unknown,
  ],
  [
    "a NotCapable without a target or endpoint",
    new Deno.errors.NotCapable("denied"),
    { action: "Cannot listen" },
    "Cannot listen: network access denied; run with --allow-net",
    Status.Unknown,
  ],
  [
    "a NotCapable without a target, using the endpoint",
    new Deno.errors.NotCapable("denied"),
    connectTo("::1", 9),
    "Cannot connect to [::1]:9: network access denied; run with --allow-net (or --allow-net=[::1]:9)",
    Status.Unknown,
  ],
  [
    "an operating-system PermissionDenied on a privileged port",
    new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
    { action: "Cannot listen on", endpoint: { hostname: "0.0.0.0", port: 80 } },
    "Cannot listen on 0.0.0.0:80: permission denied by the operating system; ports below 1024 need elevated privileges, or use port 0",
    Status.Unknown,
  ],
  [
    "an operating-system PermissionDenied on another port",
    new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
    {
      action: "Cannot listen on",
      endpoint: { hostname: "0.0.0.0", port: 8080 },
    },
    "Cannot listen on 0.0.0.0:8080: permission denied by the operating system",
    Status.Unknown,
  ],
];

for (const [label, error, context, message, status] of FROM_ROWS) {
  Deno.test(`SocketError.from() wraps ${label}`, () => {
    const wrapped = SocketError.from(error, context);
    assert.ok(wrapped instanceof SocketError);
    assert.equal(wrapped.message, message);
    assert.equal(wrapped.status, status);
    assert.equal(wrapped.cause, error);
    assert.deepEqual(wrapped.endpoint, context.endpoint);
    assert.doesNotMatch(wrapped.message, /\.$/);
  });
}

Deno.test("SocketError.from() wrapping a permission error keeps isPermissionError() true", () => {
  const wrapped = SocketError.from(notCapable, connectTo("127.0.0.1", 9));
  assert.equal(SocketError.isPermissionError(wrapped), true);
  assert.equal(SocketError.getStatus(wrapped), Status.Unknown);
});

const UNCHANGED: ReadonlyArray<readonly [string, Error]> = [
  ["a SocketError", new SocketError("x", { status: Status.HostIsDown })],
  ["a TypeError", new TypeError("bad argument")],
  ["a RangeError", new RangeError("out of range")],
];

for (const [label, error] of UNCHANGED) {
  Deno.test(`SocketError.from() returns ${label} unchanged`, () => {
    assert.equal(SocketError.from(error, connectTo("127.0.0.1", 9)), error);
  });
}

Deno.test("SocketError.from() never throws on a hostile proxy", () => {
  const wrapped = SocketError.from(hostileProxy, { action: "Cannot read" });
  assert.ok(wrapped instanceof SocketError);
  assert.equal(wrapped.status, Status.Unknown);
  assert.equal(wrapped.message, "Cannot read: unknown error");
});

Deno.test("SocketError.from() wraps a real refused connection with its cause", async () => {
  const port = closedPort();
  const cause = await rejection(() =>
    Deno.connect({ hostname: "127.0.0.1", port })
  );
  const wrapped = SocketError.from(cause, connectTo("127.0.0.1", port));
  assert.ok(wrapped instanceof SocketError);
  assert.equal(
    wrapped.message,
    `Cannot connect to 127.0.0.1:${port}: connection refused`,
  );
  assert.equal(wrapped.status, Status.ConnectionRefused);
  assert.equal(wrapped.cause, cause);
});

Deno.test("SocketError.from() names read and write access for a Unix socket's path, not --allow-net", () => {
  const denied = new Deno.errors.NotCapable(
    'Requires read access to "/tmp/x.sock", run again with the --allow-read flag',
  );
  const error = SocketError.from(denied, {
    action: "Cannot connect to /tmp/x.sock",
  });
  assert.match(
    error.message,
    /read access to \/tmp\/x\.sock denied; a Unix socket needs --allow-read and --allow-write for its path/,
  );
  assert.ok(SocketError.isPermissionError(error.cause));
});
