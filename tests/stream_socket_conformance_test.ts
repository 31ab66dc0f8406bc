/** One conformance suite for stream sockets, run over plain TCP and over TLS (Deno.connectTls against Deno.listenTls and against the node:tls mutual-TLS listener). */
import assert from "node:assert/strict";
import {
  Certificate,
  InputStreamOptions,
  SocketError,
  SocketErrorStatus,
  SocketProtectionLevel,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { readAll, within } from "./_helpers.ts";

const dir = new URL("./testdata/", import.meta.url);
const read = (name: string): string =>
  Deno.readTextFileSync(new URL(name, dir));
const pair = (name: string): Certificate =>
  Certificate.fromPem(read(`${name}.pem`), read(`${name}.key`));
const CA = Certificate.fromPem(read("ca.pem"));

interface Pair extends AsyncDisposable {
  client: StreamSocket;
  server: StreamSocket;
}

type Transport =
  | "plain TCP"
  | "plain TCP (node:net client)"
  | "TLS (Deno.listenTls)"
  | "mutual TLS (node:tls listener)";

async function connect(transport: Transport): Promise<Pair> {
  const listener = new StreamSocketListener();
  const plain = transport.startsWith("plain TCP");
  if (!plain) {
    listener.control.serverCertificate = pair("server");
  }
  if (transport === "mutual TLS (node:tls listener)") {
    listener.control.clientCertificateRequired = true;
    listener.control.trustedClientRoots = [CA];
  }
  const accepted = Promise.withResolvers<StreamSocket>();
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => accepted.resolve(socket),
  );
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const client = new StreamSocket();
  client.control.trustedRootCertificates = [CA];
  if (transport === "plain TCP (node:net client)") {
    client.control.tcpBackend = "node";
  }
  if (transport === "mutual TLS (node:tls listener)") {
    client.control.clientCertificate = pair("client");
  }
  const level = plain
    ? SocketProtectionLevel.PlainSocket
    : SocketProtectionLevel.Tls12;
  await client.connectAsync(
    plain ? "127.0.0.1" : "localhost",
    listener.information.localPort,
    level,
  );
  const server = await within(accepted.promise, 5_000, "the accepted socket");
  return {
    client,
    server,
    async [Symbol.asyncDispose]() {
      client.close();
      server.close();
      await listener.closeAsync();
    },
  };
}

const bytes = (n: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

for (
  const transport of [
    "plain TCP",
    "plain TCP (node:net client)",
    "TLS (Deno.listenTls)",
    "mutual TLS (node:tls listener)",
  ] as const
) {
  Deno.test(`StreamSocket conformance (${transport}): echo both ways`, async () => {
    await using p = await connect(transport);
    await p.client.outputStream.writeAsync(new TextEncoder().encode("ping"));
    const buffer = new Uint8Array(4);
    assert.equal(await p.server.inputStream.readAsync(buffer, 4), 4);
    await p.server.outputStream.writeAsync(buffer);
    const back = new Uint8Array(4);
    assert.equal(await p.client.inputStream.readAsync(back, 4), 4);
    assert.equal(new TextDecoder().decode(back), "ping");
  });

  Deno.test(`StreamSocket conformance (${transport}): partial reads return what arrived`, async () => {
    await using p = await connect(transport);
    await p.client.outputStream.writeAsync(bytes(10));
    const buffer = new Uint8Array(100);
    const n = await p.server.inputStream.readAsync(
      buffer,
      100,
      InputStreamOptions.Partial,
    );
    assert.ok(n > 0 && n <= 10);
  });

  Deno.test(`StreamSocket conformance (${transport}): end of stream reads 0 and half-close keeps the other way open`, async () => {
    await using p = await connect(transport);
    await p.client.outputStream.writeAsync(bytes(5));
    await p.client.outputStream.closeAsync();
    assert.deepEqual(
      await within(readAll(p.server), 10_000, "the half-closed stream's end"),
      bytes(5),
    );
    assert.equal(await p.server.inputStream.readAsync(new Uint8Array(1), 1), 0);
    await p.server.outputStream.writeAsync(bytes(3));
    const back = new Uint8Array(3);
    assert.equal(
      await within(
        p.client.inputStream.readAsync(back, 3),
        10_000,
        "the reply",
      ),
      3,
    );
    assert.deepEqual(back, bytes(3));
  });

  Deno.test(`StreamSocket conformance (${transport}): close while reading rejects with OperationAborted`, async () => {
    await using p = await connect(transport);
    const pending = p.client.inputStream.readAsync(new Uint8Array(10), 10).then(
      () => undefined,
      (e) => e,
    );
    p.client.close();
    const error = await within(pending, 5_000, "the aborted read");
    assert.equal(
      SocketError.getStatus(error),
      SocketErrorStatus.OperationAborted,
    );
  });

  Deno.test(`StreamSocket conformance (${transport}): batched writes arrive in order`, async () => {
    await using p = await connect(transport);
    const expected = new Uint8Array(1000);
    for (let i = 0; i < 1000; i++) {
      expected[i] = i & 0xff;
      p.client.outputStream.writeAsync(new Uint8Array([i & 0xff]));
    }
    await p.client.outputStream.flushAsync();
    await p.client.outputStream.closeAsync();
    assert.deepEqual(await readAll(p.server), expected);
  });

  Deno.test(`StreamSocket conformance (${transport}): a large transfer (8 MiB) arrives intact`, async () => {
    await using p = await connect(transport);
    const data = bytes(8 * 1024 * 1024);
    const received = readAll(p.server);
    for (let offset = 0; offset < data.length; offset += 64 * 1024) {
      await p.client.outputStream.writeAsync(
        data.subarray(offset, offset + 64 * 1024),
      );
    }
    await p.client.outputStream.closeAsync();
    const got = await within(received, 20_000, "8 MiB");
    assert.equal(got.length, data.length);
    assert.deepEqual(got, data);
  });
}
