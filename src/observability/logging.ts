import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import pretty from 'pino-pretty';
import type { AppConfig } from '../config/app-config.js';

const QUIET_PATHS = new Set(['/health', '/metrics']);

/** Human-readable lines for a person at a terminal in development; JSON everywhere else (CI, tests, production). */
export function prettyLogs(config: AppConfig, stdoutIsTTY: boolean = process.stdout.isTTY === true): boolean {
  return stdoutIsTTY && config.nodeEnv !== 'production';
}

/** Structured logs (pino), one line per request with its id; the same id goes into the calls to nets. */
export function loggerModule(config: AppConfig) {
  const options: Options = {
    level: config.logLevel,
    genReqId: (req) => req.id ?? randomUUID(),
    autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
    },
  };
  if (!prettyLogs(config)) return LoggerModule.forRoot({ pinoHttp: options });
  // in this thread (no transport worker), so a line is out before the process exits
  const stream = pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
  return LoggerModule.forRoot({ pinoHttp: [options, stream] });
}
