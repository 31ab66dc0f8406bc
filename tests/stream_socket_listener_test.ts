import assert from "node:assert/strict";
import {
  Certificate,
  ConnectionReceivedEvent,
  LineReader,
  SocketError,
  type SocketErrorEvent,
  SocketErrorStatus,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import * as listenerModule from "../lib/stream_socket_listener.ts";
import {
  assertReadsEnd,
  captureConsoleError,
  hasCommand,
  readLineWithin,
  run,
  within,
} from "./_helpers.ts";

const encoder = new TextEncoder();
const hasPython = await hasCommand("python3");
const canUnshare = await probeUnshare();

/** Whether this process may create a network namespace (`unshare -n`, as root) with `ip` to bring up its loopback. */
async function probeUnshare(): Promise<boolean> {
  if (!(await hasCommand("unshare")) || !(await hasCommand("ip"))) {
    return false;
  }
  try {
    const { code } = await run("unshare", [
      "-n",
      "sh",
      "-c",
      "ip link set lo up",
    ], 10_000);
    return code === 0;
  } catch {
    return false;
  }
}

/** Lets queued promise reactions (such as a listener's `error` dispatch) run: one macrotask, not a wait for an event. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Runs `fn`, which must reject, and returns what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({ message: "Expected a rejection" });
}

/** A listener on 127.0.0.1 port 0 echoing lines, as examples/tcp_echo.ts does, and recording `error` events. */
interface LineEchoServer extends AsyncDisposable {
  listener: StreamSocketListener;
  port: number;
  errors: unknown[];
  /** Resolves with the error of the first `error` event. */
  firstError: Promise<unknown>;
}

async function startLineEcho(): Promise<LineEchoServer> {
  const listener = new StreamSocketListener();
  const errors: unknown[] = [];
  const first = Promise.withResolvers<unknown>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    for await (const line of new LineReader(s.inputStream)) {
      await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
    }
  });
  listener.addEventListener("error", (event: SocketErrorEvent) => {
    errors.push(event.error);
    first.resolve(event.error);
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return {
    listener,
    port: listener.information.localPort,
    errors,
    firstError: first.promise,
    [Symbol.asyncDispose]: () => listener.closeAsync(),
  };
}

/** A client with one LineReader for its whole life, so no received byte is lost between lines. */
interface LineClient extends AsyncDisposable {
  socket: StreamSocket;
  echo(line: string): Promise<string | null>;
}

async function lineClient(port: number): Promise<LineClient> {
  const socket = await StreamSocket.connectAsync("127.0.0.1", port);
  const reader = new LineReader(socket.inputStream);
  return {
    socket,
    async echo(line: string): Promise<string | null> {
      await socket.outputStream.writeAsync(encoder.encode(`${line}\n`));
      return await within(reader.readLine(), 5_000, `the echo of "${line}"`);
    },
    [Symbol.asyncDispose]: () => socket[Symbol.asyncDispose](),
  };
}

/** Checks that `error` is a SocketError with `status` and a message matching `message`. */
function assertSocketError(
  error: unknown,
  status: SocketErrorStatus,
  message: RegExp,
): asserts error is SocketError {
  assert.ok(error instanceof SocketError, `not a SocketError: ${error}`);
  assert.equal(
    error.status,
    status,
    `status ${error.status} instead of ${status}: ${error.message}`,
  );
  assert.match(error.message, message);
  assert.doesNotMatch(error.message, /\.$/);
}

Deno.test("StreamSocketListener dispatches connectionreceived with a connected socket", async () => {
  await using listener = new StreamSocketListener();
  const accepted = Promise.withResolvers<StreamSocket>();
  listener.addEventListener("connectionreceived", (event) => {
    assert.equal(event.type, "connectionreceived");
    accepted.resolve(event.socket);
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  assert.ok(port > 0);
  assert.equal(listener.information.localAddress?.canonicalName, "127.0.0.1");

  await using client = await StreamSocket.connectAsync("127.0.0.1", port);
  await using server = await within(accepted.promise, 5_000, "the socket");
  assert.ok(server instanceof StreamSocket);
  assert.equal(server.information.localPort, port);
  assert.equal(server.information.remotePort, client.information.localPort);
  assert.equal(server.information.remoteAddress?.canonicalName, "127.0.0.1");

  await client.outputStream.writeAsync(encoder.encode("ping\n"));
  const line = await readLineWithin(server, "the line");
  assert.equal(line, "ping");
});

Deno.test("StreamSocketListener serves with for await as an alternative to events", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  const serving = (async (): Promise<number> => {
    let served = 0;
    for await (const socket of listener) {
      await using s = socket;
      const line = await new LineReader(s.inputStream).readLine();
      await s.outputStream.writeAsync(encoder.encode(`${line}!\n`));
      served++;
    }
    return served;
  })();

  for (const word of ["one", "two"]) {
    await using client = await lineClient(port);
    assert.equal(await client.echo(word), `${word}!`);
  }
  await listener.closeAsync();
  assert.equal(await within(serving, 5_000, "the end of the loop"), 2);
});

Deno.test("StreamSocketListener ends for await when broken out of, and can be iterated again", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  await using first = await StreamSocket.connectAsync("127.0.0.1", port);
  for await (const socket of listener) {
    await using _ = socket;
    break;
  }
  await using second = await StreamSocket.connectAsync("127.0.0.1", port);
  for await (const socket of listener) {
    await using _ = socket;
    assert.equal(socket.information.remotePort, second.information.localPort);
    break;
  }
  assert.equal(listener.sockets.size, 0);
  assert.ok(first.information.localPort > 0);
});

Deno.test("StreamSocketListener iterator takes next() calls made before the last settled one in turn, as a generator would", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  const iterator = listener[Symbol.asyncIterator]();
  const nexts = [iterator.next(), iterator.next(), iterator.next()];
  await using first = await StreamSocket.connectAsync("127.0.0.1", port);
  await using second = await StreamSocket.connectAsync("127.0.0.1", port);
  const results = await within(
    Promise.all(nexts.slice(0, 2)),
    5_000,
    "two accepts",
  );
  const ports = results.map((result) => {
    assert.equal(result.done, false);
    const socket = result.value as StreamSocket;
    socket.close();
    return socket.information.remotePort;
  });
  assert.deepEqual(
    ports.sort(),
    [first.information.localPort, second.information.localPort].sort(),
  );
  await listener.closeAsync();
  assert.deepEqual(await within(nexts[2]!, 5_000, "the third next()"), {
    value: undefined,
    done: true,
  });
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  // The listener is free for handlers again once iteration ended.
  listener.addEventListener("connectionreceived", ({ socket }) => {
    socket.close();
  });
});

