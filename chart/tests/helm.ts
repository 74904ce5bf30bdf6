// Runs the real helm binary on the chart and parses what it renders.
import { execFileSync, spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { parseAllDocuments } from "yaml";

export const chartDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(chartDir, "..");

/** Value sets in chart/ci, also linted by `make chart-lint`. */
export const valueSets = {
  existingClaim: join(chartDir, "ci/existing-claim-values.yaml"),
  readWriteMany: join(chartDir, "ci/read-write-many-values.yaml"),
  noNetworkPolicy: join(chartDir, "ci/no-network-policy-values.yaml"),
  lockedDown: join(chartDir, "ci/locked-down-values.yaml"),
} as const;

export const MONITORING_API_VERSION = "monitoring.coreos.com/v1";

// A Kubernetes object as rendered: only the fields every object has are typed.
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface RenderOptions {
  valueFiles?: string[];
  set?: string[];
  apiVersions?: string[];
  releaseName?: string;
  namespace?: string;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

let helmBinary: string | undefined;

/** Finds helm: $HELM when set, else the directory that hack/helm-path.sh prints. */
export function helmPath(): string {
  if (helmBinary === undefined) {
    const fromEnvironment = process.env["HELM"];
    if (fromEnvironment) {
      helmBinary = fromEnvironment;
    } else {
      const dir = execFileSync(join(repoRoot, "hack/helm-path.sh"), { encoding: "utf8" }).trim();
      helmBinary = join(dir, "helm");
    }
  }
  return helmBinary;
}

export function runHelm(args: string[]): HelmResult {
  const result = spawnSync(helmPath(), args, { encoding: "utf8", timeout: 30_000 });
  if (result.error) {
    throw new Error(`helm ${args.join(" ")} did not run: ${result.error.message}`, {
      cause: result.error,
    });
  }
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function valueArgs(options: RenderOptions): string[] {
  const args: string[] = [];
  for (const file of options.valueFiles ?? []) args.push("--values", file);
  for (const assignment of options.set ?? []) args.push("--set", assignment);
  for (const apiVersion of options.apiVersions ?? []) args.push("--api-versions", apiVersion);
  return args;
}

/** Runs `helm template` and returns its raw result, for tests that expect it to fail. */
export function templateRaw(options: RenderOptions = {}): HelmResult {
  return runHelm([
    "template",
    options.releaseName ?? "thumbnailer",
    chartDir,
    "--namespace",
    options.namespace ?? "thumbnails",
    ...valueArgs(options),
  ]);
}

const renderCache = new Map<string, KubeObject[]>();

/** Renders the chart, hooks included, and returns every object. Throws on any helm error. */
export function render(options: RenderOptions = {}): KubeObject[] {
  const key = JSON.stringify(options);
  const cached = renderCache.get(key);
  if (cached) return cached;

  const result = templateRaw(options);
  if (result.status !== 0) {
    throw new Error(`helm template failed with exit code ${result.status}: ${result.stderr}`);
  }
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(result.stdout)) {
    if (document.errors.length > 0) {
      throw new Error(`helm template rendered invalid YAML: ${document.errors[0]?.message}`);
    }
    const object = document.toJS() as KubeObject | null;
    if (object !== null) objects.push(object);
  }
  renderCache.set(key, objects);
  return objects;
}

/** Runs `helm lint --strict` with the given values. helm lint has no --api-versions flag. */
export function lint(options: Omit<RenderOptions, "apiVersions"> = {}): HelmResult {
  return runHelm(["lint", "--strict", chartDir, ...valueArgs(options)]);
}

export function ofKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

/** Returns the one object of a kind whose name ends with suffix; throws when there is not exactly one. */
export function single(objects: KubeObject[], kind: string, nameSuffix = ""): KubeObject {
  const found = ofKind(objects, kind).filter((object) => object.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) {
    const names = found.map((object) => object.metadata.name).join(", ");
    throw new Error(`expected one ${kind} named *${nameSuffix}, found ${found.length}: ${names}`);
  }
  return found[0] as KubeObject;
}
