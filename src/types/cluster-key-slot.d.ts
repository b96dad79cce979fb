declare module 'cluster-key-slot' {
  /** Redis Cluster's hash slot (CRC16 of the key or its {tag}, mod 16384). */
  export default function calculateSlot(key: string | Buffer): number;
}
