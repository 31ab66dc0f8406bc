/**
 * A TCP (or TLS) stream socket, as UWP's `StreamSocket`.
 *
 * @module
 */

import { checkBoolean } from "./_setting_checks.ts";
import { HostName } from "./host_name.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { SocketProtectionLevel } from "./socket_protection_level.ts";
import { SocketInputStream } from "./socket_input_stream.ts";
import { SocketOutputStream } from "./socket_output_stream.ts";
import type { SocketAddress, SocketConnection } from "./socket_connection.ts";
import { Certificate } from "./certificate.ts";
import { EndpointPair } from "./endpoint_pair.ts";
import { connectUnix, UnixConnection, unixPath } from "./_unix_socket.ts";
import { upgradeTlsServer } from "./_tls_server_upgrade.ts";
import { connectNodeNet, NodeNetConnection } from "./_node_net_connection.ts";
import { parseServiceName } from "./_service_name.ts";
import { checkCertificateWithKey } from "./_certificate_check.ts";
import { closedError, SocketLink } from "./_socket_link.ts";
import { idleClock, idleGroups, IdleSweep } from "./_idle_sweep.ts";
import { abortedError, signalOf } from "./_abort.ts";
import type { AbortOptions } from "./abort_options.ts";
import { describe, formatEndpoint } from "./_format.ts";
import {
  checkProtectionLevel,
  clientCertificateRejection,
  connectTls,
  ignorableStatuses,
  isTls,
  levelName,
  type TlsClientResult,
  type TlsClientSettings,
  upgradeTls,
} from "./_tls_client.ts";
import { setTimer } from "./_timer.ts";

/**
 * Which stack carries a plain TCP client connection: `"deno"`
 * (`Deno.connect`, the default) or `"node"` (Deno's `node:net`, which can
 * bind a local endpoint, set the keep-alive delay and close with a reset).
 */
export type TcpBackend = "deno" | "node";

/**
 * Which TLS stack a stream socket uses: `"deno"` (`Deno.connectTls`, rustls;
 * the default) or `"node"` (Deno's `node:tls`, which can pin TLS 1.2 and
 * reports the server certificate).
 *
 * @example Pick the node:tls backend
 * ```ts
 * import type { TlsBackend } from "@seed/sockets";
 *
 * const backend: TlsBackend = "node";
 * ```
 */
export type TlsBackend = "deno" | "node";

/** What the last argument of `connectAsync` may be (the UWP overload's level, or options). */
type ConnectOptionsArgument =
  | SocketProtectionLevel
  | StreamSocketConnectOptions;

/** Options of {@linkcode StreamSocket.connectAsync}. */
export interface StreamSocketConnectOptions {
  /**
   * How to protect the connection.
   *
   * @default {SocketProtectionLevel.PlainSocket}
   */
  protectionLevel?: SocketProtectionLevel;
  /** Cancels the connection attempt; the promise rejects with `OperationAborted`. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the connection before rejecting with
   * `ConnectionTimedOut`.
   *
   * @default {30000}
   */
  timeout?: number;
}

/** Options of {@linkcode StreamSocket.upgradeToSslAsync}. */
export interface StreamSocketUpgradeOptions extends AbortOptions {
  /**
   * How long the handshake may take, in milliseconds.
   *
   * @default {30000}
   */
  timeout?: number;
}

/**
 * How long a TLS client may take over its handshake with us, in
 * milliseconds, unless told otherwise: 10 s, the default of
 * {@linkcode StreamSocketListenerControl.handshakeTimeout} and of the
 * `timeout` of {@linkcode StreamSocket.upgradeToSslAsServerAsync}, as
 * ASP.NET Kestrel's (Node's `tls.Server` waits 120 s). A client that stalls
 * its handshake holds a descriptor and memory meanwhile.
 *
 * @example A listener starts with it
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_HANDSHAKE_TIMEOUT, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * assert.equal(listener.control.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
 * ```
 */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Options of {@linkcode StreamSocket.upgradeToSslAsServerAsync}. */
export interface StreamSocketServerUpgradeOptions extends AbortOptions {
  /**
   * How long the client may take to complete the handshake, in
   * milliseconds; past it the upgrade fails with `ConnectionTimedOut` and
   * the socket is closed.
   *
   * @default {10000}
   */
  timeout?: number;
  /**
   * Accept only a client presenting a certificate that chains to
   * `trustedClientRoots` (or, when that is empty, to the system's roots).
   *
   * @default {false}
   */
  clientCertificateRequired?: boolean;
  /**
   * Roots client certificates must chain to; with them and without
   * `clientCertificateRequired`, a certificate is asked for but optional.
   *
   * @default {[]}
   */
  trustedClientRoots?: readonly Certificate[];
}

/** Options of {@linkcode StreamSocket.fromConnection}. */
export interface StreamSocketAdoptOptions {
  /** Settings to apply to the connection (`noDelay`, `keepAlive`, buffer size). */
  control?: StreamSocketControl;
  /** The protection level the connection already has. */
  protectionLevel?: SocketProtectionLevel;
  /** The server's certificate, when the connection is TLS and it is known. */
  serverCertificate?: Certificate | undefined;
  /** The client's verified certificate, when the connection is TLS and the client presented one. */
  clientCertificate?: Certificate | undefined;
  /**
   * Called once when the socket closes, with the socket. One function can
   * serve many sockets, which costs less memory than a `closed.then()` each.
   */
  onClose?: ((socket: StreamSocket) => void) | undefined;
}

/**
 * Names of UWP's `ChainValidationResult` values that
 * {@linkcode StreamSocketControl.ignorableServerCertificateErrors} accepts
 * besides `SocketErrorStatus` values.
 */
export type ChainValidationResult =
  | "Untrusted"
  | "Revoked"
  | "Expired"
  | "IncompleteChain"
  | "InvalidSignature"
  | "WrongUsage"
  | "InvalidName"
  | "RevocationInformationMissing"
  | "RevocationFailure";

/** The settings a socket copies from its listener: never changed in place, replaced on each change, so accepted sockets share one. */
interface ControlSettings {
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly idleTimeout: number;
  readonly keepAliveDelay: number;
  readonly tcpBackend: TcpBackend;
  readonly outboundBufferSizeInBytes: number;
  readonly trustedRootCertificates: readonly Certificate[];
  readonly ignorableServerCertificateErrors: readonly SocketErrorStatus[];
  readonly tlsBackend: TlsBackend;
}

/** A socket's link, for module functions (private methods cost every socket a brand slot). */
let linkOf: (socket: StreamSocket) => SocketLink;
/** Closes a socket the idle sweep found silent. */
let expireIdle: (socket: StreamSocket) => void;
/** The set a socket's owner keeps it in and the sweep watches it through, if any. */
let idleGroupOf: (
  socket: StreamSocket,
) => ReadonlySet<StreamSocket> | undefined;

/** Reads a control's settings (for sockets that hold settings without a control). */
let settingsOf: (control: StreamSocketControl) => ControlSettings;
/** Makes a control with these settings, bound to `socket` once it is connected. */
let controlWith: (
  settings: ControlSettings,
  socket: StreamSocket | undefined,
) => StreamSocketControl;

const DEFAULT_SETTINGS: ControlSettings = Object.freeze({
  noDelay: true,
  keepAlive: false,
  idleTimeout: 0,
  keepAliveDelay: 0,
  tcpBackend: "deno",
  outboundBufferSizeInBytes: 512 * 1024,
  trustedRootCertificates: Object.freeze([]),
  ignorableServerCertificateErrors: Object.freeze([]),
  tlsBackend: "deno",
});

/**
 * Socket options (UWP's `StreamSocketControl`). Set them before connecting;
 * `noDelay` and `keepAlive` also apply at once to a connected socket.
 *
 * @example Turn on keep-alive before connecting
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSocket } from "@seed/sockets";
 *
 * const socket = new StreamSocket();
 * socket.control.keepAlive = true;
 * assert.equal(socket.control.noDelay, true);
 * socket.close();
 * ```
 */
