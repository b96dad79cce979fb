import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { runScenario, crashScenario, kafkaOutageScenario, redisRestartScenario, mongoOutageScenario, replayScenario, scaleOutScenario, formatResult, ScenarioSpec } from './chaos/scenarios';

/**
 * npm run chaos -- --seed <n> [--only crash,kafka-outage,…] [--quick]
 * Runs the fault scenarios against real processes and stores while a simulated sale runs, prints the seed,
 * and ends with the invariant check naming any order, entry or total that is off. Exit code 1 if any is.
 */
const program = new Command()
  .name('chaos')
  .option('--seed <n>', 'seed for the fault schedule and the buyers (random if not given)')
  .option('--only <names>', 'comma-separated scenario names')
  .option('--quick', 'the short versions npm test runs')
  .parse();
const opts = program.opts<{ seed?: string; only?: string; quick?: boolean }>();
const seed = opts.seed !== undefined ? Number(opts.seed) : randomInt(1, 2 ** 31 - 1);
if (!Number.isInteger(seed) || seed < 0) { console.error('chaos: --seed must be a non-negative integer'); process.exit(2); }

const quick = !!opts.quick;
const all: ScenarioSpec[] = [
  crashScenario(quick ? 4 : 20),
  kafkaOutageScenario(quick ? 8000 : 30000),
  redisRestartScenario(),
  mongoOutageScenario(quick ? 8000 : 30000),
  replayScenario(quick ? 6000 : 20000),
  scaleOutScenario(),
];
const only = opts.only?.split(',').map((s) => s.trim());
const chosen = only ? all.filter((s) => only.includes(s.name)) : all;
if (only && chosen.length !== only.length) { console.error(`chaos: unknown scenario in --only (known: ${all.map((s) => s.name).join(', ')})`); process.exit(2); }

(async () => {
  // the shared Kafka, FerretDB and Redis the scenarios run against (outage scenarios start private ones)
  execFileSync(path.join(__dirname, '..', 'scripts', 'stack'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`chaos: seed ${seed}${quick ? ' (quick)' : ''}; scenarios: ${chosen.map((s) => s.name).join(', ')}`);
  let broken = 0;
  for (const [i, spec] of chosen.entries()) {
    console.log(`\n▶ ${spec.name}: ${spec.title}`);
    const r = await runScenario(spec, seed + i, 1, (s) => console.log(s));
    console.log(formatResult(r));
    if (r.problems.length) broken++;
  }
  console.log(`\nchaos: seed ${seed}: ${broken === 0 ? 'the invariant held in every scenario' : `the invariant broke in ${broken} scenario(s)`}`);
  process.exit(broken ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(1); });
