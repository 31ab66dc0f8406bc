// deno-lint-ignore-file no-console
/**
 * One port served by 1 and by 2 Workers (examples/reuse_port_workers.ts,
 * `reusePort`, Linux), loaded by redis-benchmark's PING tests (inline and
 * multi-bulk), alternating round after round in this one run. Prints the
 * median requests per second of each, the ratio 2 : 1, and how the
 * connections split between the Workers (their counts, summed over the
 * rounds). The machine's core count bounds what a second Worker can add.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/reuse_port_workers.ts [--requests 50000] [--clients 50] [--rounds 3] [--smoke]
 */
import { parseArgs } from "node:util";
import * as common from "./_common.ts";

const EXAMPLE = new URL("../examples/reuse_port_workers.ts", import.meta.url)
  .pathname;
const TESTS = ["PING_INLINE", "PING_MBULK"] as const;
const LIMIT_MS = 120_000;

interface Round {
  rps: Record<string, number>;
  counts: number[];
}

/** Starts the example with `workers`, loads it with redis-benchmark, stops it. */
async function round(
  workers: number,
  requests: number,
  clients: number,
): Promise<Round> {
  await using server = await common.spawnChild(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--unstable-net",
    EXAMPLE,
    "--workers",
    String(workers),
    "--port",
    "0",
  ]);
  const port = /:(\d+) with/.exec(server.firstLine)?.[1];
  if (port === undefined) throw new Error(`unexpected: ${server.firstLine}`);
  const load = await common.runChild("redis-benchmark", [
    "-h",
    "127.0.0.1",
    "-p",
    port,
    "-t",
    "ping",
    "-n",
    String(requests),
    "-c",
    String(clients),
    "--csv",
  ], LIMIT_MS);
  const rps: Record<string, number> = {};
  for (const test of TESTS) {
    const line = load.split("\n").find((l) => l.startsWith(`"${test}"`));
    rps[test] = Number(line?.split(",")[1]?.replaceAll('"', ""));
  }
  server.child.kill("SIGTERM");
  const rest = await common.within(server.rest, 10_000, "the counts");
  const counts = [...rest.matchAll(/worker \d+: (\d+) connections/g)].map((m) =>
    Number(m[1])
  );
  return { rps, counts };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      // Never -n 1: redis-benchmark spins forever on it.
      requests: { type: "string", default: common.size("50000", "1000") },
      clients: { type: "string", default: common.size("50", "5") },
      rounds: { type: "string", default: common.size("3", "1") },
      smoke: { type: "boolean", default: false },
    },
  });
  if (
    Deno.build.os !== "linux" || !(await common.hasCommand("redis-benchmark"))
  ) {
    console.log(
      "reuse-port workers: skipped (needs Linux and redis-benchmark)",
    );
    return;
  }
  const requests = common.positive(values.requests, "requests");
  const clients = common.positive(values.clients, "clients");
  const rounds = common.positive(values.rounds, "rounds");
  console.log(
    `reuse-port workers: redis-benchmark -t ping -n ${requests} -c ${clients} against 1 and 2 Workers on one port, ${rounds} rounds, ${navigator.hardwareConcurrency} cores`,
  );
  const results = new Map<number, Round[]>([[1, []], [2, []]]);
  for (let r = 0; r < rounds; r++) {
    for (const workers of r % 2 === 0 ? [1, 2] : [2, 1]) {
      results.get(workers)!.push(await round(workers, requests, clients));
    }
  }
  const rows = [[
    "workers",
    ...TESTS.map((t) => `${t} req/s`),
    "connections per worker (all rounds)",
  ]];
  const medianOf = (workers: number, test: string): number =>
    common.median(results.get(workers)!.map((x) => x.rps[test]!));
  for (const workers of [1, 2]) {
    const totals = results.get(workers)!.reduce<number[]>(
      (sum, x) => x.counts.map((c, i) => c + (sum[i] ?? 0)),
      [],
    );
    rows.push([
      String(workers),
      ...TESTS.map((t) => medianOf(workers, t).toFixed(0)),
      totals.join(" / "),
    ]);
  }
  rows.push([
    "2 vs 1",
    ...TESTS.map((t) => common.ratio(medianOf(2, t), medianOf(1, t))),
    "",
  ]);
  console.log(common.table(rows));
}

if (import.meta.main) await main();
