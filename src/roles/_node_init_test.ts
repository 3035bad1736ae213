import assert from "node:assert/strict";
import { parseNetConf } from "../cni/mod.ts";
import { cniConfig, parseCidrFlag } from "./_node_init.ts";

Deno.test("cniConfig() is a CNI 1.0.0 config the ovn_cni plugin accepts", () => {
  const text = cniConfig({ mtu: 1380, ovsDb: "unix:/run/n1/db.sock" });
  const raw = JSON.parse(text);
  assert.equal(raw.cniVersion, "1.0.0");
  assert.equal(raw.type, "ovn_cni");
  const conf = parseNetConf(text);
  assert.equal(conf.mtu, 1380);
  assert.equal(conf.bridge, "br-int");
  assert.equal(conf.ovsdb, "unix:/run/n1/db.sock");
});

Deno.test("parseCidrFlag() names the flag and says what is wrong", () => {
  assert.equal(parseCidrFlag("--x", "10.0.0.0/8").toString(), "10.0.0.0/8");
  assert.throws(() => parseCidrFlag("--x", "10.0.0/8"), /--x "10\.0\.0\/8": not an IPv4 CIDR/);
  assert.throws(
    () => parseCidrFlag("--x", "10.0.0.1/8"),
    /--x "10\.0\.0\.1\/8": host bits are set; did you mean 10\.0\.0\.0\/8\?/,
  );
});
