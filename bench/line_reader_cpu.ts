// deno-lint-ignore-file no-console
/**
 * The library's JavaScript cost per chunk of pipelined requests, without the
 * kernel: 8 sockets over an in-memory connection whose reads return a chunk
 * of `--lines` `PING\r\n` lines at once and whose writes complete at once.
 * Three servers answer each line with `+PONG\r\n`: a raw loop over the same
 * connection (counts the newlines, one write per chunk), the library's
 * `readAsync` server and its `LineReader` server written as the README teaches
 * (`for await` + one `writeAsync` per line). Prints the fastest and the
 * median time per chunk over `--rounds` runs. A report, not a goal: the
 * redis-benchmark goals live in `line_protocol.ts`; this isolates what the
 * library adds to raw Deno in JavaScript, which `--cpu-prof` can then explain.
 * The in-memory reads complete at once, where a socket's take a turn of the
 * event loop: an output stream that waits a few ticks then gathers the
 * answers to several chunks into one write, which a socket server cannot.
 *
 *   deno run bench/line_reader_cpu.ts [--chunks 100000] [--lines 16] [--rounds 15] [--smoke]
 *   deno run --allow-read bench/line_reader_cpu.ts --baseline dir
 *
 * `--baseline` adds the LineReader server of another checkout's library to
 * the same rounds, for before/after in one run.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  InputStreamOptions,
  LineReader,
  type SocketConnection,
  StreamSocket,
} from "../mod.ts";
import { positive, size, warmedRounds } from "./_common.ts";
import { timeOverMemory } from "./_memory_connection.ts";

const PONG = new TextEncoder().encode("+PONG\r\n");
const SOCKETS = 8;

function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) count++;
  return count;
}

type Server = (
  connection: SocketConnection,
  replies: Uint8Array,
) => Promise<void>;

const servers: Record<string, Server> = {
  "raw loop": async (connection, replies) => {
    const buffer = new Uint8Array(64 * 1024);
    for (let n; (n = await connection.read(buffer)) !== null;) {
      const count = countNewlines(buffer.subarray(0, n));
      await connection.write(replies.subarray(0, count * PONG.length));
    }
  },
  "library, readAsync": async (connection, replies) => {
    await using socket = StreamSocket.fromConnection(connection);
    const buffer = new Uint8Array(64 * 1024);
    const input = socket.inputStream;
    for (
      let n;
      (n = await input.readAsync(
        buffer,
        buffer.length,
        InputStreamOptions.Partial,
      )) > 0;
    ) {
      const count = countNewlines(buffer.subarray(0, n));
      socket.outputStream.writeAsync(replies.subarray(0, count * PONG.length));
    }
    await socket.outputStream.flushAsync();
  },
  "library, LineReader": async (connection) => {
    await using socket = StreamSocket.fromConnection(connection);
    for await (const _ of new LineReader(socket.inputStream)) {
      socket.outputStream.writeAsync(PONG);
    }
    await socket.outputStream.flushAsync();
  },
};

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      chunks: { type: "string", default: size("100000", "800") },
      lines: { type: "string", default: "16" },
      rounds: { type: "string", default: size("15", "2") },
      smoke: { type: "boolean", default: false },
      baseline: { type: "string" },
    },
  });
  const chunks = positive(values.chunks, "chunks");
  const lines = positive(values.lines, "lines");
  const rounds = positive(values.rounds, "rounds");
  const chunk = new TextEncoder().encode("PING\r\n".repeat(lines));
  const replies = new Uint8Array(PONG.length * lines);
  for (let i = 0; i < lines; i++) replies.set(PONG, i * PONG.length);
  if (values.baseline !== undefined) {
    const library = await import(
      new URL(`${values.baseline}/mod.ts`, `file://${Deno.cwd()}/`).href
    );
    servers["baseline LineReader"] = async (connection) => {
      await using socket = library.StreamSocket.fromConnection(connection);
      for await (const _ of new library.LineReader(socket.inputStream)) {
        socket.outputStream.writeAsync(PONG);
      }
      await socket.outputStream.flushAsync();
    };
  }
  const results = await warmedRounds(
    servers,
    rounds,
    (server) =>
      timeOverMemory((connection) => server(connection, replies), {
        chunk,
        chunks,
        sockets: SOCKETS,
        answer: replies.length,
        units: 1,
      }),
    "chunk",
  );
  console.log(
    `${lines} lines per chunk, ${chunks} chunks over ${SOCKETS} in-memory sockets, ${rounds} rounds alternating`,
  );
  console.log(results);
}