Deno.test("StreamSocketListener iterator is done after return(), and frees the listener for handlers", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const iterator = listener[Symbol.asyncIterator]();
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const first = await within(iterator.next(), 5_000, "the accept");
  (first.value as StreamSocket).close();
  assert.deepEqual(await iterator.return!(), { value: undefined, done: true });
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  listener.addEventListener("connectionreceived", ({ socket }) => {
    socket.close();
  });
  assert.ok(client.information.localPort > 0);
});

Deno.test("StreamSocketListener rejects iteration while connectionreceived handlers are registered", async () => {
  await using listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    socket.close();
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const iterator = listener[Symbol.asyncIterator]();
  const error = await rejection(iterator.next());
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /use one or the other/);
});

Deno.test("StreamSocketListener.addEventListener() throws TypeError for connectionreceived while iterated", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const iterator = listener[Symbol.asyncIterator]();
  const next = iterator.next();
  assert.throws(
    () => listener.addEventListener("connectionreceived", () => {}),
    (error: unknown) =>
      error instanceof TypeError && /for await/.test(error.message),
  );
  // Other events stay allowed while iterating.
  listener.addEventListener("error", () => {});
  await listener.closeAsync();
  assert.deepEqual(await within(next, 5_000, "the end of iteration"), {
    value: undefined,
    done: true,
  });
});

Deno.test("StreamSocketListener never loses a handler failure after a once or duplicate error listener", async () => {
  using capture = captureConsoleError();
  await using listener = new StreamSocketListener();
  let calls = 0;
  const failed = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    socket.close();
    calls++;
    if (calls === 2) failed.resolve();
    throw new Error(`handler ${calls}`);
  });
  const heard: unknown[] = [];
  listener.addEventListener("error", ({ error }) => heard.push(error), {
    once: true,
  });
  const twice = (): void => {};
  listener.addEventListener("error", twice);
  listener.addEventListener("error", twice); // A duplicate: ignored.
  listener.removeEventListener("error", twice);
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  for (let i = 0; i < 2; i++) {
    (await StreamSocket.connectAsync("127.0.0.1", port)).close();
  }
  await within(failed.promise, 5_000, "two handler failures");
  // The first went to the once listener, the second (nobody left) to stderr.
  assert.deepEqual(heard.map((e) => (e as Error).message), ["handler 1"]);
  assert.equal(capture.logged.length, 1);
  assert.equal((capture.logged[0]![1] as Error).message, "handler 2");
});

