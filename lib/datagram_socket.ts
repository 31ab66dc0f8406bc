/**
 * UDP sockets, as UWP's `Windows.Networking.Sockets.DatagramSocket`.
 *
 * @module
 */

import { DataReader } from "./data_reader.ts";
import { HostName } from "./host_name.ts";
import type { InputStream } from "./input_stream.ts";
import type { OutputStream } from "./output_stream.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import type { SocketErrorEvent } from "./socket_error_event.ts";
import { ErrorEvents } from "./_error_events.ts";
import { abortedError, signalOf, untilAborted } from "./_abort.ts";
import type { AbortOptions } from "./abort_options.ts";
import { describe, formatEndpoint } from "./_format.ts";
import { parseServiceName } from "./_service_name.ts";
import {
  bytesInputStream,
  familyOf,
  isLoopback,
  requireUnstableNet,
  resolveAddress,
  SenderNames,
  toHostName,
} from "./_datagram.ts";
import {
  DatagramLink,
  DatagramOutputStream,
} from "./_datagram_output_stream.ts";
import { ReceivePool } from "./_datagram_buffers.ts";
import {
  answerWaiter,
  checkRequestOptions,
  DEFAULT_REQUEST_RETRIES,
  DEFAULT_REQUEST_TIMEOUT,
  noResponseError,
  rejectWaiters,
  sendAndWait,
  type Waiter,
} from "./_datagram_requests.ts";
import { joinGroup, multicastGroup } from "./_datagram_multicast.ts";
import {
  delivery,
  deliveryPath,
  DirectListeners,
  type Listener,
  stopDelivery,
} from "./_direct_listeners.ts";

const DEFAULT_INBOUND_BUFFER_SIZE = 65_536;
const MAX_INBOUND_BUFFER_SIZE = 16 * 1024 * 1024;
const DEFAULT_MAX_PENDING_HANDLERS = 64;
/** Consecutive receive failures after which the receive loop gives up. */
const MAX_RECEIVE_FAILURES = 100;

let lockControl: (control: DatagramSocketControl) => void;
let setInformation: (
  information: DatagramSocketInformation,
  patch: Partial<InformationFields>,
) => void;

interface InformationFields {
  localAddress: HostName | undefined;
  localPort: number;
  remoteAddress: HostName | undefined;
  remotePort: number;
}

/** Records the socket delivering `event` (set by the event class). */
let beginDelivery: (
  event: DatagramSocketMessageReceivedEvent,
  target: EventTarget,
) => void;

function notSupported(member: string, why: string): DOMException {
  return new DOMException(
    `Cannot set DatagramSocketControl.${member}: ${why}`,
    "NotSupportedError",
  );
}

/**
 * Options of a {@linkcode DatagramSocket} (UWP's `DatagramSocketControl`).
 *
 * | member | Deno |
 * |---|---|
 * | `multicastOnly` | `reuseAddress` (SO_REUSEADDR); set before binding |
 * | `inboundBufferSizeInBytes` | the size of our receive buffer |
 * | `outboundUnicastHopLimit` | no Deno equivalent: setting throws |
 * | `dontFragment` | no Deno equivalent: setting `true` throws |
 * | `qualityOfService` | no Deno equivalent: setting other than `"normal"` throws |
 *
 * @example Share a port
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket } from "@seed/sockets";
 *
 * await using socket = new DatagramSocket();
 * socket.control.multicastOnly = true;
 * await socket.bindEndpointAsync("127.0.0.1", 0);
 * assert.throws(() => { socket.control.multicastOnly = false; }, /before binding/);
 * ```
 */
export class DatagramSocketControl {
  #multicastOnly = false;
  #inboundBufferSizeInBytes = DEFAULT_INBOUND_BUFFER_SIZE;
  #locked = false;

  static {
    lockControl = (control) => {
      control.#locked = true;
    };
  }

  /**
   * Whether the socket shares its address and port with other sockets that
   * set it too (port sharing for multicast). Maps to Deno's `reuseAddress`
   * (SO_REUSEADDR). Must be set before binding; a socket bound without it
   * to the same port fails with `AddressAlreadyInUse`.
   *
   * @default {false}
   * @throws {TypeError} When set to a non-boolean, or after binding.
   *
   * @example Set before binding
   * ```ts
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * socket.control.multicastOnly = true;
   * ```
   */
  get multicastOnly(): boolean {
    return this.#multicastOnly;
  }

  set multicastOnly(value: boolean) {
    if (typeof value !== "boolean") {
      throw new TypeError(
        `Cannot set DatagramSocketControl.multicastOnly: "multicastOnly" must be a boolean, got ${
          describe(value)
        }`,
      );
    }
    if (this.#locked) {
      throw new TypeError(
        "Cannot set DatagramSocketControl.multicastOnly: the socket is already bound; set it before binding (bindServiceNameAsync, bindEndpointAsync, connectAsync or getOutputStreamAsync)",
      );
    }
    this.#multicastOnly = value;
  }

  /**
   * The size in bytes of the buffer each datagram is received into; takes
   * effect at the next receive. A larger datagram is delivered truncated to
   * this size, with `truncated` set on its event (the rest is lost, as the
   * kernel discards it). The default holds any UDP datagram.
   *
   * @default {65536}
   * @throws {RangeError} Unless an integer from 1 to 16 MiB.
   *
   * @example A small buffer
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * socket.control.inboundBufferSizeInBytes = 1500;
   * assert.equal(socket.control.inboundBufferSizeInBytes, 1500);
   * ```
   */
  get inboundBufferSizeInBytes(): number {
    return this.#inboundBufferSizeInBytes;
  }

