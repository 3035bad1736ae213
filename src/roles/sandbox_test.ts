import assert from "node:assert/strict";
import { UsageError, ValidationError } from "../cli/mod.ts";
import { silentLogger } from "../log/mod.ts";
import type { RoleContext } from "./context.ts";
import { main } from "./sandbox.ts";

function ctx(out: string[]): RoleContext {
  return {
    signal: new AbortController().signal,
    env: () => undefined,
    log: silentLogger,
    stdout: (t) => out.push(t),
  };
}

Deno.test("sandbox main() needs a known verb", async () => {
  await assert.rejects(main([], ctx([])), UsageError);
  await assert.rejects(main(["sideways"], ctx([])), /unknown command "sideways"/);
  await assert.rejects(main(["up", "extra"], ctx([])), /unexpected argument "extra"/);
});

Deno.test("sandbox main() rejects a bad node count or prefix before touching anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(main(["up", "--nodes=-1", `--dir=${dir}/s`], ctx([])), ValidationError);
    await assert.rejects(main(["up", "--prefix=X", `--dir=${dir}/s`], ctx([])), ValidationError);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sandbox status and down without a sandbox say so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out: string[] = [];
    assert.equal(await main(["status", `--dir=${dir}`], ctx(out)), 3);
    assert.equal(await main(["down", `--dir=${dir}`], ctx(out)), 0);
    assert.match(
      out.join("\n"),
      /no sandbox in .*sandbox up` starts one\nno sandbox in .*nothing to remove/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
