import assert from "node:assert/strict";
import * as tls from "node:tls";
import {
  Certificate,
  LineReader,
  SocketError,
  SocketErrorStatus,
  SocketProtectionLevel,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import {
  captureConsoleError,
  countingBytes,
  eventually,
  openDescriptors,
  openSslClientArgs,
  readCountingSlowly,
  readLineWithin,
  ROOT,
  run,
  runWithStdin,
  within,
} from "./_helpers.ts";

const dir = new URL("./testdata/", import.meta.url);
const path = (name: string): string => new URL(name, dir).pathname;
const read = (name: string): string => Deno.readTextFileSync(path(name));
const pair = (name: string): Certificate =>
  Certificate.fromPem(read(`${name}.pem`), read(`${name}.key`));
const CA = Certificate.fromPem(read("ca.pem"));
const encoder = new TextEncoder();
const L = SocketProtectionLevel;
const S = SocketErrorStatus;

interface TlsServer extends AsyncDisposable {
  port: number;
}

/** A Deno.listenTls echo server with the given certificate. */
function echoServer(name: string): TlsServer {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: read(`${name}.pem`),
    key: read(`${name}.key`),
  });
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      conn.readable.pipeTo(conn.writable).catch(() => {}).finally(() =>
        conns.delete(conn)
      );
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed by the pipe.
        }
      }
      await loop;
    },
  };
}

/** A mutual-TLS StreamSocketListener echoing one line per connection. */
async function mtlsListener(
  seen?: (socket: StreamSocket) => void,
): Promise<StreamSocketListener> {
  const listener = new StreamSocketListener();
  listener.control.serverCertificate = pair("server");
  listener.control.clientCertificateRequired = true;
  listener.control.trustedClientRoots = [CA];
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    seen?.(s);
    const line = await new LineReader(s.inputStream).readLine();
    await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return listener;
}

async function echoLine(
  socket: StreamSocket,
  line: string,
): Promise<string | null> {
  await socket.outputStream.writeAsync(encoder.encode(`${line}\n`));
  return await new LineReader(socket.inputStream).readLine();
}

function trusting(
  options: { certificate?: string; backend?: "deno" | "node" } = {},
): StreamSocket {
  const socket = new StreamSocket();
  socket.control.trustedRootCertificates = [CA];
  if (options.certificate !== undefined) {
    socket.control.clientCertificate = pair(options.certificate);
  }
  if (options.backend !== undefined) {
    socket.control.tlsBackend = options.backend;
  }
  return socket;
}

async function statusOf(
  promise: Promise<unknown>,
): Promise<{ status: SocketErrorStatus; message: string }> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof Error, "expected a rejection");
  return { status: SocketError.getStatus(error), message: error.message };
}

// ---- Client: protection levels ------------------------------------------------------------

for (const level of [L.Ssl, L.Tls12, L.Tls13]) {
  Deno.test(`StreamSocket.connectAsync() speaks TLS with protection level ${level}`, async () => {
    await using server = echoServer("server");
    await using socket = trusting();
    await socket.connectAsync("localhost", server.port, level);
    assert.equal(await echoLine(socket, "hello"), "hello");
    if (level === L.Tls13) {
      assert.equal(socket.information.protectionLevel, L.Tls13);
    } else assert.equal(socket.information.protectionLevel, level);
  });
}

for (
  const level of [
    L.SslAllowNullEncryption,
    L.BluetoothEncryptionAllowNullAuthentication,
    L.BluetoothEncryptionWithAuthentication,
    L.Ssl3AllowWeakEncryption,
    L.Tls10,
    L.Tls11,
  ]
) {
  Deno.test(`StreamSocket.connectAsync() refuses protection level ${level} and names what is supported`, async () => {
    await using socket = new StreamSocket();
    await assert.rejects(
      socket.connectAsync("127.0.0.1", 9, level),
      (error: Error) =>
        error instanceof RangeError &&
        /protection level \w+ \(\d+\)/.test(error.message) &&
        /PlainSocket, Ssl, Tls12 or Tls13/.test(error.message),
    );
  });
}