  set inboundBufferSizeInBytes(value: number) {
    if (
      !Number.isInteger(value) || value < 1 || value > MAX_INBOUND_BUFFER_SIZE
    ) {
      throw new RangeError(
        `Cannot set DatagramSocketControl.inboundBufferSizeInBytes: "inboundBufferSizeInBytes" must be an integer from 1 to ${MAX_INBOUND_BUFFER_SIZE}, got ${
          describe(value)
        }`,
      );
    }
    this.#inboundBufferSizeInBytes = value;
  }

  /**
   * The unicast hop limit (TTL). Always `undefined` (the system default):
   * Deno cannot set it.
   *
   * @throws {DOMException} `NotSupportedError` when set to a number.
   *
   * @example The system default applies
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * assert.equal(socket.control.outboundUnicastHopLimit, undefined);
   * assert.throws(() => { socket.control.outboundUnicastHopLimit = 8; }, /no way/);
   * ```
   */
  get outboundUnicastHopLimit(): number | undefined {
    return undefined;
  }

  set outboundUnicastHopLimit(value: number | undefined) {
    if (value === undefined) return;
    throw notSupported(
      "outboundUnicastHopLimit",
      "Deno has no way to set the unicast TTL; the system default applies",
    );
  }

  /**
   * Whether to set the IP "don't fragment" flag. Always `false`: Deno cannot
   * set it.
   *
   * @throws {DOMException} `NotSupportedError` when set to `true`.
   *
   * @example Not available
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * assert.throws(() => { socket.control.dontFragment = true; }, /no way/);
   * ```
   */
  get dontFragment(): boolean {
    return false;
  }

  set dontFragment(value: boolean) {
    if (value === false) return;
    throw notSupported(
      "dontFragment",
      "Deno has no way to set the don't-fragment flag",
    );
  }

  /**
   * The quality-of-service class. Always `"normal"`: Deno has no
   * quality-of-service classes.
   *
   * @throws {DOMException} `NotSupportedError` when set to anything else.
   *
   * @example Only normal
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * assert.equal(socket.control.qualityOfService, "normal");
   * ```
   */
  get qualityOfService(): "normal" | "lowLatency" {
    return "normal";
  }

  set qualityOfService(value: "normal" | "lowLatency") {
    if (value === "normal") return;
    throw notSupported(
      "qualityOfService",
      "Deno has no way to set a quality-of-service class",
    );
  }
}

/**
 * The endpoints of a {@linkcode DatagramSocket} (UWP's
 * `DatagramSocketInformation`).
 *
 * @example After binding and connecting
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket } from "@seed/sockets";
 *
 * await using socket = new DatagramSocket();
 * await socket.connectAsync("127.0.0.1", 9);
 * assert.equal(socket.information.localAddress?.canonicalName, "127.0.0.1");
 * assert.ok(socket.information.localPort > 0);
 * assert.equal(socket.information.remotePort, 9);
 * ```
 */
export class DatagramSocketInformation {
  #fields: InformationFields = {
    localAddress: undefined,
    localPort: 0,
    remoteAddress: undefined,
    remotePort: 0,
  };

  static {
    setInformation = (information, patch) => {
      Object.assign(information.#fields, patch);
    };
  }

  /** The bound address (`0.0.0.0` or `::` when bound to all); `undefined` before binding. */
  get localAddress(): HostName | undefined {
    return this.#fields.localAddress;
  }

  /** The bound port (the real one when bound to port 0); 0 before binding. */
  get localPort(): number {
    return this.#fields.localPort;
  }

  /** The default peer's address set by `connectAsync`; `undefined` otherwise. */
  get remoteAddress(): HostName | undefined {
    return this.#fields.remoteAddress;
  }

  /** The default peer's port set by `connectAsync`; 0 otherwise. */
  get remotePort(): number {
    return this.#fields.remotePort;
  }
}

/** What a {@linkcode DatagramSocketMessageReceivedEvent} is made of. */
export interface DatagramSocketMessageReceivedEventInit {
  /** The datagram's bytes; the event owns them. */
  data: Uint8Array;
  /** The sender's address. */
  remoteAddress: HostName;
  /** The sender's port. */
  remotePort: number;
  /** The address the receiving socket is bound to. */
  localAddress: HostName;
  /**
   * Whether the datagram was larger than the receive buffer and was cut.
   *
   * @default {false}
   */
  truncated?: boolean;
}

/**
 * One received datagram (UWP's `DatagramSocketMessageReceivedEventArgs`),
 * raised as the `messagereceived` event and yielded by async iteration.
 *
 * @example Read a datagram
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocketMessageReceivedEvent, HostName } from "@seed/sockets";
 *
 * const event = new DatagramSocketMessageReceivedEvent({
 *   data: new TextEncoder().encode("hi"),
 *   remoteAddress: new HostName("127.0.0.1"),
 *   remotePort: 5000,
 *   localAddress: new HostName("127.0.0.1"),
 * });
 * const reader = event.getDataReader();
 * assert.equal(reader.readString(reader.unconsumedBufferLength), "hi");
 * ```
 */
export class DatagramSocketMessageReceivedEvent extends Event {
  // Declared, not defined: assigning each once in the constructor is
  // cheaper than defining it first (there is one event per datagram).

