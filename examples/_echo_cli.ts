// deno-lint-ignore-file no-console
/**
 * The command line shared by the echo examples: `--role both|server|client`,
 * `--host`, `--port`, `--message`, `--timeout`, `--help`, plus options of
 * each example. Failures print one line and exit 1, never a stack trace; an
 * option given to a role it does not apply to (`--role server --message x`)
 * is such a failure, not silently ignored. A server stops on Ctrl+C or
 * SIGTERM, closes its socket and prints `server stopped`.
 *
 * @module
 */
import {
  flagError,
  formatUsage,
  parseCommandLine,
  parseIntegerFlag,
  parsePortFlag,
  serveUntilStopped,
} from "./_cli.ts";
import {
  SocketError,
  SocketErrorStatus,
  socketErrorStatusName,
} from "../mod.ts";

/** A bound server: a listener or a datagram socket. */
export interface EchoServer extends AsyncDisposable {
  /** Where it is bound. */
  readonly information: { readonly localPort: number };
}

/** What `--role` chooses. */
export type EchoRole = "both" | "server" | "client";

/** An option beyond the common ones, with its line in `--help`. */
export interface EchoOption {
  /**
   * The roles it applies to; given to another one, it is refused.
   * @default ["server"] (extra options reach `startServer` only)
   */
  roles?: readonly EchoRole[];
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
  /** The client's `--timeout`: its default and what it bounds, for `--help`. */
  timeout: { default: number; description: string };
  /** Options beyond the common ones, all strings. */
  options?: Record<string, EchoOption>;
  /** More lines for the end of `--help` (other modes of the script). */
  notes?: string[];
  /** Runs server and client in one process. */
  runBoth(message: string): Promise<unknown>;
  /** Starts the server; `options` holds the parsed extra options. */
  startServer(
    host: string,
    port: number,
    log: (line: string) => void,
    options: Record<string, string | undefined>,
  ): Promise<EchoServer>;
  /** Sends one message and logs the response, waiting at most `timeout` ms for it. */
  runClient(
    host: string,
    port: number,
    message: string,
    log: (line: string) => void,
    timeout: number,
  ): Promise<unknown>;
}

/** What {@linkcode runInOneProcess} needs from an echo example. */
export interface OneProcessParts<S extends EchoServer> {
  /** Binds the server on `host:port` (port 0: any free port). */
  startServer(
    host: string,
    port: number,
    log: (line: string) => void,
  ): Promise<S>;
  /** Sends `message` and returns the response. */
  runClient(
    host: string,
    port: number,
    message: string,
    log: (line: string) => void,
  ): Promise<string>;
  /** The server's first line, given its port, as the guide prints it. */
  announce(port: number): string;
  /** Waits for the server's side to end before it is disposed. */
  finish?(server: S): Promise<void>;
}

/**
 * Runs server and client in one process on an ephemeral loopback port, as
 * the guide does, logging each side with its prefix; returns the response.
 */
export async function runInOneProcess<S extends EchoServer>(
  parts: OneProcessParts<S>,
  message: string,
  log: (line: string) => void,
): Promise<string> {
  await using server = await parts.startServer(
    "127.0.0.1",
    0,
    (line) => log(`[server] ${line}`),
  );
  const port = server.information.localPort;
  log(`[server] ${parts.announce(port)}`);
  const response = await parts.runClient(
    "127.0.0.1",
    port,
    message,
    (line) => log(`[client] ${line}`),
  );
  log("[client] client closed its socket");
  await parts.finish?.(server);
  return response;
}

/**
 * One line for an error: the status name (unless `Unknown`) for socket
 * failures, the message alone otherwise.
 */
