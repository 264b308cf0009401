import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export interface RequestLimits {
  /** deepest field nesting, counting the root field as 1 */
  maxDepth: number;
  /** aliased fields in one operation */
  maxAliases: number;
  /** fields in one operation, counted through fragments: a cheap complexity bound */
  maxFields: number;
}

export const REQUEST_LIMITS: RequestLimits = { maxDepth: 8, maxAliases: 20, maxFields: 400 };

interface Measure {
  depth: number;
  aliases: number;
  fields: number;
}

function measure(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  depth: number,
  seen: Set<string>,
  limits: RequestLimits,
  acc: Measure,
): void {
  for (const selection of set.selections) {
    // stop early: a flood must not cost more to measure than the limit allows
    if (acc.fields > limits.maxFields || acc.depth > limits.maxDepth) return;
    switch (selection.kind) {
      case Kind.FIELD:
        // introspection (GraphiQL's own query nests deep) is bounded by graphql itself, and off in production
        if (selection.name.value.startsWith('__')) break;
        acc.fields += 1;
        if (selection.alias) acc.aliases += 1;
        acc.depth = Math.max(acc.depth, depth);
        if (selection.selectionSet) measure(selection.selectionSet, fragments, depth + 1, seen, limits, acc);
        break;
      case Kind.INLINE_FRAGMENT:
        measure(selection.selectionSet, fragments, depth, seen, limits, acc);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) break; // cycles are reported by graphql's own rule
        seen.add(fragment.name.value);
        measure(fragment.selectionSet, fragments, depth, seen, limits, acc);
        seen.delete(fragment.name.value);
        break;
      }
    }
  }
}

/** Validation rules that refuse too deep, too wide or alias-flooded operations before any resolver runs. */
export function requestLimitRules(limits: RequestLimits): ValidationRule[] {
  const rule = (context: ValidationContext) => {
    const fragments = new Map(
      context
        .getDocument()
        .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    return {
      OperationDefinition(node: { selectionSet: SelectionSetNode; name?: { value: string } }) {
        const acc: Measure = { depth: 0, aliases: 0, fields: 0 };
        measure(node.selectionSet, fragments, 1, new Set(), limits, acc);
        const problems = [
          acc.depth > limits.maxDepth ? `nested deeper than ${limits.maxDepth} levels` : null,
          acc.aliases > limits.maxAliases ? `uses more than ${limits.maxAliases} aliases` : null,
          acc.fields > limits.maxFields ? `selects more than ${limits.maxFields} fields` : null,
        ].filter((p): p is string => p !== null);
        for (const problem of problems) {
          context.reportError(
            new GraphQLError(`The operation ${node.name?.value ?? ''} ${problem}`.replace('  ', ' '), {
              extensions: { code: 'BAD_USER_INPUT', reason: 'REQUEST_LIMIT' },
            }),
          );
        }
      },
    };
  };
  return [rule];
}
