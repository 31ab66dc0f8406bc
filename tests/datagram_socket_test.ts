import assert from "node:assert/strict";
import {
  DatagramSocket,
  DatagramSocketMessageReceivedEvent,
  DataWriter,
  HostName,
  SocketError,
  SocketErrorStatus,
} from "../mod.ts";
import {
  captureConsoleError,
  ROOT,
  run,
  runDeno,
  spawnFirstLine,
  within,
} from "./_helpers.ts";
import { runBoth } from "../examples/udp_echo.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const WAIT = 5_000;

/** A socket bound to 127.0.0.1 (or `host`), port 0. */
async function bound(host = "127.0.0.1"): Promise<DatagramSocket> {
  const socket = new DatagramSocket();
  await socket.bindEndpointAsync(host, 0);
  return socket;
}

/** The next `count` datagrams `socket` raises as events. */
function collect(
  socket: DatagramSocket,
  count: number,
): Promise<DatagramSocketMessageReceivedEvent[]> {
  const { promise, resolve } = Promise.withResolvers<
    DatagramSocketMessageReceivedEvent[]
  >();
  const events: DatagramSocketMessageReceivedEvent[] = [];
  socket.addEventListener("messagereceived", (event) => {
    events.push(event);
    if (events.length === count) resolve(events);
  });
  return promise;
}

Deno.test("DatagramSocket.bindEndpointAsync() binds port 0 and fills information", async () => {
  await using socket = await bound();
  assert.equal(socket.information.localAddress?.canonicalName, "127.0.0.1");
  assert.ok(socket.information.localPort > 0);
  assert.equal(socket.information.remoteAddress, undefined);
  assert.equal(socket.information.remotePort, 0);
});

Deno.test("DatagramSocket.bindServiceNameAsync() binds every IPv4 address", async () => {
  await using socket = new DatagramSocket();
  await socket.bindServiceNameAsync("0");
  assert.equal(socket.information.localAddress?.canonicalName, "0.0.0.0");
  assert.ok(socket.information.localPort > 0);
});

Deno.test("DatagramSocket binding twice, bad services and bad hosts are TypeError/RangeError", async () => {
  await using socket = await bound();
  await assert.rejects(socket.bindEndpointAsync("127.0.0.1", 0), TypeError);
  await using other = new DatagramSocket();
  await assert.rejects(other.bindEndpointAsync("127.0.0.1", 70000), RangeError);
  await assert.rejects(other.bindEndpointAsync("not a host", 0), TypeError);
  await assert.rejects(other.connectAsync("127.0.0.1", 0), RangeError);
  assert.throws(() => other.outputStream, /no default peer/);
});

Deno.test("DatagramSocket echoes through getOutputStreamAsync and DataWriter, with non-ASCII text", async () => {
  await using server = await bound();
  server.addEventListener("messagereceived", async (event) => {
    const out = await server.getOutputStreamAsync(
      event.remoteAddress,
      event.remotePort,
    );
    const writer = new DataWriter(out);
    const reader = event.getDataReader();
    writer.writeString(reader.readString(reader.unconsumedBufferLength));
    await writer.storeAsync();
  });
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  const reply = await client.requestAsync(encoder.encode("Grüße, 世界 ✓"));
  assert.equal(decoder.decode(reply.data), "Grüße, 世界 ✓");
  assert.equal(reply.remotePort, server.information.localPort);
  assert.ok(reply.remoteAddress.isEqual(new HostName("127.0.0.1")));
  assert.equal(reply.localAddress.canonicalName, "127.0.0.1");
});

Deno.test("DatagramSocket.connectAsync() binds loopback of the peer's family and drops other senders", async () => {
  await using peer = await bound("::1");
  await using stranger = await bound("::1");
  await using socket = new DatagramSocket();
  await socket.connectAsync("::1", peer.information.localPort);
  assert.equal(socket.information.localAddress?.canonicalName, "::1");
  assert.equal(socket.information.remotePort, peer.information.localPort);
  const target = socket.information.localPort;
  const events = collect(socket, 1);
  await (await stranger.getOutputStreamAsync("::1", target)).writeAsync(
    encoder.encode("stranger"),
  );
  await (await peer.getOutputStreamAsync("::1", target)).writeAsync(
    encoder.encode("peer"),
  );
  const [event] = await within(events, WAIT, "the peer's datagram");
  assert.equal(decoder.decode(event!.data), "peer");
});