export class StreamSocketControl {
  #settings = DEFAULT_SETTINGS;
  #connection: SocketConnection | undefined;
  #socket: StreamSocket | undefined;
  #clientCertificate: Certificate | undefined;

  static {
    settingsOf = (control) => control.#settings;
    controlWith = (settings, socket) => {
      const control = new StreamSocketControl();
      control.#settings = settings;
      control.#socket = socket;
      control.#connection = socket === undefined
        ? undefined
        : linkOf(socket).connection;
      return control;
    };
  }

  /**
   * Disables Nagle's algorithm, so small writes leave at once.
   *
   * @default {true}
   */
  get noDelay(): boolean {
    return this.#settings.noDelay;
  }
  set noDelay(value: boolean) {
    this.#change({ noDelay: checkBoolean(value, "noDelay") });
    this.#connection?.setNoDelay?.(value);
  }

  /**
   * Sends TCP keep-alive probes on an idle connection.
   *
   * @default {false}
   */
  get keepAlive(): boolean {
    return this.#settings.keepAlive;
  }
  set keepAlive(value: boolean) {
    this.#change({ keepAlive: checkBoolean(value, "keepAlive") });
    this.#connection?.setKeepAlive?.(value);
  }

  /**
   * Closes the socket once no byte was read or written for this many
   * milliseconds; 0 means never. Its pending and later operations then
   * reject with a `SocketError` whose status is `ConnectionTimedOut`. On a
   * listener's control it applies to every socket the listener accepts
   * (Go's `IdleTimeout`, Node's `socket.setTimeout` with a close); on a
   * connected socket it applies at once, counting from the change.
   *
   * One shared timer watches every socket (see the README's "Deadlines and
   * timeouts"): a socket is closed after at least this long without
   * traffic, and at most a quarter of it later.
   *
   * @default {0}
   * @throws {RangeError} If the value is not a non-negative integer.
   *
   * @example Close clients that say nothing for 30 s
   * ```ts
   * import { StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.control.idleTimeout = 30_000;
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * ```
   */
  get idleTimeout(): number {
    return this.#settings.idleTimeout;
  }
  set idleTimeout(value: number) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `Cannot set the idle time-out: "idleTimeout" must be a non-negative integer of milliseconds, got ${
          describe(value)
        }`,
      );
    }
    this.#change({ idleTimeout: value });
    if (this.#socket !== undefined) watchIdle(this.#socket, value);
  }

  /**
   * Idle time in milliseconds before the first keep-alive probe
   * (`TCP_KEEPIDLE`; Node's `setKeepAlive(true, delay)`), for connections
   * with `keepAlive` on; 0 keeps the system's (2 hours on Linux). Set it
   * before connecting: a positive delay connects through Deno's `node:net`
   * (or `node:tls`), since `Deno.connect` has no such option. Once
   * connected, a change applies at once on those connections. Client
   * sockets only: a listener with it refuses to bind, since the
   * connections it accepts come from `Deno.listen`.
   *
   * @default {0}
   * @throws {RangeError} If the value is not a non-negative integer.
   * @throws {TypeError} If the socket is connected through `Deno.connect`,
   * which cannot change it.
   *
   * @example Probe after 30 s of silence
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = new StreamSocket();
   * socket.control.keepAlive = true;
   * socket.control.keepAliveDelay = 30_000;
   * await socket.connectAsync("127.0.0.1", listener.information.localPort);
   * ```
   */
  get keepAliveDelay(): number {
    return this.#settings.keepAliveDelay;
  }
  set keepAliveDelay(value: number) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(
        `Cannot set keepAliveDelay: "keepAliveDelay" must be a non-negative integer of milliseconds, got ${
          describe(value)
        }`,
      );
    }
    const connection = this.#connection;
    if (
      connection !== undefined && !(connection instanceof NodeNetConnection)
    ) {
      throw new TypeError(
        'Cannot set keepAliveDelay: the socket is connected through Deno.connect, which has no keep-alive delay; set it (or control.tcpBackend = "node") before connectAsync()',
      );
    }
    this.#change({ keepAliveDelay: value });
    if (connection instanceof NodeNetConnection && this.#settings.keepAlive) {
      connection.setKeepAlive(true, value);
    }
  }

  /**
   * Which stack carries a plain client connection: `"deno"`
   * (`Deno.connect`) or `"node"` (Deno's `node:net`). `"node"` is chosen
   * by itself when a feature needs it (an {@linkcode EndpointPair} with a
   * local part, a `keepAliveDelay`); set it to be able to
   * {@linkcode StreamSocket.closeWithReset} a connection that needs
   * neither. `Deno.connect` is faster: see the README's performance notes.
   * Client sockets only, as `keepAliveDelay`.
   *
   * @default {"deno"}
   * @throws {TypeError} If the value is neither.
   *
   * @example Be able to reset the connection
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using socket = new StreamSocket();
   * socket.control.tcpBackend = "node";
   * ```
   */
  get tcpBackend(): TcpBackend {
    return this.#settings.tcpBackend;
  }
  set tcpBackend(value: TcpBackend) {
    this.#change({ tcpBackend: checkBackend(value, "tcpBackend") });
  }

  /**
   * Unsent bytes the output stream holds before `writer.ready` waits (its
   * high-water mark). Takes effect for sockets connected afterwards.
   *
   * @default {524288}
   */
  get outboundBufferSizeInBytes(): number {
    return this.#settings.outboundBufferSizeInBytes;
  }
  set outboundBufferSizeInBytes(value: number) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot set outboundBufferSizeInBytes: "outboundBufferSizeInBytes" must be a positive integer, got ${
          describe(value)
        }`,
      );
    }
    this.#change({ outboundBufferSizeInBytes: value });
  }

  /**
   * The certificate (with its private key) this client presents when a TLS
   * server asks for one (UWP's `ClientCertificate`). Set it before
   * `connectAsync`; `upgradeToSslAsync` cannot send it (Deno.startTls has no
   * client certificate) and refuses while it is set.
   *
   * @default {undefined}
   * @throws {TypeError} If the value is not a `Certificate` with a private
   * key, or the socket is already connected.
   *
   * @example Present a client certificate
   * ```ts
   * import { Certificate, StreamSocket } from "@seed/sockets";
   *
   * const dir = new URL("../tests/testdata/", import.meta.url);
   * await using socket = new StreamSocket();
   * socket.control.clientCertificate = await Certificate.fromFiles(new URL("client.pem", dir), new URL("client.key", dir));
   * ```
   */
  get clientCertificate(): Certificate | undefined {
    return this.#clientCertificate;
  }
  set clientCertificate(value: Certificate | undefined) {
    if (this.#connection !== undefined) {
      throw new TypeError(
        "Cannot set clientCertificate: the socket is already connected; set it before connectAsync()",
      );
    }
    if (value !== undefined) {
      checkCertificateWithKey(value, "clientCertificate");
    }
    this.#clientCertificate = value;
  }

  /**
   * Root certificates trusted in addition to the system's (PEM strings or
   * `Certificate`s), for servers whose certificate comes from a private CA.
   *
   * @default {[]}
   * @throws {TypeError} If an entry is neither a `Certificate` nor PEM.
   *
   * @example Trust a private CA
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using socket = new StreamSocket();
   * socket.control.trustedRootCertificates = [
   *   await Deno.readTextFile(new URL("../tests/testdata/ca.pem", import.meta.url)),
   * ];
   * ```
   */
  get trustedRootCertificates(): readonly Certificate[] {
    return this.#settings.trustedRootCertificates;
  }
  set trustedRootCertificates(value: readonly (Certificate | string)[]) {
    if (!Array.isArray(value)) {
      throw new TypeError(
        `Cannot set trustedRootCertificates: "trustedRootCertificates" must be an array of Certificates or PEM strings, got ${
          describe(value)
        }`,
      );
    }
    const trustedRootCertificates = Object.freeze(
      value.map((item) =>
        item instanceof Certificate ? item : Certificate.fromPem(item)
      ),
    );
    this.#change({ trustedRootCertificates });
  }

  /**
   * Server-certificate errors to accept (UWP's
   * `IgnorableServerCertificateErrors`): `SocketErrorStatus` values or UWP
   * `ChainValidationResult` names, stored as statuses. Deno can only ignore
   * a name mismatch (`CertificateCommonNameIsIncorrect` / `"InvalidName"`);
   * `connectAsync` rejects with a `RangeError` naming any other error, and
   * the revocation statuses are accepted as no-ops (Deno checks no revocation).
   *
   * @default {[]}
   * @throws {TypeError} If an entry is not a certificate status or name.
   *
   * @example Accept a certificate for another name
   * ```ts
   * import { SocketErrorStatus, StreamSocket } from "@seed/sockets";
   *
   * await using socket = new StreamSocket();
   * socket.control.ignorableServerCertificateErrors = [SocketErrorStatus.CertificateCommonNameIsIncorrect];
   * ```
   */
  get ignorableServerCertificateErrors(): readonly SocketErrorStatus[] {
    return this.#settings.ignorableServerCertificateErrors;
  }
  set ignorableServerCertificateErrors(
    value: readonly (SocketErrorStatus | ChainValidationResult)[],
  ) {
    this.#change({
      ignorableServerCertificateErrors: ignorableStatuses(value),
    });
  }

  /**
   * Which TLS stack a client uses: `"deno"` (`Deno.connectTls`, rustls) or
   * `"node"` (Deno's `node:tls`). Only `"node"` reports
   * `information.serverCertificate` and the exact TLS version, and pins
   * `Tls12` to TLS 1.2; `Tls13` always uses `"node"`. For listeners,
   * `"node"` serves through `node:tls` even without client certificates.
   *
   * @default {"deno"}
   * @throws {TypeError} If the value is neither.
   *
   * @example Get the server certificate
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using socket = new StreamSocket();
   * socket.control.tlsBackend = "node";
   * ```
   */
  get tlsBackend(): TlsBackend {
    return this.#settings.tlsBackend;
  }
  set tlsBackend(value: TlsBackend) {
    this.#change({ tlsBackend: checkBackend(value, "tlsBackend") });
  }

  /**
   * Copies these settings from another control.
   *
   * @param other Where to copy from.
   */
  copyFrom(other: StreamSocketControl): void {
    // Shared, not copied: settings are replaced on change, never mutated.
    this.#settings = other.#settings;
  }

  /**
   * Applies the settings to a new connection, and to it again on later changes.
   *
   * @param connection The connection.
   */
  applyTo(connection: SocketConnection): void {
    this.#connection = connection;
    applySettings(this.#settings, connection);
  }

  #change(change: Partial<ControlSettings>): void {
    this.#settings = Object.freeze({ ...this.#settings, ...change });
  }
}

