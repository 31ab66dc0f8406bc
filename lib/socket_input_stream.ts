/**
 * The input stream of a {@linkcode StreamSocket}.
 *
 * @module
 */

import { type InputStream, InputStreamOptions } from "./input_stream.ts";
import type { AbortOptions } from "./abort_options.ts";
import { SocketError } from "./socket_error.ts";
import {
  closedError,
  type PendingPull,
  type SocketLink,
} from "./_socket_link.ts";
import { ReadStash } from "./_read_stash.ts";
import { abortedError, signalOf, untilAborted } from "./_abort.ts";
import { idleClock } from "./_idle_sweep.ts";
import { describe } from "./_format.ts";

/** The size of the chunks the `readable` stream allocates when not given a buffer. */
const READABLE_CHUNK_SIZE = 64 * 1024;

/**
 * Reads bytes from a connected {@linkcode StreamSocket} (UWP's
 * `StreamSocket.InputStream`).
 *
 * `readAsync` reads straight into your buffer: no intermediate copy and no
 * buffer of its own, so an idle connection costs only what you asked to read.
 * `readable` adapts the same source to a Web `ReadableStream` for piping.
 *
 * Deadlines and cancellation: give `readAsync` a `signal`. An aborted read
 * rejects at once and loses nothing: Deno cannot cancel the read pending on
 * the connection, so a signalled read fills a buffer of the stream's own
 * and copies into yours only if you are still waiting; bytes that arrive
 * after the abort go to the next read, in order, and your buffer is never
 * written after the rejection. Reads without a signal pay none of this.
 *
 * Concurrency: one read at a time. A read started while another is pending
 * (by `readAsync`, a reader of `readable`, a `DataReader` or a `LineReader`)
 * is refused at once with a `TypeError`, as UWP refuses a second pending
 * `ReadAsync`: Deno would fill the two buffers in an order nobody chose. A
 * read whose caller left (its signal aborted, or `readable` was cancelled or
 * its reader released) does not count: the next read takes its bytes over.
 * Reads and writes may overlap freely.
 *
 * @example Read exactly four bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("connectionreceived", async ({ socket }) => {
 *   await socket.outputStream.writeAsync(new Uint8Array([1, 2, 3, 4]));
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * const buffer = new Uint8Array(4);
 * assert.equal(await client.inputStream.readAsync(buffer, 4), 4);
 * assert.deepEqual([...buffer], [1, 2, 3, 4]);
 * ```
 */
export class SocketInputStream implements InputStream {
  #link: SocketLink;
  // Bound, not arrows: an arrow field costs a closure and a context per
  // socket, twice the memory, and idle servers hold thousands of sockets.
  #done: ReadDone;
  #readable: ReadableStream<Uint8Array> | undefined;

  /**
   * Sockets create their input stream themselves.
   *
   * @ignore
   */
  constructor(link: SocketLink) {
    this.#link = link;
    this.#done = readDone.bind(link);
  }

