/**
 * Private helper of `DatagramSocket` (`messagereceived`) and
 * `StreamSocketListener` (`connectionreceived`): listeners kept beside the
 * `EventTarget` registry so that events reach them without `dispatchEvent`,
 * whose event-path bookkeeping costs more per datagram than the rest of
 * delivery (about 3% of UDP echo throughput), and per accepted connection
 * enough garbage to grow V8's heap by several hundred bytes per connection.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

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

/** Whether `options` (as `addEventListener` takes them) ask for capture. */
export function captureOf(
  options: boolean | EventListenerOptions | undefined,
): boolean {
  return typeof options === "boolean" ? options : !!options?.capture;
}

/**
 * The registrations of one event type, in order. The list is replaced on
 * every change, never changed in place: a delivery iterates the list it
 * started with, as `EventTarget` does, so listeners added meanwhile wait for
 * the next event.
 */
export class DirectListeners {
  /** The current registrations, in the order they were added. */
  list: readonly DirectListener[] = [];

  /**
   * The registration of `listener` with `capture`; `listener` may also be
   * the wrapper, which is what `EventTarget` passes back when an
   * `AbortSignal` removes it.
   */
  find(listener: Listener, capture: boolean): DirectListener | undefined {
    return this.list.find((entry) =>
      entry.capture === capture &&
      (entry.listener === listener || entry.wrapper === listener)
    );
  }

  /** Adds a registration at the end. */
  add(entry: DirectListener): void {
    this.list = [...this.list, entry];
  }

  /** Removes a registration; false if it was already removed. */
  delete(entry: DirectListener): boolean {
    if (entry.removed) return false;
    entry.removed = true;
    this.list = this.list.filter((other) => other !== entry);
    return true;
  }
}

/**
 * The event being handed to its listeners by {@linkcode deliver}, so that
 * the event classes can answer `currentTarget`, `eventPhase`,
 * `composedPath()` and `stopImmediatePropagation()` as during a dispatch.
 */
export const delivery: { event: Event | undefined; stopped: boolean } = {
  event: undefined,
  stopped: false,
};

/**
 * Calls `listeners` with `event` as `dispatchEvent` would for a target
 * without parents: in order, skipping those removed meanwhile, until one
 * calls `stopImmediatePropagation()`. The caller has recorded the target on
 * the event.
 */
export function deliver(
  listeners: readonly DirectListener[],
  event: Event,
): void {
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
