// deno-lint-ignore-file no-console
/**
 * The TCP echo of the UWP sockets guide, length-prefixed variant (its C++
 * code): each message is a `uint32` big-endian byte length, then UTF-8 bytes,
 * written with `DataWriter` and read with `DataReader`. Unlike the guide's
 * C++ (which writes the length in characters), the length here is in bytes,
 * so any Unicode text round-trips.
 *
 * One process, server and client on an ephemeral loopback port:
 *   deno run --allow-net=127.0.0.1 examples/tcp_echo_framed.ts
 * Server only (prints `listening on HOST:PORT`, serves until Ctrl+C or SIGTERM,
 * then prints `server stopped`):
 *   deno run --allow-net examples/tcp_echo_framed.ts --role server --port 1337 [--host 127.0.0.1] [--max-frame-size 1048576] [--max-connections N]
 * Client only:
 *   deno run --allow-net examples/tcp_echo_framed.ts --role client --port 1337 [--host localhost] [--message "Hello, World!"] [--timeout 10000]
 *
 * The client prints one line on stderr and exits 1 if the server closes the
 * connection without answering (as it does to a frame over its
 * `--max-frame-size`), or sends no frame within `--timeout` ms.
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
import { parseIntegerFlag } from "./_cli.ts";
import {
  DataReader,
  DataWriter,
  InputStreamOptions,
  SocketError,
  SocketErrorStatus,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";

/** The default largest frame the server accepts: 1 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;

/** How long the client waits for the connection, then for the echo: 10 s. */
export const DEFAULT_TIMEOUT = 10_000;

/** The largest frame length a `uint32` can announce. */
const MAX_FRAME_LENGTH = 0xffffffff;

/**
 * Makes sure `count` bytes are unconsumed; false if the stream ended first.
 * `loadAsync` counts new bytes, so ask only for what is missing: reading
 * ahead may have brought some, or all. Without the `Partial` flag (the
 * server's `ReadAhead`, the client's `None`) one load waits until they all
 * came; a caller's reader with `Partial` may need several.
 */
async function ensure(reader: DataReader, count: number): Promise<boolean> {
  for (
    let missing = count - reader.unconsumedBufferLength;
    missing > 0;
    missing = count - reader.unconsumedBufferLength
  ) {
    if (await reader.loadAsync(missing) === 0) return false;
  }
  return true;
}

/**
 * Reads one frame; `null` at a clean end of the stream. A frame that
 * announces more than `maxFrameSize` bytes fails before anything of that size
 * is allocated.
 */
export async function readFrame(
  reader: DataReader,
  maxFrameSize: number,
): Promise<string | null> {
  if (!await ensure(reader, 4)) {
    if (reader.unconsumedBufferLength === 0) return null;
    throw new SocketError(
      "Cannot read a frame: the connection ended inside a frame header",
      {
        status: SocketErrorStatus.Unknown,
      },
    );
  }
  const length = reader.readUInt32();
  if (length > maxFrameSize) {
    throw new SocketError(
      `Cannot read a frame of ${length} bytes: the limit is ${maxFrameSize} bytes; raise --max-frame-size to accept it`,
      { status: SocketErrorStatus.MessageTooLong },
    );
  }
  if (!await ensure(reader, length)) {
    throw new SocketError(
      `Cannot read a frame: the connection ended after ${reader.unconsumedBufferLength} of ${length} bytes`,
      { status: SocketErrorStatus.Unknown },
    );
  }
  return reader.readString(length);
}

/** Writes one frame: the byte length, then the UTF-8 bytes, in one store. */
export async function writeFrame(
  writer: DataWriter,
  text: string,
): Promise<void> {
  writer.writeUInt32(writer.measureString(text));
  writer.writeString(text);
  await writer.storeAsync();
}

/** Echoes every frame of one connection until the client ends it. */
async function serveConnection(
  socket: StreamSocket,
  maxFrameSize: number,
  log: (line: string) => void,
): Promise<void> {
  await using s = socket;
  const reader = new DataReader(s.inputStream);
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  const writer = new DataWriter(s.outputStream);
  for (let text; (text = await readFrame(reader, maxFrameSize)) !== null;) {
    log(`server received the request: ${formatPayload(text)}`);
    await writeFrame(writer, text);
    log(`server sent back the response: ${formatPayload(text)}`);
  }
}

/** Starts a listener that echoes frames; a bad frame ends only its own connection. */
export async function startServer(
  host: string,
  port: number | string,
  log: (line: string) => void,
  maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE,
  options: Record<string, string | undefined> = {},
): Promise<StreamSocketListener> {
  const listener = new StreamSocketListener();
  applyListenerOptions(listener.control, options);
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => serveConnection(socket, maxFrameSize, log),
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
 * Connects, sends one frame, and returns the echoed text; rejects if the
 * server closes the connection without answering or sends no frame within
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
  const writer = new DataWriter(socket.outputStream);
  // The echo is as long as the request, which may exceed the default limit.
  const maxFrameSize = Math.max(
    DEFAULT_MAX_FRAME_SIZE,
    writer.measureString(message),
  );
  await writeFrame(writer, message);
  log(`client sent the request: ${formatPayload(message)}`);
  const response = await awaitResponse(
    readFrame(new DataReader(socket.inputStream), maxFrameSize),
    timeout,
    "; a framed server does so when the frame is over its --max-frame-size",
  );
  log(`client received the response: ${formatPayload(response)}`);
  return response;
}

/** Runs server and client in one process; returns the echoed text. */
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
    script: "examples/tcp_echo_framed.ts",
    summary:
      "The TCP echo of the UWP sockets guide, length-prefixed: each message is a uint32 big-endian byte length, then UTF-8 bytes, written with DataWriter and read with DataReader.",
    boundLine: "listening on",
    timeout: {
      default: DEFAULT_TIMEOUT,
      description:
        "milliseconds to wait for the connection, then for the echoed frame",
    },
    options: {
      ...LISTENER_OPTIONS,
      "max-frame-size": {
        type: "string",
        default: String(DEFAULT_MAX_FRAME_SIZE),
        placeholder: "BYTES",
        description:
          "server: the largest frame accepted; a larger one ends its connection",
      },
    },
    runBoth,
    startServer: (host, port, log, options) =>
      startServer(
        host,
        port,
        log,
        parseMaxFrameSize(options["max-frame-size"]),
        options,
      ),
    runClient,
  });
}

function parseMaxFrameSize(text: string | undefined): number {
  return parseIntegerFlag(
    "--max-frame-size",
    text ?? String(DEFAULT_MAX_FRAME_SIZE),
    0,
    MAX_FRAME_LENGTH,
  );
}
