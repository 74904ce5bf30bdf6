import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The API's Prometheus metrics, in a registry of their own. */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: "thumbnailer_http_requests_total",
    help: "HTTP requests served, by method, route template and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });

  readonly httpRequestDuration = new Histogram({
    name: "thumbnailer_http_request_duration_seconds",
    help: "Time from request start to response end, in seconds.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly jobsCreated = new Counter({
    name: "thumbnailer_jobs_created_total",
    help: "Jobs created in Kubernetes for accepted uploads.",
    registers: [this.registry],
  });

  readonly jobsFinished = new Counter({
    name: "thumbnailer_jobs_finished_total",
    help: "Jobs seen finishing, by status and failure reason (empty when succeeded).",
    labelNames: ["status", "reason"] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: "thumbnailer_job_duration_seconds",
    help: "Time from a Job's start to its completion, from the Job's own timestamps, in seconds.",
    labelNames: ["status"] as const,
    buckets: [0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });

  readonly jobQueue = new Histogram({
    name: "thumbnailer_job_queue_seconds",
    help: "Time a Job waited suspended in the queue, from creation to resumption, in seconds.",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  readonly jobs = new Gauge({
    name: "thumbnailer_jobs",
    help: "Jobs in the cache, by stage (queued, pending, running, succeeded, failed).",
    labelNames: ["stage"] as const,
    registers: [this.registry],
  });

  readonly uploadBytes = new Histogram({
    name: "thumbnailer_upload_bytes",
    help: "Size of accepted uploads, in bytes.",
    buckets: [1024, 10240, 102400, 512000, 1048576, 5242880, 10485760, 20971520, 52428800],
    registers: [this.registry],
  });

  readonly kubeApiErrors = new Counter({
    name: "thumbnailer_kube_api_errors_total",
    help: "Failed Kubernetes API calls, by verb, resource and HTTP status (or 'network').",
    labelNames: ["verb", "resource", "code"] as const,
    registers: [this.registry],
  });

  readonly volumeFreeBytes = new Gauge({
    name: "thumbnailer_volume_free_bytes",
    help: "Free bytes on the data volume, as the API's user sees them.",
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
    }
  }
}
