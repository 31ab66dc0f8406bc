/**
 * An in-memory byte connection: two bounded pipes, one each way, behind the
 * {@linkcode SocketConnection} interface that stream sockets adopt.
 *
 * @module
 */

import type { SocketAddress, SocketConnection } from "./socket_connection.ts";

interface PendingRead {
  target: Uint8Array;
  resolve(n: number | null): void;
  reject(error: unknown): void;
}

interface PendingWrite {
  data: Uint8Array;
  resolve(n: number): void;
  reject(error: unknown): void;
}

/**
 * One direction: holds at most `capacity` bytes. With capacity 0 a write
 * waits until a read takes its bytes (a rendezvous), so code that writes
 * everything before reading anything deadlocks here as it can over TCP with
 * full buffers. One read and one write may be pending at a time, as on a
 * socket; more are refused with `Busy`.
 */
export class MemoryPipe {
  readonly #capacity: number;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** The writer shut down its side: reads get the rest, then the end. */
  #ended = false;
  /** The reader closed: writes fail as they do towards a closed socket. */
  #readerGone = false;
  #error: unknown;
  #reader: PendingRead | undefined;
  #writer: PendingWrite | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  read(target: Uint8Array): Promise<number | null> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#readerGone) return Promise.reject(closed());
    if (this.#reader !== undefined) return Promise.reject(busy("read"));
    if (target.length === 0) return Promise.resolve(0);
    if (this.#buffered > 0) {
      const n = this.#take(target);
      this.#admitWriter();
      return Promise.resolve(n);
    }
    const writer = this.#writer;
    if (writer !== undefined) {
      this.#writer = undefined;
      const n = Math.min(target.length, writer.data.length);
      target.set(writer.data.subarray(0, n));
      writer.resolve(n);
      return Promise.resolve(n);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#reader = { target, resolve, reject };
    });
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.reject(closed());
    if (this.#readerGone) {
      return Promise.reject(
        new Deno.errors.BrokenPipe("Broken pipe: the other end is closed"),
      );
    }
    if (this.#writer !== undefined) return Promise.reject(busy("write"));
    if (data.length === 0) return Promise.resolve(0);
    const reader = this.#reader;
    if (reader !== undefined) {
      this.#reader = undefined;
      const n = Math.min(reader.target.length, data.length);
      reader.target.set(data.subarray(0, n));
      reader.resolve(n);
      return Promise.resolve(n);
    }
    const space = this.#capacity - this.#buffered;
    if (space > 0) return Promise.resolve(this.#keep(data, space));
    return new Promise((resolve, reject) => {
      this.#writer = { data, resolve, reject };
    });
  }

  /** The writer shuts down its side (`closeWrite()`, or `close()`). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#writer?.reject(closed());
    this.#writer = undefined;
    if (this.#buffered === 0) {
      this.#reader?.resolve(null);
      this.#reader = undefined;
    }
  }

  /** The reader closed its end: what is buffered is dropped. */
  closeReader(): void {
    this.#readerGone = true;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#reader?.reject(closed());
    this.#reader = undefined;
    this.#writer?.reject(
      new Deno.errors.BrokenPipe("Broken pipe: the other end is closed"),
    );
    this.#writer = undefined;
  }

  /** Fails both sides with `error`, now and from now on. */
  fail(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#reader?.reject(error);
    this.#reader = undefined;
    this.#writer?.reject(error);
    this.#writer = undefined;
  }

  /** Copies buffered bytes into `target`. */
  #take(target: Uint8Array): number {
    let n = 0;
    // Bounded by the chunks held: each turn empties one or fills `target`.
    while (n < target.length && this.#chunks.length > 0) {
      const head = this.#chunks[0]!;
      const count = Math.min(head.length, target.length - n);
      target.set(count === head.length ? head : head.subarray(0, count), n);
      n += count;
      if (count === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(count);
    }
    this.#buffered -= n;
    return n;
  }

  /** Copies up to `space` bytes of `data` into the buffer. */
  #keep(data: Uint8Array, space: number): number {
    const n = Math.min(space, data.length);
    // A copy: the writer may reuse its buffer as soon as the write resolves.
    this.#chunks.push(data.slice(0, n));
    this.#buffered += n;
    return n;
  }

  /** A read made room: the waiting write takes what fits now. */
  #admitWriter(): void {
    const writer = this.#writer;
    const space = this.#capacity - this.#buffered;
    if (writer === undefined || space <= 0) return;
    this.#writer = undefined;
    writer.resolve(this.#keep(writer.data, space));
  }
}

/** One end of an in-memory connection. */
export class MemoryConnection implements SocketConnection {
  readonly localAddr: SocketAddress;
  readonly remoteAddr: SocketAddress;
  readonly #incoming: MemoryPipe;
  readonly #outgoing: MemoryPipe;
  #closed = false;

  constructor(
    incoming: MemoryPipe,
    outgoing: MemoryPipe,
    localAddr: SocketAddress,
    remoteAddr: SocketAddress,
  ) {
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.localAddr = localAddr;
    this.remoteAddr = remoteAddr;
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#incoming.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#outgoing.write(p);
  }

  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(closed());
    this.#outgoing.end();
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outgoing.end();
    this.#incoming.closeReader();
  }
}

function closed(): Error {
  return new Deno.errors.BadResource("The connection was closed");
}

function busy(operation: string): Error {
  return new Deno.errors.Busy(
    `Cannot ${operation}: another ${operation} is already pending on this end`,
  );
}
