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
 * - lib idle-timeout: lib 1 KiB with `listener.control.idleTimeout` set (and
 *   never reached), for what the idle sweep costs per connection;
 * - raw 64 KiB: as raw, with a 64 KiB buffer (for reference).
 *
 * The server measures `Deno.memoryUsage()` after garbage collection (run
 * with `--v8-flags=--expose-gc`); the difference over the count is the cost
 * per connection. The JS heap is shown both as used and as committed (V8
 * grows its heap in steps, and resident memory follows what is committed).
 * Three measures, because the plain difference mixes what each connection
 * costs with one-time costs that only happen to coincide with the accepts:
 *
 * - cold, the measure: from before listening to all connections
 *   idle. It includes code pages of the deno binary touched for the first
 *   time (they vary by about 600 B per connection between runs), malloc
 *   arenas of V8's compiler threads (the library has more JS to optimize),
 *   and V8's new space, which grows during the accept burst.
 * - marginal: from half the connections to all of them, so one-time costs
 *   paid during the first half (code pages, compiler memory: V8's peak
 *   malloc is about 2.5 MB higher with the library, and glibc keeps it)
 *   drop out; V8's new space may still grow in the second half.
 * - settled: the same server after a last-resort gc (what V8 does under
 *   memory pressure): the new space shrinks and its pages go back to the
 *   system. Left idle for 20 s instead, V8 shrank its committed heap the
 *   same way but the pages stayed resident, so this is a lower bound, not
 *   what an idle server shows by itself. (A warm-up of closed connections
 *   before `before` was tried as a fourth measure and dropped: V8 regrows
 *   its new space in the burst anyway, and freed warm-up memory is reused,
 *   so it was the noisiest.)
 *
 * A second table splits the resident memory by mapping, read by this process
 * from the server's `/proc/<pid>/smaps` at the same moments (Deno lets a
 * process read `/proc` only with `--allow-all`, and reading it here leaves
 * the server's own memory untouched): V8 pages (anonymous 256 KiB mappings),
 * malloc (`[heap]`), other anonymous mappings (mostly thread arenas),
 * file-backed. Goal, for each measure: lib ≤ raw 1 KiB + 1 KiB per
 * connection, judged at 5,000 connections and 5 rounds or more (smaller runs
 * print the measures only: a few thousand bytes of one-time costs spread over
 * fewer connections weigh more per connection; `--smoke`: 20 connections,
 * 1 round). `--baseline DIR` adds the two handler variants of another
 * checkout (this script there, so it must have it), alternating with the
 * others, for a before/after in one run.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/idle_connections.ts [--connections 5000] [--rounds 5] [--baseline DIR] [--smoke]
 */