Deno.test("DatagramSocket.connectAsync() resolves localhost and rejects a second call", async () => {
  await using peer = await bound();
  await using socket = new DatagramSocket();
  await socket.connectAsync("localhost", peer.information.localPort);
  assert.equal(socket.information.remoteAddress?.canonicalName, "127.0.0.1");
  await assert.rejects(
    socket.connectAsync("127.0.0.1", peer.information.localPort),
    /already has a default peer/,
  );
});

Deno.test("DatagramSocket.getOutputStreamAsync() rejects a peer of another family with AddressFamilyNotSupported", async () => {
  await using socket = await bound();
  await assert.rejects(socket.getOutputStreamAsync("::1", 9), {
    status: SocketErrorStatus.AddressFamilyNotSupported,
  });
});

Deno.test("DatagramSocket output stream sends concurrent writes as separate datagrams in order; flushAsync waits", async () => {
  await using server = await bound();
  const count = 50;
  const events = collect(server, count);
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  const writes = [];
  const bytes = new Uint8Array(1);
  for (let i = 0; i < count; i++) {
    bytes[0] = i; // Reused on purpose: each write must have copied it.
    writes.push(client.outputStream.writeAsync(bytes));
  }
  await client.outputStream.flushAsync();
  await Promise.all(writes);
  const received = await within(events, WAIT, `${count} datagrams`);
  assert.deepEqual(
    received.map((event) => event.data[0]),
    Array.from({ length: count }, (_, i) => i),
  );
});

Deno.test("DatagramSocket output stream keeps order across sizes, and fails writes queued at close with OperationAborted", async () => {
  await using server = await bound();
  const sizes = [1, 20_000, 2, 5_000, 3, 16_384, 4];
  const events = collect(server, sizes.length);
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  const out = client.outputStream;
  await Promise.all(
    sizes.map((size, i) => out.writeAsync(new Uint8Array(size).fill(i))),
  );
  const received = await within(events, WAIT, `${sizes.length} datagrams`);
  assert.deepEqual(received.map((event) => event.data.length), sizes);
  received.forEach((event, i) => assert.ok(event.data.every((b) => b === i)));

  const queued = Array.from(
    { length: 5 },
    () => out.writeAsync(new Uint8Array(8)),
  );
  client.close();
  const results = await Promise.allSettled(queued);
  for (const result of results.slice(1)) {
    assert.equal(result.status, "rejected");
    assert.equal(
      SocketError.getStatus((result as PromiseRejectedResult).reason),
      SocketErrorStatus.OperationAborted,
    );
  }
  await assert.rejects(out.flushAsync(), SocketError);
});

Deno.test("DatagramSocket DataWriter.storeAsync() sends one datagram per store", async () => {
  await using server = await bound();
  const events = collect(server, 2);
  await using client = new DatagramSocket();
  const writer = new DataWriter(
    await client.getOutputStreamAsync(
      "127.0.0.1",
      server.information.localPort,
    ),
  );
  writer.writeUInt32(1);
  writer.writeUInt32(2);
  const first = writer.storeAsync();
  writer.writeString("three");
  const second = writer.storeAsync();
  assert.deepEqual(await Promise.all([first, second]), [8, 5]);
  const [a, b] = await within(events, WAIT, "two datagrams");
  assert.equal(a!.data.length, 8);
  assert.equal(a!.getDataReader().readUInt32(), 1);
  assert.equal(decoder.decode(b!.data), "three");
});

Deno.test("DatagramSocket oversized send rejects with MessageTooLong and flushAsync reports it", async () => {
  await using socket = new DatagramSocket();
  const out = await socket.getOutputStreamAsync("127.0.0.1", 9);
  const write = out.writeAsync(new Uint8Array(65_508));
  await assert.rejects(write, { status: SocketErrorStatus.MessageTooLong });
  await assert.rejects(out.flushAsync(), {
    status: SocketErrorStatus.MessageTooLong,
  });
  await out.flushAsync(); // The failure was reported once.
  await out.writeAsync(new Uint8Array(65_507)); // The largest IPv4 payload goes.
});

