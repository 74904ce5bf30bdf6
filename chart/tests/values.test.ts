import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { parse } from "yaml";

import { chartDir, lint, templateRaw, valueSets } from "./helm.js";

function collectKeys(value: unknown, prefix: string, keys: string[]): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    keys.push(path);
    collectKeys(child, path, keys);
  }
}

// Lists the keys of a values file that have no comment line right above them.
// A group such as "image:" needs no prose of its own, but its keys do. Keys
// inside a documented value (resources, labels...) are covered by it.
function undocumentedKeys(text: string): string[] {
  const lines = text.split("\n");
  const parents: Array<{ indent: number; documented: boolean }> = [];
  const undocumented: string[] = [];
  lines.forEach((line, index) => {
    const match = /^(\s*)([A-Za-z][\w.-]*):(.*)$/.exec(line);
    if (!match) return;
    const indent = match[1]!.length;
    while (parents.length > 0 && parents[parents.length - 1]!.indent >= indent) parents.pop();
    const documented = (lines[index - 1] ?? "").trim().startsWith("#");
    const insideDocumented = parents.some((parent) => parent.documented);
    parents.push({ indent, documented });
    const opensGroup = match[3]!.trim() === "";
    if (!documented && !insideDocumented && !opensGroup) {
      undocumented.push(`line ${index + 1}: ${line.trim()}`);
    }
  });
  return undocumented;
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
}

describe("chart values", () => {
  let scratch: string;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "thumbnailer-chart-"));
  });

  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  function valuesFile(name: string, text: string): string {
    const path = join(scratch, name);
    writeFileSync(path, text);
    return path;
  }

  it("helm lint --strict passes with the default values", () => {
    const result = lint();
    expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it("helm lint --strict passes with every value set", () => {
    for (const file of Object.values(valueSets)) {
      const result = lint({ valueFiles: [file] });
      expect(result.status, `${file}: ${result.stdout}${result.stderr}`).to.equal(0);
    }
  });

  it("schema rejects a wrong type and names the value", () => {
    const result = templateRaw({
      valueFiles: [valuesFile("wrong-type.yaml", 'api:\n  replicaCount: "two"\n')],
    });
    expect(result.status).to.not.equal(0);
    expect(result.stderr).to.contain("/api/replicaCount");
    expect(result.stderr).to.contain("want integer");
  });

  it("schema rejects an unknown key and names it", () => {
    const topLevel = templateRaw({ set: ["replicas=2"] });
    expect(topLevel.status).to.not.equal(0);
    expect(topLevel.stderr).to.contain("'replicas' not allowed");

    const nested = templateRaw({ set: ["persistence.storageClass=fast"] });
    expect(nested.status).to.not.equal(0);
    expect(nested.stderr).to.contain("/persistence");
    expect(nested.stderr).to.contain("'storageClass' not allowed");
  });

  it("schema rejects an access mode other than ReadWriteOnce or ReadWriteMany", () => {
    const result = templateRaw({ set: ["persistence.accessMode=ReadWriteOncePod"] });
    expect(result.status).to.not.equal(0);
    expect(result.stderr).to.contain("/persistence/accessMode");
  });

  it("several replicas on ReadWriteOnce stop the render with the fix", () => {
    const result = templateRaw({ set: ["api.replicaCount=2"] });
    expect(result.status).to.not.equal(0);
    expect(result.stderr).to.contain("api.replicaCount is 2");
    expect(result.stderr).to.contain("persistence.accessMode=ReadWriteMany");
  });

  it("schema lists every key of values.yaml", () => {
    const values = parse(readFileSync(join(chartDir, "values.yaml"), "utf8")) as unknown;
    const schema = JSON.parse(
      readFileSync(join(chartDir, "values.schema.json"), "utf8"),
    ) as SchemaNode;
    const keys: string[] = [];
    collectKeys(values, "", keys);
    const missing = keys.filter((key) => {
      let node: SchemaNode | undefined = schema;
      for (const part of key.split(".")) {
        // Free-form maps (labels, annotations, resources...) end the walk.
        if (node && node.properties === undefined) return false;
        node = node?.properties?.[part];
      }
      return node === undefined;
    });
    expect(missing).to.deep.equal([]);
  });

  it("values.yaml documents every key above it", () => {
    expect(undocumentedKeys(readFileSync(join(chartDir, "values.yaml"), "utf8"))).to.deep.equal([]);
  });

  it("documentation check reports a key without prose", () => {
    const text =
      "group:\n  # Documented.\n  documented: 1\n  bare: 2\n  # Documented map.\n  map:\n    inner: 3\n";
    expect(undocumentedKeys(text)).to.deep.equal(["line 4: bare: 2"]);
  });
});
