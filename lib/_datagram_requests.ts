/**
 * Private helper of `DatagramSocket.requestAsync`: send a request, wait for
 * the datagram that answers it, send again after each time-out. The socket
 * keeps the list of waiting requests and offers each received datagram to
 * it before its `messagereceived` listeners.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import type { SocketAddress } from "./socket_connection.ts";
import { abortedError } from "./_abort.ts";
import { describe, formatEndpoint } from "./_format.ts";
import type { DatagramOutputStream } from "./_datagram_output_stream.ts";
import { setTimer } from "./_timer.ts";

/** The default of `DatagramRequestOptions.timeout`, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT = 1_000;
/** The default of `DatagramRequestOptions.retries`. */
export const DEFAULT_REQUEST_RETRIES = 2;

const noop = (): void => {};

/** A request waiting for its response. */
export interface Waiter<E> {
  match: (event: E) => boolean;
  resolve: (event: E) => void;
  reject: (error: unknown) => void;
}

/**
 * Checks `requestAsync`'s time-out and retries.
 *
 * @throws {RangeError} Naming the first one out of range.
 */
export function checkRequestOptions(timeout: number, retries: number): void {
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new RangeError(
      `Cannot send a request: "timeout" must be a non-negative number of milliseconds, got ${
        describe(timeout)
      }`,
    );
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(
      `Cannot send a request: "retries" must be a non-negative integer, got ${
        describe(retries)
      }`,
    );
  }
}

/**
 * Hands `event` to the first waiting request it answers, and forgets that
 * request.
 *
 * @returns Whether a request took it.
 */
export function answerWaiter<E>(waiters: Waiter<E>[], event: E): boolean {
  const index = waiters.findIndex((waiter) => waiter.match(event));
  if (index < 0) return false;
  const [waiter] = waiters.splice(index, 1);
  waiter!.resolve(event);
  return true;
}

/** Rejects every waiting request with `error()` and forgets them all. */
export function rejectWaiters<E>(
  waiters: Waiter<E>[],
  error: () => unknown,
): void {
  for (const waiter of waiters.splice(0)) waiter.reject(error());
}

/**
 * One send and wait; `undefined` when the time-out passed.
 *
 * @param waiters The socket's waiting requests; this one joins them until
 * it settles.
 */
export async function sendAndWait<E>(
  waiters: Waiter<E>[],
  output: DatagramOutputStream,
  bytes: Uint8Array,
  match: (event: E) => boolean,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<E | undefined> {
  const response = Promise.withResolvers<E | undefined>();
  const waiter: Waiter<E> = {
    match,
    resolve: response.resolve,
    reject: response.reject,
  };
  const abort = (): void =>
    response.reject(
      abortedError(
        "Cannot complete the request to",
        signal?.reason,
        output.peer,
      ),
    );
  if (signal?.aborted) abort();
  signal?.addEventListener("abort", abort);
  waiters.push(waiter);
  const timer = setTimer(() => response.resolve(undefined), timeout);
  try {
    await Promise.all([output.writeAsync(bytes), response.promise]);
    return await response.promise;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", abort);
    const index = waiters.indexOf(waiter);
    if (index >= 0) waiters.splice(index, 1);
    response.promise.catch(noop);
  }
}

/** The `ConnectionTimedOut` error of a request that `attempts` left unanswered. */
export function noResponseError(
  peer: SocketAddress,
  attempts: number,
  timeout: number,
): SocketError {
  return new SocketError(
    `No response from ${formatEndpoint(peer)}: ${attempts} ${
      attempts === 1 ? "attempt" : "attempts"
    } of ${timeout} ms each timed out`,
    {
      status: SocketErrorStatus.ConnectionTimedOut,
      endpoint: { hostname: peer.hostname, port: peer.port },
    },
  );
}
