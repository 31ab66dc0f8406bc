/**
 * Private helper of `DatagramSocket` (`messagereceived`) and
 * `StreamSocketListener` (`connectionreceived`): listeners kept beside the
 * `EventTarget` registry so that events reach them without `dispatchEvent`,
 * whose event-path bookkeeping costs more per datagram than the rest of
 * delivery (about 3% of UDP echo throughput), and per accepted connection
 * enough garbage to grow V8's heap by several hundred bytes per connection.
 *
 * It also carries what both owners share around it: the body of their
 * typed `addEventListener` / `removeEventListener` (other types go to
 * `EventTarget`, `error` through `ErrorEvents`), the call of each listener
 * with the owner as `this`, and the members their event classes override to
 * answer as during a dispatch.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

import type { ErrorEvents } from "./_error_events.ts";

/** What `addEventListener` accepts as a listener. */
export type Listener =
  | EventListenerOrEventListenerObject
  | ((event: never) => unknown);

/** One registration, as `EventTarget` keeps it. */
export interface DirectListener {
  /** What the caller registered. */
  readonly listener: Listener;
  /** Registered with `EventTarget` in its stead; delivery calls it too. */
  readonly wrapper: (event: Event) => void;
  readonly capture: boolean;
  /** Set once removed, so that a delivery in progress skips it. */
  removed: boolean;
}

/** Calls `listener` with `target` as `this`, as `EventTarget` does. */
export function callListener(
  target: EventTarget,
  listener: Listener,
  event: Event,
): unknown {
  return typeof listener === "function"
    ? (listener as (event: Event) => unknown).call(target, event)
    : listener.handleEvent(event);
}

/** Whether `options` (as `addEventListener` takes them) ask for capture. */
function captureOf(
  options: boolean | EventListenerOptions | undefined,
): boolean {
  return typeof options === "boolean" ? options : !!options?.capture;
}

/**
 * The registrations of one event type on `target`, in order. The list is
 * replaced on every change, never changed in place: a delivery iterates the
 * list it started with, as `EventTarget` does, so listeners added meanwhile
 * wait for the next event.
 */
export class DirectListeners {
  /** The current registrations, in the order they were added. */
  list: readonly DirectListener[] = [];
  #target: EventTarget;
  #type: string;
  #errors: ErrorEvents;
  #promised: (promise: Promise<unknown>, event: Event) => void;
  #threw: (error: unknown, event: Event) => void;

  /**
   * @param target The owner; its `addEventListener` and
   * `removeEventListener` forward here.
   * @param type The event type delivered directly.
   * @param errors The owner's `error` events, for the `error` listeners.
   * @param promised Told of each promise a listener returns.
   * @param threw Told of each error a listener throws.
   */
  constructor(
    target: EventTarget,
    type: string,
    errors: ErrorEvents,
    promised: (promise: Promise<unknown>, event: Event) => void,
    threw: (error: unknown, event: Event) => void,
  ) {
    this.#target = target;
    this.#type = type;
    this.#errors = errors;
    this.#promised = promised;
    this.#threw = threw;
  }

  /** How many listeners are registered. */
  get size(): number {
    return this.list.length;
  }

