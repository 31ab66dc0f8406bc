/**
 * A local and a remote endpoint (UWP's `Windows.Networking.EndpointPair`),
 * for connecting a stream socket from a chosen local address or port.
 *
 * @module
 */

import { HostName, HostNameType } from "./host_name.ts";
import { parseServiceName } from "./_service_name.ts";
import { describe } from "./_format.ts";

/**
 * Where a connection comes from and where it goes (UWP's `EndpointPair`):
 * give it to {@linkcode StreamSocket.connectAsync} to bind the client's
 * local address (`localHostName`, an IP address of this machine), its local
 * port (`localServiceName`), or both, before connecting.
 *
 * An empty local part means "any": `localHostName` `undefined` lets the
 * system pick the address, `localServiceName` `""` the port. The services
 * are checked at construction (port numbers or well-known names such as
 * `"http"`); the remote port must not be 0.
 *
 * @example Connect from 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback)
 * ```ts
 * import assert from "node:assert/strict";
 * import { EndpointPair, HostName, StreamSocket, StreamSocketListener } from "@seed/sockets";
 *
 * await using listener = new StreamSocketListener();
 * const seen = Promise.withResolvers<string | undefined>();
 * listener.addEventListener("connectionreceived", ({ socket }) => {
 *   seen.resolve(socket.information.remoteAddress?.canonicalName);
 *   socket.close();
 * });
 * await listener.bindEndpointAsync("127.0.0.1", 0);
 * const pair = new EndpointPair(
 *   new HostName("127.0.0.1"), "",
 *   new HostName("127.0.0.1"), String(listener.information.localPort),
 * );
 * await using socket = await StreamSocket.connectAsync(pair);
 * assert.equal(socket.information.localAddress?.canonicalName, "127.0.0.1");
 * assert.equal(await seen.promise, "127.0.0.1");
 * ```
 */
export class EndpointPair {
  #localHostName: HostName | undefined;
  #localServiceName: string;
  #remoteHostName: HostName;
  #remoteServiceName: string;

  /**
   * Makes an endpoint pair.
   *
   * @param localHostName The local IP address to bind, or `undefined`/`null` for any.
   * @param localServiceName The local port (a number, digits, or a well-known name), or `""` for any.
   * @param remoteHostName Where to connect: a `HostName`, DNS name or IP address.
   * @param remoteServiceName The remote port (a number, digits, or a well-known name).
   * @throws {TypeError} If a host or service is invalid, or the local host
   * is a DNS name (a socket binds addresses, not names).
   * @throws {RangeError} If the remote port is 0.
   */
  constructor(
    localHostName: HostName | string | null | undefined,
    localServiceName: string | number,
    remoteHostName: HostName | string,
    remoteServiceName: string | number,
  ) {
    this.#localHostName = localHostName === null || localHostName === undefined
      ? undefined
      : localAddress(localHostName);
    parseServiceName(localServiceName, "localServiceName");
    this.#localServiceName = String(localServiceName);
    this.#remoteHostName = remoteHostName instanceof HostName
      ? remoteHostName
      : new HostName(remoteHostName);
    if (parseServiceName(remoteServiceName, "remoteServiceName") === 0) {
      throw new RangeError(
        `Cannot make the endpoint pair: "remoteServiceName" must be the port the server listens on, got ${
          describe(remoteServiceName)
        }`,
      );
    }
    this.#remoteServiceName = String(remoteServiceName);
  }

  /** The local IP address to bind; `undefined` for any. */
  get localHostName(): HostName | undefined {
    return this.#localHostName;
  }

  /** The local port to bind, as given; `""` for any. */
  get localServiceName(): string {
    return this.#localServiceName;
  }

  /** The host to connect to. */
  get remoteHostName(): HostName {
    return this.#remoteHostName;
  }

  /** The remote port, as given. */
  get remoteServiceName(): string {
    return this.#remoteServiceName;
  }

  /** The local port as a number (0 for any). */
  get localPort(): number {
    return parseServiceName(this.#localServiceName, "localServiceName");
  }

  /** The remote port as a number. */
  get remotePort(): number {
    return parseServiceName(this.#remoteServiceName, "remoteServiceName");
  }

  /**
   * `local -> remote`, for messages and logs.
   *
   * @returns The description.
   */
  toString(): string {
    const local = `${this.#localHostName?.canonicalName ?? "*"}:${
      this.#localServiceName === "" ? "*" : this.#localServiceName
    }`;
    return `${local} -> ${this.#remoteHostName.canonicalName}:${this.#remoteServiceName}`;
  }
}

function localAddress(host: HostName | string): HostName {
  const name = host instanceof HostName ? host : new HostName(host);
  if (name.type !== HostNameType.Ipv4 && name.type !== HostNameType.Ipv6) {
    throw new TypeError(
      `Cannot make the endpoint pair: "localHostName" must be an IP address of this machine, got ${
        describe(name.rawName)
      }`,
    );
  }
  return name;
}
