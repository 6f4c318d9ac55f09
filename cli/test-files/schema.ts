// The shape of a test file: defaults for every case (function, env), then cases, each with
// an input (a file or inline: a review or any object) and what the answer must be.
import * as z from 'zod';

// null unsets a variable the file's env sets.
const env = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()]).transform(String).or(z.null()),
);
const input = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

export const expectation = z
  .strictObject({
    allowed: z.boolean().optional().describe('true: admitted; false: denied'),
    code: z.number().int().optional().describe("the denial's status code"),
    message: z.string().optional().describe("a substring of the denial's message"),
    messageMatches: z.string().optional().describe("a regular expression the denial's message matches"),
    patch: z
      .array(z.record(z.string(), z.unknown()))
      .optional()
      .describe('the exact JSON patch; [] for none'),
    object: z.record(z.string(), z.unknown()).optional().describe('fields the patched object has (a subset)'),
    warnings: z.array(z.string()).optional().describe('substrings, one per warning, in order; [] for none'),
  })
  .refine((e) => Object.keys(e).length > 0, 'says nothing to check');

export const testCase = z.strictObject({
  name: z.string().min(1),
  function: z.string().min(1).optional(),
  env: env.optional(),
  input,
  pod: z.boolean().optional(),
  entry: z.string().min(1).optional().describe('the webhook entry the review is sent on (invoke --entry)'),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']).optional(),
  old: input.optional(),
  namespace: z.string().optional(),
  resource: z.string().optional(),
  subResource: z.string().optional(),
  user: z.string().optional(),
  groups: z.array(z.string()).optional(),
  dryRun: z.boolean().optional(),
  expect: expectation,
});

export const testFile = z.strictObject({
  function: z.string().min(1).optional().describe('the function of every case that names none'),
  env: env.optional().describe('configuration of every case, under its own env'),
  cases: z.array(testCase).min(1),
});

export type TestFile = z.output<typeof testFile>;
export type TestCase = z.output<typeof testCase>;
export type Expectation = z.output<typeof expectation>;
