/**
 * A UDP proxy that loses, duplicates, reorders and delays datagrams between
 * the code under test and a datagram peer.
 *
 * @module
 */

import type { SocketAddress } from "./socket_connection.ts";
import type { ToxicStream } from "./toxic.ts";
import { deriveSeed, Random } from "./_random.ts";
import { checkProxyOptions } from "./_proxy_options.ts";
import {
  checkFaults,
  FaultLane,
  type ResolvedFaults,
} from "./_datagram_faults.ts";
import { describe } from "./_format.ts";

/**
 * Faults applied to datagrams in one direction. Probabilities are drawn
 * per datagram from the proxy's seeded generator.
 *
 * @example One in ten lost, 20 ± 5 ms late
 * ```ts
 * import type { DatagramFaults } from "@seed/sockets/testing";
 *
 * const faults: DatagramFaults = { loss: 0.1, latency: 20, jitter: 5 };
 * ```
 */
export interface DatagramFaults {
  /**
   * The probability (0 to 1) that a datagram is dropped.
   *
   * @default {0}
   */
  loss?: number;
  /**
   * The probability (0 to 1) that a datagram is delivered twice.
   *
   * @default {0}
   */
  duplication?: number;
  /**
   * The probability (0 to 1) that a datagram is held back and delivered
   * after the next one (or after 50 ms if none follows).
   *
   * @default {0}
   */
  reordering?: number;
  /**
   * Milliseconds added to each datagram's trip.
   *
   * @default {0}
   */
  latency?: number;
  /**
   * The most the latency varies either way, in milliseconds (which also
   * reorders datagrams closer together than the jitter).
   *
   * @default {0}
   */
  jitter?: number;
}

/** Options of {@linkcode DatagramFaultProxy.listen}. */
export interface DatagramFaultProxyOptions {
  /** The datagram peer the proxy forwards to. */
  upstream: SocketAddress;
  /**
   * The address the proxy receives on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port the proxy receives on; 0 picks a free one.
   *
   * @default {0}
   */
  port?: number;
  /**
   * Seeds every random choice. Each flow (client address) and direction
   * draws from its own sequence, derived from the seed and the order the
   * flows appeared in.
   *
   * @default {a random seed, reported by `proxy.seed`}
   */
  seed?: number;
  /**
   * Faults for both directions from the start.
   *
   * @default {{}}
   */
  faults?: DatagramFaults;
}

/** The most client addresses served at once; datagrams from more are dropped. */
const MAX_FLOWS = 1024;

interface Flow {
  readonly client: Deno.NetAddr;
  readonly socket: Deno.DatagramConn;
  readonly up: FaultLane;
  readonly down: FaultLane;
}

/**
 * A UDP proxy on loopback: datagrams from each client address go to
 * `upstream` from a socket of their own (so the peer's answers find their
 * way back), with the faults set for each direction applied on the way.
 * `"upstream"` is client to peer, `"downstream"` peer to client.
 *
 * Concurrency: `setFaults` may be called at any time; it applies to the
 * next datagram of every flow.
 *
 * > [!IMPORTANT]
 * > Needs `--allow-net` and `--unstable-net` (`Deno.listenDatagram`).
 *
 * @example An echo through 5 ms of latency
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramSocket } from "@seed/sockets";
 * import { DatagramFaultProxy } from "@seed/sockets/testing";
 *
 * await using server = new DatagramSocket();
 * server.addEventListener("messagereceived", async (event) => {
 *   const out = await server.getOutputStreamAsync(event.remoteAddress, event.remotePort);
 *   await out.writeAsync(event.data);
 * });
 * await server.bindEndpointAsync("127.0.0.1", 0);
 *
 * await using proxy = DatagramFaultProxy.listen({
 *   upstream: { hostname: "127.0.0.1", port: server.information.localPort },
 *   seed: 3,
 *   faults: { latency: 5 },
 * });
 * await using client = new DatagramSocket();
 * await client.connectAsync("127.0.0.1", proxy.localPort);
 * const reply = await client.requestAsync(new TextEncoder().encode("hi"));
 * assert.equal(new TextDecoder().decode(reply.data), "hi");
 * ```
 */
