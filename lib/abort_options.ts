/**
 * The options argument every waiting operation takes last.
 *
 * @module
 */

/**
 * Cancels a waiting operation (UWP's `IAsyncOperation.Cancel()`), or gives
 * it a deadline with `AbortSignal.timeout(ms)`. Every operation that waits
 * on the network takes it as its last argument: reads, loads, line reads,
 * writes, flushes, the TLS upgrade and the datagram operations.
 *
 * An aborted operation rejects with a `SocketError` whose status is
 * `ConnectionTimedOut` when the signal's reason is a `TimeoutError` (as from
 * `AbortSignal.timeout(ms)`) and `OperationAborted` otherwise, with the
 * reason as `cause`. It loses nothing: an aborted read leaves every byte for
 * the next read, an aborted write that had not started is taken out of the
 * queue.
 *
 * @example Give a read a deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader, SocketError, SocketErrorStatus, StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("connectionreceived", () => {}); // accepts, says nothing
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * const lines = new LineReader(client.inputStream);
 * await assert.rejects(lines.readLine({ signal: AbortSignal.timeout(20) }), (error) =>
 *   SocketError.getStatus(error) === SocketErrorStatus.ConnectionTimedOut);
 * ```
 */
export interface AbortOptions {
  /**
   * Aborts the operation; see {@linkcode AbortOptions}.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}
