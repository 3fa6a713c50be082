import { loadPolicies } from './src/app/load-policies.js';
for (const f of process.argv.slice(2)) {
  const t0 = Date.now();
  try {
    const r = await loadPolicies([f]);
    console.log(f, r.policies.length, 'policies', r.errors.length, 'errors', Date.now() - t0, 'ms', 'rss', Math.round(process.memoryUsage().rss / 1e6), 'MB');
  } catch (e) { console.log(f, 'ERR', (e as Error).message, Date.now() - t0, 'ms'); }
}
