/**
 * Shared test helpers: loopback listeners and connected pairs on port 0, all
 * disposable, and bounded waits.
 *
 * @module
 */
import {
  InputStreamOptions,
  LineReader,
  SocketError,
  type SocketErrorStatus,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import assert from "node:assert/strict";

/** A connected client and the server side of the same connection. */
export interface SocketPair extends AsyncDisposable {
  client: StreamSocket;
  server: StreamSocket;
  listener: StreamSocketListener;
}

/** Opens a listener on 127.0.0.1 (or `host`), port 0, that hands sockets to the caller. */
export async function connectedPair(host = "127.0.0.1"): Promise<SocketPair> {
  const listener = new StreamSocketListener();
  const accepted = Promise.withResolvers<StreamSocket>();
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => accepted.resolve(socket),
  );
  await listener.bindEndpointAsync(host, 0);
  const client = await StreamSocket.connectAsync(
    host,
    listener.information.localPort,
  );
  const server = await within(accepted.promise, 5_000, "the accepted socket");
  return {
    client,
    server,
    listener,
    async [Symbol.asyncDispose]() {
      client.close();
      server.close();
      await listener.closeAsync();
    },
  };
}

/** Resolves with `promise`, or fails after `ms` naming what did not arrive. */
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

/** Asserts that `socket` reads the end of the stream (a Partial read gets 0 bytes) within 5 s. */
export async function assertReadsEnd(
  socket: StreamSocket,
  what = "the end of the stream",
): Promise<void> {
  const n = await within(
    socket.inputStream.readAsync(
      new Uint8Array(1),
      1,
      InputStreamOptions.Partial,
    ),
    5_000,
    what,
  );
  assert.equal(n, 0, `${what}: read ${n} bytes`);
}

/** Waits until `condition()` holds, checking every 50 ms for at most `ms`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  // Bounded by the deadline.
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The descriptors this process has open, from /proc through a shell (Deno
 * asks for --allow-all to read /proc directly).
 */
export async function openDescriptors(): Promise<number> {
  const { code, stdout, stderr } = await run("sh", [
    "-c",
    `ls /proc/${Deno.pid}/fd | wc -l`,
  ], 5_000);
  if (code !== 0) throw new Error(`Cannot count descriptors: ${stderr}`);
  return Number(stdout.trim());
}

/** Reads until the end of the stream, at most `limit` bytes. */
export async function readAll(
  socket: StreamSocket,
  limit = 64 * 1024 * 1024,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  while (total < limit) {
    const n = await socket.inputStream.readAsync(buffer, buffer.length, 1);
    if (n === 0) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/** Every `InputStreamOptions` value, the combined flags included. */
export const EVERY_INPUT_STREAM_OPTION: readonly InputStreamOptions[] = [
  InputStreamOptions.None,
  InputStreamOptions.Partial,
  InputStreamOptions.ReadAhead,
  InputStreamOptions.Partial | InputStreamOptions.ReadAhead,
] as InputStreamOptions[];

/** Byte `i` of {@linkcode countingBytes}: a pattern a reader can check as it goes. */
export function countingBytes(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i & 0xff);
}

/**
 * Reads {@linkcode countingBytes} until the end of the stream, slower than a
 * peer writing at full speed (a timer turn after each read), so that unread
 * bytes pile up; checks every byte and resolves with how many came.
 */
export async function readCountingSlowly(
  socket: StreamSocket,
): Promise<number> {
  const buffer = new Uint8Array(16 * 1024);
  let got = 0;
  for (
    let n;
    (n = await socket.inputStream.readAsync(
      buffer,
      buffer.length,
      InputStreamOptions.Partial,
    )) > 0;
  ) {
    for (let i = 0; i < n; i++) {
      if (buffer[i] !== ((got + i) & 0xff)) throw new Error(`byte ${got + i}`);
    }
    got += n;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return got;
}

/** The output of a finished subprocess. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with a time limit; stdin closed. */
export async function run(
  command: string,
  args: string[],
  ms = 30_000,
): Promise<Output> {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, ms);
  try {
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a Deno script of this repo as a subprocess. */
export function runDeno(args: string[], ms = 60_000): Promise<Output> {
  return run(Deno.execPath(), args, ms);
}

/** Whether a command exists on PATH. */
export async function hasCommand(name: string): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0;
  } catch {
    return false;
  }
}

/** The repository root, for running examples and scripts. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** A running subprocess whose first stdout line was read; disposing it kills it and awaits its exit. */
export interface SpawnedProcess extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** The first line the process printed, without its line ending. */
  firstLine: string;
  /** The rest of stdout, once the process closes it. */
  rest: Promise<string>;
  /** All of stderr, once the process closes it. */
  stderr: Promise<string>;
}

