/**
 * Just enough OpenAPI for kubectl. kubectl validates what it applies: first it asks
 * `/openapi/v3` whether the server validates fields itself (a PATCH operation for the
 * kind that takes the `fieldValidation` query parameter); if so it sends
 * `fieldValidation=Strict` and skips client-side schema validation. These documents
 * say so for every served kind, with open object schemas. The PATCH operations do not
 * list `application/strategic-merge-patch+json`, so `kubectl apply` computes its
 * strategic merge patch from its compiled-in types instead of these open schemas (the
 * server still accepts strategic merge patches).
 *
 * @module
 */
import { apiVersionOf, collectionPath, type ResourceDef, RESOURCES } from "../resources.ts";

function gvKey(r: ResourceDef): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}

function gvk(r: ResourceDef) {
  return { group: r.group, version: r.version, kind: r.kind };
}

/**
 * The `/openapi/v3` index: one entry per group version.
 *
 * @returns the discovery document
 */
export function openApiV3Index(): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of RESOURCES) {
    const k = gvKey(r);
    paths[k] = { serverRelativeURL: `/openapi/v3/${k}?hash=ovnk8semulator1` };
  }
  return { paths };
}

function schemaName(r: ResourceDef): string {
  return `io.k8s.api.${r.group ? r.group.split(".")[0] : "core"}.${r.version}.${r.kind}`;
}

/**
 * The OpenAPI v3 document of one group version.
 *
 * @param gv `api/v1` or `apis/<group>/<version>`
 * @returns the document, or `undefined` when no served resource is in it
 */
export function openApiV3Spec(gv: string): Record<string, unknown> | undefined {
  const rs = RESOURCES.filter((r) => gvKey(r) === gv);
  if (rs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const body = (r: ResourceDef) => ({
    content: { "application/json": { schema: { $ref: `#/components/schemas/${schemaName(r)}` } } },
  });
  const ok = (r: ResourceDef) => ({ "200": body(r) });
  const param = (name: string) => ({
    name,
    in: "query",
    schema: { type: "string", uniqueItems: true },
  });
  for (const r of rs) {
    const ext = { "x-kubernetes-group-version-kind": gvk(r) };
    const coll = r.namespaced
      ? collectionPath(r, "{namespace}").replace("%7Bnamespace%7D", "{namespace}")
      : collectionPath(r);
    paths[coll] = {
      get: {
        operationId: `list${r.kind}`,
        responses: ok(r),
        ...ext,
        "x-kubernetes-action": "list",
      },
      post: {
        operationId: `create${r.kind}`,
        parameters: [param("dryRun"), param("fieldManager"), param("fieldValidation")],
        requestBody: body(r),
        responses: ok(r),
        ...ext,
        "x-kubernetes-action": "post",
      },
    };
    paths[`${coll}/{name}`] = {
      get: { operationId: `read${r.kind}`, responses: ok(r), ...ext, "x-kubernetes-action": "get" },
      put: {
        operationId: `replace${r.kind}`,
        parameters: [param("dryRun"), param("fieldManager"), param("fieldValidation")],
        requestBody: body(r),
        responses: ok(r),
        ...ext,
        "x-kubernetes-action": "put",
      },
      patch: {
        operationId: `patch${r.kind}`,
        parameters: [
          param("dryRun"),
          param("fieldManager"),
          param("fieldValidation"),
          { name: "force", in: "query", schema: { type: "boolean", uniqueItems: true } },
        ],
        requestBody: {
          content: Object.fromEntries(
            ["application/json-patch+json", "application/merge-patch+json"].map((
              t,
            ) => [t, { schema: { type: "object" } }]),
          ),
        },
        responses: ok(r),
        ...ext,
        "x-kubernetes-action": "patch",
      },
      delete: {
        operationId: `delete${r.kind}`,
        responses: ok(r),
        ...ext,
        "x-kubernetes-action": "delete",
      },
    };
    schemas[schemaName(r)] = {
      type: "object",
      description: `${r.kind} (${apiVersionOf(r)}), served by the ovn-k8s API emulator`,
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
      "x-kubernetes-preserve-unknown-fields": true,
      "x-kubernetes-group-version-kind": [gvk(r)],
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths,
    components: { schemas },
  };
}

/**
 * A minimal `/openapi/v2` document (JSON) for clients that ask for it.
 *
 * @returns the Swagger 2.0 document
 */
export function openApiV2(): Record<string, unknown> {
  const definitions: Record<string, unknown> = {};
  for (const r of RESOURCES) {
    definitions[schemaName(r)] = {
      type: "object",
      "x-kubernetes-group-version-kind": [gvk(r)],
    };
  }
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths: {},
    definitions,
  };
}