export class DatagramFaultProxy implements AsyncDisposable {
  readonly #socket: Deno.DatagramConn;
  readonly #upstream: Deno.NetAddr;
  readonly #seed: number;
  readonly #flows = new Map<string, Flow>();
  readonly #loops: Promise<void>[] = [];
  /** The last send queued on each socket. */
  readonly #sends = new Map<Deno.DatagramConn, Promise<void>>();
  #faults: Record<ToxicStream, ResolvedFaults>;
  #closed = false;

  private constructor(
    socket: Deno.DatagramConn,
    upstream: Deno.NetAddr,
    seed: number,
    faults: ResolvedFaults,
  ) {
    this.#socket = socket;
    this.#upstream = upstream;
    this.#seed = seed;
    this.#faults = { upstream: faults, downstream: faults };
    this.#loops.push(this.#receiveFromClients());
  }

  /**
   * Starts a proxy to `options.upstream`.
   *
   * @param options Where to forward, where to listen, the seed and faults.
   * @returns The proxy; dispose it with `await using`.
   * @throws {TypeError} If `upstream` is not an address or a fault is unknown.
   * @throws {RangeError} If a port, the seed or a fault is out of range.
   *
   * @example Listen on a free port
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramFaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = DatagramFaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 }, seed: 1 });
   * assert.ok(proxy.localPort > 0);
   * ```
   */
  static listen(options: DatagramFaultProxyOptions): DatagramFaultProxy {
    const action = "Cannot start the datagram proxy";
    const { upstream, hostname, port, seed } = checkProxyOptions(
      options,
      action,
    );
    const faults = checkFaults(options.faults ?? {}, action);
    const socket = Deno.listenDatagram({
      hostname,
      port,
      transport: "udp",
    });
    return new DatagramFaultProxy(
      socket,
      { transport: "udp", hostname: upstream.hostname, port: upstream.port },
      seed,
      faults,
    );
  }

  /**
   * The port the proxy receives on: send the code under test's datagrams here.
   *
   * @example Read the port
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramFaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = DatagramFaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * assert.ok(proxy.localPort > 0);
   * ```
   */
  get localPort(): number {
    return (this.#socket.addr as Deno.NetAddr).port;
  }

  /**
   * The seed of the random choices: pass it back as `seed` to replay them.
   *
   * @example Always known
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramFaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = DatagramFaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 }, seed: 5 });
   * assert.equal(proxy.seed, 5);
   * ```
   */
  get seed(): number {
    return this.#seed;
  }

  /**
   * The faults in force for one direction, zeros included.
   *
   * @param stream `"upstream"` (client to peer) or `"downstream"`.
   * @returns The faults.
   * @throws {TypeError} If `stream` is neither.
   *
   * @example Read the faults back
   * ```ts
   * import assert from "node:assert/strict";
   * import { DatagramFaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = DatagramFaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * proxy.setFaults({ loss: 0.5 }, "upstream");
   * assert.equal(proxy.faults("upstream").loss, 0.5);
   * assert.equal(proxy.faults("downstream").loss, 0);
   * ```
   */
  faults(stream: ToxicStream): Readonly<Required<DatagramFaults>> {
    return this.#faults[checkStream(stream, "Cannot read the faults")];
  }

  /**
   * Replaces the faults of one direction, or of both.
   *
   * @param faults The new faults; missing ones are 0.
   * @param stream Which direction: `"upstream"`, `"downstream"` or `"both"`.
   * @throws {TypeError} For an unknown fault or stream.
   * @throws {RangeError} For a probability outside 0 to 1 or a negative or
   * fractional duration.
   *
   * @example Duplicate the peer's answers
   * ```ts
   * import { DatagramFaultProxy } from "@seed/sockets/testing";
   *
   * await using proxy = DatagramFaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * proxy.setFaults({ duplication: 1 }, "downstream");
   * proxy.setFaults({}); // all off again
   * ```
   */
  setFaults(
    faults: DatagramFaults,
    stream: ToxicStream | "both" = "both",
  ): void {
    const action = "Cannot set the faults";
    const resolved = checkFaults(faults, action);
    if (stream === "both") {
      this.#faults = { upstream: resolved, downstream: resolved };
      return;
    }
    this.#faults = {
      ...this.#faults,
      [checkStream(stream, action)]: resolved,
    };
  }