Deno.test("DatagramSocket fire-and-forget writes that fail cause no unhandled rejection", async () => {
  await using socket = new DatagramSocket();
  const out = await socket.getOutputStreamAsync("127.0.0.1", 9);
  out.writeAsync(new Uint8Array(70_000));
  socket.close();
  out.writeAsync(new Uint8Array(1));
  await assert.rejects(out.flushAsync(), SocketError);
});

Deno.test("DatagramSocket async iteration yields datagrams, getDataStream reads them, empty datagrams arrive", async () => {
  await using server = await bound();
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  await client.outputStream.writeAsync(encoder.encode("abc"));
  await client.outputStream.writeAsync(new Uint8Array(0));
  const got: DatagramSocketMessageReceivedEvent[] = [];
  const iterate = (async () => {
    for await (const message of server) {
      got.push(message);
      if (got.length === 2) break;
    }
  })();
  await within(iterate, WAIT, "two datagrams");
  const buffer = new Uint8Array(8);
  const stream = got[0]!.getDataStream();
  assert.equal(await stream.readAsync(buffer, 2), 2);
  assert.equal(await stream.readAsync(buffer), 1);
  assert.equal(buffer[0], 0x63);
  assert.equal(await stream.readAsync(buffer), 0);
  assert.equal(got[1]!.data.length, 0);
  assert.equal(got[1]!.getDataReader().unconsumedBufferLength, 0);
  assert.equal(got[1]!.truncated, false);
});

Deno.test("DatagramSocket delivers a datagram larger than inboundBufferSizeInBytes truncated, flagged", async () => {
  await using server = await bound();
  server.control.inboundBufferSizeInBytes = 4;
  const events = collect(server, 2);
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  await client.outputStream.writeAsync(new Uint8Array([1, 2, 3, 4, 5, 6]));
  await client.outputStream.writeAsync(new Uint8Array([9, 9, 9, 9]));
  const [big, exact] = await within(events, WAIT, "two datagrams");
  assert.deepEqual(big!.data, new Uint8Array([1, 2, 3, 4]));
  assert.equal(big!.truncated, true);
  assert.equal(exact!.data.length, 4);
  assert.equal(exact!.truncated, false);
  assert.throws(() => {
    server.control.inboundBufferSizeInBytes = 0;
  }, RangeError);
});

Deno.test("DatagramSocket reports a throwing handler through an error event and keeps receiving", async () => {
  await using server = await bound();
  const errors: unknown[] = [];
  const errorSeen = Promise.withResolvers<void>();
  server.addEventListener("error", ({ error }) => {
    errors.push(error);
    errorSeen.resolve();
  });
  server.addEventListener("messagereceived", (event) => {
    if (event.data[0] === 1) throw new Error("handler failed");
  });
  server.addEventListener("messagereceived", async (event) => {
    await Promise.resolve();
    if (event.data[0] === 2) throw new Error("async handler failed");
  });
  const events = collect(server, 3);
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  for (const value of [1, 2, 3]) {
    await client.outputStream.writeAsync(new Uint8Array([value]));
  }
  const received = await within(events, WAIT, "three datagrams");
  await within(errorSeen.promise, WAIT, "the error event");
  assert.deepEqual(received.map((event) => event.data[0]), [1, 2, 3]);
  assert.deepEqual(
    errors.map((error) => (error as Error).message),
    ["handler failed", "async handler failed"],
  );
});

Deno.test("DatagramSocket without an error listener writes a handler failure to stderr and keeps receiving", async () => {
  using capture = captureConsoleError();
  const logged = capture.logged;
  await using server = await bound();
  server.addEventListener("messagereceived", (event) => {
    if (event.data[0] === 1) throw new Error("handler failed");
  });
  const events = collect(server, 2);
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  for (const value of [1, 2]) {
    await client.outputStream.writeAsync(new Uint8Array([value]));
  }
  const received = await within(events, WAIT, "two datagrams");
  assert.deepEqual(received.map((event) => event.data[0]), [1, 2]);
  assert.equal(logged.length, 1);
  assert.match(String(logged[0]![0]), /DatagramSocket: unhandled error/);
  assert.equal((logged[0]![1] as Error).message, "handler failed");
});

