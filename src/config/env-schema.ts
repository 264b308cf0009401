import { z } from 'zod';

/**
 * The building blocks of the environment schema: each reads one variable's
 * text (blank counts as unset) and says in its message what it expected.
 */

/** Trimmed text, or undefined when unset or blank, so that defaults apply to `FOO=` as to no FOO. */
const unsetIfBlank = (raw: unknown): unknown => {
  if (typeof raw !== 'string') return raw;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
};

export const text = () => z.preprocess(unsetIfBlank, z.string().optional());

/** A whole number ≥ `min`, `fallback` when unset. */
export const wholeNumber = (fallback: number, min: number) =>
  z.preprocess(
    unsetIfBlank,
    z
      .string()
      .regex(/^\d+$/, { error: (issue) => `must be a whole number, got "${String(issue.input)}"` })
      .transform(Number)
      .pipe(
        z
          .number()
          .int({ error: `must be at most ${Number.MAX_SAFE_INTEGER}` })
          .min(min, { error: (issue) => `must be an integer >= ${min}, got "${String(issue.input)}"` }),
      )
      .default(fallback),
  );

/** One of `allowed`, in any letter case; `fallback` when unset. */
export const oneOf = <const T extends readonly [string, ...string[]]>(allowed: T, fallback: T[number]) =>
  z.preprocess(
    (raw) => (typeof unsetIfBlank(raw) === 'string' ? (unsetIfBlank(raw) as string).toLowerCase() : undefined),
    z
      .enum(allowed, { error: (issue) => `must be one of ${allowed.join(', ')}, got "${String(issue.input)}"` })
      .default(fallback as never),
  );

/** true/1/on/yes or false/0/off/no; undefined when unset, so that a default can depend on another variable. */
export const flag = () =>
  z.preprocess(
    unsetIfBlank,
    z
      .stringbool({
        truthy: ['true', '1', 'on', 'yes'],
        falsy: ['false', '0', 'off', 'no'],
        error: (issue) => `must be true or false, got "${String(issue.input)}"`,
      })
      .optional(),
  );

/** An http(s) URL, normalised without a trailing slash. */
export const httpUrl = (notText = 'must be a URL') =>
  z.string({ error: notText }).transform((raw, ctx) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: `holds "${raw}", which is not a URL` });
      return z.NEVER;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `holds "${raw}": only http and https URLs are allowed` });
      return z.NEVER;
    }
    return url.toString().replace(/\/+$/, '');
  });

/** NET_ENDPOINTS: a JSON object, net name → base URL, as a list; names trimmed, URLs distinct. */
export const netEndpoints = () =>
  z.preprocess(
    unsetIfBlank,
    z
      .string()
      .transform((raw, ctx): unknown => {
        try {
          return JSON.parse(raw);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'is not valid JSON (expected an object: net name → base URL)' });
          return z.NEVER;
        }
      })
      .pipe(
        z.record(z.string(), httpUrl('must give each net its URL as a string'), {
          error: 'must be a JSON object: net name → base URL',
        }),
      )
      .transform((nets, ctx): ReadonlyArray<{ name: string; endpoint: string }> => {
        const list = Object.entries(nets).map(([name, endpoint]) => ({ name: name.trim(), endpoint }));
        for (const { name } of list) {
          if (name.length < 1 || name.length > 200) {
            ctx.addIssue({ code: 'custom', message: `has a net name of ${name.length} characters (1–200 allowed)` });
          }
        }
        if (new Set(list.map((n) => n.endpoint)).size !== list.length) {
          ctx.addIssue({ code: 'custom', message: 'lists the same URL for two nets' });
        }
        return list;
      })
      .default([]),
  );

/** FL_KIT_SLOTS: comma-separated, distinct names of 1–200 characters. */
export const kitSlots = () =>
  z.preprocess(
    unsetIfBlank,
    z
      .string()
      .transform((raw) => raw.split(',').map((s) => s.trim()))
      .refine((slots) => slots.every((s) => s.length >= 1 && s.length <= 200 && !s.includes('\0')), {
        error: 'must be comma-separated names of 1–200 characters',
      })
      .refine((slots) => new Set(slots).size === slots.length, { error: 'lists a slot name twice' })
      .transform((slots): readonly string[] => slots)
      .default([]),
  );
