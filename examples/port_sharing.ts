// deno-lint-ignore-file no-console
/**
 * Port sharing for DatagramSocket: two sockets with `control.multicastOnly`
 * bound to the same port, both joined to one multicast group, both receive
 * one datagram sent to the group; a third socket without the option fails
 * to bind that port with `AddressAlreadyInUse`.
 *
 * Multicast datagrams must never leave this machine, so the steps only run
 * where loopback is the only network interface: a private network namespace.
 * Run from anywhere (as root, with `unshare` and `ip`), and the script
 * re-runs itself inside a namespace of its own:
 *   deno run --allow-net --unstable-net --allow-run --allow-sys=networkInterfaces --allow-read examples/port_sharing.ts [--group 239.255.0.1] [--port 0] [--interface 127.0.0.1]
 * which amounts to:
 *   unshare -n sh -c 'ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec deno run --allow-net --unstable-net --allow-sys=networkInterfaces examples/port_sharing.ts'
 * Without root or `unshare`, it says why it skipped the steps. `--help`
 * prints the options.
 *
 * @module
 */
import { formatUsage, parseCommandLine, parsePortFlag } from "./_cli.ts";
import { describeError } from "./_echo_cli.ts";
import {
  DatagramSocket,
  type DatagramSocketMessageReceivedEvent,
  SocketError,
  SocketErrorStatus,
  socketErrorStatusName,
} from "../mod.ts";

/** Where to meet: the group, the shared port and the interface to join on. */
export interface PortSharingOptions {
  /** The IPv4 multicast group. @default {"239.255.0.1"} */
  group?: string;
  /** The shared port; 0 picks a free one. @default {0} */
  port?: number;
  /** The IPv4 address of the interface to join on. @default {"127.0.0.1"} */
  networkInterface?: string;
}

/** What the steps showed. */
export interface PortSharingResult {
  /** The shared port. */
  port: number;
  /** What the two sharing sockets received. */
  received: [string, string];
  /** The status the third socket's bind failed with. */
  thirdSocketStatus: SocketErrorStatus | undefined;
}

/** What {@linkcode runInPrivateNamespace} did. */
export interface NamespaceRun {
  /** Why the steps did not run, if they did not. */
  skipped?: string;
  /** The exit code of the namespace run. */
  code?: number;
}

const RECEIVE_TIMEOUT = 5_000;

/**
 * Runs the port-sharing steps here. Only call it where multicast cannot
 * leave the machine (see {@linkcode runInPrivateNamespace}).
 */
export async function runPortSharing(
  options: PortSharingOptions = {},
  log: (line: string) => void = console.log,
): Promise<PortSharingResult> {
  const group = options.group ?? "239.255.0.1";
  const networkInterface = options.networkInterface ?? "127.0.0.1";
  await using first = new DatagramSocket();
  first.control.multicastOnly = true;
  await first.bindEndpointAsync("0.0.0.0", options.port ?? 0);
  const port = first.information.localPort;
  log(`socket A (multicastOnly) is bound to port number ${port}`);
  await using second = new DatagramSocket();
  second.control.multicastOnly = true;
  await second.bindEndpointAsync("0.0.0.0", port);
  log(`socket B (multicastOnly) is bound to port number ${port} too`);

  let thirdSocketStatus: SocketErrorStatus | undefined;
  {
    await using third = new DatagramSocket();
    try {
      await third.bindEndpointAsync("0.0.0.0", port);
      log(`socket C (no multicastOnly) bound port ${port}: unexpected`);
    } catch (error) {
      thirdSocketStatus = SocketError.getStatus(error);
      log(
        `socket C (no multicastOnly) cannot bind port ${port}: ${
          socketErrorStatusName(thirdSocketStatus)
        }`,
      );
    }
  }

  await first.joinMulticastGroup(group, { networkInterface });
  await second.joinMulticastGroup(group, { networkInterface });
  log(`sockets A and B joined group ${group} on ${networkInterface}`);

  const firstMessage = nextMessage(first);
  const secondMessage = nextMessage(second);
  await using sender = new DatagramSocket();
  // Sending from the interface's address names a real source address.
  await sender.bindEndpointAsync(networkInterface, 0);
  const output = await sender.getOutputStreamAsync(group, port);
  const text = "Hello, group!";
  await output.writeAsync(new TextEncoder().encode(text));
  log(`sent "${text}" to ${group}:${port}`);

  const received: [string, string] = ["", ""];
  for (const [index, message] of [firstMessage, secondMessage].entries()) {
    const event = await message;
    const data = new TextDecoder().decode(event.data);
    received[index] = data;
    log(
      `socket ${
        index === 0 ? "A" : "B"
      } received "${data}" from ${event.remoteAddress.displayName}:${event.remotePort}`,
    );
  }
  return { port, received, thirdSocketStatus };
}