  /**
   * The datagram's bytes, copied out of the receive buffer; nothing else
   * writes to them. The copies of datagrams up to 2 KiB sit side by side in
   * shared 32 KiB `ArrayBuffer`s: use `data` (mind `data.byteOffset`), never
   * `data.buffer` alone, and never transfer that buffer (it would empty
   * other events' data). A shared buffer stays in memory while any of its
   * datagrams does: keep `data.slice()` to hold on to many for long.
   */
  declare readonly data: Uint8Array;
  /** The sender's address. */
  declare readonly remoteAddress: HostName;
  /** The sender's port. */
  declare readonly remotePort: number;
  /** The address the receiving socket is bound to (`0.0.0.0` when bound to all). */
  declare readonly localAddress: HostName;
  /**
   * `true` when the datagram was larger than
   * `control.inboundBufferSizeInBytes`: `data` holds its first bytes only.
   */
  declare readonly truncated: boolean;

  /** The socket that delivered the event directly to its listeners. */
  #deliveredBy: EventTarget | null = null;

  static {
    beginDelivery = (event, target) => {
      event.#deliveredBy = target;
    };
  }

  /**
   * Creates the event.
   *
   * @param init The datagram and its endpoints.
   */
  constructor(init: DatagramSocketMessageReceivedEventInit) {
    super("messagereceived");
    this.data = init.data;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.localAddress = init.localAddress;
    this.truncated = init.truncated ?? false;
  }

  // A socket hands received datagrams to its listeners without
  // dispatchEvent; these members then answer as dispatchEvent would have
  // them answer.

  /**
   * The socket that received the datagram, once raised.
   *
   * @example The receiving socket
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket, type DatagramSocketMessageReceivedEvent } from "@seed/sockets";
   *
   * await using server = new DatagramSocket();
   * const received = Promise.withResolvers<DatagramSocketMessageReceivedEvent>();
   * server.addEventListener("messagereceived", (event) => received.resolve(event));
   * await server.bindEndpointAsync("127.0.0.1", 0);
   * await using client = new DatagramSocket();
   * await client.connectAsync("127.0.0.1", server.information.localPort);
   * await client.outputStream.writeAsync(new Uint8Array([1]));
   * assert.equal((await received.promise).target, server);
   * ```
   */
  override get target(): EventTarget | null {
    return super.target ?? this.#deliveredBy;
  }

  /** The socket whose listener runs, while one runs. */
  override get currentTarget(): EventTarget | null {
    return delivery.event === this ? this.#deliveredBy : super.currentTarget;
  }

  /** `Event.AT_TARGET` while a listener runs, else `Event.NONE`. */
  override get eventPhase(): number {
    return delivery.event === this ? Event.AT_TARGET : super.eventPhase;
  }

