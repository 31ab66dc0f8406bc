/**
 * Reliability of StreamSocketListener under adversity, on each listener kind
 * (TCP; TLS on Deno.listenTls; client certificates on node:tls): servers run
 * in subprocesses (tests/testdata/hardened_server.ts), attacked by clients in
 * this process or in python3, and watched from outside through
 * /proc/PID/fd and /proc/PID/stat.
 *
 * A case is a few lines: `reliability(name, kinds, serverArgs, body)`, where
 * `body` gets the running `Server` (its port, pid, descriptor count) and
 * helpers below open good, silent or leaving clients.
 *
 * @module
 */
import assert from "node:assert/strict";
import { eventually, type Output, ROOT, run, within } from "./_helpers.ts";

type Kind = "tcp" | "tls" | "mtls";
const ALL: readonly Kind[] = ["tcp", "tls", "mtls"];
const TLS: readonly Kind[] = ["tls", "mtls"];
const SERVER = `${ROOT}tests/testdata/hardened_server.ts`;
const testdata = (name: string): string =>
  Deno.readTextFileSync(`${ROOT}tests/testdata/${name}`);

/** A server subprocess and what can be observed of it from outside. */
interface Server extends AsyncDisposable {
  readonly kind: Kind;
  readonly port: number;
  readonly pid: number;
  /** The lines it printed on stdout so far. */
  readonly lines: readonly string[];
  /** Open descriptors, from /proc/PID/fd. */
  descriptors(): Promise<number>;
  /** CPU time used so far, in ms, from /proc/PID/stat. */
  cpu(): Promise<number>;
  /** Sends SIGTERM and returns how it ended, failing after 5 s. */
  terminate(): Promise<{ code: number; stderr: string }>;
}

interface ServerOptions {
  /** Runs it under `prlimit --nofile=N:N`. */
  nofile?: number;
  /** Extra arguments of hardened_server.ts. */
  args?: string[];
}