/** The next datagram on `socket`, or a ConnectionTimedOut error after a few seconds. */
function nextMessage(
  socket: DatagramSocket,
): Promise<DatagramSocketMessageReceivedEvent> {
  const { promise, resolve, reject } = Promise.withResolvers<
    DatagramSocketMessageReceivedEvent
  >();
  const timer = setTimeout(() => {
    reject(
      new SocketError("No multicast datagram arrived: connection timed out", {
        status: SocketErrorStatus.ConnectionTimedOut,
      }),
    );
  }, RECEIVE_TIMEOUT);
  socket.addEventListener("messagereceived", (event) => {
    clearTimeout(timer);
    resolve(event);
  }, { once: true });
  return promise;
}

/** Why multicast could leave this machine here, or `undefined` if it cannot. */
export function externalInterfaces(): string | undefined {
  const external = Deno.networkInterfaces().filter(
    (item) =>
      item.name !== "lo" && !item.address.startsWith("127.") &&
      item.address !== "::1",
  );
  if (external.length === 0) return undefined;
  const names = [...new Set(external.map((item) => item.name))].join(", ");
  return `multicast could leave this machine through ${names}`;
}

/**
 * Runs this script inside a private network namespace of its own, where
 * only loopback exists and the multicast route points at it, and passes its
 * output to `log` line by line. Needs root, `unshare` and `ip`; without them
 * it logs why and resolves with `skipped`.
 */
export async function runInPrivateNamespace(
  log: (line: string) => void = console.log,
  options: PortSharingOptions = {},
): Promise<NamespaceRun> {
  const setup = "ip link set lo up && ip route add 224.0.0.0/4 dev lo";
  let probe: Deno.CommandOutput;
  try {
    probe = await new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", setup],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (error) {
    const skipped = error instanceof Deno.errors.NotCapable
      ? `skipped the multicast steps: they need --allow-run to start unshare for a private network namespace: ${COMMAND}`
      : `skipped the multicast steps: cannot run unshare (${
        describeError(error)
      }); they need a private network namespace (root, util-linux unshare, iproute2 ip)`;
    log(skipped);
    return { skipped };
  }
  if (!probe.success) {
    const why = new TextDecoder().decode(probe.stderr).trim();
    const skipped =
      `skipped the multicast steps: cannot create a private network namespace (${why}); run as root with unshare and ip`;
    log(skipped);
    return { skipped };
  }
  const script = new URL(import.meta.url).pathname;
  const args = [
    "--group",
    options.group ?? "239.255.0.1",
    "--port",
    String(options.port ?? 0),
    "--interface",
    options.networkInterface ?? "127.0.0.1",
  ];
  const quoted = [
    Deno.execPath(),
    "run",
    "--no-config",
    "--allow-net",
    "--unstable-net",
    "--allow-sys=networkInterfaces",
    script,
    ...args,
  ].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  const output = await new Deno.Command("unshare", {
    args: ["-n", "sh", "-c", `${setup} && exec ${quoted}`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  for (const line of text.split("\n")) if (line !== "") log(line);
  return { code: output.code };
}

/** The whole command, permissions included. */
const COMMAND =
  "deno run --allow-net --unstable-net --allow-run --allow-sys=networkInterfaces --allow-read examples/port_sharing.ts";

const USAGE = formatUsage({
  summary: "Port sharing for DatagramSocket: two sockets with " +
    "control.multicastOnly share one port and both receive a multicast " +
    "datagram; a third socket without it cannot bind that port. Multicast " +
    "must not leave the machine, so unless loopback is the only interface " +
    "the steps run in a private network namespace (root, unshare, ip).",
  commands: [
    `${COMMAND} [--group ADDRESS] [--port N] [--interface ADDRESS]`,
  ],
  options: [
    ["--group ADDRESS", "the IPv4 multicast group (default: 239.255.0.1)"],
    ["--port N", "the shared port, 0 for any free one (default: 0)"],
    [
      "--interface ADDRESS",
      "the IPv4 address of the interface to join on (default: 127.0.0.1)",
    ],
  ],
});

async function main(): Promise<void> {
  const values = parseCommandLine({
    group: { type: "string", default: "239.255.0.1" },
    port: { type: "string", default: "0" },
    interface: { type: "string", default: "127.0.0.1" },
  }, USAGE);
  try {
    const options: PortSharingOptions = {
      group: values.group,
      port: parsePortFlag(values.port),
      networkInterface: values.interface,
    };
    if (externalInterfaces() === undefined) {
      const result = await runPortSharing(options);
      const ok = result.received.every((text) => text === "Hello, group!") &&
        result.thirdSocketStatus === SocketErrorStatus.AddressAlreadyInUse;
      if (!ok) Deno.exit(1);
      return;
    }
    console.log(
      `${externalInterfaces()}; running the steps in a private network namespace`,
    );
    const run = await runInPrivateNamespace(console.log, options);
    if (run.code !== undefined && run.code !== 0) Deno.exit(run.code);
  } catch (error) {
    console.error(describeError(error));
    Deno.exit(1);
  }
}

if (import.meta.main) {
  // Bad flags (unknown option, missing value) are usage errors, not crashes.
  await main().catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  });
}
