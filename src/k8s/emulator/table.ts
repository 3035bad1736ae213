/**
 * Server-side printing: the `meta.k8s.io/v1` `Table` kubectl asks for with
 * `Accept: application/json;as=Table;...`, with the columns kubectl shows for each kind.
 *
 * @module
 */
import type { KubeObject, ResourceDef } from "../resources.ts";

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: KubeObject) => string | number;
}

type Any = Record<string, unknown> & { [k: string]: Any | undefined };

function spec(o: KubeObject): Any {
  return (o.spec ?? {}) as Any;
}

function status(o: KubeObject): Any {
  return (o.status ?? {}) as Any;
}

/**
 * Formats an age the way kubectl does (`5s`, `3m`, `2h`, `4d`).
 *
 * @param created RFC 3339 timestamp
 * @param nowMs current time in ms
 * @returns the age, or `<unknown>`
 */
export function age(created: string | undefined, nowMs = Date.now()): string {
  if (!created) return "<unknown>";
  const s = Math.max(0, Math.floor((nowMs - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const NAME: Column = {
  name: "Name",
  type: "string",
  format: "name",
  cell: (o) => o.metadata.name ?? "",
};
const AGE: Column = { name: "Age", type: "string", cell: (o) => age(o.metadata.creationTimestamp) };

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    NAME,
    {
      name: "Ready",
      type: "string",
      cell: (o) => {
        const total = ((spec(o)["containers"] ?? []) as unknown as unknown[]).length;
        const cs = (status(o)["containerStatuses"] ?? []) as unknown as { ready?: boolean }[];
        return `${cs.filter((c) => c.ready).length}/${total}`;
      },
    },
    { name: "Status", type: "string", cell: (o) => String(status(o)["phase"] ?? "Unknown") },
    { name: "Restarts", type: "string", cell: () => "0" },
    AGE,
    {
      name: "IP",
      type: "string",
      priority: 1,
      cell: (o) => String(status(o)["podIP"] ?? "<none>"),
    },
    {
      name: "Node",
      type: "string",
      priority: 1,
      cell: (o) => String(spec(o)["nodeName"] ?? "<none>"),
    },
  ],
  Service: [
    NAME,
    { name: "Type", type: "string", cell: (o) => String(spec(o)["type"] ?? "ClusterIP") },
    { name: "Cluster-IP", type: "string", cell: (o) => String(spec(o)["clusterIP"] ?? "<none>") },
    {
      name: "External-IP",
      type: "string",
      cell: (o) => ((spec(o)["externalIPs"] ?? []) as unknown as string[]).join(",") || "<none>",
    },
    {
      name: "Port(s)",
      type: "string",
      cell: (o) =>
        ((spec(o)["ports"] ?? []) as unknown as {
          port: number;
          nodePort?: number;
          protocol?: string;
        }[])
          .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`)
          .join(",") || "<none>",
    },
    AGE,
    {
      name: "Selector",
      type: "string",
      priority: 1,
      cell: (o) =>
        Object.entries((spec(o)["selector"] ?? {}) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`).join(",") || "<none>",
    },
  ],
  Endpoints: [
    NAME,
    {
      name: "Endpoints",
      type: "string",
      cell: (o) => {
        const subsets = (o["subsets"] ?? []) as {
          addresses?: { ip: string }[];
          ports?: { port: number }[];
        }[];
        const eps = subsets.flatMap((s) =>
          (s.addresses ?? []).flatMap((a) =>
            (s.ports ?? [{ port: 0 }]).map((p) => (p.port ? `${a.ip}:${p.port}` : a.ip))
          )
        );
        return eps.join(",") || "<none>";
      },
    },
    AGE,
  ],
  Node: [
    NAME,
    {
      name: "Status",
      type: "string",
      cell: (o) => {
        const c = ((status(o)["conditions"] ?? []) as unknown as { type: string; status: string }[])
          .find((x) => x.type === "Ready");
        return c?.status === "True" ? "Ready" : c ? "NotReady" : "Unknown";
      },
    },
    { name: "Roles", type: "string", cell: () => "<none>" },
    AGE,
    {
      name: "Version",
      type: "string",
      cell: (o) => String((status(o)["nodeInfo"] as Any | undefined)?.["kubeletVersion"] ?? ""),
    },
  ],
  Namespace: [NAME, {
    name: "Status",
    type: "string",
    cell: (o) => String(status(o)["phase"] ?? ""),
  }, AGE],
  EndpointSlice: [
    NAME,
    { name: "AddressType", type: "string", cell: (o) => String(o["addressType"] ?? "") },
    {
      name: "Endpoints",
      type: "string",
      cell: (o) =>
        ((o["endpoints"] ?? []) as { addresses: string[] }[]).flatMap((e) => e.addresses).join(
          ",",
        ) ||
        "<unset>",
    },
    AGE,
  ],
  Lease: [
    NAME,
    { name: "Holder", type: "string", cell: (o) => String(spec(o)["holderIdentity"] ?? "") },
    AGE,
  ],
};

/** How much of each object a Table row carries (`includeObject`). */
export type IncludeObject = "None" | "Metadata" | "Object";

/**
 * Renders objects as a Table.
 *
 * @param r their resource
 * @param items the objects
 * @param include `includeObject` of the request (default `Metadata`)
 * @param resourceVersion list resourceVersion to carry
 * @returns the Table object
 */
export function toTable(
  r: ResourceDef,
  items: readonly KubeObject[],
  include: IncludeObject = "Metadata",
  resourceVersion?: string,
): KubeObject {
  const cols = COLUMNS[r.kind] ?? [NAME, AGE];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: "",
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      ...(include === "Object" ? { object: o } : include === "Metadata"
        ? {
          object: {
            kind: "PartialObjectMetadata",
            apiVersion: "meta.k8s.io/v1",
            metadata: o.metadata,
          },
        }
        : {}),
    })),
  };
}
