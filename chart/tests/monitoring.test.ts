import type { V1ConfigMap } from "@kubernetes/client-node";
import { expect } from "chai";

import { MONITORING_API_VERSION, ofKind, render, single, valueSets } from "./helm.js";

// The API's metrics, without the thumbnailer_ prefix, and which are histograms.
const METRICS = new Set([
  "http_requests_total",
  "http_request_duration_seconds",
  "jobs_created_total",
  "jobs_finished_total",
  "job_duration_seconds",
  "job_queue_seconds",
  "jobs",
  "upload_bytes",
  "kube_api_errors_total",
  "volume_free_bytes",
]);
const HISTOGRAMS = new Set([
  "http_request_duration_seconds",
  "job_duration_seconds",
  "job_queue_seconds",
  "upload_bytes",
]);

interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

function dashboard(): { panels: Panel[] } {
  const configMap = single(render(), "ConfigMap", "-dashboard") as unknown as V1ConfigMap;
  expect(configMap.metadata?.labels?.["grafana_dashboard"]).to.equal("1");
  const text = configMap.data?.["thumbnailer.json"];
  expect(text, "thumbnailer.json").to.be.a("string");
  return JSON.parse(text!) as { panels: Panel[] };
}

function expressions(panels: Panel[]): string[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? []).map((target) => target.expr ?? ""),
    ...expressions(panel.panels ?? []),
  ]);
}

// Returns the metric a series name belongs to: histogram series drop their suffix.
function metricOf(series: string): string {
  const name = series.replace(/^thumbnailer_/, "");
  const histogram = name.replace(/_(bucket|sum|count)$/, "");
  return HISTOGRAMS.has(histogram) ? histogram : name;
}

describe("chart monitoring", () => {
  it("ServiceMonitor renders only where its API is served", () => {
    expect(ofKind(render({ valueFiles: [valueSets.lockedDown] }), "ServiceMonitor")).to.deep.equal(
      [],
    );
    expect(
      ofKind(render({ apiVersions: [MONITORING_API_VERSION] }), "ServiceMonitor"),
      "disabled",
    ).to.deep.equal([]);
  });

  it("ServiceMonitor scrapes /metrics on the API Service", () => {
    const objects = render({
      valueFiles: [valueSets.lockedDown],
      apiVersions: [MONITORING_API_VERSION],
    });
    const monitor = single(objects, "ServiceMonitor");
    const service = single(objects, "Service");
    const spec = monitor["spec"] as {
      selector: { matchLabels: Record<string, string> };
      namespaceSelector: { matchNames: string[] };
      endpoints: Array<{ port: string; path: string }>;
    };
    expect(service.metadata.labels).to.include(spec.selector.matchLabels);
    expect(spec.namespaceSelector.matchNames).to.deep.equal(["thumbnails"]);
    expect(spec.endpoints[0]).to.include({ port: "http", path: "/metrics" });
    expect(monitor.metadata.labels).to.include({ release: "prometheus" });
  });

  it("dashboard queries only the API's metrics", () => {
    const exprs = expressions(dashboard().panels);
    expect(exprs.length).to.be.greaterThan(0);
    const used = new Set<string>();
    for (const expr of exprs) {
      const series = expr.match(/\bthumbnailer_[a-z_]+/g) ?? [];
      expect(series, expr).to.not.deep.equal([]);
      for (const name of series) {
        const metric = metricOf(name);
        expect(METRICS.has(metric), `${name} in ${expr}`).to.equal(true);
        used.add(metric);
      }
    }
    expect([...used].sort(), "every metric has a panel").to.deep.equal([...METRICS].sort());
  });

  it("dashboard has the job, HTTP and volume panels", () => {
    const titles = dashboard().panels.map((panel) => panel.title);
    expect(titles).to.include.members([
      "Jobs created",
      "Jobs finished by status and reason",
      "Jobs by stage",
      "Job duration",
      "Queue time",
      "Request rate by route and status",
      "Error ratio",
      "Latency by route",
      "Volume free space",
    ]);
  });

  it("dashboard renders only when enabled", () => {
    expect(ofKind(render({ set: ["dashboard.enabled=false"] }), "ConfigMap")).to.have.length(1);
  });
});
