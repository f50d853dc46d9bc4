'use strict';
// Finds the mockidp binary the way esbuild finds its own: each platform's binary is its own npm
// package (@mockidp/linux-x64, ...), listed in this package's optionalDependencies with `os` and
// `cpu` fields, so npm installs only the one matching the machine. MOCKIDP_BIN overrides.

const path = require('node:path');

/** npm package name of each platform's binary, by `${process.platform}-${process.arch}`. */
const PLATFORM_PACKAGES = {
  'linux-x64': '@mockidp/linux-x64',
};

/** @returns {string} absolute path of the mockidp executable */
function binaryPath() {
  if (process.env.MOCKIDP_BIN) {
    return process.env.MOCKIDP_BIN;
  }
  const platform = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[platform];
  if (!pkg) {
    throw new Error(
      `mockidp has no binary for ${platform} (built: ${Object.keys(PLATFORM_PACKAGES).join(', ')}); ` +
        'run the container image instead, or set MOCKIDP_BIN to a mockidp binary',
    );
  }
  let manifest;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(
      `mockidp: the package ${pkg} is not installed. It is an optional dependency of mockidp: ` +
        'was it installed with --no-optional / --omit=optional, or copied from another platform? ' +
        `Reinstall mockidp on this machine (npm install ${pkg} also works).`,
    );
  }
  return path.join(path.dirname(manifest), 'bin', 'mockidp');
}

module.exports = { binaryPath, PLATFORM_PACKAGES };
