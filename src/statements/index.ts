import type { Slice } from '../app';
import { mountCharityPage, statementsRoutes } from './statements.routes';

export { verifyReceipt } from './receipt.verify';
export type { Receipt, PublicHead, InclusionProof } from './receipt.verify';
export { buildStatement } from './build-statement';
export type { Statement } from './statement.math';

// its documents (ledger, period balances, tree) are the allocator's models: statements only read them
export const statementsSlice: Slice = { name: 'statements', routes: statementsRoutes, mount: mountCharityPage };