  /**
   * The socket while a listener runs, else empty.
   *
   * @returns The event's path.
   */
  override composedPath(): EventTarget[] {
    return deliveryPath(this, this.#deliveredBy) ?? super.composedPath();
  }

  /** Keeps the listeners after the current one from running. */
  override stopImmediatePropagation(): void {
    if (!stopDelivery(this)) super.stopImmediatePropagation();
  }

  /**
   * A new `DataReader` over the whole datagram, already loaded: no
   * `loadAsync` needed.
   *
   * @returns A reader whose `unconsumedBufferLength` is the datagram's size.
   *
   * @example Read numbers
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocketMessageReceivedEvent, HostName } from "@seed/sockets";
   *
   * const host = new HostName("127.0.0.1");
   * const event = new DatagramSocketMessageReceivedEvent({
   *   data: new Uint8Array([0, 0, 0, 7]),
   *   remoteAddress: host,
   *   remotePort: 1,
   *   localAddress: host,
   * });
   * assert.equal(event.getDataReader().readUInt32(), 7);
   * ```
   */
  getDataReader(): DataReader {
    return DataReader.fromBuffer(this.data);
  }

  /**
   * A new input stream over the datagram; reads return 0 at its end.
   *
   * @returns An `InputStream` of the datagram's bytes.
   *
   * @example Read as a stream
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocketMessageReceivedEvent, HostName } from "@seed/sockets";
   *
   * const host = new HostName("127.0.0.1");
   * const event = new DatagramSocketMessageReceivedEvent({
   *   data: new Uint8Array([1, 2, 3]),
   *   remoteAddress: host,
   *   remotePort: 1,
   *   localAddress: host,
   * });
   * const buffer = new Uint8Array(8);
   * assert.equal(await event.getDataStream().readAsync(buffer), 3);
   * ```
   */
  getDataStream(): InputStream {
    return bytesInputStream(this.data);
  }
}

/** The events of a {@linkcode DatagramSocket}, by name. */
export interface DatagramSocketEventMap {
  /** A datagram arrived. */
  messagereceived: DatagramSocketMessageReceivedEvent;
  /** A handler failed, or receiving failed. */
  error: SocketErrorEvent;
}

/** Options of the {@linkcode DatagramSocket} constructor. */
export interface DatagramSocketOptions {
  /**
   * How many `messagereceived` handler promises may be pending at once.
   * When reached, the socket stops reading until one settles; meanwhile
   * datagrams wait in the kernel's receive buffer, and the kernel drops
   * those beyond it. Memory use stays bounded however fast datagrams come.
   *
   * @default {64}
   */
  maxPendingHandlers?: number;
}

/** Options of {@linkcode DatagramSocket.prototype.requestAsync}. */
export interface DatagramRequestOptions {
  /**
   * How long to wait for the response to each attempt, in milliseconds.
   *
   * @default {1000}
   */
  timeout?: number;
  /**
   * How many times to send again when no response came in time.
   *
   * @default {2}
   */
  retries?: number;
  /**
   * Which datagrams count as the response (for example, by a request ID);
   * others go to `messagereceived` handlers, or are dropped without any.
   *
   * @default {() => true}
   */
  match?: (event: DatagramSocketMessageReceivedEvent) => boolean;
  /** Cancels the request; it then rejects with `OperationAborted`. */
  signal?: AbortSignal;
}

/** Options of {@linkcode DatagramSocket.prototype.joinMulticastGroup}. */
export interface JoinMulticastGroupOptions {
  /**
   * The interface to join on: an IPv4 address for IPv4 groups, an interface
   * index for IPv6 groups.
   *
   * @default {"0.0.0.0" for IPv4 (the system picks), 0 for IPv6}
   */
  networkInterface?: string | number;
}

/** Runs `action`, turning a synchronous throw into a rejection. */
async function settle<T>(action: () => Promise<T> | T): Promise<T> {
  return await action();
}

/**
 * A UDP socket (UWP's `DatagramSocket`).
 *
 * Receive with the `messagereceived` event (register it before or after
 * binding) or with `for await (const message of socket)`; use one or the
 * other. Send with `getOutputStreamAsync(host, service)`, or set a default
 * peer with `connectAsync` and use `outputStream`; each write (or
 * `DataWriter.storeAsync`) is one datagram. An empty write sends an empty
 * datagram; a `storeAsync` with nothing stored sends nothing.
 *
 * Received datagrams reach `messagereceived` listeners as `dispatchEvent`
 * would deliver them (in order, with `target`, `currentTarget`,
 * `eventPhase`, `once`, `signal` and `stopImmediatePropagation()` behaving
 * the same), but without going through `dispatchEvent`, which costs more
 * per datagram than the rest of delivery; events you dispatch yourself reach
 * the same listeners.
 *
 * UDP promises neither delivery nor order: a lost datagram never raises
 * anything. Use `requestAsync` for a request that needs a response: it
 * retries and rejects with `ConnectionTimedOut` instead of hanging.
 *
 * Defined results for faults:
 * - A datagram larger than `control.inboundBufferSizeInBytes` arrives cut
 *   to that size, with `truncated` set. Empty datagrams arrive with an empty
 *   `data`.
 * - A handler that throws or rejects raises an `error` event (without an
 *   `error` listener, the error is written to stderr); receiving goes on.
 * - Faster senders than handlers: at most `maxPendingHandlers` async
 *   handlers run at once; then the kernel buffers, and drops what does not
 *   fit. Async iteration reads only when asked, so nothing queues up.
 * - Sending to a port nobody listens on succeeds: Deno's UDP sockets are
 *   never connected in the kernel, so ICMP "port unreachable" is ignored and
 *   no `ConnectionRefused` ever surfaces. Nothing comes back; `requestAsync`
 *   rejects with `ConnectionTimedOut`.
 * - Sending more than 65,507 bytes (65,527 over IPv6) rejects with
 *   `MessageTooLong`, as does anything the kernel refuses as too long.
 * - `close()` while a receive is pending ends the event loop quietly, ends
 *   async iteration, and rejects pending `requestAsync` calls and later
 *   writes with `OperationAborted`.
 *
 * > [!IMPORTANT]
 * > Needs `--allow-net` and `--unstable-net` (or `"unstable": ["net"]` in
 * > deno.json): `Deno.listenDatagram` is unstable. Without it, every method
 * > that touches the network rejects with an error saying so.
 *
 * @example Echo one datagram
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket } from "@seed/sockets";
 *
 * await using server = new DatagramSocket();
 * server.addEventListener("messagereceived", async (event) => {
 *   const out = await server.getOutputStreamAsync(event.remoteAddress, event.remotePort);
 *   await out.writeAsync(event.data);
 * });
 * await server.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using client = new DatagramSocket();
 * await client.connectAsync("127.0.0.1", server.information.localPort);
 * const reply = await client.requestAsync(new TextEncoder().encode("hi"));
 * assert.equal(new TextDecoder().decode(reply.data), "hi");
 * ```
 */
export class DatagramSocket extends EventTarget
  implements
    AsyncDisposable,
    AsyncIterable<DatagramSocketMessageReceivedEvent> {
  #control = new DatagramSocketControl();
  #information = new DatagramSocketInformation();
  #maxPendingHandlers: number;
  #conn: Deno.DatagramConn | undefined;
  #family: "v4" | "v6" | undefined;
  #closed = false;
  #remote: Deno.NetAddr | undefined;
  #outputStream: DatagramOutputStream | undefined;
  #buffer: Uint8Array | undefined;
  #received = new ReceivePool();
  #senders = new SenderNames();
  #pendingHandlers = 0;
  #errors = new ErrorEvents(this);
  #slotFree: PromiseWithResolvers<void> | undefined;
  #loop: Promise<void> | undefined;
  #receiving: Promise<unknown> | undefined;
  #iterating = false;
  #waiters: Waiter<DatagramSocketMessageReceivedEvent>[] = [];
  #link = new DatagramLink();
  #listeners = new DirectListeners(
    this,
    "messagereceived",
    this.#errors,
    (promise) => this.#handlerPending(promise),
    (error) => this.#handlerFailed(error),
  );

