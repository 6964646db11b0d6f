// The second tier of tests, `npm run test:e2e`: the ones that run the CLI as a user does
// (test/*.e2e.test.ts). `npm test` runs the first, the unit tests (package.json's "ava").
export default {
  files: ['dist/test/**/*.e2e.test.js'],
  timeout: '5m',
  workerThreads: false,
};
