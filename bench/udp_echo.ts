// deno-lint-ignore-file no-console
/**
 * UDP echo throughput: `DatagramSocket` (events in, output streams out)
 * against raw `Deno.DatagramConn` send/receive, side by side in one run,
 * alternating variants, at most 32 datagrams in flight, on 127.0.0.1.
 *
 *   deno run --allow-net --unstable-net bench/udp_echo.ts [--count 100000] [--rounds 3] [--sizes 64,1200] [--smoke]
 *
 * `--smoke` runs 200 datagrams of 64 B, 1 round: a check that it runs.
 *
 * A datagram lost on the way counts as loss once no reply came for 200 ms;
 * the window is then refilled, so a run never hangs.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DatagramSocket, type OutputStream } from "../mod.ts";
import { size } from "./_common.ts";

const WINDOW = 32;
const STALL_MS = 200;

interface Result {
  seconds: number;
  received: number;
  lost: number;
}

/** Resolves every STALL_MS so a waiting client can notice lost datagrams. */
class Ticker {
  #timer: ReturnType<typeof setInterval>;
  #tick = Promise.withResolvers<void>();
  constructor() {
    this.#timer = setInterval(() => {
      const tick = this.#tick;
      this.#tick = Promise.withResolvers<void>();
      tick.resolve();
    }, STALL_MS);
  }
  get next(): Promise<void> {
    return this.#tick.promise;
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

async function runRaw(count: number, size: number): Promise<Result> {
  const server = Deno.listenDatagram({
    hostname: "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  const serving = (async () => {
    const buffer = new Uint8Array(65_536);
    try {
      while (true) {
        const [data, addr] = await server.receive(buffer);
        await server.send(data, addr);
      }
    } catch {
      // Closed at the end of the run.
    }
  })();
  const client = Deno.listenDatagram({
    hostname: "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  const target = server.addr;
  const payload = new Uint8Array(size).fill(7);
  const buffer = new Uint8Array(65_536);
  const ticker = new Ticker();
  let sent = 0, received = 0, lost = 0;
  const start = performance.now();
  let pending: Promise<unknown> | undefined;
  let atLastTick = 0;
  while (received + lost < count) {
    while (sent - received - lost < WINDOW && sent < count) {
      client.send(payload, target);
      sent++;
    }
    pending ??= client.receive(buffer);
    const tick = ticker.next;
    const winner = await Promise.race([
      pending.then(() => 1),
      tick.then(() => 0),
    ]);
    if (winner === 1) {
      received++;
      pending = undefined;
    } else {
      // A whole tick without a reply: what is in flight is lost.
      if (received === atLastTick) lost += sent - received - lost;
      atLastTick = received;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  ticker.stop();
  client.close();
  server.close();
  await Promise.allSettled([pending, serving]);
  return { seconds, received, lost };
}

async function runSeed(count: number, size: number): Promise<Result> {
  await using server = new DatagramSocket();
  // One output stream per sender, found by port, then address: like the raw
  // server's reply to `addr`, finding it allocates nothing per datagram.
  const outputs = new Map<number, Map<string, OutputStream>>();
  server.addEventListener("messagereceived", async (event) => {
    let byAddress = outputs.get(event.remotePort);
    if (byAddress === undefined) {
      byAddress = new Map();
      outputs.set(event.remotePort, byAddress);
    }
    const address = event.remoteAddress.canonicalName;
    let out = byAddress.get(address);
    if (out === undefined) {
      out = await server.getOutputStreamAsync(
        event.remoteAddress,
        event.remotePort,
      );
      byAddress.set(address, out);
    }
    await out.writeAsync(event.data);
  });
  await server.bindEndpointAsync("127.0.0.1", 0);
  await using client = new DatagramSocket();
  let received = 0;
  let arrived = Promise.withResolvers<void>();
  client.addEventListener("messagereceived", () => {
    received++;
    arrived.resolve();
  });
  await client.connectAsync("127.0.0.1", server.information.localPort);
  const out = client.outputStream;
  const payload = new Uint8Array(size).fill(7);
  const ticker = new Ticker();
  let sent = 0, lost = 0;
  let atLastTick = 0;
  const start = performance.now();
  while (received + lost < count) {
    while (sent - received - lost < WINDOW && sent < count) {
      out.writeAsync(payload);
      sent++;
    }
    const tick = ticker.next;
    const winner = await Promise.race([
      arrived.promise.then(() => 1),
      tick.then(() => 0),
    ]);
    if (winner === 1) {
      arrived = Promise.withResolvers<void>();
    } else {
      // A whole tick without a reply: what is in flight is lost.
      if (received === atLastTick) lost += sent - received - lost;
      atLastTick = received;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  ticker.stop();
  await out.flushAsync().catch(() => {});
  return { seconds, received, lost };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: "string", default: size("100000", "200") },
      rounds: { type: "string", default: size("3", "1") },
      sizes: { type: "string", default: size("64,1200", "64") },
      smoke: { type: "boolean", default: false },
    },
  });
  const count = Number(values.count);
  const rounds = Number(values.rounds);
  const sizes = values.sizes.split(",").map(Number);
  console.log(
    `UDP echo on 127.0.0.1, ${count} datagrams per run, ${WINDOW} in flight, ${rounds} rounds alternating, medians`,
  );
  console.log("size    raw dgram/s   seed dgram/s   ratio   loss raw/seed");
  for (const size of sizes) {
    await runRaw(Math.min(count, 2_000), size); // Warm-up.
    await runSeed(Math.min(count, 2_000), size);
    const raw: Result[] = [];
    const seed: Result[] = [];
    for (let round = 0; round < rounds; round++) {
      const rawFirst = round % 2 === 0;
      if (rawFirst) raw.push(await runRaw(count, size));
      seed.push(await runSeed(count, size));
      if (!rawFirst) raw.push(await runRaw(count, size));
    }
    const rate = (r: Result): number => r.received / r.seconds;
    const rawRate = median(raw.map(rate));
    const seedRate = median(seed.map(rate));
    const loss = (rs: Result[]): string =>
      `${rs.reduce((n, r) => n + r.lost, 0)}`;
    console.log(
      `${String(size).padEnd(6)}  ${rawRate.toFixed(0).padStart(11)}   ${
        seedRate.toFixed(0).padStart(12)
      }   ${(seedRate / rawRate).toFixed(2).padStart(4)}x   ${loss(raw)}/${
        loss(seed)
      }`,
    );
  }
}

if (import.meta.main) await main();
