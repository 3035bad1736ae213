/**
 * A private CA and a server certificate for the emulator's https, made with `openssl`
 * through the injected {@linkcode Runner} (`node:crypto` parses X.509 but cannot issue
 * certificates). EC P-256, ten years, SANs for the given addresses plus `localhost`,
 * `127.0.0.1` and `::1`.
 *
 * @module
 */
import type { Runner } from "../../exec/mod.ts";

/** PEM files of a generated PKI. */
export interface EmulatorPki {
  /** CA certificate (PEM) that clients trust. */
  caPem: string;
  /** Server certificate (PEM). */
  certPem: string;
  /** Server key (PEM). */
  keyPem: string;
  /** Paths of the files: `ca.crt`, `server.crt`, `server.key` in the directory. */
  caPath: string;
  certPath: string;
  keyPath: string;
}

/**
 * Generates (or reuses, when all files exist) a CA and a server certificate in `dir`.
 *
 * @param runner runs `openssl`
 * @param dir directory for the files (created)
 * @param sans extra subject alternative names: IP addresses or DNS names
 * @returns the PEM texts and paths
 * @throws {CommandError} when openssl fails
 */
export async function ensureEmulatorPki(
  runner: Runner,
  dir: string,
  sans: readonly string[] = [],
): Promise<EmulatorPki> {
  await Deno.mkdir(dir, { recursive: true });
  const caPath = `${dir}/ca.crt`;
  const certPath = `${dir}/server.crt`;
  const keyPath = `${dir}/server.key`;
  const exists = async (p: string) => {
    try {
      await Deno.stat(p);
      return true;
    } catch {
      return false;
    }
  };
  if (!(await exists(caPath) && await exists(certPath) && await exists(keyPath))) {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await runner.run([
      "openssl",
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${dir}/ca.key`,
      "-out",
      caPath,
      "-days",
      "3650",
      "-subj",
      "/CN=ovn-k8s API emulator CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await runner.run([
      "openssl",
      "req",
      ...ec,
      "-keyout",
      keyPath,
      "-out",
      `${dir}/server.csr`,
      "-subj",
      "/CN=ovn-k8s-api-emulator",
    ]);
    const names = [...new Set(["127.0.0.1", "::1", "localhost", ...sans])].map((s) =>
      /^[\d.]+$/.test(s) || s.includes(":") ? `IP:${s}` : `DNS:${s}`
    );
    await Deno.writeTextFile(
      `${dir}/server.ext`,
      [
        `subjectAltName=${names.join(",")}`,
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "",
      ].join("\n"),
    );
    await runner.run([
      "openssl",
      "x509",
      "-req",
      "-in",
      `${dir}/server.csr`,
      "-CA",
      caPath,
      "-CAkey",
      `${dir}/ca.key`,
      "-CAcreateserial",
      "-out",
      certPath,
      "-days",
      "3650",
      "-extfile",
      `${dir}/server.ext`,
    ]);
  }
  return {
    caPem: await Deno.readTextFile(caPath),
    certPem: await Deno.readTextFile(certPath),
    keyPem: await Deno.readTextFile(keyPath),
    caPath,
    certPath,
    keyPath,
  };
}
