/**
 * The node controller: when a Kubernetes Node is deleted, its node switch goes too
 * (with its ports: pod ports, `stor-`, `k8s-`), and the cluster router's `rtos-<node>`
 * port. Only switches that master-init/minion-init made (owner `node-init`, kind
 * `node-switch`, key = node name) are ever deleted.
 *
 * Safety rule: a cluster whose API has no Node object at all (the sandbox, tests, a
 * cluster whose nodes are not registered as Kubernetes Nodes) deletes nothing: the
 * watcher cannot tell a deleted node from one that was never registered. The repair
 * pass logs which switches it keeps for that reason.
 *
 * @module
 */
import { objectKey } from "../k8s/cache.ts";
import type { Informer } from "../k8s/informer.ts";
import { findResource, type KubeObject } from "../k8s/resources.ts";
import { INIT_CONTROLLER, makeRouterToSwitchPortName, OWNER_IDS } from "../ovn/mod.ts";
import type { Operation } from "../ovsdb/mod.ts";
import type { WatcherContext, WatcherPart } from "./watcher.ts";
import { WorkQueue } from "./work_queue.ts";
import { registerQueueMetrics, runWorker } from "./worker.ts";

const NODE_RESOURCE = findResource("nodes")!;

/** Nodes -> deletion of the switches of deleted nodes. */
export class NodeController {
  /** The queue (exposed for tests). */
  readonly queue: WorkQueue<string> = new WorkQueue<string>({ name: "nodes" });
  #nodes!: Informer<KubeObject>;
  #ctx!: WatcherContext;

  /** The watcher part. */
  get part(): WatcherPart {
    return {
      name: "nodes",
      nbMonitor: {
        Logical_Switch: ["name", "ports", "other_config", "external_ids"],
        Logical_Router: ["name", "ports", "external_ids"],
        Logical_Router_Port: ["name", "external_ids"],
      },
      setup: (ctx) => {
        this.#ctx = ctx;
        registerQueueMetrics(ctx.metrics, this.queue);
        this.#nodes = ctx.informer(NODE_RESOURCE);
        this.#nodes.addHandlers({ delete: (n) => this.queue.add(objectKey(n)) });
      },
      repair: async (ctx) => {
        const stale = this.#ownedSwitches().filter((s) => !this.#nodes.cache.get(s.node));
        if (stale.length && this.#nodes.cache.size === 0) {
          ctx.log.info("no Kubernetes Node objects: keeping every node switch", {
            switches: stale.map((s) => s.node).join(","),
          });
          return;
        }
        const failed = await this.reconcile(stale.map((s) => s.node));
        ctx.log.info("nodes repaired", {
          staleSwitchesDeleted: stale.length - failed.size,
        });
      },
      run: (ctx, signal) =>
        runWorker({
          queue: this.queue,
          reconcile: (keys) => this.reconcile(keys),
          batchSize: 50,
          log: ctx.log,
          metrics: ctx.metrics,
          signal,
        }).finally(() => this.queue.shutdown()),
    };
  }

  #ownedSwitches(): { node: string; uuid: string }[] {
    const out: { node: string; uuid: string }[] = [];
    for (const s of this.#ctx.nb.cache.table("Logical_Switch")) {
      const ids = s.external_ids;
      const key = ids[OWNER_IDS.key];
      if (
        ids[OWNER_IDS.controller] === INIT_CONTROLLER && ids[OWNER_IDS.kind] === "node-switch" &&
        key
      ) {
        out.push({ node: key, uuid: s._uuid });
      }
    }
    return out;
  }

  /**
   * The operations that delete a node's switch and router port (none when the node
   * exists, or when no Node object exists at all).
   *
   * @param node node name
   * @returns the operations
   */
  planNode(node: string): Operation[] {
    if (this.#nodes.cache.get(node) || this.#nodes.cache.size === 0) return [];
    const sw = this.#ownedSwitches().find((s) => s.node === node);
    if (!sw) return [];
    const ops: Operation[] = [
      { op: "delete", table: "Logical_Switch", where: [["_uuid", "==", sw.uuid]] },
    ];
    const cache = this.#ctx.nb.cache;
    const rtos = cache.table("Logical_Router_Port").find((p) =>
      p.name === makeRouterToSwitchPortName(node) &&
      p.external_ids[OWNER_IDS.controller] === INIT_CONTROLLER
    );
    if (rtos) {
      for (const r of cache.table("Logical_Router")) {
        if (r.ports.includes(rtos._uuid)) {
          ops.push({
            op: "mutate",
            table: "Logical_Router",
            where: [["_uuid", "==", r._uuid]],
            mutations: [["ports", "delete", [rtos._uuid]]],
          });
        }
      }
      ops.push({
        op: "delete",
        table: "Logical_Router_Port",
        where: [["_uuid", "==", rtos._uuid]],
      });
    }
    return ops;
  }

  /**
   * Deletes the switches of the given nodes when they are gone.
   *
   * @param nodes node names
   * @returns failed nodes with their errors
   */
  async reconcile(nodes: readonly string[]): Promise<Map<string, unknown>> {
    const groups = nodes.map((n) => ({ key: n, ops: this.planNode(n) }));
    const r = await this.#ctx.writer.commitGroups("nodes", groups);
    for (const g of groups) {
      if (g.ops.length && r.committed.has(g.key)) {
        this.#ctx.log.info("deleted the switch of a deleted node", { node: g.key });
      }
    }
    return r.failed;
  }
}
