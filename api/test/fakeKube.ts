import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { KubeConfig, type V1Job, type V1Lease, type V1Pod } from "@kubernetes/client-node";

type Kind = "jobs" | "pods";

interface Watcher {
  kind: Kind;
  res: ServerResponse;
}

/** A fault for the next Job creation request. */
export interface Fault {
  status?: number;
  /** Drop the connection instead of sending a response. */
  networkError?: boolean;
}

/**
 * The parts of the Kubernetes API that Thumbnailer uses, served over real
 * HTTP on loopback: Jobs (list, watch, create, merge patch, delete), Pods
 * (list, watch), Leases and Events, in one namespace. Tests drive the Job
 * controller's side by hand with setJobStatus and putPod.
 */
export class FakeKube {
  readonly jobs = new Map<string, V1Job>();
  readonly pods = new Map<string, V1Pod>();
  readonly leases = new Map<string, V1Lease>();
  readonly events: unknown[] = [];
  readonly createdJobs: V1Job[] = [];
  readonly deletedJobs: string[] = [];
  readonly patches: { name: string; contentType: string; body: unknown }[] = [];
  readonly requestIds: string[] = [];
  readonly createFaults: Fault[] = [];
  /** HTTP statuses to return for the next list requests. */
  readonly listFaults: Record<Kind, number[]> = { jobs: [], pods: [] };
  readonly listCount: Record<Kind, number> = { jobs: 0, pods: 0 };
  readonly watchCount: Record<Kind, number> = { jobs: 0, pods: 0 };
  /** List responses served, counting each page. */
  readonly listPageCount: Record<Kind, number> = { jobs: 0, pods: 0 };
  private resourceVersion = 1;
  private watchers: Watcher[] = [];
  private server: Server | undefined;
  private url = "";

