import type { Slice } from '../app';
import { registerOrderModels } from './orders.models';
import { ordersRoutes } from './orders.routes';
import { startOrderSweeper } from './order-sweeper';
import { startProjection } from './projection.consumer';
import { registerAnomalyModels } from './payment-anomalies';
import { anomalyRoutes } from './payment-anomalies.routes';

export { getOrder, donationStatus } from './get-order';
export { payOrder } from './pay-order';
export type { PaymentNotice } from './pay-order';
export { applyRefund } from './refund-order';
export type { RefundRequest, RefundAnswer } from './refund-order';
export { signPayment, verifyPaymentSignature } from './payment-signature';
export { sweepOnce } from './order-sweeper';
export { rebuildOrderState, waitForProjection } from './rebuild-order-state';
export { placeOrderLua } from './orders.lua';
export type { OrderSnapshot } from './orders.store';
export { latestOrderState, latestOrderStates, ORDERS } from './orders.models';
export type { OrderDoc } from './orders.models';
export { recordPaymentAnomaly, listPaymentAnomalies } from './payment-anomalies';
export type { PaymentAnomaly, PaymentAnomalyInput, AnomalyKind } from './payment-anomalies';

export const ordersSlice: Slice = {
  name: 'orders',
  models: registerOrderModels,
  routes: ordersRoutes,
  background: startOrderSweeper,
  workers: startProjection,
};

/** Payments to look at (duplicate charges): recorded by the pay path and the provider adapters, listed for the operator. */
export const paymentAnomaliesSlice: Slice = { name: 'payment-anomalies', models: registerAnomalyModels, routes: anomalyRoutes };
