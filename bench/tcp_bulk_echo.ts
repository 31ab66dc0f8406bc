// deno-lint-ignore-file no-console
/**
 * Bulk echo: the client sends 256 MiB in 64 KiB chunks while it reads the
 * echo back; the server (a child process, so it has its own core) echoes.
 * Four variants alternate, round after round, in this one run, each using
 * the same API on both ends:
 *
 * - raw: `Deno.Conn` `read`/`write`;
 * - lib: `inputStream.readAsync` (64 KiB buffer, `InputStreamOptions.Partial`)
 *   and `outputStream.writeAsync`;
 * - lib streams: the library's `readable`/`writable` (the server pipes one
 *   into the other);
 * - deno streams: Deno's own `conn.readable`/`conn.writable`.
 *
 * Every byte is counted both ways, and the first MiB echoed is checked byte
 * by byte (with a checksum printed). Medians are printed, with the goals:
 * lib ≥ 0.9x raw, lib streams ≥ deno streams, judged at 256 MiB and 5 rounds
 * or more (`--smoke`: 1 MiB, 1 round, no goal).
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/tcp_bulk_echo.ts [--mib 256] [--rounds 5] [--smoke]
 */
import { parseArgs } from "node:util";
import {
  InputStreamOptions,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import {
  exitWithParent,
  Goals,
  median,
  positive,
  ratio,
  size,
  spawnChild,
  table,
  within,
  writeAll,
} from "./_common.ts";

const CHUNK_SIZE = 64 * 1024;
const CHUNK = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 255);
/** How much of the echo is checked byte by byte. */
const SAMPLE = 1024 * 1024;
const ROUND_LIMIT_MS = 120_000;
const VARIANTS = ["raw", "lib", "lib streams", "deno streams"] as const;
type VariantName = typeof VARIANTS[number];

// ---------------------------------------------------------------- servers

async function serveRaw(listener: Deno.TcpListener): Promise<void> {
  for await (const conn of listener) {
    (async () => {
      const buffer = new Uint8Array(CHUNK_SIZE);
      for (let n; (n = await conn.read(buffer)) !== null;) {
        await writeAll(conn, buffer.subarray(0, n));
      }
      await conn.closeWrite();
    })().catch((error) => console.error("raw server:", error)).finally(() =>
      conn.close()
    );
  }
}

async function serveDenoStreams(listener: Deno.TcpListener): Promise<void> {
  for await (const conn of listener) {
    // Deno's readable closes the connection at the end of the stream, which ends the echo too.
    conn.readable.pipeTo(conn.writable).catch((error) => {
      if (!(error instanceof Deno.errors.BadResource)) {
        console.error("deno streams server:", error);
      }
    });
  }
}

async function serveLibrary(): Promise<StreamSocketListener> {
  const listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    const buffer = new Uint8Array(CHUNK_SIZE);
    const input = socket.inputStream;
    const output = socket.outputStream;
    for (
      let n;
      (n = await input.readAsync(
        buffer,
        CHUNK_SIZE,
        InputStreamOptions.Partial,
      )) > 0;
    ) {
      // Awaited: the buffer is reused by the next read.
      await output.writeAsync(
        n === CHUNK_SIZE ? buffer : buffer.subarray(0, n),
      );
    }
    await output.closeAsync();
    socket.close();
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return listener;
}

async function serveLibraryStreams(): Promise<StreamSocketListener> {
  const listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await socket.inputStream.readable.pipeTo(socket.outputStream.writable);
    socket.close();
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return listener;
}

async function server(): Promise<void> {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deno = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const lib = await serveLibrary();
  const libStreams = await serveLibraryStreams();
  const ports: Record<VariantName, number> = {
    raw: raw.addr.port,
    lib: lib.information.localPort,
    "lib streams": libStreams.information.localPort,
    "deno streams": deno.addr.port,
  };
  console.log(JSON.stringify(ports));
  await Promise.all([serveRaw(raw), serveDenoStreams(deno)]);
}

// ---------------------------------------------------------------- clients

/** Checks the echo's first `SAMPLE` bytes against the pattern and sums them. */
class Verifier {
  received = 0;
  checksum = 0;
  wrong = 0;

  take(bytes: Uint8Array): void {
    const end = Math.min(bytes.length, SAMPLE - this.received);
    for (let i = 0; i < end; i++) {
      const expected = CHUNK[(this.received + i) % CHUNK_SIZE]!;
      if (bytes[i] !== expected) this.wrong++;
      this.checksum = (this.checksum + bytes[i]!) >>> 0;
    }
    this.received += bytes.length;
  }
}

function expectedChecksum(total: number): number {
  let sum = 0;
  for (let i = 0; i < Math.min(SAMPLE, total); i++) {
    sum = (sum + CHUNK[i % CHUNK_SIZE]!) >>> 0;
  }
  return sum;
}

type Client = (port: number, chunks: number, verifier: Verifier) => Promise<
  void
>;

const rawClient: Client = async (port, chunks, verifier) => {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const send = async (): Promise<void> => {
      for (let i = 0; i < chunks; i++) await writeAll(conn, CHUNK);
      await conn.closeWrite();
    };
    const receive = async (): Promise<void> => {
      const buffer = new Uint8Array(CHUNK_SIZE);
      for (let n; (n = await conn.read(buffer)) !== null;) {
        verifier.take(buffer.subarray(0, n));
      }
    };
    await Promise.all([send(), receive()]);
  } finally {
    conn.close();
  }
};

