// deno-lint-ignore-file no-console
/**
 * The framed echo servers of `framed_pipeline.ts` and `framed_soak.ts`, run
 * as their own process: a frame is a big-endian `uint32` length and that many
 * bytes, echoed back as it came.
 *
 *   deno run --allow-net=127.0.0.1 bench/_framed_echo.ts raw|library|raw-nodelay|library-nagle
 *
 * The library sets `TCP_NODELAY` by default (UWP's `NoDelay` default, and
 * Go's); a `Deno.Conn` leaves Nagle's algorithm on. With a write per frame
 * that difference alone is worth 2x (Nagle coalesces the frames written while
 * one is unacknowledged), so `raw-nodelay` and `library-nagle` give each
 * server the other's setting, for comparisons of like with like.
 *
 * Prints `listening <port>` once it accepts connections. Both servers read
 * ahead into a buffer and answer every frame with one awaited write, the way
 * `examples/tcp_echo_framed.ts` teaches it.
 *
 * @module
 */
import {
  DataReader,
  DataWriter,
  InputStreamOptions,
  type StreamSocket,
  StreamSocketListener,
} from "../mod.ts";

/** The largest frame payload the servers accept. */
export const MAX_PAYLOAD = 64 * 1024;

/** What the raw echo needs of a connection: a `Deno.Conn`, or an in-memory one (`framed_cpu.ts`). */
export type RawConnection = Pick<Deno.Conn, "read" | "write">;

async function writeAll(conn: RawConnection, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** The raw server's echo of one connection: each frame written from the read buffer, awaited. */
export async function echoRaw(conn: RawConnection): Promise<void> {
  const buffer = new Uint8Array(2 * (MAX_PAYLOAD + 4));
  const view = new DataView(buffer.buffer);
  let start = 0;
  let end = 0;
  while (true) {
    if (end === buffer.length) {
      buffer.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    const n = await conn.read(buffer.subarray(end));
    if (n === null) return;
    end += n;
    while (end - start >= 4) {
      const length = view.getUint32(start);
      if (length > MAX_PAYLOAD) throw new RangeError(`frame of ${length} B`);
      if (end - start < 4 + length) break;
      await writeAll(conn, buffer.subarray(start, start + 4 + length));
      start += 4 + length;
    }
    if (start === end) start = end = 0;
  }
}

async function serveRaw(noDelay: boolean): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${listener.addr.port}`);
  for await (const conn of listener) {
    if (noDelay) conn.setNoDelay(true);
    echoRaw(conn).catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    });
  }
}

/** The library server's echo of one socket, with DataReader and DataWriter; closes it. */
export async function echoLibrary(socket: StreamSocket): Promise<void> {
  await using s = socket;
  const reader = new DataReader(s.inputStream);
  // Each load waits for the bytes asked and reads all that fits: the next
  // frames are often there already, and then need no load.
  reader.inputStreamOptions = InputStreamOptions.ReadAhead;
  const writer = new DataWriter(s.outputStream);
  while (true) {
    const header = 4 - reader.unconsumedBufferLength;
    if (header > 0 && await reader.loadAsync(header) < header) return;
    const length = reader.readUInt32();
    if (length > MAX_PAYLOAD) throw new RangeError(`frame of ${length} B`);
    const body = length - reader.unconsumedBufferLength;
    if (body > 0 && await reader.loadAsync(body) < body) return;
    writer.writeUInt32(length);
    writer.writeBytes(reader.readView(length));
    await writer.storeAsync();
  }
}

async function serveLibrary(noDelay: boolean): Promise<void> {
  const listener = new StreamSocketListener();
  listener.control.noDelay = noDelay;
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => echoLibrary(socket),
  );
  // A client that resets its connection is not a failure of the benchmark.
  listener.addEventListener("error", () => {});
  await listener.bindEndpointAsync("127.0.0.1", 0);
  console.log(`listening ${listener.information.localPort}`);
}

if (import.meta.main) {
  const kind = Deno.args[0];
  if (kind === "raw") await serveRaw(false);
  else if (kind === "raw-nodelay") await serveRaw(true);
  else if (kind === "library") await serveLibrary(true);
  else if (kind === "library-nagle") await serveLibrary(false);
  else {
    throw new TypeError(
      `usage: _framed_echo.ts raw|library|raw-nodelay|library-nagle, got ${kind}`,
    );
  }
}

/**
 * The resident memory of process `pid` in bytes, from /proc (Linux), read by
 * `cat`: Deno lets a script read /proc only with `--allow-all`.
 */
export async function rss(pid: number): Promise<number> {
  const output = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  const match = /VmRSS:\s+(\d+) kB/.exec(
    new TextDecoder().decode(output.stdout),
  );
  return match === null ? NaN : Number(match[1]) * 1024;
}

/** Reads exactly `buffer.length` bytes, or throws at the end of the stream. */
export async function readExact(
  conn: Deno.Conn,
  buffer: Uint8Array,
): Promise<void> {
  for (let got = 0; got < buffer.length;) {
    const n = await conn.read(buffer.subarray(got));
    if (n === null) throw new Error("the server closed the connection");
    got += n;
  }
}

export { writeAll };