/**
 * Facts about a connection (UWP's `StreamSocketInformation`): endpoints and
 * protection level. Before connecting, addresses are `undefined` and ports 0.
 *
 * @example Read the endpoints
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * assert.equal(client.information.remotePort, listener.information.localPort);
 * assert.equal(client.information.remoteAddress?.canonicalName, "127.0.0.1");
 * ```
 */
export class StreamSocketInformation {
  /** The local IP address. */
  localAddress: HostName | undefined;
  /** The local port. */
  localPort = 0;
  /** The remote IP address. */
  remoteAddress: HostName | undefined;
  /** The remote port. */
  remotePort = 0;
  /** The host name given to `connectAsync` (the remote address for accepted sockets). */
  remoteHostName: HostName | undefined;
  /** The service name given to `connectAsync` (the remote port for accepted sockets). */
  remoteServiceName = "";
  /**
   * The protection level in force. With the `"node"` TLS backend (and for
   * `Tls13`) it is the negotiated version (`Tls12` or `Tls13`); with
   * `Deno.connectTls` it is the level asked for, since Deno does not report
   * the version (`Tls12` then means TLS 1.2 or 1.3).
   */
  protectionLevel: SocketProtectionLevel = SocketProtectionLevel.Unspecified;
  /**
   * The server's certificate after a TLS handshake (UWP's
   * `ServerCertificate`): known with the `"node"` TLS backend, with `Tls13`,
   * and on sockets a TLS listener accepted (its own certificate);
   * `undefined` with `Deno.connectTls`, which does not expose it.
   */
  serverCertificate: Certificate | undefined;
  /**
   * The client's certificate: on a socket a TLS listener accepted, the one
   * the client presented and the listener verified; on a client, the one it
   * presented (`control.clientCertificate`).
   */
  clientCertificate: Certificate | undefined;
  /**
   * For a Unix domain socket, the path this end is bound to: the listener's
   * path on an accepted socket, `""` on a client (its end has no name).
   * `undefined` for TCP. Unix sockets have no address or port:
   * `localAddress`/`remoteAddress` stay `undefined` and the ports 0.
   */
  localPath: string | undefined;
  /**
   * For a Unix domain socket, the path of the other end: the path a client
   * connected to, `""` on an accepted socket. `undefined` for TCP.
   */
  remotePath: string | undefined;
}

/**
 * A TCP stream socket (UWP's `StreamSocket`): connect, read through
 * `inputStream`, write through `outputStream`, close.
 *
 * > [!IMPORTANT]
 * > Needs `--allow-net` (for example `--allow-net=127.0.0.1`).
 *
 * @example Connect, send a line, read the echo
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader, StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("connectionreceived", async ({ socket }) => {
 *   const line = await new LineReader(socket.inputStream).readLine();
 *   await socket.outputStream.writeAsync(new TextEncoder().encode(`${line}\n`));
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using socket = new StreamSocket();
 * await socket.connectAsync("127.0.0.1", listener.information.localPort);
 * await socket.outputStream.writeAsync(new TextEncoder().encode("Hello, World!\n"));
 * assert.equal(await new LineReader(socket.inputStream).readLine(), "Hello, World!");
 * ```
 */
export class StreamSocket implements AsyncDisposable {
  // Settings alone until `control` is asked for: an accepted socket shares
  // its listener's settings object and costs no control of its own.
  #control: StreamSocketControl | ControlSettings = DEFAULT_SETTINGS;
  // An accepted plain socket makes it on first use: a server holding
  // thousands of idle connections rarely asks, and it costs two HostNames.
  #information: StreamSocketInformation | undefined;
  #link = new SocketLink();
  #inputStream: SocketInputStream | undefined;
  #outputStream: SocketOutputStream | undefined;
  // Made on first use: most sockets are never asked, and each costs a promise.
  #closedSignal: PromiseWithResolvers<void> | undefined;
  #onClose: ((socket: StreamSocket) => void) | undefined;