Deno.test("StreamSocket with tlsBackend node pins Tls12 to TLS 1.2 and reports the server certificate", async () => {
  await using server = echoServer("server");
  await using socket = trusting({ backend: "node" });
  await socket.connectAsync("localhost", server.port, L.Tls12);
  assert.equal(socket.information.protectionLevel, L.Tls12);
  const certificate = socket.information.serverCertificate;
  assert.ok(certificate !== undefined);
  assert.equal(certificate.commonName, "localhost");
  assert.equal(
    certificate.fingerprint,
    Certificate.fromPem(read("server.pem")).fingerprint,
  );
  assert.equal(await echoLine(socket, "pinned"), "pinned");
});

// ---- Client: certificate failures ---------------------------------------------------------

const failures: [string, string, SocketErrorStatus][] = [
  ["untrusted root", "untrusted_server", S.CertificateUntrustedRoot],
  ["expired", "expired", S.CertificateExpired],
  ["wrong name", "other_name", S.CertificateCommonNameIsIncorrect],
];
for (const [what, name, status] of failures) {
  Deno.test(`StreamSocket.connectAsync() rejects a server certificate (${what}) with status ${status}`, async () => {
    await using server = echoServer(name);
    await using socket = trusting();
    const result = await statusOf(
      socket.connectAsync("localhost", server.port, L.Tls12),
    );
    assert.equal(result.status, status, result.message);
    assert.match(result.message, /^Cannot connect to localhost:\d+: /);
  });
}

Deno.test("StreamSocket.connectAsync() rejects an untrusted server without trustedRootCertificates", async () => {
  await using server = echoServer("server");
  await using socket = new StreamSocket();
  const result = await statusOf(
    socket.connectAsync("localhost", server.port, L.Tls12),
  );
  assert.equal(result.status, S.CertificateUntrustedRoot);
});

Deno.test("StreamSocket.control.ignorableServerCertificateErrors honours a name mismatch", async () => {
  await using server = echoServer("other_name");
  await using socket = trusting();
  socket.control.ignorableServerCertificateErrors = ["InvalidName"];
  assert.deepEqual(socket.control.ignorableServerCertificateErrors, [
    S.CertificateCommonNameIsIncorrect,
  ]);
  await socket.connectAsync("localhost", server.port, L.Tls12);
  assert.equal(await echoLine(socket, "anyway"), "anyway");
});

Deno.test("StreamSocket.control.ignorableServerCertificateErrors refuses what Deno cannot ignore", async () => {
  await using socket = trusting();
  socket.control.ignorableServerCertificateErrors = [
    S.CertificateUntrustedRoot,
  ];
  await assert.rejects(
    socket.connectAsync("localhost", 9, L.Tls12),
    (error: Error) =>
      error instanceof RangeError &&
      /CertificateUntrustedRoot \(24\)/.test(error.message),
  );
  assert.throws(() => {
    socket.control.ignorableServerCertificateErrors = [12 as SocketErrorStatus];
  }, TypeError);
});

// ---- Client certificate and the mTLS listener ---------------------------------------------

Deno.test("StreamSocketListener with clientCertificateRequired accepts a client certificate and shows it", async () => {
  const seen = Promise.withResolvers<StreamSocket>();
  await using listener = await mtlsListener((s) => seen.resolve(s));
  await using socket = trusting({ certificate: "client" });
  await socket.connectAsync(
    "localhost",
    listener.information.localPort,
    L.Tls12,
  );
  assert.equal(await echoLine(socket, "with certificate"), "with certificate");
  const accepted = await within(seen.promise, 5_000, "the accepted socket");
  assert.equal(
    accepted.information.clientCertificate?.commonName,
    "test-client",
  );
  assert.equal(accepted.information.serverCertificate?.commonName, "localhost");
  assert.ok(
    [L.Tls12, L.Tls13].includes(accepted.information.protectionLevel as 8 | 10),
  );
  assert.equal(socket.information.clientCertificate?.commonName, "test-client");
  // The accepted socket knows both ends, as a plain accepted socket does.
  assert.equal(accepted.information.remoteAddress?.canonicalName, "127.0.0.1");
  assert.equal(
    accepted.information.remotePort,
    socket.information.localPort,
  );
  assert.equal(
    accepted.information.localPort,
    listener.information.localPort,
  );
});

