/**
 * Private helper of `StreamSocketListener` and `DatagramSocket`: handlers of
 * one event type that may be async, whose failures are reported, never lost.
 *
 * @module
 */

import { SocketErrorEvent } from "./socket_error_event.ts";

type Listener =
  | EventListenerOrEventListenerObject
  | ((event: never) => unknown);

/** What the owner does around its handlers. */
export interface AsyncHandlersOptions<E extends Event> {
  /**
   * A handler threw or its promise rejected. `subject` is what `subject()`
   * picked from the event (the event itself by default).
   */
  failed(error: unknown, subject: unknown): void;
  /**
   * Picks what `failed` needs from the event, so that a pending async handler
   * keeps only that alive, not the event (an `Event` is about 220 bytes, and a
   * listener may have thousands of handlers waiting).
   */
  subject?(event: E): unknown;
  /** An async handler started; `settled` follows when its promise settles. */
  started?(): void;
  /** An async handler's promise settled. */
  settled?(): void;
}

/**
 * Wraps the handlers of `type` on `target` so that a throw or a rejection
 * goes to `options.failed` instead of becoming an uncaught error, and counts
 * handlers so the owner knows whether anyone listens.
 */
export class AsyncHandlers<E extends Event> {
  #target: EventTarget;
  #type: string;
  #options: AsyncHandlersOptions<E>;
  #wrappers = new WeakMap<object, (event: Event) => void>();
  #errorWrappers = new WeakMap<object, (event: Event) => void>();
  #count = 0;
  /**
   * How many `error` events reached a listener. Counting deliveries rather
   * than registrations stays right when `EventTarget` drops a `once`
   * listener or ignores a duplicate without telling us.
   */
  #heard = 0;

  constructor(
    target: EventTarget,
    type: string,
    options: AsyncHandlersOptions<E>,
  ) {
    this.#target = target;
    this.#type = type;
    this.#options = options;
  }

  /** How many handlers of the wrapped type are registered. */
  get count(): number {
    return this.#count;
  }

  /** The listener to hand to `EventTarget.addEventListener` for `listener`. */
  add(type: string, listener: Listener): EventListenerOrEventListenerObject {
    if (type === "error") return this.#errorWrapper(listener);
    if (type !== this.#type) {
      return listener as EventListenerOrEventListenerObject;
    }
    let wrapper = this.#wrappers.get(listener);
    if (wrapper === undefined) {
      wrapper = (event: Event): void => this.#invoke(listener, event as E);
      this.#wrappers.set(listener, wrapper);
    }
    this.#count++;
    return wrapper;
  }

  /** The listener to hand to `EventTarget.removeEventListener` for `listener`. */
  remove(type: string, listener: Listener): EventListenerOrEventListenerObject {
    if (type === "error") {
      return this.#errorWrappers.get(listener) ??
        listener as EventListenerOrEventListenerObject;
    }
    const wrapper = type === this.#type
      ? this.#wrappers.get(listener)
      : undefined;
    if (wrapper === undefined) {
      return listener as EventListenerOrEventListenerObject;
    }
    this.#count = Math.max(0, this.#count - 1);
    return wrapper;
  }

  /**
   * Raises an `error` event; with no `error` handler, writes the error to
   * stderr, so it is never silently lost. Not `reportError`: in Deno an
   * uncaught error ends the process, and one bad client must not stop a
   * server.
   */
  report(error: unknown): void {
    if (this.tell(error)) return;
    // Deno.serve's default onError does the same for a failing handler.
    // deno-lint-ignore no-console
    console.error(
      `${this.#target.constructor.name}: unhandled error (it keeps running; listen to "error" events to handle errors yourself):`,
      error,
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
        if (typeof listener === "function") {
          (listener as (event: Event) => unknown).call(target, event);
        } else {
          listener.handleEvent(event);
        }
      };
      this.#errorWrappers.set(listener, wrapper);
    }
    return wrapper;
  }

  #invoke(listener: Listener, event: E): void {
    const options = this.#options;
    const subject = options.subject === undefined
      ? event
      : options.subject(event);
    try {
      const result = typeof listener === "function"
        ? (listener as (event: E) => unknown).call(this.#target, event)
        : listener.handleEvent(event);
      if (result instanceof Promise) watch(result, subject, options);
    } catch (error) {
      options.failed(error, subject);
    }
  }
}

/** Outside `#invoke`, so that its callbacks cannot capture the event. */
function watch<E extends Event>(
  result: Promise<unknown>,
  subject: unknown,
  options: AsyncHandlersOptions<E>,
): void {
  options.started?.();
  const settled = options.settled;
  result.then(
    settled === undefined ? undefined : () => settled.call(options),
    (error) => {
      options.settled?.();
      options.failed(error, subject);
    },
  );
}
