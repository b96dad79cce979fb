import type { Slice } from '../app';
import { registerPaymentModels } from './payments.models';
import { paymentsRoutes } from './payments.routes';

export { runReconciliation } from './run-reconciliation';
export type { ReconciliationReport } from './run-reconciliation';
export { reportCsv } from './reconcile';
export { yuanToFen, fenToYuan } from './yuan';

/** Provider adapters (WeChat Pay v3, Alipay), merchant accounts per host, and daily reconciliation against the providers' bills. */
export const paymentsSlice: Slice = { name: 'payments', models: registerPaymentModels, routes: paymentsRoutes };
