/**
 * Imported first by bench/run.ts, before anything loads `graphql`: graphql-js
 * picks its `instanceOf` at module evaluation, a fast `instanceof` under
 * NODE_ENV=production and a slower development check otherwise. The hubs run
 * with NODE_ENV=production configuration, so the process does too (the plain
 * graphql-js peer shares the module, so both sides get the same).
 */
process.env.NODE_ENV = 'production';

export const NODE_ENV = process.env.NODE_ENV;
