// deno-lint-ignore-file no-console
/**
 * Batched sends: N copies of "Hello, World!" to a local sink, three ways.
 *
 * 1. The awaited loop: `await outputStream.writeAsync(message)` for each one;
 *    every message waits for its own system call.
 * 2. Concurrent writes: every `writeAsync` started, then `Promise.all`.
 * 3. The writer: `await writer.ready; writer.write(message)` for each one,
 *    then one `flushAsync()`; `ready` bounds the memory held when the peer
 *    reads slowly.
 *
 * Ways 2 and 3 let the output stream gather the messages into a few large
 * system calls. The sink (a `StreamSocketListener` on 127.0.0.1, port 0)
 * counts and checks every byte it receives.
 *
 * Run: deno run --allow-net=127.0.0.1 examples/batched_sends.ts [--count 100000]
 * (`--help` prints the options.)
 */
import { formatUsage, parseCommandLine, parseIntegerFlag } from "./_cli.ts";
import {
  InputStreamOptions,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";

const MESSAGE = new TextEncoder().encode("Hello, World!");

/** The outcome of one way of sending. */
export interface BatchedSendsResult {
  /** Which way. */
  name: string;
  /** Milliseconds from the first write until the sink had every byte. */
  ms: number;
  /** Bytes the sink received, all checked. */
  received: number;
}

/** What the sink got on one connection. */
interface Received {
  count: number;
  wrong: number;
}

/** Counts the bytes of each connection and checks them against the repeated message. */
function listenSink(listener: StreamSocketListener): Promise<Received>[] {
  const results: PromiseWithResolvers<Received>[] = [];
  let next = 0;
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    const result = results[next++];
    const buffer = new Uint8Array(64 * 1024);
    let count = 0;
    let wrong = 0;
    try {
      for (
        let n;
        (n = await socket.inputStream.readAsync(
          buffer,
          buffer.length,
          InputStreamOptions.Partial,
        )) > 0;
      ) {
        for (let i = 0; i < n; i++) {
          if (buffer[i] !== MESSAGE[(count + i) % MESSAGE.length]) wrong++;
        }
        count += n;
      }
      result?.resolve({ count, wrong });
    } catch (error) {
      result?.reject(error);
    } finally {
      socket.close();
    }
  });
  return Array.from({ length: 3 }, () => {
    const deferred = Promise.withResolvers<Received>();
    results.push(deferred);
    return deferred.promise;
  });
}

/**
 * Sends `count` copies of "Hello, World!" three ways to a local sink, checks
 * that every byte arrived intact, and logs each way's time and its ratio to
 * the awaited loop.
 *
 * @param count How many messages each way sends.
 * @param log Where the lines go.
 * @returns One result per way, the awaited loop first.
 * @throws {Error} If the sink did not receive every byte intact.
 */
export async function runBatchedSends(
  count: number,
  log: (line: string) => void = console.log,
): Promise<BatchedSendsResult[]> {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`"count" must be a positive integer, got ${count}`);
  }
  await using listener = new StreamSocketListener();
  const sinks = listenSink(listener);
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;

  const ways: [string, (socket: StreamSocket) => Promise<void>][] = [
    ["awaited loop", async (socket) => {
      for (let i = 0; i < count; i++) {
        await socket.outputStream.writeAsync(MESSAGE);
      }
    }],
    ["Promise.all", async (socket) => {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        writes.push(socket.outputStream.writeAsync(MESSAGE));
      }
      await Promise.all(writes);
    }],
    ["writer + flushAsync", async (socket) => {
      const writer = socket.outputStream.getWriter();
      for (let i = 0; i < count; i++) {
        await writer.ready;
        writer.write(MESSAGE);
      }
      await socket.outputStream.flushAsync();
      writer.releaseLock();
    }],
  ];

  const results: BatchedSendsResult[] = [];
  for (const [index, [name, send]] of ways.entries()) {
    await using socket = await StreamSocket.connectAsync("127.0.0.1", port);
    const start = performance.now();
    await send(socket);
    await socket.outputStream.closeAsync();
    const { count: received, wrong } = await sinks[index]!;
    const ms = performance.now() - start;
    const expected = count * MESSAGE.length;
    if (received !== expected || wrong !== 0) {
      throw new Error(
        `${name}: the sink received ${received} of ${expected} bytes, ${wrong} wrong`,
      );
    }
    results.push({ name, ms, received });
  }
  const base = results[0]!.ms;
  for (const { name, ms, received } of results) {
    log(
      `${name.padEnd(20)} ${ms.toFixed(1).padStart(9)} ms  ${
        (base / ms).toFixed(1).padStart(6)
      }x the awaited loop  (${received} bytes verified)`,
    );
  }
  return results;
}

const USAGE = formatUsage({
  summary:
    'Batched sends: N copies of "Hello, World!" to a local sink three ways ' +
    "(awaited loop, Promise.all, writer + flushAsync), each timed and its " +
    "bytes checked.",
  commands: [
    "deno run --allow-net=127.0.0.1 examples/batched_sends.ts [--count N]",
  ],
  options: [["--count N", "messages each way sends (default: 100000)"]],
});

if (import.meta.main) {
  const values = parseCommandLine(
    { count: { type: "string", default: "100000" } },
    USAGE,
  );
  try {
    await runBatchedSends(
      parseIntegerFlag(
        "--count",
        values.count,
        1,
        Number.MAX_SAFE_INTEGER,
        "a positive integer",
      ),
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
