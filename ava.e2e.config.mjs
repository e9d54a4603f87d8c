// The end-to-end suite against the compose cluster (`npm run test:e2e`, after
// `npm run docker:build`). Kept out of the default run, which has no Docker.
export default {
  files: ["dist/test/e2e/**/*.test.js"],
  require: ["reflect-metadata"],
  serial: true,
  timeout: "3m",
};
