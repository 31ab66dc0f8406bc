/**
 * @seed/sockets: the Windows UWP socket programming model
 * (`Windows.Networking.Sockets`, `DataReader`/`DataWriter`, `HostName`) on
 * Deno's own primitives.
 *
 * @example Quick start: a line echo on loopback
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader, StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * listener.addEventListener("connectionreceived", async ({ socket }) => {
 *   await using s = socket;
 *   const line = await new LineReader(s.inputStream).readLine();
 *   await s.outputStream.writeAsync(new TextEncoder().encode(`${line}\n`));
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using client = await StreamSocket.connectAsync("127.0.0.1", listener.information.localPort);
 * await client.outputStream.writeAsync(new TextEncoder().encode("Hello, World!\n"));
 * assert.equal(await new LineReader(client.inputStream).readLine(), "Hello, World!");
 * ```
 *
 * @module
 */
export * from "./lib/host_name.ts";
export * from "./lib/endpoint_pair.ts";
export * from "./lib/socket_error.ts";
export * from "./lib/input_stream.ts";
export * from "./lib/output_stream.ts";
export * from "./lib/abort_options.ts";
export * from "./lib/socket_connection.ts";
export * from "./lib/socket_protection_level.ts";
export * from "./lib/socket_input_stream.ts";
export * from "./lib/socket_output_stream.ts";
export * from "./lib/stream_socket.ts";
export * from "./lib/stream_socket_listener.ts";
export * from "./lib/socket_error_event.ts";
export * from "./lib/line_reader.ts";
export * from "./lib/byte_order.ts";
export * from "./lib/unicode_encoding.ts";
export * from "./lib/data_reader.ts";
export * from "./lib/data_writer.ts";
export * from "./lib/datagram_socket.ts";
export * from "./lib/certificate.ts";
