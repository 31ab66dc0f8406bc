/**
 * Shared pieces of the comparison scripts in `bench/`: medians, tables, and
 * running a script of this folder as a child with a time limit.
 *
 * @module
 */

import { hasCommand, run, spawnFirstLine, within } from "../tests/_helpers.ts";

// The subprocess and deadline helpers are the tests' own: one implementation.
export { hasCommand, spawnFirstLine as spawnChild, within };

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Formats rows as a left-aligned text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "))
    .join("\n")
    .trimEnd();
}

/** Parses a positive integer flag value, or throws naming the flag. */
export function positive(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `"--${name}" must be a positive integer, got ${value}`,
    );
  }
  return n;
}

/** Runs `command` to completion (killed after `ms`) and returns its stdout; throws on a non-zero exit. */
export async function runChild(
  command: string,
  args: string[],
  ms = 60_000,
): Promise<string> {
  const output = await run(command, args, ms);
  if (output.code !== 0) {
    throw new Error(
      `${command} ${
        args.join(" ")
      } exited with ${output.code}: ${output.stderr}`,
    );
  }
  return output.stdout;
}

/** Writes all of `bytes` to a raw connection. */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  let offset = await conn.write(bytes);
  while (offset < bytes.length) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** `a / b` with two decimals and an `x`. */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}