  /**
   * Stops the proxy: closes its sockets, drops delayed datagrams and
   * resolves once everything it started has finished. Calling it again does
   * nothing.
   *
   * @returns Resolves once closed.
   *
   * @example Close explicitly
   * ```ts
   * import { DatagramFaultProxy } from "@seed/sockets/testing";
   *
   * const proxy = DatagramFaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * await proxy.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.close();
      for (const flow of this.#flows.values()) {
        flow.up.close();
        flow.down.close();
        flow.socket.close();
      }
    }
    await Promise.allSettled([...this.#loops, ...this.#sends.values()]);
  }

  /**
   * Closes the proxy, as {@linkcode DatagramFaultProxy.prototype.close}.
   *
   * @returns Resolves once closed.
   *
   * @example Dispose with `await using`
   * ```ts
   * import { DatagramFaultProxy } from "@seed/sockets/testing";
   *
   * {
   *   await using proxy = DatagramFaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 9 } });
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #receiveFromClients(): Promise<void> {
    // Bounded by the socket: close() ends it.
    while (!this.#closed) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await this.#socket.receive();
      } catch {
        if (this.#closed) return;
        // A stray ICMP error for an earlier send: UDP goes on.
        continue;
      }
      const [data, from] = received;
      const flow = this.#flow(from as Deno.NetAddr);
      flow?.up.push(data);
    }
  }

  /** The flow of `client`, opened on its first datagram; undefined past MAX_FLOWS. */
  #flow(client: Deno.NetAddr): Flow | undefined {
    const key = `${client.hostname}|${client.port}`;
    const known = this.#flows.get(key);
    if (known !== undefined || this.#flows.size >= MAX_FLOWS) return known;
    const index = this.#flows.size;
    const socket = Deno.listenDatagram({
      hostname: this.#upstream.hostname.includes(":") ? "::1" : "127.0.0.1",
      port: 0,
      transport: "udp",
    });
    const up = new FaultLane(
      new Random(deriveSeed(this.#seed, index, 0)),
      () => this.#faults.upstream,
      (datagram) => this.#send(socket, datagram, this.#upstream),
    );
    const down = new FaultLane(
      new Random(deriveSeed(this.#seed, index, 1)),
      () => this.#faults.downstream,
      (datagram) => this.#send(this.#socket, datagram, client),
    );
    const flow = { client, socket, up, down };
    this.#flows.set(key, flow);
    this.#loops.push(this.#receiveFromUpstream(flow));
    return flow;
  }

  async #receiveFromUpstream(flow: Flow): Promise<void> {
    // Bounded by the socket: close() ends it.
    while (!this.#closed) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await flow.socket.receive();
      } catch {
        if (this.#closed) return;
        continue;
      }
      flow.down.push(received[0]);
    }
  }

  /**
   * Sends in order: Deno runs concurrent sends on one socket as separate
   * operations that may complete out of order, which would reorder
   * datagrams the faults did not.
   */
  #send(
    socket: Deno.DatagramConn,
    datagram: Uint8Array,
    to: Deno.NetAddr,
  ): void {
    if (this.#closed) return;
    const previous = this.#sends.get(socket) ?? Promise.resolve();
    const sent = previous.then(() => socket.send(datagram, to)).then(
      () => {},
      () => {
        // UDP: a datagram that cannot go is lost, as on a network.
      },
    );
    this.#sends.set(socket, sent);
  }
}

function checkStream(stream: unknown, action: string): ToxicStream {
  if (stream !== "upstream" && stream !== "downstream") {
    throw new TypeError(
      `${action}: "stream" must be "upstream", "downstream" or "both", got ${
        describe(stream)
      }`,
    );
  }
  return stream;
}
