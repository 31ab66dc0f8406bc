/**
 * One connection through a `FaultProxy`: the client's socket, the socket to
 * the upstream server, and a chain of toxics for each direction.
 *
 * The sockets are `node:net` sockets, not `Deno.Conn`s: `reset_peer` must
 * send a real TCP RST, which only `socket.resetAndDestroy()` can, and since
 * a toxic added later applies to connections already open, every proxied
 * socket may come to need it.
 *
 * @module
 */

import type { Socket } from "node:net";
import type { Toxic, ToxicStream } from "./toxic.ts";
import { type Chunk, type LinkControl, ToxicRunner } from "./_toxic_runner.ts";
import { deriveSeed, Random } from "./_random.ts";

/** Bytes queued in one direction before its source is paused: bounds memory when toxics hold data back. */
const HIGH_WATER_MARK = 256 * 1024;

const END: Chunk = Object.freeze({ data: null, at: 0 });

/** A proxied connection; it owns both sockets. */
export class ProxyLink implements LinkControl {
  readonly #client: Socket;
  readonly #server: Socket;
  readonly #upstream: Pipe;
  readonly #downstream: Pipe;
  #closed = false;
  #ended = 0;

  /**
   * Joins `client` and `server` (both connected) with `toxics` already in
   * place; `index` and `seed` choose this connection's random sequence.
   */
  constructor(
    client: Socket,
    server: Socket,
    toxics: readonly Toxic[],
    seed: number,
    index: number,
  ) {
    this.#client = client;
    this.#server = server;
    this.#upstream = new Pipe(client, server, this, seed, index, 0);
    this.#downstream = new Pipe(server, client, this, seed, index, 1);
    for (const toxic of toxics) this.attach(toxic);
    client.on("error", (error: Error) => this.#fail(error));
    server.on("error", (error: Error) => this.#fail(error));
    this.#upstream.run();
    this.#downstream.run();
  }

  /** Whether the link has been cut, reset or has ended both ways. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Adds a toxic at the end of its direction's chain. */
  attach(toxic: Toxic): void {
    this.#pipe(toxic.stream).attach(toxic);
  }

  /** Removes a toxic; what it holds goes on. */
  detach(toxic: Toxic): void {
    this.#pipe(toxic.stream).detach(toxic.name);
  }

  close(): void {
    if (!this.#finish()) return;
    // FIN after what was already written, as toxiproxy's Close().
    this.#client.destroySoon();
    this.#server.destroySoon();
  }

  reset(): void {
    if (!this.#finish()) return;
    this.#client.resetAndDestroy();
    this.#server.resetAndDestroy();
  }

  /** Closes both sockets at once, and ends the toxics' waits and timers. */
  destroy(): void {
    this.#finish();
    this.#client.destroy();
    this.#server.destroy();
  }

  /** One direction delivered its end; once both have, the link is done. */
  ended(): void {
    if (++this.#ended === 2) this.close();
  }

  #pipe(stream: ToxicStream): Pipe {
    return stream === "upstream" ? this.#upstream : this.#downstream;
  }

  /** Marks the link closed; false if it already was. */
  #finish(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#upstream.dispose();
    this.#downstream.dispose();
    return true;
  }

  /** A peer failed: a reset passes on as a reset, anything else as a close. */
  #fail(error: Error): void {
    if ((error as { code?: string }).code === "ECONNRESET") this.reset();
    else this.close();
  }
}

/** One direction: reads `source`, runs each chunk through the toxics in order, writes `dest`. */
class Pipe {
  readonly #source: Socket;
  readonly #dest: Socket;
  readonly #link: ProxyLink;
  readonly #random: Random;
  readonly #runners: ToxicRunner[] = [];
  readonly #queue: Chunk[] = [];
  #queued = 0;
  #wake: PromiseWithResolvers<void> | undefined;

  constructor(
    source: Socket,
    dest: Socket,
    link: ProxyLink,
    seed: number,
    index: number,
    direction: number,
  ) {
    this.#source = source;
    this.#dest = dest;
    this.#link = link;
    this.#random = new Random(deriveSeed(seed, index, direction));
    source.on("data", (data: Uint8Array) => {
      this.#queue.push({ data, at: performance.now() });
      this.#queued += data.length;
      if (this.#queued >= HIGH_WATER_MARK) source.pause();
      this.#notify();
    });
    source.on("end", () => {
      this.#queue.push(END);
      this.#notify();
    });
  }

  attach(toxic: Toxic): void {
    const runner = new ToxicRunner(toxic, this.#random, this.#link);
    this.#runners.push(runner);
    runner.start();
  }

  detach(name: string): void {
    const index = this.#runners.findIndex((r) => r.toxic.name === name);
    if (index === -1) return;
    const [runner] = this.#runners.splice(index, 1);
    runner!.removedAt = index;
    runner!.stop();
  }

  dispose(): void {
    for (const runner of this.#runners) runner.dispose();
    this.#notify();
  }

  /** Moves chunks one at a time until the end of the stream or the link closes. */
  async run(): Promise<void> {
    // Bounded by the stream: each turn consumes one chunk, and the end or a
    // close stops it.
    while (!this.#link.closed) {
      const chunk = this.#queue.shift();
      if (chunk === undefined) {
        this.#wake = Promise.withResolvers<void>();
        await this.#wake.promise;
        continue;
      }
      if (chunk.data !== null) {
        this.#queued -= chunk.data.length;
        if (this.#queued < HIGH_WATER_MARK / 2 && this.#source.isPaused()) {
          this.#source.resume();
        }
      }
      await this.#through(chunk, 0);
      if (chunk.data === null) return;
    }
  }

  #notify(): void {
    this.#wake?.resolve();
    this.#wake = undefined;
  }

  #through(chunk: Chunk, index: number): Promise<void> {
    if (this.#link.closed) return Promise.resolve();
    const runner = this.#runners[index];
    if (runner === undefined) return this.#write(chunk);
    return runner.handle(
      chunk,
      (out) => this.#through(out, this.#after(runner)),
    );
  }

  /** The chain position after `runner`, also once it was removed. */
  #after(runner: ToxicRunner): number {
    const index = this.#runners.indexOf(runner);
    return index === -1 ? runner.removedAt : index + 1;
  }

  async #write(chunk: Chunk): Promise<void> {
    const dest = this.#dest;
    if (chunk.data === null) {
      // Half-close, so protocols that shut down their sending side still work.
      dest.end();
      this.#link.ended();
      return;
    }
    if (dest.write(chunk.data)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        dest.off("drain", done);
        dest.off("close", done);
        resolve();
      };
      dest.on("drain", done);
      dest.on("close", done);
    });
  }
}
