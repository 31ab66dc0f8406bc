// deno-lint-ignore-file no-console
/**
 * A line protocol at full speed: Redis inline `PING` answered with `+PONG`,
 * driven by `redis-benchmark -t ping_inline` (a C client nobody here wrote)
 * over 50 and 500 connections, one request at a time (`-P 1`) and 16
 * pipelined (`-P 16`). Each server runs in its own process pinned to core 0
 * with `taskset`, the client on core 1; the variants alternate within every
 * round and the table shows medians.
 *
 * Servers: raw `Deno.Conn` (counts the newlines of each chunk, one write per
 * chunk); the library's `LineReader` written the way the README teaches
 * (`for await (const line of new LineReader(socket.inputStream))
 * socket.outputStream.writeAsync(PONG)`); the library's `readAsync` (counts
 * the newlines of each `readAsync(buffer, n, Partial)`, one `writeAsync`);
 * node:net; and, when installed, Bun.listen and redis-server as references.
 *
 *   deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-env bench/line_protocol.ts \
 *     [--requests 200000] [--rounds 3] [--connections 50,500] [--pipeline 1,16] [--bun path]
 *     [--baseline dir] [--no-references]
 *
 * `--requests` is the length of a run at pipeline 1; a pipelined run sends
 * `pipeline / 4` times as many (800,000 at pipeline 16), so that it lasts
 * about a second rather than the 0.15 s in which connection setup and the
 * millisecond clock weigh as much as the requests. Every server first gets
 * one run of each case as a warm-up.
 *
 * `--baseline` adds the LineReader and readAsync servers of another checkout
 * (with this file copied into its `bench/`), for before/after in one run.
 *
 * Needs `redis-benchmark` (Debian's `redis-tools`) and `taskset`; prints a
 * notice and exits 0 without them.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  InputStreamOptions,
  LineReader,
  type StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import {
  hasCommand,
  median,
  positive,
  ratio,
  size,
  SMOKE,
  spawnChild,
  table,
} from "./_common.ts";
import type { SpawnedProcess } from "../tests/_helpers.ts";

const PONG = new TextEncoder().encode("+PONG\r\n");
const LF = 10;
/** The most pipelined requests a chunk of 64 KiB can hold (`PING\r\n` is 6 bytes). */
const MAX_REPLIES = 64 * 1024;

/** `PONG` repeated, so that `count` replies are one subarray. */
function pongs(): Uint8Array {
  const bytes = new Uint8Array(PONG.length * MAX_REPLIES);
  for (let i = 0; i < MAX_REPLIES; i++) bytes.set(PONG, i * PONG.length);
  return bytes;
}

function countNewlines(bytes: Uint8Array, n: number): number {
  // Only the n bytes read: indexOf on the whole buffer would scan stale bytes.
  const chunk = n === bytes.length ? bytes : bytes.subarray(0, n);
  let count = 0;
  for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, i + 1)) count++;
  return count;
}

async function serveRaw(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`listening ${listener.addr.port}`);
  const replies = pongs();
  for await (const conn of listener) {
    (async () => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (let n; (n = await conn.read(buffer)) !== null;) {
          const count = countNewlines(buffer, n);
          if (count === 0) continue;
          let bytes = replies.subarray(0, count * PONG.length);
          while (bytes.length > 0) {
            bytes = bytes.subarray(await conn.write(bytes));
          }
        }
      } catch {
        // The client went away.
      } finally {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    })();
  }
}

async function serveLibrary(
  serve: (socket: StreamSocket) => Promise<void>,
): Promise<void> {
  const listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    await serve(s);
  });
  // A client that resets its connection is not a failure of the benchmark.
  listener.addEventListener("error", () => {});
  await listener.bindEndpointAsync("127.0.0.1", 0);
  console.log(`listening ${listener.information.localPort}`);
}

/** The README's line server. */
async function serveLines(socket: StreamSocket): Promise<void> {
  for await (const _ of new LineReader(socket.inputStream)) {
    socket.outputStream.writeAsync(PONG);
  }
}

const sharedReplies = pongs();

async function serveReadAsync(socket: StreamSocket): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  for (
    let n;
    (n = await socket.inputStream.readAsync(
      buffer,
      buffer.length,
      InputStreamOptions.Partial,
    )) > 0;
  ) {
    const count = countNewlines(buffer, n);
    if (count > 0) {
      socket.outputStream.writeAsync(
        sharedReplies.subarray(0, count * PONG.length),
      );
    }
  }
}

const NODE_SERVER = `
const net = require("node:net");
const PONG = Buffer.from("+PONG\\r\\n");
const replies = Buffer.alloc(PONG.length * ${MAX_REPLIES});
for (let i = 0; i < ${MAX_REPLIES}; i++) PONG.copy(replies, i * PONG.length);
const server = net.createServer((socket) => {
  socket.on("data", (chunk) => {
    let count = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) count++;
    if (count > 0) socket.write(replies.subarray(0, count * PONG.length));
  });
  socket.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
`;

