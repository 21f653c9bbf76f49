// Mocha configuration. In CI (CI=true) a skipped test fails the run: no suite
// may be skipped silently.
'use strict';
module.exports = {
  'node-option': ['import=tsx', 'import=./test/support/register-loaders.mjs'],
  timeout: 20000,
  recursive: true,
  reporter: './test/support/ci-reporter.cjs',
  'forbid-only': true,
  'forbid-pending': process.env.CI === 'true',
};
