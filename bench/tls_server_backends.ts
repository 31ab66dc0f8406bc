// deno-lint-ignore-file no-console
/**
 * What the server side of STARTTLS costs: `upgradeToSslAsServerAsync`
 * (Deno's `node:tls`, over the accepted `Deno.TcpConn`) next to a TLS
 * listener on `Deno.listenTls` (rustls, the default), both echoing through
 * the library's `inputStream`/`outputStream` in a child process. The
 * client is the same raw Deno code for both (`Deno.startTls` after a
 * one-line STARTTLS exchange, or `Deno.connectTls`). Two measures,
 * variants alternating round after round in this one run:
 *
 * - bulk: MiB sent in 64 KiB chunks while the echo is read back;
 * - handshakes: connect, handshake, one byte each way, close.
 *
 * Run: deno run --allow-net=127.0.0.1 --allow-run --allow-read bench/tls_server_backends.ts [--mib 32] [--handshakes 100] [--rounds 5] [--smoke]
 */
import { parseArgs } from "node:util";
import {
  Certificate,
  InputStreamOptions,
  LineReader,
  type StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import * as common from "./_common.ts";

const CHUNK_SIZE = 64 * 1024;
const CHUNK = new Uint8Array(CHUNK_SIZE).map((_, i) => (i * 31 + 7) & 255);
const LIMIT_MS = 120_000;
const testdata = new URL("../tests/testdata/", import.meta.url);
const file = (name: string): string =>
  Deno.readTextFileSync(new URL(name, testdata));
const VARIANTS = ["Deno.listenTls", "STARTTLS (node:tls)"] as const;
type Variant = typeof VARIANTS[number];

/** Echoes with the library until the client ends its side. */
async function echo(socket: StreamSocket): Promise<void> {
  const buffer = new Uint8Array(CHUNK_SIZE);
  for (
    let n;
    (n = await socket.inputStream.readAsync(
      buffer,
      CHUNK_SIZE,
      InputStreamOptions.Partial,
    )) > 0;
  ) await socket.outputStream.writeAsync(buffer.subarray(0, n));
  await socket.outputStream.closeAsync();
}

async function server(): Promise<void> {
  const certificate = Certificate.fromPem(
    file("server.pem"),
    file("server.key"),
  );
  const tls = new StreamSocketListener();
  tls.control.serverCertificate = certificate;
  tls.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    await echo(s);
  });
  await tls.bindEndpointAsync("127.0.0.1", 0);
  const starttls = new StreamSocketListener();
  starttls.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    await new LineReader(s.inputStream).readLine();
    await s.outputStream.writeAsync(new TextEncoder().encode("go\n"));
    await s.outputStream.flushAsync();
    await s.upgradeToSslAsServerAsync(certificate);
    await echo(s);
  });
  starttls.addEventListener("error", () => {});
  tls.addEventListener("error", () => {});
  await starttls.bindEndpointAsync("127.0.0.1", 0);
  console.log(JSON.stringify({
    "Deno.listenTls": tls.information.localPort,
    "STARTTLS (node:tls)": starttls.information.localPort,
  }));
  await new Promise(() => {});
}

const CA = [file("ca.pem")];

async function connect(variant: Variant, port: number): Promise<Deno.TlsConn> {
  if (variant === "Deno.listenTls") {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: CA,
      unsafelyDisableHostnameVerification: false,
    });
    await conn.handshake();
    return conn;
  }
  const plain = await Deno.connect({ hostname: "127.0.0.1", port });
  await common.writeAll(plain, new TextEncoder().encode("STARTTLS\n"));
  const go = new Uint8Array(3);
  for (let got = 0; got < go.length;) {
    const n = await plain.read(go.subarray(got));
    if (n === null) throw new Error("closed before go");
    got += n;
  }
  const conn = await Deno.startTls(plain, {
    hostname: "localhost",
    caCerts: CA,
  });
  await conn.handshake();
  return conn;
}

async function bulk(
  variant: Variant,
  port: number,
  chunks: number,
): Promise<void> {
  const conn = await connect(variant, port);
  try {
    let received = 0;
    const send = async (): Promise<void> => {
      for (let i = 0; i < chunks; i++) await common.writeAll(conn, CHUNK);
      await conn.closeWrite();
    };
    const receive = async (): Promise<void> => {
      const buffer = new Uint8Array(CHUNK_SIZE);
      for (let n; (n = await conn.read(buffer)) !== null;) received += n;
    };
    await Promise.all([send(), receive()]);
    if (received !== chunks * CHUNK_SIZE) {
      throw new Error(
        `${variant}: echoed ${received} of ${chunks * CHUNK_SIZE}`,
      );
    }
  } finally {
    conn.close();
  }
}

async function handshakes(
  variant: Variant,
  port: number,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const conn = await connect(variant, port);
    try {
      await common.writeAll(conn, CHUNK.subarray(0, 1));
      await conn.closeWrite();
      while ((await conn.read(new Uint8Array(16))) !== null);
    } finally {
      conn.close();
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      server: { type: "boolean", default: false },
      mib: { type: "string", default: common.size("32", "1") },
      handshakes: { type: "string", default: common.size("100", "3") },
      rounds: { type: "string", default: common.size("5", "1") },
      smoke: { type: "boolean", default: false },
    },
  });
  if (values.server) return await server();
  const chunks = common.positive(values.mib, "mib") * 16;
  const count = common.positive(values.handshakes, "handshakes");
  const rounds = common.positive(values.rounds, "rounds");
  await using child = await common.spawnChild(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
    new URL(import.meta.url).pathname,
    "--server",
  ]);
  const ports = JSON.parse(child.firstLine) as Record<Variant, number>;
  console.log(
    `tls server backends: echo server in a child process on Deno.listenTls vs upgradeToSslAsServerAsync (node:tls), raw Deno clients, ${rounds} rounds`,
  );
  const measures = {
    [`bulk ${chunks / 16} MiB each way`]: (v: Variant) =>
      bulk(v, ports[v], chunks),
    [`${count} handshakes`]: (v: Variant) => handshakes(v, ports[v], count),
  };
  const medians = await common.alternatingMedians(
    measures,
    VARIANTS,
    rounds,
    LIMIT_MS,
  );
  const rows = [[
    "measure",
    ...VARIANTS.map((v) => `${v} median ms`),
    "STARTTLS speed vs Deno.listenTls",
  ]];
  for (const [measure, by] of medians) {
    const [deno, node] = VARIANTS.map((v) => by.get(v)!);
    rows.push([
      measure,
      deno!.toFixed(1),
      node!.toFixed(1),
      common.ratio(deno!, node!),
    ]);
  }
  console.log(common.table(rows));
}

if (import.meta.main) await main();