async function startServer(
  kind: Kind,
  options: ServerOptions,
): Promise<Server> {
  const deno = [Deno.execPath(), "run", "--allow-net", "--allow-read"];
  const command = [...deno, SERVER, kind, ...(options.args ?? [])];
  const argv = options.nofile === undefined
    ? command
    : ["prlimit", `--nofile=${options.nofile}:${options.nofile}`, ...command];
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines: string[] = [];
  const listening = Promise.withResolvers<void>();
  const stdout = (async () => {
    let text = "";
    // Bounded by the process: its end ends the stream.
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      text += chunk;
      const parts = text.split("\n");
      text = parts.pop()!;
      lines.push(...parts);
      if (lines.length > 0) listening.resolve();
    }
    listening.reject(new Error(`the server exited: ${await stderr}`));
  })();
  const kill = async (): Promise<void> => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await child.status;
    await Promise.allSettled([stdout, stderr]);
  };
  try {
    await within(listening.promise, 20_000, "the server's first line");
  } catch (error) {
    await kill();
    throw error;
  }
  // prlimit execs the command: the pid is the server's.
  const pid = child.pid;
  return {
    kind,
    port: Number(lines[0]!.split(" ")[1]),
    pid,
    lines,
    descriptors: async () =>
      Number((await proc(`ls /proc/${pid}/fd | wc -l`)).trim()),
    cpu: async () => {
      const stat = await proc(`cat /proc/${pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime, fields 14 and 15 of stat(5), in 1/100 s.
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    terminate: async () => {
      child.kill("SIGTERM");
      const status = await within(child.status, 5_000, "the exit on SIGTERM");
      await stdout;
      return { code: status.code, stderr: await stderr };
    },
    [Symbol.asyncDispose]: kill,
  };
}

/**
 * Reads /proc through a shell: Deno asks for --allow-all to read /proc
 * directly, and the test task grants less.
 */
async function proc(script: string): Promise<string> {
  const { code, stdout, stderr } = await run("sh", ["-c", script], 5_000);
  if (code !== 0) throw new Error(`${script}: ${stderr}`);
  return stdout;
}

/** How many stdout lines of `server` match `pattern`. */
function count(server: Server, pattern: RegExp): number {
  return server.lines.filter((line) => pattern.test(line)).length;
}

/** Declares one case per kind: `body` runs against a fresh server. */
function reliability(
  name: string,
  kinds: readonly Kind[],
  options: ServerOptions,
  body: (server: Server) => Promise<void>,
): void {
  for (const kind of kinds) {
    Deno.test(`StreamSocketListener (${kind}) ${name}`, async () => {
      await using server = await startServer(kind, options);
      await body(server);
    });
  }
}

/** A good client: connects as the kind requires, sends a line, returns the echo. */
async function echo(server: Server, line: string): Promise<string> {
  const conn = await connect(server);
  try {
    await conn.write(new TextEncoder().encode(`${line}\n`));
    const buffer = new Uint8Array(256);
    let text = "";
    // Bounded by the echo's length and the server's end of stream.
    while (!text.includes("\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text.trimEnd();
  } finally {
    conn.close();
  }
}

function connect(server: Server): Promise<Deno.Conn> {
  const address = { hostname: "127.0.0.1", port: server.port };
  if (server.kind === "tcp") return Deno.connect(address);
  return Deno.connectTls({
    ...address,
    hostname: "localhost",
    caCerts: [testdata("ca.pem")],
    ...(server.kind === "mtls"
      ? { cert: testdata("client.pem"), key: testdata("client.key") }
      : {}),
  });
}

/** A good client that retries for up to `ms` (the server may be backing off). */
async function echoWithin(server: Server, line: string, ms = 8_000) {
  const deadline = Date.now() + ms;
  let last: unknown;
  // Bounded by the deadline.
  while (Date.now() < deadline) {
    try {
      return await within(echo(server, line), 3_000, "the echo");
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

/** Opens `n` TCP connections that never send a byte (silent clients, stalled handshakes). */
async function silentClients(server: Server, n: number) {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    conns.push(
      await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
    );
  }
  return {
    conns,
    [Symbol.dispose]: () => conns.splice(0).forEach((c) => c.close()),
  };
}

/** `n` clients (python3) that connect and leave at once, every `resetEvery`th one (every other one by default) with a reset. */
function leavingClients(
  server: Server,
  n: number,
  resetEvery = 2,
): Promise<Output> {
  return run("python3", [
    "-c",
    `import socket, struct
for i in range(${n}):
    c = socket.create_connection(("127.0.0.1", ${server.port}))
    if i % ${resetEvery} == ${resetEvery - 1}:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()`,
  ]);
}

reliability(
  "keeps CPU and its log low while descriptors are exhausted, serves again afterwards, and stops on SIGTERM",
  ALL,
  { nofile: 64, args: ["--handshake-timeout", "0"] },
  async (server) => {
    using _ = await silentClients(server, 80);
    const before = await server.cpu();
    const start = Date.now();
    // The exhaustion lasts this long: the figure is CPU time over wall time.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const busy = (await server.cpu() - before) / (Date.now() - start);
    assert.ok(busy < 0.5, `the server used ${Math.round(busy * 100)}% CPU`);
    _[Symbol.dispose]();
    assert.equal(await echoWithin(server, "after"), "after");
    const { code, stderr } = await server.terminate();
    assert.equal(code, 0);
    assert.match(stderr, /too many open files/);
    assert.ok(stderr.length < 16_000, `${stderr.length} bytes of stderr`);
  },
);

reliability(
  "releases the descriptors of 100 clients that leave before the handshake, half of them with a reset",
  TLS,
  {},
  async (server) => {
    assert.equal(await echo(server, "warm"), "warm");
    const baseline = await server.descriptors();
    const { code } = await leavingClients(server, 100);
    assert.equal(code, 0);
    await eventually(
      async () => await server.descriptors() <= baseline,
      5_000,
      `descriptors back to ${baseline}`,
    );
    assert.equal(await echo(server, "still serving"), "still serving");
  },
);

reliability(
  "closes stalled handshakes after handshakeTimeout and reports each at once",
  TLS,
  { args: ["--handshake-timeout", "300", "--errors"] },
  async (server) => {
    assert.equal(await echo(server, "warm"), "warm");
    const baseline = await server.descriptors();
    using stalled = await silentClients(server, 20);
    if (server.kind === "mtls") {
      // Closed for real: the descriptors go, and the clients see the end.
      await eventually(
        async () => await server.descriptors() <= baseline,
        5_000,
        `descriptors back to ${baseline}`,
      );
      const n = await within(
        stalled.conns[0]!.read(new Uint8Array(1)),
        5_000,
        "the end",
      );
      assert.equal(n, null);
    }
    await eventually(
      () => count(server, /error ConnectionTimedOut/) === 20,
      5_000,
      "20 handshake timeouts",
    );
    assert.equal(await echo(server, "still serving"), "still serving");
  },
);

reliability(
  "stops accepting at maxConnections and resumes when a socket closes",
  ALL,
  { args: ["--max-connections", "2"] },
  async (server) => {
    const first = await connect(server);
    const second = await connect(server);
    for (const conn of [first, second]) {
      await conn.write(new TextEncoder().encode("hold\n"));
      const n = await conn.read(new Uint8Array(16));
      assert.ok(n !== null && n > 0);
    }
    // The third waits in the kernel's backlog: no answer while two are open.
    const third = echo(server, "third");
    const early = await Promise.race([
      third.then(() => "answered"),
      new Promise((resolve) => setTimeout(() => resolve("waiting"), 500)),
    ]);
    assert.equal(early, "waiting");
    first.close();
    assert.equal(await within(third, 8_000, "the third client"), "third");
    second.close();
  },
);

reliability(
  "serves a good client at once after clients that reset while waiting in the backlog",
  ALL,
  { args: ["--max-connections", "1"] },
  async (server) => {
    // At the cap the listener does not accept: the resets reach connections
    // still in the backlog, which Deno's accept() then refuses (ENOTCONN).
    const holder = await connect(server);
    await holder.write(new TextEncoder().encode("hold\n"));
    assert.ok(((await holder.read(new Uint8Array(16))) ?? 0) > 0);
    const { code } = await leavingClients(server, 20, 1);
    assert.equal(code, 0);
    holder.close();
    // Each is one client gone, not a failing listener: backing off on them
    // (5 ms doubling to 1 s, twenty times) kept the good client waiting
    // about 13 s.
    assert.equal(
      await within(echo(server, "next"), 2_000, "the good client"),
      "next",
    );
  },
);

reliability(
  "survives slow-loris at maxConnections: the idle timeout closes the silent clients and the waiting good client is served",
  ["tcp"],
  { args: ["--max-connections", "20", "--idle-timeout", "300"] },
  async (server) => {
    // Twenty clients that connect and say nothing fill the cap.
    using loris = await silentClients(server, 20);
    const served = echo(server, "legitimate");
    assert.equal(await within(served, 8_000, "the good client"), "legitimate");
    // The silent ones were closed by the server: each reads the end.
    for (const conn of loris.conns.slice(0, 3)) {
      assert.equal(
        await within(conn.read(new Uint8Array(1)), 5_000, "the close"),
        null,
      );
    }
  },
);

Deno.test("StreamSocketListener (mtls) refuses an untrusted client certificate with CertificateUntrustedRoot", async () => {
  await using server = await startServer("mtls", { args: ["--errors"] });
  const dir = `${ROOT}tests/testdata`;
  await run("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${server.port}`,
    "-servername",
    "localhost",
    "-CAfile",
    `${dir}/ca.pem`,
    "-cert",
    `${dir}/untrusted_client.pem`,
    "-key",
    `${dir}/untrusted_client.key`,
  ], 10_000);
  await eventually(
    () => count(server, /error CertificateUntrustedRoot/) === 1,
    5_000,
    "the refusal",
  );
});
