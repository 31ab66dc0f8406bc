/** The duplex node:tls servers run over: reads, backpressure, half-open and the close, over a scripted connection. */
import assert from "node:assert/strict";
import {
  ConnectionDuplex,
  type DuplexConnection,
  LINGER_LIMIT_MS,
} from "../lib/_connection_duplex.ts";
import { Random } from "../lib/_random.ts";
import { within } from "./_helpers.ts";

/** What a scripted read brings: bytes, or the end of the stream. */
type Incoming = Uint8Array | null;

/**
 * A connection whose reads take what the test queued (or, `endless`, a
 * timer turn and then `endless` bytes each), recording what the duplex did.
 */
class ScriptedConnection implements DuplexConnection {
  readonly endless: number;
  readonly #incoming: Incoming[] = [];
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Writes hang until the connection closes. */
  hangWrites = false;
  #hung: (() => void)[] = [];
  reads = 0;
  readsInFlight = 0;
  maxReadsInFlight = 0;
  readonly buffers = new Set<ArrayBufferLike>();
  readonly log: string[] = [];
  readonly written: number[] = [];
  closed = false;

  constructor(endless = 0) {
    this.endless = endless;
  }

  /** Queues what the next reads return. */
  deliver(...incoming: Incoming[]): void {
    this.#incoming.push(...incoming);
    this.#wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    this.buffers.add(p.buffer);
    this.maxReadsInFlight = Math.max(
      this.maxReadsInFlight,
      ++this.readsInFlight,
    );
    try {
      if (this.endless > 0) {
        // A timer turn, so that an unbounded read loop cannot starve timers.
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, 0);
        });
        this.#check();
        p.fill(7, 0, this.endless);
        return this.endless;
      }
      while (this.#incoming.length === 0) {
        this.#check();
        await new Promise<void>((resolve) => this.#wake = resolve);
      }
      this.#check();
      const next = this.#incoming.shift()!;
      if (next === null) return null;
      p.set(next);
      return next.length;
    } finally {
      this.readsInFlight--;
    }
  }

  async write(p: Uint8Array): Promise<number> {
    this.#check();
    if (this.hangWrites) {
      await new Promise<void>((resolve) => this.#hung.push(resolve));
      this.#check();
    }
    this.log.push(`write ${p.length}`);
    this.written.push(...p);
    return p.length;
  }

  closeWrite(): Promise<void> {
    this.log.push("closeWrite");
    return Promise.resolve();
  }

  close(): void {
    this.#check();
    this.log.push("close");
    this.closed = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    for (const resume of this.#hung) resume();
  }

  #check(): void {
    if (this.closed) {
      throw new Deno.errors.BadResource("The connection was closed");
    }
  }
}

/** Resolves once `duplex` emitted `event`, within a bounded deadline. */
function once(
  duplex: ConnectionDuplex,
  event: string,
  what: string,
): Promise<unknown> {
  return within(
    new Promise((resolve) => duplex.once(event, resolve)),
    5_000,
    what,
  );
}

/** Waits `turns` timer turns: what is in flight settles meanwhile. */
async function turns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Destroys `duplex` and checks that it closed `conn` once it lingered. */
async function destroyAndCheckClosed(
  duplex: ConnectionDuplex,
  conn: ScriptedConnection,
): Promise<void> {
  const closed = once(duplex, "close", "the close");
  duplex.destroy();
  await closed;
  await turns(1);
  assert.ok(conn.closed, "the connection closed");
}

Deno.test("ConnectionDuplex reads into one buffer and pushes a copy of what each read brought", async () => {
  const conn = new ScriptedConnection();
  const duplex = new ConnectionDuplex(conn);
  const chunks: Uint8Array[] = [];
  duplex.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  conn.deliver(new Uint8Array([1, 2, 3]), new Uint8Array([4]), null);
  await once(duplex, "end", "the end");
  assert.deepEqual(chunks.map((c) => [...c]), [[1, 2, 3], [4]]);
  // A copy holds only its bytes, not the 64 KiB read buffer.
  assert.deepEqual(chunks.map((c) => c.buffer.byteLength), [3, 1]);
  assert.equal(conn.buffers.size, 1);
  assert.equal(duplex.received, 4);
  await destroyAndCheckClosed(duplex, conn);
});

Deno.test("ConnectionDuplex is half-open: after the peer's end it still writes, and end() only shuts down the sending side", async () => {
  const conn = new ScriptedConnection();
  const duplex = new ConnectionDuplex(conn);
  duplex.resume();
  conn.deliver(null);
  await once(duplex, "end", "the end");
  assert.equal(conn.closed, false);
  // Both sides done: the duplex destroys itself, which closes the connection.
  const closed = once(duplex, "close", "the close");
  duplex.end(new Uint8Array([9, 9]));
  await closed;
  await turns(1);
  assert.deepEqual(conn.log, ["write 2", "closeWrite", "close"]);
});

Deno.test("ConnectionDuplex paused stops reading once push() says its buffer is full, and reads again when resumed", async () => {
  const conn = new ScriptedConnection(1024);
  const duplex = new ConnectionDuplex(conn);
  let got = 0;
  duplex.on("data", (chunk: Uint8Array) => got += chunk.length);
  while (got < 8 * 1024) await turns(1);
  duplex.pause();
  // Enough turns to fill the buffer many times over, were it not bounded.
  await turns(4 * duplex.readableHighWaterMark / 1024);
  const reads = conn.reads;
  await turns(20);
  assert.equal(conn.reads, reads, "reads while paused");
  assert.ok(duplex.readableLength >= duplex.readableHighWaterMark);
  assert.ok(duplex.readableLength < duplex.readableHighWaterMark + 1024);
  duplex.resume();
  await within(
    (async () => {
      while (conn.reads < reads + 20) await turns(1);
    })(),
    5_000,
    "the reads after resume()",
  );
  assert.equal(conn.maxReadsInFlight, 1);
  await destroyAndCheckClosed(duplex, conn);
});