  /**
   * The owner's `addEventListener`: `type` goes here, others to
   * `EventTarget` (`error` listeners wrapped by `ErrorEvents`).
   *
   * @returns Whether a listener of `type` was added.
   */
  addEventListener(
    type: string,
    listener: Listener | null,
    options: boolean | AddEventListenerOptions | undefined,
  ): boolean {
    if (listener === null) return false;
    if (type === this.#type) return this.add(listener, options);
    EventTarget.prototype.addEventListener.call(
      this.#target,
      type,
      this.#errors.add(type, listener),
      options,
    );
    return false;
  }

  /** The owner's `removeEventListener`, routed as `addEventListener`. */
  removeEventListener(
    type: string,
    listener: Listener | null,
    options: boolean | EventListenerOptions | undefined,
  ): void {
    if (listener === null) return;
    if (type === this.#type) {
      this.remove(listener, options);
      return;
    }
    EventTarget.prototype.removeEventListener.call(
      this.#target,
      type,
      this.#errors.remove(type, listener),
      options,
    );
  }

  /**
   * Registers `listener` as `addEventListener` would.
   *
   * @returns Whether it was added (not a duplicate, not already aborted).
   */
  add(
    listener: Listener,
    options: boolean | AddEventListenerOptions | undefined,
  ): boolean {
    const capture = captureOf(options);
    if (this.#find(listener, capture) !== undefined) return false;
    const once = typeof options === "object" && !!options.once;
    const entry: DirectListener = {
      listener,
      capture,
      removed: false,
      wrapper: (event: Event): void => {
        if (once) this.#forget(entry);
        this.#invoke(listener, event);
      },
    };
    // Also registered with EventTarget, for events dispatched by others; it
    // validates the options, and honours an AbortSignal by calling the
    // owner's removeEventListener with the wrapper.
    EventTarget.prototype.addEventListener.call(
      this.#target,
      this.#type,
      entry.wrapper,
      options,
    );
    if (typeof options === "object" && options.signal?.aborted) return false;
    this.list = [...this.list, entry];
    return true;
  }

  /** Removes `listener` (or its wrapper) as `removeEventListener` would. */
  remove(
    listener: Listener,
    options: boolean | EventListenerOptions | undefined,
  ): void {
    const entry = this.#find(listener, captureOf(options));
    if (entry !== undefined) this.#forget(entry);
  }

  /**
   * Calls the listeners with `event` as `dispatchEvent` would for a target
   * without parents: in order, skipping those removed meanwhile, until one
   * calls `stopImmediatePropagation()`. The caller has recorded the target
   * on the event.
   */
  deliver(event: Event): void {
    const listeners = this.list;
    // Restored afterwards, in case a listener delivers another event itself.
    const outer = delivery.event;
    const outerStopped = delivery.stopped;
    delivery.event = event;
    delivery.stopped = false;
    try {
      for (let i = 0; i < listeners.length; i++) {
        const entry = listeners[i]!;
        if (entry.removed) continue;
        entry.wrapper(event);
        if (delivery.stopped) break;
      }
    } finally {
      delivery.event = outer;
      delivery.stopped = outerStopped;
      // As dispatchEvent leaves it.
      if (event.cancelBubble) event.cancelBubble = false;
    }
  }

  /**
   * Calls `listener` with the owner as `this`, and tells the owner of a
   * promise it returns or an error it throws.
   */
  #invoke(listener: Listener, event: Event): void {
    let result: unknown;
    try {
      result = callListener(this.#target, listener, event);
    } catch (error) {
      this.#threw(error, event);
      return;
    }
    if (result instanceof Promise) this.#promised(result, event);
  }

  /**
   * The registration of `listener` with `capture`; `listener` may also be
   * the wrapper, which is what `EventTarget` passes back when an
   * `AbortSignal` removes it.
   */
  #find(listener: Listener, capture: boolean): DirectListener | undefined {
    return this.list.find((entry) =>
      entry.capture === capture &&
      (entry.listener === listener || entry.wrapper === listener)
    );
  }

  #forget(entry: DirectListener): void {
    if (entry.removed) return;
    entry.removed = true;
    this.list = this.list.filter((other) => other !== entry);
    EventTarget.prototype.removeEventListener.call(
      this.#target,
      this.#type,
      entry.wrapper,
      { capture: entry.capture },
    );
  }
}

/**
 * The event being handed to its listeners by `DirectListeners.deliver`, so that
 * the event classes can answer `currentTarget`, `eventPhase`,
 * `composedPath()` and `stopImmediatePropagation()` as during a dispatch.
 */
export const delivery: { event: Event | undefined; stopped: boolean } = {
  event: undefined,
  stopped: false,
};

/**
 * `stopImmediatePropagation()` for an event being delivered by
 * `DirectListeners.deliver`: keeps the listeners after the current one from
 * running.
 *
 * @returns Whether `event` is being delivered so (else the caller lets
 * `Event` handle it).
 */
export function stopDelivery(event: Event): boolean {
  if (delivery.event !== event) return false;
  delivery.stopped = true;
  event.cancelBubble = true;
  return true;
}

/**
 * `composedPath()` for an event being delivered by `DirectListeners.deliver`
 * on `target`.
 *
 * @returns The path, or `undefined` when `event` is not being delivered so.
 */
export function deliveryPath(
  event: Event,
  target: EventTarget | null,
): EventTarget[] | undefined {
  return delivery.event === event ? [target!] : undefined;
}
