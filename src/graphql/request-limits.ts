import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { getVariableValues, GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';

export interface RequestLimits {
  /** deepest field nesting, counting the root field as 1; fragments add no level */
  maxDepth: number;
  /** aliased fields in one operation */
  maxAliases: number;
  /** fields in one operation, counted through fragments: a cost of 1 per field */
  maxFields: number;
}

export const REQUEST_LIMITS: RequestLimits = { maxDepth: 8, maxAliases: 20, maxFields: 400 };

/** A refused request: BAD_USER_INPUT with HTTP 400, like any malformed request. */
function refusal(problem: string): GraphQLError {
  return new GraphQLError(`The operation ${problem}`, {
    extensions: { code: 'BAD_USER_INPUT', reason: 'REQUEST_LIMIT', http: { status: 400 } },
  });
}

/** graphql-armor's rejections, reported as ours instead of thrown (a throw out of validation would be a 500). */
const reportAs =
  (problem: string) =>
  (context: ValidationContext | null, error: GraphQLError): void => {
    const found = /found (\d+)/.exec(error.message)?.[1];
    context?.reportError(refusal(found === undefined ? problem : `${problem} (${found})`));
  };

/** Validation rules (run once per document, which Apollo then caches) for depth and aliases. */
export function requestLimitRules(limits: RequestLimits): ValidationRule[] {
  return [
    maxDepthRule({
      n: limits.maxDepth,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: [reportAs(`is nested deeper than ${limits.maxDepth} levels`)],
    }),
    maxAliasesRule({
      n: limits.maxAliases,
      propagateOnRejection: false,
      onReject: [reportAs(`uses more than ${limits.maxAliases} aliases`)],
    }),
  ];
}

/** Introspection (GraphiQL's own query is large) is bounded by graphql itself, and off in production. */
const introspectionIsFree: ComplexityEstimator = ({ field }) => (field.name.startsWith('__') ? 0 : undefined);

/**
 * The field count, as graphql-query-complexity's cost with 1 per field: it
 * needs the request's variables (@skip/@include), so it runs once the
 * operation is resolved, still before any resolver.
 */
export function fieldLimitPlugin(limits: RequestLimits): ApolloServerPlugin {
  // the walk stops at this many selections: a fragment bomb must not cost more to measure than the limit allows
  const maxQueryNodes = 4 * limits.maxFields;
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: ({ request, document, schema, operation }) => {
          if (!operation) return Promise.resolve(); // Apollo itself refuses an operation it cannot find
          let fields: number;
          try {
            fields = getComplexity({
              schema,
              query: document,
              variables: request.variables ?? {},
              operationName: operation.name?.value,
              estimators: [introspectionIsFree, simpleEstimator({ defaultComplexity: 1 })],
              maxQueryNodes,
            });
          } catch (error) {
            // bad variables: execution refuses them as BAD_USER_INPUT before any resolver runs
            const variables = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
            if (variables.errors) return Promise.resolve();
            if (error instanceof GraphQLError) throw refusal(`is too large to measure (over ${maxQueryNodes} selections)`);
            throw error;
          }
          if (fields > limits.maxFields) throw refusal(`selects more than ${limits.maxFields} fields (${fields})`);
          return Promise.resolve();
        },
      }),
  };
}