const BUN_SERVER = `
const PONG = new TextEncoder().encode("+PONG\\r\\n");
const replies = new Uint8Array(PONG.length * ${MAX_REPLIES});
for (let i = 0; i < ${MAX_REPLIES}; i++) replies.set(PONG, i * PONG.length);
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(socket, chunk) {
      let count = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) count++;
      if (count > 0) socket.write(replies.subarray(0, count * PONG.length));
    },
    error() {},
  },
});
console.log("listening " + server.port);
`;

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      serve: { type: "string" },
      requests: { type: "string", default: size("200000", "2000") },
      rounds: { type: "string", default: size("3", "1") },
      connections: { type: "string", default: size("50,500", "50") },
      pipeline: { type: "string", default: "1,16" },
      bun: { type: "string", default: "bun" },
      baseline: { type: "string" },
      "no-references": { type: "boolean", default: SMOKE },
      smoke: { type: "boolean", default: false },
    },
  });
  if (values.serve === "raw") await serveRaw();
  else if (values.serve === "lines") await serveLibrary(serveLines);
  else if (values.serve === "read") await serveLibrary(serveReadAsync);
  else {
    await compare({
      requests: positive(values.requests, "requests"),
      rounds: positive(values.rounds, "rounds"),
      connections: values.connections.split(",").map((c) =>
        positive(c, "connections")
      ),
      pipeline: values.pipeline.split(",").map((p) => positive(p, "pipeline")),
      bun: values.bun,
      references: !values["no-references"],
      ...(values.baseline === undefined ? {} : { baseline: values.baseline }),
    });
  }
}

interface Variant {
  name: string;
  /** The command and its arguments, before taskset. */
  command: string[];
  /** A port the server will listen on; otherwise it prints `listening <port>`. */
  port?: number;
}

interface CompareOptions {
  requests: number;
  rounds: number;
  connections: number[];
  pipeline: number[];
  bun: string;
  /** Whether node:net, Bun and redis-server run too (when installed). */
  references: boolean;
  /** Another checkout of this repository whose library runs as two more variants, for a before/after table from one run. */
  baseline?: string;
}

/** A free port, for servers (redis-server) that cannot be told port 0. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/**
 * Connects, sends `PING`, and waits for `+PONG`, retrying for up to 10 s: a
 * server is used only once it answers, because redis-benchmark spins forever
 * against a port that refuses.
 */
