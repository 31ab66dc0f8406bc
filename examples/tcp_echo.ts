// deno-lint-ignore-file no-console
/**
 * The TCP echo client and server of the UWP sockets guide, line-based variant.
 *
 * One process, server and client on an ephemeral loopback port:
 *   deno run --allow-net=127.0.0.1 examples/tcp_echo.ts
 * Server only (prints `listening on HOST:PORT`, serves until Ctrl+C or SIGTERM,
 * then prints `server stopped`):
 *   deno run --allow-net examples/tcp_echo.ts --role server --port 1337 [--host 127.0.0.1] [--max-connections N]
 * Client only:
 *   deno run --allow-net examples/tcp_echo.ts --role client --port 1337 [--host localhost] [--message "Hello, World!"] [--timeout 10000]
 *
 * On a Unix domain socket instead of TCP (not on Windows; Deno asks for net,
 * read and write permission on the path):
 *   deno run --allow-net=unix:/tmp/echo.sock --allow-read=/tmp --allow-write=/tmp examples/tcp_echo.ts --role server --unix /tmp/echo.sock
 *   deno run --allow-net=unix:/tmp/echo.sock --allow-read=/tmp --allow-write=/tmp examples/tcp_echo.ts --role client --unix /tmp/echo.sock [--message TEXT]
 *
 * Several servers on one port (Linux; the kernel spreads the connections
 * across them; see also examples/reuse_port_workers.ts):
 *   deno run --allow-net --unstable-net examples/tcp_echo.ts --role server --port 1337 --reuse-port
 *
 * The client prints one line on stderr and exits 1 if the server closes the
 * connection without answering, or sends no line within `--timeout` ms.
 *
 * `--help` prints the options.
 *
 * @module
 */
import {
  applyListenerOptions,
  awaitResponse,
  describeError,
  formatPayload,
  LISTENER_OPTIONS,
  runEchoCli,
  runInOneProcess,
} from "./_echo_cli.ts";
import {
  flagError,
  formatUsage,
  parseCommandLine,
  parseIntegerFlag,
  parsePortFlag,
  serveUntilStopped,
} from "./_cli.ts";
import { LineReader, StreamSocket, StreamSocketListener } from "../mod.ts";

const encoder = new TextEncoder();

/** How long the client waits for the connection, then for the echo: 10 s. */
export const DEFAULT_TIMEOUT = 10_000;

/** Echoes every line of one connection until the client ends it. */
async function serveConnection(
  socket: StreamSocket,
  log: (line: string) => void,
): Promise<void> {
  await using s = socket;
  for await (const line of new LineReader(s.inputStream)) {
    log(`server received the request: ${formatPayload(line)}`);
    await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
    log(`server sent back the response: ${formatPayload(line)}`);
  }
}

/** Starts a listener that echoes lines; handler failures are logged, never fatal. */
export async function startServer(
  host: string,
  port: number | string,
  log: (line: string) => void,
  options: Record<string, string | undefined> = {},
): Promise<StreamSocketListener> {
  const listener = echoListener(log, options);
  await listener.bindEndpointAsync(host, port);
  return listener;
}

/** A listener whose connections echo lines; handler failures are logged, never fatal. */
function echoListener(
  log: (line: string) => void,
  options: Record<string, string | undefined> = {},
): StreamSocketListener {
  const listener = new StreamSocketListener();
  applyListenerOptions(listener.control, options);
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => serveConnection(socket, log),
  );
  listener.addEventListener(
    "error",
    ({ error }) =>
      log(`connection ended with an error: ${describeError(error)}`),
  );
  return listener;
}

/** Starts an echo listener on a Unix domain socket at `path`. */
export async function startUnixServer(
  path: string,
  log: (line: string) => void,
): Promise<StreamSocketListener> {
  const listener = echoListener(log);
  await listener.bindUnixAsync(path);
  return listener;
}

/** Starts an echo listener with `reusePort`, so other processes may serve the same port. */
export async function startReusePortServer(
  host: string,
  port: number,
  log: (line: string) => void,
): Promise<StreamSocketListener> {
  const listener = echoListener(log);
  listener.control.reusePort = true;
  await listener.bindEndpointAsync(host, port);
  return listener;
}

/** Sends one line over the Unix socket at `path` and returns the echo. */
export async function runUnixClient(
  path: string,
  message: string,
  log: (line: string) => void,
  timeout: number = DEFAULT_TIMEOUT,
): Promise<string> {
  await using socket = await StreamSocket.connectUnixAsync(path);
  return await exchange(socket, message, log, timeout);
}

/**
 * Connects, sends one line, and returns the echoed line; rejects if the
 * server closes the connection without answering or sends no line within
 * `timeout` ms.
 */
export async function runClient(
  host: string,
  port: number | string,
  message: string,
  log: (line: string) => void,
  timeout: number = DEFAULT_TIMEOUT,
): Promise<string> {
  await using socket = await StreamSocket.connectAsync(host, port, {
    timeout,
  });
  return await exchange(socket, message, log, timeout);
}

/** Sends one line on a connected socket and returns the echoed line. */
async function exchange(
  socket: StreamSocket,
  message: string,
  log: (line: string) => void,
  timeout: number,
): Promise<string> {
  log("client connected");
  await socket.outputStream.writeAsync(encoder.encode(`${message}\n`));
  log(`client sent the request: ${formatPayload(message)}`);
  const response = await awaitResponse(
    new LineReader(socket.inputStream).readLine(),
    timeout,
  );
  log(`client received the response: ${formatPayload(response)}`);
  return response;
}