Deno.test("StreamSocketListener closes connections that arrive after its last handler was removed", async () => {
  await using listener = new StreamSocketListener();
  const first = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    socket.close();
    first.resolve();
  }, { once: true });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  (await StreamSocket.connectAsync("127.0.0.1", port)).close();
  await within(first.promise, 5_000, "the first connection");
  await using late = await StreamSocket.connectAsync("127.0.0.1", port);
  // Closed by the listener: the client reads the end rather than waiting forever.
  await assertReadsEnd(late, "the end");
  assert.equal(listener.sockets.size, 0);
});

Deno.test("StreamSocketListener delivers to connectionreceived listeners as dispatchEvent does", async () => {
  await using listener = new StreamSocketListener();
  const calls: string[] = [];
  const order = new Map<StreamSocket, number>();
  let delivered = Promise.withResolvers<void>();
  let seen: Record<string, unknown> = {};
  const n = (event: ConnectionReceivedEvent): number =>
    order.get(event.socket)!;
  listener.addEventListener("connectionreceived", function (event) {
    if (!order.has(event.socket)) order.set(event.socket, order.size + 1);
    calls.push(`first ${n(event)}`);
    seen = {
      self: this,
      target: event.target,
      currentTarget: event.currentTarget,
      phase: event.eventPhase,
      path: event.composedPath(),
    };
    if (n(event) === 1) {
      // Added during delivery: runs from the next connection on.
      listener.addEventListener("connectionreceived", (e) => {
        calls.push(`late ${n(e)}`);
      });
    }
    delivered.resolve();
  });
  listener.addEventListener("connectionreceived", (event) => {
    calls.push(`once ${n(event)}`);
  }, { once: true });
  const stopper = {
    handleEvent(event: ConnectionReceivedEvent): void {
      calls.push(`stopper ${n(event)}`);
      if (n(event) === 2) event.stopImmediatePropagation();
    },
  };
  listener.addEventListener("connectionreceived", stopper);
  listener.addEventListener("connectionreceived", stopper); // A duplicate: ignored.
  const aborter = new AbortController();
  listener.addEventListener("connectionreceived", (event) => {
    calls.push(`signal ${n(event)}`);
    aborter.abort();
  }, { signal: aborter.signal });
  let last: ConnectionReceivedEvent | undefined;
  const removed = (): void => {
    calls.push("removed");
  };
  listener.addEventListener("connectionreceived", (event) => {
    calls.push(`end ${n(event)}`);
    listener.removeEventListener("connectionreceived", removed);
    last = event;
  });
  listener.addEventListener("connectionreceived", removed);
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const clients: StreamSocket[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      delivered = Promise.withResolvers<void>();
      clients.push(
        await StreamSocket.connectAsync(
          "127.0.0.1",
          listener.information.localPort,
        ),
      );
      // Delivery is synchronous: once the first listener ran, all did.
      await within(delivered.promise, 5_000, `connection ${i + 1}`);
    }
  } finally {
    for (const client of clients) client.close();
  }
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
    self: listener,
    target: listener,
    currentTarget: listener,
    phase: Event.AT_TARGET,
    path: [listener],
  });
  assert.ok(last !== undefined);
  assert.equal(last.target, listener);
  assert.equal(last.currentTarget, null);
  assert.equal(last.eventPhase, Event.NONE);
  assert.deepEqual(last.composedPath(), []);
  assert.equal(last.cancelBubble, false);
  // Events dispatched by others reach the same listeners.
  calls.length = 0;
  const mine = new ConnectionReceivedEvent(last.socket);
  assert.equal(listener.dispatchEvent(mine), true);
  assert.deepEqual(calls, ["first 3", "stopper 3", "end 3", "late 3"]);
  assert.equal(mine.target, listener);
});