import { parseArgs } from "node:util";
import {
  InputStreamOptions,
  type StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import {
  exitWithParent,
  Goals,
  median,
  positive,
  runChild,
  size,
  table,
  within,
} from "./_common.ts";

const VARIANTS = [
  "raw 1 KiB",
  "lib 1 KiB",
  "lib for-await",
  "lib idle-timeout",
  "raw 64 KiB",
] as const;
type VariantName = typeof VARIANTS[number];
/** What the baseline checkout serves, under these names. */
const BASELINE_VARIANTS = [
  ["baseline lib 1 KiB", "lib 1 KiB"],
  ["baseline idle-timeout", "lib idle-timeout"],
] as const;

/** A server to measure: a variant of this script or of the baseline's. */
interface Run {
  name: string;
  script: string;
  variant: VariantName;
}
const MEASURES = ["cold", "marginal", "settled"] as const;
type MeasureName = typeof MEASURES[number];
const LIMIT_MS = 120_000;

interface Measure {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

type SnapshotName = "before" | "half" | "after" | "settled";

/** What the server prints, one JSON object a line. */
type ServerLine =
  | { port: number }
  | { snapshot: SnapshotName; memory: Measure; gc: boolean };

type GcOptions = {
  type?: "major" | "minor";
  execution?: "sync" | "async";
  flavor?: "regular" | "last-resort";
};
const gc = (globalThis as { gc?: (options?: GcOptions) => void }).gc;

// ---------------------------------------------------------------- the server

/** Where the server takes its middle measure. */
function halfOf(count: number): number {
  return Math.ceil(count / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function collect(): Promise<Measure> {
  // Let pending reads reach the runtime and short-lived objects die first.
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    gc?.();
  }
  const { rss, heapUsed, heapTotal, external } = Deno.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

/**
 * Prints a measure and waits until the parent has read the memory maps, so
 * both describe the same moment. The signal listener is set up first: its
 * cost is then in every measure, including the first.
 */
function reportMeasures(): (name: SnapshotName) => Promise<void> {
  let read: PromiseWithResolvers<void> | undefined;
  // Not SIGUSR1: Deno answers it, as Node does, by opening an inspector on 127.0.0.1:9229.
  Deno.addSignalListener("SIGUSR2", () => read?.resolve());
  return async (name) => {
    const memory = await collect();
    read = Promise.withResolvers<void>();
    console.log(
      JSON.stringify({ snapshot: name, memory, gc: gc !== undefined }),
    );
    await within(read.promise, LIMIT_MS, `the parent to read the ${name} maps`);
  };
}

/** Serves `count` idle connections with one variant, printing its port and its measures. */
async function server(variant: VariantName, count: number): Promise<void> {
  const snapshot = reportMeasures();
  let accepted = 0;
  const half = Promise.withResolvers<void>();
  const all = Promise.withResolvers<void>();
  const onAccept = (): void => {
    if (++accepted === halfOf(count)) half.resolve();
    if (accepted === count) all.resolve();
  };
  await snapshot("before");
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
  if (variant === "lib 1 KiB" || variant === "lib idle-timeout") {
    const listener = new StreamSocketListener();
    // Long enough never to fire here: what is measured is what watching costs.
    if (variant === "lib idle-timeout") listener.control.idleTimeout = 600_000;
    listener.addEventListener(
      "connectionreceived",
      ({ socket }) => waitOn(socket),
    );
    await listener.bindEndpointAsync("127.0.0.1", 0);
    console.log(JSON.stringify({ port: listener.information.localPort }));
  } else if (variant === "lib for-await") {
    const listener = new StreamSocketListener();
    await listener.bindEndpointAsync("127.0.0.1", 0);
    console.log(JSON.stringify({ port: listener.information.localPort }));
    (async () => {
      for await (const socket of listener) {
        waitOn(socket).catch(() => socket.close());
      }
    })();
  } else {
    const size = variant === "raw 1 KiB" ? 1024 : 64 * 1024;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    console.log(JSON.stringify({ port: listener.addr.port }));
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
  await half.promise;
  await snapshot("half");
  await all.promise;
  await snapshot("after");
  gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  await snapshot("settled");
  // Stay up, connections open, until the parent kills this process.
  await new Promise(() => {});
}

// ---------------------------------------------------------------- the parent

const PARTS = ["v8", "malloc", "anon", "file"] as const;
type Part = typeof PARTS[number];
type Breakdown = Record<Part, number>;

/** Resident bytes of `/proc/<pid>/smaps` by kind of mapping. */
function breakdown(smaps: string): Breakdown {
  const bytes: Breakdown = { v8: 0, malloc: 0, anon: 0, file: 0 };
  // The main stack, vdso and the like do not grow with connections.
  let part: Part | undefined;
  for (const line of smaps.split("\n")) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(
      line,
    );
    if (mapping) {
      const size = parseInt(mapping[2]!, 16) - parseInt(mapping[1]!, 16);
      const path = mapping[3]!;
      // V8 maps each heap page on its own; glibc arenas and large objects come in other sizes.
      if (path === "") part = size === 256 * 1024 ? "v8" : "anon";
      else if (path === "[heap]") part = "malloc";
      else if (path.startsWith("[anon")) part = "anon";
      else if (path.startsWith("/")) part = "file";
      else part = undefined;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && part !== undefined) bytes[part] += Number(rss[1]) * 1024;
  }
  return bytes;
}

interface Snapshot {
  memory: Measure;
  gc: boolean;
  maps: Breakdown | undefined;
}

/** The server's resident memory by mapping, where `/proc` has it. */
async function inspect(pid: number): Promise<Breakdown | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  return breakdown(await runChild("cat", [`/proc/${pid}/smaps`]));
}

/** Opens `n` connections into `conns` (so a failure still closes the ones open). */
async function open(
  port: number,
  n: number,
  conns: Deno.TcpConn[],
): Promise<void> {
  // A few dozen at a time, so the accept backlog never overflows.
  for (let i = 0; i < n; i += 50) {
    const batch = Math.min(50, n - i);
    conns.push(
      ...await Promise.all(
        Array.from(
          { length: batch },
          () => Deno.connect({ hostname: "127.0.0.1", port }),
        ),
      ),
    );
  }
}

function closeAll(conns: Deno.TcpConn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  conns.length = 0;
}

/** Runs one server process and returns its snapshots: before, after and settled. */
async function serve(
  { name, script, variant }: Run,
  count: number,
): Promise<Map<SnapshotName, Snapshot>> {
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
      if (done) throw new Error(`the ${name} server exited early`);
      text += value;
    }
    const line = text.slice(0, text.indexOf("\n"));
    text = text.slice(text.indexOf("\n") + 1);
    return line;
  };
  const read = async (what: string): Promise<ServerLine> =>
    JSON.parse(await within(nextLine(), LIMIT_MS, `${what} of ${name}`));
  const snapshots = new Map<SnapshotName, Snapshot>();
  const take = async (name: SnapshotName): Promise<Snapshot> => {
    const line = await read(`the ${name} measure`);
    if (!("snapshot" in line) || line.snapshot !== name) {
      throw new Error(
        `expected the ${name} measure, got ${JSON.stringify(line)}`,
      );
    }
    const snapshot = {
      memory: line.memory,
      gc: line.gc,
      maps: await inspect(child.pid),
    };
    snapshots.set(name, snapshot);
    child.kill("SIGUSR2");
    return snapshot;
  };
  const port = async (): Promise<number> => {
    const line = await read("the port");
    if (!("port" in line)) {
      throw new Error(`expected the port, got ${JSON.stringify(line)}`);
    }
    return line.port;
  };
  const conns: Deno.TcpConn[] = [];
  try {
    await take("before");
    const listening = await port();
    // The parent waits for the half measure before opening the rest.
    await within(
      open(listening, halfOf(count), conns),
      LIMIT_MS,
      "the connections",
    );
    await take("half");
    await within(
      open(listening, count - halfOf(count), conns),
      LIMIT_MS,
      "the connections",
    );
    await take("after");
    await take("settled");
    return snapshots;
  } finally {
    closeAll(conns);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await lines.cancel().catch(() => {});
    await child.status;
  }
}

interface PerConnection {
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  maps: Breakdown | undefined;
  gc: boolean;
}

function perConnection(
  before: Snapshot,
  after: Snapshot,
  count: number,
): PerConnection {
  const maps = before.maps && after.maps
    ? Object.fromEntries(
      PARTS.map((p) => [p, (after.maps![p] - before.maps![p]) / count]),
    ) as Breakdown
    : undefined;
  return {
    rss: (after.memory.rss - before.memory.rss) / count,
    heap: (after.memory.heapUsed - before.memory.heapUsed) / count,
    heapTotal: (after.memory.heapTotal - before.memory.heapTotal) / count,
    external: (after.memory.external - before.memory.external) / count,
    maps,
    gc: before.gc && after.gc,
  };
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? "+" : ""}${bytes.toFixed(0)} B`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      variant: { type: "string" },
      connections: { type: "string", default: size("5000", "20") },
      rounds: { type: "string", default: size("5", "1") },
      baseline: { type: "string" },
      smoke: { type: "boolean", default: false },
    },
  });
  const count = positive(values.connections, "connections");
  if (count < 2) {
    throw new RangeError(
      `"--connections" must be at least 2 (the marginal measure needs two halves), got ${count}`,
    );
  }
  if (values.variant !== undefined) {
    if (!(VARIANTS as readonly string[]).includes(values.variant)) {
      throw new TypeError(
        `"--variant" must be one of ${
          VARIANTS.join(", ")
        }, got ${values.variant}`,
      );
    }
    exitWithParent();
    return await server(values.variant as VariantName, count);
  }
  const rounds = positive(values.rounds, "rounds");
  const own = new URL(import.meta.url).pathname;
  const runs: Run[] = VARIANTS.map((variant) => ({
    name: variant,
    script: own,
    variant,
  }));
  if (values.baseline !== undefined) {
    const script = `${values.baseline}/bench/idle_connections.ts`;
    for (const [name, variant] of BASELINE_VARIANTS) {
      runs.push({ name, script, variant });
    }
  }
  // This process holds the client ends: it needs a descriptor per connection too.
  console.log(
    `idle connections: ${count} per server process, ${rounds} rounds, per connection after gc, medians`,
  );
  const results = new Map<string, Record<MeasureName, PerConnection>[]>(
    runs.map((r) => [r.name, []]),
  );
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < runs.length; k++) {
      const run = runs[(k + round) % runs.length]!;
      const snapshots = await serve(run, count);
      const before = snapshots.get("before")!;
      results.get(run.name)!.push({
        cold: perConnection(before, snapshots.get("after")!, count),
        marginal: perConnection(
          snapshots.get("half")!,
          snapshots.get("after")!,
          count - halfOf(count),
        ),
        settled: perConnection(before, snapshots.get("settled")!, count),
      });
    }
  }
  const per = (
    v: string,
    m: MeasureName,
    pick: (p: PerConnection) => number | undefined,
  ): number => median(results.get(v)!.map((r) => pick(r[m]) ?? NaN));
  const bytes = (n: number): string => Number.isNaN(n) ? "n/a" : n.toFixed(0);
  const over = (v: string, m: MeasureName): number =>
    per(v, m, (p) => p.rss) - per("raw 1 KiB", m, (p) => p.rss);

  console.log(
    "\ncold, the issue's measure: from before listening to all connections idle",
  );
  const rows = [[
    "variant",
    "rss B/conn",
    "js heap B/conn",
    "heap committed B/conn",
    "external B/conn",
    "rss vs raw 1 KiB",
  ]];
  const names = runs.map((r) => r.name);
  for (const v of names) {
    rows.push([
      v,
      bytes(per(v, "cold", (p) => p.rss)),
      bytes(per(v, "cold", (p) => p.heap)),
      bytes(per(v, "cold", (p) => p.heapTotal)),
      bytes(per(v, "cold", (p) => p.external)),
      signed(over(v, "cold")),
    ]);
  }
  console.log(table(rows));

  console.log(
    "\nby measure (marginal: from half the connections to all; settled: cold, then a last-resort gc)," +
      "\nrss split by mapping from smaps (each column its own median, so the parts need not add up)",
  );
  const split = [[
    "variant",
    "measure",
    "rss B/conn",
    "vs raw 1 KiB",
    "heap committed",
    "V8 pages",
    "malloc",
    "other anon",
    "file-backed",
  ]];
  for (const v of names) {
    for (const m of MEASURES) {
      split.push([
        v,
        m,
        bytes(per(v, m, (p) => p.rss)),
        signed(over(v, m)),
        bytes(per(v, m, (p) => p.heapTotal)),
        ...PARTS.map((part) => bytes(per(v, m, (p) => p.maps?.[part]))),
      ]);
    }
  }
  console.log(table(split));

  const gcMissing = [...results.values()].flat().some((r) =>
    MEASURES.some((m) => !r[m].gc)
  );
  const labels: Record<MeasureName, string> = {
    cold: "cold (the issue's measure)",
    marginal: "marginal",
    settled: "settled",
  };
  const goals = new Goals(
    count >= 5000 && rounds >= 5,
    "--connections 5000 --rounds 5",
  );
  const noGc = gcMissing ? " (no gc: --expose-gc missing)" : "";
  console.log();
  for (const m of MEASURES) {
    for (
      const lib of ["lib 1 KiB", "lib for-await", "lib idle-timeout"] as const
    ) {
      goals.check(
        `${labels[m]}: ${lib} <= raw 1 KiB + 1024 B per connection`,
        `${labels[m]}: ${lib} over raw 1 KiB per connection`,
        `${signed(over(lib, m))}${noGc}`,
        over(lib, m) <= 1024,
      );
    }
  }
  goals.end();
}

if (import.meta.main) await main();
