/**
 * Pledge agreements (issue 15): the contract shared by the orders side (proposing, accepting, the cap reserved
 * with the order) and the ledger side (remittances, acknowledgements, the four layers, disclosure).
 * Money is integer fen; stored times are ISO UTC.
 */

export const agreementStatuses = ['proposed', 'accepted', 'declined', 'suspended'] as const;
export type AgreementStatus = (typeof agreementStatuses)[number];

export const capModes = ['continue_without_donation', 'stop_selling'] as const;
export type CapMode = (typeof capModes)[number];

/** One document per agreement in the `agreements` collection; `_id` is `ag_<random>`. */
export interface AgreementDoc {
  _id: string;
  hostId: string;
  charityId: string;
  perUnitFen: number;
  /** the most the agreement donates in all, in fen; null: no cap in fen */
  capFen: number | null;
  /** the most units that donate; null: no cap in units */
  capUnits: number | null;
  onCap: CapMode;
  /** null: any of the host's products whose pledge names this agreement */
  productIds: string[] | null;
  /** null: any stream of the host */
  streamIds: string[] | null;
  validFrom: Date;
  validTo: Date;
  /** confirmed donations are due at the charity this many days after they are confirmed */
  remitWithinDays: number;
  status: AgreementStatus;
  /** true for the agreements given at migration to products that pledged before agreements existed ("accepted on the charity's behalf") */
  migrated: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** when the charity accepted / declined / suspended it */
  acceptedAt?: Date;
  declinedAt?: Date;
  suspendedAt?: Date;
}

export const agreementCollections = { agreements: 'agreements', remittances: 'remittances' } as const;

/** The four layers of an agreement's (or a host's, stream's, charity's) donations, in fen. */
export interface Layers {
  pledgedFen: number;
  confirmedFen: number;
  remittedFen: number;
  acknowledgedFen: number;
  /** confirmed, not remitted, and past the agreement's due date (confirmation + remitWithinDays) */
  overdueFen: number;
}
export const zeroLayers = (): Layers => ({ pledgedFen: 0, confirmedFen: 0, remittedFen: 0, acknowledgedFen: 0, overdueFen: 0 });

/**
 * What one order donates under its agreement's cap. `donationFen` (D) is what the order reserved at placing
 * (0 ≤ D ≤ pledgePerUnitFen × quantity; an order event without `donationFen` donates pledgePerUnitFen × quantity).
 * A refund taking the order from `before` to `after` refunded units (of `quantity`) reverses, and returns to the
 * cap, exactly ⌊D×after/quantity⌋ − ⌊D×before/quantity⌋ — the same formula the sponsor match uses, so the pieces of
 * partial refunds add up to D. Both the order scripts (cap) and the allocator (ledger) use this one function.
 */
export function refundShare(donationFen: number, quantity: number, before: number, after: number): number {
  // BigInt: D × after can pass 2^53 for a large order; the quotients are exact integers again
  const d = BigInt(donationFen), q = BigInt(quantity);
  return Number((d * BigInt(after)) / q - (d * BigInt(before)) / q);
}
