/**
 * Private helper of the last-resort error report (`_error_events.ts`): at
 * most a few lines per second reach stderr, whatever drives them, and the
 * next line that gets through says how many were left out. No timer: the
 * count waits for the next line (or for `flush()`).
 *
 * @module
 */

/** Lines let through per window. */
export const LINES_PER_WINDOW = 5;
/** The window, in ms. */
export const WINDOW = 1_000;

/** Rate-limits lines to one sink. */
export class LogLimiter {
  #sink: (...data: unknown[]) => void;
  #now: () => number;
  #windowStart = -Infinity;
  #inWindow = 0;
  #suppressed = 0;

  constructor(
    sink: (...data: unknown[]) => void,
    now: () => number = Date.now,
  ) {
    this.#sink = sink;
    this.#now = now;
  }

  /** How many lines were left out since the last one let through. */
  get suppressed(): number {
    return this.#suppressed;
  }

  /**
   * Writes `data` unless the window's quota is used up.
   *
   * @returns Whether it was written.
   */
  write(...data: unknown[]): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= WINDOW) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= LINES_PER_WINDOW) {
      this.#suppressed++;
      return false;
    }
    this.#inWindow++;
    this.flush();
    this.#sink(...data);
    return true;
  }

  /** Writes the count of lines left out, if any. */
  flush(): void {
    if (this.#suppressed === 0) return;
    const n = this.#suppressed;
    this.#suppressed = 0;
    this.#sink(
      `(${n} similar ${
        n === 1 ? "report" : "reports"
      } suppressed: at most ${LINES_PER_WINDOW} per second reach stderr)`,
    );
  }
}
