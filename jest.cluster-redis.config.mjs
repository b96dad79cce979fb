/** The Redis Cluster tests (test/cluster): `REDIS_CLUSTER_NODES=127.0.0.1:7001,… npx jest -c jest.cluster-redis.config.mjs` */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 180000,
  maxWorkers: 1,
  forceExit: true,
};