  /**
   * Creates an unbound socket.
   *
   * @param options Limits for event delivery.
   * @throws {RangeError} If `maxPendingHandlers` is not a positive integer.
   *
   * @example Create and dispose
   * ```ts
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket({ maxPendingHandlers: 8 });
   * ```
   */
  constructor(options: DatagramSocketOptions = {}) {
    super();
    const max = options.maxPendingHandlers ?? DEFAULT_MAX_PENDING_HANDLERS;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create a DatagramSocket: "maxPendingHandlers" must be a positive integer, got ${
          describe(max)
        }`,
      );
    }
    this.#maxPendingHandlers = max;
  }

  /**
   * Socket options; `multicastOnly` must be set before binding.
   *
   * @example Read the defaults
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * assert.equal(socket.control.multicastOnly, false);
   * ```
   */
  get control(): DatagramSocketControl {
    return this.#control;
  }

  /**
   * The local endpoint, and the default peer once connected.
   *
   * @example Before binding
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * assert.equal(socket.information.localPort, 0);
   * ```
   */
  get information(): DatagramSocketInformation {
    return this.#information;
  }

  /**
   * The output stream to the default peer set by `connectAsync`: each write
   * is one datagram.
   *
   * @throws {TypeError} If the socket has no default peer.
   *
   * @example Send to the default peer
   * ```ts
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * await socket.connectAsync("127.0.0.1", 9);
   * await socket.outputStream.writeAsync(new Uint8Array([1]));
   * ```
   */
  get outputStream(): OutputStream {
    if (this.#outputStream !== undefined) return this.#outputStream;
    throw new TypeError(
      "Cannot get outputStream: the socket has no default peer; call connectAsync() first, or use getOutputStreamAsync()",
    );
  }

  /**
   * Binds to every local IPv4 address at `service` (UWP's
   * `BindServiceNameAsync`). For IPv6, bind to `"::"` with
   * `bindEndpointAsync`.
   *
   * @param service A port (`0` or `""` for any free port) or a well-known
   * service name such as `"ntp"`.
   * @returns Resolves once bound.
   * @throws {TypeError} If `service` is invalid or the socket is bound or closed.
   * @throws {SocketError} `AddressAlreadyInUse` and the like.
   *
   * @example Bind any free port
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * await socket.bindServiceNameAsync("");
   * assert.ok(socket.information.localPort > 0);
   * ```
   */
  bindServiceNameAsync(service: string | number): Promise<void> {
    return settle(() => {
      requireUnstableNet("bind");
      this.#bind("0.0.0.0", parseServiceName(service, "service"));
    });
  }

  /**
   * Binds to one local address (UWP's `BindEndpointAsync`).
   *
   * @param localHost The address, such as `"127.0.0.1"` or `"::1"`; `null`
   * for every IPv4 address.
   * @param service A port (`0` for any free port) or a well-known service name.
   * @returns Resolves once bound.
   * @throws {TypeError} If an argument is invalid or the socket is bound or closed.
   * @throws {SocketError} `AddressAlreadyInUse`, `CannotAssignRequestedAddress`, ...
   *
   * @example Bind on loopback
   * ```ts
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * await socket.bindEndpointAsync("127.0.0.1", 0);
   * ```
   */
  bindEndpointAsync(
    localHost: HostName | string | null,
    service: string | number,
  ): Promise<void> {
    return settle(() => {
      requireUnstableNet("bind");
      const host = localHost === null
        ? "0.0.0.0"
        : toHostName(localHost, "localHost", "Cannot bind").canonicalName;
      this.#bind(host, parseServiceName(service, "service"));
    });
  }

  /**
   * Sets a default peer (UWP's `ConnectAsync`): `outputStream` then sends to
   * it, and datagrams from any other address or port are dropped. Binds an
   * ephemeral port first if the socket is not bound: on the loopback
   * address of the peer's family for a loopback peer, else on every address
   * of that family. No packet is sent.
   *
   * @param remoteHost The peer's address or name.
   * @param service The peer's port or a well-known service name.
   * @param options A `signal` that aborts resolving the name.
   * @returns Resolves once the peer is set.
   * @throws {TypeError} If an argument is invalid, or the socket is already
   * connected or closed.
   * @throws {RangeError} If the port is 0.
   * @throws {SocketError} `HostNotFound`, `AddressFamilyNotSupported` (peer
   * family differs from the bound address), binding errors.
   *
   * @example Connect to a loopback peer
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * await socket.connectAsync("::1", 9);
   * assert.equal(socket.information.remoteAddress?.canonicalName, "::1");
   * ```
   */
  connectAsync(
    remoteHost: HostName | string,
    service: string | number,
    options?: AbortOptions,
  ): Promise<void> {
    return settle(async () => {
      requireUnstableNet("connect");
      if (this.#remote !== undefined) {
        throw new TypeError(
          "Cannot connect: this socket already has a default peer; use a new DatagramSocket",
        );
      }
      const peer = await this.#peer(remoteHost, service, options);
      this.#remote = peer;
      setInformation(this.#information, {
        remoteAddress: new HostName(peer.hostname),
        remotePort: peer.port,
      });
      this.#outputStream = this.#openOutputStream(peer);
    });
  }

  /**
   * An output stream to `remoteHost:service` (UWP's `GetOutputStreamAsync`):
   * each `writeAsync` (and each `DataWriter.storeAsync` with bytes stored)
   * sends exactly one datagram, empty ones included. Writes may be started without awaiting; they go out in the
   * order they were started, and `flushAsync()` waits for all of them and
   * rejects with the first failure since the last flush. Binds an ephemeral
   * port first, as `connectAsync` does, if the socket is not bound.
   *
   * @param remoteHost The peer's address or name.
   * @param service The peer's port or a well-known service name.
   * @param options A `signal` that aborts resolving the name.
   * @returns The output stream.
   * @throws {TypeError} If an argument is invalid or the socket is closed.
   * @throws {RangeError} If the port is 0.
   * @throws {SocketError} `HostNotFound`, `AddressFamilyNotSupported`, binding errors.
   *
   * @example One datagram per store
   * ```ts
   * import { DatagramSocket, DataWriter } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * const writer = new DataWriter(await socket.getOutputStreamAsync("127.0.0.1", 9));
   * writer.writeString("ping");
   * await writer.storeAsync();
   * ```
   */
  getOutputStreamAsync(
    remoteHost: HostName | string,
    service: string | number,
    options?: AbortOptions,
  ): Promise<OutputStream> {
    return settle(async () => {
      requireUnstableNet("get an output stream");
      return this.#openOutputStream(
        await this.#peer(remoteHost, service, options),
      );
    });
  }