Deno.test("DatagramSocket limits pending async handlers under a flood (maxPendingHandlers)", async () => {
  await using server = new DatagramSocket({ maxPendingHandlers: 4 });
  await server.bindEndpointAsync("127.0.0.1", 0);
  const release = Promise.withResolvers<void>();
  const fourStarted = Promise.withResolvers<void>();
  const allSeen = Promise.withResolvers<void>();
  let started = 0;
  const total = 20;
  server.addEventListener("messagereceived", async () => {
    started++;
    if (started === 4) fourStarted.resolve();
    if (started === total) allSeen.resolve();
    await release.promise;
  });
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  for (let i = 0; i < total; i++) {
    client.outputStream.writeAsync(new Uint8Array([i]));
  }
  await client.outputStream.flushAsync();
  await within(fourStarted.promise, WAIT, "four handlers");
  // Give the receive loop the chance to read more: it must not.
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
  assert.equal(started, 4);
  release.resolve();
  await within(allSeen.promise, WAIT, "the remaining datagrams");
  assert.equal(started, total);
  assert.throws(
    () => new DatagramSocket({ maxPendingHandlers: 0 }),
    RangeError,
  );
});

Deno.test("DatagramSocket sending to a port nobody listens on succeeds; requestAsync rejects with ConnectionTimedOut", async () => {
  const closed = await bound();
  const port = closed.information.localPort;
  closed.close();
  await using socket = new DatagramSocket();
  await socket.connectAsync("127.0.0.1", port);
  await socket.outputStream.writeAsync(new Uint8Array([1]));
  await socket.outputStream.writeAsync(new Uint8Array([2]));
  const error = await socket.requestAsync(new Uint8Array([3]), {
    timeout: 30,
    retries: 2,
  }).catch((e) => e);
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.ConnectionTimedOut);
  assert.match(
    error.message,
    /No response from 127\.0\.0\.1:\d+: 3 attempts of 30 ms each timed out/,
  );
});

Deno.test("DatagramSocket keeps each received datagram's bytes apart, in shared 32 KiB chunks, not 64 KiB per datagram", async () => {
  await using server = await bound();
  const count = 40;
  const events = collect(server, count + 1);
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  for (let i = 0; i < count; i++) {
    await client.outputStream.writeAsync(new Uint8Array(100).fill(i));
  }
  await client.outputStream.writeAsync(new Uint8Array(3_000).fill(99));
  const received = await within(events, WAIT, `${count + 1} datagrams`);
  const big = received.pop()!;
  received[0]!.data.fill(255); // Owned: changing one copy changes no other.
  for (const [i, event] of received.entries()) {
    if (i > 0) assert.deepEqual(event.data, new Uint8Array(100).fill(i));
    assert.equal(event.data.buffer.byteLength, 32_768);
  }
  assert.equal(received[1]!.data.buffer, received[2]!.data.buffer);
  assert.equal(
    received[2]!.data.byteOffset,
    received[1]!.data.byteOffset + 100,
  );
  // Larger datagrams get a buffer of their own size.
  assert.deepEqual(big.data, new Uint8Array(3_000).fill(99));
  assert.equal(big.data.buffer.byteLength, 3_000);
});

