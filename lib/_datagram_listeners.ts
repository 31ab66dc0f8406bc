/**
 * Private helper of `DatagramSocket`: its `messagereceived` listeners, kept
 * beside the `EventTarget` registry so that received datagrams reach them
 * without `dispatchEvent`, whose event-path bookkeeping costs more per
 * datagram than the rest of delivery (about 3% of UDP echo throughput).
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
export interface MessageListener {
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
export class MessageListeners {
  /** The current registrations, in the order they were added. */
  list: readonly MessageListener[] = [];

  /**
   * The registration of `listener` with `capture`; `listener` may also be
   * the wrapper, which is what `EventTarget` passes back when an
   * `AbortSignal` removes it.
   */
  find(listener: Listener, capture: boolean): MessageListener | undefined {
    return this.list.find((entry) =>
      entry.capture === capture &&
      (entry.listener === listener || entry.wrapper === listener)
    );
  }

  /** Adds a registration at the end. */
  add(entry: MessageListener): void {
    this.list = [...this.list, entry];
  }

  /** Removes a registration; false if it was already removed. */
  delete(entry: MessageListener): boolean {
    if (entry.removed) return false;
    entry.removed = true;
    this.list = this.list.filter((other) => other !== entry);
    return true;
  }
}
