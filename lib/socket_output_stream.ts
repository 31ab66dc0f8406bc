/**
 * The output stream of a {@linkcode StreamSocket}: ordered, coalescing writes.
 *
 * @module
 */

import type { OutputStream } from "./output_stream.ts";
import type { AbortOptions } from "./abort_options.ts";
import { BufferPool } from "./_buffer_pool.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import type { SocketConnection as Transport } from "./socket_connection.ts";
import { closedError, type SocketLink } from "./_socket_link.ts";
import { abortedError, signalOf, untilAborted } from "./_abort.ts";
import { idleClock } from "./_idle_sweep.ts";
import { COPY_LIMIT } from "./_copy_limit.ts";
import { copyInto } from "./_small_copies.ts";
import { emptyArray } from "./_empty_array.ts";
import { settleLater, type SettleStep } from "./_write_settler.ts";
import { describe, formatEndpoint } from "./_format.ts";

/** Options of a {@linkcode SocketOutputStream}, set through `StreamSocketControl`. */
export interface SocketOutputStreamOptions {
  /**
   * Unsent bytes above which `writer.ready` waits and `desiredSize` drops to
   * zero or below.
   *
   * @default {524288}
   */
  highWaterMark?: number;
  /**
   * The size of the buffers small writes are gathered in; one system call
   * sends at most this much gathered data. A copied write larger than a
   * batch spans several.
   *
   * @default {65536}
   */
  maxBatchSize?: number;
  /**
   * Writes smaller than this are copied when queued; larger ones are sent
   * from the caller's memory. At least 16384: `OutputStream` promises that
   * a buffer under 16 KiB is taken before `writeAsync` returns, and
   * `DataWriter` reuses its buffer at once.
   *
   * @default {16384}
   */
  copyThreshold?: number;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** Gathers small writes; reused once sent. */
interface Batch {
  bytes: Uint8Array;
  length: number;
  /** The view last sent, kept for the next send of the same length: answers of a protocol are often all alike. */
  sent: Uint8Array | undefined;
}

const QUEUED = 0;
const SENDING = 1;
const SETTLED = 2;

/**
 * A write given a signal: queued on its own, not gathered, so that an abort
 * before it goes out can take exactly its bytes out of the queue.
 */
class SignalledWrite {
  readonly bytes: Uint8Array;
  readonly done: Deferred = deferred();
  state = QUEUED;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  get length(): number {
    return this.bytes.length;
  }
}

type Entry = Batch | Uint8Array | SignalledWrite;

const RESOLVED: Promise<void> = Promise.resolve();
/**
 * The batches of streams that sent all they had (`_buffer_pool.ts`): a
 * server answering each request with one write keeps none between
 * requests.
 */
const batchPool = new BufferPool<Batch>(8 * 1024 * 1024);
/** The smallest batch, for a write when nothing else is unsent; see `#newBatch`. */
const SMALL_BATCH_SIZE = 4096;

/** The power of two from 4 KiB on that holds `length` bytes. */
function fittingBatchSize(length: number): number {
  let size = SMALL_BATCH_SIZE;
  while (size < length) size *= 2;
  return size;
}
/** Microtask ticks without a new write after which the pump sends; see `#settle`. */
const SETTLE_TICKS = 4;
/** The bits of `#settleState` counting idle ticks. */
const TICKS = 7;
/** Set in `#settleState` when a read was pending as the first write came: going back to reading then says nothing. */
const READ_AT_START = 8;
/**
 * Set in `#settleState` once this round got a second write while settling,
 * or writes while it was out. Clear when a round carried one write alone (a
 * producer awaiting every write): the next first write then goes out at
 * once, without settling (`#sendNow`).
 */
const GATHERED = 16;
/**
 * Set in `#settleState` while the last round gathered (at first too: the
 * initial state claims `GATHERED`). Clear when the round just sent carried
 * one write alone and more came while it was out: those settle after one
 * idle tick rather than `SETTLE_TICKS`, since their producer has shown it
 * does not write in bursts.
 */
const LAST_GATHERED = 32;
const noop = (): void => {};

function deferred(): Deferred {
  return Promise.withResolvers<void>();
}

/**
 * Rejects `deferred` without the rejection counting as unhandled: writes
 * started without awaiting must not crash the process; the failure still
 * reaches anyone who awaits, and `flushAsync()`. The handler is attached
 * here, not when the promise is made: most never reject.
 */
function rejectQuietly(deferred: Deferred, error: unknown): void {
  deferred.promise.catch(noop);
  deferred.reject(error);
}

function rejected(error: unknown): Promise<void> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}

