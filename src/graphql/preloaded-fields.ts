import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';

const PRELOADED = Symbol('preloaded fields');

type Preloaded = Record<string, unknown>;

/**
 * Marks values of nested fields that the parent's query already read (same
 * statement), e.g. a net's scheduler and its job for `nets`: GraphQL answers
 * them straight from the row, without calling the field's resolver (and
 * Nest's per-call pipeline around it) once per row. Returns the row itself.
 */
export function preload<T extends object>(row: T, fields: Preloaded): T {
  Object.defineProperty(row, PRELOADED, { value: fields, enumerable: false, configurable: true });
  return row;
}

function preloadedOf(source: unknown): Preloaded | undefined {
  return typeof source === 'object' && source !== null ? (source as { [PRELOADED]?: Preloaded })[PRELOADED] : undefined;
}

/**
 * Schema transform: every field resolver of an object type (not Query,
 * Mutation or Subscription) first looks for a preloaded value of its field
 * on the parent. Field resolvers run no guards or interceptors here (access is
 * checked on the root field), so nothing is skipped but the lookup itself.
 */
export function answerPreloadedFields(schema: GraphQLSchema): GraphQLSchema {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || roots.has(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve: GraphQLFieldResolver<unknown, unknown> | undefined = field.resolve;
      if (!resolve || field.args.length > 0) continue;
      const name = field.name;
      field.resolve = (source, args, context, info) => {
        const preloaded = preloadedOf(source);
        return preloaded && name in preloaded ? preloaded[name] : resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
