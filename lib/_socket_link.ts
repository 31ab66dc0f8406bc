/**
 * What a stream socket shares with its input and output streams.
 *
 * @module
 */

import type { SocketAddress, SocketConnection } from "./socket_connection.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import type { ReadStash } from "./_read_stash.ts";
import { formatEndpoint } from "./_format.ts";

/**
 * The socket's current connection, endpoint and state, in one object its
 * streams hold. The streams read and write `connection` directly, so a read
 * or write costs no extra promise, and `upgradeToSslAsync` swaps the TCP
 * connection for the TLS one under streams already handed out by assigning
 * this field. The endpoint in error messages is read from the connection when an
 * error happens, not kept twice.
 */
export class SocketLink {
  connection: SocketConnection | undefined = undefined;
  // The flags share one number: a server holds thousands of idle links,
  // and each boolean field would cost 8 bytes of every one.
  #flags = 0;

  /** Set by `close()`; never cleared. */
  get closed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }
  set closed(value: boolean) {
    this.#flags = withFlag(this.#flags, CLOSED, value);
  }

  /** Set while `connectAsync` runs. */
  get connecting(): boolean {
    return (this.#flags & CONNECTING) !== 0;
  }
  set connecting(value: boolean) {
    this.#flags = withFlag(this.#flags, CONNECTING, value);
  }

  /** Set while `upgradeToSslAsync` swaps the connection: reads and writes are refused. */
  get upgrading(): boolean {
    return (this.#flags & UPGRADING) !== 0;
  }
  set upgrading(value: boolean) {
    this.#flags = withFlag(this.#flags, UPGRADING, value);
  }

  /** Set while the output stream hands bytes to the connection. */
  get writing(): boolean {
    return (this.#flags & WRITING) !== 0;
  }
  set writing(value: boolean) {
    this.#flags = withFlag(this.#flags, WRITING, value);
  }

  /**
   * Set while a read is pending on the connection, whoever started it: Deno
   * queues overlapping reads into their buffers in an order nobody chose, so
   * a second read is refused or waits, and an upgrade must not swap the
   * connection under it.
   */
  get reading(): boolean {
    return (this.#flags & READING) !== 0;
  }
  set reading(value: boolean) {
    this.#flags = withFlag(this.#flags, READING, value);
  }

  /**
   * Set while a `None` read without a signal gathers its bytes over several
   * reads of the connection: between two of them `reading` is clear, and
   * another read started then would take the bytes that read waits for.
   */
  get gathering(): boolean {
    return (this.#flags & GATHERING) !== 0;
  }
  set gathering(value: boolean) {
    this.#flags = withFlag(this.#flags, GATHERING, value);
  }

  /**
   * Whether a read cannot go straight to the connection: one is pending,
   * an upgrade runs, a `None` read gathers its bytes, bytes wait in the
   * stash, or the readable stream's last read is not done with its bytes.
   * One test on the main path.
   */
  get readBlocked(): boolean {
    return (this.#flags & (READING | UPGRADING | GATHERING)) !== 0 ||
      this.stash !== undefined || this.pull !== undefined ||
      this.claim !== undefined;
  }

  /** Set when the idle time-out closed the socket: its errors say so. */
  get idleExpired(): boolean {
    return (this.#flags & IDLE_EXPIRED) !== 0;
  }
  set idleExpired(value: boolean) {
    this.#flags = withFlag(this.#flags, IDLE_EXPIRED, value);
  }

  /**
   * Bytes, an end or an error that a read brought in after its caller
   * stopped waiting; made on first need (see `_read_stash.ts`).
   */
  stash: ReadStash | undefined = undefined;
  /**
   * The readable stream's read in progress, when it has one, and whether its
   * consumer left (cancelled, or released its reader): then the next read
   * may take over its bytes instead of being refused.
   */
  pull: PendingPull | undefined = undefined;
  /**
   * Set while a read waits to take over a read whose caller left: any other
   * read is refused until it is done.
   */
  claim: object | undefined = undefined;
  /** When a byte was last read or written, on the idle clock (whole ms). */
  activeAt = 0;
  /** The idle time-out in ms; 0 for none. */
  idleTimeout = 0;
  /**
   * Rewrites a transport error before it is reported; set only on TLS
   * clients, whose server may refuse the client certificate after the
   * handshake.
   */
  translate: ((error: unknown) => unknown) | undefined = undefined;

  /**
   * The remote endpoint, as a copy for an error to keep: errors must not
   * hold the connection.
   */
  endpoint(): SocketAddress {
    const remote = this.connection?.remoteAddr;
    return { hostname: remote?.hostname ?? "", port: remote?.port ?? 0 };
  }
}

// A module function, not a private method: private methods add a brand
// slot to every instance.
function withFlag(flags: number, flag: number, value: boolean): number {
  return value ? flags | flag : flags & ~flag;
}

const CLOSED = 1;
const CONNECTING = 2;
const UPGRADING = 4;
const WRITING = 8;
const READING = 16;
const IDLE_EXPIRED = 32;
const GATHERING = 64;

/** A read of the readable stream in progress; see {@linkcode SocketLink.pull}. */
export interface PendingPull {
  /** Settles once the read's bytes were delivered or stashed. */
  readonly done: Promise<unknown>;
  /** Whether nobody waits for the bytes any more. */
  abandoned(): boolean;
}

/**
 * The error of an operation on a closed socket: `ConnectionTimedOut` when
 * the idle time-out closed it, `OperationAborted` when the program did.
 */
export function closedError(
  link: SocketLink,
  action: string,
  cause?: unknown,
): SocketError {
  const endpoint = link.endpoint();
  const where = `${action} ${formatEndpoint(endpoint)}`;
  if (link.idleExpired) {
    return new SocketError(
      `${where}: the socket was closed after ${link.idleTimeout} ms without traffic; raise control.idleTimeout or send data more often`,
      {
        status: SocketErrorStatus.ConnectionTimedOut,
        endpoint,
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }
  return new SocketError(`${where}: the socket was closed`, {
    status: SocketErrorStatus.OperationAborted,
    endpoint,
    ...(cause === undefined ? {} : { cause }),
  });
}