  /**
   * Joins a multicast group (UWP's `JoinMulticastGroup`; asynchronous here,
   * as in Deno). Bind first, to the group's port.
   *
   * @param host The group address, IPv4 (`224.0.0.0/4`) or IPv6 (`ff00::/8`).
   * @param options The interface to join on.
   * @returns Resolves once joined.
   * @throws {TypeError} If `host` is not an IP address, the options do not
   * fit its family, or the socket is not bound.
   * @throws {SocketError} If the system refuses (not a multicast address, no
   * such interface, no route).
   *
   * @example Join a group on loopback
   * ```ts ignore
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using socket = new DatagramSocket();
   * socket.control.multicastOnly = true;
   * await socket.bindServiceNameAsync(5353);
   * await socket.joinMulticastGroup("239.255.0.1", { networkInterface: "127.0.0.1" });
   * ```
   */
  joinMulticastGroup(
    host: HostName | string,
    options: JoinMulticastGroupOptions = {},
  ): Promise<void> {
    return settle(async () => {
      requireUnstableNet("join a multicast group");
      const group = multicastGroup(host);
      const conn = this.#bound("join a multicast group");
      await joinGroup(
        conn,
        group,
        options.networkInterface,
        this.#localEndpoint(),
      );
    });
  }

  /**
   * Sends `bytes` to the default peer and resolves with the first datagram
   * it sends back; sends again after each `timeout` without a response, at
   * most `retries` times, then rejects with `ConnectionTimedOut`. Receives
   * through the event loop: `messagereceived` handlers do not see the
   * response; do not combine with async iteration.
   *
   * @param bytes The request, one datagram.
   * @param options Time-out, retries, which datagram counts as the response,
   * and a cancellation signal.
   * @returns The response.
   * @throws {TypeError} If the socket has no default peer or is being iterated.
   * @throws {SocketError} `ConnectionTimedOut` when no response came,
   * `OperationAborted` when the socket closed or `signal` aborted, and
   * sending errors such as `MessageTooLong`.
   *
   * @example No response from a silent port
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket, SocketErrorStatus } from "@seed/sockets";
   *
   * await using silent = new DatagramSocket();
   * await silent.bindEndpointAsync("127.0.0.1", 0);
   * await using socket = new DatagramSocket();
   * await socket.connectAsync("127.0.0.1", silent.information.localPort);
   * await assert.rejects(
   *   socket.requestAsync(new Uint8Array([1]), { timeout: 20, retries: 1 }),
   *   { status: SocketErrorStatus.ConnectionTimedOut },
   * );
   * ```
   */
  requestAsync(
    bytes: Uint8Array,
    options: DatagramRequestOptions = {},
  ): Promise<DatagramSocketMessageReceivedEvent> {
    return settle(async () => {
      requireUnstableNet("send a request");
      const timeout = options.timeout ?? DEFAULT_REQUEST_TIMEOUT;
      const retries = options.retries ?? DEFAULT_REQUEST_RETRIES;
      checkRequestOptions(timeout, retries);
      const output = this.#outputStream;
      const peer = this.#remote;
      if (output === undefined || peer === undefined) {
        throw new TypeError(
          "Cannot send a request: the socket has no default peer; call connectAsync() first",
        );
      }
      if (this.#iterating) {
        throw new TypeError(
          "Cannot send a request: this socket is being iterated with for await, which would take the response",
        );
      }
      this.#startReceiving();
      const match = options.match ?? (() => true);
      for (let attempt = 0; attempt <= retries; attempt++) {
        const response = await sendAndWait(
          this.#waiters,
          output,
          bytes,
          match,
          timeout,
          options.signal,
        );
        if (response !== undefined) return response;
      }
      throw noResponseError(peer, retries + 1, timeout);
    });
  }

