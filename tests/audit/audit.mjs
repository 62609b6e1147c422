// Runs every server audit of the GraphQL-over-HTTP spec (the graphql-http package) against
// the URL given, and prints their results as JSON: [{id, name, status, reason}].
// `node audit.mjs http://127.0.0.1:8000/graphql`
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason });
}
console.log(JSON.stringify(results));
