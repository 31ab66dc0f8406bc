import assert from "node:assert/strict";
import {
  HostName,
  InputStreamOptions,
  SocketError,
  SocketErrorStatus,
  SocketProtectionLevel,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { connectedPair, readAll, ROOT, runDeno, within } from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

Deno.test("StreamSocket.connectAsync() connects and exchanges bytes both ways", async () => {
  await using pair = await connectedPair();
  await pair.client.outputStream.writeAsync(encoder.encode("ping"));
  const buffer = new Uint8Array(4);
  assert.equal(await pair.server.inputStream.readAsync(buffer, 4), 4);
  assert.equal(decoder.decode(buffer), "ping");
  await pair.server.outputStream.writeAsync(encoder.encode("pong"));
  assert.equal(await pair.client.inputStream.readAsync(buffer, 4), 4);
  assert.equal(decoder.decode(buffer), "pong");
});

Deno.test("StreamSocket.connectAsync() works over IPv6 loopback with a HostName", async () => {
  await using pair = await connectedPair("::1");
  assert.equal(pair.client.information.remoteAddress?.canonicalName, "::1");
  assert.equal(pair.client.information.remoteHostName?.rawName, "::1");
});

Deno.test("StreamSocket instance connectAsync() takes a HostName and a service string", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using socket = new StreamSocket();
  await socket.connectAsync(
    new HostName("127.0.0.1"),
    String(listener.information.localPort),
  );
  const info = socket.information;
  assert.equal(info.remotePort, listener.information.localPort);
  assert.equal(info.remoteServiceName, String(listener.information.localPort));
  assert.equal(info.localAddress?.canonicalName, "127.0.0.1");
  assert.ok(info.localPort > 0);
  assert.equal(info.protectionLevel, SocketProtectionLevel.PlainSocket);
  await assert.rejects(
    socket.connectAsync("127.0.0.1", listener.information.localPort),
    TypeError,
  );
});

Deno.test("StreamSocket.connectAsync() rejects with ConnectionRefused on a closed port", async () => {
  const port = closedPort();
  const error = await StreamSocket.connectAsync("127.0.0.1", port).catch((e) =>
    e
  );
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.ConnectionRefused);
  assert.equal(error.endpoint?.port, port);
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
});

Deno.test("StreamSocket.connectAsync() rejects with HostNotFound for nothing.invalid", async () => {
  const error = await StreamSocket.connectAsync("nothing.invalid", 80).catch((
    e,
  ) => e);
  assert.equal(SocketError.getStatus(error), SocketErrorStatus.HostNotFound);
  assert.match(error.message, /nothing\.invalid/);
});

Deno.test("StreamSocket.connectAsync() rejects bad arguments with TypeError or RangeError", async () => {
  await assert.rejects(StreamSocket.connectAsync("bad host!", 80), TypeError);
  await assert.rejects(
    StreamSocket.connectAsync("127.0.0.1", "nope"),
    TypeError,
  );
  await assert.rejects(
    StreamSocket.connectAsync("127.0.0.1", 70000),
    RangeError,
  );
  await assert.rejects(StreamSocket.connectAsync("127.0.0.1", 0), RangeError);
  await assert.rejects(
    StreamSocket.connectAsync("127.0.0.1", 80, { timeout: -1 }),
    RangeError,
  );
  await assert.rejects(
    StreamSocket.connectAsync("127.0.0.1", 80, SocketProtectionLevel.Tls10),
    RangeError,
  );
});

Deno.test("StreamSocket.connectAsync() rejects with OperationAborted when the signal is aborted", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const controller = new AbortController();
  controller.abort(new Error("user gave up"));
  const error = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
    {
      signal: controller.signal,
    },
  ).catch((e) => e);
  assert.equal(
    SocketError.getStatus(error),
    SocketErrorStatus.OperationAborted,
  );
});

Deno.test("StreamSocket streams throw OperationAborted before connecting", () => {
  const socket = new StreamSocket();
  assert.throws(
    () => socket.inputStream,
    (e) => SocketError.is(e, SocketErrorStatus.OperationAborted),
  );
  assert.throws(() => socket.outputStream, /connectAsync/);
  socket.close();
});

Deno.test("SocketInputStream.readAsync() with None waits for count bytes across writes", async () => {
  await using pair = await connectedPair();
  const buffer = new Uint8Array(6);
  const read = pair.server.inputStream.readAsync(
    buffer,
    6,
    InputStreamOptions.None,
  );
  for (const part of ["ab", "cd", "ef"]) {
    await pair.client.outputStream.writeAsync(encoder.encode(part));
  }
  assert.equal(await within(read, 5_000, "6 bytes"), 6);
  assert.equal(decoder.decode(buffer), "abcdef");
});

