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
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
    if ((values as { help?: boolean }).help !== true) {
      return values as CliValues<T>;
    }
  } catch (error) {
    // `--bogus --help` still asks for help: the usage says what is valid.
    if (!wantsHelp()) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(
        `${message.replace(/\.$/, "")}; run with --help to see the options`,
      );
      Deno.exit(1);
    }
  }
  console.log(usage);
  Deno.exit(0);
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
