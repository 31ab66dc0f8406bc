// deno-lint-ignore-file no-console
/**
 * Runs every comparison script in `bench/` one after the other, as
 * subprocesses with modest sizes, and prints their output. The whole run
 * stays within a few minutes.
 *
 * Run: deno task bench
 * (deno run --allow-net --allow-run --allow-read --allow-write --allow-env bench/run_all.ts)
 */

const PERMISSIONS = [
  "--allow-net=127.0.0.1",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];
/** Modest sizes for the scripts that take them; others run as they are. */
const ARGS: Record<string, string[]> = {
  "tcp_bulk_echo.ts": ["--mib", "128", "--rounds", "5"],
  "idle_connections.ts": ["--connections", "2000", "--rounds", "1"],
  "batched_sends.ts": ["--messages", "100000", "--rounds", "5"],
};
/** Each script is killed after this long. */
const SCRIPT_LIMIT_MS = 150_000;

const folder = new URL(".", import.meta.url);
const scripts = [...Deno.readDirSync(folder)]
  .map((entry) => entry.name)
  .filter((name) =>
    name.endsWith(".ts") && !name.startsWith("_") && name !== "run_all.ts"
  )
  .sort();

let failed = 0;
for (const name of scripts) {
  const path = new URL(name, folder).pathname;
  const args = ARGS[name] ?? [];
  console.log(`\n=== bench/${name} ${args.join(" ")}`);
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, path, ...args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => {
    console.log(`bench/${name}: killed after ${SCRIPT_LIMIT_MS / 1000} s`);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, SCRIPT_LIMIT_MS);
  const { code } = await child.status;
  clearTimeout(timer);
  if (code !== 0) failed++;
  console.log(
    `=== bench/${name}: exit ${code}, ${
      ((performance.now() - start) / 1000).toFixed(1)
    } s`,
  );
}
if (failed > 0) {
  console.log(`\n${failed} of ${scripts.length} bench scripts failed`);
  Deno.exit(1);
}
