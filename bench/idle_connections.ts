// deno-lint-ignore-file no-console
/**
 * Memory per idle connection: a server accepts 5,000 connections and waits
 * on a read on each. Each variant runs in its own server process (this
 * script with `--variant`), so they do not pollute each other; this process
 * opens the connections (it is not measured) and compares:
 *
 * - raw 1 KiB: `Deno.TcpListener` + `conn.read(new Uint8Array(1024))`;
 * - lib 1 KiB: `StreamSocketListener` + `inputStream.readAsync(1 KiB buffer)`,
 *   in a `connectionreceived` handler (the UWP way) that hands the socket on
 *   (an `async ({ socket }) => ...` handler keeps its event alive while it
 *   waits: about 250 B more per connection);
 * - lib for-await: the same, taking sockets with `for await` (no event object
 *   per connection);
 * - raw 64 KiB: as raw, with a 64 KiB buffer (for reference).
 *
 * The server measures `Deno.memoryUsage()` after garbage collection (run
 * with `--v8-flags=--expose-gc`) before listening and once every connection
 * waits on its read; the difference over the count is the cost per
 * connection. The JS heap is shown both as used and as committed (V8 grows
 * its heap in steps, and resident memory follows what is committed). Goal: lib ≤ raw 1 KiB + 1 KiB per connection.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/idle_connections.ts [--connections 5000] [--rounds 2]
 */
