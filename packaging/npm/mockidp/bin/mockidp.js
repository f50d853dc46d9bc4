#!/usr/bin/env node
'use strict';
// `npx mockidp [args]`: runs the platform's mockidp binary with the same arguments and stdio,
// passes SIGINT/SIGTERM on (so Ctrl-C and `kill` stop the server cleanly) and exits with its
// status.

const { spawn } = require('node:child_process');
const { binaryPath } = require('../binary.js');

let binary;
try {
  binary = binaryPath();
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (e) => {
  console.error(`mockidp: cannot run ${binary}: ${e.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
});
