/**
 * The upload baseline: a node:http server that streams each POST /v1/jobs
 * body, unparsed, to <DATA_DIR>/jobs/<n>/original and answers 202. It imports
 * only Node.js built-ins, so Node.js runs it with its own type stripping and
 * its memory is that of a plain server. Listens on 127.0.0.1, sends
 * { type: "ready", port } over IPC and exits on { type: "stop" }.
 *
 * Usage: node bench/servers/bare-server.ts DATA_DIR
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pipeline } from "node:stream/promises";

const dataDir = process.argv[2];
if (dataDir === undefined || process.send === undefined) {
  throw new Error("usage: node bench/servers/bare-server.ts DATA_DIR, started with an IPC channel");
}

let uploads = 0;
const server = createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/v1/jobs") {
    res.writeHead(404).end();
    return;
  }
  uploads += 1;
  const id = String(uploads);
  const folder = path.join(dataDir, "jobs", id);
  void (async () => {
    try {
      await mkdir(folder, { recursive: true });
      await pipeline(req, createWriteStream(path.join(folder, "original")));
      res.writeHead(202, { "content-type": "application/json", location: `/v1/jobs/${id}` });
      res.end(JSON.stringify({ id, status: "processing" }));
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
    }
  })();
});

server.listen(0, "127.0.0.1", () => {
  process.send!({ type: "ready", port: (server.address() as AddressInfo).port });
});
process.on("message", (message: { type?: string }) => {
  if (message.type === "stop") process.exit(0);
});
process.on("disconnect", () => process.exit(0));
