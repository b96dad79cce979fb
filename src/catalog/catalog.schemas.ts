import { z, Id, PositiveFen, Fen } from '../infra/zod';
import { displayText } from '../infra/display-text';
import { isValidUscc } from './uscc';

const Name = displayText(100);

export const CreateCharityBody = z.object({
  name: Name.openapi({ example: '武汉市慈善总会' }),
  registrationNo: z.string().refine(isValidUscc, 'must be a valid 18-character unified social credit code').openapi({ example: '53420100MJH603112J' }),
}).strict().openapi('CreateCharity');
export const Charity = z.object({ id: z.string(), name: z.string(), registrationNo: z.string(), active: z.boolean() }).openapi('Charity');
export const CharityWithToken = Charity.extend({ token: z.string() }).openapi('CharityWithToken');
export const PatchCharityBody = z.object({ active: z.boolean() }).strict();

export const CreateHostBody = z.object({ name: Name }).strict().openapi('CreateHost');
export const HostWithToken = z.object({ id: z.string(), name: z.string(), token: z.string() }).openapi('HostWithToken');
export const CreateViewerBody = z.object({ nickname: displayText(32) }).strict().openapi('CreateViewer');
export const ViewerWithToken = z.object({ id: z.string(), nickname: z.string(), token: z.string() }).openapi('ViewerWithToken');

const Stock = z.number().int().min(0).max(1_000_000_000);
export const PledgeInput = z.object({
  charityId: Id, perUnitFen: PositiveFen,
  agreementId: Id.optional().openapi({ description: 'the accepted agreement the pledge sells under (its charity and per-unit amount); absent: see LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT' }),
}).strict();

export const CreateProductBody = z.object({
  name: Name.openapi({ example: '赣南脐橙 5 kg' }),
  origin: displayText(100).openapi({ example: '江西省赣州市寻乌县' }),
  unit: displayText(20).openapi({ example: '箱' }),
  priceFen: PositiveFen,
  stock: Stock,
  buyerLimit: z.number().int().min(1).max(10_000).optional(),
  pledge: PledgeInput,
  restockOnRefund: z.boolean().optional().openapi({ description: 'refunded units return to stock (default false: a refunded box is not sold again)' }),
}).strict().refine((b) => b.pledge.perUnitFen <= b.priceFen, { path: ['pledge', 'perUnitFen'], message: 'must not exceed priceFen' }).openapi('CreateProduct');

export const PatchProductBody = z.object({
  name: Name.optional(),
  priceFen: PositiveFen.optional(),
  pledge: PledgeInput.optional(),
  addStock: z.number().int().min(1).max(1_000_000_000).optional(),
  buyerLimit: z.number().int().min(1).max(10_000).optional(),
  restockOnRefund: z.boolean().optional(),
}).strict().refine((b) => Object.keys(b).length > 0, 'give at least one field').openapi('PatchProduct');

export const Product = z.object({
  id: z.string(), hostId: z.string(), name: z.string(), origin: z.string(), unit: z.string(), priceFen: Fen, stock: z.number().int(),
  remaining: z.number().int(), buyerLimit: z.number().int(), pledge: z.object({ charityId: z.string(), charityName: z.string(), perUnitFen: Fen, agreementId: z.string().nullable() }),
  restockOnRefund: z.boolean(),
}).openapi('Product');

export const CreateStreamBody = z.object({
  title: displayText(200), goalFen: Fen.min(0).max(1_000_000_000_00).optional(),
  // a flash sale's shorter payment window: its unpaid orders give their stock back sooner (never longer than LIVEGIVE_ORDER_TTL_SECONDS)
  paymentWindowSeconds: z.number().int().min(10).max(86400).optional(),
}).strict().openapi('CreateStream');
export const PinBody = z.object({ productIds: z.array(Id).max(200) }).strict().openapi('PinProducts');
export const Stream = z.object({
  id: z.string(), hostId: z.string(), title: z.string(), status: z.enum(['scheduled', 'live', 'ended']), goalFen: Fen, productIds: z.array(z.string()),
  paymentWindowSeconds: z.number().int().optional(),
}).openapi('Stream');
export const PublicStream = z.object({
  id: z.string(), title: z.string(), status: z.string(), goalFen: Fen,
  products: z.array(z.object({ id: z.string(), name: z.string(), origin: z.string(), unit: z.string(), priceFen: Fen, remaining: z.number().int(), pledge: z.object({ charityId: z.string(), charityName: z.string(), perUnitFen: Fen, agreementId: z.string().nullable().optional() }) })),
}).openapi('PublicStream');
export const IdParams = z.object({ id: Id });
