/**
 * Private helper of `DatagramSocket`: an output stream whose every write is
 * one datagram to one peer.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

import type { OutputStream } from "./output_stream.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { formatEndpoint } from "./_format.ts";
import { familyOf, MAX_IPV4_PAYLOAD, MAX_IPV6_PAYLOAD } from "./_datagram.ts";

const noop = (): void => {};

/** Where a datagram output stream gets its connection from. */
export interface DatagramTransport {
  /** The open connection, or `undefined` once the socket is closed. */
  conn(): Deno.DatagramConn | undefined;
  /** Called when the stream starts or stops having sends pending, so closing can wait for them. */
  busy(stream: DatagramOutputStream, busy: boolean): void;
}

/**
 * Sends each `writeAsync` as one datagram, in the order the writes were
 * started, one send at a time.
 */
export class DatagramOutputStream implements OutputStream {
  #transport: DatagramTransport;
  #addr: Deno.NetAddr;
  #maxPayload: number;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #failure: unknown = undefined;
  #failed = false;

  constructor(transport: DatagramTransport, hostname: string, port: number) {
    this.#transport = transport;
    this.#addr = { transport: "udp", hostname, port };
    this.#maxPayload = familyOf(hostname) === "v6"
      ? MAX_IPV6_PAYLOAD
      : MAX_IPV4_PAYLOAD;
  }

  writeAsync(bytes: Uint8Array): Promise<void> {
    if (!(bytes instanceof Uint8Array)) {
      return Promise.reject(
        new TypeError(
          `Invalid bytes: expected a Uint8Array, received ${
            bytes === null ? "null" : typeof bytes
          }`,
        ),
      );
    }
    if (bytes.length > this.#maxPayload) {
      const error = new SocketError(
        `Cannot send ${bytes.length} bytes to ${this.#endpoint()}: message too long; a UDP datagram holds at most ${this.#maxPayload} bytes`,
        {
          status: SocketErrorStatus.MessageTooLong,
          endpoint: { hostname: this.#addr.hostname, port: this.#addr.port },
        },
      );
      this.#fail(error);
      const rejected = Promise.reject(error);
      rejected.catch(noop);
      return rejected;
    }
    // Deno reads the bytes only after an await, and DataWriter reuses its
    // buffer as soon as writeAsync returns: send a copy.
    const copy = bytes.slice();
    // Idle: send at once rather than one microtask later.
    const sent = this.#pending === 0
      ? this.#send(copy)
      : this.#tail.then(() => this.#send(copy));
    this.#pending++;
    const tail = sent.then(this.#settled, this.#settled);
    this.#tail = tail;
    if (this.#pending === 1) this.#transport.busy(this, true);
    // Callers may fire and forget; flushAsync() reports the failure.
    sent.catch(noop);
    return sent;
  }

  #settled = (): void => {
    if (--this.#pending === 0) this.#transport.busy(this, false);
  };

  /** Resolves once every send started so far settled; never rejects. */
  get idle(): Promise<void> {
    return this.#tail;
  }

  async flushAsync(): Promise<void> {
    await this.#tail;
    if (!this.#failed) return;
    const failure = this.#failure;
    this.#failed = false;
    this.#failure = undefined;
    throw failure;
  }

  async #send(bytes: Uint8Array): Promise<void> {
    const conn = this.#transport.conn();
    if (conn === undefined) {
      const error = new SocketError(
        `Cannot send to ${this.#endpoint()}: the socket is closed`,
        {
          status: SocketErrorStatus.OperationAborted,
          endpoint: { hostname: this.#addr.hostname, port: this.#addr.port },
        },
      );
      this.#fail(error);
      throw error;
    }
    try {
      await conn.send(bytes, this.#addr);
    } catch (cause) {
      const error = SocketError.from(cause, {
        action: "Cannot send to",
        endpoint: { hostname: this.#addr.hostname, port: this.#addr.port },
      });
      this.#fail(error);
      throw error;
    }
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
  }

  #endpoint(): string {
    return formatEndpoint(this.#addr);
  }
}
