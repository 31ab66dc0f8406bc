/**
 * The one rule for operations cancelled through an `AbortSignal`: which
 * status their error carries, and how a signal argument is checked.
 *
 * @module
 */

import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import type { SocketAddress } from "./socket_connection.ts";
import type { AbortOptions } from "./abort_options.ts";
import { describe, formatEndpoint } from "./_format.ts";

/**
 * The error of an operation whose signal aborted. A deadline is a time-out
 * (UWP's `ConnectionTimedOut`); anything else, UWP's `Cancel()`.
 */
export function abortedError(
  action: string,
  reason: unknown,
  endpoint?: SocketAddress,
): SocketError {
  const timedOut = reason instanceof Error && reason.name === "TimeoutError";
  const where = endpoint === undefined ? "" : ` ${formatEndpoint(endpoint)}`;
  const why = timedOut ? "its deadline passed" : "it was aborted";
  return new SocketError(`${action}${where}: ${why}`, {
    status: timedOut
      ? SocketErrorStatus.ConnectionTimedOut
      : SocketErrorStatus.OperationAborted,
    ...(endpoint === undefined ? {} : { endpoint }),
    cause: reason,
  });
}

/**
 * The signal of an options argument, checked: `undefined` when none is
 * given, so the main path pays nothing.
 */
export function signalOf(
  options: AbortOptions | undefined,
  action: string,
): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${action}: "options" must be an object, got ${describe(options)}`,
    );
  }
  const signal = options.signal;
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new TypeError(
    `${action}: "signal" must be an AbortSignal, got ${describe(signal)}`,
  );
}

/**
 * Settles like `promise`, or rejects with `abortedError` as soon as `signal`
 * aborts; `promise` itself goes on (callers decide what becomes of its
 * result). Costs a promise and a listener, so only signalled calls use it.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  error: (reason: unknown) => Error,
): Promise<T> {
  if (signal.aborted) return Promise.reject(error(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(error(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (failure) => {
        signal.removeEventListener("abort", onAbort);
        reject(failure);
      },
    );
  });
}
