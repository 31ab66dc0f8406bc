// deno-lint-ignore-file no-console
/**
 * Bulk echo over TLS (64 MiB in 64 KiB chunks) through @seed/sockets vs raw
 * Deno.connectTls/Deno.listenTls, alternating in the same run; then TLS
 * handshakes per second, client and server in this one process: raw
 * Deno.connectTls against Deno.listenTls, and the library against its own
 * listener without and with client certificates (node:tls). The server's
 * half of each handshake runs on the same thread, so a handshake costs the
 * client's part plus the server's. Clients connect to 127.0.0.1 (the test
 * certificate names it), so `--allow-net=127.0.0.1` is enough.
 *
 *   deno run --allow-net=127.0.0.1 --allow-read bench/tls_bulk_echo.ts [--mib 64] [--rounds 5] [--handshake-ms 1000] [--baseline DIR] [--smoke]
 *
 * The handshake variants alternate, `--rounds` times each, and the rates are
 * medians. `--baseline DIR` adds the library of another checkout (its
 * `mod.ts`) to the handshake variants, for a before/after in one run.
 * `--smoke` runs 1 MiB, 1 round and 100 ms of handshakes: a check that it runs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import * as sockets from "../mod.ts";
import {
  Certificate,
  SocketProtectionLevel,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { median, positive, size } from "./_common.ts";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: size("64", "1") },
    rounds: { type: "string", default: size("5", "1") },
    "handshake-ms": { type: "string", default: size("1000", "100") },
    baseline: { type: "string" },
    smoke: { type: "boolean", default: false },
  },
});
const dir = new URL("../tests/testdata/", import.meta.url);
const read = (name: string): string =>
  Deno.readTextFileSync(new URL(name, dir));
const TOTAL = positive(values.mib, "mib") * 1024 * 1024;
const CHUNK = 64 * 1024;
const rounds = positive(values.rounds, "rounds");
const handshakeMs = positive(values["handshake-ms"], "handshake-ms");
const ca = Certificate.fromPem(read("ca.pem"));
const serverCertificate = Certificate.fromPem(
  read("server.pem"),
  read("server.key"),
);

async function raw(): Promise<number> {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: read("server.pem"),
    key: read("server.key"),
  });
  const served = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(CHUNK);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      let offset = 0;
      while (offset < n) offset += await conn.write(buffer.subarray(offset, n));
    }
    conn.close();
  })();
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: listener.addr.port,
    caCerts: [ca.pem],
  });
  const start = performance.now();
  const received = (async () => {
    const buffer = new Uint8Array(CHUNK);
    let total = 0;
    while (total < TOTAL) {
      const n = await conn.read(buffer);
      if (n === null) break;
      total += n;
    }
  })();
  const chunk = new Uint8Array(CHUNK);
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    let offset = 0;
    while (offset < CHUNK) offset += await conn.write(chunk.subarray(offset));
  }
  await received;
  const ms = performance.now() - start;
  conn.close();
  await served.catch(() => {});
  listener.close();
  return ms;
}

async function library(): Promise<number> {
  await using listener = new StreamSocketListener();
  listener.control.serverCertificate = serverCertificate;
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    const buffer = new Uint8Array(CHUNK);
    while (true) {
      const n = await s.inputStream.readAsync(buffer, CHUNK, 1);
      if (n === 0) break;
      await s.outputStream.writeAsync(buffer.subarray(0, n));
    }
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using socket = new StreamSocket();
  socket.control.trustedRootCertificates = [ca];
  await socket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
    SocketProtectionLevel.Tls12,
  );
  const start = performance.now();
  const received = (async () => {
    const buffer = new Uint8Array(CHUNK);
    let total = 0;
    while (total < TOTAL) {
      const n = await socket.inputStream.readAsync(buffer, CHUNK, 1);
      if (n === 0) break;
      total += n;
    }
  })();
  const chunk = new Uint8Array(CHUNK);
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    await socket.outputStream.writeAsync(chunk);
  }
  await received;
  return performance.now() - start;
}

async function rawHandshakes(ms: number): Promise<number> {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: read("server.pem"),
    key: read("server.key"),
  });
  const served = (async () => {
    for await (const conn of listener) {
      conn.handshake().catch(() => {}).finally(() => conn.close());
    }
  })();
  let count = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      caCerts: [ca.pem],
    });
    await conn.handshake();
    conn.close();
    count++;
  }
  listener.close();
  await served.catch(() => {});
  return count / (ms / 1000);
}

/** The classes the handshake variants use: this checkout's, or the baseline's. */
type Library = typeof sockets;