Deno.test("SocketInputStream.readAsync() with Partial returns as soon as some bytes arrive", async () => {
  await using pair = await connectedPair();
  await pair.client.outputStream.writeAsync(encoder.encode("xy"));
  const buffer = new Uint8Array(100);
  const n = await pair.server.inputStream.readAsync(
    buffer,
    100,
    InputStreamOptions.Partial,
  );
  assert.ok(n >= 1 && n <= 2);
});

Deno.test("SocketInputStream.readAsync() returns a short count, then 0, at the end of the stream", async () => {
  await using pair = await connectedPair();
  await pair.client.outputStream.writeAsync(encoder.encode("abc"));
  await pair.client.outputStream.closeAsync();
  const buffer = new Uint8Array(10);
  assert.equal(await pair.server.inputStream.readAsync(buffer, 10), 3);
  assert.equal(await pair.server.inputStream.readAsync(buffer, 10), 0);
  assert.equal(await pair.server.inputStream.readAsync(buffer, 0), 0);
});

Deno.test("SocketInputStream.readAsync() validates its arguments", async () => {
  await using pair = await connectedPair();
  const input = pair.server.inputStream;
  await assert.rejects(
    input.readAsync("nope" as unknown as Uint8Array, 1),
    TypeError,
  );
  await assert.rejects(input.readAsync(new Uint8Array(4), 5), RangeError);
  await assert.rejects(input.readAsync(new Uint8Array(4), 1.5), RangeError);
  await assert.rejects(
    input.readAsync(new Uint8Array(4), 4, 7 as InputStreamOptions),
    TypeError,
  );
});

Deno.test("StreamSocket.close() makes a pending read reject with OperationAborted and is idempotent", async () => {
  await using pair = await connectedPair();
  const read = pair.server.inputStream.readAsync(new Uint8Array(10), 10);
  pair.server.close();
  pair.server.close();
  const error = await within(read.catch((e) => e), 5_000, "the aborted read");
  assert.equal(
    SocketError.getStatus(error),
    SocketErrorStatus.OperationAborted,
  );
  await pair.server.closed;
  await assert.rejects(
    pair.server.outputStream.writeAsync(new Uint8Array(1)),
    SocketError,
  );
  await assert.rejects(pair.server.outputStream.flushAsync(), SocketError);
  assert.equal(
    await pair.client.inputStream.readAsync(new Uint8Array(1), 1),
    0,
  );
});

Deno.test("StreamSocket[Symbol.asyncDispose] sends what was written before closing", async () => {
  await using pair = await connectedPair();
  const message = encoder.encode("Hello, World!");
  {
    await using client = pair.client;
    for (let i = 0; i < 1000; i++) client.outputStream.writeAsync(message);
  }
  const received = await within(readAll(pair.server), 10_000, "all bytes");
  assert.equal(received.length, 13_000);
  assert.equal(decoder.decode(received.subarray(0, 13)), "Hello, World!");
});

Deno.test("SocketOutputStream coalesces unawaited small writes into few system calls", async () => {
  await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  let writes = 0;
  const counting = {
    read: (p: Uint8Array) => conn.read(p),
    write: (p: Uint8Array) => {
      writes++;
      return conn.write(p);
    },
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
  };
  await using socket = StreamSocket.fromConnection(counting);
  await using peer = StreamSocket.fromConnection(await listener.accept());
  const message = encoder.encode("Hello, World!");
  const count = 20_000;
  const writer = socket.outputStream.getWriter();
  for (let i = 0; i < count; i++) {
    await writer.ready;
    writer.write(message);
  }
  await writer.close();
  const received = await within(readAll(peer), 10_000, "the batched bytes");
  assert.equal(received.length, count * 13);
  for (let i = 0; i < received.length; i += 13) {
    assert.equal(received[i], 72, `message ${i / 13} starts with "H"`);
  }
  // Each `await writer.ready` lets the sender start a system call, so batches gather
  // while one is in flight: far fewer calls than messages, not the theoretical minimum.
  assert.ok(
    writes <= count / 50,
    `${writes} write calls for ${count} messages`,
  );
});

Deno.test("SocketOutputStream keeps order across small and large writes", async () => {
  await using pair = await connectedPair();
  const out = pair.client.outputStream;
  const large = new Uint8Array(100_000).fill(2);
  out.writeAsync(new Uint8Array([1]));
  out.writeAsync(large);
  out.writeAsync(new Uint8Array([3, 3]));
  await out.closeAsync();
  const received = await within(
    readAll(pair.server),
    10_000,
    "the ordered bytes",
  );
  assert.equal(received.length, 100_003);
  assert.equal(received[0], 1);
  assert.equal(received[1], 2);
  assert.equal(received[100_000], 2);
  assert.deepEqual([...received.subarray(100_001)], [3, 3]);
});

