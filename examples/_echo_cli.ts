// deno-lint-ignore-file no-console
/**
 * The command line shared by the echo examples: `--role both|server|client`,
 * `--host`, `--port`, `--message`, `--help`, plus options of each example.
 * Failures print one line and exit 1, never a stack trace. A server stops on
 * Ctrl+C or SIGTERM, closes its socket and prints `server stopped`.
 *
 * @module
 */
import { formatUsage, parseCommandLine, serveUntilStopped } from "./_cli.ts";
import { SocketError, socketErrorStatusName } from "../mod.ts";

/** A bound server: a listener or a datagram socket. */
export interface EchoServer extends AsyncDisposable {
  /** Where it is bound. */
  readonly information: { readonly localPort: number };
}

/** An option beyond the common ones, with its line in `--help`. */
export interface EchoOption {
  /** Always a string; the example parses it. */
  type: "string";
  /** The value when the flag is absent. */
  default?: string;
  /** The value's placeholder in `--help`, e.g. `N`. */
  placeholder: string;
  /** What the option does, for `--help`. */
  description: string;
}

/** What one echo example plugs into the command line. */
export interface EchoRoles {
  /** The script's path from the repository root, e.g. `examples/tcp_echo.ts`. */
  script: string;
  /** What the script does, for `--help`. */
  summary: string;
  /** Extra `deno run` flags beyond `--allow-net`, e.g. `--unstable-net`. */
  runFlags?: string;
  /** The server's first line starts with this, then `HOST:PORT`. */
  boundLine: string;
  /** Options beyond the common ones, all strings. */
  options?: Record<string, EchoOption>;
  /** Runs server and client in one process. */
  runBoth(message: string): Promise<unknown>;
  /** Starts the server; `options` holds the parsed extra options. */
  startServer(
    host: string,
    port: string,
    log: (line: string) => void,
    options: Record<string, string | undefined>,
  ): Promise<EchoServer>;
  /** Sends one message and logs the response. */
  runClient(
    host: string,
    port: string,
    message: string,
    log: (line: string) => void,
  ): Promise<unknown>;
}

/** One line for an error: the status name for socket failures, the message alone otherwise. */
export function describeError(error: unknown): string {
  if (error instanceof SocketError && !SocketError.isPermissionError(error)) {
    return `${socketErrorStatusName(error.status)}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = "1337";
const DEFAULT_MESSAGE = "Hello, World!";

/** The `--help` text of one echo example. */
function echoUsage(roles: EchoRoles): string {
  const flags = roles.runFlags === undefined ? "" : ` ${roles.runFlags}`;
  const run = (net: string): string =>
    `deno run ${net}${flags} ${roles.script}`;
  const extra = Object.entries(roles.options ?? {});
  const serverExtra = extra.map(([name, option]) =>
    ` [--${name} ${option.placeholder}]`
  ).join("");
  return formatUsage({
    summary: roles.summary,
    commands: [
      `${run("--allow-net=127.0.0.1")} [--message TEXT]`,
      `${
        run("--allow-net")
      } --role server [--host HOST] [--port N]${serverExtra}`,
      `${
        run("--allow-net")
      } --role client --port N [--host HOST] [--message TEXT]`,
    ],
    options: [
      [
        "--role both|server|client",
        "both: one process on an ephemeral loopback port; server: serve " +
        "until Ctrl+C or SIGTERM; client: send one message (default: both)",
      ],
      [
        "--host HOST",
        `server: the address to bind; client: the server to reach (default: ${DEFAULT_HOST})`,
      ],
      [
        "--port N",
        `server: the port to bind, 0 for any free one (default: ${DEFAULT_PORT}); client: required`,
      ],
      [
        "--message TEXT",
        `client and both: what to send (default: "${DEFAULT_MESSAGE}")`,
      ],
      ...extra.map(([name, option]): [string, string] => [
        `--${name} ${option.placeholder}`,
        `${option.description}${
          option.default === undefined ? "" : ` (default: ${option.default})`
        }`,
      ]),
    ],
    notes: [
      `The server prints "${roles.boundLine} HOST:PORT" first and "server stopped" last.`,
    ],
  });
}

/** Parses `Deno.args` and runs the chosen role. */
export async function runEchoCli(roles: EchoRoles): Promise<void> {
  const extra = Object.fromEntries(
    Object.entries(roles.options ?? {}).map((
      [name, option],
    ) => [
      name,
      option.default === undefined
        ? { type: option.type }
        : { type: option.type, default: option.default },
    ]),
  );
  const values = parseCommandLine({
    role: { type: "string", default: "both" },
    host: { type: "string" },
    port: { type: "string" },
    message: { type: "string", default: DEFAULT_MESSAGE },
    ...extra,
  }, echoUsage(roles)) as Record<string, string | undefined>;
  try {
    const role = values.role;
    const host = values.host ?? DEFAULT_HOST;
    const port = values.port;
    const message = values.message ?? DEFAULT_MESSAGE;
    if (role === "both") {
      await roles.runBoth(message);
    } else if (role === "server") {
      const server = await roles.startServer(
        host,
        port ?? DEFAULT_PORT,
        console.log,
        values,
      );
      const shown = host.includes(":") ? `[${host}]` : host;
      const signal = await serveUntilStopped(
        server,
        () =>
          console.log(
            `${roles.boundLine} ${shown}:${server.information.localPort}`,
          ),
      );
      console.log(`server stopped (${signal})`);
    } else if (role === "client") {
      if (port === undefined) {
        throw new TypeError(
          "--role client needs --port N; run with --help to see the options",
        );
      }
      await roles.runClient(host, port, message, console.log);
    } else {
      throw new TypeError(
        `--role must be "both", "server" or "client", got "${role}"; run with --help to see the options`,
      );
    }
  } catch (error) {
    console.error(describeError(error));
    Deno.exit(1);
  }
}
