/** The Redis Cluster tests (test/cluster): `REDIS_CLUSTER_NODES=$(scripts/cluster/redis.sh env | cut -d= -f2) npx jest -c jest.cluster-redis.config.js` */
const base = require('./jest.config');
module.exports = { ...base, testMatch: ['<rootDir>/test/cluster/**/*.test.ts'], maxWorkers: 1, testTimeout: 180000 };
