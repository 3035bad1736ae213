/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the way client-go does it:
 *
 * - a candidate reads the Lease; it may take it when nobody holds it, when it holds it
 *   already, or when the record has not changed for `leaseDurationMs` as measured on
 *   the candidate's own clock since it last saw the record change (no clock sync
 *   between hosts is assumed); writes carry the read `resourceVersion`, so of two
 *   candidates only one wins (the other gets 409);
 * - the leader renews every `retryPeriodMs`; when it could not renew for
 *   `renewDeadlineMs` (< lease duration) it gives up: {@linkcode LeaderElector.lost}
 *   aborts and the watcher stops working (and exits non-zero) before another
 *   candidate can take over;
 * - on a clean stop the leader releases the Lease (empty holder) so a standby takes
 *   over at once instead of after the lease duration.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { isConflict, isNotFound } from "../k8s/errors.ts";
import type { KubeHttp } from "../k8s/http.ts";
import { collectionPath, findResource, objectPath } from "../k8s/resources.ts";

/** A Lease object (the fields used). */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Lease reads and writes (the real one is {@linkcode httpLeaseApi}). */
export interface LeaseApi {
  /** The Lease, or `undefined` when absent. */
  get(namespace: string, name: string): Promise<Lease | undefined>;
  /** Creates it; throws a 409 error when it exists. */
  create(lease: Lease): Promise<Lease>;
  /** Replaces it; throws a 409 error when `resourceVersion` is stale. */
  update(lease: Lease): Promise<Lease>;
}

/**
 * Lease reads and writes over {@linkcode KubeHttp}.
 *
 * @param http the transport
 * @returns the API
 */
