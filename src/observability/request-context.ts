import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The id of the request this code runs for (also inside work it started, such as a pickup cycle). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

const VALID_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Gives every HTTP request an id — the caller's `x-request-id` when it is
 * sane, else a new UUID — echoes it in the response, and makes it the
 * context of everything the request runs, down to the calls to nets.
 */
export function requestIdMiddleware(req: Request & { id?: string }, res: Response, next: NextFunction): void {
  const header = req.headers['x-request-id'];
  const requestId = typeof header === 'string' && VALID_ID.test(header) ? header : randomUUID();
  req.id = requestId;
  res.setHeader('x-request-id', requestId);
  storage.run({ requestId }, next);
}
