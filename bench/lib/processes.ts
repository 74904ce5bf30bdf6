import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

export interface CommandRun {
  exitCode: number;
  wallMs: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end and times it from spawn to exit; never through a shell. */
export function runCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({
        exitCode: code ?? -1,
        wallMs: performance.now() - started,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}

/** Returns the full path of an executable found on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const folder of (process.env.PATH ?? "").split(":")) {
    const candidate = `${folder}/${name}`;
    if (folder !== "" && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Resident memory of a process from /proc/<pid>/status: now (VmRSS) and its peak (VmHWM). */
export interface ProcessMemory {
  rssBytes: number;
  peakRssBytes: number;
}

export async function readProcessMemory(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kibibytes = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (match === null) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kibibytes("VmRSS"), peakRssBytes: kibibytes("VmHWM") };
}

/**
 * Returns the CPU time a process has used so far, user plus system, in
 * milliseconds, from /proc/<pid>/stat (all its threads, libuv's pool included).
 * The kernel counts in clock ticks, usually 10 ms.
 */
export async function readProcessCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name in brackets may contain spaces, so count fields after its closing bracket.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return ((userTicks + systemTicks) * 1000) / clockTicksPerSecond;
}

// getconf CLK_TCK is 100 on every Linux architecture that Node.js supports.
const clockTicksPerSecond = 100;

/**
 * Resets the peak resident memory (VmHWM) of a process to its current value,
 * by writing 5 to /proc/<pid>/clear_refs (Linux 4.0 and later). Returns false
 * when the kernel refuses.
 */
export async function resetPeakMemory(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** A benchmark server running in its own Node.js process. */
export interface ChildServer<Ready> {
  child: ChildProcess;
  pid: number;
  ready: Ready;
  /** Stops the child (so that --cpu-prof writes its profile) and waits for it to exit. */
  stop(): Promise<void>;
}

interface ChildOptions {
  /** Node.js flags before the script. */
  nodeArgs?: readonly string[];
  /**
   * With BENCH_PROFILE_DIR set, the child writes a V8 CPU profile to
   * $BENCH_PROFILE_DIR/<profileName>.cpuprofile when it exits.
   */
  profileName?: string;
  env?: NodeJS.ProcessEnv;
  /** Destination of the child's stdout: "ignore" or a file descriptor. */
  stdout?: "ignore" | number;
  startTimeoutMs?: number;
}

function spawnNode(script: string, args: readonly string[], options: ChildOptions): ChildProcess {
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profileArgs =
    profileDir && options.profileName
      ? [
          "--cpu-prof",
          `--cpu-prof-dir=${profileDir}`,
          `--cpu-prof-name=${options.profileName}.cpuprofile`,
        ]
      : [];
  return spawn(process.execPath, [...profileArgs, ...(options.nodeArgs ?? []), script, ...args], {
    env: options.env ?? process.env,
    stdio: ["ignore", options.stdout ?? "ignore", "inherit", "ipc"],
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Waits for `ready`, but rejects at once if the child exits first or the time runs out. */
async function whileAlive<T>(
  child: ChildProcess,
  description: string,
  timeoutMs: number,
  ready: Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${description} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code, signal) =>
      reject(
        new Error(`${description} exited before it was ready (code ${code}, signal ${signal})`),
      ),
    );
  });
  try {
    return await Promise.race([ready, failure]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a Node.js server script in a child process and waits for its first
 * IPC message, which must have `type: "ready"`. The child exits when sent
 * { type: "stop" } (see exitOnStopMessage).
 */
export async function startIpcServer<Ready extends { type: string }>(
  script: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ChildServer<Ready>> {
  const child = spawnNode(script, args, options);
  const ready = await whileAlive(
    child,
    script,
    options.startTimeoutMs ?? 120000,
    nextMessage<Ready>(child, "ready"),
  );
  return {
    child,
    pid: child.pid!,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = exitOf(child);
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a Node.js HTTP server script that listens on `port` and polls
 * `readyPath` on 127.0.0.1 until it responds 200. It is stopped with SIGTERM.
 */
export async function startHttpServer(
  script: string,
  port: number,
  readyPath: string,
  options: ChildOptions = {},
): Promise<ChildServer<{ port: number }>> {
  const child = spawnNode(script, [], options);
  const poll = async (): Promise<{ port: number }> => {
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}${readyPath}`);
        await response.arrayBuffer();
        if (response.status === 200) return { port };
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const ready = await whileAlive(child, script, options.startTimeoutMs ?? 60000, poll());
  return {
    child,
    pid: child.pid!,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = exitOf(child);
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits for the next IPC message of the given type from a child. */
export function nextMessage<Message extends { type: string }>(
  child: ChildProcess,
  type: string,
): Promise<Message> {
  return new Promise((resolve) => {
    const onMessage = (message: Message): void => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
  });
}

/** Makes a child server exit when the parent sends { type: "stop" } over IPC. Call it in the child. */
export function exitOnStopMessage(beforeExit: () => Promise<void> = async () => undefined): void {
  process.on("message", (message: { type?: string }) => {
    if (message.type !== "stop") return;
    void beforeExit().finally(() => process.exit(0));
  });
  // The parent went away: do not linger.
  process.on("disconnect", () => process.exit(0));
}
