/**
 * The in-process Kubernetes API emulator used by the sandbox and the tests: pods,
 * services, endpoints, endpointslices, nodes, namespaces and leases over http or https,
 * with watches, discovery, OpenAPI and Tables enough for the real kubectl, and an
 * endpoints controller. Run it as its own process with `cli.ts`.
 *
 * Not served: protobuf, server-side apply, dryRun, deletecollection, field validation
 * beyond JSON well-formedness (kubectl's `fieldValidation=Strict` is accepted and
 * ignored), pagination (`limit` is ignored; lists are whole), graceful pod deletion.
 *
 * @module
 */
export { EMULATOR_USAGE, emulatorFromArgs } from "./cli.ts";
export { buildEndpoints, buildEndpointSlices, podIpOf } from "./endpoints.ts";
export { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
export { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
export { type Emulator, type EmulatorOptions, startEmulator } from "./server.ts";
export { ApiError, EmulatorStore, type Snapshot, type StoreOptions } from "./store.ts";
export { toTable } from "./table.ts";
export { type EmulatorPki, ensureEmulatorPki } from "./tls.ts";