  /**
   * Reads up to `count` bytes into `buffer`, starting at index 0.
   *
   * With `InputStreamOptions.None` (the default) or `ReadAhead` it waits
   * until `count` bytes arrived or the peer ended the stream; with the
   * `Partial` flag it completes as soon as some bytes arrived.
   *
   * @param buffer Where the bytes go.
   * @param count How many bytes to read at most (default `buffer.length`).
   * @param options When to complete (default `InputStreamOptions.None`):
   * `InputStreamOptions` flags.
   * @param abort A `signal` that aborts the read without losing a byte: what
   * arrives afterwards goes to the next read, and `buffer` is left alone.
   * @returns The number of bytes read: fewer than `count` only at the end of
   * the stream (or with `Partial`), and 0 only at the end of the stream.
   * @throws {TypeError} If `buffer` is not a `Uint8Array`, `options` is
   * unknown, the signal is not an `AbortSignal`, or another read is pending.
   * @throws {RangeError} If `count` is not an integer from 0 to `buffer.length`.
   * @throws {SocketError} If the connection failed or the socket was closed;
   * `ConnectionTimedOut` or `OperationAborted` if the signal aborted (an
   * aborted read without the `Partial` flag gives back the bytes it had
   * gathered: the next read gets them).
   *
   * @example Read what is there
   * ```ts
   * import assert from "node:assert/strict";
   * import { InputStreamOptions, StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.addEventListener("connectionreceived", async ({ socket }) => {
   *   await socket.outputStream.writeAsync(new TextEncoder().encode("hi"));
   * });
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * const buffer = new Uint8Array(1024);
   * const n = await client.inputStream.readAsync(buffer, 1024, InputStreamOptions.Partial);
   * assert.ok(n >= 1 && n <= 2);
   * ```
   *
   * @example A read deadline that loses nothing
   * ```ts
   * import assert from "node:assert/strict";
   * import { InputStreamOptions, SocketError, SocketErrorStatus, StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * const late = Promise.withResolvers<void>();
   * listener.addEventListener("connectionreceived", async ({ socket }) => {
   *   await late.promise;
   *   await socket.outputStream.writeAsync(new TextEncoder().encode("late"));
   * });
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * const buffer = new Uint8Array(16);
   * await assert.rejects(
   *   client.inputStream.readAsync(buffer, 16, InputStreamOptions.Partial, { signal: AbortSignal.timeout(50) }),
   *   (error) => SocketError.getStatus(error) === SocketErrorStatus.ConnectionTimedOut,
   * );
   * late.resolve();
   * const n = await client.inputStream.readAsync(buffer, 16, InputStreamOptions.Partial);
   * assert.equal(new TextDecoder().decode(buffer.subarray(0, n)), "late".slice(0, n));
   * ```
   */
  readAsync(
    buffer: Uint8Array,
    count: number = buffer?.length,
    options: InputStreamOptions | number = InputStreamOptions.None,
    abort?: AbortOptions,
  ): Promise<number> {
    let signal: AbortSignal | undefined;
    try {
      checkReadArguments(buffer, count, options);
      signal = signalOf(abort, "Cannot read");
    } catch (error) {
      return Promise.reject(error);
    }
    if (count === 0) return Promise.resolve(0);
    const target = count === buffer.length ? buffer : buffer.subarray(0, count);
    const link = this.#link;
    if ((options & InputStreamOptions.Partial) !== 0) {
      // One promise per pending read, no async frames: idle connections sit here.
      if (signal === undefined && !link.readBlocked) {
        return readDirect(link, target, this.#done);
      }
      return readSlow(link, target, signal, 1, this.#done);
    }
    return readFully(link, target, signal, this.#done);
  }

  /**
   * The same bytes as a Web `ReadableStream` (a byte stream: BYOB readers
   * read straight into their own buffers), for `pipeTo` and `pipeThrough`.
   *
   * Use either `readable` or `readAsync`, not both at once. Cancelling the
   * stream (or releasing its reader) leaves the socket open and loses
   * nothing: the bytes of a read still pending go to the next read, through
   * `readAsync` or a new `readable` (cancelling makes a new one).
   *
   * @example Collect text through a pipe
   * ```ts
   * import assert from "node:assert/strict";
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   *
   * await using listener = new StreamSocketListener();
   * listener.addEventListener("connectionreceived", async ({ socket }) => {
   *   await using s = socket;
   *   await s.outputStream.writeAsync(new TextEncoder().encode("streamed"));
   * });
   * await listener.bindEndpointAsync("127.0.0.1", 0);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
   * let text = "";
   * for await (const chunk of client.inputStream.readable.pipeThrough(new TextDecoderStream())) {
   *   text += chunk;
   * }
   * assert.equal(text, "streamed");
   * ```
   */
  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= makeReadable(
      this.#link,
      this.#done,
      (stream) => {
        // A cancelled stream is closed for good; the next `readable` is new.
        if (this.#readable === stream) this.#readable = undefined;
      },
    );
    return this.#readable;
  }
}

// Module functions, not private methods: private methods add a brand slot
// to every stream, and idle servers hold thousands.

/** The `readable` of a socket; a read its consumer left loses nothing. */
function makeReadable(
  link: SocketLink,
  done: ReadDone,
  onCancel: (stream: ReadableStream<Uint8Array>) => void,
): ReadableStream<Uint8Array> {
  let cancelled = false;
  // One per stream, reused by every pull: a pull costs no allocation of its own.
  const pull = new StreamPull((): boolean => cancelled || !stream.locked);
  let source!: ReadableByteStreamController;
  // The size of the first BYOB read waiting, if any: a read in flight for a
  // released default reader may bring more than it takes.
  let byobWanted: number | undefined;
  // The pull in progress: a BYOB read may start one too (SocketReadable),
  // and the stream's own pull then joins it instead of racing it.
  let filling: Promise<void> | undefined;
  const fill = async (
    controller: ReadableByteStreamController,
    limit = READABLE_CHUNK_SIZE,
  ): Promise<void> => {
    // autoAllocateChunkSize guarantees a BYOB request on every pull.
    const request = controller.byobRequest!;
    const whole = request.view as Uint8Array;
    // A left request may be larger than the BYOB read behind it: what the
    // read does not take would stay in the stream, out of readAsync's reach.
    const view = whole.length > limit ? whole.subarray(0, limit) : whole;
    const reading = link.readBlocked
      ? readSlow(link, view, undefined, 1, done, pull)
      : readDirect(link, view, done);
    link.pull = pull;
    let n: number;
    try {
      n = await reading;
    } catch (error) {
      filling = undefined;
      if (link.pull === pull) link.pull = undefined;
      pull.finish();
      if (!pull.abandoned()) throw error;
      // Nobody waits: the connection's own failure is for the next read;
      // a refusal (another read took over this one) is for nobody.
      if (error instanceof SocketError) {
        (link.stash ??= new ReadStash()).error = error;
      }
      return;
    }
    // Cleared before respond(): it may ask for the next pull at once.
    filling = undefined;
    // A newer stream's pull may have claimed this one and registered itself.
    if (link.pull === pull) link.pull = undefined;
    pull.finish();
    if (pull.abandoned()) {
      // Nobody reads this stream any more: the bytes go back for the
      // next read, in front of anything that came after them.
      const stash = link.stash ??= new ReadStash();
      if (n === 0) stash.ended = true;
      else stash.unshift(view.subarray(0, n));
      return;
    }
    if (n === 0) {
      controller.close();
      request.respond(0);
      return;
    }
    if (byobWanted !== undefined && n > byobWanted) {
      // What the BYOB read cannot take would stay queued in the stream, out
      // of readAsync's reach: it goes back for the next read instead.
      (link.stash ??= new ReadStash()).unshift(view.subarray(byobWanted, n));
      n = byobWanted;
    }
    request.respond(n);
  };
  const stream: ReadableStream<Uint8Array> = new SocketReadable({
    type: "bytes",
    autoAllocateChunkSize: READABLE_CHUNK_SIZE,
    start: (controller): void => {
      source = controller;
    },
    pull: (controller): Promise<void> => filling ??= fill(controller),
    cancel: (): void => {
      cancelled = true;
      onCancel(stream);
    },
  }, (limit: number, reading: Promise<unknown>): void => {
    if (byobWanted === undefined) {
      byobWanted = limit;
      const settled = (): void => {
        byobWanted = undefined;
      };
      reading.then(settled, settled);
    }
    // A request nobody is filling: a released reader left it, unanswered.
    if (filling !== undefined || cancelled || source.byobRequest === null) {
      return;
    }
    const controller = source;
    (filling = fill(controller, limit)).catch((error) =>
      controller.error(error)
    );
  });
  return stream;
}

/**
 * The readable stream's read in progress, as the link shows it to other
 * reads (see {@linkcode PendingPull}). Its `done` promise is made only when
 * another read takes over an abandoned pull and waits for it.
 */
class StreamPull implements PendingPull {
  readonly abandoned: () => boolean;
  #finished: PromiseWithResolvers<void> | undefined;

  constructor(abandoned: () => boolean) {
    this.abandoned = abandoned;
  }

  /** Settles once the bytes were stashed or handed over. */
  get done(): Promise<void> {
    return (this.#finished ??= Promise.withResolvers<void>()).promise;
  }

  /** The pull is done with its bytes; the next one starts afresh. */
  finish(): void {
    const finished = this.#finished;
    this.#finished = undefined;
    finished?.resolve();
  }
}

/**
 * A socket's byte stream. A BYOB read queues behind a request the stream
 * already holds and waits for it instead of asking for a pull (the Streams
 * standard's ReadableByteStreamControllerPullInto); when that request is
 * one a released reader left, and its bytes went to the stash, nothing
 * would ever answer it. So a BYOB read first answers the left request.
 */
class SocketReadable extends ReadableStream<Uint8Array<ArrayBuffer>> {
  #answerLeft: (limit: number, reading: Promise<unknown>) => void;

  constructor(
    source: UnderlyingByteSource,
    answerLeft: (limit: number, reading: Promise<unknown>) => void,
  ) {
    // The byte-source overload of the constructor takes no type argument,
    // so a subclass cannot name it.
    super(
      source as unknown as UnderlyingDefaultSource<Uint8Array<ArrayBuffer>>,
    );
    this.#answerLeft = answerLeft;
  }

  override getReader(options: { mode: "byob" }): ReadableStreamBYOBReader;
  override getReader(): ReadableStreamDefaultReader<Uint8Array<ArrayBuffer>>;
  override getReader(
    options?: ReadableStreamGetReaderOptions,
  ): ReadableStreamReader<Uint8Array<ArrayBuffer>>;
  override getReader(
    options?: ReadableStreamGetReaderOptions,
  ): ReadableStreamReader<Uint8Array<ArrayBuffer>> {
    if (options?.mode !== "byob") return super.getReader(options);
    const reader = super.getReader(options);
    const answerLeft = this.#answerLeft;
    const read = reader.read;
    reader.read = function <T extends ArrayBufferView>(
      this: ReadableStreamBYOBReader,
      view: T,
      readOptions?: ReadableStreamBYOBReaderReadOptions,
    ): Promise<ReadableStreamReadResult<T>> {
      // Read first: the stream takes over (detaches) the view's buffer.
      const wanted = Math.max(1, view.byteLength);
      const reading = read.call(this, view, readOptions) as Promise<
        ReadableStreamReadResult<T>
      >;
      answerLeft(wanted, reading);
      return reading;
    };
    return reader;
  }
}

/**
 * Reads until `target` is full or the stream ends. With a signal the bytes
 * gather in the stash and reach `target` only once all are there: an
 * aborted read leaves them, and `target`, as they were.
 */
async function readFully(
  link: SocketLink,
  target: Uint8Array,
  signal: AbortSignal | undefined,
  done: ReadDone,
): Promise<number> {
  if (signal !== undefined) {
    return readSlow(link, target, signal, target.length, done);
  }
  // Another None read gathers: between its chunks no read is pending, but
  // the bytes coming next are its own.
  if (link.gathering) throw busyError();
  let total = 0;
  let held = false;
  try {
    while (total < target.length) {
      const rest = total === 0 ? target : target.subarray(total);
      let reading: Promise<number>;
      if (link.readBlocked) {
        reading = readSlow(link, rest, undefined, 1, done, GATHERER);
      } else {
        reading = readDirect(link, rest, done);
        link.gathering = true;
      }
      // Set by now unless this read was refused: then it is not ours to clear.
      held = link.gathering;
      const n = await reading;
      if (n === 0) break;
      total += n;
    }
  } finally {
    if (held) link.gathering = false;
  }
  return total;
}

/** The claim of the `None` read gathering its bytes (one per socket at a time). */
const GATHERER = {};

/** The main path: the connection reads straight into the caller's buffer. */
function readDirect(
  link: SocketLink,
  target: Uint8Array,
  done: ReadDone,
): Promise<number> {
  let pending: Promise<number | null>;
  try {
    pending = link.connection!.read(target);
  } catch (error) {
    return Promise.reject(readError(link, error));
  }
  link.reading = true;
  return pending.then(done, done);
}

/**
 * Every read that cannot go straight to the connection: one with a signal,
 * one that must take over a read its caller left, one answered from the
 * stash, and the refusals. It completes once `want` bytes are there (or the
 * end, or an error). `self` is the caller's own claim when it retries.
 */
function readSlow(
  link: SocketLink,
  target: Uint8Array,
  signal: AbortSignal | undefined,
  want: number,
  done: ReadDone,
  self?: object,
): Promise<number> {
  if (link.upgrading) {
    return Promise.reject(
      new TypeError(
        "Cannot read: the connection is being upgraded to TLS; read once upgradeToSslAsync() has resolved",
      ),
    );
  }
  if (signal?.aborted) {
    return Promise.reject(readAborted(link, signal.reason));
  }
  if (link.gathering && self !== GATHERER) return Promise.reject(busyError());
  // Someone else waits to take over a read whose caller left; unless it
  // is a readable stream's pull whose own consumer left too.
  const claim = link.claim;
  if (
    claim !== undefined && claim !== self &&
    !(claim === link.pull && link.pull.abandoned())
  ) {
    return Promise.reject(busyError());
  }
  const stash = link.stash;
  // A signalled read still waits for its bytes.
  if (stash?.owned) return Promise.reject(busyError());
  const pull = link.pull === self ? undefined : link.pull;
  if (pull !== undefined && !pull.abandoned()) {
    return Promise.reject(busyError());
  }
  // A read whose caller left (an aborted signal, a cancelled or released
  // `readable`) may still be pending: this read takes its place.
  const left = pull?.done ?? stash?.inFlight;
  if (link.reading && left === undefined) return Promise.reject(busyError());
  // Accepted: from here until it is done, no other read may come between its chunks.
  if (self === GATHERER) link.gathering = true;
  if (
    stash !== undefined &&
    (stash.size >= want || stash.ended || stash.error !== undefined)
  ) {
    if (link.claim === self) link.claim = undefined;
    try {
      return Promise.resolve(stash.take(target));
    } catch (error) {
      return Promise.reject(readError(link, error));
    } finally {
      if (stash.idle) forgetIdleStash(link);
    }
  }
  if (left !== undefined) {
    // Claimed until this read is done with it: a third read is refused.
    const mine = self ?? {};
    link.claim = mine;
    const release = (error: unknown): never => {
      if (link.claim === mine) link.claim = undefined;
      throw error;
    };
    // The signal is looked at before the bytes are copied, never after:
    // an abort once they are in `target` would lose them.
    const waited = signal === undefined
      ? left
      : untilAborted(left, signal, (reason) => {
        if (link.claim === mine) link.claim = undefined;
        return readAborted(link, reason);
      });
    // readSlow refuses a caller that left meanwhile: the bytes stay for the next.
    return waited.then(() =>
      readSlow(link, target, signal, want, done, mine).catch(release)
    );
  }
  if (link.claim === self) link.claim = undefined;
  if (signal === undefined) return readDirect(link, target, done);
  return readSignalled(link, target, signal, want, done);
}

/** Reads into the stash, and copies into `target` only if the caller still waits. */
function readSignalled(
  link: SocketLink,
  target: Uint8Array,
  signal: AbortSignal,
  want: number,
  done: ReadDone,
): Promise<number> {
  const stash = link.stash ??= new ReadStash();
  const room = stash.reserve(target.length - stash.size);
  const pending = readDirect(link, room, done);
  stash.owned = true;
  const inFlight = stash.inFlight = pending.then(
    (n) => {
      if (n === 0) stash.ended = true;
      else stash.commit(room, n);
      stash.inFlight = undefined;
    },
    (error) => {
      stash.error = error;
      stash.inFlight = undefined;
    },
  );
  return untilAborted(inFlight, signal, (reason) => {
    stash.owned = false;
    return readAborted(link, reason);
  }).then(() => {
    stash.owned = false;
    return readSlow(link, target, signal, want, done);
  });
}

/** The stash held nothing more and nobody waits: reads go straight to the connection again. */
function forgetIdleStash(link: SocketLink): void {
  link.stash = undefined;
}

function busyError(): TypeError {
  return new TypeError(
    "Cannot read: another read is pending on this socket; await it first, or give it a signal and abort it",
  );
}

function readAborted(link: SocketLink, reason: unknown): SocketError {
  return abortedError("Cannot read from", reason, link.endpoint());
}

function readError(link: SocketLink, error: unknown): Error {
  if (error instanceof SocketError || error instanceof TypeError) return error;
  if (link.closed) return closedError(link, "Cannot read from", error);
  return SocketError.from(link.translate?.(error) ?? error, {
    action: "Cannot read from",
    endpoint: link.endpoint(),
  });
}

/**
 * Settles a read, fulfilled or rejected: one bound function per stream
 * serves both sides of `then`, because an idle server holds thousands of
 * streams and each bound function costs every one of them. Deno fulfils a
 * read with a number or `null` and rejects it with an error object, so the
 * outcome says which it was.
 */
type ReadDone = (outcome: unknown) => number;

function readDone(this: SocketLink, outcome: unknown): number {
  this.reading = false;
  if (typeof outcome === "number" || outcome === null) {
    this.activeAt = idleClock.now;
    return outcome ?? 0;
  }
  throw readError(this, outcome);
}

function checkReadArguments(
  buffer: unknown,
  count: unknown,
  options: unknown,
): void {
  if (!(buffer instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot read: "buffer" must be a Uint8Array, got ${describe(buffer)}`,
    );
  }
  if (
    typeof count !== "number" || !Number.isInteger(count) || count < 0 ||
    count > buffer.length
  ) {
    throw new RangeError(
      `Cannot read: "count" must be an integer from 0 to the buffer length ${buffer.length}, got ${
        describe(count)
      }`,
    );
  }
  if (options !== 0 && options !== 1 && options !== 2 && options !== 3) {
    throw new TypeError(
      `Cannot read: "options" must be InputStreamOptions flags (0 to 3), got ${
        describe(options)
      }`,
    );
  }
}
