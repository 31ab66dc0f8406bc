import assert from "node:assert/strict";
import {
  builtInService,
  parseServiceName,
  WELL_KNOWN_SERVICES,
} from "../lib/_service_name.ts";
import {
  parseServicesFile,
  SERVICES_PATH,
  systemServices,
} from "../lib/_services_database.ts";
import { runDeno } from "./_helpers.ts";

/** Asserts that parsing `value` throws `type` with a message matching `pattern`. */
function assertRejected(
  value: unknown,
  type: typeof TypeError | typeof RangeError,
  pattern: RegExp,
  argumentName?: string,
): void {
  assert.throws(
    () =>
      argumentName === undefined
        ? parseServiceName(value)
        : parseServiceName(value, argumentName),
    (error: unknown) => {
      assert.ok(error instanceof type, `${String(value)}: wrong error type`);
      assert.equal(error.constructor, type, `${String(value)}: wrong class`);
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, /\.$/, "trailing period");
      return true;
    },
  );
}

Deno.test("parseServiceName() accepts integer port numbers 0-65535", () => {
  for (const port of [0, 1, 7, 80, 443, 1024, 8080, 49152, 65534, 65535]) {
    assert.equal(parseServiceName(port), port);
  }
  assert.ok(Object.is(parseServiceName(-0), 0), "-0 becomes 0");
  assert.equal(parseServiceName(80.0), 80);
});

Deno.test("parseServiceName() rejects out-of-range and non-integer numbers with a RangeError", () => {
  const cases: [value: number, pattern: RegExp][] = [
    [
      -1,
      /^Cannot parse the port: "service" must be a port number from 0 to 65535, got -1$/,
    ],
    [
      65536,
      /^Cannot parse the port: "service" must be a port number from 0 to 65535, got 65536$/,
    ],
    [1e10, /must be a port number from 0 to 65535, got/],
    [
      Infinity,
      /^Cannot parse the port: "service" must be an integer port number from 0 to 65535, got Infinity$/,
    ],
    [-Infinity, /must be an integer port number/],
    [
      NaN,
      /^Cannot parse the port: "service" must be an integer port number from 0 to 65535, got NaN$/,
    ],
    [
      1.5,
      /^Cannot parse the port: "service" must be an integer port number from 0 to 65535, got 1.5$/,
    ],
    [80.1, /must be an integer port number/],
    [Number.EPSILON, /must be an integer port number/],
  ];
  for (const [value, pattern] of cases) {
    assertRejected(value, RangeError, pattern);
  }
});

Deno.test("parseServiceName() accepts decimal digit strings 0-65535", () => {
  const cases: [input: string, port: number][] = [
    ["", 0],
    ["0", 0],
    ["1", 1],
    ["80", 80],
    ["443", 443],
    ["8080", 8080],
    ["65535", 65535],
  ];
  for (const [input, port] of cases) {
    assert.equal(parseServiceName(input), port, JSON.stringify(input));
  }
});

Deno.test("parseServiceName() rejects digit strings above 65535 with a RangeError", () => {
  assertRejected(
    "65536",
    RangeError,
    /^Cannot parse the port: "service" must be a port number from 0 to 65535, got "65536"$/,
  );
  assertRejected(
    "99999999999999999999",
    RangeError,
    /must be a port number from 0 to 65535, got/,
  );
});

Deno.test("parseServiceName() rejects a negative number with a RangeError, as a string as well as a number", () => {
  const range =
    'Cannot parse the port: "service" must be a port number from 0 to 65535';
  const cases: [value: string | number, message: string][] = [
    [-1, `${range}, got -1`],
    ["-1", `${range}, got "-1"`],
    ["-80", `${range}, got "-80"`],
    ["-0", `${range}, got "-0"`],
  ];
  for (const [value, message] of cases) {
    assertRejected(
      value,
      RangeError,
      new RegExp(`^${RegExp.escape(message)}$`),
    );
  }
});

Deno.test("parseServiceName() rejects digits with a leading zero, as HostName does", () => {
  const cases: [input: string, plain: string][] = [
    ["080", "80"],
    ["00", "0"],
    ["0443", "443"],
    ["065535", "65535"],
  ];
  for (const [input, plain] of cases) {
    assertRejected(
      input,
      TypeError,
      new RegExp(
        `^Cannot parse the port: "service" must be a port number from 0 to 65535 ` +
          `without a leading zero, which some parsers read as octal ` +
          `\\(write "${plain}"\\), got "${input}"$`,
      ),
    );
  }
});

Deno.test("parseServiceName() rejects malformed strings with a TypeError", () => {
  const inputs = [
    " 80",
    "80 ",
    "8 0",
    "\t80",
    "80\n",
    "80.0",
    "80.",
    ".5",
    "+80",
    "0x50",
    "0o120",
    "0b1010000",
    "1e2",
    "80a",
    "Infinity",
    "NaN",
    "٨٠",
    "８０",
    "foo",
    "http ",
    " http",
    "http:",
    "https:443",
    "ht tp",
    "constructor",
    "toString",
    "__proto__",
    "hasOwnProperty",
    "valueOf",
  ];
  for (const input of inputs) {
    const expected =
      `Cannot parse the port: "service" must be a port number from 0 to 65535 or a well-known service name such as "http", got ${
        JSON.stringify(input)
      }`;
    assert.throws(
      () => parseServiceName(input),
      (error: unknown) =>
        error instanceof TypeError && error.message === expected,
      JSON.stringify(input),
    );
  }
});

