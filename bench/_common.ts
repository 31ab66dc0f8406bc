// deno-lint-ignore-file no-console
/**
 * Shared pieces of the comparison scripts in `bench/`: medians, tables,
 * running a script of this folder as a child with a time limit, the
 * `--smoke` size and the goal lines.
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

/**
 * Ends this process once its parent is gone: for the servers a benchmark
 * starts as children, which otherwise serve forever when the benchmark is
 * killed (`bench/run_all.ts` kills a script that overruns its time limit,
 * and a kill reaches the script, not its children). Checks once a second,
 * on a timer that keeps nothing alive.
 */
export function exitWithParent(): void {
  const parent = Deno.ppid;
  const timer = setInterval(() => {
    if (Deno.ppid !== parent) Deno.exit(0);
  }, 1_000);
  Deno.unrefTimer(timer);
}

/**
 * Whether this run is the smoke run (`--smoke`, what `.ci/run` runs through
 * `bench/run_all.ts --smoke`): every script once at a tiny size, to prove it
 * still runs. Such a run measures nothing worth reading and judges no goal.
 */
export const SMOKE: boolean = Deno.args.includes("--smoke");

/** `full`, or `tiny` in the smoke run: the default of a size flag. */
export function size(full: string, tiny: string): string {
  return SMOKE ? tiny : full;
}

/**
 * Goal lines, judged only at the sizes the goals are defined for. Below
 * them (the smoke run, or a quick run with smaller flags) a ratio is noise
 * as often as not, so the measure is printed without a verdict, and one
 * note at the end says where the goals apply.
 */
export class Goals {
  readonly #judged: boolean;
  readonly #definedFor: string;

  /**
   * @param judged Whether this run's sizes are those the goals are defined for.
   * @param definedFor Those sizes, as flags (for example `--mib 256 --rounds 5`).
   */
  constructor(judged: boolean, definedFor: string) {
    this.#judged = judged;
    this.#definedFor = definedFor;
  }

  /**
   * Prints `goal <goal>: <value> (met)` (or `NOT MET`) when judged,
   * otherwise `<measure>: <value>`.
   */
  check(goal: string, measure: string, value: string, met: boolean): void {
    console.log(
      this.#judged
        ? `goal ${goal}: ${value} (${met ? "met" : "NOT MET"})`
        : `${measure}: ${value}`,
    );
  }

  /** Prints where the goals apply, when this run judged none. */
  end(): void {
    if (this.#judged) return;
    console.log(
      `goals not judged at this size: they are defined for ${this.#definedFor} or more`,
    );
  }
}

/**
 * Times each measure for each variant, `rounds` times, alternating which
 * variant goes first (so neither always runs on a warmer machine), each run
 * bounded by `limitMs`; returns the median milliseconds by measure, then by
 * variant.
 */
export async function alternatingMedians<V extends string>(
  measures: Record<string, (variant: V) => Promise<unknown>>,
  variants: readonly V[],
  rounds: number,
  limitMs: number,
): Promise<Map<string, Map<V, number>>> {
  const times = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [measure, run] of Object.entries(measures)) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const key = `${measure}|${variant}`;
        const start = performance.now();
        await within(run(variant), limitMs, key);
        times.set(key, [...(times.get(key) ?? []), performance.now() - start]);
      }
    }
  }
  return new Map(
    Object.keys(measures).map((measure) => [
      measure,
      new Map(
        variants.map((v) => [v, median(times.get(`${measure}|${v}`)!)]),
      ),
    ]),
  );
}

/**
 * Runs each server once to warm up, then `rounds` rounds of all of them in
 * turn; returns a table of each server's fastest and median result, in ns
 * per `unit` (what `run` measures).
 */
export async function warmedRounds<S>(
  servers: Record<string, S>,
  rounds: number,
  run: (server: S) => Promise<number>,
  unit: string,
): Promise<string> {
  const times: Record<string, number[]> = {};
  for (const name of Object.keys(servers)) times[name] = [];
  for (const server of Object.values(servers)) await run(server);
  for (let round = 0; round < rounds; round++) {
    for (const [name, server] of Object.entries(servers)) {
      times[name]!.push(await run(server));
    }
  }
  return table([
    ["server", `fastest ns/${unit}`, `median ns/${unit}`],
    ...Object.entries(times).map(([name, t]) => [
      name,
      Math.min(...t).toFixed(0),
      median(t).toFixed(0),
    ]),
  ]);
}
