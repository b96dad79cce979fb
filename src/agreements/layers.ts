import type { Deps } from '../deps';
import { zeroLayers, type Layers } from './agreement.types';

/**
 * The four layers (pledged, confirmed, remitted, acknowledged) and the overdue amount of each agreement.
 * PLACEHOLDER until the remittances work lands (issue 15, ledger side): it answers zeros so the agreement
 * routes can be built beside it; the ledger side replaces this body with the allocator's per-agreement totals.
 */
export async function agreementLayers(_deps: Deps, agreementIds: string[]): Promise<Map<string, Layers>> {
  return new Map(agreementIds.map((id) => [id, zeroLayers()]));
}