/**
 * Spawns a long-running process (a server printing its port first), waits at
 * most `ms` for its first stdout line, and hands it over still running.
 */
export async function spawnFirstLine(
  command: string,
  args: string[],
  ms = 30_000,
): Promise<SpawnedProcess> {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const dispose = async (): Promise<void> => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await Promise.allSettled([rest, stderr]);
  };
  let text = "";
  const firstLine = (async (): Promise<string> => {
    // Bounded by the process: each chunk is real output, and its end stops the loop.
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) {
        throw new Error(
          `${command} exited before printing a line: ${await stderr}`,
        );
      }
      text += value;
    }
    return text.slice(0, text.indexOf("\n")).replace(/\r$/, "");
  })();
  let rest: Promise<string> = Promise.resolve("");
  let line: string;
  try {
    line = await within(firstLine, ms, `the first line of ${command}`);
  } catch (error) {
    rest = firstLine.then(() => "", () => "").finally(() => reader.cancel());
    await dispose();
    throw error;
  }
  rest = (async (): Promise<string> => {
    let output = text.slice(text.indexOf("\n") + 1);
    while (true) {
      const { value, done } = await reader.read();
      if (done) return output;
      output += value;
    }
  })();
  return {
    child,
    firstLine: line,
    rest,
    stderr,
    [Symbol.asyncDispose]: dispose,
  };
}

/** Collects what `console.error` receives until disposed, then restores it. */
export function captureConsoleError(): Disposable & { logged: unknown[][] } {
  const logged: unknown[][] = [];
  // deno-lint-ignore no-console
  const original = console.error;
  // deno-lint-ignore no-console
  console.error = (...args: unknown[]) => logged.push(args);
  return {
    logged,
    [Symbol.dispose]() {
      // deno-lint-ignore no-console
      console.error = original;
    },
  };
}

/** Reads one line from `socket`, failing the test after `ms` with `what` in the message. */
export function readLineWithin(
  socket: StreamSocket,
  what = "the line",
  ms = 5_000,
): Promise<string | null> {
  return within(new LineReader(socket.inputStream).readLine(), ms, what);
}

/**
 * A python3 script (for `python3 -c`) that listens on 127.0.0.1 port 0,
 * prints the port, accepts one connection as `conn` (from `peer`), then runs
 * `body` (Python, unindented).
 */
export function pythonOneConnectionServer(body: string): string {
  return `import socket
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
conn, peer = server.accept()
${body}`;
}

/** The `SocketErrorStatus` `promise` rejects with; fails if it resolves. */
export async function rejectionStatus(
  promise: Promise<unknown>,
): Promise<SocketErrorStatus> {
  const error = await promise.then(() => undefined, (e) => e);
  if (!(error instanceof Error)) {
    throw new Error("Expected a rejection, got a resolution");
  }
  return SocketError.getStatus(error);
}

/**
 * Runs `command` with `input` on its stdin, closed before waiting for its
 * exit or after (s_client exits by itself once the server closes, and
 * would stop at the end of its input before the answer came).
 */
export async function runWithStdin(
  command: string,
  args: string[],
  options: {
    input: string;
    env?: Record<string, string>;
    closeStdin: "before" | "after";
    what: string;
  },
): Promise<Output> {
  const child = new Deno.Command(command, {
    args,
    env: options.env ?? {},
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.input));
  if (options.closeStdin === "before") await writer.close();
  const result = await within(child.output(), 30_000, options.what);
  if (options.closeStdin === "after") await writer.close().catch(() => {});
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

/**
 * Arguments of `openssl s_client` for a test server on 127.0.0.1:`port`
 * with the test certificates: verifies the server as `localhost` against
 * `ca.pem`, quiet (stdin goes to the server, its answer to stdout).
 */
export function openSslClientArgs(
  port: number,
  options: { starttls?: string; certificate?: string } = {},
): string[] {
  const testdata = (name: string): string =>
    new URL(`./testdata/${name}`, import.meta.url).pathname;
  return [
    "s_client",
    ...(options.starttls === undefined ? [] : ["-starttls", options.starttls]),
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    "localhost",
    "-CAfile",
    testdata("ca.pem"),
    "-verify_return_error",
    "-quiet",
    ...(options.certificate === undefined ? [] : [
      "-cert",
      testdata(`${options.certificate}.pem`),
      "-key",
      testdata(`${options.certificate}.key`),
    ]),
  ];
}
