import { V1MicroTime, type V1Lease } from "@kubernetes/client-node";

import { classifyKubeError, kubeErrorMessage, type KubeClient } from "./kube.js";
import type { Logger } from "./logger.js";

export interface LeaseOptions {
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  now?: () => number;
}

/**
 * Holds a coordination.k8s.io Lease so that one replica at a time runs the
 * admission and retention work. `tryAcquireOrRenew` is called on a timer;
 * it never throws.
 */
export class LeaseElector {
  private leader = false;
  private readonly now: () => number;

  constructor(
    private readonly kube: KubeClient,
    private readonly logger: Logger,
    private readonly options: LeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  isLeader(): boolean {
    return this.leader;
  }

  async tryAcquireOrRenew(): Promise<boolean> {
    try {
      this.setLeader(await this.acquireOrRenew());
    } catch (err) {
      const { kind } = classifyKubeError(err);
      // A conflict means another replica wrote the Lease first: it leads.
      if (kind !== "conflict") {
        this.logger.warn("lease update failed", {
          lease: this.options.name,
          error: kubeErrorMessage(err),
        });
      }
      this.setLeader(false);
    }
    return this.leader;
  }

  private async acquireOrRenew(): Promise<boolean> {
    const { name, identity, leaseDurationSeconds } = this.options;
    const nowTime = new V1MicroTime(this.now());

    let lease: V1Lease;
    try {
      lease = await this.kube.readLease(name);
    } catch (err) {
      if (classifyKubeError(err).kind !== "notFound") throw err;
      await this.kube.createLease({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: nowTime,
          renewTime: nowTime,
          leaseTransitions: 0,
        },
      });
      return true;
    }

    const spec = lease.spec ?? {};
    const renewedMs = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired =
      renewedMs + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < this.now();
    const mine = spec.holderIdentity === identity;
    if (!mine && !expired && spec.holderIdentity) {
      return false;
    }

    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: nowTime,
      ...(mine ? {} : { acquireTime: nowTime, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    };
    await this.kube.replaceLease(lease);
    return true;
  }

  /**
   * Gives the Lease up on shutdown, so that the next replica takes it at
   * once instead of after leaseDurationSeconds. Never throws.
   */
  async release(): Promise<void> {
    if (!this.leader) return;
    this.setLeader(false);
    try {
      const lease = await this.kube.readLease(this.options.name);
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: "", renewTime: new V1MicroTime(0) };
      await this.kube.replaceLease(lease);
      this.logger.info("lease released", {
        lease: this.options.name,
        identity: this.options.identity,
      });
    } catch (err) {
      this.logger.warn("releasing the lease failed", {
        lease: this.options.name,
        error: kubeErrorMessage(err),
      });
    }
  }

  private setLeader(leader: boolean): void {
    if (leader !== this.leader) {
      this.logger.info(leader ? "lease acquired" : "lease lost", {
        lease: this.options.name,
        identity: this.options.identity,
      });
    }
    this.leader = leader;
  }
}
