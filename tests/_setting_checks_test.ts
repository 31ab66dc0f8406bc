import assert from "node:assert/strict";
import { checkBoolean } from "../lib/_setting_checks.ts";
import { StreamSocketListener } from "../mod.ts";

Deno.test("checkBoolean() passes booleans through and names the setting of anything else", () => {
  assert.equal(checkBoolean(false, "noDelay"), false);
  assert.throws(
    () => checkBoolean("yes", "noDelay"),
    new TypeError('Cannot set noDelay: "noDelay" must be a boolean, got "yes"'),
  );
});

Deno.test("StreamSocketListener.control refuses a non-boolean clientCertificateRequired or reusePort with the shared message", async () => {
  await using listener = new StreamSocketListener();
  for (const name of ["clientCertificateRequired", "reusePort"] as const) {
    assert.throws(
      () => (listener.control as unknown as Record<string, unknown>)[name] = 1,
      new TypeError(`Cannot set ${name}: "${name}" must be a boolean, got 1`),
    );
  }
});
