/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): where the busy time went,
 * by package and by function, self and inclusive. Idle time is left out of
 * the percentages.
 *
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import { markdownTable } from "./lib/stats.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Names the package of a script URL: an npm package, node: for built-ins, or the repository folder. */
function packageOf(url: string): string {
  const nodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nodeModules) return nodeModules[1]!;
  if (url.startsWith("node:")) return "node: built-ins";
  const repository = /\/(api|runner|bench)\/(src|test|dist|servers|lib)\//.exec(url);
  if (repository) return `${repository[1]}/${repository[2]}`;
  return url === "" ? "(V8 and native)" : url;
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url
    .replace(/^.*node_modules\//, "")
    .replace(/^file:\/\/.*?\/(api|runner|bench)\//, "$1/");
  return `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
}

async function main(): Promise<void> {
  const [file, topText = "15"] = process.argv.slice(2);
  if (file === undefined) throw new Error("usage: profile-summary.ts FILE.cpuprofile [TOP]");
  const top = Number(topText);
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;

  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }

  const selfByFunction = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  let busyMicros = 0;
  let idleMicros = 0;
  const add = (map: Map<string, number>, key: string, micros: number): void => {
    map.set(key, (map.get(key) ?? 0) + micros);
  };

  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") {
      idleMicros += micros;
      return;
    }
    busyMicros += micros;
    add(selfByFunction, functionKey(node), micros);
    add(selfByPackage, packageOf(node.callFrame.url), micros);
    const seen = new Set<string>();
    for (
      let current: number | undefined = id;
      current !== undefined;
      current = parentOf.get(current)
    ) {
      const key = functionKey(byId.get(current)!);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusiveByFunction, key, micros);
    }
  });

  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, micros]) => [
        key,
        `${(micros / 1000).toFixed(0)} ms`,
        `${((100 * micros) / busyMicros).toFixed(1)}%`,
      ]);

  console.log(
    `${path.basename(file)}: ${(busyMicros / 1000).toFixed(0)} ms busy, ${(idleMicros / 1000).toFixed(0)} ms idle\n`,
  );
  console.log("Self time by package\n");
  console.log(markdownTable(["package", "self", "of busy"], rows(selfByPackage)));
  console.log("\nSelf time by function\n");
  console.log(markdownTable(["function", "self", "of busy"], rows(selfByFunction)));
  console.log("\nInclusive time by function\n");
  console.log(markdownTable(["function", "inclusive", "of busy"], rows(inclusiveByFunction)));
}

await main();
