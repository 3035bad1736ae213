import assert from "node:assert/strict";

const INSTALL = new URL("../../deploy/install.sh", import.meta.url).pathname;

async function sh(args: string[]) {
  const out = await new Deno.Command("sh", {
    args: [INSTALL, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deploy/install.sh installs the binary, the original names and the units under a root", async () => {
  const root = await Deno.makeTempDir({ prefix: "ovnk8s-install-" });
  try {
    const bin = `${root}/built`;
    await Deno.writeTextFile(bin, '#!/bin/sh\necho fake-ovn-k8s "$(basename "$0")" "$@"\n', {
      mode: 0o755,
    });
    const r = await sh(["--binary", bin, "--prefix", "/opt/x", "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    const installed = `${root}/opt/x/bin/ovn-k8s`;
    assert.equal((await Deno.stat(installed)).mode! & 0o777, 0o755);
    for (
      const name of [
        "ovn-k8s-overlay",
        "ovn-k8s-util",
        "ovn-k8s-gateway-helper",
        "ovn-k8s-watcher",
        "ovn-k8s-cni-overlay",
      ]
    ) {
      assert.equal(await Deno.readLink(`${root}/opt/x/bin/${name}`), "ovn-k8s", name);
      const out = await new Deno.Command(`${root}/opt/x/bin/${name}`, {
        args: ["a"],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(out.stdout).trim(), `fake-ovn-k8s ${name} a`);
    }
    const unit = await Deno.readTextFile(`${root}/etc/systemd/system/ovn-k8s.service`);
    assert.match(unit, /^ExecStart=\/opt\/x\/bin\/ovn-k8s run$/m);
    assert.ok((await Deno.stat(`${root}/etc/systemd/system/ovn-k8s-watcher.service`)).isFile);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("deploy/install.sh rejects a missing binary with exit 2 and installs nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "ovnk8s-install-" });
  try {
    const r = await sh(["--binary", `${root}/nope`, "--root", root]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot install --binary ".*nope": not an executable file/);
    assert.deepEqual([...Deno.readDirSync(root)], []);
    const u = await sh(["--bogus"]);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /unknown argument "--bogus"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
