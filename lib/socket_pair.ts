/**
 * Two connected stream sockets in memory, for tests that need no network.
 *
 * @module
 */

import { StreamSocket } from "./stream_socket.ts";
import { MemoryConnection, MemoryPipe } from "./_memory_connection.ts";
import { describe } from "./_format.ts";

/** Options of a {@linkcode SocketPair}. */
export interface SocketPairOptions {
  /**
   * Bytes each direction holds before a write waits for the other end to
   * read. 0 makes a rendezvous pipe: every write waits for a read, which
   * exposes code that deadlocks by writing before it reads.
   *
   * @default {65536}
   */
  capacity?: number;
}

const CLIENT_ADDRESS = Object.freeze({ hostname: "memory", port: 1 });
const SERVER_ADDRESS = Object.freeze({ hostname: "memory", port: 2 });

/**
 * Two {@linkcode StreamSocket}s connected to each other in memory: no
 * ports, no permissions, no timers. What one writes the other reads, through
 * a bounded buffer each way; `closeWrite` or `close` on one end gives the
 * other an end of stream, and {@linkcode SocketPair.prototype.abort} fails
 * both, as a connection reset does (`ConnectionResetByPeer`). They work with
 * everything built on sockets: `DataReader`, `DataWriter`, `LineReader`,
 * the batching output stream.
 *
 * Their addresses are `memory:1` (client) and `memory:2` (server).
 *
 * Concurrency: as for sockets, one read and one write may be pending on
 * each end at a time; the socket streams queue theirs.
 *
 * @example A line round trip without a network
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader } from "@seed/sockets";
 * import { SocketPair } from "@seed/sockets/testing";
 *
 * await using pair = new SocketPair();
 * await pair.client.outputStream.writeAsync(new TextEncoder().encode("ping\n"));
 * assert.equal(await new LineReader(pair.server.inputStream).readLine(), "ping");
 * ```
 */
export class SocketPair implements AsyncDisposable {
  /** The end that plays the client. */
  readonly client: StreamSocket;
  /** The end that plays the server. */
  readonly server: StreamSocket;
  readonly #pipes: readonly MemoryPipe[];

  /**
   * Connects two sockets.
   *
   * @param options The buffer size of each direction.
   * @throws {RangeError} If `capacity` is not a non-negative integer.
   *
   * @example A rendezvous pipe: a write completes only when read
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketPair } from "@seed/sockets/testing";
   *
   * await using pair = new SocketPair({ capacity: 0 });
   * const written = pair.client.outputStream.writeAsync(new Uint8Array([1, 2, 3]));
   * const buffer = new Uint8Array(3);
   * assert.equal(await pair.server.inputStream.readAsync(buffer), 3);
   * await written;
   * ```
   */
  constructor(options: SocketPairOptions = {}) {
    const capacity = options.capacity ?? 64 * 1024;
    if (
      typeof capacity !== "number" || !Number.isSafeInteger(capacity) ||
      capacity < 0
    ) {
      throw new RangeError(
        `Cannot create the socket pair: "capacity" must be a non-negative integer, got ${
          describe(capacity)
        }`,
      );
    }
    const toServer = new MemoryPipe(capacity);
    const toClient = new MemoryPipe(capacity);
    this.#pipes = [toServer, toClient];
    this.client = StreamSocket.fromConnection(
      new MemoryConnection(toClient, toServer, CLIENT_ADDRESS, SERVER_ADDRESS),
    );
    this.server = StreamSocket.fromConnection(
      new MemoryConnection(toServer, toClient, SERVER_ADDRESS, CLIENT_ADDRESS),
    );
  }

  /**
   * Breaks the connection as a reset does: pending and later reads and
   * writes on both ends reject, with `ConnectionResetByPeer` by default, or
   * with the status `error` maps to (a `Deno.errors.TimedOut` gives
   * `TimedOut`, ...). Buffered bytes are lost.
   *
   * @param error What both ends see.
   *
   * @example The peer sees a reset
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus } from "@seed/sockets";
   * import { SocketPair } from "@seed/sockets/testing";
   *
   * await using pair = new SocketPair();
   * const read = pair.server.inputStream.readAsync(new Uint8Array(1));
   * pair.abort();
   * await assert.rejects(read, (error) =>
   *   SocketError.getStatus(error) === SocketErrorStatus.ConnectionResetByPeer);
   * ```
   */
  abort(
    error: Error = new Deno.errors.ConnectionReset(
      "Connection reset by peer",
    ),
  ): void {
    for (const pipe of this.#pipes) pipe.fail(error);
  }

  /**
   * Closes both ends at once (unsent bytes are dropped).
   *
   * @returns Resolves once closed.
   *
   * @example Dispose with `await using`
   * ```ts
   * import { SocketPair } from "@seed/sockets/testing";
   *
   * {
   *   await using pair = new SocketPair();
   * } // both ends closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    // Not the sockets' own graceful dispose: with a full or rendezvous pipe
    // that nobody reads, its flush would wait for its 10 s limit.
    this.client.close();
    this.server.close();
    return Promise.resolve();
  }
}
