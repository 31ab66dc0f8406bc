// deno-lint-ignore-file no-console
/**
 * What the `node:net` backend costs next to the default `Deno.connect`: the
 * same library client code (`StreamSocket`, `inputStream.readAsync`,
 * `outputStream.writeAsync`) with `control.tcpBackend` `"deno"` and
 * `"node"` (the backend an `EndpointPair` with a local part, a
 * `keepAliveDelay` or `closeWithReset()` needs), against one raw Deno echo
 * server in a child process. Three measures, variants alternating round
 * after round in this one run:
 *
 * - bulk: MiB sent in 64 KiB chunks while the echo is read back;
 * - ping-pong: 16-byte request, 16-byte answer, one at a time;
 * - connects: connect, one byte each way, close.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/tcp_backends.ts [--mib 64] [--pings 5000] [--connects 300] [--rounds 5] [--smoke]
 */
import { parseArgs } from "node:util";
import { InputStreamOptions, StreamSocket, type TcpBackend } from "../mod.ts";
import * as common from "./_common.ts";

const CHUNK_SIZE = 64 * 1024;
const CHUNK = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 255);
const PING = new Uint8Array(16).fill(42);
const ROUND_LIMIT_MS = 120_000;
const BACKENDS: readonly TcpBackend[] = ["deno", "node"];

async function server(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ port: listener.addr.port }));
  for await (const conn of listener) {
    (async () => {
      conn.setNoDelay(true);
      const buffer = new Uint8Array(CHUNK_SIZE);
      for (let n; (n = await conn.read(buffer)) !== null;) {
        await common.writeAll(conn, buffer.subarray(0, n));
      }
      await conn.closeWrite();
    })().catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    });
  }
}

async function connect(
  port: number,
  backend: TcpBackend,
): Promise<StreamSocket> {
  const socket = new StreamSocket();
  socket.control.tcpBackend = backend;
  await socket.connectAsync("127.0.0.1", port);
  return socket;
}

/** Reads exactly `buffer.length` bytes or throws. */
async function readFully(
  socket: StreamSocket,
  buffer: Uint8Array,
): Promise<void> {
  const n = await socket.inputStream.readAsync(
    buffer,
    buffer.length,
    InputStreamOptions.None,
  );
  if (n !== buffer.length) {
    throw new Error(`short read: ${n} of ${buffer.length}`);
  }
}

async function bulk(
  port: number,
  backend: TcpBackend,
  chunks: number,
): Promise<void> {
  const socket = await connect(port, backend);
  try {
    let received = 0;
    const send = async (): Promise<void> => {
      for (let i = 0; i < chunks; i++) {
        await socket.outputStream.writeAsync(CHUNK);
      }
      await socket.outputStream.closeAsync();
    };
    const receive = async (): Promise<void> => {
      const buffer = new Uint8Array(CHUNK_SIZE);
      for (
        let n;
        (n = await socket.inputStream.readAsync(
          buffer,
          CHUNK_SIZE,
          InputStreamOptions.Partial,
        )) > 0;
      ) received += n;
    };
    await Promise.all([send(), receive()]);
    if (received !== chunks * CHUNK_SIZE) {
      throw new Error(
        `bulk ${backend}: echoed ${received} of ${chunks * CHUNK_SIZE} bytes`,
      );
    }
  } finally {
    socket.close();
  }
}

async function pingPong(
  port: number,
  backend: TcpBackend,
  pings: number,
): Promise<void> {
  const socket = await connect(port, backend);
  try {
    const answer = new Uint8Array(PING.length);
    for (let i = 0; i < pings; i++) {
      await socket.outputStream.writeAsync(PING);
      await readFully(socket, answer);
    }
  } finally {
    socket.close();
  }
}

async function connects(
  port: number,
  backend: TcpBackend,
  count: number,
): Promise<void> {
  const one = new Uint8Array(1);
  for (let i = 0; i < count; i++) {
    const socket = await connect(port, backend);
    try {
      await socket.outputStream.writeAsync(PING.subarray(0, 1));
      await readFully(socket, one);
    } finally {
      socket.close();
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      server: { type: "boolean", default: false },
      mib: { type: "string", default: common.size("64", "1") },
      pings: { type: "string", default: common.size("5000", "50") },
      connects: { type: "string", default: common.size("300", "5") },
      rounds: { type: "string", default: common.size("5", "1") },
      smoke: { type: "boolean", default: false },
    },
  });
  if (values.server) return await server();
  const chunks = common.positive(values.mib, "mib") * 16;
  const pings = common.positive(values.pings, "pings");
  const count = common.positive(values.connects, "connects");
  const rounds = common.positive(values.rounds, "rounds");
  await using child = await common.spawnChild(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    new URL(import.meta.url).pathname,
    "--server",
  ]);
  const { port } = JSON.parse(child.firstLine) as { port: number };
  const measures = {
    [`bulk ${chunks / 16} MiB each way`]: (b: TcpBackend) =>
      bulk(port, b, chunks),
    [`ping-pong ${pings} x 16 B`]: (b: TcpBackend) => pingPong(port, b, pings),
    [`${count} connects`]: (b: TcpBackend) => connects(port, b, count),
  };
  console.log(
    `tcp backends: the library client on Deno.connect vs node:net, one raw Deno echo server in a child process, ${rounds} rounds`,
  );
  const medians = await common.alternatingMedians(
    measures,
    BACKENDS,
    rounds,
    ROUND_LIMIT_MS,
  );
  const rows = [[
    "measure",
    "deno median ms",
    "node median ms",
    "node speed vs deno",
  ]];
  for (const [measure, by] of medians) {
    const deno = by.get("deno")!;
    const node = by.get("node")!;
    rows.push([
      measure,
      deno.toFixed(1),
      node.toFixed(1),
      common.ratio(deno, node),
    ]);
  }
  console.log(common.table(rows));
}

if (import.meta.main) await main();
