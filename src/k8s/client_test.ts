import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { forceHttp1, kubeConfigFor } from "./client.ts";
import { makeConnection } from "./connection_info.ts";

Deno.test({
  name: "kubeConfigFor() skips TLS verification only for plain http or when told to",
  sanitizeOps: false,
  fn() {
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const https = kubeConfigFor(
      makeConnection({ server: "https://h:6443", caPem: ca, token: "t", source: "x" }),
    );
    assert.equal(https.getCurrentCluster()?.skipTLSVerify, false);
    assert.equal(atob(https.getCurrentCluster()!.caData!), ca);
    assert.equal(https.getCurrentUser()?.token, "t");
    const http = kubeConfigFor(makeConnection({ server: "http://h:8080", source: "x" }));
    assert.equal(http.getCurrentCluster()?.skipTLSVerify, true);
    const off = kubeConfigFor(
      makeConnection({ server: "https://h:6443", insecureSkipTlsVerify: true, source: "x" }),
    );
    assert.equal(off.getCurrentCluster()?.skipTLSVerify, true);
  },
});

Deno.test({
  name: "forceHttp1() refuses a client-node whose dispatcher hook is gone",
  sanitizeOps: false,
  fn() {
    const kc = new KubeConfig();
    Object.defineProperty(kc, "createDispatcher", { value: undefined });
    assert.throws(() => forceHttp1(kc), /Cannot force HTTP\/1\.1 on @kubernetes\/client-node/);
  },
});
