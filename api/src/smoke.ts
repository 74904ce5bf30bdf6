// End-to-end check of a running API, used by the chart's `helm test` pod:
//
//   node dist/smoke.js http://<service>:<port> [--size=100] [--timeout-seconds=120]
//
// Uploads a small PNG, waits for its job to succeed, fetches the thumbnail,
// checks that it is a PNG of the expected size, and deletes the job. Prints
// one line per step and exits 0 when every step passed, 1 otherwise. A job
// that failed is left in place for `make support-bundle`. Only Node.js
// built-ins are used, so the test needs nothing beyond the API image.
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

// A 16x16 palette PNG with transparency (a yellow face), made once with sharp.
const SAMPLE_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAMAAAAoLQ9TAAAACVBMVEVMaXH/yAA8KABz88NUAAAAAXRSTlMAQObYZgAAAAlw" +
  "SFlzAAAD6AAAA+gBtXtSawAAACxJREFUGNNjYMAGGKEAnQ8TYWREFQHRTHCCaAEUQ8gUYAIDZIfgciouz6EAAGJqALl7d75w" +
  "AAAAAElFTkSuQmCC";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface SmokeTestOptions {
  baseUrl: string;
  size: number;
  timeoutMs: number;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  writeLine: (line: string) => void;
}

class StepError extends Error {}

// Reads width and height from a PNG's IHDR chunk, which the PNG
// specification requires to come first, right after the signature.
export function readPngSize(bytes: Uint8Array): { width: number; height: number } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 24 || !buffer.subarray(0, 8).equals(PNG_SIGNATURE)) {
    throw new StepError("the body does not start with the PNG signature");
  }
  if (buffer.toString("latin1", 12, 16) !== "IHDR") {
    throw new StepError("the first PNG chunk is not IHDR");
  }
  return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function request(options: SmokeTestOptions, path: string, init: RequestInit = {}) {
  const url = new URL(path, options.baseUrl);
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(options.requestTimeoutMs) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StepError(`${init.method ?? "GET"} ${url.href} failed: ${reason}`, { cause: error });
  }
}

async function expectStatus(
  response: Response,
  expected: number,
  requestLine: string,
): Promise<void> {
  if (response.status === expected) return;
  const body = (await response.text()).slice(0, 300);
  throw new StepError(`${requestLine} returned ${response.status}, expected ${expected}: ${body}`);
}

async function waitUntilReady(options: SmokeTestOptions, deadline: number): Promise<void> {
  for (;;) {
    const response = await request(options, "/readyz");
    if (response.status === 200) return;
    const body = (await response.text()).slice(0, 300);
    if (Date.now() + options.pollIntervalMs > deadline) {
      throw new StepError(`GET /readyz still returns ${response.status}: ${body}`);
    }
    await sleep(options.pollIntervalMs);
  }
}

async function upload(options: SmokeTestOptions): Promise<string> {
  const form = new FormData();
  const png = Buffer.from(SAMPLE_PNG_BASE64, "base64");
  form.append("image", new Blob([png], { type: "image/png" }), "smoke-test.png");

  const response = await request(options, "/v1/jobs", { method: "POST", body: form });
  await expectStatus(response, 202, "POST /v1/jobs");
  const job = (await response.json()) as { id?: unknown };
  if (typeof job.id !== "string" || job.id === "") {
    throw new StepError("POST /v1/jobs returned a job document without an id");
  }
  return job.id;
}

interface JobDocument {
  status?: string;
  stage?: string;
  error?: { reason?: string; message?: string };
}

async function waitForJob(
  options: SmokeTestOptions,
  id: string,
  deadline: number,
): Promise<JobDocument> {
  for (;;) {
    const response = await request(options, `/v1/jobs/${id}`);
    await expectStatus(response, 200, `GET /v1/jobs/${id}`);
    const job = (await response.json()) as JobDocument;
    if (job.status === "succeeded" || job.status === "failed") return job;
    if (Date.now() + options.pollIntervalMs > deadline) {
      throw new StepError(
        `job ${id} is still ${job.status ?? "without a status"} (stage ${job.stage ?? "unknown"}) after ${options.timeoutMs / 1000} s`,
      );
    }
    await sleep(options.pollIntervalMs);
  }
}

async function fetchThumbnail(options: SmokeTestOptions, id: string): Promise<number> {
  const response = await request(options, `/v1/jobs/${id}/thumbnail`);
  await expectStatus(response, 200, `GET /v1/jobs/${id}/thumbnail`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const { width, height } = readPngSize(bytes);
  if (width !== options.size || height !== options.size) {
    throw new StepError(
      `the thumbnail is ${width}x${height}, expected ${options.size}x${options.size}`,
    );
  }
  return bytes.byteLength;
}

// Runs every step in order and returns whether all of them passed.
export async function runSmokeTest(options: SmokeTestOptions): Promise<boolean> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const { writeLine } = options;
  let step = "readiness";
  try {
    await waitUntilReady(options, deadline);
    writeLine(`ok readiness: GET /readyz returned 200`);

    step = "upload";
    const id = await upload(options);
    writeLine(`ok upload: POST /v1/jobs accepted job ${id}`);

    step = "job";
    const job = await waitForJob(options, id, deadline);
    if (job.status === "failed") {
      const reason = job.error?.reason ?? "unknown reason";
      throw new StepError(`job ${id} failed with ${reason}: ${job.error?.message ?? "no message"}`);
    }
    writeLine(
      `ok job: ${id} succeeded ${((Date.now() - started) / 1000).toFixed(1)} s after the start`,
    );

    step = "thumbnail";
    const bytes = await fetchThumbnail(options, id);
    writeLine(`ok thumbnail: ${options.size}x${options.size} PNG, ${bytes} bytes`);

    step = "delete";
    const response = await request(options, `/v1/jobs/${id}`, { method: "DELETE" });
    await expectStatus(response, 204, `DELETE /v1/jobs/${id}`);
    writeLine(`ok delete: DELETE /v1/jobs/${id} returned 204`);
    return true;
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    writeLine(`FAIL ${step}: ${error.message}`);
    return false;
  }
}

function parseCommandLine(argv: string[]): SmokeTestOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      size: { type: "string", default: "100" },
      "timeout-seconds": { type: "string", default: "120" },
    },
  });
  const [baseUrl] = positionals;
  if (positionals.length !== 1 || baseUrl === undefined || !URL.canParse(baseUrl)) {
    throw new Error(
      "usage: smoke.js <base URL, such as http://thumbnailer:80> [--size=100] [--timeout-seconds=120]",
    );
  }
  const size = Number(values.size);
  const timeoutSeconds = Number(values["timeout-seconds"]);
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`invalid --size ${values.size}: expected a positive integer number of pixels`);
  }
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    throw new Error(
      `invalid --timeout-seconds ${values["timeout-seconds"]}: expected a positive integer`,
    );
  }
  return {
    baseUrl,
    size,
    timeoutMs: timeoutSeconds * 1000,
    pollIntervalMs: 1000,
    requestTimeoutMs: 10_000,
    writeLine: (line) => process.stdout.write(`${line}\n`),
  };
}

async function main(): Promise<void> {
  let options: SmokeTestOptions;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return;
  }
  const passed = await runSmokeTest(options);
  process.exitCode = passed ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
