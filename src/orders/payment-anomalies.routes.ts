import type { Api } from '../infra/http';
import type { Deps } from '../deps';
import { z } from '../infra/zod';
import { listPaymentAnomalies } from './payment-anomalies';

const AnomaliesQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();
const Anomalies = z.object({
  anomalies: z.array(z.object({
    kind: z.enum(['duplicate_charge']), orderId: z.string(), provider: z.string(), paymentId: z.string(), amountFen: z.number().int(), at: z.string(),
    originalPaymentId: z.string().optional().openapi({ description: 'the payment that paid the order first' }),
  })),
}).openapi('PaymentAnomalies');

export function anomalyRoutes(api: Api, deps: Deps): void {
  api.route({
    method: 'get', path: '/api/v1/payments/anomalies', tag: 'payments', auth: ['operator'], query: AnomaliesQuery,
    summary: 'Payments to look at, newest first: a second charge for an order already paid (operator); each needs a refund to the buyer',
    responses: { 200: { description: 'the anomalies', schema: Anomalies } },
  }, async ({ query }) => ({ status: 200, body: { anomalies: await listPaymentAnomalies(deps, query.limit) } }));
}
