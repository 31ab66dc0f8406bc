// deno-lint-ignore-file no-console
/**
 * The UDP echo client and server of the UWP sockets guide: the server
 * answers each datagram through `getOutputStreamAsync` to the sender's
 * address and port; the client waits for the echo with a time-out and a few
 * retries, since UDP may lose either datagram.
 *
 * One process, server and client on an ephemeral loopback port:
 *   deno run --allow-net=127.0.0.1 --unstable-net examples/udp_echo.ts
 * Server only (prints `bound to HOST:PORT`, serves until Ctrl+C or SIGTERM,
 * then prints `server stopped`):
 *   deno run --allow-net --unstable-net examples/udp_echo.ts --role server --port 1337 [--host 127.0.0.1]
 * Client only:
 *   deno run --allow-net --unstable-net examples/udp_echo.ts --role client --port 1337 [--host 127.0.0.1] [--message "Hello, World!"] [--timeout 1000]
 *
 * (`--unstable-net` is implied inside this repository by deno.json.)
 * `--help` prints the options.
 *
 * @module
 */
import { describeError, runEchoCli, runInOneProcess } from "./_echo_cli.ts";
import { DatagramSocket, DataWriter } from "../mod.ts";

/** How long the client waits for the echo after each send: 1 s. */
export const DEFAULT_TIMEOUT = 1_000;

/** How many times the client sends again when no echo comes. */
const RETRIES = 2;

/** Starts a socket that echoes every datagram to its sender; handler failures are logged, never fatal. */
export async function startServer(
  host: string,
  port: number | string,
  log: (line: string) => void,
): Promise<DatagramSocket> {
  const socket = new DatagramSocket();
  socket.addEventListener("messagereceived", async (event) => {
    const reader = event.getDataReader();
    const request = reader.readString(reader.unconsumedBufferLength);
    log(`server received the request: "${request}"`);
    const output = await socket.getOutputStreamAsync(
      event.remoteAddress,
      event.remotePort,
    );
    if (request === "") {
      // storeAsync() with nothing stored sends nothing, but an empty
      // datagram deserves an empty echo.
      await output.writeAsync(new Uint8Array(0));
    } else {
      const writer = new DataWriter(output);
      writer.writeString(request);
      await writer.storeAsync();
    }
    log(`server sent back the response: "${request}"`);
  });
  socket.addEventListener(
    "error",
    ({ error }) => log(`a datagram failed: ${describeError(error)}`),
  );
  await socket.bindEndpointAsync(host, port);
  return socket;
}

/**
 * Sends one request and returns the echoed text; sends it again after each
 * `timeout` ms without an echo, twice at most, then rejects with
 * ConnectionTimedOut.
 */
export async function runClient(
  host: string,
  port: number | string,
  message: string,
  log: (line: string) => void,
  timeout: number = DEFAULT_TIMEOUT,
): Promise<string> {
  await using socket = new DatagramSocket();
  await socket.connectAsync(host, port);
  const writer = new DataWriter();
  writer.writeString(message);
  const request = writer.detachBuffer();
  log(`client sent the request: "${message}"`);
  const reply = await socket.requestAsync(request, {
    timeout,
    retries: RETRIES,
  });
  const reader = reply.getDataReader();
  const response = reader.readString(reader.unconsumedBufferLength);
  log(`client received the response: "${response}"`);
  return response;
}

/** Runs server and client in one process, as the guide does; returns the echoed text. */
export function runBoth(
  message: string,
  log: (line: string) => void = console.log,
): Promise<string> {
  return runInOneProcess(
    {
      startServer,
      runClient,
      announce: (port) => `server is bound to port number ${port}`,
    },
    message,
    log,
  );
}

if (import.meta.main) {
  await runEchoCli({
    script: "examples/udp_echo.ts",
    summary:
      "The UDP echo client and server of the UWP sockets guide: the server answers each datagram to its sender; the client waits for the echo with a time-out and retries.",
    runFlags: "--unstable-net",
    boundLine: "bound to",
    timeout: {
      default: DEFAULT_TIMEOUT,
      description: `milliseconds to wait for the echo after each of ${
        RETRIES + 1
      } sends`,
    },
    runBoth,
    startServer,
    runClient,
  });
}