Deno.test("StreamSocketListener without an error listener writes a handler failure to stderr and keeps serving", async () => {
  using capture = captureConsoleError();
  const logged = capture.logged;
  await using listener = new StreamSocketListener();
  const boom = new Error("boom");
  let calls = 0;
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    if (++calls === 1) throw boom;
    await using s = socket;
    await s.outputStream.writeAsync(encoder.encode("served\n"));
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  await using bad = await StreamSocket.connectAsync("127.0.0.1", port);
  await assertReadsEnd(bad, "the end");
  await using good = await StreamSocket.connectAsync("127.0.0.1", port);
  assert.equal(
    await readLineWithin(good, "the line"),
    "served",
  );
  assert.equal(logged.length, 1);
  assert.match(
    String(logged[0]![0]),
    /StreamSocketListener: unhandled error/,
  );
  assert.equal(logged[0]![1], boom);
});

Deno.test("StreamSocketListener reports a handler that throws as an error event and keeps serving", async () => {
  await using listener = new StreamSocketListener();
  const boom = new Error("boom");
  let calls = 0;
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    if (++calls === 1) throw boom;
    await using s = socket;
    await s.outputStream.writeAsync(encoder.encode("served\n"));
  });
  const failed = Promise.withResolvers<SocketErrorEvent>();
  listener.addEventListener("error", (event) => failed.resolve(event));
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;

  await using bad = await StreamSocket.connectAsync("127.0.0.1", port);
  const event = await within(failed.promise, 5_000, "the error event");
  assert.equal(event.type, "error");
  assert.equal(event.error, boom);
  // The listener closed the socket of the failed handler: the client reads the end.
  const buffer = new Uint8Array(16);
  assert.equal(
    await within(bad.inputStream.readAsync(buffer, 16, 1), 5_000, "the end"),
    0,
  );

  await using good = await StreamSocket.connectAsync("127.0.0.1", port);
  const line = await readLineWithin(good, "the line");
  assert.equal(line, "served");
});

Deno.test("StreamSocketListener reports a handler that rejects as an error event and keeps serving", async () => {
  await using listener = new StreamSocketListener();
  const boom = new Error("async boom");
  let calls = 0;
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    if (++calls === 1) {
      await Promise.resolve();
      throw boom;
    }
    await using s = socket;
    await s.outputStream.writeAsync(encoder.encode("served\n"));
  });
  const failed = Promise.withResolvers<SocketErrorEvent>();
  listener.addEventListener("error", (event) => failed.resolve(event));
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;

  await using bad = await StreamSocket.connectAsync("127.0.0.1", port);
  const event = await within(failed.promise, 5_000, "the error event");
  assert.equal(event.error, boom);
  await assertReadsEnd(bad, "the end");

  await using good = await StreamSocket.connectAsync("127.0.0.1", port);
  const line = await readLineWithin(good, "the line");
  assert.equal(line, "served");
});

Deno.test("StreamSocketListener.sockets tracks open accepted sockets and shrinks as they close", async () => {
  await using listener = new StreamSocketListener();
  const accepted: StreamSocket[] = [];
  const both = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    accepted.push(socket);
    if (accepted.length === 2) both.resolve();
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  assert.equal(listener.sockets.size, 0);

  await using a = await StreamSocket.connectAsync("127.0.0.1", port);
  await using b = await StreamSocket.connectAsync("127.0.0.1", port);
  await within(both.promise, 5_000, "two accepted sockets");
  assert.equal(listener.sockets.size, 2);
  const [first, second] = accepted as [StreamSocket, StreamSocket];
  assert.ok(listener.sockets.has(first) && listener.sockets.has(second));

  first.close();
  await within(first.closed, 5_000, "the first close");
  assert.equal(listener.sockets.size, 1);
  assert.ok(!listener.sockets.has(first));

  // The peer closing does not close the accepted socket: its owner does.
  b.close();
  await second[Symbol.asyncDispose]();
  assert.equal(listener.sockets.size, 0);
  assert.ok(a.information.localPort > 0);
});

