// deno-lint-ignore-file no-console
/**
 * Batched sends: 200,000 messages of "Hello, World!" (13 bytes), no-delay on,
 * sent to a sink in a child process that counts and checks every byte. The
 * variants alternate, round after round, in this one run:
 *
 * - raw awaited: `await conn.write(msg)` on a `Deno.Conn`, one by one;
 * - lib awaited: `await outputStream.writeAsync(msg)`, one by one;
 * - lib writer: `await writer.ready; writer.write(msg)`, then one `flushAsync()`;
 * - lib writeAsync: every `writeAsync(msg)` started unawaited, then `flushAsync()`;
 * - concatenated: all messages in one buffer, one write (the ceiling);
 * - node cork: Node's `net` in a child, `cork()`/`uncork()` every 64 writes.
 *
 * Then bulk 64 KiB writes through the batched path (writer) against awaited
 * `writeAsync`. Each round's time runs from the first byte written to the
 * sink's reply, which it sends once it has read the end of the stream: every
 * variant is timed end to end, delivery included. Medians are printed.
 *
 * Goals: batched ≥ 10x the awaited loop, ≥ 1.0x Node cork/uncork; bulk
 * batched ≥ 0.95x bulk awaited; judged at 200,000 messages, 64 MiB and 5
 * rounds or more (`--smoke`: 1,000 messages, 1 MiB, 1 round, no goal). The
 * Node variant is left out when `node` is not on PATH.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-write --allow-env bench/batched_sends.ts [--messages 200000] [--rounds 5] [--bulk-mib 64] [--no-node] [--smoke]
 */
import { parseArgs } from "node:util";
import { StreamSocket } from "../mod.ts";
import {
  exitWithParent,
  Goals,
  hasCommand,
  median,
  positive,
  ratio,
  runChild,
  size,
  spawnChild,
  table,
  within,
  writeAll,
} from "./_common.ts";

const MESSAGE = new TextEncoder().encode("Hello, World!");
const CHUNK_SIZE = 64 * 1024;
/** The bulk pattern: one 64 KiB chunk sent over and over. */
const CHUNK = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 255);
const HEADER_MESSAGES = 0x4d; // "M"
const HEADER_BULK = 0x42; // "B"
const REPLY_SIZE = 12;
/** A round that takes longer than this is a hang, not a result. */
const ROUND_LIMIT_MS = 120_000;

// ---------------------------------------------------------------- the sink

/**
 * Accepts connections; on each, reads a header byte that names the pattern,
 * then checks every byte against it until the end of the stream, and replies
 * with the count (float64) and the number of wrong bytes (uint32).
 */
async function sink(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(listener.addr.port);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    drain(conn).catch((error) => console.error("sink:", error));
  }
}

async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(CHUNK_SIZE);
  let pattern: Uint8Array | undefined;
  let phase = 0;
  let count = 0;
  let wrong = 0;
  for (let n; (n = await conn.read(buffer)) !== null;) {
    let start = 0;
    if (pattern === undefined) {
      pattern = buffer[0] === HEADER_BULK ? CHUNK : MESSAGE;
      start = 1;
    }
    const period = pattern.length;
    for (let i = start; i < n; i++) {
      if (buffer[i] !== pattern[phase]) wrong++;
      if (++phase === period) phase = 0;
    }
    count += n - start;
  }
  const reply = new DataView(new ArrayBuffer(REPLY_SIZE));
  reply.setFloat64(0, count);
  reply.setUint32(8, wrong);
  await writeAll(conn, new Uint8Array(reply.buffer));
  conn.close();
}

function checkReply(reply: Uint8Array, expected: number, what: string): void {
  const view = new DataView(reply.buffer, reply.byteOffset, REPLY_SIZE);
  const count = view.getFloat64(0);
  const wrong = view.getUint32(8);
  if (count !== expected || wrong !== 0) {
    throw new Error(
      `${what}: the sink got ${count} bytes (expected ${expected}), ${wrong} wrong`,
    );
  }
}

// ---------------------------------------------------------------- senders

async function readReply(conn: Deno.Conn): Promise<Uint8Array> {
  const reply = new Uint8Array(REPLY_SIZE);
  let got = 0;
  while (got < REPLY_SIZE) {
    const n = await conn.read(reply.subarray(got));
    if (n === null) throw new Error("the sink closed before replying");
    got += n;
  }
  return reply;
}

/** Times a raw `Deno.Conn` sender, from the header to the sink's reply. */
async function timeRaw(
  port: number,
  header: number,
  expected: number,
  send: (conn: Deno.Conn) => Promise<void>,
  what: string,
): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    conn.setNoDelay(true);
    const start = performance.now();
    await writeAll(conn, new Uint8Array([header]));
    await send(conn);
    await conn.closeWrite();
    const reply = await readReply(conn);
    const ms = performance.now() - start;
    checkReply(reply, expected, what);
    return ms;
  } finally {
    conn.close();
  }
}

