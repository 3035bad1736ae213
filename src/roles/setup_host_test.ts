import assert from "node:assert/strict";
import { exitCodeOf } from "../cli/mod.ts";
import { desiredHostIds } from "./setup_host.ts";

const flags = (v: Record<string, string>) => ({ string: (n: string) => v[n] });

Deno.test("desiredHostIds() maps flags to external_ids, defaulting the encap type", () => {
  assert.deepEqual(
    desiredHostIds(flags({
      "ovn-nb": "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641",
      "ovn-remote": "ssl:10.0.0.1:6642",
      "encap-ip": "10.0.0.11",
      roles: "Minion,gateway,minion",
      "node-name": "Node1",
      "cluster-ip-subnet": "10.244.0.0/16",
      "node-subnet": "auto",
      "k8s-api-server": "10.0.0.1:8080",
    })),
    {
      "ovn-nb": "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641",
      "ovn-remote": "ssl:10.0.0.1:6642",
      "ovn-encap-ip": "10.0.0.11",
      "ovn-encap-type": "geneve",
      "ovn-k8s-roles": "minion,gateway",
      "ovn-k8s-node-name": "node1",
      "ovn-k8s-cluster-subnet": "10.244.0.0/16",
      "ovn-k8s-node-subnet": "auto",
      "k8s-api-server": "10.0.0.1:8080",
    },
  );
  assert.deepEqual(desiredHostIds(flags({})), {});
});

Deno.test("desiredHostIds() rejects bad values naming the flag", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ "encap-type": "gre" }, /--encap-type "gre": expected one of geneve, stt, vxlan/],
    [{ "encap-ip": "10.0.0" }, /--encap-ip "10\.0\.0": not an IPv4 address/],
    [{ "ovn-nb": "10.0.0.1:6641" }, /--ovn-nb "10\.0\.0\.1:6641"/],
    [{ roles: "master,router" }, /unknown role router/],
    [{ "node-name": "" }, /--node-name "": it is empty/],
    [{ "cluster-ip-subnet": "10.0.0.0/33" }, /--cluster-ip-subnet "10\.0\.0\.0\/33"/],
    [
      { "cluster-ip-subnet": "10.0.0.0/16", "node-subnet": "10.1.0.0/24" },
      /outside --cluster-ip-subnet/,
    ],
    [{ "gateway-interface": "averyverylongnic0" }, /--gateway-interface .* at most 15/],
    [{ mtu: "99999" }, /--mtu "99999"/],
  ];
  for (const [v, re] of cases) {
    assert.throws(() => desiredHostIds(flags(v)), (e: unknown) => {
      assert.equal(exitCodeOf(e), 2);
      assert.match((e as Error).message, re);
      return true;
    });
  }
});