Deno.test("StreamSocketListener.closeAsync() closes handed-out sockets: pending reads reject with OperationAborted, no error event", async () => {
  const listener = new StreamSocketListener();
  const errors: unknown[] = [];
  listener.addEventListener("error", ({ error }) => errors.push(error));
  const reading = Promise.withResolvers<void>();
  const readFailure = Promise.withResolvers<unknown>();
  const handlerDone = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    try {
      const read = socket.inputStream.readAsync(new Uint8Array(8), 8, 1);
      reading.resolve();
      await read;
    } catch (error) {
      readFailure.resolve(error);
      throw error;
    } finally {
      handlerDone.resolve();
    }
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  await using client = await StreamSocket.connectAsync("127.0.0.1", port);
  await within(reading.promise, 5_000, "the handler's read");
  assert.equal(listener.sockets.size, 1);
  const [server] = listener.sockets;

  await within(listener.closeAsync(), 5_000, "closeAsync()");
  assert.equal(listener.sockets.size, 0);
  await within(server!.closed, 5_000, "the accepted socket's close");
  const error = await within(readFailure.promise, 5_000, "the read failure");
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.OperationAborted);
  assert.match(error.message, /the socket was closed/);
  await within(handlerDone.promise, 5_000, "the handler's end");
  await nextTask();
  assert.deepEqual(errors, []);

  // No longer accepting: a new connection is refused.
  const refused = await rejection(StreamSocket.connectAsync("127.0.0.1", port));
  assert.equal(
    SocketError.getStatus(refused),
    SocketErrorStatus.ConnectionRefused,
  );
  // The client sees the end of the stream.
  await assertReadsEnd(client, "the end");
});

Deno.test('StreamSocketListener.closeAsync({ sockets: "wait" }) waits until handlers close their sockets', async () => {
  const listener = new StreamSocketListener();
  const release = Promise.withResolvers<void>();
  const accepted = Promise.withResolvers<void>();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    accepted.resolve();
    await release.promise;
    await s.outputStream.writeAsync(encoder.encode("goodbye\n"));
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  await using client = await StreamSocket.connectAsync("127.0.0.1", port);
  await within(accepted.promise, 5_000, "the accepted socket");

  let closed = false;
  const closing = listener.closeAsync({ sockets: "wait" }).then(() => {
    closed = true;
  });
  await nextTask();
  assert.equal(closed, false);
  assert.equal(listener.sockets.size, 1);
  const refused = await rejection(StreamSocket.connectAsync("127.0.0.1", port));
  assert.equal(
    SocketError.getStatus(refused),
    SocketErrorStatus.ConnectionRefused,
  );

  release.resolve();
  await within(closing, 5_000, "closeAsync()");
  assert.equal(listener.sockets.size, 0);
  // The handler finished its work: the socket was not cut short.
  const line = await readLineWithin(client, "the last line");
  assert.equal(line, "goodbye");
});

Deno.test("StreamSocketListener.closeAsync() rejects an unknown sockets mode with TypeError", async () => {
  await using listener = new StreamSocketListener();
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await assert.rejects(
    listener.closeAsync({ sockets: "later" as "wait" }),
    (error: unknown) =>
      error instanceof TypeError && /"sockets"/.test(error.message) &&
      /later/.test(error.message),
  );
});

Deno.test("StreamSocketListener.bindEndpointAsync() rejects with AddressAlreadyInUse on a port in use", async () => {
  await using first = new StreamSocketListener();
  await first.bindEndpointAsync("127.0.0.1", 0);
  const port = first.information.localPort;
  await using second = new StreamSocketListener();
  const error = await rejection(second.bindEndpointAsync("127.0.0.1", port));
  assertSocketError(
    error,
    SocketErrorStatus.AddressAlreadyInUse,
    /^Cannot listen on 127\.0\.0\.1:\d+: address already in use/,
  );
  assert.ok(error.message.includes(`:${port}`));
  assert.deepEqual(error.endpoint, { hostname: "127.0.0.1", port });
  assert.ok(error.cause !== undefined);
  assert.equal(second.information.localPort, 0);
});

Deno.test("StreamSocketListener.bindEndpointAsync() rejects bad arguments with TypeError or RangeError", async () => {
  await using listener = new StreamSocketListener();
  await assert.rejects(listener.bindEndpointAsync("bad host!", 0), TypeError);
  await assert.rejects(
    listener.bindEndpointAsync("127.0.0.1", "nope"),
    (error: unknown) =>
      error instanceof TypeError && /"nope"/.test(error.message),
  );
  await assert.rejects(
    listener.bindEndpointAsync("127.0.0.1", 70000),
    (error: unknown) =>
      error instanceof RangeError && /70000/.test(error.message),
  );
  await assert.rejects(listener.bindServiceNameAsync("nope"), TypeError);
  await assert.rejects(listener.bindServiceNameAsync(70000), RangeError);
  // Failed calls leave the listener unbound and usable.
  assert.equal(listener.information.localPort, 0);
  await listener.bindEndpointAsync("127.0.0.1", 0);
  assert.ok(listener.information.localPort > 0);
  await assert.rejects(
    listener.bindEndpointAsync("127.0.0.1", 0),
    (error: unknown) =>
      error instanceof TypeError && /already bound/.test(error.message),
  );
});