for (const backend of ["deno", "node"] as const) {
  Deno.test(`StreamSocketListener rejects a client without a certificate (${backend} client) and says one is required`, async () => {
    let reached = 0;
    await using listener = await mtlsListener(() => reached++);
    await using socket = trusting({ backend });
    const result = await statusOf((async () => {
      await socket.connectAsync(
        "localhost",
        listener.information.localPort,
        L.Tls12,
      );
      // TLS 1.3 servers refuse after the handshake: the first read hears it.
      await echoLine(socket, "no certificate");
    })());
    assert.equal(result.status, S.CertificateIsInvalid, result.message);
    assert.match(result.message, /requires a client certificate/);
    assert.equal(reached, 0);
  });
}

Deno.test("StreamSocketListener rejects a client certificate from an untrusted CA", async () => {
  let reached = 0;
  await using listener = await mtlsListener(() => reached++);
  await using socket = trusting({ certificate: "untrusted_client" });
  const result = await statusOf((async () => {
    await socket.connectAsync(
      "localhost",
      listener.information.localPort,
      L.Tls12,
    );
    await echoLine(socket, "bad certificate");
  })());
  // Deno's node:tls server resets the connection instead of sending an alert, so the client
  // cannot always tell why; when an alert arrives the message says the certificate was rejected.
  assert.ok(
    /rejected the client certificate/.test(result.message) ||
      result.status === S.ConnectionResetByPeer,
    result.message,
  );
  assert.equal(reached, 0);
});

Deno.test("StreamSocketListener reports a client refused by the TLS handshake as an error event with its endpoint, and keeps serving", async () => {
  await using listener = await mtlsListener();
  const refused = Promise.withResolvers<SocketError>();
  listener.addEventListener("error", ({ error }) => {
    refused.resolve(error as SocketError);
  });
  await using stranger = trusting();
  await statusOf((async () => {
    await stranger.connectAsync(
      "localhost",
      listener.information.localPort,
      L.Tls12,
    );
    await echoLine(stranger, "no certificate");
  })());
  const error = await within(refused.promise, 5_000, "the error event");
  assert.ok(error instanceof SocketError, String(error));
  assert.match(error.message, /Refused a TLS connection from 127\.0\.0\.1:\d+/);
  assert.equal(error.status, S.CertificateIsInvalid, error.message);
  assert.equal(error.endpoint?.hostname, "127.0.0.1");
  assert.equal(error.endpoint?.port, stranger.information.localPort);
  await using friend = trusting({ certificate: "client" });
  await friend.connectAsync(
    "localhost",
    listener.information.localPort,
    L.Tls12,
  );
  assert.equal(await echoLine(friend, "still serving"), "still serving");
});

Deno.test("StreamSocketListener on Deno.listenTls reports a client that does not trust it, only to error listeners", async () => {
  for (const listening of [true, false]) {
    using capture = captureConsoleError();
    await using listener = new StreamSocketListener();
    listener.control.serverCertificate = pair("untrusted_server");
    const served = Promise.withResolvers<void>();
    listener.addEventListener("connectionreceived", ({ socket }) => {
      socket.close();
      served.resolve();
    });
    const errors: unknown[] = [];
    const refused = Promise.withResolvers<void>();
    if (listening) {
      listener.addEventListener("error", ({ error }) => {
        errors.push(error);
        refused.resolve();
      });
    }
    await listener.bindEndpointAsync("127.0.0.1", 0);
    await using client = trusting();
    const result = await statusOf(
      client.connectAsync("localhost", listener.information.localPort, L.Tls12),
    );
    assert.equal(result.status, S.CertificateUntrustedRoot, result.message);
    if (listening) {
      await within(refused.promise, 5_000, "the error event");
      assert.equal(errors.length, 1);
      assert.match(
        String(errors[0]),
        /Refused a TLS connection from 127\.0\.0\.1:\d+/,
      );
    } else {
      // A client that trusts the server gets through after the refused one,
      // so the refusal was handled: dropped, neither thrown nor logged.
      await using friend = new StreamSocket();
      friend.control.trustedRootCertificates = [read("untrusted_ca.pem")];
      await friend.connectAsync(
        "localhost",
        listener.information.localPort,
        L.Tls12,
      );
      await within(served.promise, 5_000, "the trusting client");
    }
    assert.deepEqual(capture.logged, []);
  }
});

