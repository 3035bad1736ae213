/**
 * Test helper: a throw-away PKI made with openssl: a CA, a server key/cert and a client
 * key/cert signed by it (what ovs-pki would give an OVN deployment).
 *
 * @module
 */

/** PEM file paths. */
export interface TestPki {
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (out.code !== 0) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Creates the CA and two certificates in `dir`.
 *
 * @param dir an existing private directory
 * @returns the file paths
 */
export async function makeTestPki(dir: string): Promise<TestPki> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
  ], dir);
  for (const who of ["server", "client"]) {
    await openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${who}`,
      "-keyout",
      `${who}-key.pem`,
      "-out",
      `${who}.csr`,
    ], dir);
    await openssl([
      "x509",
      "-req",
      "-in",
      `${who}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      `${who}-cert.pem`,
    ], dir);
  }
  return {
    ca: `${dir}/ca.pem`,
    serverKey: `${dir}/server-key.pem`,
    serverCert: `${dir}/server-cert.pem`,
    clientKey: `${dir}/client-key.pem`,
    clientCert: `${dir}/client-cert.pem`,
  };
}
