/**
 * Private helper of the listeners' acceptors: what to do when accepting
 * fails. Go's `net/http` schedule: wait 5 ms after a failure, doubling up to
 * 1 s, back to nothing after a success. One implementation for every
 * listener kind (`Deno.listen`, `Deno.listenTls`, and the TCP listener under
 * `node:tls`).
 *
 * Measured on Deno 2.9 under `prlimit --nofile=64`: `accept()` rejects with
 * a plain `Error` whose `code` is `"EMFILE"` ("Too many open files (os error
 * 24)"), at once and for as long as descriptors lack; retrying without a
 * pause spins a core and floods the log. Whatever the error, the acceptor
 * waits and retries rather than ending: only closing the listener ends it
 * (a server must not stop serving by itself, and an error Deno reports
 * once may not repeat).
 *
 * A client that resets its connection while it waits in the backlog is not
 * a failure of the listener: Deno's `accept()` rejects with `NotConnected`
 * (its `getpeername` fails, measured on Deno 2.9.6), and has taken that
 * connection off the backlog. The acceptor retries at once, unreported, as
 * libuv and Go's poller do for `ECONNABORTED`; backing off there let twenty
 * such clients keep every other one waiting 13 s.
 *
 * @module
 */

/** The first pause after a failure, in ms (Go: 5 ms). */
export const FIRST_BACKOFF = 5;
/** The longest pause, in ms (Go: 1 s). */
export const MAX_BACKOFF = 1_000;

/** A failure worth reporting: the error, the pause before the retry, and how many failures went unreported since the last report. */
export interface AcceptFailure {
  error: unknown;
  retryIn: number;
  suppressed: number;
}

/**
 * The back-off state of one acceptor. Failures are reported once per
 * back-off period: the first of a run of failures, then at most one per
 * `MAX_BACKOFF`, carrying the count of those left out.
 */
export class AcceptBackoff {
  #delay = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #cancelled = false;
  #reportedAt = -Infinity;
  #suppressed = 0;
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The current pause (0 after a success). */
  get delay(): number {
    return this.#delay;
  }

  /** Accepting worked: the next failure starts again from `FIRST_BACKOFF`. */
  succeeded(): void {
    this.#delay = 0;
  }

  /**
   * Records a failure and doubles the pause.
   *
   * @returns The failure to report, or `undefined` to stay quiet.
   */
  failed(error: unknown): AcceptFailure | undefined {
    this.#delay = this.#delay === 0
      ? FIRST_BACKOFF
      : Math.min(this.#delay * 2, MAX_BACKOFF);
    const now = this.#now();
    if (now - this.#reportedAt < MAX_BACKOFF) {
      this.#suppressed++;
      return undefined;
    }
    const suppressed = this.#suppressed;
    this.#reportedAt = now;
    this.#suppressed = 0;
    return { error, retryIn: this.#delay, suppressed };
  }

  /**
   * Waits for the current pause; `cancel()` ends the wait at once, so that
   * closing a listener never waits for (nor leaks) the timer.
   */
  sleep(): Promise<void> {
    if (this.#cancelled) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(this.#woken, this.#delay);
    });
  }

  /** Ends a pause in progress, and every later one. */
  cancel(): void {
    this.#cancelled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#woken();
  }

  #woken = (): void => {
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };
}

/**
 * Whether accepting failed only for one client that already left, so that
 * the next accept may follow at once.
 */
function clientLeft(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

/**
 * What to do after accepting failed with `error`: rethrows it if `closed()`
 * says the listener was closed, returns at once if only a client that left
 * failed (`clientLeft`), else reports the failure if it is worth reporting
 * and waits for the pause (rethrowing if closed meanwhile).
 */
export async function pauseAfter(
  error: unknown,
  backoff: AcceptBackoff,
  closed: () => boolean,
  report: (failure: AcceptFailure) => void,
): Promise<void> {
  if (closed()) throw error;
  if (clientLeft(error)) return;
  const failure = backoff.failed(error);
  if (failure !== undefined) report(failure);
  await backoff.sleep();
  if (closed()) throw error;
}

/**
 * Accepts with `accept`, pausing after each failure as `backoff` says, until
 * a connection comes or `closed()` says the listener was closed (then the
 * last error is thrown). `report` hears the failures worth reporting.
 */
export async function acceptWithBackoff<C>(
  accept: () => Promise<C>,
  backoff: AcceptBackoff,
  closed: () => boolean,
  report: (failure: AcceptFailure) => void,
): Promise<C> {
  // Bounded by closed(): each failure pauses, and closing ends it.
  while (true) {
    try {
      const conn = await accept();
      backoff.succeeded();
      return conn;
    } catch (error) {
      await pauseAfter(error, backoff, closed, report);
    }
  }
}
