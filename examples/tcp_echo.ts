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
  await listener.bindEndpointAsync(host, port);
  return listener;
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

if (import.meta.main) {
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
    runBoth,
    startServer,
    runClient,
  });
}
