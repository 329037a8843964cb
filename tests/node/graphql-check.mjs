// Checks GraphQL queries against GitHub's published schema (@octokit/graphql-schema):
// each query must pass graphql-js's validate(), and the answer the fake gave must be one
// the schema allows for that query (executed over the answer itself: a missing non-null
// field, a wrong enum value or type, or a field the query did not select fails).
// Usage: node graphql-check.mjs <file.json>   (a JSON array of {query, variables, answer?})
// Prints one line per query and "N passed, N failed"; exits 1 on any failure.
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate, execute } from 'graphql';
import { schema as published } from '@octokit/graphql-schema';

// GitHub's SDL defines two fields twice (EnterpriseOwnerInfo); its types are sound.
const schema = buildSchema(published.idl, { assumeValidSDL: true });
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let passed = 0;
let failed = 0;
const byKey = (source, _args, _ctx, info) => (source == null ? null : source[info.path.key]);
// GitHub answers only what a query selects; a node without `__typename` is told by its fields.
const typeOf = (value, _ctx, _info, abstract) =>
  value.__typename ?? (abstract.name === 'Node' && 'oid' in value ? 'Commit' : undefined);
const canonical = (v) => JSON.stringify(v, (_k, x) =>
  x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x);

// Where two JSON values first differ (a field the query did not select, or a missing one).
function firstDifference(answer, selected, path = 'data') {
  if (answer && selected && typeof answer === 'object' && typeof selected === 'object') {
    for (const k of new Set([...Object.keys(answer), ...Object.keys(selected)])) {
      if (canonical(answer[k]) !== canonical(selected[k])) return firstDifference(answer[k], selected[k], `${path}.${k}`);
    }
  }
  return path;
}

for (const [i, c] of cases.entries()) {
  const name = c.query.match(/^\s*query\s+(\w+)/)?.[1] ?? `query ${i}`;
  let problems = [];
  let doc;
  try {
    doc = parse(c.query);
    problems = validate(schema, doc).map((e) => e.message);
  } catch (e) {
    problems = [`does not parse: ${e.message}`];
  }
  if (problems.length === 0 && c.answer !== undefined) {
    const run = execute({
      schema, document: doc, rootValue: c.answer.data, variableValues: c.variables,
      fieldResolver: byKey, typeResolver: typeOf,
    });
    if (run.errors?.length) problems.push(...run.errors.map((e) => `answer: ${e.message} at ${e.path?.join('.')}`));
    else if (canonical(run.data) !== canonical(c.answer.data)) {
      problems.push(`answer: differs from what the query selects at ${firstDifference(c.answer.data, run.data)}`);
    }
  }
  if (problems.length) {
    failed += 1;
    console.log(`FAIL ${name}: ${problems.join('; ')}`);
  } else {
    passed += 1;
    console.log(`ok ${name}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
