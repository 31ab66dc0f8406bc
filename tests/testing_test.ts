import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

/** The code blocks of a Markdown text, or of a JSDoc comment's examples. */
function codeBlocks(text: string): string[] {
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** Compares code as `deno fmt` may rewrap it: without spaces, line breaks and commas. */
function shape(code: string): string {
  return code.replace(/^\s*\* ?/gm, "").replace(/[\s,]/g, "");
}

Deno.test("README's testing section shows only examples that run as doc tests", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("## Testing your network code");
  assert.ok(start >= 0, "the section is there");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  const documented = (await Promise.all(
    ["lib/fault_proxy.ts", "lib/socket_pair.ts", "lib/datagram_fault_proxy.ts"]
      .map((file) => Deno.readTextFile(`${ROOT}${file}`)),
  )).flatMap(codeBlocks).map(shape);
  const examples = codeBlocks(section);
  assert.equal(examples.length, 3);
  for (const example of examples) {
    assert.ok(
      documented.includes(shape(example)),
      `not a doc test:\n${example}`,
    );
  }
});
