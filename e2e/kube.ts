import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Settings that hack/e2e.sh passes in. */
export const env = {
  kubectl: process.env.KUBECTL ?? "kubectl",
  helm: process.env.HELM ?? "helm",
  namespace: required("E2E_NAMESPACE"),
  release: process.env.E2E_RELEASE ?? "thumbnailer",
  repoRoot: required("E2E_REPO_ROOT"),
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end test through hack/e2e.sh`);
  return value;
}

export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(env.kubectl, ["--namespace", env.namespace, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

export async function kubectlJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await kubectl(...args, "-o", "json")) as T;
}

export async function helm(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(env.helm, [...args, "--namespace", env.namespace], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Changes chart values on the release and waits until the API is rolled out. */
export async function upgrade(...sets: string[]): Promise<void> {
  await helm(
    "upgrade",
    env.release,
    `${env.repoRoot}/chart`,
    "--reuse-values",
    ...sets.flatMap((set) => ["--set", set]),
    "--wait",
    "--timeout",
    "5m",
  );
}

/** Runs a Node.js snippet in the API pod, where the data volume is mounted at /data. */
export async function inApiPod(script: string): Promise<string> {
  return kubectl("exec", `deploy/${env.release}`, "-c", "api", "--", "node", "-e", script);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/**
 * `kubectl port-forward` to the API's Service, restarted whenever it exits
 * (it follows one pod, so it ends when that pod is deleted).
 */
export class PortForward {
  private child: ChildProcess | undefined;
  private stopped = false;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    await this.spawn();
  }

  private spawn(): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn(
        env.kubectl,
        ["--namespace", env.namespace, "port-forward", `service/${env.release}`, `${this.port}:80`],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      this.child = child;
      let resolved = false;
      child.stdout!.on("data", (chunk: Buffer) => {
        if (!resolved && chunk.toString().includes("Forwarding from")) {
          resolved = true;
          resolve();
        }
      });
      child.stderr!.resume();
      child.on("exit", () => {
        if (!resolved) {
          resolved = true;
          resolve();
        }
        if (!this.stopped) {
          setTimeout(() => void this.spawn(), 1000);
        }
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill();
  }
}

/** Polls until the condition holds; fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
  );
}