/** Runs server and client in one process, as the guide does; returns the echoed line. */
export function runBoth(
  message: string,
  log: (line: string) => void = console.log,
): Promise<string> {
  return runInOneProcess(
    {
      startServer,
      runClient,
      announce: (port) => `server is listening on port ${port}...`,
      finish: (listener) => listener.closeAsync({ sockets: "wait" }),
    },
    message,
    log,
  );
}

const SOCKET_OPTIONS = {
  role: { type: "string" },
  unix: { type: "string" },
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "1337" },
  "reuse-port": { type: "boolean", default: false },
  message: { type: "string", default: "Hello, World!" },
  timeout: { type: "string", default: String(DEFAULT_TIMEOUT) },
} as const;

const SOCKET_USAGE = formatUsage({
  summary:
    "The line echo of examples/tcp_echo.ts on a Unix domain socket instead of TCP, or as one of several servers on a port.",
  commands: [
    "deno run --allow-net --unstable-net examples/tcp_echo.ts --role server [--host HOST] [--port N] --reuse-port",
    "deno run --allow-net=unix:PATH --allow-read=PATH --allow-write=PATH examples/tcp_echo.ts --role server --unix PATH",
    "deno run --allow-net=unix:PATH --allow-read=PATH --allow-write=PATH examples/tcp_echo.ts --role client --unix PATH [--message TEXT] [--timeout MS]",
  ],
  options: [
    ["--role server|client", "serve until Ctrl+C or SIGTERM, or send one line"],
    [
      "--unix PATH",
      "the socket's path; a server replaces a socket file nobody listens on and refuses a path that is not a socket",
    ],
    [
      "--reuse-port",
      "server: set SO_REUSEPORT, so several servers share --port (Linux, --unstable-net)",
    ],
    [
      "--host HOST",
      "with --reuse-port: the address to bind (default: 127.0.0.1)",
    ],
    ["--port N", "with --reuse-port: the port to bind (default: 1337)"],
    ["--message TEXT", 'client: what to send (default: "Hello, World!")'],
    [
      "--timeout MS",
      `client: milliseconds to wait for the echoed line (default: ${DEFAULT_TIMEOUT})`,
    ],
  ],
  notes: [
    'The server prints "listening on unix:PATH" (or HOST:PORT) first and "server stopped" last.',
  ],
});

/** `--unix PATH` or `--reuse-port`: the roles on a Unix socket, or a server sharing its port. */
async function runSocketOptionCli(): Promise<void> {
  const values = parseCommandLine(SOCKET_OPTIONS, SOCKET_USAGE);
  try {
    if (values["reuse-port"]) return await runReusePortServer(values);
    const path = values.unix;
    if (path === undefined || path === "") {
      throw flagError("--unix needs a PATH");
    }
    const timeout = parseIntegerFlag(
      "--timeout",
      values.timeout,
      1,
      2_147_483_647,
      "a number of milliseconds from 1 to 2147483647",
    );
    if (values.role === "server") {
      const server = await startUnixServer(path, console.log);
      const signal = await serveUntilStopped(
        server,
        () => console.log(`listening on unix:${path}`),
      );
      console.log(`server stopped (${signal})`);
    } else if (values.role === "client") {
      await runUnixClient(path, values.message, console.log, timeout);
    } else {
      throw flagError(
        `--unix needs --role server or --role client, got ${
          values.role === undefined ? "none" : `"${values.role}"`
        }`,
      );
    }
  } catch (error) {
    console.error(describeError(error));
    Deno.exit(1);
  }
}

/** `--role server --reuse-port`: serves until stopped. */
async function runReusePortServer(
  values: { role?: string; unix?: string; host: string; port: string },
): Promise<void> {
  if (values.role !== "server" || values.unix !== undefined) {
    throw flagError(
      "--reuse-port needs --role server, and a TCP port (no --unix)",
    );
  }
  const port = parsePortFlag(values.port, 0);
  const server = await startReusePortServer(values.host, port, console.log);
  const shown = values.host.includes(":") ? `[${values.host}]` : values.host;
  const signal = await serveUntilStopped(
    server,
    () => console.log(`listening on ${shown}:${server.information.localPort}`),
  );
  console.log(`server stopped (${signal})`);
}

const wants = (flag: string): boolean =>
  Deno.args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));

if (import.meta.main && (wants("--unix") || wants("--reuse-port"))) {
  await runSocketOptionCli();
} else if (import.meta.main) {
  await runEchoCli({
    script: "examples/tcp_echo.ts",
    summary:
      "The TCP echo client and server of the UWP sockets guide, line-based: the client sends one line, the server echoes every line back.",
    boundLine: "listening on",
    timeout: {
      default: DEFAULT_TIMEOUT,
      description:
        "milliseconds to wait for the connection, then for the echoed line",
    },
    options: LISTENER_OPTIONS,
    notes: [
      "Also: --unix PATH (a Unix domain socket, with --role server or client) and --role server --reuse-port (share the port with other servers); see --unix PATH --help or --reuse-port --help.",
    ],
    runBoth,
    startServer,
    runClient,
  });
}