/** Times a library sender (no-delay is the library default), from the header to the sink's reply. */
async function timeLibrary(
  port: number,
  header: number,
  expected: number,
  send: (socket: StreamSocket) => Promise<void>,
  what: string,
): Promise<number> {
  const socket = await StreamSocket.connectAsync("127.0.0.1", port);
  try {
    const start = performance.now();
    await socket.outputStream.writeAsync(new Uint8Array([header]));
    await send(socket);
    await socket.outputStream.closeAsync();
    const reply = new Uint8Array(REPLY_SIZE);
    await socket.inputStream.readAsync(reply, REPLY_SIZE);
    const ms = performance.now() - start;
    checkReply(reply, expected, what);
    return ms;
  } finally {
    socket.close();
  }
}

const NODE_SENDER = `
const net = require("node:net");
const { once } = require("node:events");
const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const message = Buffer.from("Hello, World!");
const socket = net.connect({ host: "127.0.0.1", port, noDelay: true, highWaterMark: 512 * 1024 });
const replies = [];
socket.on("data", (chunk) => replies.push(chunk));
socket.on("error", (error) => { console.error(error); process.exit(1); });
socket.on("connect", async () => {
  socket.setNoDelay(true);
  const start = process.hrtime.bigint();
  socket.write(Buffer.from("M"));
  socket.cork();
  for (let i = 0; i < count; i++) {
    if (!socket.write(message)) {
      socket.uncork();
      await once(socket, "drain");
      socket.cork();
    }
    if ((i & 63) === 63) {
      socket.uncork();
      socket.cork();
    }
  }
  socket.uncork();
  socket.end();
  await once(socket, "end");
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const reply = Buffer.concat(replies);
  console.log(JSON.stringify({ ms, count: reply.readDoubleBE(0), wrong: reply.readUInt32BE(8) }));
});
`;

async function timeNode(
  script: string,
  port: number,
  messages: number,
): Promise<number> {
  const out = await runChild("node", [script, String(port), String(messages)]);
  const result = JSON.parse(out) as {
    ms: number;
    count: number;
    wrong: number;
  };
  if (result.count !== messages * MESSAGE.length || result.wrong !== 0) {
    throw new Error(
      `node cork: the sink got ${result.count} bytes, ${result.wrong} wrong`,
    );
  }
  return result.ms;
}

// ---------------------------------------------------------------- the run

