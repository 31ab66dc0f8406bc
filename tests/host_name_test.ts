import assert from "node:assert/strict";
import { HostName, HostNameType } from "../lib/host_name.ts";

const label63 = "a".repeat(63);
const label64 = "a".repeat(64);
// 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 characters.
const name253 = `${label63}.${label63}.${label63}.${"b".repeat(61)}`;
const name254 = `${label63}.${label63}.${label63}.${"b".repeat(62)}`;

/** Asserts that `new HostName(input)` throws a TypeError quoting the input. */
function assertRejected(input: string, pattern: RegExp): void {
  assert.throws(
    () => new HostName(input),
    (error: unknown) => {
      assert.ok(error instanceof TypeError, `${input}: not a TypeError`);
      const prefix = `Cannot parse host name ${JSON.stringify(input)}: `;
      assert.ok(
        error.message.startsWith(prefix),
        `${input}: message does not quote the input: ${error.message}`,
      );
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, /\.$/, "trailing period");
      return true;
    },
  );
}

/** Asserts that each input is a DNS name with that canonical name, displayed as given. */
function assertDomainNames(cases: [input: string, canonical: string][]): void {
  for (const [input, canonical] of cases) {
    const name = new HostName(input);
    assert.equal(name.type, HostNameType.DomainName, input);
    assert.equal(name.rawName, input, input);
    assert.equal(name.canonicalName, canonical, input);
    assert.equal(name.displayName, input, input);
    assert.equal(name.toString(), canonical, input);
  }
}

Deno.test("HostNameType has the UWP values", () => {
  assert.deepEqual(
    { ...HostNameType },
    { DomainName: 0, Ipv4: 1, Ipv6: 2, Bluetooth: 3 },
  );
});

Deno.test("HostName constructor accepts valid DNS names", () => {
  const cases: [input: string, canonical: string][] = [
    ["localhost", "localhost"],
    ["LocalHost", "localhost"],
    ["example.com", "example.com"],
    ["Example.COM", "example.com"],
    ["example.com.", "example.com"],
    ["a", "a"],
    ["a-b.c-d", "a-b.c-d"],
    ["xn--bcher-kva.de", "xn--bcher-kva.de"],
    ["a--b.example", "a--b.example"],
    ["1.2.3.a", "1.2.3.a"],
    ["123.example", "123.example"],
    ["3com.com", "3com.com"],
    ["example.0xg", "example.0xg"],
    [`${label63}.com`, `${label63}.com`],
    [name253, name253],
    [`${name253}.`, name253],
  ];
  assertDomainNames(cases);
});

Deno.test("HostName constructor rejects invalid DNS names", () => {
  const cases: [input: string, pattern: RegExp][] = [
    ["a..b", /empty label at position 2; expected a DNS name/],
    [".example.com", /empty label at position 0/],
    ["example.com..", /empty label at position 12/],
    [".", /empty label at position 0/],
    [`${label64}.com`, /is 64 characters long, over the limit of 63/],
    [`x.${label64}`, /label "a{64}" at position 2 is 64 characters long/],
    [name254, /254 characters long, over the limit of 253/],
    [`${name254}.`, /254 characters long, over the limit of 253/],
    ["-example.com", /label "-example" at position 0 starts with a hyphen/],
    ["example-.com", /label "example-" at position 0 ends with a hyphen/],
    ["example.-com", /starts with a hyphen/],
    ["example.com-", /ends with a hyphen/],
    ["-", /starts with a hyphen/],
    [
      "a!b",
      /character "!" at position 1 is not allowed in a DNS name \(letters, digits, hyphens and underscores only\)/,
    ],
    ["a/b", /character "\/" at position 1/],
    ["a*.com", /character "\*" at position 1/],
    ["a\u0000b", /character "\\u0000" at position 1/],
    ["]", /"\]" without an opening "\["/],
    ["a.1", /last label "1" is a number/],
    ["example.123", /last label "123" is a number/],
    ["a.1.", /last label "1" is a number/],
    ["0x7f.0.0.1", /last label "1" is a number/],
    ["example.0x1F", /last label "0x1F" is a number/],
    ["example.0x", /last label "0x" is a number/],
    ["0x7f000001", /last label "0x7f000001" is a number/],
  ];
  for (const [input, pattern] of cases) assertRejected(input, pattern);
});

