import assert from "node:assert/strict";
import { emulatorFromArgs } from "./cli.ts";

Deno.test("emulatorFromArgs() starts on the given address and writes the port file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-emu-cli-" });
  try {
    await using emu = await emulatorFromArgs([
      "--listen",
      "127.0.0.1:0",
      "--port-file",
      `${dir}/port`,
      "--token",
      "t",
    ]);
    assert.equal((await Deno.readTextFile(`${dir}/port`)).trim(), String(emu.port));
    assert.equal(emu.url, `http://127.0.0.1:${emu.port}`);
    const r = await fetch(`${emu.url}/api/v1/pods`);
    assert.equal(r.status, 401);
    await r.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("emulatorFromArgs() rejects bad arguments with the flag named", async () => {
  await assert.rejects(emulatorFromArgs(["--listen", "nohost"]), /Cannot parse --listen "nohost"/);
  await assert.rejects(emulatorFromArgs(["--history-size", "0"]), /Cannot use --history-size "0"/);
  await assert.rejects(emulatorFromArgs(["--bogus"]), /bogus/);
});