import { parseArgs } from "node:util";
import {
  InputStreamOptions,
  type StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { median, positive, table, within } from "./_common.ts";

const VARIANTS = [
  "raw 1 KiB",
  "lib 1 KiB",
  "lib for-await",
  "raw 64 KiB",
] as const;
type VariantName = typeof VARIANTS[number];
const LIMIT_MS = 120_000;

interface Measure {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

// ---------------------------------------------------------------- the server

async function collect(): Promise<Measure> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Let pending reads reach the runtime and short-lived objects die first.
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc?.();
  }
  const { rss, heapUsed, heapTotal, external } = Deno.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

/** Serves `count` idle connections with one variant, printing its port, then the measures. */
async function server(variant: VariantName, count: number): Promise<void> {
  let accepted = 0;
  const all = Promise.withResolvers<void>();
  const onAccept = (): void => {
    if (++accepted === count) all.resolve();
  };
  const before = await collect();
  // Both library variants wait the same way; only how sockets arrive differs.
  const waitOn = async (socket: StreamSocket): Promise<void> => {
    const buffer = new Uint8Array(1024);
    onAccept();
    await socket.inputStream.readAsync(
      buffer,
      1024,
      InputStreamOptions.Partial,
    );
    socket.close();
  };
  if (variant === "lib 1 KiB") {
    const listener = new StreamSocketListener();
    listener.addEventListener(
      "connectionreceived",
      ({ socket }) => waitOn(socket),
    );
    await listener.bindEndpointAsync("127.0.0.1", 0);
    console.log(listener.information.localPort);
  } else if (variant === "lib for-await") {
    const listener = new StreamSocketListener();
    await listener.bindEndpointAsync("127.0.0.1", 0);
    console.log(listener.information.localPort);
    (async () => {
      for await (const socket of listener) {
        waitOn(socket).catch(() => socket.close());
      }
    })();
  } else {
    const size = variant === "raw 1 KiB" ? 1024 : 64 * 1024;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    console.log(listener.addr.port);
    (async () => {
      for await (const conn of listener) {
        (async () => {
          const buffer = new Uint8Array(size);
          onAccept();
          await conn.read(buffer);
          conn.close();
        })().catch(() => conn.close());
      }
    })();
  }
  await all.promise;
  const after = await collect();
  console.log(JSON.stringify({
    before,
    after,
    gc: typeof (globalThis as { gc?: unknown }).gc === "function",
  }));
  // Stay up, connections open, until the parent kills this process.
  await new Promise(() => {});
}

// ---------------------------------------------------------------- the parent

interface Result {
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  gc: boolean;
}

async function measure(variant: VariantName, count: number): Promise<Result> {
  const script = new URL(import.meta.url).pathname;
  // Each connection is one descriptor on each side: raise the limit for the server.
  const command = `ulimit -n ${count + 1000} 2>/dev/null; exec "$0" "$@"`;
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      command,
      Deno.execPath(),
      "run",
      "--allow-net=127.0.0.1",
      "--v8-flags=--expose-gc",
      script,
      "--variant",
      variant,
      "--connections",
      String(count),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const nextLine = async (): Promise<string> => {
    // Bounded by the child: every chunk is real output, its end stops the loop.
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`the ${variant} server exited early`);
      text += value;
    }
    const line = text.slice(0, text.indexOf("\n"));
    text = text.slice(text.indexOf("\n") + 1);
    return line;
  };
  const conns: Deno.TcpConn[] = [];
  try {
    const port = Number(await within(nextLine(), LIMIT_MS, "the port"));
    // Open connections a few dozen at a time, so the accept backlog never overflows.
    for (let i = 0; i < count; i += 50) {
      const batch = Math.min(50, count - i);
      conns.push(
        ...await Promise.all(
          Array.from(
            { length: batch },
            () => Deno.connect({ hostname: "127.0.0.1", port }),
          ),
        ),
      );
    }
    const report = JSON.parse(
      await within(nextLine(), LIMIT_MS, `the ${variant} measures`),
    ) as { before: Measure; after: Measure; gc: boolean };
    return {
      rss: (report.after.rss - report.before.rss) / count,
      heap: (report.after.heapUsed - report.before.heapUsed) / count,
      heapTotal: (report.after.heapTotal - report.before.heapTotal) / count,
      external: (report.after.external - report.before.external) / count,
      gc: report.gc,
    };
  } finally {
    for (const conn of conns) conn.close();
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await lines.cancel().catch(() => {});
    await child.status;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      variant: { type: "string" },
      connections: { type: "string", default: "5000" },
      rounds: { type: "string", default: "2" },
    },
  });
  const count = positive(values.connections, "connections");
  if (values.variant !== undefined) {
    if (!(VARIANTS as readonly string[]).includes(values.variant)) {
      throw new TypeError(
        `"--variant" must be one of ${
          VARIANTS.join(", ")
        }, got ${values.variant}`,
      );
    }
    return await server(values.variant as VariantName, count);
  }
  const rounds = positive(values.rounds, "rounds");
  // This process holds the client ends: it needs a descriptor per connection too.
  console.log(
    `idle connections: ${count} per server process, ${rounds} rounds, rss/heap/external per connection after gc`,
  );
  const results = new Map<VariantName, Result[]>(
    VARIANTS.map((v) => [v, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const variant = VARIANTS[(k + round) % VARIANTS.length]!;
      results.get(variant)!.push(await measure(variant, count));
    }
  }
  const per = (
    v: VariantName,
    key: "rss" | "heap" | "heapTotal" | "external",
  ): number => median(results.get(v)!.map((r) => r[key]));
  const rows = [[
    "variant",
    "rss B/conn",
    "js heap B/conn",
    "heap committed B/conn",
    "external B/conn",
    "rss vs raw 1 KiB",
  ]];
  for (const v of VARIANTS) {
    rows.push([
      v,
      per(v, "rss").toFixed(0),
      per(v, "heap").toFixed(0),
      per(v, "heapTotal").toFixed(0),
      per(v, "external").toFixed(0),
      `${per(v, "rss") - per("raw 1 KiB", "rss") >= 0 ? "+" : ""}${
        (per(v, "rss") - per("raw 1 KiB", "rss")).toFixed(0)
      } B`,
    ]);
  }
  console.log(table(rows));
  const gc = [...results.values()].flat().every((r) => r.gc);
  for (const lib of ["lib 1 KiB", "lib for-await"] as const) {
    const over = per(lib, "rss") - per("raw 1 KiB", "rss");
    console.log(
      `goal ${lib} <= raw 1 KiB + 1024 B per connection: +${
        over.toFixed(0)
      } B (${over <= 1024 ? "met" : "NOT MET"})${
        gc ? "" : " (no gc: --expose-gc missing)"
      }`,
    );
  }
}

if (import.meta.main) await main();
