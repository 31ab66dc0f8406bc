/**
 * Timers for durations that callers choose.
 *
 * @module
 */

/**
 * The longest delay a timer keeps. Deno, like browsers and Node, fires a
 * timer of 2^31 ms (24.8 days) or more after 1 ms, with a warning: a
 * caller's `timeout: Infinity`, meant as no deadline, failed at once, and a
 * deadline queue armed that far ahead woke every millisecond to find
 * nothing due.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** `setTimeout`, with a delay over {@linkcode MAX_TIMER_DELAY} kept at that rather than cut to 1 ms. */
export function setTimer(
  callback: () => void,
  ms: number,
): ReturnType<typeof setTimeout> {
  return setTimeout(callback, Math.min(ms, MAX_TIMER_DELAY));
}