Deno.test("StreamSocketListener with a server certificate alone serves TLS through Deno.listenTls", async () => {
  await using listener = new StreamSocketListener();
  listener.control.serverCertificate = pair("server");
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    assert.equal(s.information.clientCertificate, undefined);
    const line = await new LineReader(s.inputStream).readLine();
    await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using socket = trusting();
  await socket.connectAsync("localhost", listener.information.localPort, L.Ssl);
  assert.equal(await echoLine(socket, "tls"), "tls");
});

Deno.test("StreamSocket.control.clientCertificate cannot change once connected and needs a key", async () => {
  await using server = echoServer("server");
  await using socket = trusting();
  assert.throws(() => {
    socket.control.clientCertificate = CA;
  }, /private key/);
  await socket.connectAsync("localhost", server.port, L.Tls12);
  assert.throws(() => {
    socket.control.clientCertificate = pair("client");
  }, /already connected/);
});

Deno.test("StreamSocketListener refuses clientCertificateRequired without a server certificate", async () => {
  await using listener = new StreamSocketListener();
  listener.control.clientCertificateRequired = true;
  await assert.rejects(
    listener.bindEndpointAsync("127.0.0.1", 0),
    /serverCertificate/,
  );
});

// ---- upgradeToSslAsync --------------------------------------------------------------------

/** A plain server that answers "GO\n", then upgrades to TLS and echoes. */
function startTlsServer(): TlsServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    await conn.write(encoder.encode("GO\n"));
    const secure = await (await import("node:tls")).TLSSocket
      ? await upgradeServerSide(conn)
      : undefined;
    return secure;
  })().catch(() => {});
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await done;
    },
  };
}

/** Deno has no server-side startTls: relay the plain conn into a Deno.listenTls echo on loopback. */
async function upgradeServerSide(conn: Deno.Conn): Promise<void> {
  const tlsListener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: read("server.pem"),
    key: read("server.key"),
  });
  const relay = await Deno.connect({
    hostname: "127.0.0.1",
    port: tlsListener.addr.port,
  });
  const inner = await tlsListener.accept();
  tlsListener.close();
  const echo = inner.readable.pipeTo(inner.writable).catch(() => {});
  await Promise.allSettled([
    conn.readable.pipeTo(relay.writable),
    relay.readable.pipeTo(conn.writable),
  ]);
  await echo;
}

Deno.test("StreamSocket.upgradeToSslAsync() switches the same streams to TLS", async () => {
  await using server = startTlsServer();
  await using socket = trusting();
  await socket.connectAsync("127.0.0.1", server.port);
  const input = socket.inputStream;
  const output = socket.outputStream;
  const reader = new LineReader(input);
  assert.equal(await reader.readLine(), "GO");
  await socket.upgradeToSslAsync(L.Tls12, "localhost");
  assert.equal(socket.information.protectionLevel, L.Tls12);
  await output.writeAsync(encoder.encode("secret\n"));
  assert.equal(await new LineReader(input).readLine(), "secret");
  assert.strictEqual(socket.inputStream, input);
});

Deno.test("StreamSocket.upgradeToSslAsync() refuses reads and writes started while it runs, and still upgrades", async () => {
  await using server = startTlsServer();
  await using socket = trusting();
  await socket.connectAsync("127.0.0.1", server.port);
  const reader = new LineReader(socket.inputStream);
  assert.equal(await reader.readLine(), "GO");
  const upgrade = socket.upgradeToSslAsync(L.Tls12, "localhost");
  // Started in the same tick as the upgrade: refused at once, never left hanging.
  await assert.rejects(
    socket.inputStream.readAsync(new Uint8Array(8), 8, 1),
    (error: Error) =>
      error instanceof TypeError && /being upgraded/.test(error.message),
  );
  await assert.rejects(
    socket.outputStream.writeAsync(encoder.encode("early\n")),
    (error: Error) =>
      error instanceof TypeError && /being upgraded/.test(error.message),
  );
  await within(upgrade, 5_000, "the upgrade");
  await socket.outputStream.writeAsync(encoder.encode("after\n"));
  assert.equal(
    await readLineWithin(socket, "the echo"),
    "after",
  );
});

