/** StreamSocketListenerControl.reusePort: listeners sharing a port (Linux, --unstable-net). */
import assert from "node:assert/strict";
import * as sockets from "../mod.ts";
import { StreamSocket, StreamSocketListener } from "../mod.ts";
import {
  rejectionStatus,
  ROOT,
  runDeno,
  spawnFirstLine,
  within,
} from "./_helpers.ts";

const { Certificate, SocketErrorStatus } = sockets;
const LINUX = Deno.build.os === "linux";
const read = (name: string): string =>
  Deno.readTextFileSync(new URL(`./testdata/${name}`, import.meta.url));

/** A listener on 127.0.0.1:`port` that counts and closes its connections. */
async function counting(
  port: number,
  reusePort: boolean,
  configure: (listener: StreamSocketListener) => void = () => {},
): Promise<{ listener: StreamSocketListener; count: () => number }> {
  const listener = new StreamSocketListener();
  listener.control.reusePort = reusePort;
  configure(listener);
  let accepted = 0;
  listener.addEventListener("connectionreceived", ({ socket }) => {
    accepted++;
    socket.close();
  });
  await listener.bindEndpointAsync("127.0.0.1", port);
  return { listener, count: () => accepted };
}

Deno.test({
  name:
    "StreamSocketListenerControl.reusePort lets two listeners share a port, and the kernel splits the connections",
  ignore: !LINUX,
  async fn() {
    const first = await counting(0, true);
    await using _first = first.listener;
    const port = first.listener.information.localPort;
    const second = await counting(port, true);
    await using _second = second.listener;
    const connections = 40;
    for (let i = 0; i < connections; i++) {
      await using socket = await StreamSocket.connectAsync("127.0.0.1", port);
      // The listener closes each one: wait for that, so the count is final.
      await within(
        socket.inputStream.readAsync(new Uint8Array(1), 1, 1),
        5_000,
        "the close",
      );
    }
    assert.equal(first.count() + second.count(), connections);
    // The split hashes the client's port: all 40 on one side has odds of 2^-39.
    assert.ok(
      first.count() > 0 && second.count() > 0,
      `${first.count()} / ${second.count()}`,
    );
  },
});

Deno.test("StreamSocketListenerControl.reusePort off: a second listener on the port is AddressAlreadyInUse", async () => {
  const first = await counting(0, false);
  await using _ = first.listener;
  await using second = new StreamSocketListener();
  assert.equal(
    await rejectionStatus(
      second.bindEndpointAsync(
        "127.0.0.1",
        first.listener.information.localPort,
      ),
    ),
    SocketErrorStatus.AddressAlreadyInUse,
  );
});

Deno.test({
  name:
    "StreamSocketListenerControl.reusePort works on Deno.listenTls and is refused on node:tls listeners",
  ignore: !LINUX,
  async fn() {
    const tls = (listener: StreamSocketListener): void => {
      listener.control.serverCertificate = Certificate.fromPem(
        read("server.pem"),
        read("server.key"),
      );
    };
    const first = await counting(0, true, tls);
    await using _first = first.listener;
    const second = await counting(
      first.listener.information.localPort,
      true,
      tls,
    );
    await using _second = second.listener;
    await using mutual = new StreamSocketListener();
    tls(mutual);
    mutual.control.clientCertificateRequired = true;
    mutual.control.reusePort = true;
    await assert.rejects(
      mutual.bindEndpointAsync("127.0.0.1", 0),
      /"reusePort" is not available on node:tls listeners/,
    );
  },
});

Deno.test("StreamSocketListenerControl.reusePort refuses a non-boolean", () => {
  const listener = new StreamSocketListener();
  assert.throws(
    () => (listener.control.reusePort = "yes" as unknown as boolean),
    /"reusePort" must be a boolean, got "yes"/,
  );
});

Deno.test({
  name:
    "StreamSocketListenerControl.reusePort without --unstable-net is one TypeError naming the flag, not an exit",
  ignore: !LINUX,
  async fn() {
    const script = `
      import { StreamSocketListener } from "${ROOT}mod.ts";
      const listener = new StreamSocketListener();
      listener.control.reusePort = true;
      try {
        await listener.bindEndpointAsync("127.0.0.1", 0);
        console.log("bound");
      } catch (error) {
        console.log(String(error));
      }
    `;
    const result = await runDeno([
      "eval",
      "--no-config",
      script,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^TypeError: Cannot bind: "reusePort" is unstable in Deno; run with --unstable-net/,
    );
  },
});

/** Sends `PING` in both Redis forms on one connection and reads the two answers. */
async function ping(port: number): Promise<string> {
  await using socket = await StreamSocket.connectAsync("127.0.0.1", port);
  await socket.outputStream.writeAsync(
    new TextEncoder().encode("PING\r\n*1\r\n$4\r\nPING\r\n"),
  );
  const reader = new sockets.LineReader(socket.inputStream);
  return `${await reader.readLine()} ${await reader.readLine()}`;
}

Deno.test({
  name:
    "examples/reuse_port_workers.ts serves one port from 2 Workers, answers PING, and reports how the connections split",
  ignore: !LINUX,
  async fn() {
    await using server = await spawnFirstLine(Deno.execPath(), [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--unstable-net",
      `${ROOT}examples/reuse_port_workers.ts`,
      "--workers",
      "2",
      "--port",
      "0",
    ]);
    const port = Number(/:(\d+) with 2 workers$/.exec(server.firstLine)?.[1]);
    assert.ok(port > 0, server.firstLine);
    const connections = 30;
    for (let i = 0; i < connections; i++) {
      assert.equal(await within(ping(port), 5_000, "PONG"), "+PONG +PONG");
    }
    server.child.kill("SIGTERM");
    const rest = await within(server.rest, 10_000, "the counts");
    const counts = [...rest.matchAll(/worker \d: (\d+) connections/g)].map((
      m,
    ) => Number(m[1]));
    assert.equal(counts.length, 2, rest);
    assert.equal(counts[0]! + counts[1]!, connections, rest);
    assert.ok(counts[0]! > 0 && counts[1]! > 0, rest);
    assert.match(rest, /server stopped \(SIGTERM\)\n$/);
  },
});

Deno.test({
  name:
    "examples/tcp_echo.ts --role server --reuse-port: two server processes share one port",
  ignore: !LINUX,
  async fn() {
    const serve = (port: number) =>
      spawnFirstLine(Deno.execPath(), [
        "run",
        "--allow-net=127.0.0.1",
        "--unstable-net",
        `${ROOT}examples/tcp_echo.ts`,
        "--role=server",
        `--port=${port}`,
        "--reuse-port",
      ]);
    await using first = await serve(0);
    const port = Number(/:(\d+)$/.exec(first.firstLine)?.[1]);
    await using second = await serve(port);
    assert.equal(second.firstLine, `listening on 127.0.0.1:${port}`);
    const client = await runDeno([
      "run",
      "--allow-net=127.0.0.1",
      `${ROOT}examples/tcp_echo.ts`,
      "--role=client",
      `--port=${port}`,
      "--message=shared",
    ]);
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /client received the response: "shared"/);
  },
});