  /**
   * Registers an event handler; `messagereceived` handlers may be async, and
   * their failures become `error` events.
   *
   * @param type `"messagereceived"` or `"error"`.
   * @param listener The handler.
   * @param options Standard `addEventListener` options.
   */
  override addEventListener<K extends keyof DatagramSocketEventMap>(
    type: K,
    listener: (
      this: DatagramSocket,
      event: DatagramSocketEventMap[K],
    ) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Registers a handler for any event type.
   *
   * @param type The event type.
   * @param listener The handler.
   * @param options Standard `addEventListener` options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (type === "messagereceived" && listener !== null && this.#iterating) {
      throw new TypeError(
        "Cannot add a messagereceived handler: this socket is being iterated with for await; use one or the other",
      );
    }
    if (!this.#listeners.addEventListener(type, listener, options)) return;
    if (this.#conn !== undefined) this.#startReceiving();
  }

  /**
   * Removes an event handler.
   *
   * @param type The event type.
   * @param listener The handler given to `addEventListener`.
   * @param options Standard `removeEventListener` options.
   */
  override removeEventListener<K extends keyof DatagramSocketEventMap>(
    type: K,
    listener: (
      this: DatagramSocket,
      event: DatagramSocketEventMap[K],
    ) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a handler for any event type.
   *
   * @param type The event type.
   * @param listener The handler.
   * @param options Standard `removeEventListener` options.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | EventListenerOptions,
  ): void {
    this.#listeners.removeEventListener(type, listener, options);
  }

  /**
   * Yields each received datagram (from the default peer only, once
   * connected) until the socket is closed. Reads only when asked, so a slow
   * consumer leaves datagrams in the kernel's buffer, which drops the excess.
   *
   * @returns An iterator of received datagrams.
   * @throws {TypeError} If the socket is not bound, or dispatches events.
   * @throws {SocketError} If receiving fails for another reason than closing.
   *
   * @example Receive one datagram
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramSocket } from "@seed/sockets";
   *
   * await using server = new DatagramSocket();
   * await server.bindEndpointAsync("127.0.0.1", 0);
   * await using client = new DatagramSocket();
   * await client.connectAsync("127.0.0.1", server.information.localPort);
   * await client.outputStream.writeAsync(new Uint8Array([42]));
   * for await (const message of server) {
   *   assert.deepEqual(message.data, new Uint8Array([42]));
   *   break;
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<
    DatagramSocketMessageReceivedEvent
  > {
    requireUnstableNet("receive");
    if (this.#listeners.size > 0 || this.#loop !== undefined) {
      throw new TypeError(
        "Cannot iterate: this socket dispatches messagereceived events (or ran requestAsync); use one or the other",
      );
    }
    const conn = this.#bound("receive");
    this.#iterating = true;
    try {
      while (!this.#closed) {
        let event: DatagramSocketMessageReceivedEvent | undefined;
        try {
          const [view, addr] = await this.#receive(conn);
          event = this.#toEvent(view, addr);
        } catch (error) {
          if (this.#closed) return;
          throw this.#receiveError(error);
        }
        if (event !== undefined) yield event;
      }
    } finally {
      this.#iterating = false;
    }
  }

  /**
   * Closes the socket; calling it again does nothing. Pending
   * `requestAsync` calls and later writes reject with `OperationAborted`.
   *
   * @example Close twice
   * ```ts
   * import { DatagramSocket } from "@seed/sockets";
   *
   * const socket = new DatagramSocket();
   * await socket.bindEndpointAsync("127.0.0.1", 0);
   * socket.close();
   * socket.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.conn = undefined;
    try {
      this.#conn?.close();
    } catch {
      // Closed already: nothing to release.
    }
    rejectWaiters(
      this.#waiters,
      () => this.#closedError("receive a response on"),
    );
    this.#slotFree?.resolve();
  }

  /**
   * Closes the socket and waits until its pending receive and sends settled.
   *
   * @returns Resolves once everything is released.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await Promise.allSettled([this.#loop, this.#receiving, this.#link.idle()]);
  }

  #bind(hostname: string, port: number): void {
    if (this.#conn !== undefined || this.#closed) {
      throw new TypeError(
        "Cannot bind: this socket is already bound or closed; use a new DatagramSocket",
      );
    }
    let conn: Deno.DatagramConn;
    try {
      conn = Deno.listenDatagram({
        hostname,
        port,
        transport: "udp",
        reuseAddress: this.#control.multicastOnly,
      });
    } catch (error) {
      throw SocketError.from(error, {
        action: "Cannot bind to",
        endpoint: { hostname, port },
      });
    }
    this.#conn = conn;
    this.#link.conn = conn;
    lockControl(this.#control);
    const addr = conn.addr as Deno.NetAddr;
    this.#family = familyOf(addr.hostname);
    setInformation(this.#information, {
      localAddress: new HostName(addr.hostname),
      localPort: addr.port,
    });
    if (this.#listeners.size > 0) this.#startReceiving();
  }

  #bound(action: string): Deno.DatagramConn {
    if (this.#closed) {
      throw new TypeError(`Cannot ${action}: the socket is closed`);
    }
    if (this.#conn !== undefined) return this.#conn;
    throw new TypeError(
      `Cannot ${action}: the socket is not bound; call bindEndpointAsync() or bindServiceNameAsync() first`,
    );
  }

  /** Resolves a peer, binding an ephemeral port of its family if needed. */
  async #peer(
    remoteHost: HostName | string,
    service: string | number,
    options?: AbortOptions,
  ): Promise<Deno.NetAddr> {
    const signal = signalOf(options, "Cannot resolve the peer");
    const host = toHostName(
      remoteHost,
      "remoteHost",
      "Cannot resolve the peer",
    );
    const port = parseServiceName(service, "service");
    if (port === 0) {
      throw new RangeError(
        `Cannot send: "service" must name a port other than 0, got ${
          describe(service)
        }`,
      );
    }
    if (this.#closed) throw new TypeError("Cannot send: the socket is closed");
    const resolving = resolveAddress(host, this.#family);
    const address = await (signal === undefined ? resolving : untilAborted(
      resolving,
      signal,
      (reason) =>
        abortedError(`Cannot resolve ${host.canonicalName}`, reason, {
          hostname: host.canonicalName,
          port,
        }),
    ));
    const family = familyOf(address);
    if (this.#conn === undefined) {
      const loopback = family === "v6" ? "::1" : "127.0.0.1";
      const any = family === "v6" ? "::" : "0.0.0.0";
      this.#bind(isLoopback(address) ? loopback : any, 0);
    } else if (this.#family !== family) {
      throw new SocketError(
        `Cannot send to ${
          formatEndpoint({ hostname: address, port })
        }: address family not supported; the socket is bound to ${
          formatEndpoint(this.#localEndpoint())
        }, bind to an address of the peer's family`,
        {
          status: SocketErrorStatus.AddressFamilyNotSupported,
          endpoint: { hostname: address, port },
        },
      );
    }
    return { transport: "udp", hostname: address, port };
  }

  #openOutputStream(peer: Deno.NetAddr): DatagramOutputStream {
    return new DatagramOutputStream(this.#link, peer.hostname, peer.port);
  }

  #localEndpoint(): { hostname: string; port: number } {
    return {
      hostname: this.#information.localAddress?.canonicalName ?? "",
      port: this.#information.localPort,
    };
  }

  /** Starts receiving one datagram into the reused receive buffer. */
  #receive(conn: Deno.DatagramConn): Promise<[Uint8Array, Deno.Addr]> {
    // One spare byte tells a datagram that filled the buffer from a cut one.
    const size = this.#control.inboundBufferSizeInBytes + 1;
    if (this.#buffer?.length !== size) this.#buffer = new Uint8Array(size);
    const receiving = conn.receive(this.#buffer);
    this.#receiving = receiving;
    return receiving;
  }

  /** The event for a received datagram; `undefined` if filtered out. */
  #toEvent(
    view: Uint8Array,
    addr: Deno.Addr,
  ): DatagramSocketMessageReceivedEvent | undefined {
    const from = addr as Deno.NetAddr;
    const remote = this.#remote;
    if (
      remote !== undefined &&
      (from.port !== remote.port || from.hostname !== remote.hostname)
    ) return undefined;
    const limit = this.#buffer!.length - 1;
    const truncated = view.length > limit;
    return new DatagramSocketMessageReceivedEvent({
      data: this.#received.copy(truncated ? view.subarray(0, limit) : view),
      remoteAddress: this.#senders.get(from.hostname),
      remotePort: from.port,
      localAddress: this.#information.localAddress!,
      truncated,
    });
  }

  #startReceiving(): void {
    if (this.#loop !== undefined || this.#closed) return;
    this.#loop = this.#receiveLoop(this.#bound("receive"));
  }

  async #receiveLoop(conn: Deno.DatagramConn): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      if (this.#pendingHandlers >= this.#maxPendingHandlers) {
        this.#slotFree = Promise.withResolvers<void>();
        await this.#slotFree.promise;
        continue;
      }
      let event: DatagramSocketMessageReceivedEvent | undefined;
      try {
        const [view, addr] = await this.#receive(conn);
        event = this.#toEvent(view, addr);
        failures = 0;
      } catch (error) {
        if (this.#closed) return;
        this.#errors.report(this.#receiveError(error));
        // Persistent failures would spin: give up after many in a row.
        if (++failures >= MAX_RECEIVE_FAILURES) return;
        continue;
      }
      if (event !== undefined) this.#deliver(event);
    }
  }

