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
 *   deno run --allow-read bench/framed_cpu.ts --baseline dir
 *
 * `--baseline` adds the library server of another checkout (its `mod.ts`
 * and `bench/_framed_echo.ts`) to the same rounds, for before/after in one run.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type SocketConnection, StreamSocket } from "../mod.ts";
import { echoLibrary, echoRaw } from "./_framed_echo.ts";
import { positive, size, warmedRounds } from "./_common.ts";
import { timeOverMemory } from "./_memory_connection.ts";

const SOCKETS = 8;

type Server = (connection: SocketConnection) => Promise<void>;

const servers: Record<string, Server> = {
  "raw loop": (connection) => echoRaw(connection),
  "library, DataReader/DataWriter": (connection) =>
    echoLibrary(StreamSocket.fromConnection(connection)),
};

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      chunks: { type: "string", default: size("40000", "400") },
      frames: { type: "string", default: "16" },
      payload: { type: "string", default: "32" },
      rounds: { type: "string", default: size("9", "2") },
      smoke: { type: "boolean", default: false },
      baseline: { type: "string" },
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
  if (values.baseline !== undefined) {
    const from = (path: string): string =>
      new URL(`${values.baseline}/${path}`, `file://${Deno.cwd()}/`).href;
    const library = await import(from("mod.ts"));
    const { echoLibrary: echoBaseline } = await import(
      from("bench/_framed_echo.ts")
    );
    servers["baseline library"] = (connection) =>
      echoBaseline(library.StreamSocket.fromConnection(connection));
  }
  const results = await warmedRounds(
    servers,
    rounds,
    (server) =>
      timeOverMemory(server, {
        chunk,
        chunks,
        sockets: SOCKETS,
        answer: chunk.length,
        units: frames,
      }),
    "frame",
  );
  console.log(
    `${frames} frames of ${payload} B per chunk, ${chunks} chunks over ${SOCKETS} in-memory sockets, ${rounds} rounds alternating`,
  );
  console.log(results);
}