Deno.test("StreamSocket.upgradeToSslAsync() refuses while an aborted write still holds the connection, and the socket stays usable", async () => {
  await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  await using socket = trusting();
  await socket.connectAsync("127.0.0.1", listener.addr.port);
  await using peer = await accepted;
  // The peer does not read: a large write stays in flight.
  const write = socket.outputStream.writeAsync(
    new Uint8Array(32 * 1024 * 1024),
  );
  write.catch(() => {});
  // Let the output stream start sending (it does so in a microtask).
  await Promise.resolve();
  socket.outputStream.abort(new Error("give up"));
  assert.equal(socket.outputStream.unsentBytes, 0);
  await assert.rejects(
    socket.upgradeToSslAsync(L.Tls12, "localhost"),
    (error: Error) =>
      error instanceof TypeError &&
      /write is still in progress/.test(error.message),
  );
  // Not closed by the refusal: reading still works.
  await peer.write(encoder.encode("still here\n"));
  assert.equal(
    await readLineWithin(socket, "the line"),
    "still here",
  );
  socket.close();
  await write.catch(() => {});
});

Deno.test("StreamSocket.upgradeToSslAsync() refuses a client certificate, a pending read, Tls13 and a TLS socket", async () => {
  await using server = startTlsServer();
  await using socket = trusting();
  await socket.connectAsync("127.0.0.1", server.port);
  const first = new Uint8Array(3);
  assert.equal(await socket.inputStream.readAsync(first, 3), 3);
  const pending = socket.inputStream.readAsync(new Uint8Array(10), 10);
  const settled = pending.then(() => {}, () => {});
  await assert.rejects(
    socket.upgradeToSslAsync(L.Tls12, "localhost"),
    /pending/,
  );
  await assert.rejects(
    socket.upgradeToSslAsync(L.Tls10, "localhost"),
    RangeError,
  );
  await assert.rejects(
    socket.upgradeToSslAsync(L.Tls13, "localhost"),
    /TLS 1\.3/,
  );
  socket.close();
  await settled;

  await using server2 = echoServer("server");
  await using secure = trusting();
  await secure.connectAsync("localhost", server2.port, L.Tls12);
  await assert.rejects(
    secure.upgradeToSslAsync(L.Tls12, "localhost"),
    /already protected/,
  );

  await using plain = new StreamSocket();
  plain.control.clientCertificate = pair("client");
  await plain.connectAsync("127.0.0.1", server2.port);
  await assert.rejects(
    plain.upgradeToSslAsync(L.Tls12, "localhost"),
    /cannot send a client certificate/,
  );
});

Deno.test("StreamSocket.upgradeToSslAsync() maps an untrusted server to CertificateUntrustedRoot", async () => {
  await using server = startTlsServer();
  await using socket = new StreamSocket();
  await socket.connectAsync("127.0.0.1", server.port);
  assert.equal(await new LineReader(socket.inputStream).readLine(), "GO");
  const result = await statusOf(socket.upgradeToSslAsync(L.Tls12, "localhost"));
  assert.equal(result.status, S.CertificateUntrustedRoot, result.message);
});

// ---- Interop with real peers --------------------------------------------------------------

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Spawns `command`, waits (bounded) until stdout shows `ready`; disposing kills it and awaits its exit. */
async function spawnUntil(
  command: string,
  args: string[],
  ready: string,
  ms: number,
): Promise<AsyncDisposable> {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const drained = (() => {
    let text = "";
    let seen = false;
    const found = Promise.withResolvers<void>();
    (async () => {
      // Bounded by the process: its exit ends the loop.
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        if (!seen && text.includes(ready)) {
          seen = true;
          found.resolve();
        }
      }
      if (!seen) {
        found.reject(
          new Error(
            `${command} exited before printing ${ready}: ${await stderr}`,
          ),
        );
      }
    })().catch(() => {});
    return found.promise;
  })();
  const dispose = async (): Promise<void> => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.stdin.close().catch(() => {});
    await child.status;
    await stderr;
  };
  try {
    await within(drained, ms, `${command} to print ${ready}`);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { [Symbol.asyncDispose]: dispose };
}

