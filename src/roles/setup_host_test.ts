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
    [{ "gateway-mode": "router" }, /--gateway-mode "router": expected nic, bridge or auto/],
    [
      { "gateway-ip": "198.51.100.11" },
      /--gateway-ip "198\.51\.100\.11": not an IPv4 address with prefix/,
    ],
    [{ "gateway-ip": "198.51.100.11/40" }, /--gateway-ip/],
    [{ "gateway-nexthop": "gw" }, /--gateway-nexthop "gw": not an IPv4 address/],
    [{ "gateway-rampout": "10.244.1.0/24,10.244.2/24" }, /--gateway-rampout "10\.244\.2\/24"/],
    [{ "gateway-nic": "averyverylongnic0" }, /--gateway-nic .* at most 15/],
  ];
  for (const [v, re] of cases) {
    assert.throws(() => desiredHostIds(flags(v)), (e: unknown) => {
      assert.equal(exitCodeOf(e), 2);
      assert.match((e as Error).message, re);
      return true;
    });
  }
});

Deno.test("desiredHostIds() maps the gateway flags to the keys run reads", () => {
  assert.deepEqual(
    desiredHostIds(flags({
      "gateway-interface": "breth0",
      "gateway-mode": "bridge",
      "gateway-ip": "198.51.100.11/24",
      "gateway-nexthop": "198.51.100.1",
      "gateway-rampout": "10.244.1.0/24, 10.244.2.0/24",
      "gateway-nic": "eth0",
    })),
    {
      "ovn-k8s-gateway-interface": "breth0",
      "ovn-k8s-gateway-mode": "bridge",
      "ovn-k8s-gateway-ip": "198.51.100.11/24",
      "ovn-k8s-gateway-nexthop": "198.51.100.1",
      "ovn-k8s-gateway-rampout": "10.244.1.0/24,10.244.2.0/24",
      "ovn-k8s-gateway-nic": "eth0",
    },
  );
});
