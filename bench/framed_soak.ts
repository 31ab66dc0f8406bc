// deno-lint-ignore-file no-console
/**
 * Saturation and fairness: 1,000 clients, in a client process of their own,
 * each send 200 frames of random size (1 B to 64 KiB, the same seeded sizes
 * for every server) one after the other through the framed echo
 * (`_framed_echo.ts`), all at once. Every message's round trip is recorded:
 * p50, p99 and maximum, and each client's longest wait. The server's resident
 * memory is sampled before the clients connect, at its peak, and 2 s after
 * they left. The library's DataReader/DataWriter server against raw
 * `Deno.Conn`, alternating rounds; server on core 0 and client on core 1 when
 * `taskset` exists.
 *
 *   deno run --allow-net=127.0.0.1 --allow-run bench/framed_soak.ts \
 *     [--clients 1000] [--messages 200] [--max-size 65536] [--rounds 1] [--baseline dir]
 *
 * `--baseline` adds the library server of another checkout (with
 * `_framed_echo.ts` copied into its `bench/`), for before/after in one run.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  hasCommand,
  median,
  positive,
  ratio,
  runChild,
  size,
  SMOKE,
  spawnChild,
  table,
} from "./_common.ts";
import { MAX_PAYLOAD, readExact, rss, writeAll } from "./_framed_echo.ts";

interface ClientResult {
  p50: number;
  p99: number;
  max: number;
  /** The median over clients of each client's longest wait. */
  clientMaxP50: number;
  seconds: number;
}

/** A small seeded generator (mulberry32): the same sizes for every server. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function client(
  port: number,
  clients: number,
  messages: number,
  maxSize: number,
): Promise<void> {
  const payload = new Uint8Array(4 + maxSize);
  for (let i = 4; i < payload.length; i++) payload[i] = i & 0xff;
  const latencies = new Float64Array(clients * messages);
  const clientMax = new Float64Array(clients);
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const next = random(c + 1);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    // Its own frame buffer: the header is written in place.
    const frame = payload.slice();
    const view = new DataView(frame.buffer);
    const header = new Uint8Array(4);
    const reply = new Uint8Array(maxSize);
    try {
      for (let m = 0; m < messages; m++) {
        const size = 1 + Math.floor(next() * maxSize);
        view.setUint32(0, size);
        const t0 = performance.now();
        await writeAll(conn, frame.subarray(0, 4 + size));
        await readExact(conn, header);
        const length = new DataView(header.buffer).getUint32(0);
        if (length !== size) {
          throw new Error(`echo of ${length} B for ${size} B`);
        }
        await readExact(conn, reply.subarray(0, length));
        const latency = performance.now() - t0;
        latencies[c * messages + m] = latency;
        if (latency > clientMax[c]!) clientMax[c] = latency;
      }
    } finally {
      conn.close();
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort();
  clientMax.sort();
  const at = (sorted: Float64Array, q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
  const result: ClientResult = {
    p50: at(latencies, 0.5),
    p99: at(latencies, 0.99),
    max: latencies[latencies.length - 1]!,
    clientMaxP50: at(clientMax, 0.5),
    seconds,
  };
  console.log(JSON.stringify(result));
}

interface Round extends ClientResult {
  before: number;
  peak: number;
  after: number;
}

/** The servers of `_framed_echo.ts`, with their own or each other's TCP_NODELAY. */
type ServerKind = "raw" | "library" | "raw-nodelay" | "library-nagle";

async function soak(
  script: string,
  kind: ServerKind,
  pin: boolean,
  options: { clients: number; messages: number; maxSize: number },
): Promise<Round> {
  const self = new URL(import.meta.url).pathname;
  const deno = [
    Deno.execPath(),
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
  ];
  const serverCommand = [...deno, script, kind];
  await using process = pin
    ? await spawnChild("taskset", ["-c", "0", ...serverCommand])
    : await spawnChild(serverCommand[0]!, serverCommand.slice(1));
  const pid = process.child.pid;
  const port = process.firstLine.split(" ")[1]!;
  const before = await rss(pid);
  let peak = before;
  let sampling = false;
  const sampler = setInterval(async () => {
    if (sampling) return;
    sampling = true;
    peak = Math.max(peak, await rss(pid).catch(() => 0));
    sampling = false;
  }, 100);
  const clientCommand = [
    ...deno,
    self,
    "--client",
    port,
    "--clients",
    String(options.clients),
    "--messages",
    String(options.messages),
    "--max-size",
    String(options.maxSize),
  ];
  let result: ClientResult;
  try {
    const stdout = pin
      ? await runChild("taskset", ["-c", "1", ...clientCommand], 300_000)
      : await runChild(clientCommand[0]!, clientCommand.slice(1), 300_000);
    result = JSON.parse(stdout);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, await rss(pid));
  // The server's own time to release what the connections held.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return { ...result, before, peak, after: await rss(pid) };
}

