import { topicReplication } from '../../src/infra/kafka';

describe('topic replication', () => {
  it('when nothing is configured, then topics get min(3, brokers) copies and min ISR 2 once there are 3', () => {
    expect(topicReplication(undefined, 1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(topicReplication(undefined, 2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(topicReplication(undefined, 3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(topicReplication(undefined, 9)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
  });

  it('when LIVEGIVE_TOPIC_REPLICATION is set, then it wins over the broker count', () => {
    expect(topicReplication(1, 3)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(topicReplication(5, 5)).toEqual({ replicationFactor: 5, minInsyncReplicas: 2 });
  });
});
