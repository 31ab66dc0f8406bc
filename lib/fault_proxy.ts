/**
 * An in-process TCP proxy that injects faults (toxiproxy's toxics) between
 * the code under test and a server.
 *
 * @module
 */

import net from "node:net";
import type { SocketAddress } from "./socket_connection.ts";
import type { Toxic, ToxicOptions } from "./toxic.ts";
import { checkRemoval, checkToxic } from "./_toxic_check.ts";
import { ProxyLink } from "./_proxy_link.ts";
import {
  checkProxyOptions,
  type ResolvedProxyOptions,
} from "./_proxy_options.ts";
import { describe } from "./_format.ts";

/** Options of {@linkcode FaultProxy.listen}. */
export interface FaultProxyOptions {
  /** The server the proxy forwards to. */
  upstream: SocketAddress;
  /**
   * The address the proxy listens on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port the proxy listens on; 0 picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /**
   * Seeds every random choice (jitter, slice sizes, toxicity draws). Each
   * connection draws from its own sequence, derived from the seed and the
   * order it was accepted in, so concurrent connections replay alike.
   *
   * @default {a random seed, reported by `proxy.seed`}
   */
  seed?: number;
}

/**
 * A TCP proxy on loopback, in the test's own process, that applies
 * toxiproxy's toxics to the connections through it: latency, bandwidth,
 * slow_close, timeout, reset_peer (a real TCP RST), slicer and limit_data,
 * plus limit_time (pass data for a while, then cut the connection).
 *
 * Toxics apply to connections already open as well as new ones, and adding
 * or removing one under traffic never stalls a connection: a removed toxic
 * hands on what it holds at once. Each direction keeps TCP's half-close (a
 * client's `closeWrite()` reaches the server as an end of stream). A toxic
 * that closes the connection (`limit_data`, `timeout`, `limit_time`) ends
 * both sides with a FIN; `reset_peer` resets both.
 *
 * Concurrency: all methods may be called at any time, from any task; each
 * takes effect at once on every connection.
 *
 * > [!IMPORTANT]
 * > Needs `--allow-net` for the proxy's address and the upstream one.
 *
 * @example Add latency to a server's answers
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader, StreamSocket, StreamSocketListener } from "@seed/sockets";
 * import { FaultProxy } from "@seed/sockets/testing";
 *
 * await using server = new StreamSocketListener();
 * server.addEventListener("connectionreceived", async ({ socket }) => {
 *   await using s = socket;
 *   await s.outputStream.writeAsync(new TextEncoder().encode("hello\n"));
 * });
 * await server.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using proxy = await FaultProxy.listen({
 *   upstream: { hostname: "127.0.0.1", port: server.information.localPort },
 *   seed: 1,
 * });
 * const name = proxy.addToxic({ type: "latency", attributes: { latency: 50, jitter: 10 } });
 *
 * await using client = await StreamSocket.connectAsync("127.0.0.1", proxy.localPort);
 * assert.equal(await new LineReader(client.inputStream).readLine(), "hello");
 * proxy.removeToxic(name);
 * ```
 */
export class FaultProxy implements AsyncDisposable {
  readonly #server: net.Server;
  readonly #upstream: SocketAddress;
  readonly #hostname: string;
  readonly #seed: number;
  #port: number;
  #toxics: Toxic[] = [];
  #enabled = true;
  #closed = false;
  #accepted = 0;
  readonly #links = new Set<ProxyLink>();
  readonly #sockets = new Set<net.Socket>();
  #idle: PromiseWithResolvers<void> | undefined;
  /** Set while listening again after `enabled = true`. */
  #relisten: Promise<void> | undefined;