async function compare(
  rounds: number,
  options: { clients: number; messages: number; maxSize: number },
  baseline: string | undefined,
): Promise<void> {
  const pin = await hasCommand("taskset");
  const server = new URL("_framed_echo.ts", import.meta.url).pathname;
  // Each server also runs with the other's TCP_NODELAY setting (see
  // `_framed_echo.ts`): the goals compare like with like.
  const variants: { label: string; script: string; kind: ServerKind }[] = [
    { label: "raw Deno.Conn", script: server, kind: "raw" },
    { label: "DataReader/DataWriter", script: server, kind: "library" },
    { label: "raw, TCP_NODELAY", script: server, kind: "raw-nodelay" },
    { label: "library, Nagle", script: server, kind: "library-nagle" },
  ];
  if (baseline !== undefined) {
    variants.push({
      label: "baseline DataReader/DataWriter",
      script: `${baseline}/bench/_framed_echo.ts`,
      kind: "library",
    });
  }
  const results: Round[][] = variants.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (k + round) % variants.length;
      const variant = variants[v]!;
      results[v]!.push(await soak(variant.script, variant.kind, pin, options));
    }
  }
  const summary = results.map((rs) => {
    const pick = (key: keyof Round): number => median(rs.map((r) => r[key]));
    return {
      p50: pick("p50"),
      p99: pick("p99"),
      max: pick("max"),
      clientMaxP50: pick("clientMaxP50"),
      seconds: pick("seconds"),
      before: pick("before"),
      peak: pick("peak"),
      after: pick("after"),
    };
  });
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const mib = (x: number): string => `${(x / 2 ** 20).toFixed(0)} MiB`;
  console.log(
    `framed echo soak: ${options.clients} clients x ${options.messages} messages of 1 B to ${options.maxSize} B, medians of ${rounds} rounds${
      pin ? ", server on core 0, client on core 1" : ""
    }`,
  );
  console.log(table([
    [
      "server",
      "p50",
      "p99",
      "max",
      "client's max wait, median",
      "wall",
      "RSS before",
      "peak",
      "after",
    ],
    ...summary.map((s, v) => [
      variants[v]!.label,
      ms(s.p50),
      ms(s.p99),
      ms(s.max),
      ms(s.clientMaxP50),
      `${s.seconds.toFixed(1)} s`,
      mib(s.before),
      mib(s.peak),
      mib(s.after),
    ]),
  ]));
  const [raw, library, rawNoDelay, libraryNagle] = summary as [
    Round,
    Round,
    Round,
    Round,
  ];
  // Judged only at the size the goals are defined for (1,000 clients).
  const judged = !SMOKE && options.clients >= 1000;
  if (!judged) {
    console.log(
      "goals not judged at this size: they are defined for --clients 1000 or more",
    );
  }
  const goal = (text: string, met: boolean): void => {
    console.log(
      judged ? `goal: ${text}: ${met ? "met" : "NOT met"}` : text,
    );
  };
  const pairs: [string, Round, Round][] = [
    ["both TCP_NODELAY (the library's default)", library, rawNoDelay],
    ["both Nagle (Deno.Conn's default)", libraryNagle, raw],
  ];
  for (const [setting, lib, base] of pairs) {
    goal(
      `p99 <= 1.5x raw, ${setting}: ${ratio(lib.p99, base.p99)}`,
      lib.p99 <= 1.5 * base.p99,
    );
    goal(
      `max <= 1.5x raw, ${setting}: ${ratio(lib.max, base.max)}`,
      lib.max <= 1.5 * base.max,
    );
    goal(
      `RSS after <= 1.25x raw, ${setting}: ${ratio(lib.after, base.after)}`,
      lib.after <= 1.25 * base.after,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      client: { type: "string" },
      clients: { type: "string", default: size("1000", "20") },
      messages: { type: "string", default: size("200", "5") },
      smoke: { type: "boolean", default: false },
      "max-size": { type: "string", default: String(MAX_PAYLOAD) },
      rounds: { type: "string", default: "1" },
      baseline: { type: "string" },
    },
  });
  const options = {
    clients: positive(values.clients, "clients"),
    messages: positive(values.messages, "messages"),
    maxSize: Math.min(positive(values["max-size"], "max-size"), MAX_PAYLOAD),
  };
  if (values.client !== undefined) {
    await client(
      positive(values.client, "client"),
      options.clients,
      options.messages,
      options.maxSize,
    );
  } else {
    await compare(positive(values.rounds, "rounds"), options, values.baseline);
  }
}
