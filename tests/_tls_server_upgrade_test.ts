/** StreamSocket.upgradeToSslAsServerAsync(): STARTTLS with this end as the TLS server. */
import assert from "node:assert/strict";
import * as sockets from "../mod.ts";
import { StreamSocket, StreamSocketListener } from "../mod.ts";
import {
  assertReadsEnd,
  connectedPair,
  countingBytes,
  hasCommand,
  openSslClientArgs,
  readCountingSlowly,
  readLineWithin,
  runWithStdin,
  within,
} from "./_helpers.ts";

const { Certificate, LineReader, SocketProtectionLevel } = sockets;
const dir = new URL("./testdata/", import.meta.url);
const path = (name: string): string => new URL(name, dir).pathname;
const read = (name: string): string => Deno.readTextFileSync(path(name));
const pair = (name: string): sockets.Certificate =>
  Certificate.fromPem(read(`${name}.pem`), read(`${name}.key`));
const CA = Certificate.fromPem(read("ca.pem"));
const encoder = new TextEncoder();

type Options = sockets.StreamSocketServerUpgradeOptions;

/**
 * A listener speaking a sliver of SMTP: a greeting, EHLO offering STARTTLS,
 * STARTTLS, then after the upgrade one line answered `250 got LINE`. What
 * each upgrade did (the socket, or the error) is reported.
 */
async function smtpListener(
  options: Options = {},
): Promise<
  { listener: StreamSocketListener; upgraded: Promise<StreamSocket | Error> }
> {
  const listener = new StreamSocketListener();
  const upgraded = Promise.withResolvers<StreamSocket | Error>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    const say = async (text: string): Promise<void> => {
      await s.outputStream.writeAsync(encoder.encode(text));
      await s.outputStream.flushAsync();
    };
    const lines = new LineReader(s.inputStream);
    await say("220 seed-sockets ESMTP\r\n");
    for (let line; (line = await lines.readLine()) !== null;) {
      const verb = line.split(" ")[0]!.toUpperCase();
      if (verb === "EHLO") {
        await say("250-seed-sockets\r\n250 STARTTLS\r\n");
      } else if (verb === "STARTTLS") {
        await say("220 Go ahead\r\n");
        try {
          await s.upgradeToSslAsServerAsync(pair("server"), options);
        } catch (error) {
          upgraded.resolve(error as Error);
          return;
        }
        upgraded.resolve(s);
        const secret = await new LineReader(s.inputStream).readLine();
        await say(`250 got ${secret}\r\n`);
        return;
      } else {
        await say("500 unknown\r\n");
      }
    }
  });
  listener.addEventListener("error", () => {});
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return { listener, upgraded: upgraded.promise };
}

/** Our own client through EHLO and STARTTLS, then `upgradeToSslAsync`. */
async function starttlsClient(
  port: number,
  options?: sockets.StreamSocketUpgradeOptions,
): Promise<StreamSocket> {
  const socket = new StreamSocket();
  socket.control.trustedRootCertificates = [CA];
  await socket.connectAsync("127.0.0.1", port);
  const lines = new LineReader(socket.inputStream);
  assert.match(String(await lines.readLine()), /^220 /);
  await socket.outputStream.writeAsync(encoder.encode("EHLO me\r\n"));
  assert.equal(await lines.readLine(), "250-seed-sockets");
  assert.equal(await lines.readLine(), "250 STARTTLS");
  await socket.outputStream.writeAsync(encoder.encode("STARTTLS\r\n"));
  assert.equal(await lines.readLine(), "220 Go ahead");
  await socket.upgradeToSslAsync(
    SocketProtectionLevel.Tls12,
    "localhost",
    options,
  );
  return socket;
}

Deno.test("StreamSocket.upgradeToSslAsServerAsync() upgrades an accepted socket after STARTTLS; the client's upgradeToSslAsync() talks to it", async () => {
  const { listener, upgraded } = await smtpListener();
  await using _ = listener;
  await using client = await starttlsClient(listener.information.localPort);
  await client.outputStream.writeAsync(encoder.encode("secret\r\n"));
  assert.equal(await readLineWithin(client), "250 got secret");
  const server = await within(upgraded, 5_000, "the upgrade");
  assert.ok(server instanceof StreamSocket, String(server));
  assert.ok(
    server.information.protectionLevel === SocketProtectionLevel.Tls12 ||
      server.information.protectionLevel === SocketProtectionLevel.Tls13,
  );
  assert.equal(server.information.serverCertificate?.commonName, "localhost");
  assert.equal(server.information.remoteAddress?.canonicalName, "127.0.0.1");
  assert.equal(server.information.remotePort, client.information.localPort);
});

Deno.test("StreamSocket upgrades on both ends take a timeout of Infinity as no deadline, not as one already past", async () => {
  // A timer of 2^31 ms or more fires after 1 ms: a handshake takes longer.
  const { listener, upgraded } = await smtpListener({ timeout: Infinity });
  await using _ = listener;
  await using client = await starttlsClient(listener.information.localPort, {
    timeout: Infinity,
  });
  await client.outputStream.writeAsync(encoder.encode("secret\r\n"));
  assert.equal(await readLineWithin(client), "250 got secret");
  const server = await within(upgraded, 5_000, "the upgrade");
  assert.ok(server instanceof StreamSocket, String(server));
});

