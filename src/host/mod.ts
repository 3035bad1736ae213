/**
 * Host plumbing: network namespaces, links, addresses, routes, sysctls and offloads,
 * each one `ip`/`sysctl`/`ethtool` command through the injected {@linkcode Runner}. Work
 * in a namespace takes the namespace as a value; the process never switches namespace.
 *
 * ```ts
 * const node = new HostNet(runner, "lab-n1");
 * await node.sysctl({ "net.ipv4.conf.all.rp_filter": 1 });
 * await node.addAddress("br-phy", "172.31.7.11/24");
 * ```
 *
 * @module
 */
export type { Runner } from "../exec/mod.ts";
export * from "./netns.ts";
export * from "./link.ts";
