import assert from "node:assert/strict";
import { parseServiceName, WELL_KNOWN_SERVICES } from "../lib/_service_name.ts";

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
    [-1, /^Invalid service -1: out of range; expected a port number 0-65535$/],
    [65536, /^Invalid service 65536: out of range/],
    [1e10, /out of range/],
    [Infinity, /^Invalid service Infinity: not an integer/],
    [-Infinity, /not an integer/],
    [
      NaN,
      /^Invalid service NaN: not an integer; expected a port number 0-65535$/,
    ],
    [1.5, /^Invalid service 1.5: not an integer/],
    [80.1, /not an integer/],
    [Number.EPSILON, /not an integer/],
  ];
  for (const [value, pattern] of cases) {
    assertRejected(value, RangeError, pattern);
  }
});

Deno.test("parseServiceName() accepts decimal digit strings 0-65535", () => {
  const cases: [input: string, port: number][] = [
    ["", 0],
    ["0", 0],
    ["00", 0],
    ["1", 1],
    ["80", 80],
    ["080", 80],
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
    /^Invalid service "65536": out of range; expected a port number 0-65535$/,
  );
  assertRejected("99999999999999999999", RangeError, /out of range/);
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
    "-80",
    "-1",
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
    "www",
    "constructor",
    "toString",
    "__proto__",
    "hasOwnProperty",
    "valueOf",
  ];
  for (const input of inputs) {
    const expected = `Invalid service ${
      JSON.stringify(input)
    }: expected a port number 0-65535 or a well-known service name such as "http"`;
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
    [true, /^Invalid service true: expected .*, received a boolean$/],
    [null, /^Invalid service null: .*received null$/],
    [undefined, /^Invalid service undefined: .*received undefined$/],
    [80n, /^Invalid service 80n: .*received a bigint$/],
    [{}, /^Invalid service \[object\]: .*received an object$/],
    [[80], /^Invalid service \[array\]: .*received an array$/],
    [new Number(80), /received an object$/],
    [new String("80"), /received an object$/],
    [Symbol("http"), /^Invalid service Symbol\(http\): .*received a symbol$/],
    [() => 80, /^Invalid service \[function\]: .*received a function$/],
  ];
  for (const [value, pattern] of cases) {
    assertRejected(value, TypeError, pattern);
  }
});

Deno.test("parseServiceName() names the argument in its errors", () => {
  assertRejected(
    "foo",
    TypeError,
    /^Invalid localServiceName "foo": /,
    "localServiceName",
  );
  assertRejected(
    70000,
    RangeError,
    /^Invalid remotePort 70000: /,
    "remotePort",
  );
  assertRejected(null, TypeError, /^Invalid port null: /, "port");
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
  assert.equal(parseServiceName("http"), 80);
  assert.throws(() => parseServiceName("gopher"), TypeError);
});