const hasOpenSsl = await hasCommand("openssl");

/** `openssl s_client -starttls smtp` sending one line after the upgrade. */
async function openSslStarttls(
  port: number,
  certificate: string | undefined,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = openSslClientArgs(port, {
    starttls: "smtp",
    ...(certificate === undefined ? {} : { certificate }),
  });
  return await runWithStdin("openssl", args, {
    input: "from openssl\r\n",
    // s_client exits once the server closes the connection.
    closeStdin: "after",
    what: "openssl s_client",
  });
}

Deno.test({
  name:
    "StreamSocket.upgradeToSslAsServerAsync() serves openssl s_client -starttls smtp",
  ignore: !hasOpenSsl,
  async fn() {
    const { listener, upgraded } = await smtpListener();
    await using _ = listener;
    const result = await openSslStarttls(
      listener.information.localPort,
      undefined,
    );
    assert.match(result.stdout, /250 got from openssl/, result.stderr);
    assert.ok(
      (await within(upgraded, 5_000, "the upgrade")) instanceof StreamSocket,
    );
  },
});

Deno.test({
  name:
    "StreamSocket.upgradeToSslAsServerAsync() with clientCertificateRequired verifies openssl's client certificate and refuses its absence",
  ignore: !hasOpenSsl,
  async fn() {
    const options: Options = {
      clientCertificateRequired: true,
      trustedClientRoots: [CA],
    };
    {
      const { listener, upgraded } = await smtpListener(options);
      await using _ = listener;
      const good = await openSslStarttls(
        listener.information.localPort,
        "client",
      );
      assert.match(good.stdout, /250 got from openssl/, good.stderr);
      const server = await within(upgraded, 5_000, "the upgrade");
      assert.ok(server instanceof StreamSocket, String(server));
      assert.equal(
        server.information.clientCertificate?.commonName,
        "test-client",
      );
    }
    {
      const { listener, upgraded } = await smtpListener(options);
      await using _ = listener;
      const bad = await openSslStarttls(
        listener.information.localPort,
        undefined,
      );
      assert.doesNotMatch(bad.stdout, /250 got/);
      const error = await within(upgraded, 5_000, "the refusal");
      assert.ok(error instanceof sockets.SocketError, String(error));
      assert.match(
        error.message,
        /^Cannot upgrade the connection as the TLS server with 127\.0\.0\.1:\d+/,
      );
    }
  },
});

Deno.test("StreamSocket.upgradeToSslAsServerAsync() refuses a certificate without key, a socket not connected, unsent bytes and roots that are not Certificates", async () => {
  await assert.rejects(
    new StreamSocket().upgradeToSslAsServerAsync(CA),
    /"serverCertificate" must have its private key/,
  );
  const unconnected = new StreamSocket();
  await assert.rejects(
    unconnected.upgradeToSslAsServerAsync(pair("server")),
    /the socket is not connected/,
  );
  const { listener } = await smtpListener();
  await using _ = listener;
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  client.outputStream.writeAsync(new Uint8Array(10));
  await assert.rejects(
    client.upgradeToSslAsServerAsync(pair("server")),
    /10 written bytes are not sent yet/,
  );
  await assert.rejects(
    client.upgradeToSslAsServerAsync(pair("server"), {
      trustedClientRoots: ["pem" as unknown as sockets.Certificate],
    }),
    /"trustedClientRoots" must be an array of Certificates/,
  );
});

Deno.test("StreamSocket.upgradeToSslAsServerAsync() refuses a signal that is not an AbortSignal and leaves the socket as it was", async () => {
  await using pair_ = await connectedPair();
  const { client, server } = pair_;
  for (const signal of [{}, null, "abort"]) {
    await assert.rejects(
      server.upgradeToSslAsServerAsync(pair("server"), {
        signal: signal as unknown as AbortSignal,
      }),
      (e) =>
        e instanceof TypeError &&
        /"signal" must be an AbortSignal, got /.test(e.message),
    );
  }
  // Nothing began: no deadline armed (the sanitizer sees a leaked timer),
  // and the socket still reads and writes, as no upgrade is in progress.
  await client.outputStream.writeAsync(encoder.encode("still plain\n"));
  assert.equal(await readLineWithin(server), "still plain");
});

/**
 * Runs `upgradeToSslAsServerAsync(options)` for a client that never starts
 * a handshake, calling `started` once the upgrade began; resolves with what
 * the upgrade rejected with, once the client read the server's close.
 */
async function silentClientUpgrade(
  options: Options,
  started = (): void => {},
): Promise<sockets.SocketError> {
  const listener = new StreamSocketListener();
  const result = Promise.withResolvers<unknown>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    const upgrade = socket.upgradeToSslAsServerAsync(pair("server"), options);
    started();
    result.resolve(await upgrade.then(() => "upgraded", (e) => e));
    await socket.closed;
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using _ = listener;
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const error = await within(result.promise, 5_000, "the failed upgrade");
  assert.ok(error instanceof sockets.SocketError, String(error));
  // The server closed its side: the client reads the end.
  await assertReadsEnd(client, "the close");
  return error;
}