Deno.test("DatagramSocket delivers to messagereceived listeners as dispatchEvent does", async () => {
  await using server = await bound();
  const calls: string[] = [];
  let seen: Record<string, unknown> = {};
  server.addEventListener("messagereceived", function (event) {
    calls.push(`first ${event.data[0]}`);
    seen = {
      self: this,
      target: event.target,
      currentTarget: event.currentTarget,
      phase: event.eventPhase,
      path: event.composedPath(),
    };
    if (event.data[0] === 1) {
      // Added during delivery: runs from the next datagram on.
      server.addEventListener("messagereceived", (e) => {
        calls.push(`late ${e.data[0]}`);
      });
    }
  });
  server.addEventListener("messagereceived", (event) => {
    calls.push(`once ${event.data[0]}`);
  }, { once: true });
  const stopper = {
    handleEvent(event: DatagramSocketMessageReceivedEvent): void {
      calls.push(`stopper ${event.data[0]}`);
      if (event.data[0] === 2) event.stopImmediatePropagation();
    },
  };
  server.addEventListener("messagereceived", stopper);
  server.addEventListener("messagereceived", stopper); // A duplicate: ignored.
  const aborter = new AbortController();
  server.addEventListener("messagereceived", (event) => {
    calls.push(`signal ${event.data[0]}`);
    aborter.abort();
  }, { signal: aborter.signal });
  const last = Promise.withResolvers<DatagramSocketMessageReceivedEvent>();
  const removed = (): void => {
    calls.push("removed");
  };
  server.addEventListener("messagereceived", (event) => {
    calls.push(`end ${event.data[0]}`);
    server.removeEventListener("messagereceived", removed);
    if (event.data[0] === 3) last.resolve(event);
  });
  server.addEventListener("messagereceived", removed);
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  for (const value of [1, 2, 3]) {
    await client.outputStream.writeAsync(new Uint8Array([value]));
  }
  const event = await within(last.promise, WAIT, "three datagrams");
  assert.deepEqual(calls, [
    "first 1",
    "once 1",
    "stopper 1",
    "signal 1",
    "end 1",
    "first 2",
    "stopper 2",
    "first 3",
    "stopper 3",
    "end 3",
    "late 3",
  ]);
  assert.deepEqual(seen, {
    self: server,
    target: server,
    currentTarget: server,
    phase: Event.AT_TARGET,
    path: [server],
  });
  assert.equal(event.target, server);
  assert.equal(event.currentTarget, null);
  assert.equal(event.eventPhase, Event.NONE);
  assert.deepEqual(event.composedPath(), []);
  assert.equal(event.cancelBubble, false);
  // Events dispatched by others reach the same listeners, once included.
  calls.length = 0;
  const mine = new DatagramSocketMessageReceivedEvent({
    data: new Uint8Array([4]),
    remoteAddress: event.remoteAddress,
    remotePort: 1,
    localAddress: event.localAddress,
  });
  assert.equal(server.dispatchEvent(mine), true);
  assert.deepEqual(calls, ["first 4", "stopper 4", "end 4", "late 4"]);
  assert.equal(mine.target, server);
});

Deno.test("DatagramSocket.requestAsync() retries after a lost datagram", async () => {
  await using server = await bound();
  let seen = 0;
  server.addEventListener("messagereceived", async (event) => {
    seen++;
    if (seen === 1) return; // Lose the first request.
    const out = await server.getOutputStreamAsync(
      event.remoteAddress,
      event.remotePort,
    );
    await out.writeAsync(event.data);
  });
  await using client = new DatagramSocket();
  await client.connectAsync("127.0.0.1", server.information.localPort);
  const reply = await client.requestAsync(encoder.encode("again"), {
    timeout: 100,
    retries: 3,
  });
  assert.equal(decoder.decode(reply.data), "again");
  assert.equal(seen, 2);
});

Deno.test("DatagramSocket.requestAsync() honours an aborted signal and needs a default peer", async () => {
  await using peer = await bound();
  await using socket = new DatagramSocket();
  await assert.rejects(socket.requestAsync(new Uint8Array(1)), TypeError);
  await socket.connectAsync("127.0.0.1", peer.information.localPort);
  const controller = new AbortController();
  const request = socket.requestAsync(new Uint8Array(1), {
    timeout: 60_000,
    signal: controller.signal,
  });
  controller.abort();
  await assert.rejects(request, { status: SocketErrorStatus.OperationAborted });
});

Deno.test("DatagramSocket.close() while a receive is pending ends iteration and rejects requests", async () => {
  await using peer = await bound();
  const socket = await bound();
  const iteration = (async () => {
    for await (const _ of socket) return "message";
    return "ended";
  })();
  await using requester = new DatagramSocket();
  await requester.connectAsync("127.0.0.1", peer.information.localPort);
  const request = requester.requestAsync(new Uint8Array(1), {
    timeout: 60_000,
  });
  await new Promise((r) => setTimeout(r, 0));
  const rejected = assert.rejects(request, {
    status: SocketErrorStatus.OperationAborted,
  });
  socket.close();
  requester.close();
  assert.equal(await within(iteration, WAIT, "the iteration to end"), "ended");
  await within(rejected, WAIT, "the request to reject");
  await socket[Symbol.asyncDispose]();
});