  static {
    linkOf = (socket) => socket.#link;
    idleGroupOf = (socket) =>
      socket.#onClose === undefined
        ? undefined
        : idleGroups.get(socket.#onClose) as
          | ReadonlySet<StreamSocket>
          | undefined;
    expireIdle = (socket) => {
      socket.#link.idleExpired = true;
      socket.close();
    };
  }

  /**
   * Connects a new socket: the same as `new StreamSocket()` then
   * {@linkcode StreamSocket.prototype.connectAsync}.
   *
   * @param host Where to connect: a `HostName`, a DNS name or an IP address.
   * @param service The port, as a number or a string (`"80"`, `"http"`).
   * @param options A protection level, or connection options.
   * @returns The connected socket.
   * @throws {TypeError} If `host` or `service` is invalid.
   * @throws {SocketError} If the connection failed (`ConnectionRefused`,
   * `HostNotFound`, `ConnectionTimedOut`, ...).
   *
   * @example Connect in one call
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * ```
   */
  static async connectAsync(
    host: HostName | string,
    service: string | number,
    options?: SocketProtectionLevel | StreamSocketConnectOptions,
  ): Promise<StreamSocket>;
  /**
   * Connects a new socket from a chosen local endpoint: the same as
   * `new StreamSocket()` then `connectAsync(endpointPair, options)`.
   *
   * @param endpointPair The local address and/or port to bind, and the remote endpoint.
   * @param options A protection level, or connection options.
   * @returns The connected socket.
   * @throws {SocketError} As the other overload, and
   * `CannotAssignRequestedAddress` or `AddressAlreadyInUse` when the local
   * endpoint cannot be bound.
   *
   * @example Connect from a chosen local address
   * ```ts
   * import assert from "node:assert/strict";
   * import { EndpointPair, StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * const pair = new EndpointPair("127.0.0.1", "", "127.0.0.1", listener.information.localPort);
   * await using socket = await StreamSocket.connectAsync(pair);
   * assert.equal(socket.information.localAddress?.canonicalName, "127.0.0.1");
   * ```
   */
  static async connectAsync(
    endpointPair: EndpointPair,
    options?: SocketProtectionLevel | StreamSocketConnectOptions,
  ): Promise<StreamSocket>;
  static async connectAsync(
    host: HostName | string | EndpointPair,
    service?: string | number | ConnectOptionsArgument,
    options?: ConnectOptionsArgument,
  ): Promise<StreamSocket> {
    const socket = new StreamSocket();
    if (host instanceof EndpointPair) {
      await socket.connectAsync(
        host,
        service as ConnectOptionsArgument,
      );
    } else {
      await socket.connectAsync(host, service as string | number, options);
    }
    return socket;
  }

  /**
   * Connects a new socket to a Unix domain stream socket: the same as
   * `new StreamSocket()` then
   * {@linkcode StreamSocket.prototype.connectUnixAsync}.
   *
   * @param path The socket's path.
   * @returns The connected socket.
   * @throws {SocketError} `ConnectionRefused` when nothing listens there.
   *
   * @example Talk to a listener on a Unix socket
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * const path = `${await Deno.makeTempDir()}/echo.sock`;
   * await using listener = new StreamSocketListener();
   * listener.addEventListener("connectionreceived", ({ socket }) => socket.close());
   * await listener.bindUnixAsync(path);
   * await using socket = await StreamSocket.connectUnixAsync(path);
   * assert.equal(socket.information.remotePath, path);
   * ```
   */
  static async connectUnixAsync(path: string | URL): Promise<StreamSocket> {
    const socket = new StreamSocket();
    await socket.connectUnixAsync(path);
    return socket;
  }

  /**
   * Adopts a connection made elsewhere (an accepted `Deno.TcpConn`, a
   * `Deno.TlsConn`, or an adapter): the socket owns it from now on.
   *
   * @param connection The open connection.
   * @param options Settings and the protection level it already has.
   * @returns A connected socket.
   *
   * @example Wrap a `Deno.Conn`
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * await using socket = StreamSocket.fromConnection(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
   * assert.equal(socket.information.remotePort, listener.addr.port);
   * ```
   */
  static fromConnection(
    connection: SocketConnection,
    options: StreamSocketAdoptOptions = {},
  ): StreamSocket {
    const socket = new StreamSocket();
    if (options.control !== undefined) {
      socket.#control = settingsOf(options.control);
    }
    socket.#onClose = options.onClose;
    const level = options.protectionLevel ?? SocketProtectionLevel.PlainSocket;
    const { serverCertificate, clientCertificate } = options;
    if (
      level !== SocketProtectionLevel.PlainSocket ||
      serverCertificate !== undefined || clientCertificate !== undefined
    ) {
      const info = socket.#information = new StreamSocketInformation();
      fillAdopted(info, connection, level);
      info.serverCertificate = serverCertificate;
      info.clientCertificate = clientCertificate;
    }
    adopt(
      socket.#link,
      socket.#control,
      socket.#information,
      connection,
      level,
    );
    watchIdle(socket, settingsFrom(socket.#control).idleTimeout);
    return socket;
  }

  /**
   * Socket options; set them before connecting.
   *
   * @example Disable no-delay
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using socket = new StreamSocket();
   * socket.control.noDelay = false;
   * ```
   */
  get control(): StreamSocketControl {
    const control = this.#control;
    if (control instanceof StreamSocketControl) return control;
    return this.#control = controlWith(control, this);
  }

  /**
   * Endpoints and protection level of the connection.
   *
   * @example Before connecting
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket } from "@seed/sockets";
   *
   * const socket = new StreamSocket();
   * assert.equal(socket.information.remotePort, 0);
   * socket.close();
   * ```
   */
  get information(): StreamSocketInformation {
    let info = this.#information;
    if (info === undefined) {
      info = this.#information = new StreamSocketInformation();
      const connection = this.#link.connection;
      // Connected without information: a plain socket made by fromConnection().
      if (connection !== undefined) {
        fillAdopted(info, connection, SocketProtectionLevel.PlainSocket);
      }
    }
    return info;
  }

  /**
   * Where to read what the peer sends.
   *
   * @throws {SocketError} `OperationAborted` if the socket is not connected.
   *
   * @example Read up to 1 KiB
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.addEventListener("connectionreceived", ({ socket }) => socket.close());
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * await socket.inputStream.readAsync(new Uint8Array(1024), 1024, 1);
   * ```
   */
  get inputStream(): SocketInputStream {
    checkConnected(this.#link, "read from");
    this.#inputStream ??= new SocketInputStream(this.#link);
    return this.#inputStream;
  }

  /**
   * Where to write what the peer should receive; writes are coalesced.
   *
   * @throws {SocketError} `OperationAborted` if the socket is not connected.
   *
   * @example Write and flush
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * socket.outputStream.writeAsync(new Uint8Array([1, 2, 3]));
   * await socket.outputStream.flushAsync();
   * ```
   */
  get outputStream(): SocketOutputStream {
    checkConnected(this.#link, "write to");
    this.#outputStream ??= new SocketOutputStream(this.#link, {
      highWaterMark: settingsFrom(this.#control).outboundBufferSizeInBytes,
    });
    return this.#outputStream;
  }

  /**
   * Resolves once the socket is closed, by whichever side of the program.
   *
   * @example Wait for the close
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * const socket = new StreamSocket();
   * socket.close();
   * await socket.closed;
   * ```
   */
  get closed(): Promise<void> {
    if (this.#closedSignal === undefined) {
      if (this.#link.closed) return Promise.resolve();
      this.#closedSignal = Promise.withResolvers<void>();
    }
    return this.#closedSignal.promise;
  }

  /**
   * Connects to a remote host (UWP's `ConnectAsync`).
   *
   * @param host Where to connect: a `HostName`, a DNS name or an IP address
   * (IPv6 with or without brackets).
   * @param service The port, as a number or a string (`"80"`, `"http"`).
   * @param options A `SocketProtectionLevel` (the UWP overload), or options
   * with a protection level, an `AbortSignal` and a time-out.
   *
   * Protection levels: `PlainSocket` is TCP. `Ssl` and `Tls12` use
   * `Deno.connectTls` (rustls), which negotiates TLS 1.2 or 1.3 and cannot
   * pin the version, so `Tls12` guarantees *at least* TLS 1.2 (with
   * `control.tlsBackend = "node"` it is exactly TLS 1.2). `Tls13` uses
   * `node:tls` and guarantees TLS 1.3. The legacy, null-encryption and
   * Bluetooth levels reject with a `RangeError`.
   *
   * A server that refuses the client certificate (or its absence) answers
   * with a TLS alert: with TLS 1.2 `connectAsync` rejects; with TLS 1.3 the
   * alert comes after the handshake, so the first read or write rejects. The
   * error's status is `CertificateIsInvalid` (missing certificate) or the
   * status of the alert, and its message says the server rejected the client.
   * @returns Resolves once connected (and, for TLS, once the handshake is done).
   * @throws {TypeError} If `host` or `service` is invalid, or the socket is
   * already connected.
   * @throws {RangeError} If the port is 0, the time-out is not positive, the
   * protection level is one Deno cannot honour, or
   * `control.ignorableServerCertificateErrors` holds an error Deno cannot
   * ignore.
   * @throws {SocketError} If the connection failed: `ConnectionRefused`,
   * `HostNotFound`, `ConnectionTimedOut`, `OperationAborted`,
   * `CertificateUntrustedRoot`, `CertificateExpired`,
   * `CertificateCommonNameIsIncorrect`, ...
   *
   * @example Connection refused
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus, StreamSocket } from "@seed/sockets";
   *
   * const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = closed.addr.port;
   * closed.close();
   * await using socket = new StreamSocket();
   * await assert.rejects(socket.connectAsync("127.0.0.1", port), (error) =>
   *   SocketError.getStatus(error) === SocketErrorStatus.ConnectionRefused);
   * ```
   */
  async connectAsync(
    host: HostName | string,
    service: string | number,
    options?: SocketProtectionLevel | StreamSocketConnectOptions,
  ): Promise<void>;
  /**
   * Connects from a chosen local endpoint (UWP's
   * `ConnectAsync(EndpointPair)`): binds the pair's local address and/or
   * port, then connects to its remote endpoint. A local part makes the
   * connection go through Deno's `node:net` (or `node:tls`), since
   * `Deno.connect` cannot bind; `information.localAddress` and `localPort`
   * report what was bound.
   *
   * @param endpointPair The local and the remote endpoints.
   * @param options A protection level, or connection options.
   * @returns Resolves once connected.
   * @throws {SocketError} As the other overload, and
   * `CannotAssignRequestedAddress` (the address is not this machine's) or
   * `AddressAlreadyInUse` (the port is taken) for the local endpoint.
   *
   * @example Bind the local address
   * ```ts
   * import assert from "node:assert/strict";
   * import { EndpointPair, HostName, StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = new StreamSocket();
   * await socket.connectAsync(new EndpointPair(new HostName("127.0.0.1"), "", new HostName("127.0.0.1"), String(listener.information.localPort)));
   * assert.equal(socket.information.localAddress?.canonicalName, "127.0.0.1");
   * ```
   */
  async connectAsync(
    endpointPair: EndpointPair,
    options?: SocketProtectionLevel | StreamSocketConnectOptions,
  ): Promise<void>;
  async connectAsync(
    host: HostName | string | EndpointPair,
    service?: string | number | ConnectOptionsArgument,
    options?: ConnectOptionsArgument,
  ): Promise<void> {
    let local: LocalEndpoint | undefined;
    if (host instanceof EndpointPair) {
      local = localEndpointOf(host);
      options = service as ConnectOptionsArgument;
      service = host.remoteServiceName;
      host = host.remoteHostName;
    }
    const link = this.#link;
    checkConnectable(link);
    const hostName = host instanceof HostName ? host : new HostName(host);
    const port = parseServiceName(service, "service");
    const settings = tlsSettingsFrom(this.#control, local);
    if (port === 0) {
      throw new RangeError(
        `Cannot connect to port 0: give the port the server listens on`,
      );
    }
    const { protectionLevel, signal, timeout } = connectOptions(options);
    checkProtectionLevel(protectionLevel, "Cannot connect");
    const endpoint = { hostname: hostName.canonicalName, port };
    const info = this.information;
    info.remoteHostName = hostName;
    info.remoteServiceName = String(service);
    link.connecting = true;
    try {
      const opened = await withDeadline(
        (deadline) =>
          openConnection(endpoint, protectionLevel, settings, deadline),
        endpoint,
        signal,
        timeout,
      );
      const connection = opened.connection;
      if (link.closed) {
        connection.close();
        throw new SocketError(
          `Cannot connect to ${
            formatEndpoint(endpoint)
          }: the socket was closed`,
          {
            status: SocketErrorStatus.OperationAborted,
            endpoint,
          },
        );
      }
      adoptAsClient(
        link,
        this.#control,
        this.#information,
        connection,
        opened.protectionLevel,
      );
      info.serverCertificate = opened.serverCertificate;
      info.clientCertificate = isTls(opened.protectionLevel)
        ? clientCertificateOf(this.#control)
        : undefined;
      watchIdle(this, settingsFrom(this.#control).idleTimeout);
    } finally {
      link.connecting = false;
    }
  }

  /**
   * Connects to a Unix domain stream socket (not in UWP; Deno's
   * `Deno.connect({ transport: "unix" })`). The socket then reads and
   * writes as a TCP one; `information.remotePath` is the path, and the
   * addresses are `undefined` and the ports 0, since a Unix socket has none.
   *
   * > [!IMPORTANT]
   * > Needs `--allow-net` (or `--allow-net=unix:PATH`), `--allow-read` and
   * > `--allow-write` for the path. Not on Windows.
   *
   * @param path The socket's path.
   * @returns Resolves once connected.
   * @throws {TypeError} If the path is empty or the socket is connected.
   * @throws {SocketError} `ConnectionRefused` when nothing listens on the
   * path, or another failure with its status.
   *
   * @example Connect to a Unix socket
   * ```ts ignore
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using socket = new StreamSocket();
   * await socket.connectUnixAsync("/run/app.sock");
   * ```
   */
  async connectUnixAsync(path: string | URL): Promise<void> {
    const link = this.#link;
    checkConnectable(link);
    const file = unixPath(path, "connect");
    const info = this.information;
    info.remotePath = file;
    link.connecting = true;
    try {
      let connection: UnixConnection;
      try {
        connection = await connectUnix(file);
      } catch (error) {
        throw SocketError.from(unixError(error), {
          action: `Cannot connect to ${file}`,
        });
      }
      if (link.closed) {
        connection.close();
        throw new SocketError(
          `Cannot connect to ${file}: the socket was closed`,
          { status: SocketErrorStatus.OperationAborted },
        );
      }
      adopt(
        link,
        this.#control,
        info,
        connection,
        SocketProtectionLevel.PlainSocket,
      );
    } finally {
      link.connecting = false;
    }
  }

  /**
   * Upgrades an open plain connection to TLS (UWP's `UpgradeToSslAsync`,
   * STARTTLS) through `Deno.startTls`: once it resolves, `inputStream` and
   * `outputStream` (the same objects) carry TLS.
   *
   * `Deno.startTls` negotiates TLS 1.2 or 1.3 and cannot send a client
   * certificate, so `Tls13` and a set `control.clientCertificate` are refused.
   * `control.trustedRootCertificates` and `ignorableServerCertificateErrors`
   * apply as for `connectAsync`.
   *
   * @param protectionLevel `Ssl` or `Tls12`.
   * @param validationHostName The name the server's certificate must carry.
   * @param options A `signal` that aborts the handshake, and a `timeout` in
   * ms (default 30,000); either closes the socket, since a half-done
   * handshake leaves nothing usable.
   * @returns Resolves once the handshake is done.
   * @throws {TypeError} If the socket is not a connected plain client socket,
   * a read or write is pending, unsent bytes are queued, or
   * `control.clientCertificate` is set.
   * @throws {RangeError} If the level is not `Ssl` or `Tls12`.
   * @throws {SocketError} If the handshake failed (`CertificateUntrustedRoot`, ...),
   * timed out (`ConnectionTimedOut`) or was aborted (`OperationAborted`, or
   * `ConnectionTimedOut` for a `TimeoutError` reason); the socket is closed then.
   *
   * @example Upgrade after a plain greeting
   * ```ts ignore
   * import { SocketProtectionLevel, StreamSocket } from "@seed/sockets";
   *
   * await using socket = await StreamSocket.connectAsync("mail.example.com", 587);
   * // ... EHLO, STARTTLS ...
   * await socket.upgradeToSslAsync(SocketProtectionLevel.Tls12, "mail.example.com");
   * ```
   */
  async upgradeToSslAsync(
    protectionLevel: SocketProtectionLevel,
    validationHostName: HostName | string,
    options: StreamSocketUpgradeOptions = {},
  ): Promise<void> {
    const action = "Cannot upgrade the connection";
    const signal = signalOf(options, action);
    const timeout = timeoutOf(options.timeout, 30_000, action);
    const link = this.#link;
    const connection = link.connection;
    if (
      protectionLevel !== SocketProtectionLevel.Ssl &&
      protectionLevel !== SocketProtectionLevel.Tls12
    ) {
      checkProtectionLevel(protectionLevel, action);
      throw new RangeError(
        `${action} with protection level ${
          levelName(protectionLevel)
        }: use Ssl or Tls12; Deno.startTls cannot pin TLS 1.3 (it still negotiates TLS 1.3 when the server offers it)`,
      );
    }
    const host = validationHostName instanceof HostName
      ? validationHostName
      : new HostName(validationHostName);
    if (clientCertificateOf(this.#control) !== undefined) {
      throw new TypeError(
        `${action}: Deno.startTls cannot send a client certificate; connect with connectAsync(host, service, SocketProtectionLevel.Tls12) instead, or clear control.clientCertificate`,
      );
    }
    const endpoint = beginUpgrade(
      link,
      this.information,
      this.#outputStream,
      action,
      (plain) => {
        if (isTcpConn(plain)) return;
        throw new TypeError(
          `${action}: only a connection made by connectAsync() (a Deno.TcpConn) can be upgraded`,
        );
      },
    );
    try {
      const upgraded = await withDeadline(
        (deadline) =>
          upgradeTls(
            connection as Deno.TcpConn,
            endpoint,
            host.canonicalName,
            protectionLevel,
            tlsSettingsFrom(this.#control),
            deadline,
          ),
        endpoint,
        signal,
        timeout,
        "Cannot upgrade the connection to",
      );
      if (link.closed) {
        upgraded.connection.close();
        throw closedError(link, "Cannot upgrade the connection to");
      }
      adoptAsClient(
        link,
        this.#control,
        this.#information,
        upgraded.connection,
        upgraded.protectionLevel,
      );
      this.information.serverCertificate = upgraded.serverCertificate;
    } catch (error) {
      // Deno.startTls took the TCP connection: after a failed handshake nothing usable is left.
      this.close();
      if (
        error instanceof SocketError || error instanceof TypeError ||
        error instanceof RangeError
      ) throw error;
      throw SocketError.from(error, {
        action: "Cannot upgrade the connection to",
        endpoint,
      });
    } finally {
      link.upgrading = false;
    }
  }

  /**
   * Upgrades an open plain connection to TLS with this end as the server
   * (STARTTLS for SMTP, IMAP, POP3, PostgreSQL...; not in UWP, whose
   * `UpgradeToSslAsync` is the client side): typically on a socket a
   * listener accepted, after the protocol agreed to switch. Once it
   * resolves, `inputStream` and `outputStream` (the same objects) carry TLS,
   * `information.protectionLevel` is the negotiated version and
   * `information.clientCertificate` the client's verified certificate, if
   * it presented one.
   *
   * Runs on Deno's `node:tls` (a server `TLSSocket` over the plain
   * connection), since `Deno.startTls` is client-only. As for
   * `upgradeToSslAsync`, send and flush what the protocol needs first (the
   * "go ahead" reply) and start no read while it runs.
   *
   * @param serverCertificate The certificate with its private key.
   * @param options Client certificates to require or ask for, an `AbortSignal`.
   * @returns Resolves once the handshake is done.
   * @throws {TypeError} If the socket is not a connected plain socket, bytes
   * are unsent, a read or write is in progress, or the certificate has no key.
   * @throws {SocketError} If the handshake failed (`CertificateIsInvalid`
   * for a missing or untrusted client certificate, `ConnectionResetByPeer`
   * if the client went away); the socket is then closed.
   *
   * @example STARTTLS, both ends in one process
   * ```ts
   * import assert from "node:assert/strict";
   * import { Certificate, LineReader, SocketProtectionLevel, StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * const dir = new URL("../tests/testdata/", import.meta.url);
   * const certificate = await Certificate.fromFiles(new URL("server.pem", dir), new URL("server.key", dir));
   * await using listener = new StreamSocketListener();
   * listener.addEventListener("connectionreceived", async ({ socket }) => {
   *   await using s = socket;
   *   const lines = new LineReader(s.inputStream);
   *   assert.equal(await lines.readLine(), "STARTTLS");
   *   await s.outputStream.writeAsync(new TextEncoder().encode("go ahead\n"));
   *   await s.outputStream.flushAsync();
   *   await s.upgradeToSslAsServerAsync(certificate);
   *   const line = await new LineReader(s.inputStream).readLine();
   *   await s.outputStream.writeAsync(new TextEncoder().encode(`secret: ${line}\n`));
   * });
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   *
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * client.control.trustedRootCertificates = [await Certificate.fromFiles(new URL("ca.pem", dir))];
   * await client.outputStream.writeAsync(new TextEncoder().encode("STARTTLS\n"));
   * assert.equal(await new LineReader(client.inputStream).readLine(), "go ahead");
   * await client.upgradeToSslAsync(SocketProtectionLevel.Tls12, "localhost");
   * await client.outputStream.writeAsync(new TextEncoder().encode("hi\n"));
   * assert.equal(await new LineReader(client.inputStream).readLine(), "secret: hi");
   * ```
   */
  async upgradeToSslAsServerAsync(
    serverCertificate: Certificate,
    options: StreamSocketServerUpgradeOptions = {},
  ): Promise<void> {
    const action = "Cannot upgrade the connection as the TLS server";
    checkCertificateWithKey(serverCertificate, "serverCertificate", action);
    // Checked before the upgrade begins: AbortSignal.any() below would
    // throw after it, leaving the socket upgrading and the deadline armed.
    const callerSignal = signalOf(options, action);
    const timeout = timeoutOf(
      options.timeout,
      DEFAULT_HANDSHAKE_TIMEOUT,
      action,
    );
    const roots = options.trustedClientRoots ?? [];
    if (
      !Array.isArray(roots) || roots.some((r) => !(r instanceof Certificate))
    ) {
      throw new TypeError(
        `${action}: "trustedClientRoots" must be an array of Certificates, got ${
          describe(roots)
        }`,
      );
    }
    const link = this.#link;
    const connection = link.connection;
    const endpoint = beginUpgrade(
      link,
      this.information,
      this.#outputStream,
      action,
    );
    // The deadline aborts the handshake as the caller's signal does.
    const deadline = new AbortController();
    const timer = setTimer(() => deadline.abort(), timeout);
    const signal = callerSignal === undefined
      ? deadline.signal
      : AbortSignal.any([callerSignal, deadline.signal]);
    try {
      const upgraded = await upgradeTlsServer(connection!, {
        serverCertificate,
        clientCertificateRequired: options.clientCertificateRequired === true,
        trustedClientRoots: roots,
      }, signal);
      if (link.closed) {
        upgraded.connection.close();
        throw closedError(link, "Cannot upgrade the connection to");
      }
      adopt(
        link,
        this.#control,
        this.#information,
        upgraded.connection,
        upgraded.protectionLevel,
      );
      this.information.serverCertificate = serverCertificate;
      this.information.clientCertificate = upgraded.clientCertificate;
    } catch (error) {
      // The TLS socket took the plain connection: after a failed handshake nothing usable is left.
      this.close();
      if (callerSignal?.aborted) {
        // A deadline (AbortSignal.timeout()) is a time-out, as everywhere.
        const aborted = abortedError(action, callerSignal.reason, endpoint);
        if (aborted.status === SocketErrorStatus.ConnectionTimedOut) {
          throw aborted;
        }
        throw new SocketError(`${action}: the upgrade was aborted`, {
          status: SocketErrorStatus.OperationAborted,
          endpoint,
          cause: callerSignal.reason,
        });
      }
      if (deadline.signal.aborted) {
        throw new SocketError(
          `${action} with ${
            formatEndpoint(endpoint)
          }: the client did not complete the handshake within ${timeout} ms; raise "timeout" if its link is that slow`,
          {
            status: SocketErrorStatus.ConnectionTimedOut,
            endpoint,
            cause: error,
          },
        );
      }
      throw SocketError.from(error, {
        action: "Cannot upgrade the connection as the TLS server with",
        endpoint,
      });
    } finally {
      clearTimeout(timer);
      link.upgrading = false;
    }
  }

  /**
   * Closes the socket at once: pending reads and writes reject with
   * `OperationAborted`, unsent bytes are dropped. Calling it again does
   * nothing. Prefer `await using` (or `Symbol.asyncDispose`), which sends
   * what was written first.
   *
   * @example Close twice
   * ```ts
   * import { StreamSocket } from "@seed/sockets";
   *
   * const socket = new StreamSocket();
   * socket.close();
   * socket.close();
   * ```
   */
  close(): void {
    const link = this.#link;
    if (link.closed) return;
    link.closed = true;
    try {
      link.connection?.close();
    } catch {
      // Already closed by the peer side of Deno's resource table: nothing left to release.
    }
    if (link.idleTimeout > 0) idleSweep.delete(this);
    this.#closedSignal?.resolve();
    this.#onClose?.(this);
  }

  /**
   * Closes abortively: unsent bytes are dropped and the peer receives a TCP
   * RST instead of a FIN, so its next read or write fails with
   * `ConnectionResetByPeer` (Node's `resetAndDestroy()`, `SO_LINGER` 0). For
   * a protocol violation or an overloaded server, where a graceful close
   * would wait for the peer. Otherwise as {@linkcode StreamSocket.close}.
   *
   * Only connections made through `node:net` can send a RST: set
   * `control.tcpBackend = "node"` before connecting (an
   * {@linkcode EndpointPair} with a local part or a `keepAliveDelay` does
   * it too). `Deno.connect` and accepted sockets cannot.
   *
   * @throws {TypeError} If the connection cannot send a RST; the socket then
   * stays open.
   *
   * @example Reset a connection
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket } from "@seed/sockets";
   *
   * await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const socket = new StreamSocket();
   * socket.control.tcpBackend = "node";
   * await socket.connectAsync("127.0.0.1", listener.addr.port);
   * await using server = await listener.accept();
   * socket.closeWithReset();
   * await assert.rejects(server.read(new Uint8Array(1)), Deno.errors.ConnectionReset);
   * ```
   */
  closeWithReset(): void {
    const link = this.#link;
    if (link.closed) return;
    const connection = link.connection;
    if (
      connection !== undefined && !(connection instanceof NodeNetConnection)
    ) {
      throw new TypeError(
        'Cannot close with a reset: this connection is a Deno connection, which cannot send a TCP RST; set control.tcpBackend = "node" before connectAsync()',
      );
    }
    link.closed = true;
    connection?.reset();
    if (link.idleTimeout > 0) idleSweep.delete(this);
    this.#closedSignal?.resolve();
    this.#onClose?.(this);
  }

  /**
   * Closes gracefully: waits (at most 10 s) until written bytes reached the
   * kernel, then closes. Errors while flushing are not thrown: the socket is
   * going away.
   *
   * @returns Resolves once closed.
   *
   * @example Dispose with `await using`
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * {
   *   await using socket = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   *   socket.outputStream.writeAsync(new TextEncoder().encode("bye"));
   * } // flushed, then closed
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#link.closed) return;
    const output = this.#outputStream;
    if (output !== undefined && output.unsentBytes > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 10_000);
      });
      try {
        await Promise.race([output.flushAsync().catch(() => {}), limit]);
      } finally {
        clearTimeout(timer);
      }
    }
    this.close();
  }
}

// The helpers below are module functions, not private methods: private
// methods add a brand slot to every socket, and servers hold thousands.

/** Watches every socket with an idle time-out, through one timer. */
const idleSweep = new IdleSweep<StreamSocket>({
  activeAt: (socket) => linkOf(socket).activeAt,
  timeout: (socket) => linkOf(socket).idleTimeout,
  expire: (socket) => expireIdle(socket),
});

/** (Re)starts the idle time-out of a connected socket; 0 stops it. */
function watchIdle(socket: StreamSocket, timeout: number): void {
  const link = linkOf(socket);
  if (link.connection === undefined || link.closed) return;
  if (link.idleTimeout > 0) idleSweep.delete(socket);
  link.idleTimeout = timeout;
  if (timeout === 0) return;
  const group = idleGroupOf(socket);
  if (group === undefined) idleSweep.add(socket);
  else idleSweep.addGroup(group, timeout);
  link.activeAt = idleClock.now;
}

function adopt(
  link: SocketLink,
  control: StreamSocketControl | ControlSettings,
  info: StreamSocketInformation | undefined,
  connection: SocketConnection,
  protectionLevel: SocketProtectionLevel,
): void {
  link.connection = connection;
  if (control instanceof StreamSocketControl) control.applyTo(connection);
  else applySettings(control, connection);
  if (info !== undefined) fill(info, connection, protectionLevel);
}

function settingsFrom(
  control: StreamSocketControl | ControlSettings,
): ControlSettings {
  return control instanceof StreamSocketControl ? settingsOf(control) : control;
}

function clientCertificateOf(
  control: StreamSocketControl | ControlSettings,
): Certificate | undefined {
  return control instanceof StreamSocketControl
    ? control.clientCertificate
    : undefined;
}

function tlsSettingsFrom(
  control: StreamSocketControl | ControlSettings,
  local?: LocalEndpoint,
): TlsClientSettings {
  const settings = settingsFrom(control);
  const keepAliveDelay = settings.keepAlive && settings.keepAliveDelay > 0
    ? settings.keepAliveDelay
    : undefined;
  return {
    clientCertificate: clientCertificateOf(control),
    trustedRootCertificates: settings.trustedRootCertificates,
    ignorableServerCertificateErrors: settings.ignorableServerCertificateErrors,
    tlsBackend: settings.tlsBackend,
    tcpBackend: settings.tcpBackend,
    localAddress: local?.hostname,
    localPort: local?.port,
    keepAliveDelay,
  };
}

/** The local endpoint of an {@linkcode EndpointPair}, when it names one. */
interface LocalEndpoint {
  hostname: string | undefined;
  port: number | undefined;
}

function localEndpointOf(pair: EndpointPair): LocalEndpoint | undefined {
  const hostname = pair.localHostName?.canonicalName;
  const port = pair.localPort === 0 ? undefined : pair.localPort;
  return hostname === undefined && port === undefined
    ? undefined
    : { hostname, port };
}

/**
 * Adopts a connection this socket opened or upgraded. Over TLS, a server's
 * refusal of our client certificate then becomes an error that says so:
 * only a client hears the server's verdict on its certificate.
 */
function adoptAsClient(
  link: SocketLink,
  control: StreamSocketControl | ControlSettings,
  info: StreamSocketInformation | undefined,
  connection: SocketConnection,
  protectionLevel: SocketProtectionLevel,
): void {
  adopt(link, control, info, connection, protectionLevel);
  if (!isTls(protectionLevel)) return;
  const certificate = clientCertificateOf(control);
  link.translate = (error) =>
    link.closed
      ? error
      : clientCertificateRejection(error, link.endpoint(), certificate) ??
        error;
}

/**
 * The checks before a connection is swapped for a TLS one (STARTTLS): a
 * connected plain socket, nothing unsent, no write or read in progress.
 * `checkConnection` adds the caller's own check of the plain connection.
 * Leaves `link.upgrading` set (new reads and writes are refused) for the
 * caller to clear.
 *
 * @returns The remote endpoint, for errors.
 * @throws {TypeError} Naming what stands in the way.
 */
function beginUpgrade(
  link: SocketLink,
  info: StreamSocketInformation,
  output: SocketOutputStream | undefined,
  action: string,
  checkConnection?: (connection: SocketConnection) => void,
): SocketAddress {
  const connection = link.connection;
  if (connection === undefined || link.closed) {
    throw new TypeError(`${action}: the socket is not connected`);
  }
  if (info.protectionLevel !== SocketProtectionLevel.PlainSocket) {
    throw new TypeError(
      `${action}: it is already protected (${levelName(info.protectionLevel)})`,
    );
  }
  checkConnection?.(connection);
  if (link.upgrading) {
    throw new TypeError(`${action}: an upgrade is already in progress`);
  }
  if ((output?.unsentBytes ?? 0) > 0) {
    throw new TypeError(
      `${action}: ${
        output!.unsentBytes
      } written bytes are not sent yet; await outputStream.flushAsync() first`,
    );
  }
  if (link.writing) {
    throw new TypeError(
      `${action}: a write is still in progress; wait for it to finish first`,
    );
  }
  if (link.readBlocked) {
    throw new TypeError(
      `${action}: a read is pending, or bytes read before it are not consumed yet; wait for the read to finish first`,
    );
  }
  // From here until the upgrade ends, new reads and writes are refused.
  link.upgrading = true;
  return link.endpoint();
}

function checkConnectable(link: SocketLink): void {
  if (link.connection !== undefined || link.connecting || link.closed) {
    throw new TypeError(
      "Cannot connect: this socket is already connected, connecting or closed; use a new StreamSocket",
    );
  }
}

/** A missing socket file means nothing listens there: as UWP would say, the connection is refused. */
function unixError(error: unknown): unknown {
  return error instanceof Deno.errors.NotFound
    ? new Deno.errors.ConnectionRefused(
      `no socket at this path (${error.message})`,
      { cause: error },
    )
    : error;
}

function checkConnected(link: SocketLink, verb: string): void {
  if (link.connection !== undefined) return;
  throw new SocketError(
    `Cannot ${verb} the socket: it is not connected; call connectAsync() first`,
    {
      status: SocketErrorStatus.OperationAborted,
    },
  );
}

function applySettings(
  settings: ControlSettings,
  connection: SocketConnection,
): void {
  connection.setNoDelay?.(settings.noDelay);
  if (connection instanceof NodeNetConnection) {
    connection.setKeepAlive(settings.keepAlive, settings.keepAliveDelay);
  } else {
    connection.setKeepAlive?.(settings.keepAlive);
  }
}

/** Fills in the endpoints and the protection level. */
function fill(
  info: StreamSocketInformation,
  connection: SocketConnection,
  protectionLevel: SocketProtectionLevel,
): void {
  const local = connection.localAddr;
  const remote = connection.remoteAddr;
  info.localAddress = hostNameOf(local.hostname);
  info.localPort = local.port;
  info.remoteAddress = hostNameOf(remote.hostname);
  info.remotePort = remote.port;
  info.protectionLevel = protectionLevel;
  if (connection instanceof UnixConnection) {
    info.localPath = connection.localPath;
    // A client's end has no name: keep the path it connected to.
    info.remotePath = connection.remotePath !== ""
      ? connection.remotePath
      : info.remotePath ?? "";
  }
}

/** An adopted connection was asked for nothing: its remote address is the name. */
function fillAdopted(
  info: StreamSocketInformation,
  connection: SocketConnection,
  protectionLevel: SocketProtectionLevel,
): void {
  fill(info, connection, protectionLevel);
  info.remoteHostName = info.remoteAddress;
  info.remoteServiceName = connection instanceof UnixConnection
    ? ""
    : String(info.remotePort);
}

function hostNameOf(address: string): HostName | undefined {
  try {
    return new HostName(address);
  } catch {
    // Deno reports IP addresses; anything else (a Unix path) has no HostName.
    return undefined;
  }
}

function checkBackend<T extends TlsBackend>(value: T, name: string): T {
  if (value !== "deno" && value !== "node") {
    throw new TypeError(
      `Cannot set ${name}: "${name}" must be "deno" or "node", got ${
        describe(value)
      }`,
    );
  }
  return value;
}

interface ResolvedConnectOptions {
  protectionLevel: SocketProtectionLevel;
  signal: AbortSignal | undefined;
  timeout: number;
}

function connectOptions(
  options: SocketProtectionLevel | StreamSocketConnectOptions | undefined,
): ResolvedConnectOptions {
  const given = typeof options === "number"
    ? { protectionLevel: options }
    : options ?? {};
  if (typeof given !== "object" || given === null) {
    throw new TypeError(
      `Cannot connect: "options" must be a SocketProtectionLevel or an options object, got ${
        describe(options)
      }`,
    );
  }
  const timeout = timeoutOf(given.timeout, 30_000, "Cannot connect");
  if (given.signal !== undefined && !(given.signal instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot connect: "signal" must be an AbortSignal, got ${
        describe(given.signal)
      }`,
    );
  }
  return {
    protectionLevel: given.protectionLevel ?? SocketProtectionLevel.PlainSocket,
    signal: given.signal,
    timeout,
  };
}

async function openConnection(
  endpoint: SocketAddress,
  protectionLevel: SocketProtectionLevel,
  settings: TlsClientSettings,
  signal: AbortSignal,
): Promise<TlsClientResult> {
  if (isTls(protectionLevel)) {
    try {
      return await connectTls(
        endpoint,
        endpoint.hostname,
        protectionLevel,
        settings,
        signal,
      );
    } catch (error) {
      throw clientCertificateRejection(
        error,
        endpoint,
        settings.clientCertificate,
      ) ?? error;
    }
  }
  const connection = needsNodeNet(settings)
    ? await connectNodeNet({
      hostname: endpoint.hostname,
      port: endpoint.port,
      localAddress: settings.localAddress,
      localPort: settings.localPort,
      keepAliveDelay: settings.keepAliveDelay,
    }, signal)
    : await Deno.connect({
      hostname: endpoint.hostname,
      port: endpoint.port,
      signal,
    });
  return {
    connection,
    protectionLevel: SocketProtectionLevel.PlainSocket,
    serverCertificate: undefined,
  };
}

/** Whether a plain connection needs `node:net`: `Deno.connect` cannot bind, set a keep-alive delay or reset. */
function needsNodeNet(settings: TlsClientSettings): boolean {
  return settings.tcpBackend === "node" ||
    settings.localAddress !== undefined || settings.localPort !== undefined ||
    settings.keepAliveDelay !== undefined;
}

function isTcpConn(connection: SocketConnection): connection is Deno.TcpConn {
  return connection.constructor?.name === "TcpConn";
}

/** A `timeout` option, or `fallback` when it is absent; a RangeError unless a positive number of milliseconds. */
function timeoutOf(
  timeout: number | undefined,
  fallback: number,
  action: string,
): number {
  const ms = timeout ?? fallback;
  if (typeof ms !== "number" || !(ms > 0)) {
    throw new RangeError(
      `${action}: "timeout" must be a positive number of milliseconds, got ${
        describe(ms)
      }`,
    );
  }
  return ms;
}

/** Runs `attempt` with a signal that fires on the caller's abort or after `timeout` ms, and names which one it was. */
async function withDeadline<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  endpoint: SocketAddress,
  signal: AbortSignal | undefined,
  timeout: number,
  action = "Cannot connect to",
): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimer(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal?.aborted) onAbort();
    return await attempt(controller.signal);
  } catch (error) {
    if (timedOut) {
      throw new SocketError(
        `${action} ${
          formatEndpoint(endpoint)
        }: no answer within ${timeout} ms; check the host and port, or raise "timeout"`,
        {
          status: SocketErrorStatus.ConnectionTimedOut,
          endpoint,
          cause: error,
        },
      );
    }
    if (signal?.aborted) throw abortedError(action, signal.reason, endpoint);
    if (error instanceof RangeError || error instanceof TypeError) throw error;
    throw SocketError.from(error, { action, endpoint });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
