// deno-lint-ignore-file no-console
/**
 * The library's JavaScript cost per frame of a framed echo, without the
 * kernel: 8 sockets over an in-memory connection whose reads return a chunk
 * of `--frames` frames (a big-endian `uint32` length and `--payload` bytes)
 * at once and whose writes complete at once. Two servers echo every frame
 * with one awaited write: a raw loop over the same connection (parses its
 * read buffer and writes each frame from it, as `_framed_echo.ts`'s raw
 * server does) and the library's `DataReader`/`DataWriter` server written as
 * that file's library server is (`readView` for the payload, one awaited
 * `storeAsync` per frame). Prints the fastest and the median time per frame
 * over `--rounds` runs. A report, not a goal: the goals live in
 * `framed_pipeline.ts` and `framed_soak.ts`; this isolates what the library
 * adds in JavaScript, which `--cpu-prof` can then explain.
 *
 *   deno run bench/framed_cpu.ts [--chunks 40000] [--frames 16] [--payload 32] [--rounds 9] [--smoke]
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  DataReader,
  DataWriter,
  InputStreamOptions,
  type SocketConnection,
  StreamSocket,
} from "../mod.ts";
import { median, positive, size, table } from "./_common.ts";

const SOCKETS = 8;

/**
 * An in-memory connection: `chunks` times `chunk` (a read takes what fits of
 * the current one), then the end; counts the bytes written.
 */
function memoryConnection(
  chunk: Uint8Array,
  chunks: number,
): { connection: SocketConnection; written: () => number } {
  let left = chunks;
  let offset = 0;
  let written = 0;
  const address = { hostname: "127.0.0.1", port: 1 };
  return {
    connection: {
      read(buffer: Uint8Array): Promise<number | null> {
        if (offset === 0 && left-- <= 0) return Promise.resolve(null);
        const n = Math.min(buffer.length, chunk.length - offset);
        buffer.set(chunk.subarray(offset, offset + n));
        offset = (offset + n) % chunk.length;
        return Promise.resolve(n);
      },
      write(bytes: Uint8Array): Promise<number> {
        written += bytes.length;
        return Promise.resolve(bytes.length);
      },
      closeWrite: () => Promise.resolve(),
      close: () => {},
      localAddr: address,
      remoteAddr: address,
    },
    written: () => written,
  };
}

/** Loads until `count` bytes are unconsumed; false at the end of the stream (as `_framed_echo.ts`). */
async function ensure(reader: DataReader, count: number): Promise<boolean> {
  while (reader.unconsumedBufferLength < count) {
    if (await reader.loadAsync(count - reader.unconsumedBufferLength) === 0) {
      return false;
    }
  }
  return true;
}

type Server = (connection: SocketConnection) => Promise<void>;

const servers: Record<string, Server> = {
  "raw loop": async (connection) => {
    const buffer = new Uint8Array(2 * (64 * 1024 + 4));
    const view = new DataView(buffer.buffer);
    let start = 0;
    let end = 0;
    while (true) {
      if (end === buffer.length) {
        buffer.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      const n = await connection.read(buffer.subarray(end));
      if (n === null) return;
      end += n;
      while (end - start >= 4) {
        const length = view.getUint32(start);
        if (end - start < 4 + length) break;
        const frame = buffer.subarray(start, start + 4 + length);
        for (let offset = 0; offset < frame.length;) {
          offset += await connection.write(frame.subarray(offset));
        }
        start += 4 + length;
      }
      if (start === end) start = end = 0;
    }
  },
  "library, DataReader/DataWriter": async (connection) => {
    await using socket = StreamSocket.fromConnection(connection);
    const reader = new DataReader(socket.inputStream);
    reader.inputStreamOptions = InputStreamOptions.ReadAhead;
    const writer = new DataWriter(socket.outputStream);
    while (await ensure(reader, 4)) {
      const length = reader.readUInt32();
      if (!await ensure(reader, length)) return;
      writer.writeUInt32(length);
      writer.writeBytes(reader.readView(length));
      await writer.storeAsync();
    }
  },
};

/** One run: `chunks` chunks over SOCKETS sockets at once; ns per frame. */
async function run(
  server: Server,
  chunk: Uint8Array,
  chunks: number,
  frames: number,
): Promise<number> {
  const per = Math.ceil(chunks / SOCKETS);
  const connections = Array.from(
    { length: SOCKETS },
    () => memoryConnection(chunk, per),
  );
  const start = performance.now();
  await Promise.all(connections.map((c) => server(c.connection)));
  const elapsed = performance.now() - start;
  const expected = per * SOCKETS * chunk.length;
  const written = connections.reduce((sum, c) => sum + c.written(), 0);
  if (written !== expected) {
    throw new Error(`wrote ${written} bytes, expected ${expected}`);
  }
  return elapsed * 1e6 / (per * SOCKETS * frames);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      chunks: { type: "string", default: size("40000", "400") },
      frames: { type: "string", default: "16" },
      payload: { type: "string", default: "32" },
      rounds: { type: "string", default: size("9", "2") },
      smoke: { type: "boolean", default: false },
    },
  });
  const chunks = positive(values.chunks, "chunks");
  const frames = positive(values.frames, "frames");
  const payload = positive(values.payload, "payload");
  const rounds = positive(values.rounds, "rounds");
  if (payload > 64 * 1024) {
    throw new RangeError(
      `"payload" must be at most 65536 (the raw loop's buffer holds two frames), got ${payload}`,
    );
  }
  const chunk = new Uint8Array(frames * (4 + payload));
  const view = new DataView(chunk.buffer);
  for (let f = 0; f < frames; f++) {
    view.setUint32(f * (4 + payload), payload);
    chunk.fill(f & 0xff, f * (4 + payload) + 4, (f + 1) * (4 + payload));
  }
  const times: Record<string, number[]> = {};
  for (const name of Object.keys(servers)) times[name] = [];
  // A warm-up run each, then the servers alternate.
  for (const server of Object.values(servers)) {
    await run(server, chunk, chunks, frames);
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, server] of Object.entries(servers)) {
      times[name]!.push(await run(server, chunk, chunks, frames));
    }
  }
  console.log(
    `${frames} frames of ${payload} B per chunk, ${chunks} chunks over ${SOCKETS} in-memory sockets, ${rounds} rounds alternating`,
  );
  console.log(table([
    ["server", "fastest ns/frame", "median ns/frame"],
    ...Object.entries(times).map(([name, t]) => [
      name,
      Math.min(...t).toFixed(0),
      median(t).toFixed(0),
    ]),
  ]));
}
