/**
 * Shared pieces of the comparison scripts in `bench/`: medians, tables, and
 * running a script of this folder as a child with a time limit.
 *
 * @module
 */

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

/** Rejects after `ms` naming `what`, unless `promise` settles first. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A child process that printed a first line (a port), still running. */
export interface Child extends AsyncDisposable {
  firstLine: string;
  process: Deno.ChildProcess;
}

/**
 * Spawns `command`, waits at most `ms` for its first stdout line, and hands
 * it over running; disposing kills it. Its stderr goes to ours.
 */
export async function spawnChild(
  command: string,
  args: string[],
  ms = 30_000,
): Promise<Child> {
  const process = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  const dispose = async (): Promise<void> => {
    try {
      process.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await reader.cancel().catch(() => {});
    await process.status;
  };
  let text = "";
  try {
    await within(
      (async () => {
        // Bounded by the child: every chunk is real output, its end stops the loop.
        while (!text.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`${command} exited before printing a line`);
          text += value;
        }
      })(),
      ms,
      `the first line of ${command}`,
    );
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    firstLine: text.slice(0, text.indexOf("\n")).trim(),
    process,
    [Symbol.asyncDispose]: dispose,
  };
}

/** Runs `command` to completion (killed after `ms`) and returns its stdout; throws on a non-zero exit. */
export async function runChild(
  command: string,
  args: string[],
  ms = 60_000,
): Promise<string> {
  const process = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      process.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, ms);
  try {
    const output = await process.output();
    const stdout = new TextDecoder().decode(output.stdout);
    if (output.code !== 0) {
      throw new Error(
        `${command} ${args.join(" ")} exited with ${output.code}: ${
          new TextDecoder().decode(output.stderr)
        }`,
      );
    }
    return stdout;
  } finally {
    clearTimeout(timer);
  }
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
