/** The cluster profile's tests (test/cluster): `npm run test:cluster` starts `scripts/stack up --cluster` first. */
/* global module, require */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const base = require('./jest.config');

module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/cluster-setup.ts',
  testTimeout: 300000,
  // the tests stop and start shared cluster nodes: one file at a time
  maxWorkers: 1,
};
