/**
 * `@kubernetes/client-node` 2.0.1 set up for Deno: a `KubeConfig` built from a
 * resolved {@linkcode Connection}, with every REST call forced onto HTTP/1.1.
 *
 * client-node's undici dispatcher offers HTTP/2 on TLS; under Deno, a GOAWAY from the
 * server (an API server restart) then crashes the whole process (nghttp2 assertion or
 * SIGSEGV). We replace `KubeConfig.createDispatcher` (not in the typings, so the exact
 * version is pinned in deno.json and `client_test.ts` guards it) with one cached undici
 * `Agent` per config that has `allowH2: false`. Proxies are not supported.
 *
 * Watches and lists do not use this transport (see `http.ts` and docs/k8s.md).
 * Tests that use this module need `sanitizeOps: false`: undici keeps a 1 s module timer.
 *
 * @module
 */
import { CoordinationV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig } from "@kubernetes/client-node";
import { Agent } from "undici";
import type { Connection } from "./connection_info.ts";

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

interface DispatcherOptions {
  type: "agent" | "none" | "proxy" | "socks";
  connect?: Record<string, unknown>;
}

interface KubeConfigInternals {
  createDispatcherOptions(cluster: unknown, agentOptions: unknown): DispatcherOptions;
  createDispatcher(cluster: unknown, agentOptions: unknown): unknown;
}

/**
 * Makes client-node use HTTP/1.1 only, with one pooled agent.
 *
 * @param kc the config to change
 * @returns the same config
 * @throws {TypeError} when the installed client-node no longer has the hooked method
 */
export function forceHttp1(kc: KubeConfig): KubeConfig {
  const internals = kc as unknown as KubeConfigInternals;
  if (
    typeof internals.createDispatcher !== "function" ||
    typeof internals.createDispatcherOptions !== "function"
  ) {
    throw new TypeError(
      "Cannot force HTTP/1.1 on @kubernetes/client-node: KubeConfig.createDispatcher is gone; " +
        "check the pinned version in deno.json (2.0.1)",
    );
  }
  let agent: Agent | undefined;
  let agentKey = "";
  internals.createDispatcher = (cluster, agentOptions) => {
    const o = internals.createDispatcherOptions(cluster, agentOptions);
    if (o.type === "proxy" || o.type === "socks") {
      throw new TypeError("Cannot use a proxy for the Kubernetes API: not supported by ovn-k8s");
    }
    const key = JSON.stringify(Object.keys(o.connect ?? {}));
    if (!agent || key !== agentKey) {
      agentKey = key;
      agent = new Agent({ ...(o.connect ? { connect: o.connect } : {}), allowH2: false });
    }
    return agent;
  };
  return kc;
}

/**
 * Builds a client-node `KubeConfig` for a connection, HTTP/1.1 only. Plain `http://`
 * servers get client-node's `skipTLSVerify` (which it demands for http; there is no
 * TLS to verify); for `https://` verification stays as the connection says.
 *
 * @param conn the resolved connection
 * @returns the config
 */
export function kubeConfigFor(conn: Connection): KubeConfig {
  const kc = new KubeConfig();
  const plain = conn.server.startsWith("http:");
  kc.loadFromOptions({
    clusters: [{
      name: "ovn-k8s",
      server: conn.server,
      skipTLSVerify: plain || conn.insecureSkipTlsVerify,
      ...(conn.caPem ? { caData: b64(conn.caPem) } : {}),
    }],
    users: [{
      name: "ovn-k8s",
      ...(conn.token ? { token: conn.token } : {}),
      ...(conn.certPem ? { certData: b64(conn.certPem) } : {}),
      ...(conn.keyPem ? { keyData: b64(conn.keyPem) } : {}),
    }],
    contexts: [{ name: "ovn-k8s", cluster: "ovn-k8s", user: "ovn-k8s" }],
    currentContext: "ovn-k8s",
  });
  return forceHttp1(kc);
}

/** The typed API clients ovn-k8s uses. */
export interface K8sApis {
  /** The underlying config. */
  kc: KubeConfig;
  /** core/v1: pods, services, endpoints, nodes, namespaces. */
  core: CoreV1Api;
  /** discovery.k8s.io/v1: endpointslices. */
  discovery: DiscoveryV1Api;
  /** coordination.k8s.io/v1: leases. */
  coordination: CoordinationV1Api;
}

/**
 * Creates the typed API clients for a connection.
 *
 * @param conn the resolved connection
 * @returns the clients
 */
export function createApis(conn: Connection): K8sApis {
  const kc = kubeConfigFor(conn);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}
