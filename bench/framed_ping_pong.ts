// deno-lint-ignore-file no-console
/**
 * Framed ping-pong: a 4-byte big-endian length + a 13-byte payload, echoed
 * back, one round trip at a time on one loopback connection with no-delay on.
 * Compares DataReader/DataWriter over the library's StreamSocket with the same
 * protocol hand-written on raw Deno.Conn, alternating rounds in one run.
 *
 *   deno run --allow-net=127.0.0.1 bench/framed_ping_pong.ts [--round-trips 20000] [--rounds 5] [--smoke]
 *
 * `--smoke` runs 200 round trips, 1 round: a check that it runs.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  DataReader,
  DataWriter,
  InputStreamOptions,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { size } from "./_common.ts";

const { values } = parseArgs({
  options: {
    "round-trips": { type: "string", default: size("20000", "200") },
    rounds: { type: "string", default: size("5", "1") },
    smoke: { type: "boolean", default: false },
  },
});
const roundTrips = Number(values["round-trips"]);
const rounds = Number(values.rounds);
const payload = new TextEncoder().encode("Hello, World!");

interface Result {
  perSecond: number;
  p50: number;
  p99: number;
}

function summarize(latencies: Float64Array, elapsed: number): Result {
  latencies.sort();
  return {
    perSecond: latencies.length / (elapsed / 1000),
    p50: latencies[Math.floor(latencies.length * 0.5)]! * 1000,
    p99: latencies[Math.floor(latencies.length * 0.99)]! * 1000,
  };
}

async function readExact(
  conn: Deno.Conn,
  buffer: Uint8Array,
  count: number,
): Promise<void> {
  let got = 0;
  while (got < count) {
    const n = await conn.read(buffer.subarray(got, count));
    if (n === null) throw new Error("peer closed");
    got += n;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(bytes.subarray(off));
  }
}

async function raw(): Promise<Result> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = (async () => {
    const conn = await listener.accept();
    conn.setNoDelay(true);
    const buffer = new Uint8Array(64 * 1024);
    const view = new DataView(buffer.buffer);
    try {
      for (let i = 0; i < roundTrips; i++) {
        await readExact(conn, buffer, 4);
        const length = view.getUint32(0);
        await readExact(conn, buffer.subarray(4), length);
        await writeAll(conn, buffer.subarray(0, 4 + length));
      }
    } finally {
      conn.close();
    }
  })();
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  conn.setNoDelay(true);
  const frame = new Uint8Array(4 + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length);
  frame.set(payload, 4);
  const reply = new Uint8Array(64);
  const replyView = new DataView(reply.buffer);
  const latencies = new Float64Array(roundTrips);
  const start = performance.now();
  for (let i = 0; i < roundTrips; i++) {
    const t0 = performance.now();
    await writeAll(conn, frame);
    await readExact(conn, reply, 4);
    await readExact(conn, reply.subarray(4), replyView.getUint32(0));
    latencies[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - start;
  conn.close();
  await server;
  return summarize(latencies, elapsed);
}

/** With `ReadAhead`, one load waits until the missing bytes came. */
async function ensure(reader: DataReader, count: number): Promise<void> {
  const missing = count - reader.unconsumedBufferLength;
  if (missing > 0 && await reader.loadAsync(missing) < missing) {
    throw new Error("peer closed");
  }
}

async function library(): Promise<Result> {
  await using listener = new StreamSocketListener();
  const done = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    const reader = new DataReader(s.inputStream);
    reader.inputStreamOptions = InputStreamOptions.ReadAhead;
    const writer = new DataWriter(s.outputStream);
    try {
      for (let i = 0; i < roundTrips; i++) {
        await ensure(reader, 4);
        const length = reader.readUInt32();
        await ensure(reader, length);
        writer.writeUInt32(length);
        writer.writeBytes(reader.readBytes(length));
        await writer.storeAsync();
      }
      done.resolve();
    } catch (error) {
      done.reject(error);
    }
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const reader = new DataReader(client.inputStream);
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  const writer = new DataWriter(client.outputStream);
  const latencies = new Float64Array(roundTrips);
  const start = performance.now();
  for (let i = 0; i < roundTrips; i++) {
    const t0 = performance.now();
    writer.writeUInt32(payload.length);
    writer.writeBytes(payload);
    await writer.storeAsync();
    await ensure(reader, 4);
    const length = reader.readUInt32();
    await ensure(reader, length);
    reader.readBytes(length);
    latencies[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - start;
  await done.promise;
  return summarize(latencies, elapsed);
}

const results: Record<string, Result[]> = { raw: [], library: [] };
for (let round = 0; round < rounds; round++) {
  results.raw!.push(await raw());
  results.library!.push(await library());
}
const median = (xs: number[]): number =>
  xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rawRate = median(results.raw!.map((r) => r.perSecond));
console.log(
  `framed ping-pong: ${roundTrips} round trips x ${rounds} rounds, medians`,
);
console.log("variant   | round trips/s | p50 µs | p99 µs | ratio to raw");
for (const [name, rs] of Object.entries(results)) {
  const rate = median(rs.map((r) => r.perSecond));
  console.log(
    `${name.padEnd(9)} | ${rate.toFixed(0).padStart(13)} | ${
      median(rs.map((r) => r.p50)).toFixed(1).padStart(6)
    } | ${median(rs.map((r) => r.p99)).toFixed(1).padStart(6)} | ${
      (rate / rawRate).toFixed(2)
    }x`,
  );
}
