import assert from "node:assert/strict";
import * as sockets from "../mod.ts";
import { EndpointPair, StreamSocket, StreamSocketListener } from "../mod.ts";

const { Certificate, HostName, SocketErrorStatus } = sockets;
import {
  hasCommand,
  pythonOneConnectionServer,
  readLineWithin,
  rejectionStatus,
  spawnFirstLine,
  within,
} from "./_helpers.ts";

const S = SocketErrorStatus;
const dir = new URL("./testdata/", import.meta.url);
const read = (name: string): string =>
  Deno.readTextFileSync(new URL(name, dir));

/** Linux routes all of 127.0.0.0/8 to loopback; elsewhere only 127.0.0.1 exists. */
const LINUX = Deno.build.os === "linux";

/** A listener on 127.0.0.1 that reports the remote endpoint of the first connection. */
async function peerReporter(): Promise<
  {
    listener: StreamSocketListener;
    peer: Promise<{ address: string; port: number }>;
  }
> {
  const listener = new StreamSocketListener();
  const peer = Promise.withResolvers<{ address: string; port: number }>();
  listener.addEventListener("connectionreceived", ({ socket }) => {
    peer.resolve({
      address: socket.information.remoteAddress?.canonicalName ?? "",
      port: socket.information.remotePort,
    });
    socket.close();
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return { listener, peer: peer.promise };
}

/** A port nobody listens on right now. */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

Deno.test("EndpointPair keeps its four parts in UWP's shape", () => {
  const pair = new EndpointPair(
    new HostName("127.0.0.1"),
    "5000",
    "example.com",
    "https",
  );
  assert.equal(pair.localHostName?.canonicalName, "127.0.0.1");
  assert.equal(pair.localServiceName, "5000");
  assert.equal(pair.localPort, 5000);
  assert.equal(pair.remoteHostName.canonicalName, "example.com");
  assert.equal(pair.remoteServiceName, "https");
  assert.equal(pair.remotePort, 443);
  assert.equal(String(pair), "127.0.0.1:5000 -> example.com:https");
  const any = new EndpointPair(null, "", "::1", 80);
  assert.equal(any.localHostName, undefined);
  assert.equal(any.localPort, 0);
  assert.equal(String(any), "*:* -> ::1:80");
});

Deno.test("EndpointPair refuses a DNS name as local host, bad services and remote port 0", () => {
  assert.throws(
    () => new EndpointPair("localhost", "", "127.0.0.1", 80),
    /"localHostName" must be an IP address of this machine, got "localhost"/,
  );
  assert.throws(
    () => new EndpointPair(null, "nope!", "127.0.0.1", 80),
    TypeError,
  );
  assert.throws(
    () => new EndpointPair(null, 70_000, "127.0.0.1", 80),
    RangeError,
  );
  assert.throws(
    () => new EndpointPair(null, "", "127.0.0.1", 0),
    /"remoteServiceName" must be the port the server listens on/,
  );
});

Deno.test({
  name:
    "StreamSocket.connectAsync(endpointPair) binds the local address: the server sees 127.0.0.2",
  ignore: !LINUX,
  async fn() {
    const { listener, peer } = await peerReporter();
    await using _ = listener;
    await using socket = await StreamSocket.connectAsync(
      new EndpointPair(
        "127.0.0.2",
        "",
        "127.0.0.1",
        listener.information.localPort,
      ),
    );
    assert.equal(socket.information.localAddress?.canonicalName, "127.0.0.2");
    const seen = await within(peer, 5_000, "the accepted socket");
    assert.equal(seen.address, "127.0.0.2");
    assert.equal(seen.port, socket.information.localPort);
  },
});

Deno.test("StreamSocket.connectAsync(endpointPair) binds the local port", async () => {
  const { listener, peer } = await peerReporter();
  await using _ = listener;
  const port = freePort();
  await using socket = new StreamSocket();
  await socket.connectAsync(
    new EndpointPair(null, port, "127.0.0.1", listener.information.localPort),
  );
  assert.equal(socket.information.localPort, port);
  assert.equal(
    socket.information.remoteServiceName,
    String(listener.information.localPort),
  );
  assert.equal((await within(peer, 5_000, "the accepted socket")).port, port);
});

Deno.test("StreamSocket.connectAsync(endpointPair) without a local part stays on Deno.connect", async () => {
  const { listener } = await peerReporter();
  await using _ = listener;
  await using socket = await StreamSocket.connectAsync(
    new EndpointPair(null, "", "127.0.0.1", listener.information.localPort),
  );
  // Only a node:net connection can reset: a Deno one says so.
  assert.throws(() => socket.closeWithReset(), /Deno connection/);
});

Deno.test("StreamSocket.connectAsync(endpointPair) rejects an address of another machine with CannotAssignRequestedAddress", async () => {
  const { listener } = await peerReporter();
  await using _ = listener;
  await using socket = new StreamSocket();
  // 192.0.2.0/24 is reserved for documentation: no machine has it.
  const status = await rejectionStatus(socket.connectAsync(
    new EndpointPair(
      "192.0.2.1",
      "",
      "127.0.0.1",
      listener.information.localPort,
    ),
  ));
  assert.equal(status, S.CannotAssignRequestedAddress);
});

Deno.test("StreamSocket.connectAsync(endpointPair) rejects a local port in use with AddressAlreadyInUse", async () => {
  const { listener } = await peerReporter();
  await using _ = listener;
  await using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using socket = new StreamSocket();
  const status = await rejectionStatus(socket.connectAsync(
    new EndpointPair(
      "127.0.0.1",
      taken.addr.port,
      "127.0.0.1",
      listener.information.localPort,
    ),
  ));
  assert.equal(status, S.AddressAlreadyInUse);
});

Deno.test({
  name:
    "StreamSocket.connectAsync(endpointPair, Tls12) binds the local address under TLS",
  ignore: !LINUX,
  async fn() {
    await using listener = new StreamSocketListener();
    listener.control.serverCertificate = Certificate.fromPem(
      read("server.pem"),
      read("server.key"),
    );
    const seen = Promise.withResolvers<string | undefined>();
    listener.addEventListener("connectionreceived", async ({ socket }) => {
      await using s = socket;
      seen.resolve(s.information.remoteAddress?.canonicalName);
      await s.outputStream.writeAsync(new TextEncoder().encode("hi\n"));
    });
    await listener.bindEndpointAsync("127.0.0.1", 0);
    await using socket = new StreamSocket();
    socket.control.trustedRootCertificates = [
      Certificate.fromPem(read("ca.pem")),
    ];
    await socket.connectAsync(
      new EndpointPair(
        "127.0.0.2",
        "",
        "localhost",
        listener.information.localPort,
      ),
      sockets.SocketProtectionLevel.Tls12,
    );
    assert.equal(await readLineWithin(socket), "hi");
    assert.equal(socket.information.localAddress?.canonicalName, "127.0.0.2");
    assert.equal(await within(seen.promise, 5_000, "the server"), "127.0.0.2");
  },
});

const PYTHON_PEER = pythonOneConnectionServer(`
conn.sendall(("%s %d\\n" % peer).encode())
conn.close()
`);

Deno.test({
  name:
    "StreamSocket.connectAsync(endpointPair): a python3 server sees the bound local address and port",
  ignore: !LINUX || !(await hasCommand("python3")),
  async fn() {
    await using python = await spawnFirstLine("python3", ["-c", PYTHON_PEER]);
    const localPort = freePort();
    await using socket = await StreamSocket.connectAsync(
      new EndpointPair(
        "127.0.0.3",
        localPort,
        "127.0.0.1",
        Number(python.firstLine),
      ),
    );
    assert.equal(await readLineWithin(socket), `127.0.0.3 ${localPort}`);
  },
});

Deno.test("StreamSocket.connectAsync(endpointPair) binds an IPv6 local endpoint", async () => {
  let listener: StreamSocketListener;
  try {
    listener = new StreamSocketListener();
    await listener.bindEndpointAsync("::1", 0);
  } catch {
    return; // No IPv6 loopback on this machine.
  }
  await using _ = listener;
  const port = freePort();
  await using socket = await StreamSocket.connectAsync(
    new EndpointPair("::1", port, "::1", listener.information.localPort),
  );
  assert.equal(socket.information.localAddress?.canonicalName, "::1");
  assert.equal(socket.information.localPort, port);
});
