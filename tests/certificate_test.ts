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
