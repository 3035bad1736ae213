/**
 * The CNI plugin: spec types (versions, config, environment, results, errors), the
 * `ovn` annotation, veth plumbing, the OVS port, and ADD/DEL/CHECK/VERSION over
 * injected boundaries. Loads no Kubernetes client library: the CNI path must start
 * fast.
 *
 * @module
 */
export * from "./annotation.ts";
export * from "./config.ts";
export * from "./env.ts";
export * from "./errors.ts";
export * from "./http_get.ts";
export * from "./kubeconfig.ts";
export * from "./names.ts";
export * from "./ovs_port.ts";
export * from "./ovsdb_ports.ts";
export * from "./plugin.ts";
export * from "./pod_reader.ts";
export * from "./result.ts";
export * from "./rollback.ts";
export * from "./sleep.ts";
export * from "./veth.ts";
export * from "./version.ts";