Deno.test("ConnectionDuplex delivers every byte and the end whatever pause(), resume() and read(0) calls come while reads are in flight", async () => {
  for (let seed = 1; seed <= 10; seed++) {
    const random = new Random(seed);
    const conn = new ScriptedConnection();
    const duplex = new ConnectionDuplex(conn);
    const total = 100;
    const got: number[] = [];
    duplex.on("data", (chunk: Uint8Array) => got.push(...chunk));
    const ended = once(duplex, "end", `the end (seed ${seed})`);
    for (let i = 0; i < total; i++) {
      // Every call the consumer side may make, between deliveries that
      // arrive at once or a turn later.
      const roll = random.next();
      if (roll < 0.3) duplex.pause();
      else if (roll < 0.6) duplex.resume();
      else if (roll < 0.8) duplex.read(0);
      if (random.next() < 0.5) await turns(1);
      conn.deliver(new Uint8Array([i & 0xff]));
    }
    conn.deliver(null);
    duplex.resume();
    await ended;
    assert.deepEqual(got, Array.from({ length: total }, (_, i) => i & 0xff));
    assert.equal(conn.maxReadsInFlight, 1, `seed ${seed}`);
    await destroyAndCheckClosed(duplex, conn);
  }
});

Deno.test("ConnectionDuplex destroyed takes writes for one more turn, then closes the connection after them", async () => {
  const conn = new ScriptedConnection();
  const duplex = new ConnectionDuplex(conn);
  duplex.on("error", () => {});
  duplex.destroy();
  // node:tls's last alert comes just after it destroyed its stream.
  duplex.write(new Uint8Array(7));
  assert.equal(conn.closed, false);
  await once(duplex, "close", "the close");
  await turns(2);
  assert.deepEqual(conn.log, ["write 7", "close"]);
});

Deno.test("ConnectionDuplex destroyed closes the connection after LINGER_LIMIT_MS when the write it took while lingering never goes out", async () => {
  const conn = new ScriptedConnection();
  const duplex = new ConnectionDuplex(conn);
  duplex.on("error", () => {});
  duplex.destroy();
  // The alert meets a peer that stopped reading: it waits for room for good.
  conn.hangWrites = true;
  duplex.write(new Uint8Array(7));
  await once(duplex, "close", "the close");
  await turns(2);
  // Not at once: the write gets its chance first, as an alert that can go
  // out does (the limit, not how long it took, is the point here).
  assert.equal(conn.closed, false, "closed before the write had its chance");
  // Bounded: looks 20 ms apart, for the limit and 4 s more.
  for (let i = 0; i < (LINGER_LIMIT_MS + 4_000) / 20 && !conn.closed; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(conn.closed, "the connection closed");
});

Deno.test("ConnectionDuplex.endThenDestroy() sends what was written, ends our side, then closes", async () => {
  const conn = new ScriptedConnection();
  const duplex = new ConnectionDuplex(conn);
  duplex.on("error", () => {});
  duplex.write(new Uint8Array(7));
  duplex.endThenDestroy();
  await once(duplex, "close", "the close");
  await turns(2);
  assert.deepEqual(conn.log, ["write 7", "closeWrite", "close"]);
});

Deno.test("ConnectionDuplex.endThenDestroy() closes after LINGER_LIMIT_MS when what was written never goes out", async () => {
  const conn = new ScriptedConnection();
  conn.hangWrites = true;
  const duplex = new ConnectionDuplex(conn);
  duplex.on("error", () => {});
  duplex.write(new Uint8Array(7));
  duplex.endThenDestroy();
  await turns(2);
  assert.equal(conn.closed, false, "closed before the write had its chance");
  // Bounded: looks 20 ms apart, for the limit and 4 s more.
  for (let i = 0; i < (LINGER_LIMIT_MS + 4_000) / 20 && !conn.closed; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(conn.closed, "the connection closed");
});

Deno.test("ConnectionDuplex destroyed while a write is still going out closes the connection at once", async () => {
  const conn = new ScriptedConnection();
  conn.hangWrites = true;
  const duplex = new ConnectionDuplex(conn);
  const failed = Promise.withResolvers<unknown>();
  duplex.on("error", () => {});
  // A peer that stopped reading: the write never ends by itself.
  duplex.write(new Uint8Array(5), (error: unknown) => failed.resolve(error));
  await turns(1);
  duplex.destroy();
  assert.ok(conn.closed);
  assert.deepEqual(conn.log, ["close"]);
  assert.ok(await within(failed.promise, 5_000, "the write's failure"));
});

Deno.test("ConnectionDuplex fails with the error of a failed read", async () => {
  const conn = new ScriptedConnection();
  conn.read = () => Promise.reject(new Deno.errors.ConnectionReset("reset"));
  const duplex = new ConnectionDuplex(conn);
  const failed = once(duplex, "error", "the error");
  const closed = once(duplex, "close", "the close");
  duplex.resume();
  assert.ok((await failed) instanceof Deno.errors.ConnectionReset);
  await closed;
  await turns(1);
  assert.ok(conn.closed);
});
