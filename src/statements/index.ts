import type { Slice } from '../app';
import { registerStatementModels } from './statements.repository';
import { mountCharityPage, statementsRoutes } from './statements.routes';

export { verifyReceipt } from './receipt.verify';
export type { Receipt, PublicHead, InclusionProof } from './receipt.verify';
export { buildStatement } from './build-statement';
export type { Statement } from './statement.math';

export const statementsSlice: Slice = { name: 'statements', models: registerStatementModels, routes: statementsRoutes, mount: mountCharityPage };
