/**
 * An in-memory connection for the benchmarks that measure the library's
 * JavaScript without the kernel (`line_reader_cpu.ts`, `framed_cpu.ts`): a
 * zero-cost stub on purpose, where `SocketPair` would add the library's own
 * output stream on the far side.
 *
 * @module
 */
import type { SocketConnection } from "../mod.ts";

/**
 * `chunks` times `chunk` to read (a read takes what fits of the current
 * one), then the end of the stream; writes complete at once and are counted.
 */
export function memoryConnection(
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
        buffer.set(
          n === chunk.length ? chunk : chunk.subarray(offset, offset + n),
        );
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

/**
 * Runs `serve` over `sockets` in-memory connections at once, each reading
 * its share of `chunks` times `chunk`; checks that they wrote `answer` bytes
 * per chunk, and returns the nanoseconds per `units` (the lines or frames of
 * a chunk).
 */
export async function timeOverMemory(
  serve: (connection: SocketConnection) => Promise<void>,
  options: {
    chunk: Uint8Array;
    chunks: number;
    sockets: number;
    answer: number;
    units: number;
  },
): Promise<number> {
  const per = Math.ceil(options.chunks / options.sockets);
  const connections = Array.from(
    { length: options.sockets },
    () => memoryConnection(options.chunk, per),
  );
  const start = performance.now();
  await Promise.all(connections.map((c) => serve(c.connection)));
  const elapsed = performance.now() - start;
  const expected = per * options.sockets * options.answer;
  const written = connections.reduce((sum, c) => sum + c.written(), 0);
  if (written !== expected) {
    throw new Error(`wrote ${written} bytes, expected ${expected}`);
  }
  return elapsed * 1e6 / (per * options.sockets * options.units);
}