  private constructor(
    server: net.Server,
    options: ResolvedProxyOptions,
  ) {
    this.#server = server;
    this.#upstream = options.upstream;
    this.#hostname = options.hostname;
    this.#port = options.port;
    this.#seed = options.seed;
    server.on("connection", (socket: net.Socket) => this.#accept(socket));
  }

  /**
   * Starts a proxy to `options.upstream`.
   *
   * @param options Where to forward, where to listen, and the seed.
   * @returns The listening proxy; dispose it with `await using`.
   * @throws {TypeError} If `upstream` is not an address.
   * @throws {RangeError} If a port or the seed is out of range.
   * @throws {Error} If the address cannot be bound (`AddrInUse`, ...).
   *
   * @example Listen on a free port
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 }, seed: 7 });
   * assert.ok(proxy.localPort > 0);
   * assert.equal(proxy.seed, 7);
   * ```
   */
  static async listen(options: FaultProxyOptions): Promise<FaultProxy> {
    const resolved = checkProxyOptions(options, "Cannot start the proxy");
    const server = net.createServer({
      allowHalfOpen: true,
      pauseOnConnect: true,
    });
    const proxy = new FaultProxy(server, resolved);
    await proxy.#listen();
    return proxy;
  }

  /**
   * The port the proxy listens on: connect the code under test here.
   *
   * @example Connect through the proxy
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using server = new StreamSocketListener();
   * await server.bindEndpointAsync("127.0.0.1", 0);
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: server.information.localPort } });
   * await using client = await StreamSocket.connectAsync("127.0.0.1", proxy.localPort);
   * ```
   */
  get localPort(): number {
    return this.#port;
  }

  /**
   * The address the proxy listens on.
   *
   * @example The default address
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * assert.equal(proxy.hostname, "127.0.0.1");
   * ```
   */
  get hostname(): string {
    return this.#hostname;
  }

  /**
   * The server the proxy forwards to.
   *
   * @example Read it back
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * assert.deepEqual(proxy.upstream, { hostname: "127.0.0.1", port: 9 });
   * ```
   */
  get upstream(): SocketAddress {
    return this.#upstream;
  }

  /**
   * The seed of the proxy's random choices: print it when a test fails, and
   * pass it back as `seed` to replay the same faults.
   *
   * @example A seed is always known
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * assert.ok(Number.isInteger(proxy.seed));
   * ```
   */
  get seed(): number {
    return this.#seed;
  }

  /**
   * The toxics in force, in the order they apply.
   *
   * @example No toxics at first
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * assert.deepEqual(proxy.toxics, []);
   * ```
   */
  get toxics(): readonly Toxic[] {
    return [...this.#toxics];
  }

  /**
   * How many connections are open through the proxy.
   *
   * @example None yet
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * assert.equal(proxy.connectionCount, 0);
   * ```
   */
  get connectionCount(): number {
    return this.#links.size;
  }

  /**
   * Adds a toxic; it applies at once to open connections and to new ones.
   *
   * @param options The type, direction, toxicity and attributes.
   * @returns The toxic's name, for {@linkcode FaultProxy.prototype.removeToxic}.
   * @throws {TypeError} For an unknown type, stream or attribute, or a name
   * already in use.
   * @throws {RangeError} For a toxicity outside 0 to 1 or an attribute that
   * is not a non-negative integer (or, for `slicer`, an `average_size` below
   * 1 or a `size_variation` not below it).
   *
   * @example Cut answers into slices of 1 to 3 bytes
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * const name = proxy.addToxic({ type: "slicer", attributes: { average_size: 2, size_variation: 1 } });
   * assert.equal(name, "slicer_downstream");
   * assert.throws(() => proxy.addToxic({ type: "slicer" }), TypeError);
   * ```
   */
  addToxic(options: ToxicOptions): string {
    this.#checkOpen("add a toxic to");
    const toxic = checkToxic(options, this.#names());
    this.#toxics.push(toxic);
    for (const link of this.#links) link.attach(toxic);
    return toxic.name;
  }

  /**
   * Removes a toxic from the proxy and every connection; what it holds
   * (delayed or sliced data) goes on at once. Removing a `timeout` toxic
   * that dropped data closes the connections it dropped it on: their
   * streams lost bytes.
   *
   * @param name The name {@linkcode FaultProxy.prototype.addToxic} returned.
   * @throws {TypeError} If the proxy has no toxic of that name.
   *
   * @example Add, then remove
   * ```ts
   * import assert from "node:assert/strict";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * proxy.removeToxic(proxy.addToxic({ type: "bandwidth", attributes: { rate: 100 } }));
   * assert.throws(() => proxy.removeToxic("bandwidth_downstream"), /has none/);
   * ```
   */
  removeToxic(name: string): void {
    this.#checkOpen("remove a toxic from");
    checkRemoval(name, this.#names());
    const index = this.#toxics.findIndex((toxic) => toxic.name === name);
    const [toxic] = this.#toxics.splice(index, 1);
    for (const link of this.#links) link.detach(toxic!);
  }

  /**
   * Whether the proxy accepts connections (toxiproxy's `enabled`). Setting
   * it to `false` stops listening, so new connections are refused
   * (`ConnectionRefused`), and cuts the open ones; setting it back to
   * `true` listens again on the same port. Re-enabling takes a moment:
   * `await proxy.setEnabled(true)` resolves once connections are accepted.
   *
   * @default {true}
   *
   * @example Take the service down
   * ```ts
   * import assert from "node:assert/strict";
   * import { SocketError, SocketErrorStatus, StreamSocket } from "@seed/sockets";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * proxy.enabled = false;
   * await assert.rejects(StreamSocket.connectAsync("127.0.0.1", proxy.localPort), (error) =>
   *   SocketError.getStatus(error) === SocketErrorStatus.ConnectionRefused);
   * ```
   */
  get enabled(): boolean {
    return this.#enabled;
  }
  set enabled(value: boolean) {
    // Bad arguments throw here; a failure to listen again shows as
    // `enabled` reading false (setEnabled() reports it).
    this.#setEnabled(value).catch(() => {});
  }

  /**
   * Sets {@linkcode FaultProxy.prototype.enabled} and resolves once it is
   * in force.
   *
   * @param enabled Whether to accept connections.
   * @returns Resolves once listening again (or at once when disabling).
   * @throws {TypeError} If `enabled` is not a boolean or the proxy is closed.
   * @throws {Error} If the port can no longer be bound.
   *
   * @example Down, then up again
   * ```ts
   * import { StreamSocket, StreamSocketListener } from "@seed/sockets";
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * await using server = new StreamSocketListener();
   * await server.bindEndpointAsync("127.0.0.1", 0);
   * await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: server.information.localPort } });
   * await proxy.setEnabled(false);
   * await proxy.setEnabled(true);
   * await using client = await StreamSocket.connectAsync("127.0.0.1", proxy.localPort);
   * ```
   */
  setEnabled(enabled: boolean): Promise<void> {
    try {
      return this.#setEnabled(enabled);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Throws argument errors synchronously; the promise settles once in force. */
  #setEnabled(enabled: boolean): Promise<void> {
    if (typeof enabled !== "boolean") {
      throw new TypeError(
        `Cannot enable the proxy: "enabled" must be a boolean, got ${
          describe(enabled)
        }`,
      );
    }
    this.#checkOpen("enable");
    if (enabled === this.#enabled) return this.#relisten ?? Promise.resolve();
    this.#enabled = enabled;
    if (!enabled) {
      this.#server.close();
      for (const link of this.#links) link.close();
      return Promise.resolve();
    }
    const relisten = this.#listen().catch((error) => {
      this.#enabled = false;
      throw error;
    }).finally(() => {
      if (this.#relisten === relisten) this.#relisten = undefined;
    });
    this.#relisten = relisten;
    return relisten;
  }

  /**
   * Stops the proxy: stops listening, closes every connection and resolves
   * once all its sockets are released. Calling it again does nothing.
   *
   * @returns Resolves once closed.
   *
   * @example Close explicitly
   * ```ts
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * const proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * await proxy.close();
   * await proxy.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#enabled = false;
      this.#server.close();
      for (const link of this.#links) link.destroy();
      // Sockets still waiting for their upstream connection.
      for (const socket of this.#sockets) socket.destroy();
    }
    if (this.#sockets.size > 0) {
      this.#idle ??= Promise.withResolvers<void>();
      await this.#idle.promise;
    }
  }

  /**
   * Closes the proxy, as {@linkcode FaultProxy.prototype.close}.
   *
   * @returns Resolves once closed.
   *
   * @example Dispose with `await using`
   * ```ts
   * import { FaultProxy } from "@seed/sockets/testing";
   *
   * {
   *   await using proxy = await FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #names(): Set<string> {
    return new Set(this.#toxics.map((toxic) => toxic.name));
  }

  #checkOpen(action: string): void {
    if (this.#closed) {
      throw new TypeError(`Cannot ${action} the proxy: it is closed`);
    }
  }

  async #listen(): Promise<void> {
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => {
        server.off("listening", done);
        reject(error);
      };
      const done = (): void => {
        server.off("error", fail);
        resolve();
      };
      server.once("error", fail);
      server.once("listening", done);
      server.listen({ host: this.#hostname, port: this.#port });
    });
    this.#port = (server.address() as net.AddressInfo).port;
    if (this.#closed || !this.#enabled) server.close();
  }

  #accept(client: net.Socket): void {
    this.#track(client);
    if (!this.#enabled) {
      client.destroy();
      return;
    }
    const index = this.#accepted++;
    const server = net.connect({
      host: this.#upstream.hostname,
      port: this.#upstream.port,
      allowHalfOpen: true,
    });
    this.#track(server);
    const refused = (): void => {
      // As toxiproxy: a client whose upstream cannot be reached is closed.
      client.destroySoon();
    };
    server.once("error", refused);
    server.once("connect", () => {
      server.off("error", refused);
      if (!this.#enabled || client.destroyed) {
        client.destroy();
        server.destroy();
        return;
      }
      client.setNoDelay(true);
      server.setNoDelay(true);
      const link = new ProxyLink(
        client,
        server,
        this.#toxics,
        this.#seed,
        index,
      );
      this.#links.add(link);
      let open = 2;
      const gone = (): void => {
        if (--open === 0) this.#links.delete(link);
      };
      client.once("close", gone);
      server.once("close", gone);
      client.resume();
    });
    client.on("error", () => {
      // Handled by the link once there is one; before that, nothing to pass on.
    });
  }

  /** Keeps `socket` until it closes, so `close()` can wait for it. */
  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) {
        this.#idle?.resolve();
        this.#idle = undefined;
      }
    });
  }
}
