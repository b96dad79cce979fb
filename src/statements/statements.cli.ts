import { Command, CommanderError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { runVerify, UsageError, type VerifyOptions } from './run-verify';

/** Adds `livegive verify`: exit 0 when the chain, totals and statement all match, 1 when not, 2 for bad arguments. */
export function register(program: Command): void {
  program
    .command('verify')
    .description('recompute a charity\'s hash chain, Merkle root and totals and compare them with the published head and a statement')
    .requiredOption('--charity <id>', 'the charity id')
    .option('--from <iso>', 'period start (inclusive), e.g. 2026-11-01T00:00:00Z')
    .option('--to <iso>', 'period end (exclusive)')
    .option('--file <statement.json>', 'a statement saved earlier, to check figure by figure')
    .option('--url <url>', 'the livegive API', process.env.LIVEGIVE_URL ?? 'http://127.0.0.1:8080')
    .option('--token <token>', 'the charity\'s or operator\'s token (default: $LIVEGIVE_TOKEN)')
    .option('--mongo-url <url>', 'read the ledger directly from MongoDB instead of the API (mongodb://host/db)')
    .exitOverride((err: CommanderError) => {
      if (err.exitCode === 0) process.exit(0);
      process.exit(2);
    })
    .action(async (opts: VerifyOptions) => {
      const bar = process.stderr.isTTY ? new SingleBar({ format: 'verify [{bar}] {value}/{total} entries {eta_formatted}', stream: process.stderr }, Presets.shades_classic) : undefined;
      let n = 0;
      const progress = bar && {
        start: (total: number) => bar.start(total, 0),
        tick: () => { if (++n % 1000 === 0) bar.update(n); },
        stop: () => { bar.update(n); bar.stop(); },
      };
      try {
        process.exitCode = await runVerify({ ...opts, token: opts.token ?? process.env.LIVEGIVE_TOKEN }, { log: (l) => console.log(l), progress: progress || undefined });
      } catch (err) {
        console.error(`livegive verify: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = err instanceof UsageError ? 2 : 1;
      }
    });
}
