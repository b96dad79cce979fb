import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { configKeys, ConfigError, loadConfig } from '../../src/config';

const root = path.resolve(__dirname, '../..');
const read = (p: string) => readFileSync(path.join(root, p), 'utf8');

// variables other branches of this session add to src/config.ts (Redis Cluster, at-rest encryption): the
// manifests name them already; once merged, configKeys has them and this list changes nothing

interface Stage { from: string; lines: string[] }
function dockerStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (/^FROM /i.test(line)) stages.push({ from: line, lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const [build, runtime] = [stages[0], stages.at(-1)!];

  it('when the image is built, then its build stage runs the commands CI runs: npm ci, then npm run build', () => {
    const runs = build.lines.filter((l) => l.startsWith('RUN ')).join(' ');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build\b/);
    expect(runs.indexOf('npm ci')).toBeLessThan(runs.indexOf('npm run build'));
    const ci = read('.ci/run');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm run build\b/m);
  });

  it('when it runs, then it is compiled JavaScript with production dependencies, as a non-root user, under tini, one image for every role', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.lines.join(' ')).toMatch(/npm prune --omit=dev/);
    expect(runtime.lines.filter((l) => /^RUN .*npm (ci|install)/.test(l))).toEqual([]);
    expect(runtime.lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).map((l) => l.split(/\s+/)[1])).toEqual(['bin']);
    expect(runtime.lines).toContain('COPY --from=build /app/dist ./dist');
    const user = runtime.lines.find((l) => l.startsWith('USER '))!.split(/\s+/)[1];
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/); // numeric, so runAsNonRoot can check it
    expect(runtime.lines.join(' ')).toMatch(/apt-get install .*\btini\b/);
    const entry = JSON.parse(runtime.lines.find((l) => l.startsWith('ENTRYPOINT '))!.slice('ENTRYPOINT '.length)) as string[];
    expect(entry).toEqual(['/usr/bin/tini', '--', 'node', 'dist/main.js']);
    expect(JSON.parse(runtime.lines.find((l) => l.startsWith('CMD '))!.slice(4))).toEqual(['--role', 'api']);
  });

  it('when the build context is sent, then everything the Dockerfile copies exists and .dockerignore keeps it', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const sources = stages.flatMap((s) => s.lines).filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(4);
    for (const src of sources) {
      expect(existsSync(path.join(root, src))).toBe(true);
      expect(ignored.filter((i) => src === i || src.startsWith(`${i}/`))).toEqual([]);
    }
  });
});

type K8sDoc = { kind: string; metadata: { name: string }; spec: Record<string, unknown> } & Record<string, unknown>;
interface Container {
  args: string[]; ports: { name: string; containerPort: number }[]; env?: { name: string; value: string }[];
  envFrom: ({ configMapRef?: { name: string }; secretRef?: { name: string } })[];
  readinessProbe: { httpGet: { path: string; port: string } }; livenessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: { cpu: string; memory: string } };
}

