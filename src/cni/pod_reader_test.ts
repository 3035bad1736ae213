import assert from "node:assert/strict";
import {
  accessFromExternalIds,
  FetchPodReader,
  HttpPodReader,
  podReaderFor,
} from "./pod_reader.ts";
import {
  serveTestTls,
  TEST_CA_PEM,
  TEST_SERVER_CERT_PEM,
  TEST_SERVER_KEY_PEM,
} from "./tls_testdata.ts";

Deno.test("accessFromExternalIds() reads the original's keys", () => {
  assert.equal(accessFromExternalIds({}), undefined);
  assert.deepEqual(
    accessFromExternalIds({
      "k8s-api-server": "10.0.0.1:8080",
      "k8s-api-token": "t",
      "k8s-ca-certificate": "-----BEGIN-----\\nX\\n-----END-----",
    }),
    {
      server: "http://10.0.0.1:8080",
      token: "t",
      caPem: "-----BEGIN-----\nX\n-----END-----",
      source: "OVS external_ids:k8s-api-server",
    },
  );
  assert.equal(
    accessFromExternalIds({ "k8s-api-server": "https://api:6443/" })!.server,
    "https://api:6443",
  );
});

for (const kind of ["FetchPodReader", "HttpPodReader"] as const) {
  Deno.test(`${kind}.getPod() GETs the pod with the token, 404 is undefined`, async () => {
    const seen: { path: string; auth: string | null }[] = [];
    await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const path = new URL(req.url).pathname;
      seen.push({ path, auth: req.headers.get("authorization") });
      if (path.endsWith("/pods/web-1")) {
        return Response.json({ metadata: { uid: "u1", annotations: { ovn: "{}", n: 5 } } });
      }
      if (path.endsWith("/pods/boom")) return new Response("nope", { status: 500 });
      if (path.endsWith("/pods/html")) return new Response("<html>");
      return new Response("{}", { status: 404 });
    });
    const access = { server: `http://127.0.0.1:${server.addr.port}`, token: "tok", source: "test" };
    // podReaderFor() picks HttpPodReader for a server without a client certificate.
    const reader = kind === "FetchPodReader" ? new FetchPodReader(access) : podReaderFor(access);
    assert.equal(reader.constructor.name, kind);
    assert.deepEqual(await reader.getPod("default", "web-1"), {
      uid: "u1",
      annotations: { ovn: "{}" },
    });
    assert.equal(await reader.getPod("default", "missing"), undefined);
    await assert.rejects(reader.getPod("default", "boom"), /HTTP 500 nope/);
    await assert.rejects(reader.getPod("default", "html"), /not JSON: <html>/);
    assert.deepEqual(seen[0], {
      path: "/api/v1/namespaces/default/pods/web-1",
      auth: "Bearer tok",
    });
    reader.close();
  });
}

Deno.test("podReaderFor() needs FetchPodReader only for a client certificate over https", () => {
  assert.ok(podReaderFor({ server: "https://h:6443", source: "t" }) instanceof HttpPodReader);
  const withCert = podReaderFor({
    server: "https://h:6443",
    certPem: TEST_SERVER_CERT_PEM,
    keyPem: TEST_SERVER_KEY_PEM,
    source: "t",
  });
  assert.ok(withCert instanceof FetchPodReader);
  withCert.close();
  assert.throws(() => new HttpPodReader({ server: "ftp://h", source: "t" }), /only http: and/);
  assert.throws(
    () => new HttpPodReader({ server: "https://h", certPem: "C", keyPem: "K", source: "t" }),
    /no client certificate; FetchPodReader does/,
  );
  assert.throws(
    () => podReaderFor({ server: "https://h", insecure: true, source: "t" }),
    /insecure-skip-tls-verify is not supported/,
  );
});

Deno.test("HttpPodReader.getPod() reads over https trusting caPem, fails without it", async () => {
  const seen: (string | null)[] = [];
  await using server = serveTestTls((req) => {
    seen.push(req.headers.get("authorization"));
    return Response.json({ metadata: { uid: "u2", annotations: { ovn: "a" } } });
  });
  const server_ = `https://127.0.0.1:${server.addr.port}`;
  const reader = podReaderFor({ server: server_, token: "tk", caPem: TEST_CA_PEM, source: "t" });
  assert.ok(reader instanceof HttpPodReader);
  assert.deepEqual(await reader.getPod("ns", "p"), { uid: "u2", annotations: { ovn: "a" } });
  assert.deepEqual(seen, ["Bearer tk"]);
  const untrusted = podReaderFor({ server: server_, source: "t" });
  await assert.rejects(untrusted.getPod("ns", "p"), /TLS handshake failed/);
  assert.equal(seen.length, 1);
});
