/**
 * Private helper of `DatagramSocket.joinMulticastGroup`: which groups and
 * interfaces make sense, and the join itself with its errors.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

import { type HostName, HostNameType } from "./host_name.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import type { SocketAddress } from "./socket_connection.ts";
import { describe, formatEndpoint } from "./_format.ts";
import { toHostName } from "./_datagram.ts";

const ACTION = "Cannot join a multicast group";

/**
 * The group `host` names.
 *
 * @throws {TypeError} If `host` is not an IP address.
 */
export function multicastGroup(host: HostName | string): HostName {
  const group = toHostName(host, "host", ACTION);
  if (group.type === HostNameType.DomainName) {
    throw new TypeError(
      `${ACTION}: "host" must be an IPv4 or IPv6 address, got ${
        describe(group.rawName)
      }`,
    );
  }
  return group;
}

/**
 * Joins `group` on `conn`, bound to `endpoint`.
 *
 * @param networkInterface An IPv4 address for IPv4 groups, an interface
 * index for IPv6 groups; the system picks when undefined.
 * @throws {TypeError} If `networkInterface` does not fit the group's family.
 * @throws {SocketError} If the system refuses.
 */
export async function joinGroup(
  conn: Deno.DatagramConn,
  group: HostName,
  networkInterface: string | number | undefined,
  endpoint: SocketAddress,
): Promise<void> {
  const iface = networkInterface;
  const v4 = group.type === HostNameType.Ipv4;
  if (iface !== undefined && typeof iface !== (v4 ? "string" : "number")) {
    throw new TypeError(
      `${ACTION}: "networkInterface" must be ${
        v4
          ? "an IPv4 address string for an IPv4 group"
          : "an interface index for an IPv6 group"
      }, got ${describe(iface)}`,
    );
  }
  const action = `Cannot join multicast group ${group.canonicalName} on`;
  try {
    if (v4) {
      await conn.joinMulticastV4(
        group.canonicalName,
        (iface as string | undefined) ?? "0.0.0.0",
      );
    } else {
      await conn.joinMulticastV6(
        group.canonicalName,
        (iface as number | undefined) ?? 0,
      );
    }
  } catch (error) {
    // Deno throws TypeError for EINVAL: here a system refusal, not our caller's types.
    if (error instanceof TypeError) {
      throw new SocketError(
        `${action} ${
          formatEndpoint(endpoint)
        }: invalid argument; expected a multicast address (224.0.0.0/4 or ff00::/8) and a local interface`,
        { status: SocketErrorStatus.Unknown, endpoint, cause: error },
      );
    }
    throw SocketError.from(error, { action, endpoint });
  }
}
