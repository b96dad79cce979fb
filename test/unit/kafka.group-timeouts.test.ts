import { CONSUMER_REQUEST_TIMEOUT_MS } from '../../src/infra/kafka';
import { PROJECTION_SESSION_TIMEOUT_MS } from '../../src/orders/projection.consumer';
import { ALLOCATOR_SESSION_TIMEOUT_MS } from '../../src/allocator/allocator.consumer';

describe('consumer group timeouts', () => {
  // a follower's SyncGroup waits for its leader; a leader that died answers only when its session expires. A request
  // timeout below that made a restarted workers process rejoin as a new member again and again (the projection
  // stopped for good after two quick kills, chaos seed 1): the groups' client must outwait every session.
  it('when a group waits for a dead leader\'s session to expire, then the consumers\' request timeout outlasts it', () => {
    for (const session of [PROJECTION_SESSION_TIMEOUT_MS, ALLOCATOR_SESSION_TIMEOUT_MS]) expect(CONSUMER_REQUEST_TIMEOUT_MS).toBeGreaterThan(session + 5_000);
  });
});
