import assert from "node:assert/strict";
import { SocketLink } from "../lib/_socket_link.ts";
import type { SocketConnection } from "../lib/socket_connection.ts";

Deno.test("SocketLink.endpoint() is a copy of the remote address that does not hold the connection", () => {
  const link = new SocketLink();
  assert.deepEqual(link.endpoint(), { hostname: "", port: 0 });
  const connectionTo = (port: number): SocketConnection => ({
    read: () => Promise.resolve(null),
    write: (p) => Promise.resolve(p.length),
    closeWrite: () => Promise.resolve(),
    close: () => {},
    localAddr: { hostname: "127.0.0.1", port: 1 },
    remoteAddr: { hostname: "127.0.0.1", port },
  });
  link.connection = connectionTo(8080);
  const endpoint = link.endpoint();
  assert.deepEqual(endpoint, { hostname: "127.0.0.1", port: 8080 });
  link.connection = connectionTo(1);
  assert.equal(endpoint.port, 8080);
  assert.equal(link.endpoint().port, 1);
});

Deno.test("SocketLink flags are independent: setting or clearing one leaves the others", () => {
  const link = new SocketLink();
  const flags = [
    "closed",
    "connecting",
    "upgrading",
    "writing",
    "reading",
    "idleExpired",
  ] as const;
  const state = (): boolean[] => flags.map((flag) => link[flag]);
  assert.deepEqual(state(), flags.map(() => false));
  for (const [i, flag] of flags.entries()) {
    link[flag] = true;
    assert.deepEqual(state(), flags.map((_, j) => j <= i));
  }
  link.upgrading = false;
  assert.deepEqual(state(), [true, true, false, true, true, true]);
  link.upgrading = false;
  assert.deepEqual(state(), [true, true, false, true, true, true]);
  link.connecting = false;
  link.writing = false;
  link.idleExpired = false;
  assert.deepEqual(state(), [true, false, false, false, true, false]);
});
