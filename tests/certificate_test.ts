import assert from "node:assert/strict";
import { Certificate } from "../mod.ts";

const dir = new URL("./testdata/", import.meta.url);
const read = (name: string): string =>
  Deno.readTextFileSync(new URL(name, dir));

Deno.test("Certificate.fromPem() exposes subject, issuer, validity, fingerprint, serial and SANs", () => {
  const certificate = Certificate.fromPem(read("server.pem"));
  assert.match(certificate.subject, /CN=localhost/);
  assert.match(certificate.issuer, /CN=seed-sockets Test CA/);
  assert.equal(certificate.commonName, "localhost");
  assert.ok(certificate.validFrom < new Date());
  assert.ok(certificate.validTo.getTime() > Date.now() + 5 * 365 * 86_400_000);
  assert.match(certificate.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.match(certificate.serialNumber, /^[0-9A-F]+$/);
  assert.deepEqual(certificate.subjectAltNames, [
    "DNS:localhost",
    "IP Address:127.0.0.1",
    "IP Address:::1",
  ]);
  assert.ok(certificate.pem.startsWith("-----BEGIN CERTIFICATE-----"));
  assert.equal(certificate.isValidAt(), true);
});

Deno.test("Certificate.fromPem() keeps the private key out of pem, toString and toJSON", () => {
  const certificate = Certificate.fromPem(
    read("client.pem"),
    read("client.key"),
  );
  assert.equal(certificate.hasPrivateKey, true);
  for (
    const text of [
      certificate.pem,
      String(certificate),
      JSON.stringify(certificate),
    ]
  ) {
    assert.doesNotMatch(text, /PRIVATE KEY/);
  }
});

Deno.test("Certificate.fromPem() rejects garbage, a key of another certificate and non-strings", () => {
  assert.throws(() => Certificate.fromPem("hello"), TypeError);
  assert.throws(
    () => Certificate.fromPem(read("client.pem"), read("server.key")),
    /does not belong to the certificate/,
  );
  assert.throws(
    () => Certificate.fromPem(read("client.pem"), "nope"),
    TypeError,
  );
  assert.throws(() => Certificate.fromPem(42 as unknown as string), TypeError);
});

Deno.test("Certificate.isValidAt() is false for the expired test certificate", () => {
  const certificate = Certificate.fromPem(read("expired.pem"));
  assert.equal(certificate.isValidAt(), false);
  assert.equal(certificate.validTo.toISOString(), "2021-01-01T00:00:00.000Z");
});

Deno.test("Certificate.fromDer() round-trips the DER form", () => {
  const certificate = Certificate.fromPem(read("ca.pem"));
  const copy = Certificate.fromDer(certificate.der);
  assert.equal(copy.fingerprint, certificate.fingerprint);
  assert.equal(copy.subject, certificate.subject);
  assert.throws(
    () => Certificate.fromDer(new Uint8Array([1, 2, 3])),
    TypeError,
  );
});

const readBytes = (name: string): Uint8Array =>
  Deno.readFileSync(new URL(name, dir));

for (
  const [file, format] of [
    ["client.pfx", "an OpenSSL 3 default (AES-256-CBC, PBKDF2)"],
    ["client_legacy.pfx", "a legacy (3DES, RC2-40)"],
  ] as const
) {
  Deno.test(`Certificate.fromPfx() reads ${format} export with its private key`, () => {
    const certificate = Certificate.fromPfx(readBytes(file), "seed-sockets");
    const pem = Certificate.fromPem(read("client.pem"));
    assert.equal(certificate.fingerprint, pem.fingerprint);
    assert.equal(certificate.commonName, "test-client");
    assert.equal(certificate.hasPrivateKey, true);
    assert.doesNotMatch(certificate.pem, /PRIVATE KEY/);
  });
}

Deno.test("Certificate.fromPfx() keeps the bundled CA after the leaf in pem", () => {
  const certificate = Certificate.fromPfx(
    readBytes("client.pfx"),
    "seed-sockets",
  );
  const blocks = certificate.pem.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  assert.equal(blocks.length, 2);
  assert.ok(certificate.pem.includes(read("ca.pem").trim()));
});

Deno.test("Certificate.fromPfx() says when the password is wrong or missing", () => {
  for (const file of ["client.pfx", "client_legacy.pfx"]) {
    assert.throws(
      () => Certificate.fromPfx(readBytes(file), "wrong"),
      (error: unknown) =>
        error instanceof TypeError &&
        /^Cannot read the PFX file: the password is wrong/.test(error.message),
    );
    assert.throws(
      () => Certificate.fromPfx(readBytes(file)),
      /protected by a password, and none was given/,
    );
  }
});

Deno.test("Certificate.fromPfx() says when the bytes are not a PKCS#12 file", () => {
  const pfx = readBytes("client.pfx");
  for (
    const bytes of [
      pfx.subarray(0, pfx.length / 2),
      new TextEncoder().encode(read("client.pem")),
      new Uint8Array(0),
    ]
  ) {
    assert.throws(
      () => Certificate.fromPfx(bytes, "seed-sockets"),
      (error: unknown) =>
        error instanceof TypeError &&
        /not a valid PKCS#12 file or is damaged/.test(error.message),
    );
  }
});

Deno.test("Certificate.fromPfx() rejects arguments of the wrong type", () => {
  assert.throws(
    () => Certificate.fromPfx("client.pfx" as unknown as Uint8Array),
    /"bytes" must be a Uint8Array, got "client.pfx"/,
  );
  assert.throws(
    () => Certificate.fromPfx(readBytes("client.pfx"), 42 as unknown as string),
    /"password" must be a string, got 42/,
  );
});
