import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BadRequestException, ForbiddenException, HttpException, Logger, NotFoundException } from '@nestjs/common';
import { buildSchema, graphql, GraphQLError, type GraphQLFormattedError } from 'graphql';
import { formatGraphQLError, resolverError } from './error-mapping.js';
import { DomainError, ERROR_CODES, type ErrorCode } from './errors.js';

/** What each code must look like to a client; a code missing here fails the first test. */
const EXPECTED_HTTP_STATUS: Record<ErrorCode, number | undefined> = {
  NOT_FOUND: undefined,
  BAD_USER_INPUT: undefined,
  CONFLICT: undefined,
  NET_UNAVAILABLE: undefined,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
};

const schema = buildSchema('type Query { failing: String }');

/**
 * Runs a query whose resolver throws `thrown`, the way the hub does: the
 * exception filter's GraphQL error is what the resolver ends with, and Apollo
 * hands graphql's located error to formatError.
 */
async function answerTo(thrown: unknown): Promise<GraphQLFormattedError> {
  const result = await graphql({
    schema,
    source: '{ failing }',
    rootValue: { failing: () => resolverError(thrown) },
  });
  const error = result.errors?.[0];
  if (!error) throw new Error('the resolver did not fail');
  return formatGraphQLError(error.toJSON(), error);
}

const logged: string[] = [];

beforeAll(() => {
  Logger.overrideLogger({
    log: () => undefined,
    warn: () => undefined,
    error: (message: unknown, stack?: unknown) => logged.push(`${String(message)}\n${String(stack)}`),
  });
});
afterAll(() => Logger.overrideLogger(true));
beforeEach(() => {
  logged.splice(0);
});

describe('the error mapping', () => {
  it('maps every domain code, keeping its message and details, with its HTTP status', async () => {
    expect(Object.keys(EXPECTED_HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const error = resolverError(new DomainError(code, `a ${code} error`, { net: 'net-1' }));
      expect({ code, status: (error.extensions.http as { status?: number } | undefined)?.status }).toEqual({
        code,
        status: EXPECTED_HTTP_STATUS[code],
      });
      const answer = await answerTo(new DomainError(code, `a ${code} error`, { net: 'net-1' }));
      expect(answer).toMatchObject({ message: `a ${code} error`, path: ['failing'], extensions: { code, net: 'net-1' } });
    }
    expect(logged).toEqual([]);
  });

  it.each([
    ['a 400', new BadRequestException('no'), 'BAD_USER_INPUT'],
    ['a 429', new HttpException('slow down', 429), 'BAD_USER_INPUT'],
    ['a 403', new ForbiddenException('no'), 'FORBIDDEN'],
    ['a 401', new HttpException('who?', 401), 'UNAUTHENTICATED'],
    ['a 404', new NotFoundException('gone'), 'NOT_FOUND'],
    [
      'a PostgreSQL data exception',
      Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' }),
      'BAD_USER_INPUT',
    ],
    [
      'a GraphQL error with a domain code',
      new GraphQLError('bad DateTime', { extensions: { code: 'BAD_USER_INPUT' } }),
      'BAD_USER_INPUT',
    ],
  ])('answers %s with a client code', async (_name, thrown, code) => {
    expect((await answerTo(thrown)).extensions?.code).toBe(code);
    expect(logged).toEqual([]);
  });

  it('answers a fault of the hub as a bare internal error, logged once with its stack', async () => {
    const fault = new Error('connection to 10.0.0.7:5432 lost');
    const answer = await answerTo(fault);
    expect(answer).toEqual({
      message: 'Internal server error',
      locations: [{ line: 1, column: 3 }],
      path: ['failing'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(fault.stack);
  });

  it.each([
    ['a 5xx', new HttpException('bug', 500)],
    ['a GraphQL error without a code', new GraphQLError('no code')],
    ['an unknown code', new GraphQLError('odd', { extensions: { code: 'TEAPOT' } })],
  ])('answers %s as a fault of the hub', async (_name, thrown) => {
    expect(await answerTo(thrown)).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(logged).toHaveLength(1);
  });

  it("turns Apollo's codes for malformed requests into BAD_USER_INPUT, Apollo's code kept as the reason", () => {
    for (const apolloCode of ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']) {
      const error = new GraphQLError('Cannot query field "x" on type "Query".', { extensions: { code: apolloCode } });
      expect(formatGraphQLError({ ...error.toJSON(), extensions: { code: apolloCode, stacktrace: ['at x'] } }, error)).toEqual({
        message: 'Cannot query field "x" on type "Query".',
        extensions: { code: 'BAD_USER_INPUT', reason: apolloCode },
      });
    }
    const limit = new GraphQLError('The operation uses more than 20 aliases', {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', reason: 'REQUEST_LIMIT' },
    });
    expect(formatGraphQLError(limit.toJSON(), limit).extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'REQUEST_LIMIT' });
    expect(logged).toEqual([]);
  });
});