interface Variant {
  name: string;
  /** Messages (or chunks) sent per round, for the rate. */
  units: number;
  run(): Promise<number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sink: { type: "boolean", default: false },
      messages: { type: "string", default: size("200000", "1000") },
      rounds: { type: "string", default: size("5", "1") },
      "bulk-mib": { type: "string", default: size("64", "1") },
      "no-node": { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
    },
  });
  if (values.sink) {
    exitWithParent();
    return await sink();
  }
  const messages = positive(values.messages, "messages");
  const rounds = positive(values.rounds, "rounds");
  const chunks = positive(values["bulk-mib"], "bulk-mib") * 16;
  const messageBytes = messages * MESSAGE.length;
  const bulkBytes = chunks * CHUNK_SIZE;

  await using sinkProcess = await spawnChild(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    new URL(import.meta.url).pathname,
    "--sink",
  ]);
  const port = Number(sinkProcess.firstLine);
  const useNode = !values["no-node"] && await hasCommand("node");
  const nodeScript = await Deno.makeTempFile({ suffix: ".cjs" });
  await Deno.writeTextFile(nodeScript, NODE_SENDER);
  const concatenated = new Uint8Array(messageBytes);
  for (let i = 0; i < messages; i++) {
    concatenated.set(MESSAGE, i * MESSAGE.length);
  }

  const M = HEADER_MESSAGES;
  const B = HEADER_BULK;
  const variants: Variant[] = [
    {
      name: "raw awaited (await conn.write)",
      units: messages,
      run: () =>
        timeRaw(port, M, messageBytes, async (conn) => {
          for (let i = 0; i < messages; i++) await writeAll(conn, MESSAGE);
        }, "raw awaited"),
    },
    {
      name: "lib awaited (await writeAsync)",
      units: messages,
      run: () =>
        timeLibrary(port, M, messageBytes, async (socket) => {
          const output = socket.outputStream;
          for (let i = 0; i < messages; i++) await output.writeAsync(MESSAGE);
        }, "lib awaited"),
    },
    {
      name: "lib batched writer (ready + write)",
      units: messages,
      run: () =>
        timeLibrary(port, M, messageBytes, async (socket) => {
          const writer = socket.outputStream.getWriter();
          for (let i = 0; i < messages; i++) {
            await writer.ready;
            writer.write(MESSAGE);
          }
          await socket.outputStream.flushAsync();
          writer.releaseLock();
        }, "lib batched writer"),
    },
    {
      name: "lib batched writeAsync (unawaited)",
      units: messages,
      run: () =>
        timeLibrary(port, M, messageBytes, async (socket) => {
          const output = socket.outputStream;
          for (let i = 0; i < messages; i++) output.writeAsync(MESSAGE);
          await output.flushAsync();
        }, "lib batched writeAsync"),
    },
    {
      name: "concatenated (one write)",
      units: messages,
      run: () =>
        timeRaw(
          port,
          M,
          messageBytes,
          (conn) => writeAll(conn, concatenated),
          "concatenated",
        ),
    },
  ];
  if (useNode) {
    variants.push({
      name: "node cork/uncork every 64",
      units: messages,
      run: () => timeNode(nodeScript, port, messages),
    });
  }
  variants.push(
    {
      name: "bulk 64 KiB lib awaited",
      units: chunks,
      run: () =>
        timeLibrary(port, B, bulkBytes, async (socket) => {
          const output = socket.outputStream;
          for (let i = 0; i < chunks; i++) await output.writeAsync(CHUNK);
        }, "bulk awaited"),
    },
    {
      name: "bulk 64 KiB lib batched writer",
      units: chunks,
      run: () =>
        timeLibrary(port, B, bulkBytes, async (socket) => {
          const writer = socket.outputStream.getWriter();
          for (let i = 0; i < chunks; i++) {
            await writer.ready;
            writer.write(CHUNK);
          }
          await socket.outputStream.flushAsync();
          writer.releaseLock();
        }, "bulk batched"),
    },
  );

  console.log(
    `batched sends: ${messages} x ${MESSAGE.length} B messages, bulk ${chunks} x 64 KiB, ${rounds} rounds${
      useNode ? "" : " (node not found: no Node variant)"
    }`,
  );
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so no variant always runs first (or right after another).
      for (let k = 0; k < variants.length; k++) {
        const variant = variants[(k + round) % variants.length]!;
        const ms = await within(variant.run(), ROUND_LIMIT_MS, variant.name);
        times.get(variant.name)!.push(ms);
      }
    }
  } finally {
    await Deno.remove(nodeScript).catch(() => {});
  }

  const rate = new Map<string, number>();
  for (const v of variants) {
    rate.set(v.name, v.units / (median(times.get(v.name)!) / 1000));
  }
  const r = (name: string): number => rate.get(name)!;
  const awaited = r("raw awaited (await conn.write)");
  const rows = [["variant", "median ms", "rate", "vs raw awaited"]];
  for (const v of variants) {
    const bulk = v.name.startsWith("bulk");
    rows.push([
      v.name,
      median(times.get(v.name)!).toFixed(1),
      bulk
        ? `${(r(v.name) * CHUNK_SIZE / 1e6).toFixed(0)} MB/s`
        : `${Math.round(r(v.name)).toLocaleString("en-US")} msg/s`,
      bulk ? "" : ratio(r(v.name), awaited),
    ]);
  }
  console.log(table(rows));

  const writer = r("lib batched writer (ready + write)");
  const unawaited = r("lib batched writeAsync (unawaited)");
  const libAwaited = r("lib awaited (await writeAsync)");
  const ceiling = r("concatenated (one write)");
  const goals = new Goals(
    messages >= 200_000 && chunks >= 64 * 16 && rounds >= 5,
    "--messages 200000 --bulk-mib 64 --rounds 5",
  );
  goals.check(
    "batched writer >= 10x lib awaited loop",
    "batched writer vs lib awaited loop",
    ratio(writer, libAwaited),
    writer / libAwaited >= 10,
  );
  goals.check(
    "batched writer >= 10x raw awaited loop",
    "batched writer vs raw awaited loop",
    ratio(writer, awaited),
    writer / awaited >= 10,
  );
  console.log(
    `batched writeAsync vs lib awaited loop: ${ratio(unawaited, libAwaited)}`,
  );
  if (useNode) {
    const node = r("node cork/uncork every 64");
    goals.check(
      "batched writer >= 1.0x node cork/uncork",
      "batched writer vs node cork/uncork",
      ratio(writer, node),
      writer / node >= 1,
    );
    console.log(
      `batched writeAsync vs node cork/uncork: ${ratio(unawaited, node)}`,
    );
  }
  console.log(
    `fraction of the concatenated-write ceiling: writer ${
      (writer / ceiling * 100).toFixed(0)
    }%, writeAsync ${(unawaited / ceiling * 100).toFixed(0)}%`,
  );
  const bulkBatched = r("bulk 64 KiB lib batched writer");
  const bulkAwaited = r("bulk 64 KiB lib awaited");
  goals.check(
    "bulk batched >= 0.95x bulk awaited",
    "bulk batched vs bulk awaited",
    ratio(bulkBatched, bulkAwaited),
    bulkBatched / bulkAwaited >= 0.95,
  );
  goals.end();
}

if (import.meta.main) await main();
