/**
 * @seed/sockets/testing: fault injection for `deno test` suites, in the
 * test's own process.
 *
 * - {@linkcode FaultProxy}: a TCP proxy with toxiproxy's toxics (latency,
 *   bandwidth, slow_close, timeout, reset_peer with a real RST, slicer,
 *   limit_data) and limit_time, seeded so a failing run replays.
 * - {@linkcode DatagramFaultProxy}: the same for UDP: loss, duplication,
 *   reordering and latency.
 * - {@linkcode SocketPair}: two connected stream sockets in memory, with a
 *   bounded (or rendezvous) buffer.
 *
 * @example Quick start: a server's answer arrives in 1 to 3 byte slices
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader, StreamSocket, StreamSocketListener } from "@seed/sockets";
 * import { FaultProxy } from "@seed/sockets/testing";
 *
 * await using server = new StreamSocketListener();
 * server.addEventListener("connectionreceived", async ({ socket }) => {
 *   await using s = socket;
 *   await s.outputStream.writeAsync(new TextEncoder().encode("Hello, World!\n"));
 * });
 * await server.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using proxy = await FaultProxy.listen({
 *   upstream: { hostname: "127.0.0.1", port: server.information.localPort },
 *   seed: 1,
 * });
 * proxy.addToxic({ type: "slicer", attributes: { average_size: 2, size_variation: 1, delay: 100 } });
 *
 * await using client = await StreamSocket.connectAsync("127.0.0.1", proxy.localPort);
 * assert.equal(await new LineReader(client.inputStream).readLine(), "Hello, World!");
 * ```
 *
 * @module
 */
export * from "./lib/fault_proxy.ts";
export * from "./lib/toxic.ts";
export * from "./lib/datagram_fault_proxy.ts";
export * from "./lib/socket_pair.ts";
