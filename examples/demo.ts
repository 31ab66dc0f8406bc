// deno-lint-ignore-file no-console
/**
 * Runs every scenario of the library on loopback, one after another, and
 * prints the client and server logs. `deno task demo` runs it.
 *
 *   deno run --allow-net --allow-run --allow-read --allow-write --allow-env examples/demo.ts
 *
 * @module
 */
import { runBoth as tcpEcho } from "./tcp_echo.ts";

function heading(title: string): void {
  console.log(`\n=== ${title} ===`);
}

heading("TCP echo, line-based (examples/tcp_echo.ts)");
await tcpEcho("Hello, World!");

console.log("\nAll scenarios ran.");
