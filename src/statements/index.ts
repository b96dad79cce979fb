import type { Slice } from '../app';
import { mountCharityPage, statementsRoutes } from './statements.routes';
import { registerPublishedStatementModel, startStatementSchedule } from './scheduled-statements';

export { verifyReceipt } from './receipt.verify';
export type { Receipt, PublicHead, InclusionProof } from './receipt.verify';
export { buildStatement } from './build-statement';
export type { Statement } from './statement.math';

// its documents (ledger, period balances, tree) are the allocator's models: statements only read them
// published_statements (issue 15) are its own: the statements produced on schedule, with their digests
export const statementsSlice: Slice = { name: 'statements', models: registerPublishedStatementModel, routes: statementsRoutes, mount: mountCharityPage, background: startStatementSchedule };