Deno.test("StreamSocket.upgradeToSslAsServerAsync() stops at an aborted signal and closes the socket", async () => {
  const controller = new AbortController();
  // Only the abort ends the wait.
  const error = await silentClientUpgrade(
    { signal: controller.signal },
    () => controller.abort(new Error("stop waiting")),
  );
  assert.equal(error.status, sockets.SocketErrorStatus.OperationAborted);
  assert.match(error.message, /the upgrade was aborted/);
  assert.equal((error.cause as Error).message, "stop waiting");
});

Deno.test("StreamSocket.upgradeToSslAsServerAsync() maps a caller's AbortSignal.timeout() deadline to ConnectionTimedOut, as upgradeToSslAsync() does", async () => {
  // The caller's deadline ends the wait, well before the upgrade's own.
  const error = await silentClientUpgrade({
    timeout: 10_000,
    signal: AbortSignal.timeout(50),
  });
  assert.equal(error.status, sockets.SocketErrorStatus.ConnectionTimedOut);
  assert.match(error.message, /its deadline passed/);
  assert.equal((error.cause as Error).name, "TimeoutError");
});

Deno.test("StreamSocket.upgradeToSslAsServerAsync() gives up on a client that never completes its handshake after `timeout`, and closes the socket", async () => {
  const { listener, upgraded } = await smtpListener({ timeout: 200 });
  await using _ = listener;
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const lines = new LineReader(client.inputStream);
  assert.match(String(await lines.readLine()), /^220 /);
  // STARTTLS, then nothing: the handshake never starts.
  await client.outputStream.writeAsync(encoder.encode("STARTTLS\r\n"));
  assert.equal(await lines.readLine(), "220 Go ahead");
  const error = await within(upgraded, 5_000, "the timed-out upgrade");
  assert.ok(error instanceof sockets.SocketError, String(error));
  assert.equal(error.status, sockets.SocketErrorStatus.ConnectionTimedOut);
  assert.match(
    error.message,
    /did not complete the handshake within 200 ms; raise "timeout"/,
  );
  // The server closed its side: the client reads the end.
  await assertReadsEnd(client, "the close");
});

Deno.test("StreamSocket.upgradeToSslAsServerAsync() refuses a timeout that is not a positive number", async () => {
  for (const timeout of [0, -1, Number.NaN, "5" as unknown as number]) {
    await assert.rejects(
      new StreamSocket().upgradeToSslAsServerAsync(pair("server"), { timeout }),
      (e) =>
        e instanceof RangeError &&
        /"timeout" must be a positive number of milliseconds/.test(e.message),
    );
  }
});

Deno.test("StreamSocket.upgradeToSslAsServerAsync() gets every byte and the end of a client that sent more than its reader kept up with", async () => {
  // The reader falls behind, so the connection pauses for backpressure:
  // pausing node:tls's socket itself lost the rest and the end for good.
  await using listener = new StreamSocketListener();
  const total = 2 * 1024 * 1024;
  const received = Promise.withResolvers<number>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    try {
      await s.upgradeToSslAsServerAsync(pair("server"));
      // Slower than the client: the bytes pile up past the pause mark.
      received.resolve(await readCountingSlowly(s));
    } catch (error) {
      received.reject(error);
    }
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using client = new StreamSocket();
  client.control.trustedRootCertificates = [CA];
  await client.connectAsync("127.0.0.1", listener.information.localPort);
  await client.upgradeToSslAsync(SocketProtectionLevel.Tls12, "localhost");
  await client.outputStream.writeAsync(countingBytes(total));
  await client.outputStream.closeAsync();
  assert.equal(
    await within(received.promise, 30_000, "the end at the server"),
    total,
  );
});

Deno.test("StreamSocket.upgradeToSslAsServerAsync() rejects and closes the socket when the client closes before or during the handshake", async () => {
  await using listener = new StreamSocketListener();
  const results: Promise<unknown>[] = [];
  const upgrading: StreamSocket[] = [];
  const accepted = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    upgrading.push(socket);
    results.push(
      socket.upgradeToSslAsServerAsync(pair("server")).then(
        () => "upgraded",
        (e) => e,
      ),
    );
    if (results.length === 2) accepted.resolve();
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  // One client leaves without a byte, the other after half a ClientHello.
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  const half = await Deno.connect({ hostname: "127.0.0.1", port });
  await half.write(new Uint8Array([0x16, 0x03, 0x01, 0x01, 0x00, 0x01]));
  await within(accepted.promise, 5_000, "both connections");
  silent.close();
  half.close();
  for (const result of results) {
    const error = await within(result, 5_000, "the failed upgrade");
    assert.ok(error instanceof sockets.SocketError, String(error));
    assert.equal(
      error.status,
      sockets.SocketErrorStatus.ConnectionResetByPeer,
    );
  }
  for (const socket of upgrading) {
    await within(socket.closed, 5_000, "the socket's close");
  }
});