/** `openssl s_server -Verify 1` on a free port, once it printed ACCEPT; retried on a port collision. */
async function openSslServer(): Promise<{ port: number } & AsyncDisposable> {
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    try {
      const server = await spawnUntil(
        "openssl",
        [
          "s_server",
          "-accept",
          `127.0.0.1:${port}`,
          "-cert",
          path("server.pem"),
          "-key",
          path("server.key"),
          "-CAfile",
          path("ca.pem"),
          "-Verify",
          "1",
          "-verify_return_error",
          "-rev",
        ],
        "ACCEPT",
        10_000,
      );
      return {
        port,
        [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
      };
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

const hasOpenSsl =
  (await run("openssl", ["version"]).catch(() => ({ code: 1 }))).code === 0;

Deno.test({
  name:
    "StreamSocket.connectAsync() with a client certificate is accepted by openssl s_server -Verify 1",
  ignore: !hasOpenSsl,
  async fn() {
    await using server = await openSslServer();
    await using socket = trusting({ certificate: "client" });
    await socket.connectAsync("localhost", server.port, L.Tls12);
    // -rev answers each line reversed.
    assert.equal(await echoLine(socket, "abc"), "cba");
  },
});

Deno.test({
  name:
    "StreamSocket.connectAsync() without a client certificate is rejected by openssl s_server -Verify 1",
  ignore: !hasOpenSsl,
  async fn() {
    await using server = await openSslServer();
    await using socket = trusting();
    const result = await statusOf((async () => {
      await socket.connectAsync("localhost", server.port, L.Tls12);
      await echoLine(socket, "abc");
    })());
    assert.equal(result.status, S.CertificateIsInvalid, result.message);
    assert.match(result.message, /requires a client certificate/);
  },
});

const pfx = (name: string): Certificate =>
  Certificate.fromPfx(Deno.readFileSync(path(name)), "seed-sockets");

for (const file of ["client.pfx", "client_legacy.pfx"]) {
  for (const backend of ["deno", "node"] as const) {
    Deno.test({
      name:
        `StreamSocket.connectAsync() with a client certificate from ${file} (${backend} backend) is accepted by openssl s_server -Verify 1`,
      ignore: !hasOpenSsl,
      async fn() {
        await using server = await openSslServer();
        await using socket = trusting({ backend });
        socket.control.clientCertificate = pfx(file);
        await socket.connectAsync("localhost", server.port, L.Tls12);
        assert.equal(await echoLine(socket, "pfx"), "xfp");
      },
    });
  }
}

/** Runs the TLS example against `port` with `--pfx`, the password in `env` or on stdin. */
async function runPfxExample(
  port: number,
  file: string,
  password: { env: string } | { stdin: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env=SEED_SOCKETS_PFX_PASSWORD",
    `${ROOT}examples/tls_client_certificate.ts`,
    "--host",
    "localhost",
    "--port",
    String(port),
    "--ca",
    path("ca.pem"),
    "--pfx",
    path(file),
  ];
  return await runWithStdin(Deno.execPath(), args, {
    input: "stdin" in password ? password.stdin : "",
    env: "env" in password ? { SEED_SOCKETS_PFX_PASSWORD: password.env } : {},
    // The example reads its password to the end of the line, then needs no more input.
    closeStdin: "before",
    what: "the TLS example",
  });
}

Deno.test({
  name:
    "examples/tls_client_certificate.ts --pfx reads the password from the environment or stdin and is accepted by openssl s_server -Verify 1",
  ignore: !hasOpenSsl,
  async fn() {
    await using server = await openSslServer();
    const fromEnv = await runPfxExample(server.port, "client.pfx", {
      env: "seed-sockets",
    });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    // s_server -rev answers the line reversed.
    assert.match(fromEnv.stdout, /echo: "SLT lautum revo olleH"/);
    const fromStdin = await runPfxExample(server.port, "client_legacy.pfx", {
      stdin: "seed-sockets\n",
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match(fromStdin.stdout, /echo: "SLT lautum revo olleH"/);
  },
});

Deno.test("examples/tls_client_certificate.ts --pfx with a wrong password exits 1 with one line saying so", async () => {
  const result = await runPfxExample(1, "client.pfx", { stdin: "wrong\n" });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /^Cannot load --pfx .*client\.pfx: Cannot read the PFX file: the password is wrong [^\n]*\n$/,
  );
});

Deno.test("StreamSocketListener serves TLS with a server certificate from a PFX file, with and without client certificates", async () => {
  for (const required of [false, true]) {
    const seen = Promise.withResolvers<string | undefined>();
    await using listener = new StreamSocketListener();
    listener.control.serverCertificate = pfx("server.pfx");
    if (required) {
      listener.control.clientCertificateRequired = true;
      listener.control.trustedClientRoots = [CA];
    }
    listener.addEventListener("connectionreceived", async ({ socket }) => {
      await using s = socket;
      seen.resolve(s.information.clientCertificate?.commonName);
      const line = await new LineReader(s.inputStream).readLine();
      await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
    });
    await listener.bindEndpointAsync("127.0.0.1", 0);
    await using socket = trusting();
    if (required) socket.control.clientCertificate = pfx("client.pfx");
    await socket.connectAsync(
      "localhost",
      listener.information.localPort,
      L.Tls12,
    );
    assert.equal(await echoLine(socket, "over pfx"), "over pfx");
    assert.equal(
      await within(seen.promise, 5_000, "the accepted socket"),
      required ? "test-client" : undefined,
    );
  }
});

async function openSslClient(
  port: number,
  withCertificate: boolean,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = openSslClientArgs(
    port,
    withCertificate ? { certificate: "client" } : {},
  );
  return await runWithStdin("openssl", args, {
    input: "from openssl\n",
    closeStdin: "after",
    what: "openssl s_client",
  });
}

Deno.test({
  name:
    "StreamSocketListener with clientCertificateRequired serves openssl s_client -cert and refuses it without",
  ignore: !hasOpenSsl,
  async fn() {
    const seen: string[] = [];
    await using listener = await mtlsListener((s) =>
      seen.push(s.information.clientCertificate?.commonName ?? "?")
    );
    const good = await openSslClient(listener.information.localPort, true);
    assert.match(good.stdout, /from openssl/);
    const bad = await openSslClient(listener.information.localPort, false);
    assert.doesNotMatch(bad.stdout, /from openssl/);
    assert.match(bad.stderr, /alert|certificate required|error/i);
    assert.deepEqual(seen, ["test-client"]);
  },
});

const NODE_CLIENT = `
const tls = require("node:tls");
const fs = require("node:fs");
const [port, dir, withCert] = process.argv.slice(1);
const options = { host: "127.0.0.1", port: Number(port), servername: "localhost", ca: fs.readFileSync(dir + "ca.pem") };
if (withCert === "yes") { options.cert = fs.readFileSync(dir + "client.pem"); options.key = fs.readFileSync(dir + "client.key"); }
const socket = tls.connect(options, () => socket.write("from node\\n"));
socket.setEncoding("utf8");
let text = "";
socket.on("data", (d) => { text += d; if (text.includes("\\n")) { console.log("echo:" + text.trim()); socket.end(); } });
socket.on("error", (e) => { console.log("error:" + (e.code || e.message)); process.exitCode = 2; });
socket.on("close", () => { if (!text) console.log("closed:without echo"); });
`;

const hasNode =
  (await run("node", ["--version"]).catch(() => ({ code: 1 }))).code === 0;

Deno.test({
  name:
    "StreamSocketListener with clientCertificateRequired interoperates with a node:tls client in Node",
  ignore: !hasNode,
  async fn() {
    await using listener = await mtlsListener();
    const port = String(listener.information.localPort);
    const good = await run("node", [
      "-e",
      NODE_CLIENT,
      port,
      dir.pathname,
      "yes",
    ], 15_000);
    assert.equal(good.stdout.trim(), "echo:from node", good.stderr);
    const bad = await run(
      "node",
      ["-e", NODE_CLIENT, port, dir.pathname, "no"],
      15_000,
    );
    // Deno's node:tls server refuses either with an alert (an error in the
    // client) or, with TLS 1.3 after the handshake, by closing: both are refusals.
    assert.match(bad.stdout, /^(error:|closed:without echo)/);
    assert.doesNotMatch(bad.stdout, /echo:/);
  },
});

Deno.test("tests/testdata/make_certs.sh regenerates a consistent set of certificates", async () => {
  const out = await Deno.makeTempDir();
  try {
    const result = await run(
      "sh",
      [`${ROOT}tests/testdata/make_certs.sh`, out],
      60_000,
    );
    assert.equal(result.code, 0, result.stderr);
    const server = Certificate.fromPem(
      await Deno.readTextFile(`${out}/server.pem`),
      await Deno.readTextFile(`${out}/server.key`),
    );
    assert.ok(server.subjectAltNames.includes("IP Address:127.0.0.1"));
    assert.equal(
      Certificate.fromPem(await Deno.readTextFile(`${out}/expired.pem`))
        .isValidAt(),
      false,
    );
    for (const file of ["client.pfx", "client_legacy.pfx", "server.pfx"]) {
      const fromPfx = Certificate.fromPfx(
        await Deno.readFile(`${out}/${file}`),
        "seed-sockets",
      );
      assert.ok(fromPfx.hasPrivateKey, file);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

void tls;

Deno.test("StreamSocket.upgradeToSslAsync() gives up after its timeout on a server that never answers the handshake, and closes the socket", async () => {
  await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  await using socket = trusting();
  await socket.connectAsync("127.0.0.1", listener.addr.port);
  await using silent = await accepted;
  const error = await within(
    socket.upgradeToSslAsync(L.Tls12, "localhost", { timeout: 50 }).then(
      () => undefined,
      (e) => e,
    ),
    5_000,
    "the handshake time-out",
  );
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.ConnectionTimedOut);
  assert.match(error.message, /no answer within 50 ms/);
  await socket.closed;
  void silent;
});

Deno.test("StreamSocket.upgradeToSslAsync() stops at its signal with OperationAborted, and checks its options", async () => {
  await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  await using socket = trusting();
  await socket.connectAsync("127.0.0.1", listener.addr.port);
  await using silent = await accepted;
  await assert.rejects(
    socket.upgradeToSslAsync(L.Tls12, "localhost", { timeout: 0 }),
    (e) => e instanceof RangeError && /"timeout"/.test(e.message),
  );
  const controller = new AbortController();
  const upgrading = socket.upgradeToSslAsync(L.Tls12, "localhost", {
    signal: controller.signal,
  });
  controller.abort();
  await assert.rejects(
    upgrading,
    (e) =>
      e instanceof SocketError &&
      e.status === SocketErrorStatus.OperationAborted,
  );
  await socket.closed;
  void silent;
});

Deno.test("A tlsBackend node listener gets every byte and the end of a client that sent more than its reader kept up with", async () => {
  // The reader falls behind, so the connection pauses for backpressure:
  // pausing node:tls's socket itself lost the rest and the end for good.
  await using listener = new StreamSocketListener();
  listener.control.serverCertificate = pair("server");
  listener.control.tlsBackend = "node";
  const total = 2 * 1024 * 1024;
  const received = Promise.withResolvers<number>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    try {
      // Slower than the client: the bytes pile up past the pause mark.
      received.resolve(await readCountingSlowly(s));
    } catch (error) {
      received.reject(error);
    }
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using client = trusting();
  await client.connectAsync(
    "localhost",
    listener.information.localPort,
    L.Tls12,
  );
  await client.outputStream.writeAsync(countingBytes(total));
  await client.outputStream.closeAsync();
  assert.equal(
    await within(received.promise, 30_000, "the end at the server"),
    total,
  );
});

Deno.test("StreamSocket.close() on a tlsBackend node listener's socket releases the connection of a client that stopped reading", async () => {
  await using listener = new StreamSocketListener();
  listener.control.serverCertificate = pair("server");
  listener.control.tlsBackend = "node";
  const closed = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    // Far more than the kernel's buffers take while the client does not read.
    const write = socket.outputStream.writeAsync(
      new Uint8Array(16 * 1024 * 1024),
    ).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.close();
    await write;
    closed.resolve();
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const baseline = await openDescriptors();
  using client = await Deno.connectTls({
    hostname: "localhost",
    port: listener.information.localPort,
    caCerts: [read("ca.pem")],
  });
  await client.handshake();
  await within(closed.promise, 5_000, "the server's close");
  // The client's descriptor stays; the server's must go, though the client
  // never reads what it still has to send (close_notify at least).
  await eventually(
    async () => await openDescriptors() <= baseline + 1,
    5_000,
    `the server's descriptor to go (baseline ${baseline} and the client's)`,
  );
});
