// deno-lint-ignore-file no-console
/**
 * Pipelined frames: a client process keeps 16 frames (a big-endian `uint32`
 * length + a 32-byte payload) in flight on each of 50 and 500 connections to
 * a framed echo server in its own process; the library's DataReader/DataWriter
 * server against the same protocol on raw `Deno.Conn` (`_framed_echo.ts`).
 * Server pinned to core 0, client to core 1 when `taskset` exists; variants
 * alternate within every round; medians.
 *
 *   deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/framed_pipeline.ts \
 *     [--frames 400000] [--rounds 3] [--connections 50,500] [--depth 16] [--baseline dir]
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
import { writeAll } from "./_framed_echo.ts";

const PAYLOAD = 32;

/** The client: `frames` echoes in all over `connections`, `depth` in flight on each; prints frames per second. */
async function client(
  port: number,
  connections: number,
  frames: number,
  depth: number,
): Promise<void> {
  const frame = new Uint8Array(4 + PAYLOAD);
  new DataView(frame.buffer).setUint32(0, PAYLOAD);
  const burst = new Uint8Array(frame.length * depth);
  for (let i = 0; i < depth; i++) burst.set(frame, i * frame.length);
  const perConnection = Math.max(depth, Math.ceil(frames / connections));
  const conns = await Promise.all(
    Array.from(
      { length: connections },
      () => Deno.connect({ hostname: "127.0.0.1", port }),
    ),
  );
  const start = performance.now();
  await Promise.all(conns.map(async (conn) => {
    conn.setNoDelay(true);
    const buffer = new Uint8Array(burst.length);
    let sent = Math.min(depth, perConnection);
    await writeAll(conn, burst.subarray(0, sent * frame.length));
    let received = 0;
    let partial = 0;
    while (received < perConnection) {
      const n = await conn.read(buffer.subarray(partial));
      if (n === null) throw new Error("the server closed the connection");
      partial += n;
      const whole = Math.floor(partial / frame.length);
      partial -= whole * frame.length;
      received += whole;
      const more = Math.min(whole, perConnection - sent);
      if (more > 0) {
        sent += more;
        await writeAll(conn, burst.subarray(0, more * frame.length));
      }
    }
    conn.close();
  }));
  const seconds = (performance.now() - start) / 1000;
  console.log(
    JSON.stringify({ perSecond: (perConnection * connections) / seconds }),
  );
}

async function compare(
  frames: number,
  rounds: number,
  connectionCounts: number[],
  depth: number,
  baseline: string | undefined,
): Promise<void> {
  const pin = await hasCommand("taskset");
  const pinned = (core: number, command: string[]): [string, string[]] =>
    pin
      ? ["taskset", ["-c", String(core), ...command]]
      : [command[0]!, command.slice(1)];
  const server = new URL("_framed_echo.ts", import.meta.url).pathname;
  const self = new URL(import.meta.url).pathname;
  // Each server also runs with the other's TCP_NODELAY setting: see
  // `_framed_echo.ts`. The goals compare like with like.
  const variants = [
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
  const servers = [];
  try {
    for (const variant of variants) {
      const [command, args] = pinned(0, [
        Deno.execPath(),
        "run",
        "--allow-net=127.0.0.1",
        "--allow-read",
        variant.script,
        variant.kind,
      ]);
      const process = await spawnChild(command, args);
      servers.push({ process, port: Number(process.firstLine.split(" ")[1]) });
    }
    const drive = async (
      port: number,
      connections: number,
      count: number,
    ): Promise<number> => {
      const [command, args] = pinned(1, [
        Deno.execPath(),
        "run",
        "--allow-net=127.0.0.1",
        "--allow-read",
        self,
        "--client",
        String(port),
        "--connections",
        String(connections),
        "--frames",
        String(count),
        "--depth",
        String(depth),
      ]);
      return JSON.parse(await runChild(command, args, 120_000)).perSecond;
    };
    // Warm-up, not counted.
    for (const s of servers) {
      await drive(s.port, connectionCounts[0]!, Math.min(frames, 50_000));
    }
    const results = connectionCounts.map(() =>
      variants.map((): number[] => [])
    );
    for (let round = 0; round < rounds; round++) {
      for (const [c, connections] of connectionCounts.entries()) {
        for (let k = 0; k < variants.length; k++) {
          const v = (k + round) % variants.length;
          results[c]![v]!.push(
            await drive(servers[v]!.port, connections, frames),
          );
        }
      }
    }
    console.log(
      `framed echo, ${PAYLOAD}-byte payloads, ${depth} frames in flight per connection, ${frames} frames, medians of ${rounds} rounds${
        pin ? ", server on core 0, client on core 1" : ""
      }`,
    );
    const rows = connectionCounts.map((connections, c) => ({
      connections,
      rates: results[c]!.map((r) => median(r)),
    }));
    console.log(table([
      ["connections", ...variants.map((v) => v.label)],
      ...rows.map((r) => [
        String(r.connections),
        ...r.rates.map((rate, v) =>
          `${(rate / 1e3).toFixed(1)}k/s${
            v === 0 ? "" : ` (${ratio(rate, r.rates[0]!)})`
          }`
        ),
      ]),
    ]));
    // Judged only at the sizes the goal is defined for.
    const judged = !SMOKE && frames >= 400_000 && rounds >= 3;
    for (const r of rows) {
      const [raw, library, rawNoDelay, libraryNagle] = r.rates as [
        number,
        number,
        number,
        number,
      ];
      const at = `at ${r.connections} connections`;
      const goal = (text: string, met: boolean): void => {
        console.log(
          judged ? `goal: ${text}: ${met ? "met" : "NOT met"}` : text,
        );
      };
      goal(
        `pipelined frames >= 0.9x raw, both TCP_NODELAY (the library's default), ${at}: ${
          ratio(library, rawNoDelay)
        }`,
        library >= 0.9 * rawNoDelay,
      );
      goal(
        `pipelined frames >= 0.9x raw, both Nagle (Deno.Conn's default), ${at}: ${
          ratio(libraryNagle, raw)
        }`,
        libraryNagle >= 0.9 * raw,
      );
      console.log(
        `each with its own default (library TCP_NODELAY, raw Nagle) ${at}: ${
          ratio(library, raw)
        }`,
      );
    }
    if (!judged) {
      console.log(
        "goals not judged at this size: they are defined for --frames 400000 --rounds 3 or more",
      );
    }
  } finally {
    for (const s of servers) await s.process[Symbol.asyncDispose]();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      client: { type: "string" },
      frames: { type: "string", default: size("400000", "2000") },
      rounds: { type: "string", default: size("3", "1") },
      connections: { type: "string", default: size("50,500", "10") },
      smoke: { type: "boolean", default: false },
      depth: { type: "string", default: "16" },
      baseline: { type: "string" },
    },
  });
  const frames = positive(values.frames, "frames");
  const depth = positive(values.depth, "depth");
  if (values.client !== undefined) {
    await client(
      positive(values.client, "client"),
      positive(values.connections, "connections"),
      frames,
      depth,
    );
  } else {
    await compare(
      frames,
      positive(values.rounds, "rounds"),
      values.connections.split(",").map((c) => positive(c, "connections")),
      depth,
      values.baseline,
    );
  }
}