const libraryClient: Client = async (port, chunks, verifier) => {
  const socket = await StreamSocket.connectAsync("127.0.0.1", port);
  try {
    const send = async (): Promise<void> => {
      const output = socket.outputStream;
      for (let i = 0; i < chunks; i++) await output.writeAsync(CHUNK);
      await output.closeAsync();
    };
    const receive = async (): Promise<void> => {
      const buffer = new Uint8Array(CHUNK_SIZE);
      const input = socket.inputStream;
      for (
        let n;
        (n = await input.readAsync(
          buffer,
          CHUNK_SIZE,
          InputStreamOptions.Partial,
        )) > 0;
      ) {
        verifier.take(buffer.subarray(0, n));
      }
    };
    await Promise.all([send(), receive()]);
  } finally {
    socket.close();
  }
};

/** The same client code for both Web Streams variants. */
async function streamsClient(
  writable: WritableStream<Uint8Array>,
  readable: ReadableStream<Uint8Array>,
  chunks: number,
  verifier: Verifier,
  closeWrite: (writer: WritableStreamDefaultWriter<Uint8Array>) => Promise<
    void
  >,
): Promise<void> {
  const send = async (): Promise<void> => {
    const writer = writable.getWriter();
    for (let i = 0; i < chunks; i++) {
      await writer.ready;
      // The chunk never changes, so it may be queued more than once.
      writer.write(CHUNK);
    }
    await closeWrite(writer);
  };
  const receive = async (): Promise<void> => {
    for await (const chunk of readable) verifier.take(chunk);
  };
  await Promise.all([send(), receive()]);
}

const libraryStreamsClient: Client = async (port, chunks, verifier) => {
  const socket = await StreamSocket.connectAsync("127.0.0.1", port);
  try {
    await streamsClient(
      socket.outputStream.writable,
      socket.inputStream.readable,
      chunks,
      verifier,
      (writer) => writer.close(),
    );
  } finally {
    socket.close();
  }
};

const denoStreamsClient: Client = async (port, chunks, verifier) => {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await streamsClient(
      conn.writable,
      conn.readable,
      chunks,
      verifier,
      async (writer) => {
        // Deno's writable closes the whole connection on close(): half-close by hand.
        await writer.ready;
        writer.releaseLock();
        await conn.closeWrite();
      },
    );
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by its readable already.
    }
  }
};

const CLIENTS: Record<VariantName, Client> = {
  raw: rawClient,
  lib: libraryClient,
  "lib streams": libraryStreamsClient,
  "deno streams": denoStreamsClient,
};

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      server: { type: "boolean", default: false },
      mib: { type: "string", default: size("256", "1") },
      rounds: { type: "string", default: size("5", "1") },
      smoke: { type: "boolean", default: false },
    },
  });
  if (values.server) {
    exitWithParent();
    return await server();
  }
  const chunks = positive(values.mib, "mib") * 16;
  const rounds = positive(values.rounds, "rounds");
  const total = chunks * CHUNK_SIZE;
  const checksum = expectedChecksum(total);

  await using child = await spawnChild(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    new URL(import.meta.url).pathname,
    "--server",
  ]);
  const ports = JSON.parse(child.firstLine) as Record<VariantName, number>;
  console.log(
    `tcp bulk echo: ${
      total / 1024 / 1024
    } MiB in 64 KiB chunks each way, ${rounds} rounds, server in a child process`,
  );

  const times = new Map<VariantName, number[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const name = VARIANTS[(k + round) % VARIANTS.length]!;
      const verifier = new Verifier();
      const start = performance.now();
      await within(
        CLIENTS[name](ports[name], chunks, verifier),
        ROUND_LIMIT_MS,
        name,
      );
      times.get(name)!.push(performance.now() - start);
      if (
        verifier.received !== total || verifier.wrong !== 0 ||
        verifier.checksum !== checksum
      ) {
        throw new Error(
          `${name}: echoed ${verifier.received} of ${total} bytes, ${verifier.wrong} wrong in the sample, checksum ${verifier.checksum} (expected ${checksum})`,
        );
      }
    }
  }

  const rate = (name: VariantName): number =>
    total / (median(times.get(name)!) / 1000) / 1e6;
  const rows = [["variant", "median ms", "MB/s (each way)", "vs raw"]];
  for (const name of VARIANTS) {
    rows.push([
      name,
      median(times.get(name)!).toFixed(1),
      rate(name).toFixed(0),
      ratio(rate(name), rate("raw")),
    ]);
  }
  console.log(table(rows));
  console.log(
    `verified: ${total} bytes echoed per round, first ${SAMPLE} bytes checked, checksum ${checksum}`,
  );
  const goals = new Goals(
    chunks >= 256 * 16 && rounds >= 5,
    "--mib 256 --rounds 5",
  );
  const lib = rate("lib") / rate("raw");
  const streams = rate("lib streams") / rate("deno streams");
  goals.check(
    "lib >= 0.9x raw",
    "lib vs raw",
    `${lib.toFixed(2)}x`,
    lib >= 0.9,
  );
  goals.check(
    "lib streams >= deno streams",
    "lib streams vs deno streams",
    `${streams.toFixed(2)}x`,
    streams >= 1,
  );
  goals.end();
}

if (import.meta.main) await main();
