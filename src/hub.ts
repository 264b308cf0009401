import { type INestApplication } from '@nestjs/common';
import { Logger as PinoLogger } from 'nestjs-pino';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppModule } from './app.module.js';
import { TokenVerifier } from './common/auth/token-verifier.js';
import { consolePage, defaultConsoleDir } from './console/console-page.js';
import { playground } from './graphql/playground/playground.js';
import { requestIdMiddleware } from './observability/request-context.js';
import type { AppConfig } from './config/app-config.js';

/** Requests larger than this are refused before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * JSON bodies up to MAX_BODY_BYTES; a body the parser refuses (too large,
 * malformed) is answered right here as a GraphQL-shaped client error, before
 * anything else sees the request.
 */
function jsonBodies(): (req: Request, res: Response, next: NextFunction) => void {
  const parse = express.json({ limit: MAX_BODY_BYTES });
  return (req, res, next) => {
    parse(req, res, (error?: unknown) => {
      if (error === undefined || error === null) return next();
      const status = typeof error === 'object' && 'status' in error ? Number(error.status) : 400;
      const clientStatus = status >= 400 && status < 500 ? status : 400;
      const message = clientStatus === 413 ? `request body larger than ${MAX_BODY_BYTES} bytes` : 'malformed request body';
      res.status(clientStatus).json({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
    });
  };
}

/** Builds the hub (not listening yet) for a configuration and a database URL. */
export async function createHub(config: AppConfig, databaseUrl: string): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoLogger));
  app.use(requestIdMiddleware);
  // the development token (no auth settings, outside production) signs the console and GraphiQL in
  const devToken = config.nodeEnv === 'production' ? null : await app.get(TokenVerifier).developmentAdminToken();
  app.use(consolePage({ dir: defaultConsoleDir(), devToken: () => devToken }));
  if (config.graphiql) {
    const defaultHeaders = devToken
      ? JSON.stringify({ Authorization: `Bearer ${devToken}` }, null, 2)
      : '{\n  "Authorization": "Bearer <token>"\n}';
    app.use(playground({ endpoint: '/graphql', defaultHeaders: () => defaultHeaders }));
  }
  app.use(jsonBodies());
  await app.init();
  return app;
}