async function handshakes(
  lib: Library,
  mutual: boolean,
  ms: number,
): Promise<number> {
  const { StreamSocket, StreamSocketListener, SocketProtectionLevel } = lib;
  const ca = lib.Certificate.fromPem(read("ca.pem"));
  await using listener = new StreamSocketListener();
  listener.control.serverCertificate = lib.Certificate.fromPem(
    read("server.pem"),
    read("server.key"),
  );
  if (mutual) {
    listener.control.clientCertificateRequired = true;
    listener.control.trustedClientRoots = [ca];
  }
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => socket.close(),
  );
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const client = lib.Certificate.fromPem(
    read("client.pem"),
    read("client.key"),
  );
  let count = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const socket = new StreamSocket();
    socket.control.trustedRootCertificates = [ca];
    if (mutual) socket.control.clientCertificate = client;
    await socket.connectAsync(
      "127.0.0.1",
      listener.information.localPort,
      SocketProtectionLevel.Tls12,
    );
    socket.close();
    count++;
  }
  return count / (ms / 1000);
}

const mib = TOTAL / (1024 * 1024);
const rawTimes: number[] = [];
const libTimes: number[] = [];
for (let round = 0; round < rounds; round++) {
  rawTimes.push(await raw());
  libTimes.push(await library());
}
const rawRate = mib / (median(rawTimes) / 1000);
const libRate = mib / (median(libTimes) / 1000);
console.log(
  `TLS bulk echo, ${mib} MiB in ${
    CHUNK / 1024
  } KiB chunks, median of ${rounds} alternating rounds:`,
);
console.log(`  raw Deno.connectTls/listenTls: ${rawRate.toFixed(0)} MiB/s`);
console.log(
  `  @seed/sockets:                 ${libRate.toFixed(0)} MiB/s (${
    (libRate / rawRate).toFixed(2)
  }x)`,
);
const baseline: Library | undefined = values.baseline === undefined
  ? undefined
  : await import(
    new URL(`${values.baseline}/mod.ts`, `file://${Deno.cwd()}/`).href
  );
const handshakeVariants: [string, () => Promise<number>][] = [
  ["raw Deno.connectTls/listenTls", () => rawHandshakes(handshakeMs)],
  [
    "library, no client certificate",
    () => handshakes(sockets, false, handshakeMs),
  ],
  [
    "library, mutual TLS (node:tls)",
    () => handshakes(sockets, true, handshakeMs),
  ],
];
if (baseline !== undefined) {
  handshakeVariants.push(
    [
      "baseline, no client certificate",
      () => handshakes(baseline, false, handshakeMs),
    ],
    [
      "baseline, mutual TLS (node:tls)",
      () => handshakes(baseline, true, handshakeMs),
    ],
  );
}
const rates = new Map<string, number[]>(
  handshakeVariants.map(([name]) => [name, []]),
);
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < handshakeVariants.length; k++) {
    const [name, measure] =
      handshakeVariants[(k + round) % handshakeVariants.length]!;
    rates.get(name)!.push(await measure());
  }
}
console.log(
  `Handshakes per second (sequential, one client, server in this process, ${handshakeMs} ms each, median of ${rounds} alternating rounds):`,
);
const rawTls = median(rates.get(handshakeVariants[0]![0])!);
for (const [name] of handshakeVariants) {
  const roundRates = rates.get(name)!;
  const rate = median(roundRates);
  const spread = roundRates.map((v) => (v / rawTls).toFixed(2)).join(" ");
  console.log(
    `  ${`${name}:`.padEnd(34)} ${rate.toFixed(0)}/s (${
      (rate / rawTls).toFixed(2)
    }x; rounds ${spread})`,
  );
}
