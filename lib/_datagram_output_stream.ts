/**
 * Private helper of `DatagramSocket`: an output stream whose every write is
 * one datagram to one peer.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

import type { OutputStream } from "./output_stream.ts";
import type { AbortOptions } from "./abort_options.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { abortedError, signalOf, untilAborted } from "./_abort.ts";
import { describe, formatEndpoint } from "./_format.ts";
import { type SendChunk, SendPool } from "./_datagram_buffers.ts";
import { familyOf, MAX_IPV4_PAYLOAD, MAX_IPV6_PAYLOAD } from "./_datagram.ts";

const noop = (): void => {};

/**
 * What a socket shares with its output streams: the connection, the memory
 * outgoing datagrams are copied into, and how many streams have sends
 * pending, so that closing can wait for them.
 */
export class DatagramLink {
  /** The open connection; `undefined` before binding and once closed. */
  conn: Deno.DatagramConn | undefined;
  /** Where the streams copy what they send. */
  readonly pool: SendPool = new SendPool();
  #busy = 0;
  #idle: PromiseWithResolvers<void> | undefined;

  /** A stream started sending. */
  busy(): void {
    this.#busy++;
  }

  /** A stream has no more sends pending. */
  done(): void {
    if (--this.#busy > 0 || this.#idle === undefined) return;
    this.#idle.resolve();
    this.#idle = undefined;
  }

  /** Resolves once no stream has sends pending. */
  idle(): Promise<void> {
    if (this.#busy === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }
}

/** A write waiting for the one before it to be sent. */
interface QueuedWrite {
  bytes: Uint8Array;
  chunk: SendChunk | undefined;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** Set when its signal aborted before it was sent: it is skipped. */
  aborted?: boolean;
}

/**
 * Sends each `writeAsync` as one datagram, in the order the writes were
 * started, one send at a time: Deno does not keep concurrent sends in order
 * (sends that wait for the socket to become writable complete in any order).
 */
export class DatagramOutputStream implements OutputStream {
  #link: DatagramLink;
  #addr: Deno.NetAddr;
  #maxPayload: number;
  #pool: SendPool;
  #queue: QueuedWrite[] = [];
  /** Whether a send is in progress; the fields below describe it. */
  #sending = false;
  #chunk: SendChunk | undefined;
  /** The queued write being sent; `undefined` for one sent at once. */
  #write: QueuedWrite | undefined;
  /** The promise of the write being sent, if sent at once. */
  #direct: Promise<void> | undefined;
  /** The promise of the last write started, settled last. */
  #last: Promise<void> | undefined;
  #failure: unknown = undefined;
  #failed = false;

  constructor(link: DatagramLink, hostname: string, port: number) {
    this.#link = link;
    this.#pool = link.pool;
    this.#addr = { transport: "udp", hostname, port };
    this.#maxPayload = familyOf(hostname) === "v6"
      ? MAX_IPV6_PAYLOAD
      : MAX_IPV4_PAYLOAD;
  }

  /**
   * Sends `bytes` as one datagram, after the writes started before. A
   * `signal` that aborts while the datagram still waits for the ones before
   * it takes it out of the queue; a datagram already handed to the system
   * goes out whole (a datagram is never half sent).
   */
  writeAsync(bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    if (!(bytes instanceof Uint8Array)) {
      return Promise.reject(
        new TypeError(
          `Cannot write: "bytes" must be a Uint8Array, got ${describe(bytes)}`,
        ),
      );
    }
    let signal: AbortSignal | undefined;
    try {
      signal = signalOf(options, "Cannot send");
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) {
      return rejected(
        abortedError("Cannot send to", signal.reason, this.#peer()),
      );
    }
    if (bytes.length > this.#maxPayload) {
      const error = new SocketError(
        `Cannot send ${bytes.length} bytes to ${this.#endpoint()}: message too long; a UDP datagram holds at most ${this.#maxPayload} bytes`,
        { status: SocketErrorStatus.MessageTooLong, endpoint: this.#peer() },
      );
      this.#fail(error);
      return rejected(error);
    }
    // Deno may read the bytes only once the send runs, and callers such as
    // DataWriter reuse a buffer under COPY_LIMIT as soon as writeAsync
    // returns: send a copy of those (OutputStream's contract).
    const copy = this.#pool.take(bytes);
    const chunk = this.#pool.chunk;
    if (this.#sending) {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      const write: QueuedWrite = {
        bytes: copy,
        chunk,
        promise,
        resolve,
        reject,
      };
      this.#queue.push(write);
      this.#last = promise;
      if (signal !== undefined) this.#abortable(write, signal);
      return promise;
    }
    const conn = this.#link.conn;
    if (conn === undefined) {
      this.#pool.release(chunk);
      const error = this.#closedError();
      this.#fail(error);
      return rejected(error);
    }
    this.#sending = true;
    this.#link.busy();
    this.#chunk = chunk;
    this.#write = undefined;
    const sent = conn.send(copy, this.#addr).then(this.#onSent, this.#onFailed);
    this.#direct = sent;
    this.#last = sent;
    return sent;
  }

  /** The peer every write goes to. */
  get peer(): { hostname: string; port: number } {
    return this.#peer();
  }

  /** Resolves once every send started so far settled; never rejects. */
  get idle(): Promise<void> {
    if (!this.#sending) return Promise.resolve();
    return this.#last!.then(noop, noop);
  }

  /** Waits for every send started so far; a `signal` stops the wait, not the sends. */
  async flushAsync(options?: AbortOptions): Promise<void> {
    const signal = signalOf(options, "Cannot flush");
    await (signal === undefined ? this.idle : untilAborted(
      this.idle,
      signal,
      (reason) => abortedError("Cannot flush to", reason, this.#peer()),
    ));
    if (!this.#failed) return;
    const failure = this.#failure;
    this.#failed = false;
    this.#failure = undefined;
    throw failure;
  }

  #onSent = (): void => {
    this.#pool.release(this.#chunk);
    const write = this.#write;
    this.#next();
    write?.resolve();
  };

  #onFailed = (cause: unknown): void => {
    const error = SocketError.from(cause, {
      action: "Cannot send to",
      endpoint: this.#peer(),
    });
    this.#fail(error);
    this.#pool.release(this.#chunk);
    const write = this.#write;
    this.#next();
    if (write === undefined) {
      // Callers may fire and forget; flushAsync() reports the failure.
      this.#direct!.catch(noop);
      throw error;
    }
    write.promise.catch(noop);
    write.reject(error);
  };

  #abortable(write: QueuedWrite, signal: AbortSignal): void {
    const onAbort = (): void => {
      if (this.#write === write || !this.#queue.includes(write)) return;
      write.aborted = true;
      write.promise.catch(noop);
      write.reject(abortedError("Cannot send to", signal.reason, this.#peer()));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const off = (): void => signal.removeEventListener("abort", onAbort);
    write.promise.then(off, off);
  }

  /** Starts the next queued send; fails those queued after a close. */
  #next(): void {
    let write: QueuedWrite | undefined;
    while ((write = this.#queue.shift()) !== undefined) {
      if (write.aborted) {
        this.#pool.release(write.chunk);
        continue;
      }
      const conn = this.#link.conn;
      if (conn !== undefined) {
        this.#chunk = write.chunk;
        this.#write = write;
        conn.send(write.bytes, this.#addr).then(this.#onSent, this.#onFailed);
        return;
      }
      this.#pool.release(write.chunk);
      const error = this.#closedError();
      this.#fail(error);
      write.promise.catch(noop);
      write.reject(error);
    }
    this.#sending = false;
    this.#link.done();
  }

  #closedError(): SocketError {
    return new SocketError(
      `Cannot send to ${this.#endpoint()}: the socket is closed`,
      { status: SocketErrorStatus.OperationAborted, endpoint: this.#peer() },
    );
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error;
  }

  #peer(): { hostname: string; port: number } {
    return { hostname: this.#addr.hostname, port: this.#addr.port };
  }

  #endpoint(): string {
    return formatEndpoint(this.#addr);
  }
}

/** A rejected promise that is not reported as unhandled if nobody awaits it. */
function rejected(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}