/**
 * Sends bytes over a connected {@linkcode StreamSocket} (UWP's
 * `StreamSocket.OutputStream`), coalescing writes.
 *
 * Writes started without awaiting each one are gathered, in order, into as
 * few system calls as possible: one `Deno.Conn.write` per gathered batch of up
 * to `maxBatchSize` bytes. A write that follows a round of one write (each
 * write awaited) goes out at once, as `Deno.Conn.write` does; the writes made
 * while it is out are gathered into the next round. Each write's promise
 * resolves once its bytes were handed to the kernel; `flushAsync()` resolves
 * once everything written before it was. A failure rejects every pending
 * write and flush: nothing is reported as sent that was not.
 *
 * The UWP rule "do not modify a buffer while its write is pending" stops
 * applying to writes smaller than `copyThreshold` (16 KiB by default): they
 * are copied when queued. Larger buffers are sent from your memory without a
 * copy: do not modify them until their promise resolves.
 *
 * Writes never wait for room: to bound memory when the peer reads slowly,
 * await the writes, or use {@linkcode SocketOutputStream.getWriter} and
 * `await writer.ready` (it waits while more than `highWaterMark` bytes are
 * unsent).
 *
 * @example Batched sends: start every write, then flush once
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * const received = Promise.withResolvers<number>();
 * listener.addEventListener("connectionreceived", async ({ socket }) => {
 *   let total = 0;
 *   const buffer = new Uint8Array(4096);
 *   for (let n; (n = await socket.inputStream.readAsync(buffer, 4096, 1)) > 0;) total += n;
 *   received.resolve(total);
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * const message = new TextEncoder().encode("Hello, World!");
 * const writer = client.outputStream.getWriter();
 * for (let i = 0; i < 1000; i++) {
 *   await writer.ready;
 *   writer.write(message);
 * }
 * await writer.close();
 * assert.equal(await received.promise, 13_000);
 * ```
 */
export class SocketOutputStream implements OutputStream {
  #link: SocketLink;
  #highWaterMark: number;
  #maxBatchSize: number;
  #copyThreshold: number;