Deno.test("SocketOutputStream copies small writes, so the caller may reuse the buffer at once", async () => {
  await using pair = await connectedPair();
  const buffer = new Uint8Array(1);
  for (let i = 0; i < 10; i++) {
    buffer[0] = i;
    pair.client.outputStream.writeAsync(buffer);
  }
  await pair.client.outputStream.closeAsync();
  const received = await within(readAll(pair.server), 5_000, "ten bytes");
  assert.deepEqual([...received], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("SocketOutputStream writer.ready bounds memory when the peer never reads", async () => {
  await using pair = await connectedPair();
  pair.client.control.outboundBufferSizeInBytes = 64 * 1024;
  const socket = pair.client;
  const writer = socket.outputStream.getWriter();
  const chunk = new Uint8Array(4096);
  let blocked = false;
  // The kernel buffers a few MiB on loopback; 64 MiB is far beyond.
  for (let i = 0; i < 16_384; i++) {
    const ready = writer.ready;
    const state = await Promise.race([
      ready.then(() => "ready"),
      new Promise((r) => setTimeout(r, 50, "waiting")),
    ]);
    if (state === "waiting") {
      blocked = true;
      break;
    }
    writer.write(chunk);
    assert.ok(socket.outputStream.unsentBytes <= 512 * 1024 + chunk.length);
  }
  assert.ok(blocked, "writer.ready never waited for a peer that does not read");
  assert.ok((writer.desiredSize ?? 0) <= 0);
  writer.releaseLock();
  socket.close();
});

Deno.test("SocketOutputStream rejects every pending write and flush when a write fails", async () => {
  let calls = 0;
  const failing = {
    read: () => Promise.resolve(null),
    write: () => {
      calls++;
      return Promise.reject(
        new Deno.errors.ConnectionReset(
          "Connection reset by peer (os error 104)",
        ),
      );
    },
    closeWrite: () => Promise.resolve(),
    close: () => {},
    localAddr: { hostname: "127.0.0.1", port: 1 },
    remoteAddr: { hostname: "127.0.0.1", port: 2 },
  };
  await using socket = StreamSocket.fromConnection(failing);
  const first = socket.outputStream.writeAsync(new Uint8Array(10));
  const second = socket.outputStream.writeAsync(new Uint8Array(20_000));
  const flushed = socket.outputStream.flushAsync();
  for (const pending of [first, second, flushed]) {
    const error = await pending.catch((e) => e);
    assert.equal(
      SocketError.getStatus(error),
      SocketErrorStatus.ConnectionResetByPeer,
    );
  }
  await assert.rejects(
    socket.outputStream.writeAsync(new Uint8Array(1)),
    SocketError,
  );
  assert.equal(socket.outputStream.desiredSize, null);
  assert.equal(calls, 1);
});

Deno.test("SocketOutputStream.abort() drops queued bytes and rejects pending writes", async () => {
  await using pair = await connectedPair();
  const pending = pair.client.outputStream.writeAsync(new Uint8Array(100));
  pair.client.outputStream.abort(new Error("stop"));
  await assert.rejects(
    pending,
    (e) => SocketError.is(e, SocketErrorStatus.OperationAborted),
  );
});

Deno.test("SocketOutputStream.getWriter() locks until releaseLock()", async () => {
  await using pair = await connectedPair();
  const writer = pair.client.outputStream.getWriter();
  assert.throws(() => pair.client.outputStream.getWriter(), TypeError);
  writer.releaseLock();
  await assert.rejects(writer.write(new Uint8Array(1)), TypeError);
  await assert.rejects(writer.closed, TypeError);
  pair.client.outputStream.getWriter().releaseLock();
});

Deno.test("SocketOutputStream.writeAsync() rejects a non-Uint8Array with TypeError", async () => {
  await using pair = await connectedPair();
  await assert.rejects(
    pair.client.outputStream.writeAsync("text" as unknown as Uint8Array),
    TypeError,
  );
});

Deno.test("StreamSocket readable and writable Web Streams pipe bytes", async () => {
  await using pair = await connectedPair();
  const text = "x".repeat(200_000);
  const sent = ReadableStream.from([text.slice(0, 100), text.slice(100)])
    .pipeThrough(new TextEncoderStream())
    .pipeTo(pair.client.outputStream.writable);
  let received = "";
  const reading = (async () => {
    for await (
      const chunk of pair.server.inputStream.readable.pipeThrough(
        new TextDecoderStream(),
      )
    ) {
      received += chunk;
    }
  })();
  await within(Promise.all([sent, reading]), 10_000, "the piped text");
  assert.equal(received, text);
});

Deno.test("StreamSocket.control applies noDelay and keepAlive and validates them", async () => {
  await using pair = await connectedPair();
  pair.client.control.noDelay = false;
  pair.client.control.keepAlive = true;
  assert.equal(pair.client.control.noDelay, false);
  assert.equal(pair.client.control.keepAlive, true);
  assert.throws(() => {
    pair.client.control.noDelay = "yes" as unknown as boolean;
  }, TypeError);
  assert.throws(() => {
    pair.client.control.outboundBufferSizeInBytes = 0;
  }, RangeError);
});

Deno.test("StreamSocket.connectAsync() without --allow-net names the flag to add", async () => {
  const script = `import { StreamSocket } from "${ROOT}mod.ts";
try { await StreamSocket.connectAsync("127.0.0.1", 9); } catch (e) { console.log(e.message); }`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, script);
    const output = await runDeno([
      "run",
      "--no-prompt",
      `--allow-read=${ROOT}`,
      file,
    ]);
    assert.match(output.stdout + output.stderr, /--allow-net/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("StreamSocketControl.idleTimeout closes a silent socket; its pending read rejects with ConnectionTimedOut", async () => {
  await using pair = await connectedPair();
  pair.client.control.idleTimeout = 50;
  const error = await within(
    pair.client.inputStream.readAsync(new Uint8Array(4), 4).then(
      () => undefined,
      (e) => e,
    ),
    5_000,
    "the idle time-out",
  );
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.ConnectionTimedOut);
  assert.match(error.message, /closed after 50 ms without traffic/);
  await pair.client.closed;
  await assert.rejects(
    pair.client.outputStream.writeAsync(new Uint8Array(1)),
    (e) =>
      e instanceof SocketError &&
      e.status === SocketErrorStatus.ConnectionTimedOut,
  );
  // The peer sees the end of the stream.
  assert.equal(await pair.server.inputStream.readAsync(new Uint8Array(1)), 0);
});

Deno.test("StreamSocketControl.idleTimeout keeps a socket that keeps talking", async () => {
  await using pair = await connectedPair();
  pair.client.control.idleTimeout = 500;
  const buffer = new Uint8Array(1);
  // Eight exchanges 100 ms apart: 800 ms in all, never 500 ms of silence
  // (a margin of five periods for timers late under load).
  for (let i = 0; i < 8; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await pair.server.outputStream.writeAsync(new Uint8Array([i]));
    assert.equal(
      await within(
        pair.client.inputStream.readAsync(buffer, 1),
        5_000,
        "a byte",
      ),
      1,
    );
  }
  pair.client.control.idleTimeout = 0;
  assert.equal(pair.client.control.idleTimeout, 0);
});

Deno.test("StreamSocketControl.idleTimeout keeps a socket whose large write goes out to a slow reader", async () => {
  await using pair = await connectedPair();
  pair.server.control.idleTimeout = 500;
  // 16 MiB read 64 KiB at a time, 5 ms apart: bytes flow all along (the
  // kernel takes a part every 200 ms or so), but the one write takes
  // several time-outs to go out.
  const total = 16 * 1024 * 1024;
  const written = pair.server.outputStream.writeAsync(new Uint8Array(total));
  const buffer = new Uint8Array(64 * 1024);
  let got = 0;
  for (let i = 0; got < total && i < 10_000; i++) {
    const n = await within(
      pair.client.inputStream.readAsync(
        buffer,
        buffer.length,
        InputStreamOptions.Partial,
      ),
      5_000,
      "a chunk",
    );
    assert.ok(n > 0, `the stream ended after ${got} bytes`);
    got += n;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await written;
  assert.equal(got, total);
});

Deno.test("StreamSocketListener.control.idleTimeout applies to every accepted socket", async () => {
  await using listener = new StreamSocketListener();
  listener.control.idleTimeout = 40;
  const closed = Promise.withResolvers<StreamSocket>();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    socket.closed.then(() => closed.resolve(socket));
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const accepted = await within(closed.promise, 5_000, "the idle close");
  assert.equal(accepted.control.idleTimeout, 40);
  assert.equal(await client.inputStream.readAsync(new Uint8Array(1)), 0);
});

Deno.test("StreamSocketControl.idleTimeout rejects what is not a non-negative integer", () => {
  const socket = new StreamSocket();
  for (const bad of [-1, 1.5, NaN, "10"]) {
    assert.throws(
      () => (socket.control.idleTimeout = bad as number),
      (e) => e instanceof RangeError && /"idleTimeout"/.test(e.message),
    );
  }
  socket.close();
});
