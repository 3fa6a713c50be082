import fc from 'fast-check';

/**
 * Property tests draw new cases on every local run, so they keep finding what the last run missed.
 * In CI (CI=true) they draw from one fixed seed: the cases a green fresh-clone run passed are the
 * cases CI runs, so a merge is never refused by a draw nobody saw. FC_SEED=N replays a reported seed.
 */
const CI_SEED = 20_261_207;

const fromEnv = process.env['FC_SEED'];
const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : process.env['CI'] === 'true' ? CI_SEED : undefined;
if (seed !== undefined) {
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED=${fromEnv}: not an integer`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
}
