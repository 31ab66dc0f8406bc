import assert from "node:assert/strict";
import { DatagramSocket, DataWriter } from "../mod.ts";
import { hasCommand, run, spawnFirstLine, within } from "./_helpers.ts";

const decoder = new TextDecoder();
const MESSAGE = "Grüße, 世界 — ✓ 🚀";
const hasPython = await hasCommand("python3");

/** A python3 UDP echo server: prints its port, echoes every datagram to its sender. */
const PYTHON_SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(65536)
    s.sendto(data, addr)
`;

/** A python3 UDP client: sends argv[2] as UTF-8 to argv[1], prints the echo, with a time-out. */
const PYTHON_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(sys.argv[2].encode("utf-8"), ("127.0.0.1", int(sys.argv[1])))
data, addr = s.recvfrom(65536)
sys.stdout.buffer.write(data)
`;

Deno.test({
  name: "DatagramSocket talks to a python3 UDP echo server with non-ASCII text",
  ignore: !hasPython,
  async fn() {
    await using server = await spawnFirstLine("python3", ["-c", PYTHON_SERVER]);
    const port = Number(server.firstLine);
    await using socket = new DatagramSocket();
    await socket.connectAsync("127.0.0.1", port);
    const writer = new DataWriter();
    writer.writeString(MESSAGE);
    const reply = await socket.requestAsync(writer.detachBuffer(), {
      timeout: 2_000,
    });
    const reader = reply.getDataReader();
    assert.equal(reader.readString(reader.unconsumedBufferLength), MESSAGE);
    assert.equal(reply.remotePort, port);
  },
});

Deno.test({
  name: "DatagramSocket serves a python3 UDP client with non-ASCII text",
  ignore: !hasPython,
  async fn() {
    await using server = new DatagramSocket();
    const seen = Promise.withResolvers<string>();
    server.addEventListener("messagereceived", async (event) => {
      const text = decoder.decode(event.data);
      seen.resolve(text);
      const out = await server.getOutputStreamAsync(
        event.remoteAddress,
        event.remotePort,
      );
      const writer = new DataWriter(out);
      writer.writeString(`echo: ${text}`);
      await writer.storeAsync();
    });
    await server.bindEndpointAsync("127.0.0.1", 0);
    const client = run("python3", [
      "-c",
      PYTHON_CLIENT,
      String(server.information.localPort),
      MESSAGE,
    ], 15_000);
    assert.equal(await within(seen.promise, 10_000, "the request"), MESSAGE);
    const output = await client;
    assert.equal(output.code, 0, output.stderr);
    assert.equal(output.stdout, `echo: ${MESSAGE}`);
  },
});