Deno.test("StreamSocketListener applies control.noDelay and control.keepAlive to accepted sockets", async () => {
  await using listener = new StreamSocketListener();
  listener.control.noDelay = false;
  listener.control.keepAlive = true;
  const accepted = Promise.withResolvers<StreamSocket>();
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => accepted.resolve(socket),
  );
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  await using server = await within(accepted.promise, 5_000, "the socket");
  assert.equal(server.control.noDelay, false);
  assert.equal(server.control.keepAlive, true);
  // The accepted socket has its own copy: changing it does not touch the listener's.
  server.control.noDelay = true;
  assert.equal(listener.control.noDelay, false);
  assert.throws(
    () => {
      listener.control.keepAlive = "yes" as unknown as boolean;
    },
    TypeError,
  );

  await client.outputStream.writeAsync(encoder.encode("still works\n"));
  assert.equal(
    await readLineWithin(server, "the line"),
    "still works",
  );
});

Deno.test({
  name:
    "StreamSocketListener.bindServiceNameAsync() listens on IPv4 and IPv6 loopback (in a private network namespace)",
  ignore: !canUnshare,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const script = `${dir}/bind_service_name.ts`;
      const mod = new URL("../mod.ts", import.meta.url).href;
      await Deno.writeTextFile(
        script,
        `import { LineReader, StreamSocket, StreamSocketListener } from ${
          JSON.stringify(mod)
        };
const encoder = new TextEncoder();
await using listener = new StreamSocketListener();
listener.addEventListener("connectionreceived", async ({ socket }) => {
  await using s = socket;
  const line = await new LineReader(s.inputStream).readLine();
  await s.outputStream.writeAsync(encoder.encode(line + "\\n"));
});
await listener.bindServiceNameAsync(0);
const port = listener.information.localPort;
if (!(port > 0)) throw new Error("no port: " + port);
for (const host of ["127.0.0.1", "::1"]) {
  await using client = await StreamSocket.connectAsync(host, port);
  await client.outputStream.writeAsync(encoder.encode("via " + host + "\\n"));
  const echo = await new LineReader(client.inputStream).readLine();
  if (echo !== "via " + host) throw new Error("bad echo: " + echo);
}
console.log("OK " + listener.information.localAddress?.canonicalName);
`,
      );
      const { code, stdout, stderr } = await run("unshare", [
        "-n",
        "sh",
        "-c",
        'ip link set lo up && exec "$1" run --allow-net "$2"',
        "sh",
        Deno.execPath(),
        script,
      ]);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^OK (::|0\.0\.0\.0)$/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (!canUnshare) {
  // deno-lint-ignore no-console
  console.warn(
    "Skipping the bindServiceNameAsync() test: it binds every address, so it runs only inside `unshare -n`, which needs root and `ip`",
  );
}

Deno.test("StreamSocketListener ends a connection closed mid-line with an error event and keeps serving others", async () => {
  await using server = await startLineEcho();
  await using good = await lineClient(server.port);
  assert.equal(await good.echo("before"), "before");

  {
    await using bad = await StreamSocket.connectAsync("127.0.0.1", server.port);
    await bad.outputStream.writeAsync(encoder.encode("half a li"));
  }
  const error = await within(server.firstError, 5_000, "the error event");
  assertSocketError(
    error,
    SocketErrorStatus.Unknown,
    /^Cannot read a line: the stream ended after 9 bytes without a newline$/,
  );

  assert.equal(await good.echo("after"), "after");
  assert.equal(server.errors.length, 1);
});

Deno.test("StreamSocketListener closes a connection whose line is too long and keeps serving others", async () => {
  await using server = await startLineEcho();
  await using good = await lineClient(server.port);
  assert.equal(await good.echo("before"), "before");

  await using bad = await StreamSocket.connectAsync("127.0.0.1", server.port);
  // 100 KiB without a newline, over LineReader's 64 KiB default.
  const sent = bad.outputStream.writeAsync(
    new Uint8Array(100 * 1024).fill(0x61),
  );
  const error = await within(server.firstError, 5_000, "the error event");
  assertSocketError(
    error,
    SocketErrorStatus.MessageTooLong,
    /^Cannot read a line: it is longer than 65536 bytes; raise "maxLineLength" or send shorter lines$/,
  );
  // The server closed with unread data: the client sees the end or a reset, never an echo.
  await sent.catch(() => {});
  const ended = await within(
    bad.inputStream.readAsync(new Uint8Array(16), 16, 1).catch((e) => e),
    5_000,
    "the end of the long-line connection",
  );
  assert.ok(
    ended === 0 ||
      SocketError.is(ended, SocketErrorStatus.ConnectionResetByPeer),
    `unexpected ${ended}`,
  );

  assert.equal(await good.echo("after"), "after");
  assert.equal(server.errors.length, 1);
});

Deno.test("StreamSocketListener ends a connection sending invalid UTF-8 with an error event and keeps serving others", async () => {
  await using server = await startLineEcho();
  await using good = await lineClient(server.port);
  assert.equal(await good.echo("before"), "before");

  await using bad = await StreamSocket.connectAsync("127.0.0.1", server.port);
  await bad.outputStream.writeAsync(new Uint8Array([0xff, 0xfe, 0x0a]));
  const error = await within(server.firstError, 5_000, "the error event");
  assertSocketError(
    error,
    SocketErrorStatus.Unknown,
    /^Cannot read a line: it is not valid UTF-8$/,
  );
  assert.ok(error.cause instanceof TypeError);
  await assertReadsEnd(bad, "the end of the invalid connection");

  assert.equal(await good.echo("after"), "after");
  assert.equal(server.errors.length, 1);
});

Deno.test({
  name:
    "StreamSocketListener ends a connection reset by the peer with a ConnectionResetByPeer error event and keeps serving others",
  ignore: !hasPython,
  async fn() {
    await using server = await startLineEcho();
    await using good = await lineClient(server.port);
    assert.equal(await good.echo("before"), "before");

    // Sync on one echo (the handler is then reading), then close with SO_LINGER {1, 0}: a real RST.
    const script = `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hello\\n")
got = b""
while not got.endswith(b"\\n"):
    chunk = s.recv(64)
    if not chunk:
        break
    got += chunk
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print(got.decode().strip())
`;
    const [output, error] = await Promise.all([
      run("python3", ["-c", script, String(server.port)]),
      within(server.firstError, 10_000, "the error event"),
    ]);
    assert.equal(output.code, 0, output.stderr);
    assert.equal(output.stdout.trim(), "hello");
    assertSocketError(
      error,
      SocketErrorStatus.ConnectionResetByPeer,
      /^Cannot read from 127\.0\.0\.1:\d+: connection reset by peer$/,
    );
    assert.equal(error.endpoint?.hostname, "127.0.0.1");
    assert.ok(error.cause instanceof Error);

    assert.equal(await good.echo("after"), "after");
    assert.equal(server.errors.length, 1);
  },
});

if (!hasPython) {
  // deno-lint-ignore no-console
  console.warn(
    "Skipping the connection-reset test: python3 is not installed (it makes the RST)",
  );
}

Deno.test('StreamSocketListener.closeAsync({ sockets: "wait", timeout }) closes the sockets left after its timeout', async () => {
  await using listener = new StreamSocketListener();
  const held = Promise.withResolvers<StreamSocket>();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    // Never closed by its handler: only the timeout ends it.
    held.resolve(socket);
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const socket = await within(held.promise, 5_000, "the connection");
  await within(
    listener.closeAsync({ sockets: "wait", timeout: 50 }),
    5_000,
    "closeAsync",
  );
  await within(socket.closed, 5_000, "the socket closed");
  assert.equal(listener.sockets.size, 0);
  await assertReadsEnd(client, "the end");
});

Deno.test("StreamSocketListener.closeAsync() rejects a negative or NaN timeout with RangeError", async () => {
  await using listener = new StreamSocketListener();
  for (const timeout of [-1, NaN]) {
    await assert.rejects(
      listener.closeAsync({ sockets: "wait", timeout }),
      RangeError,
    );
  }
});

Deno.test("The stream-socket-listener subpath still exports DEFAULT_HANDSHAKE_TIMEOUT, the default of control.handshakeTimeout", async () => {
  // It was exported there before it moved to stream_socket.ts: importers of
  // "@seed/sockets/stream-socket-listener" must not break.
  assert.equal(listenerModule.DEFAULT_HANDSHAKE_TIMEOUT, 10_000);
  await using listener = new StreamSocketListener();
  assert.equal(
    listener.control.handshakeTimeout,
    listenerModule.DEFAULT_HANDSHAKE_TIMEOUT,
  );
});

Deno.test("StreamSocketListener.control.handshakeTimeout defaults to 10 s and maxConnections to no cap; both check their values", () => {
  const listener = new StreamSocketListener();
  assert.equal(listener.control.handshakeTimeout, 10_000);
  assert.equal(listener.control.maxConnections, Infinity);
  listener.control.handshakeTimeout = 0;
  listener.control.maxConnections = 1;
  for (const value of [-1, Infinity, NaN, "5"]) {
    assert.throws(
      () => listener.control.handshakeTimeout = value as number,
      RangeError,
    );
  }
  for (const value of [0, 1.5, -1, NaN]) {
    assert.throws(() => listener.control.maxConnections = value, RangeError);
  }
  listener.close();
});

Deno.test("StreamSocketListener writes a network failure nobody listens for to stderr in one line, without a stack", async () => {
  using capture = captureConsoleError();
  await using listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", () => {
    throw new SocketError("Cannot read from 127.0.0.1:1: connection reset", {
      status: SocketErrorStatus.ConnectionResetByPeer,
    });
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  await assertReadsEnd(client, "the end");
  assert.equal(capture.logged.length, 1);
  assert.equal(
    capture.logged[0]![1],
    "Cannot read from 127.0.0.1:1: connection reset",
  );
});

const testdata = new URL("./testdata/", import.meta.url);

/** A TLS listener of `kind` (Deno.listenTls, or node:tls with client certificates) whose error events are collected. */
async function tlsListener(
  kind: "tls" | "mtls",
): Promise<
  { listener: StreamSocketListener; errors: ReadableStream<SocketError> }
> {
  const listener = new StreamSocketListener();
  listener.control.serverCertificate = await Certificate.fromFiles(
    new URL("server.pem", testdata),
    new URL("server.key", testdata),
  );
  if (kind === "mtls") {
    listener.control.clientCertificateRequired = true;
    listener.control.trustedClientRoots = [
      await Certificate.fromFiles(new URL("ca.pem", testdata)),
    ];
  }
  listener.addEventListener(
    "connectionreceived",
    ({ socket }) => socket.close(),
  );
  let push: (error: SocketError) => void = () => {};
  const errors = new ReadableStream<SocketError>({
    start(controller) {
      push = (error) => controller.enqueue(error);
    },
  });
  listener.addEventListener("error", ({ error }) => push(error as SocketError));
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return { listener, errors };
}

for (const kind of ["tls", "mtls"] as const) {
  Deno.test(`StreamSocketListener (${kind}) closes a handshake that outlasts control.handshakeTimeout and reports ConnectionTimedOut`, async () => {
    const { listener, errors } = await tlsListener(kind);
    await using _ = listener;
    listener.control.handshakeTimeout = 50;
    const reader = errors.getReader();
    const silent = await Deno.connect({
      hostname: "127.0.0.1",
      port: listener.information.localPort,
    });
    try {
      const { value } = await within(reader.read(), 5_000, "the report");
      assert.equal(value!.status, SocketErrorStatus.ConnectionTimedOut);
      assert.match(
        value!.message,
        /^Refused a TLS connection from 127\.0\.0\.1:\d+: the TLS handshake did not finish within 50 ms$/,
      );
    } finally {
      silent.close();
      reader.releaseLock();
    }
  });
}

Deno.test("StreamSocketListener (mtls) reports a client that closed before sending anything at once, to error listeners only", async () => {
  using capture = captureConsoleError();
  const { listener, errors } = await tlsListener("mtls");
  await using _ = listener;
  const reader = errors.getReader();
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.information.localPort,
  });
  conn.close();
  const { value } = await within(reader.read(), 5_000, "the report");
  reader.releaseLock();
  assert.match(value!.message, /closed the connection before sending anything/);
  assert.deepEqual(capture.logged, []);
});
