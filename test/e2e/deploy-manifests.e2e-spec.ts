import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/config-loader';
import { validateGatewayConfig } from '../../src/config/config-validator';
import { EnvironmentSchema } from '../../src/config/environment';
import type { GatewayConfig } from '../../src/config/gateway-config.types';

/*
 * deploy/ against what the gateway reads and serves (docs/operations.md "Running several replicas",
 * "Management endpoints"; docs/configuration.md "Environment variables"): nothing here starts Docker or Kubernetes, but a manifest
 * that names a variable the gateway does not read, probes the wrong path or port, or kills the
 * gateway before its drain fails here.
 */

const ROOT = join(__dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const K8S = join(DEPLOY, 'kubernetes');

type Strings = Record<string, string>;
type Port = number | string;
type Probe = { httpGet?: { path: string; port: Port } } | undefined;
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
interface Container {
  image: string; ports?: { name?: string; containerPort: number }[]; env?: EnvVar[]; envFrom?: unknown;
  livenessProbe?: Probe; readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Strings; limits?: Strings }; securityContext?: { runAsNonRoot?: boolean };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface PodSpec {
  containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[];
  terminationGracePeriodSeconds?: number; securityContext?: { runAsNonRoot?: boolean };
}
interface K8sObject {
  kind: string; metadata: { name: string }; data?: Strings; stringData?: Strings; resources?: string[];
  spec?: {
    selector?: Strings & { matchLabels?: Strings }; template?: { metadata: { labels: Strings }; spec: PodSpec };
    ports?: { port: number; targetPort: Port }[]; scaleTargetRef?: { kind: string; name: string };
  };
}
interface ComposeService {
  build?: unknown; image?: string; environment?: Strings | string[]; volumes?: string[];
  stop_grace_period?: string; healthcheck?: { test: string[] }; deploy?: { replicas?: number };
}

const read = (path: string): string => readFileSync(path, 'utf8');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Every document of a file; throws on any parse error. Merge keys (`<<: *anchor`) as compose reads them. */
function load<T>(path: string): T[] {
  return parseAllDocuments(read(path), { merge: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relative(ROOT, path)}: ${doc.errors[0].message}`);
    return doc.toJS() as T;
  });
}

const k8s = (): K8sObject[] => yamlFiles(K8S).flatMap((f) => load<K8sObject>(f));
const one = (kind: string, pick: (o: K8sObject) => boolean = () => true): K8sObject => {
  const found = k8s().filter((o) => o.kind === kind && pick(o));
  expect(found).toHaveLength(1);
  return found[0];
};
const isGatewayImage = (image?: string): boolean => /^nest-gateway(:|$)/.test(image ?? '');
const gatewayDeployment = (): K8sObject => one('Deployment', (d) => d.spec!.template!.spec.containers.some((c) => isGatewayImage(c.image)));
const podSpec = (): PodSpec => gatewayDeployment().spec!.template!.spec;
const gatewayContainer = (): Container => podSpec().containers.find((c) => isGatewayImage(c.image))!;
const envValue = (c: Container, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;

function resolvePort(c: Container, port: Port): number | undefined {
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
}

function validConfig(text: string, where: string): GatewayConfig {
  return validateGatewayConfig(parseConfigText(text, where));
}

/** The variables the gateway reads: EnvironmentSchema's fields, and NODE_ENV (bootstrap's env files). */
function gatewayEnvNames(): string[] {
  const fields = getMetadataStorage().getTargetValidationMetadatas(EnvironmentSchema, '', true, false);
  return [...new Set(fields.map((m) => m.propertyName)), 'NODE_ENV'];
}

function expectKnownEnvNames(names: string[]): void {
  expect(names.filter((n) => !gatewayEnvNames().includes(n))).toEqual([]);
}

function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|h|m|s)/g)];
  expect(parts.map((p) => p[0]).join('')).toBe(text);
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * { ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[unit]!, 0);
}

describe('deploy/: Kubernetes manifests', () => {
  it('every YAML file under deploy/ parses, and kustomization.yaml lists every manifest but the example Secret', () => {
    const files = yamlFiles(DEPLOY);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(() => load(f)).not.toThrow();
    const listed = one('Kustomization').resources!;
    const manifests = yamlFiles(K8S).map((f) => relative(K8S, f));
    expect([...listed].sort()).toEqual(manifests.filter((f) => !/^(kustomization|secret\.example)\.yaml$/.test(f)).sort());
  });

  it('the container listens on 8080 and the probes hit live and ready there, under the configured managementPrefix', () => {
    const c = gatewayContainer();
    expect(c.ports?.map((p) => p.containerPort)).toEqual([8080]);
    const prefix = validConfig(one('ConfigMap').data!['gateway.yaml'], 'configmap').server.managementPrefix;
    for (const [probe, path] of [[c.livenessProbe, '/health/live'], [c.readinessProbe, '/health/ready']] as const) {
      expect(probe?.httpGet?.path).toBe(`${prefix}${path}`);
      expect(resolvePort(c, probe!.httpGet!.port)).toBe(8080);
    }
    expect(prefix).toBe('/_gateway');
  });

  it('sets only environment variables the gateway reads (listed in config/.env.example too)', () => {
    const envExample = read(join(ROOT, 'config', '.env.example'));
    expect(gatewayEnvNames().filter((name) => !envExample.includes(name))).toEqual([]);
    expectKnownEnvNames(gatewayContainer().env!.map((e) => e.name));
    expect(gatewayContainer().envFrom).toBeUndefined(); // names the test could not see
  });

  it('GATEWAY_CONFIG is the ConfigMap key as mounted (a directory, not a subPath), and the gateway accepts that config', () => {
    const c = gatewayContainer();
    const volume = podSpec().volumes!.find((v) => v.configMap?.name === one('ConfigMap').metadata.name)!;
    const mount = c.volumeMounts!.find((m) => m.name === volume.name)!;
    expect(mount.subPath).toBeUndefined();
    expect(envValue(c, 'GATEWAY_CONFIG')).toBe(`${mount.mountPath}/gateway.yaml`);
    const config = validConfig(one('ConfigMap').data!['gateway.yaml'], 'configmap gateway.yaml');
    expect(Object.keys(config.upstreams ?? {}).length).toBeGreaterThan(0);
  });

  it('terminationGracePeriodSeconds covers the preStop pause plus GATEWAY_SHUTDOWN_GRACE_MS', () => {
    const c = gatewayContainer();
    const preStop = c.lifecycle?.preStop;
    const pauseMs = preStop?.sleep ? preStop.sleep.seconds * 1000 : Number(preStop?.exec?.command[1]) * 1000;
    expect(preStop?.sleep ?? preStop?.exec?.command[0]).toBeTruthy();
    expect(pauseMs).toBeGreaterThan(0);
    const graceMs = Number(envValue(c, 'GATEWAY_SHUTDOWN_GRACE_MS') ?? 10_000);
    expect(podSpec().terminationGracePeriodSeconds! * 1000).toBeGreaterThan(pauseMs + graceMs);
  });

  it('the admin token comes from the gateway-admin Secret, never a literal', () => {
    const token = gatewayContainer().env!.find((e) => e.name === 'GATEWAY_ADMIN_TOKEN')!;
    expect(token.value).toBeUndefined();
    const ref = token.valueFrom!.secretKeyRef!;
    const secret = one('Secret');
    expect(ref).toEqual({ name: secret.metadata.name, key: 'token' });
    expect(Object.keys(secret.stringData ?? secret.data ?? {})).toContain(ref.key);
  });

  it('runs as non-root with cpu and memory requests and limits', () => {
    const c = gatewayContainer();
    expect(c.securityContext?.runAsNonRoot ?? podSpec().securityContext?.runAsNonRoot).toBe(true);
    for (const kind of ['requests', 'limits'] as const) expect(Object.keys(c.resources?.[kind] ?? {}).sort()).toEqual(['cpu', 'memory']);
  });

  it('the HPA scales this Deployment, and the Service selects its pods on the container port', () => {
    const deployment = gatewayDeployment();
    const labels = deployment.spec!.template!.metadata.labels;
    expect(one('HorizontalPodAutoscaler').spec!.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(labels).toMatchObject(deployment.spec!.selector!.matchLabels!);
    const service = one('Service', (s) => Object.entries(s.spec!.selector!).every(([k, v]) => labels[k] === v));
    expect(service.spec!.ports!.map((p) => resolvePort(gatewayContainer(), p.targetPort))).toEqual([8080]);
  });
});

describe('deploy/docker-compose.yml', () => {
  const compose = (): Record<string, ComposeService> => load<{ services: Record<string, ComposeService> }>(join(DEPLOY, 'docker-compose.yml'))[0].services;
  const gateways = (): [string, ComposeService][] =>
    Object.entries(compose()).filter(([, s]) => isGatewayImage(s.image) || (s.build !== undefined && !s.image));
  const env = (s: ComposeService): Strings =>
    Array.isArray(s.environment) ? Object.fromEntries(s.environment.map((e) => e.split(/=(.*)/s).slice(0, 2))) : (s.environment ?? {});

  it('runs two gateway replicas on a shared Redis, each stopping later than its drain', () => {
    const replicas = gateways().reduce((n, [, s]) => n + (s.deploy?.replicas ?? 1), 0);
    expect(replicas).toBeGreaterThanOrEqual(2);
    for (const [, s] of gateways()) {
      expectKnownEnvNames(Object.keys(env(s)));
      expect(compose()[new URL(env(s).REDIS_URL).hostname]).toBeDefined();
      expect(durationMs(s.stop_grace_period ?? '10s')).toBeGreaterThan(Number(env(s).GATEWAY_SHUTDOWN_GRACE_MS ?? 10_000));
    }
  });

  it('mounts a config the gateway accepts where GATEWAY_CONFIG points, and health-checks like the Dockerfile', () => {
    const dockerfile = read(join(ROOT, 'Dockerfile')).match(/^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m)!;
    for (const [, s] of gateways()) {
      const [source] = (s.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === env(s).GATEWAY_CONFIG)!;
      validConfig(read(join(DEPLOY, source)), source);
      expect(s.healthcheck?.test).toEqual(['CMD', ...JSON.parse(dockerfile[1])]);
    }
  });

  it('nginx.conf balances over every gateway replica and retries a 503', () => {
    const conf = read(join(DEPLOY, 'nginx.conf'));
    const [, name, body] = conf.match(/upstream\s+(\S+)\s*\{([^}]*)\}/)!;
    const servers = [...body.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((m) => m[1]);
    expect(servers.sort()).toEqual(gateways().map(([service, s]) => `${service}:${env(s).GATEWAY_PORT ?? 8080}`).sort());
    expect(conf).toMatch(new RegExp(`proxy_pass\\s+http://${name};`));
    expect(conf).toMatch(/proxy_next_upstream\s[^;]*\bhttp_503\b/);
  });
});