Deno.test("parseServiceName() rejects values that are neither numbers nor strings with a TypeError", () => {
  const cases: [value: unknown, pattern: RegExp][] = [
    [true, /^Cannot parse the port: "service" must be .*, got true$/],
    [null, /^Cannot parse the port: .*, got null$/],
    [undefined, /^Cannot parse the port: .*, got undefined$/],
    [80n, /^Cannot parse the port: .*, got 80n$/],
    [{}, /^Cannot parse the port: .*, got Object$/],
    [[80], /^Cannot parse the port: .*, got Array$/],
    [new Number(80), /got Number$/],
    [new String("80"), /got String$/],
    [Symbol("http"), /^Cannot parse the port: .*, got Symbol\(http\)$/],
    [() => 80, /^Cannot parse the port: .*, got a function$/],
  ];
  for (const [value, pattern] of cases) {
    assertRejected(value, TypeError, pattern);
  }
});

Deno.test("parseServiceName() names the argument in its errors", () => {
  assertRejected(
    "foo",
    TypeError,
    /^Cannot parse the port: "localServiceName" must be .*, got "foo"$/,
    "localServiceName",
  );
  assertRejected(
    70000,
    RangeError,
    /^Cannot parse the port: "remotePort" must be .*, got 70000$/,
    "remotePort",
  );
  assertRejected(
    null,
    TypeError,
    /^Cannot parse the port: "port" must be .*, got null$/,
    "port",
  );
});

Deno.test("parseServiceName() resolves well-known service names in any letter case", () => {
  const expected: Record<string, number> = {
    echo: 7,
    discard: 9,
    daytime: 13,
    ftp: 21,
    ssh: 22,
    telnet: 23,
    smtp: 25,
    domain: 53,
    http: 80,
    pop3: 110,
    ntp: 123,
    imap: 143,
    snmp: 161,
    ldap: 389,
    https: 443,
    submission: 587,
    imaps: 993,
    pop3s: 995,
    mqtt: 1883,
    mqtts: 8883,
  };
  assert.deepEqual({ ...WELL_KNOWN_SERVICES }, expected);
  for (const [name, port] of Object.entries(expected)) {
    assert.equal(parseServiceName(name), port, name);
    assert.equal(parseServiceName(name.toUpperCase()), port, name);
    const mixed = name[0]?.toUpperCase() + name.slice(1);
    assert.equal(parseServiceName(mixed), port, mixed);
  }
});

Deno.test("WELL_KNOWN_SERVICES is read-only", () => {
  assert.ok(Object.isFrozen(WELL_KNOWN_SERVICES));
  assert.throws(() => {
    (WELL_KNOWN_SERVICES as Record<string, number>).http = 8080;
  }, TypeError);
  assert.throws(() => {
    (WELL_KNOWN_SERVICES as Record<string, number>).gopher = 70;
  }, TypeError);
  assert.equal(parseServiceName("http", "service", builtInService), 80);
  assert.throws(
    () => parseServiceName("gopher", "service", builtInService),
    TypeError,
  );
});

Deno.test("parseServiceName() with the built-in table knows only WELL_KNOWN_SERVICES", () => {
  for (const name of ["www", "gopher", "constructor", "__proto__"]) {
    assert.throws(
      () => parseServiceName(name, "service", builtInService),
      /well-known service name such as "http"/,
      name,
    );
  }
});

Deno.test("parseServicesFile() reads names, aliases and ports, preferring TCP, skipping malformed lines", () => {
  const services = parseServicesFile([
    "# comment line",
    "",
    "tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer",
    "http\t\t80/tcp\t\twww  # WorldWideWeb HTTP",
    "Gopher 70/tcp",
    "bootps\t\t67/udp",
    "both 1000/udp",
    "both 1001/tcp",
    "both 1002/tcp",
    "broken 80",
    "huge 70000/tcp",
    "   ",
  ].join("\n"));
  assert.deepEqual(Object.fromEntries(services), {
    tcpmux: 1,
    http: 80,
    www: 80,
    gopher: 70,
    bootps: 67,
    both: 1001,
  });
});

Deno.test(
  "parseServiceName() looks names up in the system's services database when it may read it",
  {
    ignore: Deno.build.os === "windows",
  },
  () => {
    let text: string;
    try {
      text = Deno.readTextFileSync(SERVICES_PATH);
    } catch {
      return; // No services database on this machine: the built-in table serves.
    }
    const system = systemServices();
    assert.ok(system !== undefined, "read permission is granted to the tests");
    assert.deepEqual(system, parseServicesFile(text));
    // A name the built-in table lacks, from the file itself.
    const extra = [...system].find(([name]) =>
      /^[a-z0-9-]+$/.test(name) && builtInService(name) === undefined
    );
    if (extra !== undefined) assert.equal(parseServiceName(extra[0]), extra[1]);
    assert.equal(parseServiceName("http"), 80);
  },
);

Deno.test("parseServiceName() falls back silently to the built-in table without --allow-read", async () => {
  const module = new URL("../lib/_service_name.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    `
    import { parseServiceName } from ${JSON.stringify(module)};
    let gopher = "refused";
    try { gopher = String(parseServiceName("gopher")); } catch {}
    console.log(JSON.stringify({ http: parseServiceName("http"), gopher }));
  `,
  );
  // No --allow-read: the permission query must answer without a prompt.
  const output = await runDeno(["run", "--no-prompt", script]).finally(() =>
    Deno.remove(script)
  );
  assert.equal(output.stderr, "");
  assert.equal(output.code, 0);
  assert.deepEqual(JSON.parse(output.stdout), {
    http: 80,
    gopher: "refused",
  });
});
