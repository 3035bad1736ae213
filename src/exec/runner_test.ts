import assert from "node:assert/strict";
import { CommandError, ProcessRunner } from "./runner.ts";

Deno.test("ProcessRunner.run() writes stdin and fails with CommandError on a non-zero exit", async () => {
  const r = new ProcessRunner();
  assert.equal((await r.run(["cat"], { stdin: "hello\n" })).stdout, "hello");
  await assert.rejects(
    r.run(["sh", "-c", "echo bad >&2; exit 3"]),
    (e: unknown) => e instanceof CommandError && e.code === 3 && e.stderr === "bad",
  );
});

Deno.test("ProcessRunner.run() kills a command at its timeout and names a missing program", async () => {
  const r = new ProcessRunner();
  const t0 = Date.now();
  await assert.rejects(r.run(["sleep", "30"], { timeoutMs: 200 }));
  assert.ok(Date.now() - t0 < 20_000, "the command was not killed at its timeout");
  await assert.rejects(
    r.run(["/nonexistent/ovn-k8s-test-program"]),
    (e: unknown) => e instanceof CommandError && e.code === 127,
  );
  assert.equal((await r.run(["sh", "-c", "exit 4"], { check: false })).code, 4);
});
