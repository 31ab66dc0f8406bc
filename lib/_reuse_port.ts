/**
 * When a listener may set `SO_REUSEPORT`: Deno's `reusePort` option of
 * `Deno.listen` spreads connections across the listeners sharing a port
 * only on Linux (elsewhere it is silently ignored, so two listeners would
 * fail or one would take everything), and it is unstable: without
 * `--unstable-net` Deno ends the process instead of throwing. Both are
 * checked here first, so the caller gets one clear error instead.
 *
 * @module
 */

/** Throws unless `reusePort` can work here; `action` starts the message. */
export function checkReusePort(action: string): void {
  if (Deno.build.os !== "linux") {
    throw new TypeError(
      `${action}: "reusePort" needs Linux, where the kernel spreads connections across the listeners of a port; Deno ignores it on ${Deno.build.os}`,
    );
  }
  // Deno.listenDatagram exists only with --unstable-net, the same flag.
  if (
    typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function"
  ) {
    throw new TypeError(
      `${action}: "reusePort" is unstable in Deno; run with --unstable-net (or add "unstable": ["net"] to deno.json)`,
    );
  }
}
