import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  BREAK,
  getVariableValues,
  GraphQLError,
  Kind,
  visit,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';

type VariableValues = Record<string, unknown>;

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

/** Whether the document's count depends on the variables: a @skip or @include on a variable. */
function skipsByVariable(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      const conditional = node.name.value === 'skip' || node.name.value === 'include';
      if (conditional && node.arguments?.some((argument) => argument.value.kind === Kind.VARIABLE)) {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * The field count, as graphql-query-complexity's cost with 1 per field: it
 * needs the request's variables (@skip/@include), so it runs once the
 * operation is resolved, still before any resolver. Apollo reuses a parsed
 * document for the same query text, so a count that no variable can change
 * is kept with its operation and costs nothing on the next request.
 */
export function fieldLimitPlugin(limits: RequestLimits): ApolloServerPlugin {
  // the walk stops at this many selections: a fragment bomb must not cost more to measure than the limit allows
  const maxQueryNodes = 4 * limits.maxFields;
  const counted = new WeakMap<OperationDefinitionNode, number | 'per request'>();
  const estimators = [introspectionIsFree, simpleEstimator({ defaultComplexity: 1 })];

  function count(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: VariableValues) {
    const known = counted.get(operation);
    if (typeof known === 'number') return known;
    try {
      const fields = getComplexity({
        schema,
        query: document,
        variables,
        operationName: operation.name?.value,
        estimators,
        maxQueryNodes,
      });
      if (known === undefined) counted.set(operation, skipsByVariable(document) ? 'per request' : fields);
      return fields;
    } catch (error) {
      // bad variables: execution refuses them as BAD_USER_INPUT before any resolver runs
      if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return 0;
      if (error instanceof GraphQLError) throw refusal(`is too large to measure (over ${maxQueryNodes} selections)`);
      throw error;
    }
  }

  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation: ({ request, document, schema, operation }) => {
          // an operation Apollo cannot find, it refuses itself
          const fields = operation ? count(schema, document, operation, request.variables ?? {}) : 0;
          if (fields > limits.maxFields) throw refusal(`selects more than ${limits.maxFields} fields (${fields})`);
          return Promise.resolve();
        },
      }),
  };
}
