// deno-lint-ignore-file no-console
/**
 * One port served by N Workers: each Worker binds its own
 * `StreamSocketListener` to the same address and port with
 * `control.reusePort`, and the Linux kernel spreads incoming connections
 * across them (by a hash of the client's address and port). The protocol
 * is the part of Redis a load generator needs: `PING` answers `+PONG`, in
 * the inline form (`PING\r\n`) and the multi-bulk one
 * (`*1\r\n$4\r\nPING\r\n`); `CONFIG GET name` answers the name with an empty value; anything else an
 * error. So `redis-benchmark -t ping` and `redis-cli ping` work against it.
 *
 *   deno run --allow-net --allow-read --unstable-net examples/reuse_port_workers.ts [--workers 2] [--host 127.0.0.1] [--port 6380]
 *   redis-benchmark -p 6380 -t ping -q
 *
 * It prints `listening on HOST:PORT with N workers` first; on Ctrl+C or
 * SIGTERM, how many connections each Worker accepted, then
 * `server stopped`. bench/reuse_port_workers.ts measures 1 and 2 Workers
 * with redis-benchmark. Linux only (`--unstable-net`); elsewhere it exits
 * with one line saying why.
 *
 * @module
 */
import * as cli from "./_cli.ts";
import { describeError } from "./_echo_cli.ts";
import { LineReader, type StreamSocket, StreamSocketListener } from "../mod.ts";

/** What the main thread tells a Worker, and what it answers. */
type ToWorker = { bind: { host: string; port: number } } | { stop: true };
type FromWorker = { bound: number } | { failed: string } | {
  stopped: number;
};

const encoder = new TextEncoder();
const PONG = encoder.encode("+PONG\r\n");

/** `CONFIG GET name`: the name with an empty value (redis-benchmark asks for two at start). */
function configReply(command: string[]): Uint8Array {
  const name = command[2] ?? "";
  return encoder.encode(
    `*2\r\n$${encoder.encode(name).length}\r\n${name}\r\n$0\r\n\r\n`,
  );
}

/** Reads one command: a multi-bulk array (`*N`, then `$len` and the bytes, N times) or an inline line. */
async function readCommand(lines: LineReader): Promise<string[] | null> {
  const first = await lines.readLine();
  if (first === null) return null;
  if (!first.startsWith("*")) return first.split(" ").filter((w) => w !== "");
  const count = Number(first.slice(1));
  const words: string[] = [];
  // Bounded by the count the client sent, capped: a command has few words.
  for (let i = 0; i < Math.min(count, 64); i++) {
    const length = await lines.readLine(); // `$len`: the line itself is the word
    const word = await lines.readLine();
    if (length === null || word === null) return null;
    words.push(word);
  }
  return words;
}

/** Answers commands until the client closes the connection. */
async function serveConnection(socket: StreamSocket): Promise<void> {
  await using s = socket;
  const lines = new LineReader(s.inputStream);
  for (let command; (command = await readCommand(lines)) !== null;) {
    const name = (command[0] ?? "").toUpperCase();
    if (name === "PING") s.outputStream.writeAsync(PONG);
    else if (name === "CONFIG") s.outputStream.writeAsync(configReply(command));
    else {
      s.outputStream.writeAsync(
        encoder.encode(`-ERR unknown command '${name.slice(0, 32)}'\r\n`),
      );
    }
  }
  await s.outputStream.flushAsync();
}

/** The Worker side: one listener with reusePort, counting what it accepts. */
function runWorker(): void {
  const self = globalThis as unknown as {
    onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
    postMessage(message: FromWorker): void;
    close(): void;
  };
  const listener = new StreamSocketListener();
  listener.control.reusePort = true;
  let accepted = 0;
  listener.addEventListener("connectionreceived", ({ socket }) => {
    accepted++;
    serveConnection(socket).catch(() => socket.close());
  });
  // A client's failure is its own: keep serving (and say nothing per client).
  listener.addEventListener("error", () => {});
  self.onmessage = async ({ data }) => {
    if ("bind" in data) {
      try {
        await listener.bindEndpointAsync(data.bind.host, data.bind.port);
        self.postMessage({ bound: listener.information.localPort });
      } catch (error) {
        self.postMessage({ failed: describeError(error) });
      }
      return;
    }
    await listener.closeAsync();
    self.postMessage({ stopped: accepted });
    self.close();
  };
}