Deno.test("DatagramSocket.close() is idempotent and later writes reject with OperationAborted", async () => {
  const socket = new DatagramSocket();
  const out = await socket.getOutputStreamAsync("127.0.0.1", 9);
  socket.close();
  socket.close();
  await socket[Symbol.asyncDispose]();
  await assert.rejects(out.writeAsync(new Uint8Array(1)), {
    status: SocketErrorStatus.OperationAborted,
  });
  await assert.rejects(socket.bindEndpointAsync("127.0.0.1", 0), TypeError);
});

Deno.test("DatagramSocket handlers and iteration exclude each other", async () => {
  await using socket = await bound();
  socket.addEventListener("messagereceived", () => {});
  await assert.rejects(
    (async () => {
      for await (const _ of socket) break;
    })(),
    /use one or the other/,
  );
});

Deno.test("DatagramSocketControl.multicastOnly shares a port; a socket without it gets AddressAlreadyInUse", async () => {
  await using first = new DatagramSocket();
  first.control.multicastOnly = true;
  await first.bindEndpointAsync("127.0.0.1", 0);
  const port = first.information.localPort;
  await using second = new DatagramSocket();
  second.control.multicastOnly = true;
  await second.bindEndpointAsync("127.0.0.1", port);
  assert.equal(second.information.localPort, port);
  await using third = new DatagramSocket();
  await assert.rejects(third.bindEndpointAsync("127.0.0.1", port), {
    status: SocketErrorStatus.AddressAlreadyInUse,
  });
  assert.throws(() => {
    first.control.multicastOnly = false;
  }, /already bound; set it before binding/);
  assert.throws(() => {
    // @ts-expect-error: checking the run-time guard
    third.control.multicastOnly = "yes";
  }, TypeError);
});

Deno.test("DatagramSocketControl members without a Deno equivalent throw NotSupportedError when changed", async () => {
  await using socket = new DatagramSocket();
  const control = socket.control;
  control.outboundUnicastHopLimit = undefined;
  control.dontFragment = false;
  control.qualityOfService = "normal";
  for (
    const change of [
      () => (control.outboundUnicastHopLimit = 4),
      () => (control.dontFragment = true),
      () => (control.qualityOfService = "lowLatency"),
    ]
  ) {
    assert.throws(change, { name: "NotSupportedError" });
  }
});

Deno.test("DatagramSocket.joinMulticastGroup() checks its arguments and needs a bound socket", async () => {
  await using socket = new DatagramSocket();
  await assert.rejects(socket.joinMulticastGroup("239.255.0.1"), /not bound/);
  await socket.bindEndpointAsync("127.0.0.1", 0);
  await assert.rejects(socket.joinMulticastGroup("example.com"), TypeError);
  await assert.rejects(
    socket.joinMulticastGroup("239.255.0.1", { networkInterface: 1 }),
    TypeError,
  );
  await assert.rejects(
    socket.joinMulticastGroup("127.0.0.1", { networkInterface: "127.0.0.1" }),
    SocketError,
  );
});

Deno.test("DatagramSocket without --unstable-net rejects every entry point naming the flag", async () => {
  const script = `
    import { DatagramSocket } from ${
    JSON.stringify(new URL("../mod.ts", import.meta.url).href)
  };
    const s = new DatagramSocket();
    const calls = [
      () => s.bindServiceNameAsync(0),
      () => s.bindEndpointAsync("127.0.0.1", 0),
      () => s.connectAsync("127.0.0.1", 9),
      () => s.getOutputStreamAsync("127.0.0.1", 9),
      () => s.joinMulticastGroup("239.255.0.1"),
      () => s.requestAsync(new Uint8Array(1)),
      () => s[Symbol.asyncIterator]().next(),
    ];
    for (const call of calls) {
      try { await call(); console.log("resolved"); } catch (e) { console.log(e.message); }
    }
    await s[Symbol.asyncDispose]();
  `;
  const output = await runDeno([
    "eval",
    "--no-config",
    "--ext=ts",
    script,
  ]);
  assert.equal(output.code, 0, output.stderr);
  const lines = output.stdout.trim().split("\n");
  assert.equal(lines.length, 7);
  for (const line of lines) {
    assert.match(
      line,
      /--unstable-net \(or add "unstable": \["net"\] to deno\.json\)/,
    );
  }
});

