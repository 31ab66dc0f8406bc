/**
 * The `error` event of listeners and datagram sockets.
 *
 * @module
 */

/**
 * The event raised when an event handler (`connectionreceived`,
 * `messagereceived`) throws or rejects, or accepting or receiving fails. The
 * listener or socket keeps serving.
 *
 * @example Log handler failures
 * ```ts
 * import { StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("error", (event) => {
 *   console.error("connection failed:", event.error);
 * });
 * ```
 */
export class SocketErrorEvent extends Event {
  /** What was thrown. */
  readonly error: unknown;

  /**
   * Creates the event.
   *
   * @param error What was thrown.
   */
  constructor(error: unknown) {
    super("error");
    this.error = error;
  }
}
