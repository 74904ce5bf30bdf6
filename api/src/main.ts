#!/usr/bin/env node
// Checks the Node.js version before anything else loads: the Kubernetes
// client's undici needs Node.js 22.19 or later and fails at import with an
// unrelated TypeError on older releases.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `thumbnailer-api: Node.js ${process.versions.node} is too old: run it on Node.js 24 ` +
      '(in a checkout: export PATH="$(hack/node-path.sh):$PATH")\n',
  );
  process.exit(2);
}
await import("./start.js");