  constructor(readonly namespace = "thumbnails") {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify(status(500, String(err))));
      });
    });
    this.server.listen(0, "127.0.0.1");
    await new Promise((resolve) => this.server!.once("listening", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const watcher of this.watchers) watcher.res.end();
    this.watchers = [];
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  kubeConfig(): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "tester", token: "test-token" }],
      contexts: [{ name: "fake", cluster: "fake", user: "tester", namespace: this.namespace }],
      currentContext: "fake",
    });
    return kubeConfig;
  }

  /** Sets a Job's status as the Job controller would, and sends the change to the watchers. */
  setJobStatus(name: string, jobStatus: V1Job["status"]): void {
    const job = this.jobs.get(name);
    if (job === undefined) throw new Error(`no Job ${name}`);
    job.status = jobStatus;
    this.store("jobs", job, "MODIFIED");
  }

  putPod(pod: V1Pod): void {
    this.store("pods", pod, this.pods.has(pod.metadata!.name!) ? "MODIFIED" : "ADDED");
  }

  /** Makes another replica hold the release's Lease for the next hour. */
  giveLeaseTo(identity: string, name = "thumbnailer-leader"): void {
    this.leases.set(name, {
      metadata: { name, resourceVersion: String(++this.resourceVersion) },
      spec: {
        holderIdentity: identity,
        renewTime: new Date(Date.now() + 3600_000) as never,
        leaseDurationSeconds: 15,
      },
    });
  }

  /** Deletes a Job as `kubectl delete` or its TTL would. */
  deleteJob(name: string): void {
    this.remove("jobs", name);
  }

  /** Ends every open watch, as an API server does on restart. */
  dropWatches(): void {
    const watchers = this.watchers;
    this.watchers = [];
    for (const watcher of watchers) watcher.res.end();
  }

  /** Sends a 410 Gone ERROR event on every open watch of a kind, then ends it. */
  expireWatches(kind: Kind): void {
    for (const watcher of this.watchers.filter((w) => w.kind === kind)) {
      watcher.res.write(
        `${JSON.stringify({ type: "ERROR", object: status(410, "too old resource version") })}\n`,
      );
      watcher.res.end();
    }
    this.watchers = this.watchers.filter((w) => w.kind !== kind);
  }

  openWatches(kind: Kind): number {
    return this.watchers.filter((w) => w.kind === kind).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const path = url.pathname;
    const ns = this.namespace;
    const body = await readBody(req);
    const send = (code: number, object: unknown): void => {
      res.writeHead(code, { "Content-Type": "application/json" });
      res.end(JSON.stringify(object));
    };

    const collections: [Kind, string][] = [
      ["jobs", `/apis/batch/v1/namespaces/${ns}/jobs`],
      ["pods", `/api/v1/namespaces/${ns}/pods`],
    ];
    for (const [kind, collection] of collections) {
      if (req.method === "GET" && path === collection) {
        if (url.searchParams.get("watch") === "true") this.openWatch(kind, res);
        else this.list(kind, url.searchParams, send);
        return;
      }
    }

    const jobsPath = `/apis/batch/v1/namespaces/${ns}/jobs`;
    if (req.method === "POST" && path === jobsPath) {
      this.create(req, body, res, send);
      return;
    }
    if (path.startsWith(`${jobsPath}/`)) {
      const name = decodeURIComponent(path.slice(jobsPath.length + 1));
      const job = this.jobs.get(name);
      if (job === undefined) {
        send(404, status(404, `jobs.batch "${name}" not found`));
        return;
      }
      if (req.method === "PATCH") {
        const patch = JSON.parse(body) as { spec?: { suspend?: boolean } };
        this.patches.push({ name, contentType: req.headers["content-type"] ?? "", body: patch });
        if (patch.spec?.suspend !== undefined) job.spec!.suspend = patch.spec.suspend;
        this.store("jobs", job, "MODIFIED");
        send(200, job);
        return;
      }
      if (req.method === "DELETE") {
        this.deletedJobs.push(name);
        this.remove("jobs", name);
        for (const [podName, pod] of this.pods) {
          if (pod.metadata?.labels?.["job-name"] === name) this.remove("pods", podName);
        }
        send(200, status(200, "deleted"));
        return;
      }
    }

    const leasesPath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    if (req.method === "POST" && path === leasesPath) {
      const lease = JSON.parse(body) as V1Lease;
      if (this.leases.has(lease.metadata!.name!)) {
        send(409, status(409, "already exists"));
        return;
      }
      lease.metadata = { ...lease.metadata, resourceVersion: String(++this.resourceVersion) };
      this.leases.set(lease.metadata.name!, lease);
      send(201, lease);
      return;
    }
    if (path.startsWith(`${leasesPath}/`)) {
      const name = path.slice(leasesPath.length + 1);
      const current = this.leases.get(name);
      if (req.method === "GET") {
        send(current === undefined ? 404 : 200, current ?? status(404, "not found"));
        return;
      }
      if (req.method === "PUT") {
        const lease = JSON.parse(body) as V1Lease;
        if (current?.metadata?.resourceVersion !== lease.metadata?.resourceVersion) {
          send(409, status(409, "the object has been modified"));
          return;
        }
        lease.metadata = { ...lease.metadata, resourceVersion: String(++this.resourceVersion) };
        this.leases.set(name, lease);
        send(200, lease);
        return;
      }
    }

    if (req.method === "POST" && path === `/api/v1/namespaces/${ns}/events`) {
      const event = JSON.parse(body) as unknown;
      this.events.push(event);
      send(201, event);
      return;
    }
    send(404, status(404, `no route for ${req.method} ${path}`));
  }

  private create(
    req: IncomingMessage,
    body: string,
    res: ServerResponse,
    send: (code: number, object: unknown) => void,
  ): void {
    this.requestIds.push(String(req.headers["x-request-id"] ?? ""));
    const fault = this.createFaults.shift();
    if (fault?.networkError) {
      res.socket?.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      send(fault.status, status(fault.status, "injected fault"));
      return;
    }
    const job = JSON.parse(body) as V1Job;
    this.createdJobs.push(structuredClone(job));
    if (this.jobs.has(job.metadata!.name!)) {
      send(409, status(409, "already exists"));
      return;
    }
    job.metadata = {
      ...job.metadata,
      uid: `uid-${this.resourceVersion}`,
      creationTimestamp: new Date(),
    };
    this.store("jobs", job, "ADDED");
    send(201, job);
  }

  /** Serves one page of a list: `limit` items from the offset in the `continue` token. */
  private list(
    kind: Kind,
    query: URLSearchParams,
    send: (code: number, object: unknown) => void,
  ): void {
    this.listCount[kind] += 1;
    const fault = this.listFaults[kind].shift();
    if (fault !== undefined) {
      send(fault, status(fault, "injected list fault"));
      return;
    }
    const map = kind === "jobs" ? this.jobs : this.pods;
    const all = [...map.values()].sort((a, b) =>
      a.metadata!.name!.localeCompare(b.metadata!.name!),
    );
    const offset = Number(query.get("continue") ?? "0");
    const limit = Number(query.get("limit") ?? "0") || all.length;
    const end = offset + limit;
    this.listPageCount[kind] += 1;
    send(200, {
      kind: kind === "jobs" ? "JobList" : "PodList",
      apiVersion: kind === "jobs" ? "batch/v1" : "v1",
      metadata: {
        resourceVersion: String(this.resourceVersion),
        ...(end < all.length ? { continue: String(end) } : {}),
      },
      items: all.slice(offset, end),
    });
  }

  private openWatch(kind: Kind, res: ServerResponse): void {
    this.watchCount[kind] += 1;
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const watcher = { kind, res };
    this.watchers.push(watcher);
    res.on("close", () => {
      this.watchers = this.watchers.filter((w) => w !== watcher);
    });
  }

  private store(kind: Kind, object: V1Job | V1Pod, type: "ADDED" | "MODIFIED"): void {
    const name = object.metadata!.name!;
    object.metadata!.resourceVersion = String(++this.resourceVersion);
    object.metadata!.namespace = this.namespace;
    if (kind === "jobs") this.jobs.set(name, object as V1Job);
    else this.pods.set(name, object as V1Pod);
    this.emit(kind, type, object);
  }

  private remove(kind: Kind, name: string): void {
    const map = kind === "jobs" ? this.jobs : this.pods;
    const object = map.get(name);
    if (object === undefined) return;
    map.delete(name);
    object.metadata!.resourceVersion = String(++this.resourceVersion);
    this.emit(kind, "DELETED", object);
  }

  private emit(kind: Kind, type: string, object: unknown): void {
    for (const watcher of this.watchers.filter((w) => w.kind === kind)) {
      watcher.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function status(code: number, message: string): object {
  return {
    kind: "Status",
    apiVersion: "v1",
    status: code < 400 ? "Success" : "Failure",
    message,
    code,
  };
}
