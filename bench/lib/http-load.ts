import { Agent, request, type OutgoingHttpHeaders } from "node:http";
import { performance } from "node:perf_hooks";

export interface LoadOptions {
  /** Loopback base URL of the server, such as http://127.0.0.1:8080. */
  baseUrl: string;
  method: "GET" | "POST";
  /** Returns the path of the request with the given index. */
  path: (index: number) => string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer;
  count: number;
  concurrency: number;
  expectedStatus: number;
  /** Gives up on one request after this long. */
  timeoutMs?: number;
}

export interface LoadResult {
  /** Time from sending the request to reading the last byte of the response, per request. */
  latenciesMs: number[];
  wallMs: number;
  statusCounts: Record<string, number>;
  /** Requests that did not get the expected status, with the first body seen. */
  unexpected: number;
  firstUnexpectedBody: string | undefined;
  requestBytes: number;
}

/**
 * Sends `count` requests with at most `concurrency` in flight over keep-alive
 * connections, and records each one's latency. The count bounds the run, and
 * `timeoutMs` bounds each request.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost)(:\d+)?$/.test(options.baseUrl)) {
    throw new Error(`runLoad sends only to loopback, got ${options.baseUrl}`);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latenciesMs: number[] = [];
  const statusCounts: Record<string, number> = {};
  let unexpected = 0;
  let firstUnexpectedBody: string | undefined;
  let next = 0;

  const sendOne = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const headers: OutgoingHttpHeaders = { ...options.headers };
      if (options.body !== undefined) headers["content-length"] = options.body.length;
      const req = request(
        `${options.baseUrl}${options.path(index)}`,
        { method: options.method, agent, headers, timeout: options.timeoutMs ?? 120000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            latenciesMs.push(performance.now() - started);
            const status = String(res.statusCode);
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
            if (res.statusCode !== options.expectedStatus) {
              unexpected += 1;
              firstUnexpectedBody ??= Buffer.concat(chunks).toString("utf8").slice(0, 500);
            }
            resolve();
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`request ${index} timed out`)));
      req.on("error", reject);
      req.end(options.body);
    });

  const worker = async (): Promise<void> => {
    while (next < options.count) {
      const index = next;
      next += 1;
      await sendOne(index);
    }
  };

  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return {
    latenciesMs,
    wallMs: performance.now() - started,
    statusCounts,
    unexpected,
    firstUnexpectedBody,
    requestBytes: (options.body?.length ?? 0) * options.count,
  };
}

/** Builds a multipart/form-data body with one file in the field `image`, as curl -F does. */
export function multipartBody(file: Buffer, fileName: string, contentType: string) {
  const boundary = "----thumbnailer-bench-boundary-7d1f4c";
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="image"; filename="${fileName}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, file, tail]),
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  };
}