describe('Kubernetes manifests', () => {
  const base = 'deploy/kubernetes/base';
  const docs = readdirSync(path.join(root, base)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(read(`${base}/${f}`)).map((d) => d.toJS() as K8sDoc));
  const kustomization = parse(read(`${base}/kustomization.yaml`)) as { resources: string[]; configMapGenerator: { name: string; literals: string[] }[] };
  const overlay = parse(read('deploy/kubernetes/overlays/example/kustomization.yaml')) as { configMapGenerator: { literals: string[] }[]; secretGenerator: { name: string; envs: string[] }[] };
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;
  const container = (name: string) => ((find('Deployment', name).spec.template as { spec: { containers: Container[] } }).spec.containers[0]);
  const literalKeys = (ls: string[]) => ls.map((l) => l.split('=')[0]);
  const baseConfig = Object.fromEntries(kustomization.configMapGenerator[0].literals.map((l) => l.split(/=(.*)/s).slice(0, 2)));

  it('when kustomize builds the base, then it lists every manifest in the folder', () => {
    const files = readdirSync(path.join(root, base)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Service', 'Service']);
  });

  it('when the api runs, then readiness is /readyz and liveness /healthz on its port, and it is autoscaled and covered by a disruption budget', () => {
    const api = container('livegive-api');
    expect(api.args).toEqual(['--role', 'api']);
    expect(api.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(api.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(api.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(api.env).toContainEqual({ name: 'PORT', value: '8080' });
    expect((find('HorizontalPodAutoscaler', 'livegive-api').spec.scaleTargetRef as { name: string }).name).toBe('livegive-api');
    expect(find('PodDisruptionBudget', 'livegive-api').spec.maxUnavailable).toBe(1);
    expect(api.resources.requests.cpu).toMatch(/^\d+m$/);
  });

  it('when the workers run, then they are probed on LIVEGIVE_OPS_PORT and scale no further than the partition count', () => {
    const w = container('livegive-workers');
    expect(w.args).toEqual(['--role', 'workers']);
    const opsPort = Number(w.env!.find((e) => e.name === 'LIVEGIVE_OPS_PORT')!.value);
    expect(w.ports).toEqual([{ name: 'ops', containerPort: opsPort, protocol: 'TCP' }]);
    expect(w.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
    expect(w.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
    expect(find('HorizontalPodAutoscaler', 'livegive-workers').spec.maxReplicas).toBe(Number(baseConfig.LIVEGIVE_TOPIC_PARTITIONS));
  });

  it('when a pod reads its configuration, then it comes from the ConfigMap and the Secret, and every key there is one the config knows', () => {
    for (const name of ['livegive-api', 'livegive-workers']) {
      const c = container(name);
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'livegive-config' } }, { secretRef: { name: 'livegive-secrets' } }]);
      // NODE_OPTIONS is Node's own (the workers' young generation), not the service's configuration
      for (const e of c.env ?? []) if (e.name !== 'NODE_OPTIONS') expect(configKeys).toContain(e.name);
    }
    const known = [...configKeys];
    const configMapKeys = [...literalKeys(kustomization.configMapGenerator[0].literals), ...literalKeys(overlay.configMapGenerator[0].literals)];
    for (const k of configMapKeys) expect(known).toContain(k);
    expect(overlay.secretGenerator[0].name).toBe('livegive-secrets');
    const secretEnv = read(`deploy/kubernetes/overlays/example/${overlay.secretGenerator[0].envs[0]}`);
    const secretKeys = secretEnv.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('=')[0]);
    for (const k of secretKeys) expect(known).toContain(k);
    // tokens, payment keys, the at-rest key and URLs with credentials are in the Secret, never the ConfigMap
    expect(secretKeys).toEqual(expect.arrayContaining(['LIVEGIVE_ADMIN_TOKEN', 'LIVEGIVE_PAYMENT_SECRET', 'LIVEGIVE_SECRETS_KEY', 'MONGO_URL', 'REDIS_URL']));
    expect(configMapKeys.filter((k) => secretKeys.includes(k) || /TOKEN|SECRET|KEY$|PASSWORD/.test(k))).toEqual([]);
    expect(secretEnv).toMatch(/PLACEHOLDERS ONLY/);
  });

  it('when a pod starts with the example secrets unchanged, then the configuration refuses them, naming the tokens', () => {
    const secretEnv = read(`deploy/kubernetes/overlays/example/${overlay.secretGenerator[0].envs[0]}`);
    const env = Object.fromEntries(secretEnv.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    let err: unknown;
    try { loadConfig({ ...baseConfig, ...env }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/LIVEGIVE_ADMIN_TOKEN/);
    expect(problems).toMatch(/LIVEGIVE_PAYMENT_SECRET/);
  });
});

describe('alerts and their runbook', () => {
  const rules = (parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: { alert: string; annotations: { runbook_url: string; summary: string } }[] }[] }).groups.flatMap((g) => g.rules);
  const readme = read('README.md');

  it('when an alert fires, then its runbook_url leads to a line of the README runbook naming it', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const r of rules) {
      const anchor = `runbook-${r.alert.toLowerCase()}`;
      expect(r.annotations.runbook_url).toBe(`README.md#${anchor}`);
      const line = readme.split('\n').find((l) => l.includes(`<a id="${anchor}"></a>`));
      expect(line).toContain(`\`${r.alert}\``);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
    }
  });
});

describe('Grafana dashboard', () => {
  interface Panel { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string }; targets?: { refId: string; expr: string; datasource: { uid: string } }[] }
  const dash = JSON.parse(read('deploy/grafana/livegive.json')) as { uid: string; panels: Panel[]; templating: { list: { name: string; type: string; query: string }[] } };

  it('when it is imported, then every panel has its own id and place on a 24-column grid, and every query uses the chosen Prometheus', () => {
    expect(dash.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dash.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
    const cells = new Set<string>();
    for (const p of dash.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`) ? `${p.title} overlaps at ${x},${y}` : '').toBe('');
          cells.add(`${x},${y}`);
        }
      }
      if (p.type === 'row') continue;
      expect(p.datasource?.uid).toBe('${datasource}');
      expect(p.targets!.length).toBeGreaterThan(0);
      expect(new Set(p.targets!.map((t) => t.refId)).size).toBe(p.targets!.length);
      for (const t of p.targets!) expect(t.datasource.uid).toBe('${datasource}');
    }
  });
});