export function httpLeaseApi(http: KubeHttp): LeaseApi {
  const r = findResource("leases", "coordination.k8s.io")!;
  return {
    async get(namespace, name) {
      try {
        return await http.request<Lease>("GET", objectPath(r, namespace, name));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (lease) =>
      http.request<Lease>("POST", collectionPath(r, lease.metadata.namespace), {
        body: lease,
      }),
    update: (lease) =>
      http.request<Lease>("PUT", objectPath(r, lease.metadata.namespace, lease.metadata.name), {
        body: lease,
      }),
  };
}

/** Options of {@linkcode LeaderElector}. */
export interface LeaderElectionOptions {
  /** Lease namespace (default `kube-system`). */
  namespace?: string;
  /** Lease name (default `ovn-k8s-watcher`). */
  name?: string;
  /** This candidate's identity (default `<hostname>_<random>`). */
  identity: string;
  /** How long a Lease stays valid without renewal (default 15,000 ms). */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long (default 10,000 ms). */
  renewDeadlineMs?: number;
  /** Interval between attempts (default 2,000 ms). */
  retryPeriodMs?: number;
  /** Logger. */
  log: Logger;
  /** Clock (tests). */
  now?: () => number;
}

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** What "the record changed" compares: the spec and the object's resourceVersion. */
function recordOf(lease: Lease): string {
  return JSON.stringify({ ...lease.spec, rv: lease.metadata.resourceVersion });
}

function holderOf(record: string): string | undefined {
  return record ? (JSON.parse(record) as { holderIdentity?: string }).holderIdentity : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** One candidate of a Lease-based election. */
export class LeaderElector {
  readonly #api: LeaseApi;
  readonly #ns: string;
  readonly #name: string;
  readonly #id: string;
  readonly #duration: number;
  readonly #deadline: number;
  readonly #retry: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #lost = new AbortController();
  #observed = "";
  #observedAt = 0;
  #leader = false;
  #lastRenew = 0;
  #current: Lease | undefined;
  #renewing: Promise<void> | undefined;
  #stop = new AbortController();

  /**
   * @param api Lease access
   * @param opts identity, timings, logger
   */
  constructor(api: LeaseApi, opts: LeaderElectionOptions) {
    this.#api = api;
    this.#ns = opts.namespace ?? "kube-system";
    this.#name = opts.name ?? "ovn-k8s-watcher";
    this.#id = opts.identity;
    this.#duration = opts.leaseDurationMs ?? 15_000;
    this.#deadline = opts.renewDeadlineMs ?? 10_000;
    this.#retry = opts.retryPeriodMs ?? 2_000;
    this.#log = opts.log;
    this.#now = opts.now ?? (() => performance.now());
    if (!(this.#retry < this.#deadline && this.#deadline < this.#duration)) {
      throw new RangeError(
        `Cannot elect a leader with lease ${this.#duration} ms, renew deadline ${this.#deadline} ms ` +
          `and retry ${this.#retry} ms: need retry < renew deadline < lease duration`,
      );
    }
  }

  /** This candidate's identity. */
  get identity(): string {
    return this.#id;
  }

  /** Whether this candidate holds the Lease now. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** Aborts when leadership, once held, is lost. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /**
   * One attempt to take or renew the Lease.
   *
   * @returns whether this candidate holds it now
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#now();
    const wall = Date.now();
    const durS = Math.ceil(this.#duration / 1000);
    let cur = await this.#api.get(this.#ns, this.#name);
    if (!cur) {
      const lease: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.#name, namespace: this.#ns },
        spec: {
          holderIdentity: this.#id,
          leaseDurationSeconds: durS,
          acquireTime: microTime(wall),
          renewTime: microTime(wall),
          leaseTransitions: 0,
        },
      };
      try {
        cur = await this.#api.create(lease);
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
      this.#took(cur, now);
      return true;
    }
    const record = recordOf(cur);
    if (record !== this.#observed) {
      this.#observed = record;
      this.#observedAt = now;
    }
    const holder = cur.spec.holderIdentity ?? "";
    const theirDuration = (cur.spec.leaseDurationSeconds ?? durS) * 1000;
    if (holder !== "" && holder !== this.#id && this.#observedAt + theirDuration > now) {
      return false;
    }
    const mine = holder === this.#id;
    const next: Lease = {
      ...cur,
      spec: {
        ...cur.spec,
        holderIdentity: this.#id,
        leaseDurationSeconds: durS,
        renewTime: microTime(wall),
        acquireTime: mine && cur.spec.acquireTime ? cur.spec.acquireTime : microTime(wall),
        leaseTransitions: (cur.spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      const saved = await this.#api.update(next);
      this.#took(saved, now);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  #took(lease: Lease, now: number): void {
    this.#current = lease;
    this.#observed = recordOf(lease);
    this.#observedAt = now;
    this.#lastRenew = now;
  }

  /**
   * Waits until this candidate holds the Lease, then keeps renewing it in the
   * background until {@linkcode release} or loss ({@linkcode lost}).
   *
   * @param signal stops waiting (rejects with its reason)
   * @returns resolves once leader
   */
  async acquire(signal: AbortSignal): Promise<void> {
    let waitingLogged = false;
    while (!signal.aborted) {
      try {
        if (await this.tryAcquireOrRenew()) break;
        if (!waitingLogged) {
          this.#log.info("another watcher holds the lease; standing by", {
            lease: `${this.#ns}/${this.#name}`,
            holder: holderOf(this.#observed),
          });
          waitingLogged = true;
        }
      } catch (err) {
        this.#log.warn("cannot read or write the lease; retrying", {
          lease: `${this.#ns}/${this.#name}`,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      await sleep(this.#retry, signal);
    }
    if (signal.aborted) throw signal.reason;
    this.#leader = true;
    this.#log.info("acquired the lease; this watcher works", {
      lease: `${this.#ns}/${this.#name}`,
      identity: this.#id,
    });
    this.#renewing = this.#renewLoop();
  }

  async #renewLoop(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      await sleep(this.#retry, stop);
      if (stop.aborted) return;
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        this.#log.warn("lease renewal failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
      if (stop.aborted) return;
      if (!ok && this.#now() - this.#lastRenew >= this.#deadline) {
        this.#leader = false;
        this.#log.error("lost the lease: could not renew within the renew deadline", {
          lease: `${this.#ns}/${this.#name}`,
          renewDeadlineMs: this.#deadline,
        });
        this.#lost.abort(new Error("leadership lost"));
        return;
      }
      if (!ok) {
        // Someone else took it (we saw another holder with a fresh record)?
        const holder = holderOf(this.#observed);
        if (holder && holder !== this.#id) {
          this.#leader = false;
          this.#log.error("lost the lease to another watcher", { holder });
          this.#lost.abort(new Error("leadership lost"));
          return;
        }
      }
    }
  }

  /** Stops renewing and, when leader, hands the Lease back (empty holder). */
  async release(): Promise<void> {
    this.#stop.abort();
    await this.#renewing;
    if (!this.#leader || !this.#current) return;
    this.#leader = false;
    try {
      const cur = await this.#api.get(this.#ns, this.#name);
      if (cur?.spec.holderIdentity !== this.#id) return;
      await this.#api.update({
        ...cur,
        spec: { ...cur.spec, holderIdentity: "", renewTime: microTime(Date.now()) },
      });
      this.#log.info("released the lease");
    } catch (err) {
      this.#log.warn("cannot release the lease; others take over when it expires", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
