import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, openSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from './redis-server';
import { waitFor } from './env';

const KAFKA_VERSION = '3.9.1';
const cacheDir = () => process.env.LIVEGIVE_CACHE_DIR ?? path.join(os.homedir(), '.cache/livegive');

/**
 * A private single-node KRaft broker on free ports, for scenarios that stop Kafka: the shared broker
 * on 9092 is never touched. Same properties as scripts/stack; data survives down()/up().
 */
export class PrivateKafka {
  proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'lg-kafka-'));
  private formatted = false;

  constructor(readonly port: number, readonly controllerPort: number) {}
  get brokers() { return `127.0.0.1:${this.port}`; }

  static async start(): Promise<PrivateKafka> {
    const k = new PrivateKafka(await freePort(), await freePort());
    await k.up();
    return k;
  }

  private classpath() { return `${path.join(cacheDir(), `kafka-${KAFKA_VERSION}`, 'libs')}/*`; }

  private writeConfig(): void {
    mkdirSync(path.join(this.dir, 'logs'), { recursive: true });
    writeFileSync(path.join(this.dir, 'server.properties'), [
      'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}`, 'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${path.join(this.dir, 'logs')}`, 'num.partitions=1', 'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1', 'offsets.topic.num.partitions=3', 'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1', 'min.insync.replicas=1', 'default.replication.factor=1',
      'group.initial.rebalance.delay.ms=0', 'log.retention.hours=168', '',
    ].join('\n'));
    writeFileSync(path.join(this.dir, 'log4j.properties'), [
      'log4j.rootLogger=WARN, file', `log4j.appender.file=org.apache.log4j.FileAppender`,
      `log4j.appender.file.File=${path.join(this.dir, 'server.log')}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout', 'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n', '',
    ].join('\n'));
  }

  /** Starts the broker (formatting its storage the first time) and waits until it answers metadata requests. */
  async up(): Promise<void> {
    const log4j = `-Dlog4j.configuration=file:${path.join(this.dir, 'log4j.properties')}`;
    if (!this.formatted) {
      this.writeConfig();
      execFileSync('java', ['-cp', this.classpath(), log4j, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId()}`,
        '-c', path.join(this.dir, 'server.properties'), '--ignore-formatted'], { stdio: 'pipe' });
      this.formatted = true;
    }
    const out = openSync(path.join(this.dir, 'stdout.log'), 'a');
    this.proc = spawn('java', ['-Xms256m', '-Xmx384m', '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', log4j,
      '-cp', this.classpath(), 'kafka.Kafka', path.join(this.dir, 'server.properties')], { stdio: ['ignore', out, out] });
    const proc = this.proc;
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`private kafka exited with ${proc.exitCode} (see ${this.dir}/stdout.log)`);
      return this.answers();
    }, `private kafka on ${this.port}`, 60000, 250);
  }

  private async answers(): Promise<boolean> {
    const admin = new Kafka({ brokers: [this.brokers], logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Stops the broker (SIGTERM, or SIGKILL for a crash); its data stays for the next up(). */
  async down(opts: { kill?: boolean } = {}): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(opts.kill ? 'SIGKILL' : 'SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 15000);
    await exited;
    clearTimeout(t);
  }

  async destroy(): Promise<void> {
    await this.down({ kill: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** base64url of a UUID: it may start with '-', which is why it is passed as --cluster-id=<id>, never as a separate argument */
function clusterId(): string {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
}
