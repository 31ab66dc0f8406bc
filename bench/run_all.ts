// deno-lint-ignore-file no-console
/**
 * Runs every comparison script in `bench/` one after the other, as
 * subprocesses, and prints their output; exits 1 if one of them fails.
 *
 * - `deno task bench`: each script at the sizes its goals are defined for
 *   (its defaults, or the flags in `ARGS`), so every goal line it prints is
 *   judged. The whole run takes about three minutes.
 * - `--smoke` (what `.ci/run` runs): each script once with `--smoke`, a tiny
 *   size that judges no goal, to prove that every script still runs (under a
 *   minute in all). A smoke run that prints a goal line fails. The last line
 *   is `bench smoke: N passed, N failed`.
 *
 * A new script is picked up by its name (`bench/*.ts`, not `_*.ts`): it must
 * accept `--smoke`, print goal lines through `Goals` from `_common.ts`, and
 * bound every peer it starts by time, not only by count (`redis-benchmark
 * -n 1`, or any client pointed at a refusing port, spins forever: the time
 * limit here kills the script, not the peers it started).
 *
 * Run: deno task bench [--smoke]
 * (deno run --allow-net --allow-run --allow-read --allow-write --allow-env bench/run_all.ts)
 */
import { SMOKE } from "./_common.ts";

const PERMISSIONS = [
  "--allow-net=127.0.0.1",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];
/** Flags for the full run, where a script's defaults are not what its goals are defined for. */
const ARGS: Record<string, string[]> = {
  // At their goal sizes these take minutes; the task runs them at a modest
  // size (their own defaults are the sizes their goals are defined for).
  "line_protocol.ts": ["--requests", "30000", "--rounds", "1"],
  "framed_pipeline.ts": ["--frames", "100000", "--rounds", "1"],
  "framed_soak.ts": ["--clients", "200", "--messages", "50"],
};
/** Each script is killed after this long. */
const SCRIPT_LIMIT_MS = SMOKE ? 30_000 : 150_000;

const folder = new URL(".", import.meta.url);
const scripts = [...Deno.readDirSync(folder)]
  .map((entry) => entry.name)
  .filter((name) =>
    name.endsWith(".ts") && !name.startsWith("_") && name !== "run_all.ts"
  )
  .sort();

/** Runs one script; returns why it failed, or undefined. */
async function runScript(name: string): Promise<string | undefined> {
  const path = new URL(name, folder).pathname;
  const args = SMOKE ? ["--smoke"] : ARGS[name] ?? [];
  console.log(`\n=== bench/${name} ${args.join(" ")}`);
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, path, ...args],
    stdin: "null",
    // The smoke run reads the output to check it; a full run streams it.
    stdout: SMOKE ? "piped" : "inherit",
    stderr: "inherit",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, SCRIPT_LIMIT_MS);
  const stdout = SMOKE ? await new Response(child.stdout).text() : "";
  const { code } = await child.status;
  clearTimeout(timer);
  if (SMOKE) console.log(stdout.trimEnd());
  console.log(
    `=== bench/${name}: exit ${code}, ${
      ((performance.now() - start) / 1000).toFixed(1)
    } s`,
  );
  if (killed) return `killed after ${SCRIPT_LIMIT_MS / 1000} s`;
  if (code !== 0) return `exit ${code}`;
  const goal = stdout.split("\n").find((line) => line.startsWith("goal "));
  if (goal !== undefined) {
    return `printed a goal line at the smoke size: ${goal}`;
  }
  return undefined;
}

const failures: string[] = [];
for (const name of scripts) {
  const failure = await runScript(name);
  if (failure !== undefined) failures.push(`bench/${name}: ${failure}`);
}
console.log();
for (const failure of failures) console.log(failure);
if (SMOKE) {
  console.log(
    `bench smoke: ${
      scripts.length - failures.length
    } passed, ${failures.length} failed`,
  );
} else if (failures.length > 0) {
  console.log(`${failures.length} of ${scripts.length} bench scripts failed`);
}
if (failures.length > 0) Deno.exit(1);