Deno.test("HostName constructor accepts names with underscores, as resolvers do", () => {
  const cases: [input: string, canonical: string][] = [
    ["my_db", "my_db"],
    ["My_DB.internal", "my_db.internal"],
    ["_http._tcp.example.com", "_http._tcp.example.com"],
    ["a_", "a_"],
  ];
  assertDomainNames(cases);
});

Deno.test("HostName constructor accepts internationalized names: punycode canonical name, Unicode display name", () => {
  const cases: [input: string, canonical: string][] = [
    ["bücher.example", "xn--bcher-kva.example"],
    ["BÜCHER.example.", "xn--bcher-kva.example"],
    ["bücher.de", "xn--bcher-kva.de"],
    ["例え.テスト", "xn--r8jz45g.xn--zckzah"],
    ["a😀.com", "xn--a-jv3s.com"],
    ["faß.de", "xn--fa-hia.de"],
    ["ü.my_db", "xn--tda.my_db"],
  ];
  assertDomainNames(cases);
  assert.ok(
    new HostName("bücher.example").isEqual(
      new HostName("xn--bcher-kva.example"),
    ),
  );
  assert.equal(HostName.compare("Bücher.example", "xn--bcher-kva.example"), 0);
});

Deno.test("HostName constructor rejects internationalized names that IDNA refuses or would change, saying why", () => {
  const cases: [input: string, pattern: RegExp][] = [
    [
      "exa\u200bmple.com",
      /character "\u200b" at position 3 \(U\+200B\) would be changed or dropped by IDNA, which makes the name "example\.com"/,
    ],
    ["\uff45xample.com", /\(U\+FF45\) would be changed .*"example\.com"/],
    ["bu\u0308cher.de", /would be changed .*"bücher\.de"/],
    ["ü@example.com", /character "@" at position 1 is not allowed/],
    ["ü/example.com", /character "\/" at position 1 is not allowed/],
    ["bü..de", /empty label at position 3/],
    ["ü-.de", /label "ü-" at position 0 ends with a hyphen/],
    ["xn--ü.de", /IDNA \(UTS #46\) rejects this internationalized name/],
    ["a.\u05d0b", /IDNA \(UTS #46\) rejects/],
    [
      `${"ü".repeat(60)}.de`,
      /in its ASCII form "xn--tda+\.de", label "xn--tda+" at position 0 is 66 characters long, over the limit of 63/,
    ],
    [
      "bücher.123",
      /in its ASCII form "xn--bcher-kva\.123", the last label "123" is a number/,
    ],
  ];
  for (const [input, pattern] of cases) assertRejected(input, pattern);
});

Deno.test("HostName constructor rejects empty strings and whitespace", () => {
  const cases: [input: string, pattern: RegExp][] = [
    ["", /the name is empty/],
    [" localhost", /whitespace " " at position 0 is not allowed .*not trimmed/],
    ["localhost ", /whitespace " " at position 9/],
    ["local host", /whitespace " " at position 5/],
    ["localhost\n", /whitespace "\\n" at position 9/],
    ["\tlocalhost", /whitespace "\\t" at position 0/],
    ["example\u00a0com", /whitespace "\u00a0" at position 7/],
    [" ::1", /whitespace/],
    ["1.2.3.4 ", /whitespace/],
    ["fe80::1%eth 0", /whitespace " " at position 11/],
  ];
  for (const [input, pattern] of cases) assertRejected(input, pattern);
});

Deno.test("HostName constructor rejects non-string values with a TypeError", () => {
  const cases: [value: unknown, pattern: RegExp][] = [
    [42, /^Cannot parse a host name: "hostName" must be a string, got 42$/],
    [null, /^Cannot parse a host name: "hostName" must be a string, got null$/],
    [undefined, /got undefined$/],
    [{}, /got Object$/],
    [["localhost"], /got Array$/],
    [1n, /^Cannot parse a host name: .*got 1n$/],
    [Symbol("x"), /got Symbol\(x\)$/],
    [new String("localhost"), /got String$/],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(
      () => new HostName(value as string),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, pattern);
        return true;
      },
    );
  }
});

Deno.test("HostName constructor rejects a host with a port and URLs, with a hint", () => {
  const cases: [input: string, pattern: RegExp][] = [
    [
      "example.com:80",
      /cannot include a port \(":80"\); expected "example\.com" here/,
    ],
    [
      "1.2.3.4:8080",
      /cannot include a port \(":8080"\); expected "1\.2\.3\.4"/,
    ],
    ["[::1]:443", /cannot include a port \(":443"\); expected "\[::1\]"/],
    ["http://example.com", /this is a URL.*new URL\(url\)\.hostname/],
    ["example.com:http", /expected an IPv6 address/],
  ];
  for (const [input, pattern] of cases) assertRejected(input, pattern);
});

Deno.test("HostName constructor accepts valid IPv4 addresses", () => {
  const cases = [
    "0.0.0.0",
    "127.0.0.1",
    "192.0.2.1",
    "255.255.255.255",
    "10.0.0.10",
    "1.2.3.4",
    "100.200.250.199",
  ];
  for (const input of cases) {
    const name = new HostName(input);
    assert.equal(name.type, HostNameType.Ipv4, input);
    assert.equal(name.rawName, input, input);
    assert.equal(name.canonicalName, input, input);
    assert.equal(name.displayName, input, input);
  }
});

Deno.test("HostName constructor rejects invalid IPv4 addresses", () => {
  const cases: [input: string, pattern: RegExp][] = [
    ["256.0.0.1", /part "256" at position 0 is greater than 255/],
    ["1.2.3.256", /part "256" at position 6 is greater than 255/],
    ["1.2.3.999999999999", /greater than 255/],
    [
      "01.2.3.4",
      /part "01" at position 0 has a leading zero.*octal \(write "1"\)/,
    ],
    ["1.2.3.04", /part "04" at position 6 has a leading zero/],
    ["1.2.3.00", /part "00" .*write "0"/],
    ["1.2.3", /exactly 4 parts, found 3; expected an IPv4 address/],
    ["1.2.3.4.5", /exactly 4 parts, found 5/],
    ["127.1", /exactly 4 parts, found 2/],
    ["2130706433", /exactly 4 parts, found 1/],
    ["0", /exactly 4 parts, found 1/],
    ["1.2.3.4.", /an IPv4 address cannot end with a dot/],
    ["1..2.3", /empty label at position 2/],
    ["1.2.3.-4", /starts with a hyphen/],
  ];
  for (const [input, pattern] of cases) assertRejected(input, pattern);
});

Deno.test("HostName canonicalName follows RFC 5952 for IPv6 addresses", () => {
  const cases: [input: string, canonical: string][] = [
    // Leading zeros removed, lower case.
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:Db8:AbCd::0001", "2001:db8:abcd::1"],
    ["2001:db8::00ff", "2001:db8::ff"],
    // Longest run compressed.
    ["2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    // First run on a tie.
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    // A single zero group is not compressed.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    // All zeros, loopback, edges.
    ["0:0:0:0:0:0:0:0", "::"],
    ["::", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["0:0:1:0:0:0:0:0", "0:0:1::"],
    [
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ],
    ["fe80::", "fe80::"],
    // Embedded IPv4: dotted only for IPv4-mapped addresses.
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["::FFFF:c000:0201", "::ffff:192.0.2.1"],
    ["0:0:0:0:0:ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["::ffff:0:0", "::ffff:0.0.0.0"],
    ["::1.2.3.4", "::102:304"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304"],
    // Brackets and zone IDs.
    ["[::1]", "::1"],
    ["[2001:DB8::0001]", "2001:db8::1"],
    ["fe80::1%eth0", "fe80::1%eth0"],
    ["fe80::0001%Eth0", "fe80::1%Eth0"],
    ["[FE80:0:0:0:0:0:0:1%eth0]", "fe80::1%eth0"],
    ["fe80::1%1", "fe80::1%1"],
    ["fe80::1%en0.100_a~b-c", "fe80::1%en0.100_a~b-c"],
    ["::ffff:1.2.3.4%lo", "::ffff:1.2.3.4%lo"],
  ];
  for (const [input, canonical] of cases) {
    const name = new HostName(input);
    assert.equal(name.type, HostNameType.Ipv6, input);
    assert.equal(name.rawName, input, input);
    assert.equal(name.canonicalName, canonical, input);
    assert.equal(name.displayName, canonical, input);
    assert.equal(`${name}`, canonical, input);
  }
});

Deno.test("HostName constructor rejects invalid IPv6 addresses", () => {
  const cases: [input: string, pattern: RegExp][] = [
    ["1::2::3", /more than one "::" .*; expected an IPv6 address/],
    ["::1::", /more than one "::"/],
    [":::", /more than one "::"/],
    ["1:2:3:4:5:6:7:8:9", /9 groups instead of 8/],
    ["1:2:3:4:5:6:7", /7 groups instead of 8/],
    ["1:2", /2 groups instead of 8/],
    ["1:2:3:4:5:6:7:8::", /too many groups: 8 plus "::"/],
    ["::1:2:3:4:5:6:7:8", /too many groups: 8 plus "::"/],
    ["1:2:3:4::5:6:7:8", /too many groups: 8 plus "::"/],
    ["1:2:3:4:5:6:7:1.2.3.4", /9 groups instead of 8/],
    ["1:2:3:4:5:6::1.2.3.4", /too many groups: 8 plus "::"/],
    ["12345::", /group "12345" at position 0 has more than 4 hex digits/],
    ["::00000", /group "00000" at position 2 has more than 4 hex digits/],
    ["g::", /group "g" at position 0 is not hexadecimal/],
    ["2001:db8::xyz", /group "xyz" at position 10 is not hexadecimal/],
    ["::-1", /group "-1" at position 2 is not hexadecimal/],
    ["::+1", /is not hexadecimal/],
    [":1:2:3:4:5:6:7", /empty group at position 0/],
    ["1:2:3:4:5:6:7:", /empty group at position 14/],
    [":1::", /empty group at position 0/],
    ["1::2:", /empty group at position 5/],
    [
      "1.2.3.4::",
      /embedded IPv4 address "1.2.3.4" at position 0 must come last/,
    ],
    [
      "::1.2.3.4:1",
      /embedded IPv4 address "1.2.3.4" at position 2 must come last/,
    ],
    [
      "::ffff:1.2.3",
      /embedded IPv4 address "1.2.3": .*exactly 4 parts, found 3/,
    ],
    [
      "::ffff:1.2.3.256",
      /embedded IPv4 address .*"256" at position 13 is greater than 255/,
    ],
    ["::ffff:01.2.3.4", /embedded IPv4 address .*leading zero/],
    ["::ffff:1..3.4", /empty part at position 9/],
    ["::ffff:1.2.3.a", /part "a" at position 13 is not a decimal number/],
    ["[::1", /"\[" without a closing "\]"/],
    ["::1]", /unexpected "\]" at position 3/],
    ["[[::1]]", /unexpected "\[" at position 1/],
    ["[::1]]", /unexpected "\]" at position 4/],
    ["[]", /the brackets are empty/],
    [
      "[example.com]",
      /brackets are only allowed around an IPv6 address.*"example\.com" without/,
    ],
    ["[1.2.3.4]", /brackets are only allowed around an IPv6 address/],
    ["fe80::1%", /empty zone ID after "%"/],
    ["[fe80::1%]", /empty zone ID/],
    ["fe80::1%eth0%1", /zone ID "eth0%1" may hold only/],
    ["fe80::1%eth/0", /zone ID "eth\/0" may hold only/],
    ["%eth0", /character "%" at position 0 is not allowed in a DNS name/],
    ["%eth0:", /zone ID "eth0:" may hold only/],
    ["[%eth0]", /brackets are only allowed around an IPv6 address/],
    ["%eth0::", /zone ID "eth0::" may hold only/],
    ["::1%", /empty zone ID/],
  ];
  for (const [input, pattern] of cases) assertRejected(input, pattern);
});

Deno.test("HostName never has the Bluetooth type", () => {
  const inputs = ["localhost", "1.2.3.4", "::1", "00:11:22:33:44:55"];
  for (const input of inputs) {
    let name: HostName;
    try {
      name = new HostName(input);
    } catch {
      continue;
    }
    assert.notEqual(name.type, HostNameType.Bluetooth, input);
  }
});

Deno.test("HostName getters are read-only", () => {
  const name = new HostName("Example.com");
  for (const key of ["type", "rawName", "canonicalName", "displayName"]) {
    assert.throws(() => {
      (name as unknown as Record<string, unknown>)[key] = "x";
    }, TypeError);
  }
  assert.equal(name.canonicalName, "example.com");
});

Deno.test("HostName.isEqual() compares type and canonical name", () => {
  const equal: [a: string, b: string][] = [
    ["example.com", "EXAMPLE.COM."],
    ["localhost", "localhost."],
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "[0:0:0:0:0:0:0:1]"],
    ["2001:db8::1", "2001:0DB8:0:0:0:0:0:0001"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["fe80::1%eth0", "[FE80::1%eth0]"],
  ];
  for (const [a, b] of equal) {
    assert.ok(new HostName(a).isEqual(new HostName(b)), `${a} = ${b}`);
    assert.ok(new HostName(b).isEqual(new HostName(a)), `${b} = ${a}`);
  }
  const different: [a: string, b: string][] = [
    ["example.com", "example.org"],
    ["localhost", "127.0.0.1"],
    ["127.0.0.1", "::ffff:127.0.0.1"],
    ["::1", "::2"],
    ["fe80::1%eth0", "fe80::1"],
    ["fe80::1%eth0", "fe80::1%ETH0"],
    ["example.com", "www.example.com"],
  ];
  for (const [a, b] of different) {
    assert.ok(!new HostName(a).isEqual(new HostName(b)), `${a} != ${b}`);
  }
});

Deno.test("HostName.isEqual() rejects a value that is not a HostName", () => {
  const name = new HostName("localhost");
  assert.throws(
    () => name.isEqual("localhost" as unknown as HostName),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        'Cannot compare host names: "other" must be a HostName, got "localhost"',
  );
  assert.throws(() => name.isEqual(null as unknown as HostName), TypeError);
  assert.throws(
    () => name.isEqual({ canonicalName: "localhost" } as unknown as HostName),
    /"other" must be a HostName, got Object/,
  );
});

Deno.test("HostName.compare() compares canonical forms", () => {
  const cases: [a: string, b: string, expected: number][] = [
    ["example.com", "EXAMPLE.com.", 0],
    ["::1", "0:0:0:0:0:0:0:1", 0],
    ["[::1]", "::1", 0],
    ["1.2.3.4", "1.2.3.4", 0],
    ["a.example", "b.example", -1],
    ["B.example", "a.example", 1],
    ["10.0.0.1", "9.0.0.1", -1],
    ["::1", "::2", -1],
    ["localhost", "127.0.0.1", 1],
  ];
  for (const [a, b, expected] of cases) {
    assert.equal(HostName.compare(a, b), expected, `${a} vs ${b}`);
    assert.equal(HostName.compare(b, a), -expected || 0, `${b} vs ${a}`);
  }
});

Deno.test("HostName.compare() sorts host names", () => {
  const names = ["c.example", "A.example", "::1", "b.example.", "10.0.0.1"];
  assert.deepEqual(names.sort(HostName.compare), [
    "10.0.0.1",
    "::1",
    "A.example",
    "b.example.",
    "c.example",
  ]);
});

Deno.test("HostName.compare() rejects invalid input like the constructor", () => {
  assert.throws(
    () => HostName.compare("a..b", "example.com"),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        'Cannot parse host name "a..b": empty label at position 2; expected a DNS ' +
          "name, an IPv4 address or an IPv6 address",
  );
  assert.throws(() => HostName.compare("example.com", "1::2::3"), /"1::2::3"/);
  assert.throws(
    () => HostName.compare(42 as unknown as string, "example.com"),
    /^TypeError: Cannot parse a host name: "value1" must be a string, got 42/,
  );
});

Deno.test("HostName constructor error messages quote the input and end without a period", () => {
  const inputs = [
    "a..b",
    "",
    " x",
    "1.2.3",
    "1::2::3",
    "exa\u200bmple.com",
    "a!b",
    "x:1",
  ];
  for (const input of inputs) assertRejected(input, /; expected /);
});

Deno.test("HostName shows its names in Deno.inspect()", () => {
  assert.equal(
    Deno.inspect(new HostName("bücher.example"), { breakLength: Infinity }),
    'HostName { canonicalName: "xn--bcher-kva.example", displayName: "bücher.example" }',
  );
  assert.equal(
    Deno.inspect(new HostName("127.0.0.1")),
    'HostName { canonicalName: "127.0.0.1" }',
  );
  assert.equal(
    Deno.inspect({ remote: new HostName("[::1]") }),
    '{ remote: HostName { canonicalName: "::1" } }',
  );
});
