import assert from "node:assert/strict";
import { changeSignal, takeDaemonFlags } from "./gateway_helper.ts";

Deno.test("takeDaemonFlags() keeps the pidfile, drops the original's other daemon flags", () => {
  assert.deepEqual(
    takeDaemonFlags([
      "--physical-bridge=breth0",
      "--pidfile",
      "--detach",
      "--log-file",
      "-vfile:info",
      "--physical-interface=eth0",
    ]),
    { pidfile: true, rest: ["--physical-bridge=breth0", "--physical-interface=eth0"] },
  );
  assert.deepEqual(takeDaemonFlags(["--pidfile=/run/x.pid"]), { pidfile: "/run/x.pid", rest: [] });
  assert.deepEqual(takeDaemonFlags(["--k8s-api-server", "http://a"]), {
    rest: ["--k8s-api-server", "http://a"],
  });
});

Deno.test("changeSignal() wakes the waiter, and remembers a kick that came before the wait", async () => {
  const s = changeSignal();
  s.kick();
  await s.wait(new AbortController().signal); // resolves at once: the kick was pending
  const ac = new AbortController();
  let woke = false;
  const w = s.wait(ac.signal).then(() => woke = true);
  await Promise.resolve();
  assert.equal(woke, false);
  s.kick();
  await w;
  assert.equal(woke, true);
});
