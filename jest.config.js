/** jest 30 on native ESM (see package.json "test"): ts-jest transpiles, one clean database per test file. */
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // one graphql instance: jest's ESM resolution would otherwise load graphql's .mjs build beside the .js one
    '^graphql$': '<rootDir>/node_modules/graphql/index.js',
    '^graphql/(.*?)(\\.m?js)?$': '<rootDir>/node_modules/graphql/$1.js',
  },
  transform: { '^.+\\.ts$': tsJest },
  setupFiles: ['reflect-metadata'],
};

export default {
  maxWorkers: 2,
  testTimeout: 60_000,
  globalSetup: './test/support/global-setup.js',
  globalTeardown: './test/support/global-teardown.js',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts', '<rootDir>/console/**/*.spec.ts'],
    },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    // the console in Debian's chromium (installed by `pretest`: scripts/ensure-chromium.sh)
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'] },
  ],
};