export function describeError(error: unknown): string {
  if (
    error instanceof SocketError && !SocketError.isPermissionError(error) &&
    error.status !== SocketErrorStatus.Unknown
  ) {
    return `${socketErrorStatusName(error.status)}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Characters of a client's payload a log line shows before cutting it. */
export const LOGGED_PAYLOAD_LENGTH = 80;

/**
 * A client's payload as a log shows it: quoted, with control characters
 * (C0, DEL, C1, line and paragraph separators, bidirectional overrides)
 * escaped, so that a client cannot forge log lines or drive the terminal,
 * and cut after `LOGGED_PAYLOAD_LENGTH` characters with its size in bytes.
 */
export function formatPayload(text: string): string {
  const cut = text.length > LOGGED_PAYLOAD_LENGTH;
  const shown = cut ? text.slice(0, LOGGED_PAYLOAD_LENGTH) : text;
  const escaped = shown.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069"\\]/g,
    escapeCharacter,
  );
  if (!cut) return `"${escaped}"`;
  const bytes = new TextEncoder().encode(text).length;
  return `"${escaped}"... (${bytes} bytes)`;
}

const NAMED_ESCAPES: Record<string, string> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  '"': '\\"',
  "\\": "\\\\",
};

function escapeCharacter(character: string): string {
  const named = NAMED_ESCAPES[character];
  if (named !== undefined) return named;
  const code = character.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** The options every echo server with a listener takes. */
export const LISTENER_OPTIONS: Record<string, EchoOption> = {
  "max-connections": {
    type: "string",
    placeholder: "N",
    description:
      "server: the most clients served at once; more wait until one leaves (default: no limit)",
  },
  "idle-timeout": {
    type: "string",
    placeholder: "MS",
    description:
      "server: close a client that sends and receives nothing for MS milliseconds (default: never)",
  },
};

/** Applies `LISTENER_OPTIONS` as parsed to `listener`'s control. */
export function applyListenerOptions(
  control: { maxConnections: number; idleTimeout: number },
  options: Record<string, string | undefined>,
): void {
  const idle = options["idle-timeout"];
  if (idle !== undefined) {
    control.idleTimeout = parseIntegerFlag(
      "--idle-timeout",
      idle,
      1,
      MAX_TIMEOUT,
      "a positive integer of milliseconds",
    );
  }
  const max = options["max-connections"];
  if (max !== undefined) {
    control.maxConnections = parseIntegerFlag(
      "--max-connections",
      max,
      1,
      Number.MAX_SAFE_INTEGER,
      "a positive integer",
    );
  }
}

/** The largest `--timeout`: what `setTimeout` can wait. */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * Waits at most `timeout` ms for a client's response. The read stays
 * pending after a time-out; the caller's socket, once closed, settles it.
 *
 * @param read The read of the response; `null` if the server closed the
 * connection first.
 * @param timeout Milliseconds to wait.
 * @param hint Appended to the error when the server closed the connection.
 * @returns The response.
 * @throws {Error} `no response within N ms`, or `no response: the server
 * closed the connection without answering` (also when it reset it).
 */
export async function awaitResponse<T>(
  read: Promise<T | null>,
  timeout: number,
  hint = "",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `no response within ${timeout} ms; raise --timeout to wait longer`,
          ),
        ),
      timeout,
    );
  });
  const closed = (): Error =>
    new Error(
      `no response: the server closed the connection without answering${hint}`,
    );
  try {
    const response = await Promise.race([read, late]);
    if (response === null) throw closed();
    return response;
  } catch (error) {
    // A server that closes with the request unread resets the connection.
    if (
      SocketError.getStatus(error) === SocketErrorStatus.ConnectionResetByPeer
    ) {
      throw closed();
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 1337;
const DEFAULT_MESSAGE = "Hello, World!";

/** The roles each common option applies to: `--role both` binds an ephemeral loopback port. */
const COMMON_ROLES: Record<string, readonly EchoRole[]> = {
  host: ["server", "client"],
  port: ["server", "client"],
  message: ["client", "both"],
  timeout: ["client"],
};

/** Refuses an option given to a role it does not apply to, naming the roles it does. */
function checkRoles(
  role: EchoRole,
  given: Record<string, string | undefined>,
  options: Record<string, EchoOption>,
): void {
  const roles = { ...COMMON_ROLES };
  for (const [name, option] of Object.entries(options)) {
    roles[name] = option.roles ?? ["server"];
  }
  for (const [name, applies] of Object.entries(roles)) {
    if (given[name] === undefined || applies.includes(role)) continue;
    throw flagError(
      `--${name} only applies to ${
        applies.map((r) => `--role ${r}`).join(" or ")
      }, not to --role ${role}`,
    );
  }
}

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
      } --role client --port N [--host HOST] [--message TEXT] [--timeout MS]`,
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
      [
        "--timeout MS",
        `client: ${roles.timeout.description} (default: ${roles.timeout.default})`,
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
      "An option given to a role it does not apply to is refused.",
      ...(roles.notes ?? []),
    ],
  });
}

/** Parses `Deno.args` and runs the chosen role. */
export async function runEchoCli(roles: EchoRoles): Promise<void> {
  // No defaults in the parse: what was given is told from what was not.
  const options = roles.options ?? {};
  const extra = Object.fromEntries(
    Object.entries(options).map(([name, option]) => [
      name,
      { type: option.type },
    ]),
  );
  const given = parseCommandLine({
    role: { type: "string", default: "both" },
    host: { type: "string" },
    port: { type: "string" },
    message: { type: "string" },
    timeout: { type: "string" },
    ...extra,
  }, echoUsage(roles)) as Record<string, string | undefined>;
  const values = { ...given };
  for (const [name, option] of Object.entries(options)) {
    values[name] ??= option.default;
  }
  try {
    const role = values.role;
    const host = values.host ?? DEFAULT_HOST;
    const message = values.message ?? DEFAULT_MESSAGE;
    if (role !== "both" && role !== "server" && role !== "client") {
      throw flagError(
        `--role must be "both", "server" or "client", got "${role}"`,
      );
    }
    const port = values.port === undefined
      ? undefined
      : parsePortFlag(values.port, role === "client" ? 1 : 0);
    const timeout = parseIntegerFlag(
      "--timeout",
      values.timeout ?? String(roles.timeout.default),
      1,
      MAX_TIMEOUT,
      `a number of milliseconds from 1 to ${MAX_TIMEOUT}`,
    );
    checkRoles(role, given, options);
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
    } else {
      if (port === undefined) {
        throw flagError("--role client needs --port N");
      }
      await roles.runClient(host, port, message, console.log, timeout);
    }
  } catch (error) {
    console.error(describeError(error));
    Deno.exit(1);
  }
}