  /**
   * Counts a `messagereceived` listener while the promise it returned is
   * pending, and reports its failure.
   */
  #handlerPending(promise: Promise<unknown>): void {
    this.#pendingHandlers++;
    promise.then(this.#handlerSettled, this.#handlerRejected);
  }

  #handlerSettled = (): void => {
    this.#pendingHandlers--;
    this.#slotFree?.resolve();
  };

  #handlerRejected = (error: unknown): void => {
    this.#handlerSettled();
    this.#handlerFailed(error);
  };

  #handlerFailed(error: unknown): void {
    // Failures caused by our own close() are expected, not news.
    if (
      this.#closed &&
      SocketError.getStatus(error) === SocketErrorStatus.OperationAborted
    ) return;
    this.#errors.report(error);
  }

  #deliver(event: DatagramSocketMessageReceivedEvent): void {
    // A waiting requestAsync takes its response first.
    if (this.#waiters.length !== 0 && answerWaiter(this.#waiters, event)) {
      return;
    }
    // What dispatchEvent would do, without building an event path for
    // every datagram.
    beginDelivery(event, this);
    this.#listeners.deliver(event);
  }

  #receiveError(error: unknown): Error {
    return SocketError.from(error, {
      action: "Cannot receive on",
      endpoint: this.#localEndpoint(),
    });
  }

  #closedError(action: string): SocketError {
    const endpoint = this.#localEndpoint();
    return new SocketError(
      `Cannot ${action} ${formatEndpoint(endpoint)}: the socket is closed`,
      { status: SocketErrorStatus.OperationAborted, endpoint },
    );
  }
}