async function waitForPong(port: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  let lastError: unknown;
  while (performance.now() < deadline) {
    try {
      using conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(64);
      const timer = setTimeout(() => conn.close(), 2_000);
      const n = await conn.read(buffer).finally(() => clearTimeout(timer));
      if (
        n !== null &&
        new TextDecoder().decode(buffer.subarray(0, n)).startsWith("+PONG")
      ) {
        return;
      }
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the server on port ${port} never answered PING: ${lastError}`,
  );
}

async function startServer(
  variant: Variant,
): Promise<{ process: SpawnedProcess; port: number }> {
  const process = await spawnChild("taskset", ["-c", "0", ...variant.command]);
  let port = variant.port;
  if (port === undefined) {
    const match = /^listening (\d+)$/.exec(process.firstLine);
    if (match === null) {
      await process[Symbol.asyncDispose]();
      throw new Error(
        `${variant.name}: unexpected first line "${process.firstLine}"`,
      );
    }
    port = Number(match[1]);
  }
  try {
    await waitForPong(port);
  } catch (error) {
    await process[Symbol.asyncDispose]();
    throw error;
  }
  return { process, port };
}

/**
 * The requests of one run: `requests` at pipeline 1, and `pipeline / 4`
 * times as many when pipelined, so that a pipelined run lasts about as long
 * as an unpipelined one instead of 0.15 s, where opening and closing 500
 * connections and the clock's millisecond weigh as much as the requests.
 */
function runLength(requests: number, pipeline: number): number {
  return pipeline > 4 ? requests * pipeline / 4 : requests;
}

/** One redis-benchmark run: requests per second. */
async function drive(
  port: number,
  requests: number,
  connections: number,
  pipeline: number,
): Promise<number> {
  // Bounded -n (never 1) and a hard timeout: redis-benchmark does not give up by itself.
  const n = Math.max(requests, connections * pipeline * 4);
  const child = new Deno.Command("timeout", {
    args: [
      "-s",
      "KILL",
      "120",
      "taskset",
      "-c",
      "1",
      "redis-benchmark",
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-t",
      "ping_inline",
      "-n",
      String(n),
      "-c",
      String(connections),
      "-P",
      String(pipeline),
      "-q",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const output = await child.output();
  const text = new TextDecoder().decode(output.stdout);
  const matches = [...text.matchAll(/([\d.]+) requests per second/g)];
  const last = matches.at(-1);
  if (!output.success || last === undefined) {
    throw new Error(
      `redis-benchmark on port ${port} failed (exit ${output.code}): ${
        text.slice(-300)
      } ${new TextDecoder().decode(output.stderr).slice(-300)}`,
    );
  }
  return Number(last[1]);
}

async function compare(options: CompareOptions): Promise<void> {
  for (const tool of ["redis-benchmark", "taskset", "timeout"]) {
    if (!await hasCommand(tool)) {
      console.log(
        `bench/line_protocol.ts: skipped, ${tool} is not installed (apt-get install redis-tools)`,
      );
      return;
    }
  }
  const self = new URL(import.meta.url).pathname;
  const deno = [
    Deno.execPath(),
    "run",
    "--allow-net=127.0.0.1",
    self,
    "--serve",
  ];
  const variants: Variant[] = [
    { name: "raw Deno.Conn", command: [...deno, "raw"] },
    { name: "library, LineReader", command: [...deno, "lines"] },
    { name: "library, readAsync", command: [...deno, "read"] },
  ];
  if (options.baseline !== undefined) {
    const other = `${options.baseline}/bench/line_protocol.ts`;
    const base = [
      Deno.execPath(),
      "run",
      "--allow-net=127.0.0.1",
      other,
      "--serve",
    ];
    variants.push(
      { name: "baseline, LineReader", command: [...base, "lines"] },
      { name: "baseline, readAsync", command: [...base, "read"] },
    );
  }
  if (options.references && await hasCommand("node")) {
    variants.push({ name: "node:net", command: ["node", "-e", NODE_SERVER] });
  }
  if (options.references && await hasCommand(options.bun)) {
    variants.push({
      name: "Bun.listen",
      command: [options.bun, "-e", BUN_SERVER],
    });
  }
  if (options.references && await hasCommand("redis-server")) {
    const port = freePort();
    variants.push({
      name: "redis-server",
      command: [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
      ],
      port,
    });
  }
  const cases = options.connections.flatMap((c) =>
    options.pipeline.map((p) => ({ connections: c, pipeline: p }))
  );
  // results[case][variant] = per-round requests per second
  const results = cases.map(() => variants.map((): number[] => []));
  const servers = [];
  try {
    for (const variant of variants) servers.push(await startServer(variant));
    // Warm every server up before anything counts, with a whole run of
    // each case: the library's code reaches V8's optimizing tier only after
    // some hundred thousand requests, raw Deno's few lines much sooner, and
    // a short warm-up measured the JIT instead of the server.
    for (const server of servers) {
      for (const testCase of cases) {
        await drive(
          server.port,
          runLength(options.requests, testCase.pipeline),
          testCase.connections,
          testCase.pipeline,
        );
      }
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const [c, testCase] of cases.entries()) {
        // Rotate the order each round so no variant always runs first.
        for (let k = 0; k < variants.length; k++) {
          const v = (k + round + c) % variants.length;
          results[c]![v]!.push(
            await drive(
              servers[v]!.port,
              runLength(options.requests, testCase.pipeline),
              testCase.connections,
              testCase.pipeline,
            ),
          );
        }
      }
    }
  } finally {
    for (const server of servers) await server.process[Symbol.asyncDispose]();
  }

  const medians = results.map((row) => row.map((rates) => median(rates)));
  const format = (rate: number): string =>
    rate >= 1e6 ? `${(rate / 1e6).toFixed(2)}M` : `${(rate / 1e3).toFixed(1)}k`;
  console.log(
    `redis-benchmark -t ping_inline -n ${options.requests} (times pipeline / 4 when pipelined), server on core 0, client on core 1, medians of ${options.rounds} rounds after a warm-up run of each`,
  );
  console.log(
    table([
      ["connections, pipeline", ...variants.map((v) => v.name)],
      ...cases.map((testCase, c) => [
        `${testCase.connections}, ${testCase.pipeline}`,
        ...medians[c]!.map((rate, v) =>
          v === 1 || v === 2
            ? `${format(rate)} (${ratio(rate, medians[c]![0]!)})`
            : format(rate)
        ),
      ]),
    ]),
  );
  const node = variants.findIndex((v) => v.name === "node:net");
  // Judged only at the sizes the goals are defined for: below them a ratio
  // is noise as often as not.
  const judged = options.requests >= 200_000 && options.rounds >= 3;
  if (!judged) {
    console.log(
      "goals not judged at this size: they are defined for --requests 200000 --rounds 3 or more",
    );
  }
  const goal = (text: string, met: boolean): void => {
    console.log(
      judged ? `goal: ${text}: ${met ? "met" : "NOT met"}` : text,
    );
  };
  for (const [c, testCase] of cases.entries()) {
    const [raw, lines, read] = medians[c]! as [number, number, number];
    const label =
      `${testCase.connections} connections, pipeline ${testCase.pipeline}`;
    const target = testCase.pipeline > 1 ? 0.9 : 0.95;
    goal(
      `LineReader >= ${target}x raw at ${label}: ${ratio(lines, raw)}`,
      lines >= target * raw,
    );
    if (testCase.pipeline > 1) {
      if (node >= 0) {
        const nodeRate = medians[c]![node]!;
        goal(
          `LineReader >= 1.0x node:net at ${label}: ${ratio(lines, nodeRate)}`,
          lines >= nodeRate,
        );
      }
      goal(
        `readAsync >= 1.0x raw at ${label}: ${ratio(read, raw)}`,
        read >= raw,
      );
    }
  }
}