Deno.test("examples/udp_echo.ts runBoth() prints the guide's steps", async () => {
  const lines: string[] = [];
  const response = await runBoth("Hello, World!", (line) => lines.push(line));
  assert.equal(response, "Hello, World!");
  assert.match(lines[0]!, /^\[server\] server is bound to port number \d+$/);
  assert.deepEqual(lines.slice(1), [
    '[client] client sent the request: "Hello, World!"',
    '[server] server received the request: "Hello, World!"',
    '[server] server sent back the response: "Hello, World!"',
    '[client] client received the response: "Hello, World!"',
    "[client] client closed its socket",
  ]);
});

Deno.test("examples/udp_echo.ts runs in one process and as two processes", async () => {
  const one = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    `${ROOT}examples/udp_echo.ts`,
    "--message",
    "ünïcødé",
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(
    one.stdout,
    /\[client\] client received the response: "ünïcødé"/,
  );

  await using server = await spawnFirstLine(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    `${ROOT}examples/udp_echo.ts`,
    "--role",
    "server",
    "--port",
    "0",
  ]);
  const port = /^bound to 127\.0\.0\.1:(\d+)$/.exec(server.firstLine)?.[1];
  assert.ok(port, server.firstLine);
  const client = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    `${ROOT}examples/udp_echo.ts`,
    "--role",
    "client",
    "--port",
    port,
    "--message",
    "two processes",
  ]);
  assert.equal(client.code, 0, client.stderr);
  assert.match(client.stdout, /client received the response: "two processes"/);
});

Deno.test("examples/port_sharing.ts shares a port and receives a multicast datagram twice in a private network namespace", async (t) => {
  const probe = await run("sh", [
    "-c",
    "unshare -n sh -c 'ip link set lo up' 2>&1",
  ]).catch((error) => ({ code: 1, stdout: String(error), stderr: "" }));
  if (probe.code !== 0) {
    await t.step({
      name: `skipped: no private network namespace (${probe.stdout.trim()})`,
      ignore: true,
      fn: () => {},
    });
    return;
  }
  const output = await run("unshare", [
    "-n",
    "sh",
    "-c",
    `ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec '${Deno.execPath()}' run --no-config --unstable-net --allow-net --allow-sys=networkInterfaces '${ROOT}examples/port_sharing.ts'`,
  ], 60_000);
  assert.equal(output.code, 0, output.stdout + output.stderr);
  assert.match(
    output.stdout,
    /socket C \(no multicastOnly\) cannot bind port \d+: AddressAlreadyInUse/,
  );
  assert.match(output.stdout, /socket A received "Hello, group!"/);
  assert.match(output.stdout, /socket B received "Hello, group!"/);
});

Deno.test("DatagramSocket.requestAsync() maps an AbortSignal.timeout() deadline to ConnectionTimedOut", async () => {
  await using silent = new DatagramSocket();
  await silent.bindEndpointAsync("127.0.0.1", 0);
  await using socket = new DatagramSocket();
  await socket.connectAsync("127.0.0.1", silent.information.localPort);
  await assert.rejects(
    socket.requestAsync(new Uint8Array([1]), {
      timeout: 10_000,
      signal: AbortSignal.timeout(20),
    }),
    (e: unknown) =>
      e instanceof SocketError &&
      e.status === SocketErrorStatus.ConnectionTimedOut &&
      /deadline passed/.test(e.message),
  );
});

Deno.test("DatagramSocket.getOutputStreamAsync() and its flushAsync() take a signal", async () => {
  await using socket = new DatagramSocket();
  await assert.rejects(
    socket.getOutputStreamAsync("127.0.0.1", 9, {
      signal: AbortSignal.abort(),
    }),
    (e: unknown) =>
      e instanceof SocketError &&
      e.status === SocketErrorStatus.OperationAborted,
  );
  const output = await socket.getOutputStreamAsync("127.0.0.1", 9);
  await output.writeAsync(new Uint8Array([1]));
  await output.flushAsync({ signal: AbortSignal.timeout(5_000) });
  await assert.rejects(
    output.writeAsync(new Uint8Array([1]), { signal: AbortSignal.abort() }),
    (e: unknown) =>
      e instanceof SocketError &&
      e.status === SocketErrorStatus.OperationAborted,
  );
});