  /** Entries waiting to be sent: batches of copied small writes, large buffers by reference, signalled writes. */
  #queue: Entry[] = [];
  /** The last round's emptied queue, for the next; made by the first send (thousands of idle streams need none). */
  #spareQueue: Entry[] | undefined;
  /** The entries being sent now, for a failure to reach their own promises. */
  #inFlight: Entry[] | undefined;
  /** The batch small writes are appended to, while it has room and is not being sent. */
  #tail: Batch | undefined;
  /** At most two emptied batches; made by the first batch sent. */
  #spareBatches: Batch[] | undefined;
  #queued = 0;
  /** Settles the writes queued since the last send started. */
  #pending: Deferred | undefined;
  /** Settles the writes being sent now. */
  #sending: Deferred | undefined;
  #pumping = false;
  /** `#queued` when `#settle` last looked. */
  #settleSeen = 0;
  /** `#settle`'s idle ticks, and `READ_AT_START` (one number: a server holds thousands of streams). */
  #settleState = GATHERED;
  #settleCallback: SettleStep | undefined;
  /** The callbacks of a one-entry round's write, made by the first send. */
  #onOnlyWritten: ((taken: number) => void) | undefined;
  #onSendFailed: ((error: unknown) => void) | undefined;
  #drain: Deferred | undefined;
  #error: Error | undefined;
  #writeClosed = false;
  #writer: SocketOutputStreamWriter | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /**
   * Sockets create their output stream themselves.
   *
   * @ignore
   */
  constructor(link: SocketLink, options: SocketOutputStreamOptions = {}) {
    this.#link = link;
    this.#highWaterMark = positiveInteger(
      options.highWaterMark,
      512 * 1024,
      "highWaterMark",
    );
    this.#maxBatchSize = positiveInteger(
      options.maxBatchSize,
      64 * 1024,
      "maxBatchSize",
    );
    const copyThreshold = positiveInteger(
      options.copyThreshold,
      COPY_LIMIT,
      "copyThreshold",
    );
    if (copyThreshold < COPY_LIMIT) {
      throw new RangeError(
        `Cannot create the output stream: "copyThreshold" must be at least ${COPY_LIMIT} (writes under 16 KiB are copied, so callers may reuse their buffers), got ${copyThreshold}`,
      );
    }
    this.#copyThreshold = copyThreshold;
  }

  /**
   * Queues `bytes` for sending, after everything queued before.
   *
   * @param bytes The bytes to send. Smaller than `copyThreshold`: copied now.
   * Otherwise: do not modify until the returned promise resolves.
   * @param options A `signal` that aborts the write. Aborted before its
   * bytes were handed to the kernel, the write is taken out of the queue
   * and rejects, and the stream goes on; aborted while they were going out,
   * it fails the whole stream (a byte stream cannot un-send half a write):
   * close the socket then. A signalled write is queued on its own rather
   * than gathered with its neighbours.
   * @returns A promise that resolves once the bytes reached the kernel, and
   * rejects with a `SocketError` if sending failed, the socket was closed or
   * the signal aborted (`ConnectionTimedOut` for a `TimeoutError` reason,
   * `OperationAborted` otherwise). Not awaiting it is safe: a failure is
   * also reported by `flushAsync()` and by later writes.
   *
   * @example Send a line
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * await client.outputStream.writeAsync(new TextEncoder().encode("Hello, World!\n"));
   * ```
   */
  writeAsync(bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    if (!(bytes instanceof Uint8Array)) {
      return Promise.reject(
        new TypeError(
          `Cannot write: "bytes" must be a Uint8Array, got ${describe(bytes)}`,
        ),
      );
    }
    if (options !== undefined) {
      let signal: AbortSignal | undefined;
      try {
        signal = signalOf(options, "Cannot write");
      } catch (error) {
        return Promise.reject(error);
      }
      if (signal !== undefined) {
        const failure = this.#failure();
        if (failure !== undefined) return rejected(failure);
        return this.#writeSignalled(bytes, signal);
      }
    }
    const failure = this.#failure();
    if (failure !== undefined) return rejected(failure);
    const length = bytes.length;
    if (length === 0) return this.flushAsync();
    if (length < this.#copyThreshold) {
      const tail = this.#tail;
      if (tail !== undefined && tail.length + length <= tail.bytes.length) {
        // The main path for small writes: one copy into the current batch.
        copyInto(tail.bytes, tail.length, bytes, 0, length);
        tail.length += length;
      } else {
        this.#gather(bytes);
      }
    } else {
      this.#tail = undefined;
      this.#queue.push(bytes);
    }
    this.#queued += length;
    const written = (this.#pending ??= deferred()).promise;
    if (!this.#pumping) {
      // The last round was this one write alone, a producer awaiting each
      // write: waiting for more gains nothing, and under load it delays this
      // answer behind every other connection's work, as raw Deno's
      // `conn.write()` does not.
      if ((this.#settleState & GATHERED) === 0) this.#sendNow();
      else this.#startPump();
    }
    return written;
  }

  /**
   * Waits until everything written so far reached the kernel.
   *
   * @param options A `signal` that stops the wait: the flush rejects, and
   * the writes stay queued and go on (call `abort()` or close the socket to
   * drop them).
   * @returns A promise that rejects with a `SocketError` if any of it
   * failed, or if the signal aborted.
   *
   * @example Flush after unawaited writes
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * const bytes = new TextEncoder().encode("Hello, World!");
   * for (let i = 0; i < 100; i++) client.outputStream.writeAsync(bytes);
   * await client.outputStream.flushAsync();
   * ```
   */
  flushAsync(options?: AbortOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = signalOf(options, "Cannot flush");
    } catch (error) {
      return Promise.reject(error);
    }
    const failure = this.#error ??
      (this.#link.closed ? this.#closedError() : undefined);
    if (failure !== undefined) return rejected(failure);
    const flushed = (this.#pending ?? this.#sending)?.promise ?? RESOLVED;
    if (signal === undefined) return flushed;
    const waiting = untilAborted(
      flushed,
      signal,
      (reason) =>
        abortedError("Cannot flush to", reason, this.#link.endpoint()),
    );
    waiting.catch(noop);
    return waiting;
  }

  /**
   * Bytes queued and not yet handed to the kernel.
   *
   * @example Nothing queued on a fresh socket
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * assert.equal(client.outputStream.unsentBytes, 0);
   * ```
   */
  get unsentBytes(): number {
    return this.#queued;
  }

  /**
   * Hands out a writer with the standard `WritableStreamDefaultWriter` shape,
   * without the per-chunk queue of Web Streams: `write()` gathers like
   * `writeAsync`, `ready` waits while more than `highWaterMark` bytes are
   * unsent, `close()` flushes and shuts down the sending side.
   *
   * @returns The writer; one at a time, until `releaseLock()`.
   * @throws {TypeError} If another writer holds the lock.
   *
   * @example Write on `ready`, flush once
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * const writer = client.outputStream.getWriter();
   * await writer.ready;
   * writer.write(new TextEncoder().encode("Hello, World!"));
   * await client.outputStream.flushAsync();
   * writer.releaseLock();
   * ```
   */
  getWriter(): SocketOutputStreamWriter {
    if (this.#writer !== undefined) {
      throw new TypeError(
        "Cannot get a writer: the output stream is locked to another writer; call releaseLock() on it first",
      );
    }
    this.#writer = new SocketOutputStreamWriter(this, () => {
      this.#writer = undefined;
    });
    return this.#writer;
  }

  /**
   * The same sink as a Web `WritableStream`, for `pipeTo`. Small chunks are
   * gathered as with `writeAsync`; closing it flushes and shuts down the
   * sending side.
   *
   * @example Pipe text into the socket
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * await ReadableStream.from(["Hello, ", "World!"])
   *   .pipeThrough(new TextEncoderStream())
   *   .pipeTo(client.outputStream.writable);
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk): Promise<void> | undefined => {
        const failure = this.#failure();
        if (failure !== undefined) throw failure;
        const sent = this.writeAsync(chunk);
        // A large chunk is sent from the caller's memory: hold the stream until it is.
        if (chunk.length >= this.#copyThreshold) return sent;
        return this.#queued > this.#highWaterMark ? this.ready : undefined;
      },
      close: (): Promise<void> => this.closeAsync(),
      abort: (reason): void => this.abort(reason),
    });
    return this.#writable;
  }

  /**
   * Resolves when fewer than `highWaterMark` bytes are unsent (at once when
   * that is already so); rejects if the stream failed.
   *
   * @example Wait for room
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * await client.outputStream.ready;
   * ```
   */
  get ready(): Promise<void> {
    const failure = this.#failure();
    if (failure !== undefined) return rejected(failure);
    if (this.#queued <= this.#highWaterMark) return RESOLVED;
    return (this.#drain ??= deferred()).promise;
  }

  /**
   * How many more bytes fit below `highWaterMark` (negative when over it);
   * `null` once the stream failed.
   *
   * @example Room on a fresh socket
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * assert.equal(client.outputStream.desiredSize, 512 * 1024);
   * ```
   */
  get desiredSize(): number | null {
    if (this.#failure() !== undefined) return null;
    return this.#highWaterMark - this.#queued;
  }

  /**
   * Flushes, then shuts down the sending side (the peer reads the end of the
   * stream); the socket can still receive.
   *
   * @returns A promise that rejects with a `SocketError` if sending failed.
   *
   * @example Half-close after the request
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * await client.outputStream.writeAsync(new TextEncoder().encode("request"));
   * await client.outputStream.closeAsync();
   * ```
   */
  async closeAsync(): Promise<void> {
    if (this.#writeClosed) return;
    await this.flushAsync();
    this.#writeClosed = true;
    try {
      await this.#link.connection!.closeWrite();
    } catch (error) {
      throw this.#wrap(error);
    }
  }

  /**
   * Fails the stream: queued bytes are dropped and every pending write and
   * flush rejects with `OperationAborted`. Bytes already handed to the kernel
   * still go out; of a large write going out part by part, only the part
   * being written may still go, and no part after it. That part reads the
   * caller's buffer until the kernel takes it; closing the socket cancels
   * it while it still waits for room. The socket stays open; close it to
   * end the connection.
   *
   * @param reason Why, kept as the error's `cause`.
   *
   * @example Abandon queued data
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus, StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * client.outputStream.abort(new Error("user cancelled"));
   * await assert.rejects(client.outputStream.flushAsync(), (e) =>
   *   SocketError.getStatus(e) === SocketErrorStatus.OperationAborted);
   * ```
   */
  abort(reason?: unknown): void {
    this.#fail(
      new SocketError(
        `Cannot write to ${
          formatEndpoint(this.#link.endpoint())
        }: the output was aborted`,
        {
          status: SocketErrorStatus.OperationAborted,
          endpoint: this.#link.endpoint(),
          cause: reason,
        },
      ),
    );
  }

  /**
   * Runs once per microtask tick while the writes being produced right now
   * keep coming, then hands them to `#send` together: a line protocol
   * answers its buffered lines a microtask or two apart, and sending after
   * the first would cost a system call per line where raw Deno pays one per
   * chunk read. It sends once a batch's worth is queued, once a few ticks
   * pass without a new write, or at once when the program went back to
   * reading since the first write (it answered all it had read). The event
   * loop never runs in between, so this adds no latency. One microtask
   * chain looks at every waiting stream (`_write_settler.ts`); true once
   * this one stopped waiting.
   */
  #settle(): boolean {
    const queued = this.#queued;
    if (
      this.#error === undefined && this.#tail !== undefined &&
      queued < this.#maxBatchSize
    ) {
      let state = this.#settleState;
      if (queued !== this.#settleSeen) {
        this.#settleSeen = queued;
        this.#settleState = (state & ~TICKS) | GATHERED;
        return false;
      }
      state++;
      const backToReading = (state & READ_AT_START) === 0 &&
        this.#link.reading;
      const ticks = (state & LAST_GATHERED) === 0 ? 1 : SETTLE_TICKS;
      if ((state & TICKS) < ticks && !backToReading) {
        this.#settleState = state;
        return false;
      }
    }
    this.#send();
    return true;
  }

  /** Sends what is queued, then settles again if more came meanwhile. */
  #send(): void {
    const queue = this.#queue;
    if (queue.length === 0) return this.#stopPump();
    const only = queue.length === 1 ? queue[0]! : undefined;
    if (only === undefined || only instanceof SignalledWrite) {
      this.#sendEach(this.#takeQueue());
      return;
    }
    // The usual round, one batch of gathered writes or one large write: a
    // write and a `then`, without an async frame's promise and resumption
    // on top.
    this.#takeQueue();
    const link = this.#link;
    // Even after abort() emptied the queue, this write holds the
    // connection: upgradeToSslAsync must wait for it.
    link.writing = true;
    let written: Promise<number>;
    try {
      written = link.connection!.write(
        only instanceof Uint8Array ? only : batchBytes(only),
      );
    } catch (error) {
      return this.#sendFailed(error);
    }
    written.then(
      this.#onOnlyWritten ??= (taken) => this.#onlyWritten(taken),
      this.#onSendFailed ??= (error) => this.#sendFailed(error),
    );
  }

  /** The round of one entry went out, whole or in part. */
  #onlyWritten(taken: number): void {
    const link = this.#link;
    // abort() or close() may have failed the stream while this write was
    // pending: the queue is gone.
    if (this.#error !== undefined) {
      link.writing = false;
      return this.#stopPump();
    }
    const queue = this.#inFlight!;
    const entry = queue[0] as Batch | Uint8Array;
    if (taken < entry.length) {
      // The kernel took part: the general path sends the rest.
      this.#sendEach(queue, taken);
      return;
    }
    link.writing = false;
    link.activeAt = idleClock.now;
    this.#sent(entry);
    this.#roundDone(queue);
  }

  #sendFailed(error: unknown): void {
    this.#link.writing = false;
    this.#fail(this.#wrap(error));
    this.#stopPump();
  }

  /** Takes the queue for a round: later writes start the next one. */
  #takeQueue(): Entry[] {
    const queue = this.#inFlight = this.#queue;
    this.#queue = this.#spareQueue ?? [];
    this.#tail = undefined;
    this.#sending = this.#pending;
    this.#pending = undefined;
    return queue;
  }

  /** Sends the round's entries one after another; `offset` bytes of the first are already out. */
  async #sendEach(queue: Entry[], offset = 0): Promise<void> {
    try {
      const link = this.#link;
      for (const entry of queue) {
        const signalled = entry instanceof SignalledWrite;
        // Taken out of the queue by its signal: nothing to send.
        if (signalled && entry.state !== QUEUED) continue;
        if (signalled) entry.state = SENDING;
        const bytes = entry instanceof Uint8Array
          ? entry
          : signalled
          ? entry.bytes
          : batchBytes(entry);
        // Read on every write: upgradeToSslAsync may have swapped it.
        const connection = link.connection!;
        link.writing = true;
        try {
          // The kernel mostly takes all at once: one await, not two frames.
          const taken = offset > 0 ? offset : await connection.write(bytes);
          offset = 0;
          if (taken < bytes.length) {
            await this.#writeRest(connection, bytes, taken);
          }
        } finally {
          link.writing = false;
        }
        link.activeAt = idleClock.now;
        // abort() may have failed the stream while this write was pending.
        if (this.#error !== undefined) {
          emptyArray(queue);
          return this.#stopPump();
        }
        this.#sent(entry);
      }
    } catch (error) {
      this.#fail(this.#wrap(error));
      return this.#stopPump();
    }
    this.#roundDone(queue);
  }

  /**
   * Sends the rest of a write the kernel took part of, part after part.
   * Stops once the stream failed (`abort()`, an aborted signalled write):
   * its promise has rejected, so its caller may reuse the buffer, and those
   * bytes must not go out. Only the part being written then may still go.
   */
  async #writeRest(
    transport: Transport,
    bytes: Uint8Array,
    offset: number,
  ): Promise<void> {
    const link = this.#link;
    while (offset < bytes.length && this.#error === undefined) {
      // Each part the kernel took is traffic: a large write to a slow but
      // steady reader must not look idle until its last byte is out.
      link.activeAt = idleClock.now;
      offset += await transport.write(bytes.subarray(offset));
    }
  }

  /** Settles what `entry` owes once all its bytes are out. */
  #sent(entry: Entry): void {
    this.#queued -= entry.length;
    if (entry instanceof SignalledWrite) {
      entry.state = SETTLED;
      entry.done.resolve();
    } else if (!(entry instanceof Uint8Array)) {
      entry.length = 0;
      const spares = this.#spareBatches ??= [];
      if (spares.length < 2) spares.push(entry);
    }
    this.#drained();
  }

  /** Resolves the round's writes, then gathers what was queued while it was out. */
  #roundDone(queue: Entry[]): void {
    emptyArray(queue);
    this.#inFlight = undefined;
    this.#spareQueue = queue;
    this.#sending?.resolve();
    this.#sending = undefined;
    if (this.#queue.length === 0) return this.#idle();
    this.#beginSettling();
    // Writes came while this round was out: the producer does not await
    // each one, so its next first write settles (and gathers) too.
    this.#settleState |= GATHERED;
  }

  #startPump(): void {
    this.#pumping = true;
    this.#beginSettling();
  }

  /** Starts a round with the one write just queued, without settling. */
  #sendNow(): void {
    this.#pumping = true;
    this.#settleState = 0;
    this.#send();
  }

  /** `#settle` as a callback, made by the first write: idle streams never need it. */
  get #settler(): SettleStep {
    return this.#settleCallback ??= () => this.#settle();
  }

  #beginSettling(): void {
    this.#settleSeen = this.#queued;
    this.#settleState = (this.#link.reading ? READ_AT_START : 0) |
      ((this.#settleState & GATHERED) === 0 ? 0 : LAST_GATHERED);
    settleLater(this.#settler);
  }

  #stopPump(): void {
    this.#pumping = false;
  }

  /**
   * Everything written went out: spare batches larger than the smallest go
   * to the shared pool rather than wait with this stream for its next
   * answer. A small one stays: an answer of a few bytes then costs no trip
   * to the pool, and 4 KiB is what a stream that answered once always kept.
   */
  #idle(): void {
    this.#pumping = false;
    const spares = this.#spareBatches;
    if (spares === undefined) return;
    for (let i = spares.length - 1; i >= 0; i--) {
      if (spares[i]!.bytes.length > SMALL_BATCH_SIZE) {
        batchPool.give(spares[i]!);
        spares[i] = spares[spares.length - 1]!;
        spares.pop();
      }
    }
  }

  /** Copies a small write into the batches, spanning several when it is larger than one. */
  #gather(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      let tail = this.#tail;
      if (tail === undefined || tail.length === tail.bytes.length) {
        tail = this.#newBatch(bytes.length - offset);
      } else if (
        tail.length + bytes.length - offset > tail.bytes.length &&
        bytes.length <= this.#maxBatchSize
      ) {
        // A write that fits a batch of its own is not split across two.
        tail = this.#newBatch(bytes.length - offset);
      }
      const n = Math.min(
        bytes.length - offset,
        tail.bytes.length - tail.length,
      );
      copyInto(tail.bytes, tail.length, bytes, offset, n);
      tail.length += n;
      offset += n;
    }
  }

  #writeSignalled(bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    const link = this.#link;
    if (signal.aborted) {
      return rejected(
        abortedError("Cannot write to", signal.reason, link.endpoint()),
      );
    }
    const entry = new SignalledWrite(
      bytes.length < this.#copyThreshold ? bytes.slice() : bytes,
    );
    this.#tail = undefined;
    this.#queue.push(entry);
    this.#queued += entry.length;
    // flushAsync() covers this write too.
    this.#pending ??= deferred();
    if (!this.#pumping) this.#startPump();
    const onAbort = (): void => {
      if (entry.state === QUEUED) {
        entry.state = SETTLED;
        this.#queued -= entry.length;
        this.#drained();
        rejectQuietly(
          entry.done,
          abortedError("Cannot write to", signal.reason, link.endpoint()),
        );
        return;
      }
      if (entry.state !== SENDING) return;
      const timedOut = signal.reason instanceof Error &&
        signal.reason.name === "TimeoutError";
      this.#fail(
        new SocketError(
          `Cannot write to ${formatEndpoint(link.endpoint())}: a write was ${
            timedOut ? "past its deadline" : "aborted"
          } while it was going out, and the peer may have part of it; the stream cannot go on, close the socket`,
          {
            status: timedOut
              ? SocketErrorStatus.ConnectionTimedOut
              : SocketErrorStatus.OperationAborted,
            endpoint: link.endpoint(),
            cause: signal.reason,
          },
        ),
      );
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const off = (): void => signal.removeEventListener("abort", onAbort);
    entry.done.promise.then(off, off);
    return entry.done.promise;
  }

  /** Wakes `ready` once the unsent bytes fell to the high-water mark. */
  #drained(): void {
    if (this.#drain !== undefined && this.#queued <= this.#highWaterMark) {
      this.#drain.resolve();
      this.#drain = undefined;
    }
  }

  #newBatch(length: number): Batch {
    // Nothing else unsent: most likely an answer, not the start of a bulk
    // transfer, so a batch that fits it does (4 KiB at least): a connection
    // that answers 10 KiB at a time keeps two 16 KiB spares, not two 64 KiB.
    const size = this.#queued === 0 && length < this.#maxBatchSize
      ? Math.min(fittingBatchSize(length), this.#maxBatchSize)
      : this.#maxBatchSize;
    const spares = this.#spareBatches;
    let batch: Batch | undefined;
    // At most two spares: the last one fits, mostly.
    if (spares === undefined) {
      // The first batch of this stream.
    } else if (
      spares.length > 0 && spares[spares.length - 1]!.bytes.length >= size
    ) {
      batch = spares.pop();
    } else if (spares.length > 1 && spares[0]!.bytes.length >= size) {
      batch = spares.shift();
    }
    // Streams of every maxBatchSize share the pool: a larger batch would
    // let one system call send more than this stream's maxBatchSize.
    batch ??= batchPool.take(size, this.#maxBatchSize) ??
      { bytes: new Uint8Array(size), length: 0, sent: undefined };
    this.#queue.push(batch);
    this.#tail = batch;
    return batch;
  }

  #failure(): Error | undefined {
    if (this.#error !== undefined) return this.#error;
    if (this.#link.closed) return this.#closedError();
    if (this.#link.upgrading) {
      return new TypeError(
        "Cannot write: the connection is being upgraded to TLS; write once upgradeToSslAsync() has resolved",
      );
    }
    if (this.#writeClosed) {
      return new SocketError(
        `Cannot write to ${
          formatEndpoint(this.#link.endpoint())
        }: the output stream was closed`,
        {
          status: SocketErrorStatus.OperationAborted,
          endpoint: this.#link.endpoint(),
        },
      );
    }
    return undefined;
  }

  #fail(error: Error): void {
    this.#error ??= error;
    const failure = this.#error;
    for (const queue of [this.#queue, this.#inFlight ?? []]) {
      for (const entry of queue) {
        if (entry instanceof SignalledWrite && entry.state !== SETTLED) {
          entry.state = SETTLED;
          rejectQuietly(entry.done, failure);
        }
      }
    }
    this.#inFlight = undefined;
    this.#queue.length = 0;
    this.#tail = undefined;
    this.#queued = 0;
    for (const waiting of [this.#sending, this.#pending, this.#drain]) {
      if (waiting !== undefined) rejectQuietly(waiting, failure);
    }
    this.#sending = this.#pending = this.#drain = undefined;
  }

  #closedError(): SocketError {
    return closedError(this.#link, "Cannot write to");
  }

  #wrap(error: unknown): Error {
    if (this.#link.closed) {
      return closedError(this.#link, "Cannot write to", error);
    }
    return SocketError.from(this.#link.translate?.(error) ?? error, {
      action: "Cannot write to",
      endpoint: this.#link.endpoint(),
    });
  }
}

/**
 * The writer of a {@linkcode SocketOutputStream}: the standard
 * `WritableStreamDefaultWriter` shape, so code written for Web Streams works
 * unchanged, without a promise and a queue entry per chunk. Writes started
 * together share one promise.
 *
 * @example Await `ready`, write without awaiting, flush once
 * ```ts
 * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * const writer = client.outputStream.getWriter();
 * const bytes = new TextEncoder().encode("Hello, World!");
 * for (let i = 0; i < 10; i++) {
 *   await writer.ready;
 *   writer.write(bytes);
 * }
 * await client.outputStream.flushAsync();
 * writer.releaseLock();
 * ```
 */
export class SocketOutputStreamWriter
  implements WritableStreamDefaultWriter<Uint8Array> {
  #stream: SocketOutputStream | undefined;
  #release: () => void;
  #closed = deferred();

  /**
   * Made by {@linkcode SocketOutputStream.getWriter}.
   *
   * @param stream The stream this writer writes to.
   * @param release Unlocks the stream.
   */
  constructor(stream: SocketOutputStream, release: () => void) {
    this.#stream = stream;
    this.#release = release;
  }

  /** Resolves when there is room below the high-water mark. */
  get ready(): Promise<void> {
    return this.#stream?.ready ?? rejected(released());
  }

  /** Bytes that fit below the high-water mark; `null` once failed. */
  get desiredSize(): number | null {
    if (this.#stream === undefined) throw released();
    return this.#stream.desiredSize;
  }

  /** Resolves once `close()` completed; rejects if the stream failed or the lock was released. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Queues a chunk; see {@linkcode SocketOutputStream.writeAsync}.
   *
   * @param chunk The bytes to send.
   * @returns Resolves once the chunk reached the kernel.
   */
  write(chunk: Uint8Array): Promise<void> {
    return this.#stream?.writeAsync(chunk) ?? rejected(released());
  }

  /**
   * Flushes and shuts down the sending side.
   *
   * @returns Resolves once done.
   */
  async close(): Promise<void> {
    if (this.#stream === undefined) throw released();
    try {
      await this.#stream.closeAsync();
      this.#closed.resolve();
    } catch (error) {
      rejectQuietly(this.#closed, error);
      throw error;
    }
  }

  /**
   * Drops queued bytes and fails pending writes.
   *
   * @param reason Why.
   * @returns Resolves at once.
   */
  abort(reason?: unknown): Promise<void> {
    if (this.#stream === undefined) return rejected(released());
    this.#stream.abort(reason);
    rejectQuietly(this.#closed, reason);
    return RESOLVED;
  }

  /** Unlocks the stream; this writer is unusable afterwards. */
  releaseLock(): void {
    if (this.#stream === undefined) return;
    this.#stream = undefined;
    rejectQuietly(this.#closed, released());
    this.#release();
  }
}

/** The filled part of `batch`, as a view reused while the length repeats. */
function batchBytes(batch: Batch): Uint8Array {
  const sent = batch.sent;
  if (sent !== undefined && sent.length === batch.length) return sent;
  return batch.sent = batch.bytes.subarray(0, batch.length);
}

/** Calls `write` until the rest of `bytes`, from `offset`, is taken. */
function released(): TypeError {
  return new TypeError("Cannot use this writer: its lock was released");
}

function positiveInteger(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot create the output stream: "${name}" must be a positive integer, got ${
        describe(value)
      }`,
    );
  }
  return value;
}
