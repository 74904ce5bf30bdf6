// A stand-in for the Kubernetes API server, just enough for the API image to
// start: it lists and watches no Jobs and no Pods, keeps the Leases that are created
// or updated, and accepts Events. Plain HTTP on 127.0.0.1:STUB_PORT
// (default 6443); one log line per request.
import { Buffer } from "node:buffer";
import http from "node:http";
import { clearTimeout, setTimeout } from "node:timers";
import { URL } from "node:url";

const port = Number(process.env.STUB_PORT ?? 6443);
// Watches are held open and then ended, as a real API server ends them after
// its timeout, so the stub never keeps a client waiting for ever.
const watchDurationMs = 60_000;

function sendJson(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function notFound(res, message) {
  sendJson(res, 404, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "NotFound",
    code: 404,
  });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const emptyLists = [
  {
    pattern: /^\/apis\/batch\/v1\/namespaces\/[^/]+\/jobs$/,
    kind: "JobList",
    apiVersion: "batch/v1",
  },
  { pattern: /^\/api\/v1\/namespaces\/[^/]+\/pods$/, kind: "PodList", apiVersion: "v1" },
];

let resourceVersion = 1;
// Lease objects by their URL path.
const leases = new Map();

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://stub");
  console.log(`${req.method} ${url.pathname}${url.search}`);

  const list = emptyLists.find(({ pattern }) => pattern.test(url.pathname));
  if (req.method === "GET" && list && url.searchParams.get("watch") === "true") {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    // Clients count a watch as started once the headers arrive, and Node.js
    // sends them with the first body chunk unless they are flushed.
    res.flushHeaders();
    const timer = setTimeout(() => res.end(), watchDurationMs);
    res.on("close", () => clearTimeout(timer));
    return;
  }
  if (req.method === "GET" && list) {
    sendJson(res, 200, {
      kind: list.kind,
      apiVersion: list.apiVersion,
      metadata: { resourceVersion: String(resourceVersion) },
      items: [],
    });
    return;
  }

  if (req.method === "GET" && url.pathname === "/version") {
    sendJson(res, 200, { major: "1", minor: "33", gitVersion: "v1.33.0" });
    return;
  }

  const isLease = url.pathname.startsWith("/apis/coordination.k8s.io/v1/namespaces/");
  if (isLease && req.method === "GET") {
    const lease = leases.get(url.pathname);
    if (lease) sendJson(res, 200, lease);
    else notFound(res, `leases "${url.pathname.split("/").pop()}" not found`);
    return;
  }

  const isEvent = /\/namespaces\/[^/]+\/events(\/|$)/.test(url.pathname);
  if ((isLease || isEvent) && (req.method === "POST" || req.method === "PUT")) {
    const object = JSON.parse((await readBody(req)) || "{}");
    resourceVersion += 1;
    object.metadata = {
      ...object.metadata,
      resourceVersion: String(resourceVersion),
      uid: `stub-${resourceVersion}`,
    };
    if (isLease) {
      const leasePath =
        req.method === "POST" ? `${url.pathname}/${object.metadata.name}` : url.pathname;
      leases.set(leasePath, object);
    }
    sendJson(res, req.method === "POST" ? 201 : 200, object);
    return;
  }

  notFound(res, `the stub does not serve ${req.method} ${url.pathname}`);
});

server.listen(port, "127.0.0.1", () => console.log(`kube stub listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => process.exit(0));
