/**
 * The input stream of a {@linkcode StreamSocket}.
 *
 * @module
 */

import { type InputStream, InputStreamOptions } from "./input_stream.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import type { SocketLink } from "./_socket_link.ts";
import { describe, formatEndpoint } from "./_format.ts";

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
  // Bound, not an arrow: an arrow field costs a closure and a context per
  // socket, twice the memory, and idle servers hold thousands of sockets.
  #rethrow: (error: unknown) => never;
  #readable: ReadableStream<Uint8Array> | undefined;

  /**
   * Sockets create their input stream themselves.
   *
   * @ignore
   */
  constructor(link: SocketLink) {
    this.#link = link;
    this.#rethrow = rethrowReadError.bind(link);
  }

  /**
   * Reads up to `count` bytes into `buffer`, starting at index 0.
   *
   * With `InputStreamOptions.None` (the default) it waits until `count` bytes
   * arrived or the peer ended the stream; with `Partial` or `ReadAhead` it
   * completes as soon as some bytes arrived.
   *
   * @param buffer Where the bytes go.
   * @param count How many bytes to read at most (default `buffer.length`).
   * @param options When to complete (default `InputStreamOptions.None`).
   * @returns The number of bytes read: fewer than `count` only at the end of
   * the stream (or with `Partial`), and 0 only at the end of the stream.
   * @throws {TypeError} If `buffer` is not a `Uint8Array` or `options` is unknown.
   * @throws {RangeError} If `count` is not an integer from 0 to `buffer.length`.
   * @throws {SocketError} If the connection failed or the socket was closed.
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
   */
  readAsync(
    buffer: Uint8Array,
    count: number = buffer?.length,
    options: InputStreamOptions = InputStreamOptions.None,
  ): Promise<number> {
    try {
      checkReadArguments(buffer, count, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (count === 0) return Promise.resolve(0);
    const target = count === buffer.length ? buffer : buffer.subarray(0, count);
    // One promise per pending read, no async frames: idle connections sit here.
    if (options !== InputStreamOptions.None) {
      return read(this.#link, target, this.#rethrow);
    }
    return readFully(this.#link, target, this.#rethrow);
  }

  /**
   * The same bytes as a Web `ReadableStream` (a byte stream: BYOB readers
   * read straight into their own buffers), for `pipeTo` and `pipeThrough`.
   *
   * Use either `readable` or `readAsync`, not both at once. Cancelling the
   * stream leaves the socket open.
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
    this.#readable ??= new ReadableStream({
      type: "bytes",
      autoAllocateChunkSize: READABLE_CHUNK_SIZE,
      pull: async (controller): Promise<void> => {
        // autoAllocateChunkSize guarantees a BYOB request on every pull.
        const request = controller.byobRequest!;
        const view = request.view as Uint8Array;
        const n = await read(this.#link, view, this.#rethrow);
        if (n === 0) {
          controller.close();
          request.respond(0);
          return;
        }
        request.respond(n);
      },
    });
    return this.#readable;
  }
}

// Module functions, not private methods: private methods add a brand slot
// to every stream, and idle servers hold thousands.

async function readFully(
  link: SocketLink,
  target: Uint8Array,
  rethrow: (error: unknown) => never,
): Promise<number> {
  let total = 0;
  while (total < target.length) {
    const n = await read(
      link,
      total === 0 ? target : target.subarray(total),
      rethrow,
    );
    if (n === 0) break;
    total += n;
  }
  return total;
}

function read(
  link: SocketLink,
  target: Uint8Array,
  rethrow: (error: unknown) => never,
): Promise<number> {
  if (link.upgrading) {
    return Promise.reject(
      new TypeError(
        "Cannot read: the connection is being upgraded to TLS; read once upgradeToSslAsync() has resolved",
      ),
    );
  }
  let pending: Promise<number | null>;
  try {
    pending = link.connection!.read(target);
  } catch (error) {
    return Promise.reject(readError(link, error));
  }
  link.lastRead = pending;
  return pending.then(orZero, rethrow);
}

function readError(link: SocketLink, error: unknown): Error {
  const endpoint = link.endpoint();
  if (link.closed) {
    return new SocketError(
      `Cannot read from ${formatEndpoint(endpoint)}: the socket was closed`,
      { status: SocketErrorStatus.OperationAborted, endpoint, cause: error },
    );
  }
  return SocketError.from(link.translate?.(error) ?? error, {
    action: "Cannot read from",
    endpoint,
  });
}

function rethrowReadError(this: SocketLink, error: unknown): never {
  throw readError(this, error);
}

function orZero(n: number | null): number {
  return n ?? 0;
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
        String(count)
      }`,
    );
  }
  if (options !== 0 && options !== 1 && options !== 2) {
    throw new TypeError(
      `Cannot read: "options" must be an InputStreamOptions value (0, 1 or 2), got ${
        String(options)
      }`,
    );
  }
}
