import assert from "node:assert/strict";
import {
  applyListenerOptions,
  formatPayload,
  LOGGED_PAYLOAD_LENGTH,
} from "../examples/_echo_cli.ts";

Deno.test("formatPayload() escapes control characters so that a client cannot forge log lines", () => {
  assert.equal(formatPayload("Hello, World!"), '"Hello, World!"');
  assert.equal(
    formatPayload('a\nserver stopped\r\x1b[2J"\\\u0085\u2028\u202e'),
    '"a\\nserver stopped\\r\\x1b[2J\\"\\\\\\x85\\u2028\\u202e"',
  );
});

Deno.test("formatPayload() cuts a long payload and gives its size in bytes", () => {
  const text = "é".repeat(LOGGED_PAYLOAD_LENGTH + 20);
  assert.equal(
    formatPayload(text),
    `"${"é".repeat(LOGGED_PAYLOAD_LENGTH)}"... (${2 * text.length} bytes)`,
  );
});

Deno.test("applyListenerOptions() sets maxConnections from --max-connections and refuses a bad value", () => {
  const control = { maxConnections: Infinity, idleTimeout: 0 };
  applyListenerOptions(control, {});
  assert.equal(control.maxConnections, Infinity);
  applyListenerOptions(control, { "max-connections": "3" });
  assert.equal(control.maxConnections, 3);
  assert.throws(
    () => applyListenerOptions(control, { "max-connections": "0" }),
    /--max-connections must be a positive integer, got "0"/,
  );
});

Deno.test("applyListenerOptions() sets idleTimeout from --idle-timeout and refuses a bad value", () => {
  const control = { maxConnections: Infinity, idleTimeout: 0 };
  applyListenerOptions(control, { "idle-timeout": "30000" });
  assert.equal(control.idleTimeout, 30_000);
  assert.throws(
    () => applyListenerOptions(control, { "idle-timeout": "-5" }),
    /--idle-timeout must be a positive integer of milliseconds, got "-5"/,
  );
});
