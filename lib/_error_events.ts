/**
 * Private helper of `StreamSocketListener` and `DatagramSocket`: their
 * `error` events, raised so that a failure is never lost, with the
 * knowledge of whether anyone heard them.
 *
 * @module
 */

import { SocketErrorEvent } from "./socket_error_event.ts";
import { SocketError } from "./socket_error.ts";
import { LogLimiter } from "./_log_limiter.ts";
import { callListener, type Listener } from "./_direct_listeners.ts";

/** The one place library code writes to the console. */
// deno-lint-ignore no-console
const toStderr = (...data: unknown[]): void => console.error(...data);

/**
 * Wraps `error` listeners on `target` to count the events they hear, and
 * raises `error` events.
 */
export class ErrorEvents {
  #target: EventTarget;
  #errorWrappers = new WeakMap<object, (event: Event) => void>();
  /**
   * How many `error` events reached a listener. Counting deliveries rather
   * than registrations stays right when `EventTarget` drops a `once`
   * listener or ignores a duplicate without telling us.
   */
  #heard = 0;
  /** Rate-limits this target's last-resort reports (made on first use). */
  #fallback: LogLimiter | undefined;

  constructor(target: EventTarget) {
    this.#target = target;
  }

  /** The listener to hand to `EventTarget.addEventListener` for `listener`. */
  add(type: string, listener: Listener): EventListenerOrEventListenerObject {
    if (type === "error") return this.#errorWrapper(listener);
    return listener as EventListenerOrEventListenerObject;
  }

  /** The listener to hand to `EventTarget.removeEventListener` for `listener`. */
  remove(type: string, listener: Listener): EventListenerOrEventListenerObject {
    return (type === "error" ? this.#errorWrappers.get(listener) : undefined) ??
      listener as EventListenerOrEventListenerObject;
  }

  /**
   * Raises an `error` event; with no `error` handler, writes the error to
   * stderr, so it is never silently lost. Not `reportError`: in Deno an
   * uncaught error ends the process, and one bad client must not stop a
   * server.
   */
  report(error: unknown): void {
    if (this.tell(error)) return;
    // Deno.serve's default onError does the same for a failing handler, but
    // rate-limited here so that clients cannot drive the log, and without a
    // stack trace for network failures (a reset, a refused handshake, a
    // failed accept): the stack says nothing about the program then. A
    // handler's own bug keeps its stack.
    const what = error instanceof SocketError ? error.message : error;
    this.#fallback ??= new LogLimiter(toStderr);
    this.#fallback.write(
      `${this.#target.constructor.name}: unhandled error (it keeps running; listen to "error" events to handle errors yourself):`,
      what,
    );
  }

  /**
   * Raises an `error` event, and nothing more when nobody listens: for
   * failures that are the peer's doing, not the program's.
   *
   * @returns Whether a listener heard it.
   */
  tell(error: unknown): boolean {
    const before = this.#heard;
    this.#target.dispatchEvent(new SocketErrorEvent(error));
    return this.#heard !== before;
  }

  #errorWrapper(listener: Listener): (event: Event) => void {
    let wrapper = this.#errorWrappers.get(listener);
    if (wrapper === undefined) {
      const target = this.#target;
      wrapper = (event: Event): void => {
        this.#heard++;
        callListener(target, listener, event);
      };
      this.#errorWrappers.set(listener, wrapper);
    }
    return wrapper;
  }
}