/** A started Worker and a way to wait for its next answer. */
interface WorkerHandle {
  worker: Worker;
  next(): Promise<FromWorker>;
}

function startWorker(): WorkerHandle {
  const worker = new Worker(import.meta.url, { type: "module" });
  const queue: FromWorker[] = [];
  let waiting: ((message: FromWorker) => void) | undefined;
  worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
    if (waiting !== undefined) {
      const resolve = waiting;
      waiting = undefined;
      resolve(data);
    } else queue.push(data);
  };
  return {
    worker,
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift()!)
        : new Promise((resolve) => (waiting = resolve)),
  };
}

/** Asks a Worker to bind; resolves with the port or throws its one-line failure. */
async function bind(
  handle: WorkerHandle,
  host: string,
  port: number,
): Promise<number> {
  handle.worker.postMessage({ bind: { host, port } } satisfies ToWorker);
  const answer = await handle.next();
  if ("bound" in answer) return answer.bound;
  throw new Error("failed" in answer ? answer.failed : "unexpected answer");
}

/**
 * Starts `workers` Workers on `host:port` (0: any free port, then the same
 * for all); disposing stops them and resolves with each one's count.
 */
export async function startWorkers(
  workers: number,
  host: string,
  port: number,
): Promise<
  { port: number; stop(): Promise<number[]> } & AsyncDisposable
> {
  const handles: WorkerHandle[] = [];
  const stop = async (): Promise<number[]> => {
    const counts = await Promise.all(handles.map(async (handle) => {
      handle.worker.postMessage({ stop: true } satisfies ToWorker);
      const answer = await handle.next();
      handle.worker.terminate();
      return "stopped" in answer ? answer.stopped : 0;
    }));
    handles.length = 0;
    return counts;
  };
  try {
    let shared = port;
    for (let i = 0; i < workers; i++) {
      const handle = startWorker();
      handles.push(handle);
      shared = await bind(handle, host, shared);
    }
    return {
      port: shared,
      stop,
      [Symbol.asyncDispose]: async () => void await stop(),
    };
  } catch (error) {
    for (const handle of handles) handle.worker.terminate();
    throw error;
  }
}

const OPTIONS = {
  workers: { type: "string", default: "2" },
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "6380" },
} as const;

const USAGE = cli.formatUsage({
  summary:
    "One port served by N Workers with reusePort (Linux): a PING server redis-benchmark -t ping can load; prints each Worker's connection count when stopped.",
  commands: [
    "deno run --allow-net --allow-read --unstable-net examples/reuse_port_workers.ts [--workers N] [--host HOST] [--port N]",
  ],
  options: [
    ["--workers N", "how many Workers share the port, 1 to 64 (default: 2)"],
    ["--host HOST", "the address to bind (default: 127.0.0.1)"],
    ["--port N", "the port, 0 for any free one (default: 6380)"],
  ],
  notes: [
    'Prints "listening on HOST:PORT with N workers" first and "server stopped" last.',
  ],
});

async function main(): Promise<void> {
  const values = cli.parseCommandLine(OPTIONS, USAGE);
  try {
    const workers = cli.parseIntegerFlag(
      "--workers",
      values.workers,
      1,
      64,
      "a number of Workers from 1 to 64",
    );
    const port = cli.parsePortFlag(values.port, 0);
    if (Deno.build.os !== "linux") {
      throw cli.flagError(
        `reusePort spreads connections only on Linux, not on ${Deno.build.os}`,
      );
    }
    const server = await startWorkers(workers, values.host, port);
    let counts: number[] = [];
    const stoppable = {
      [Symbol.asyncDispose]: async () => void (counts = await server.stop()),
    };
    const signal = await cli.serveUntilStopped(
      stoppable,
      () =>
        console.log(
          `listening on ${values.host}:${server.port} with ${workers} workers`,
        ),
    );
    counts.forEach((count, i) =>
      console.log(`worker ${i + 1}: ${count} connections`)
    );
    console.log(`server stopped (${signal})`);
  } catch (error) {
    console.error(describeError(error));
    Deno.exit(1);
  }
}

// In a Worker, import.meta.main is true as well: the global scope tells them apart.
if ("WorkerGlobalScope" in globalThis) runWorker();
else if (import.meta.main) await main();
