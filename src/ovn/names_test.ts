import assert from "node:assert/strict";
import {
  makeJoinToRouterPortName,
  makeManagementInterfaceName,
  makeManagementPortName,
  makeRouterToJoinPortName,
  makeRouterToSwitchPortName,
  makeSwitchToRouterPortName,
  normalizeNodeName,
} from "./names.ts";

Deno.test("normalizeNodeName() lowercases and accepts DNS-1123 subdomains", () => {
  assert.equal(normalizeNodeName("Kube-Minion1"), "kube-minion1");
  assert.equal(normalizeNodeName(" node.example.com "), "node.example.com");
});

Deno.test("normalizeNodeName() rejects empty and invalid names with the reason", () => {
  assert.throws(() => normalizeNodeName(""), /empty/);
  assert.throws(() => normalizeNodeName("node_1"), /only letters, digits/);
  assert.throws(() => normalizeNodeName("-node"), /starting and ending/);
  assert.throws(() => normalizeNodeName("a".repeat(254)), /254 characters/);
});

Deno.test("make*Name() follow the original's names", () => {
  assert.equal(makeRouterToSwitchPortName("n1"), "rtos-n1");
  assert.equal(makeSwitchToRouterPortName("n1"), "stor-n1");
  assert.equal(makeManagementPortName("averyverylongnodename"), "k8s-averyverylongnodename");
  assert.equal(makeManagementInterfaceName("averyverylongnodename"), "k8s-averyverylo");
  assert.equal(makeRouterToJoinPortName("k8smaster"), "rtoj-k8smaster");
  assert.equal(makeJoinToRouterPortName("ovn_cluster_router"), "jtor-ovn_cluster_router");
});
