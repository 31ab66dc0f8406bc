// deno-lint-ignore-file no-console
/**
 * Command-line helpers shared by the examples: `--help` / `-h`, one line
 * and exit 1 for bad flags, and a graceful stop on SIGINT or SIGTERM.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** The options of one example, as `node:util` `parseArgs` takes them. */
export type CliOptions = NonNullable<ParseArgsConfig["options"]>;

/** The values `parseArgs` returns for `options`. */
export type CliValues<T extends CliOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T }>
>["values"];

/**
 * Parses `args` (by default `Deno.args`) against `options` plus `--help` /
 * `-h`. With `--help` anywhere it prints `usage` to stdout and exits 0; a bad
 * flag prints one line naming it and `--help` to stderr and exits 1.
 *
 * @param options The example's own options.
 * @param usage The text `--help` prints.
 * @param args The command line to parse.
 * @returns The parsed values, `help` aside.
 */
export function parseCommandLine<T extends CliOptions>(
  options: T,
  usage: string,
  args: string[] = Deno.args,
): CliValues<T> {
  const wantsHelp = (): boolean =>
    args.some((arg) => arg === "--help" || arg === "-h");
  try {
    const { values } = parseArgs({
      args: joinNegativeValues(args, options),
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
    if ((values as { help?: boolean }).help !== true) {
      return values as CliValues<T>;
    }
  } catch (error) {
    // `--bogus --help` still asks for help: the usage says what is valid.
    if (!wantsHelp()) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`${message.replace(/\.$/, "")}; ${SEE_HELP}`);
      Deno.exit(1);
    }
  }
  console.log(usage);
  Deno.exit(0);
}

const SEE_HELP = "run with --help to see the options";

/**
 * Turns `--port -1` into `--port=-1` for string options. `parseArgs` refuses
 * a value starting with a dash as ambiguous, in three lines; a negative
 * number is never a flag, so it is the value, and the example's own check
 * names what is wrong with it. Any other dash after a string option is an
 * error of one line.
 */
function joinNegativeValues(args: string[], options: CliOptions): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === "--") return [...joined, ...args.slice(i)];
    const name = arg.startsWith("--") ? arg.slice(2) : "";
    const takesValue = Object.hasOwn(options, name) &&
      options[name]?.type === "string";
    if (!takesValue || next === undefined || !next.startsWith("-")) {
      joined.push(arg);
    } else if (/^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      throw new TypeError(
        `Option '${arg}' is followed by '${next}', which starts with a dash; if that is its value, write ${arg}=${next}`,
      );
    }
  }
  return joined;
}

/**
 * An error for a bad flag value: one line that names the flag and the value
 * and points to `--help`.
 *
 * @param message What is wrong, naming the flag and the value.
 * @returns A `RangeError` to throw.
 */
export function flagError(message: string): RangeError {
  return new RangeError(`${message}; ${SEE_HELP}`);
}

/**
 * Reads a flag's value as a whole number from `min` to `max`, written in
 * decimal digits.
 *
 * @param flag The flag, e.g. `--count`, for the error message.
 * @param text The value given.
 * @param min The smallest value accepted.
 * @param max The largest value accepted.
 * @param what What the value must be, for the error message.
 * @returns The number.
 * @throws {RangeError} Naming the flag and `text`, if it is not such a number.
 */
export function parseIntegerFlag(
  flag: string,
  text: string,
  min: number,
  max: number,
  what = `an integer from ${min} to ${max}`,
): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < min || value > max) {
    throw flagError(`${flag} must be ${what}, got "${text}"`);
  }
  return value;
}

/**
 * Reads a `--port` value: a port number from `min` (0 for a server, where it
 * means any free port; 1 for a client) to 65535.
 *
 * @param text The value given.
 * @param min The smallest port accepted.
 * @returns The port number.
 * @throws {RangeError} Naming `--port` and `text`, if it is not a port.
 */
export function parsePortFlag(text: string, min = 0): number {
  return parseIntegerFlag(
    "--port",
    text,
    min,
    65535,
    `a port number from ${min} to 65535`,
  );
}

/** The parts of a `--help` text. */
export interface Usage {
  /** What the script does. */
  summary: string;
  /** Whole `deno run ...` command lines, permissions included. */
  commands: string[];
  /** Flag (with its placeholder) and what it does, default included. */
  options: [string, string][];
  /** Lines after the options, if any. */
  notes?: string[];
}

/** Lays out a `--help` text: summary, commands, aligned options with `-h, --help` last, notes. */
export function formatUsage(usage: Usage): string {
  const rows: [string, string][] = [
    ...usage.options,
    ["-h, --help", "print this help and exit"],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = [
    usage.summary,
    "",
    "Usage:",
    ...usage.commands.map((command) => `  ${command}`),
    "",
    "Options:",
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
  ];
  if (usage.notes !== undefined) lines.push("", ...usage.notes);
  return lines.join("\n");
}

/**
 * The signals that stop a server gracefully. Windows delivers only SIGINT
 * and SIGBREAK (Ctrl+C, Ctrl+Break) to `Deno.addSignalListener`.
 */
export const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];

/**
 * Listens for {@linkcode STOP_SIGNALS}, calls `ready` (which announces the
 * server), and waits for one of them; then removes the signal listeners (a
 * second signal ends the process at once) and disposes `server`.
 *
 * @param server What to close on the signal.
 * @param ready Called once the signals are caught, so a signal sent as soon
 * as the server is announced still stops it gracefully.
 * @returns The signal that stopped it.
 */
export async function serveUntilStopped(
  server: AsyncDisposable,
  ready: () => void,
): Promise<Deno.Signal> {
  const stop = Promise.withResolvers<Deno.Signal>();
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => stop.resolve(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  try {
    ready();
    return await stop.promise;
  } finally {
    for (const [signal, handler] of handlers) {
      Deno.removeSignalListener(signal, handler);
    }
    await server[Symbol.asyncDispose]();
  }
}
