/**
 * The CNI plugin's pod reader against an HTTPS API server whose certificate is signed by
 * a private CA: the CA from OVS `external_ids:k8s-ca-certificate` (PEM with literal
 * `\n`, as the original stored it) and from a kubeconfig's certificate-authority-data
 * are trusted; without them the request fails. Certificates are made here with openssl.
 *
 * @module
 */
import assert from "node:assert/strict";
import { accessFromExternalIds, FetchPodReader, loadKubeconfig } from "../../src/cni/mod.ts";
import { ProcessRunner } from "../../src/exec/mod.ts";

Deno.test("cni pod reader: https with the CA from OVS external_ids or a kubeconfig", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ovn-k8s-cni-tls-" });
  try {
    const run = new ProcessRunner();
    await run.run([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=test-ca",
      "-keyout",
      `${dir}/ca.key`,
      "-out",
      `${dir}/ca.crt`,
    ]);
    await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
    await run.run([
      "openssl",
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      `${dir}/srv.key`,
      "-out",
      `${dir}/srv.csr`,
    ]);
    await run.run([
      "openssl",
      "x509",
      "-req",
      "-in",
      `${dir}/srv.csr`,
      "-CA",
      `${dir}/ca.crt`,
      "-CAkey",
      `${dir}/ca.key`,
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      `${dir}/ext.cnf`,
      "-out",
      `${dir}/srv.crt`,
    ]);
    const ca = await Deno.readTextFile(`${dir}/ca.crt`);
    const seen: string[] = [];
    await using server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(`${dir}/srv.crt`),
      key: await Deno.readTextFile(`${dir}/srv.key`),
      onListen() {},
    }, (req) => {
      seen.push(req.headers.get("authorization") ?? "");
      return Response.json({ metadata: { uid: "u1", annotations: { ovn: "x" } } });
    });
    const url = `https://127.0.0.1:${server.addr.port}`;

    const fromOvs = accessFromExternalIds({
      "k8s-api-server": url,
      "k8s-api-token": "t-ovs",
      "k8s-ca-certificate": ca.replaceAll("\n", "\\n"),
    })!;
    const r1 = new FetchPodReader(fromOvs);
    assert.deepEqual(await r1.getPod("default", "p"), { uid: "u1", annotations: { ovn: "x" } });
    r1.close();

    await Deno.writeTextFile(
      `${dir}/kubeconfig`,
      `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${btoa(ca)}\n` +
        `    server: ${url}\n  name: c\ncontexts:\n- context:\n    cluster: c\n    user: u\n` +
        `  name: x\ncurrent-context: x\nusers:\n- name: u\n  user:\n    token: t-kc\n`,
    );
    const r2 = new FetchPodReader(await loadKubeconfig(`${dir}/kubeconfig`));
    assert.equal((await r2.getPod("default", "p"))?.uid, "u1");
    r2.close();
    assert.deepEqual(seen, ["Bearer t-ovs", "Bearer t-kc"]);

    const untrusted = new FetchPodReader({ server: url, source: "test" });
    await assert.rejects(untrusted.getPod("default", "p"));
    untrusted.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
