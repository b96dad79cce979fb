import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { closeDeps, createDeps } from '../deps';
import { createLogger } from '../infra/logger';
import { DomainError } from '../infra/errors';
import { ordersSlice } from '../orders';
import { registerPaymentModels } from './payments.models';
import { runReconciliation } from './run-reconciliation';
import { reportCsv } from './reconcile';

/** `livegive reconcile`: one provider bill against livegive; exit 0 when the day balances, 1 when not, 2 for a bad bill or arguments. */
export function register(program: Command): void {
  program.command('reconcile')
    .description('compare a WeChat Pay or Alipay bill of one day with livegive, to the fen; lost payments are applied (marked found by reconciliation)')
    .requiredOption('--provider <provider>', 'wechatpay or alipay')
    .requiredOption('--bill <file>', 'the bill: WeChat Pay trade bill CSV, or the Alipay bill zip')
    .option('--date <YYYY-MM-DD>', 'the day the bill is for (default: the day of its rows)')
    .option('--merchant <id>', 'refuse a bill of any other merchant (WeChat mchid, Alipay PID)')
    .option('--format <json|csv>', 'report format on stdout', 'json')
    .option('--out <file>', 'also write the report here (format by the extension: .csv or .json)')
    .action(async (opts: { provider: string; bill: string; date?: string; merchant?: string; format: string; out?: string }) => {
      if (!['wechatpay', 'alipay'].includes(opts.provider) || !['json', 'csv'].includes(opts.format) || (opts.date && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date))) {
        console.error('livegive reconcile: --provider wechatpay|alipay, --format json|csv, --date YYYY-MM-DD');
        process.exitCode = 2;
        return;
      }
      let file: Buffer;
      try { file = readFileSync(opts.bill); } catch (err) { console.error(`livegive reconcile: cannot read ${opts.bill}: ${(err as Error).message}`); process.exitCode = 2; return; }
      const config = loadConfig();
      const deps = await createDeps(config, {
        logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), clientId: 'livegive-cli',
        registerModels: (c) => { ordersSlice.models?.(c); registerPaymentModels(c); },
      });
      try {
        const report = await runReconciliation(deps, { provider: opts.provider as 'wechatpay' | 'alipay', file, date: opts.date, merchant: opts.merchant });
        const text = (f: string) => (f === 'csv' ? reportCsv(report) : `${JSON.stringify(report, null, 2)}\n`);
        process.stdout.write(text(opts.format));
        if (opts.out) writeFileSync(opts.out, text(opts.out.endsWith('.csv') ? 'csv' : 'json'));
        process.exitCode = report.balanced ? 0 : 1;
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        console.error(`livegive reconcile: ${err.code}: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ''}`);
        process.exitCode = 2;
      } finally {
        await closeDeps(deps);
      }
    });
}
