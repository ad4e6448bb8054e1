// Validates the manifests `helm template` rendered, offline, against the Kubernetes API's schemas:
//   node tests/chart/validate.mjs RENDERED.yaml [--json OUT.json] [--external-secret NAME]... [--external-claim NAME]...
//        [--external-service-account NAME]...
// (the --external-* names are objects the operator creates, which the chart only refers to)
//
// 1. YAML as the API server reads it (YAML 1.1, no duplicate keys).
// 2. Each object against its kind's JSON schema (kubernetes-models, generated from the Kubernetes OpenAPI spec):
//    types, required fields, formats, int-or-string.
// 3. Each object as a typed literal of its kind's TypeScript interface (same source), compiled with `tsc --strict`:
//    this catches what the JSON schemas let through, above all a misspelt or misplaced field, which the API server
//    would silently drop (e.g. `readinesProbe`).
// 4. What the API server or the controllers check beyond the schemas, and what this chart promises: names and
//    references that resolve (Secrets, ConfigMaps, volumes, named ports, selectors), unique names, and the security and
//    resource settings every container must have.
// Exit code 0 when everything holds, 1 with one line per problem otherwise. With --json, the parsed documents are
// written as a JSON array (for the C# tests, which have no YAML reader).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let input = null;
let jsonOut = null;
const externalSecrets = new Set();
const externalClaims = new Set();
const externalServiceAccounts = new Set();
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--json") jsonOut = args[++i];
  else if (a === "--external-secret") externalSecrets.add(args[++i]);
  else if (a === "--external-claim") externalClaims.add(args[++i]);
  else if (a === "--external-service-account") externalServiceAccounts.add(args[++i]);
  else if (input === null) input = a;
  else fail(`unexpected argument ${a}`);
}
if (!input) fail("usage: node validate.mjs RENDERED.yaml [--json OUT.json] [--external-secret|--external-claim|--external-service-account NAME]...");

function fail(message) {
  console.error(message);
  process.exit(2);
}

const problems = [];
const problem = (doc, text) => problems.push(`${doc ? `${doc.kind}/${doc.metadata?.name}` : input}: ${text}`);

// 1. YAML
const text = fs.readFileSync(input, "utf8");
const docs = [];
for (const parsed of parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: true })) {
  for (const e of parsed.errors) problem(null, `YAML: ${e.message}`);
  for (const w of parsed.warnings) problem(null, `YAML: ${w.message}`);
  const value = parsed.toJS({ maxAliasCount: 0 });
  if (value === null || value === undefined) continue;
  if (typeof value !== "object" || Array.isArray(value)) {
    problem(null, `a document is not an object: ${JSON.stringify(value).slice(0, 80)}`);
    continue;
  }
  docs.push(value);
}
if (docs.length === 0) problem(null, "no manifests");

// 2. JSON schemas
const modulePath = (doc) => `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
for (const doc of docs) {
  if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string" || typeof doc.metadata?.name !== "string") {
    problem(doc, "apiVersion, kind and metadata.name are required");
    continue;
  }
  let Model;
  try {
    Model = (await import(modulePath(doc)))[doc.kind];
  } catch {
    problem(doc, `unknown kind ${doc.kind} in ${doc.apiVersion} (no schema: not a built-in API of Kubernetes 1.3x)`);
    continue;
  }
  try {
    new Model(doc).validate();
  } catch (e) {
    problem(doc, `schema: ${e.message.replace(/\s+/g, " ")}`);
  }
}

// 3. TypeScript interfaces, strict: excess properties anywhere in the literal are errors.
{
  const lines = [];
  const owners = []; // line index -> document index
  docs.forEach((doc, i) => {
    if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") return;
    lines.push(`import type { I${doc.kind} as T${i} } from "${modulePath(doc)}";`);
    owners.push(i);
  });
  docs.forEach((doc, i) => {
    if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") return;
    const body = JSON.stringify(doc, null, 2).split("\n");
    body[0] = `export const d${i}: T${i} = ${body[0]}`;
    body[body.length - 1] += ";";
    for (const line of body) {
      lines.push(line);
      owners.push(i);
    }
  });
  const fileName = path.join(here, "__rendered__.ts");
  const source = lines.join("\n");
  const options = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, types: [], lib: ["lib.es2022.d.ts"],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) =>
    path.resolve(name) === fileName ? ts.createSourceFile(name, source, languageVersion, true) : getSourceFile(name, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === fileName || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === fileName ? source : readFile(name));
  const program = ts.createProgram([fileName], options, host);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (d.file && path.resolve(d.file.fileName) === fileName && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const doc = docs[owners[line]];
      problem(doc, `type: ${message} (at ${lines[line].trim().slice(0, 100)})`);
    } else {
      problem(null, `type check: ${message}`);
    }
  }
}

// 4. References, names and the chart's promises.
const byKind = (kind) => docs.filter((d) => d.kind === kind);
const names = (kind) => new Set(byKind(kind).map((d) => d.metadata?.name));
const seen = new Set();
for (const doc of docs) {
  const key = `${doc.apiVersion}/${doc.kind}/${doc.metadata?.name}`;
  if (seen.has(key)) problem(doc, "defined twice");
  seen.add(key);
  checkLabels(doc, doc.metadata?.labels, "metadata.labels");
}

const secrets = new Set([...names("Secret"), ...externalSecrets]);
const configMaps = names("ConfigMap");
const claims = new Set([...names("PersistentVolumeClaim"), ...externalClaims]);
const serviceAccounts = new Set([...names("ServiceAccount"), ...externalServiceAccounts]);
const workloads = docs.filter((d) => ["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(d.kind) && d.spec?.template);

function checkLabels(doc, labels, where) {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const [prefix, name] = k.includes("/") ? k.split("/", 2) : [null, k];
    if (prefix !== null && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix)) problem(doc, `${where}: bad label prefix ${k}`);
    if (!/^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/.test(name)) problem(doc, `${where}: bad label name ${k}`);
    if (typeof v !== "string" || !/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(v)) problem(doc, `${where}: bad label value ${k}=${JSON.stringify(v)}`);
  }
}

const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

function checkEnvSource(doc, container, ref, kind) {
  if (!ref || ref.optional) return;
  const known = kind === "Secret" ? secrets : configMaps;
  if (!known.has(ref.name)) problem(doc, `container ${container.name}: ${kind} ${ref.name} is neither rendered nor declared external`);
  if (ref.key !== undefined && kind === "Secret") {
    const secret = byKind("Secret").find((s) => s.metadata.name === ref.name);
    if (secret && !(ref.key in (secret.data ?? {})) && !(ref.key in (secret.stringData ?? {}))) problem(doc, `container ${container.name}: Secret ${ref.name} has no key ${ref.key}`);
  }
  if (ref.key !== undefined && kind === "ConfigMap") {
    const map = byKind("ConfigMap").find((s) => s.metadata.name === ref.name);
    if (map && !(ref.key in (map.data ?? {}))) problem(doc, `container ${container.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
  }
}

for (const doc of workloads) {
  const template = doc.spec.template;
  const pod = template.spec ?? {};
  checkLabels(doc, template.metadata?.labels, "template labels");
  if (doc.kind !== "Job" && !matches(doc.spec.selector?.matchLabels, template.metadata?.labels)) problem(doc, "spec.selector does not match the pod template's labels");
  if (pod.serviceAccountName && !serviceAccounts.has(pod.serviceAccountName) && pod.serviceAccountName !== "default") problem(doc, `service account ${pod.serviceAccountName} is not rendered`);
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  if (volumes.size !== (pod.volumes ?? []).length) problem(doc, "two volumes with one name");
  for (const v of pod.volumes ?? []) {
    if (v.secret && !secrets.has(v.secret.secretName) && !v.secret.optional) problem(doc, `volume ${v.name}: Secret ${v.secret.secretName} is neither rendered nor declared external`);
    if (v.configMap && !configMaps.has(v.configMap.name) && !v.configMap.optional) problem(doc, `volume ${v.name}: ConfigMap ${v.configMap.name} is not rendered`);
    if (v.persistentVolumeClaim && !claims.has(v.persistentVolumeClaim.claimName)) problem(doc, `volume ${v.name}: claim ${v.persistentVolumeClaim.claimName} is neither rendered nor declared external`);
  }
  // The chart's promises: non-root, no privilege escalation, no capabilities, requests and limits.
  if (pod.securityContext?.runAsNonRoot !== true) problem(doc, "pod securityContext.runAsNonRoot must be true");
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problem(doc, "host namespaces are not allowed");
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  const containerNames = new Set();
  for (const c of containers) {
    if (containerNames.has(c.name)) problem(doc, `two containers named ${c.name}`);
    containerNames.add(c.name);
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) problem(doc, `container ${c.name}: allowPrivilegeEscalation must be false`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) problem(doc, `container ${c.name}: capabilities must drop ALL`);
    if (sc.privileged) problem(doc, `container ${c.name}: privileged`);
    if (sc.readOnlyRootFilesystem !== true) problem(doc, `container ${c.name}: readOnlyRootFilesystem must be true`);
    for (const r of ["cpu", "memory"]) {
      if (c.resources?.requests?.[r] === undefined) problem(doc, `container ${c.name}: no ${r} request`);
    }
    if (c.resources?.limits?.memory === undefined) problem(doc, `container ${c.name}: no memory limit`);
    const ports = c.ports ?? [];
    const portNames = new Set();
    for (const p of ports) {
      if (p.name !== undefined) {
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name) || p.name.length > 15 || !/[a-z]/.test(p.name)) problem(doc, `container ${c.name}: bad port name ${p.name}`);
        if (portNames.has(p.name)) problem(doc, `container ${c.name}: two ports named ${p.name}`);
        portNames.add(p.name);
      }
    }
    if (new Set(ports.map((p) => `${p.containerPort}/${p.protocol ?? "TCP"}`)).size !== ports.length) problem(doc, `container ${c.name}: a port is declared twice`);
    const envNames = new Set();
    for (const e of c.env ?? []) {
      if (envNames.has(e.name)) problem(doc, `container ${c.name}: environment variable ${e.name} set twice`);
      envNames.add(e.name);
      checkEnvSource(doc, c, e.valueFrom?.secretKeyRef, "Secret");
      checkEnvSource(doc, c, e.valueFrom?.configMapKeyRef, "ConfigMap");
      // $(NAME) expands only variables defined before it in the list.
      for (const m of String(e.value ?? "").matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        if (!envNames.has(m[1]) || m[1] === e.name) problem(doc, `container ${c.name}: ${e.name} refers to $(${m[1]}), which is not defined before it`);
      }
    }
    for (const f of c.envFrom ?? []) {
      checkEnvSource(doc, c, f.secretRef, "Secret");
      checkEnvSource(doc, c, f.configMapRef, "ConfigMap");
    }
    const mountPaths = new Set();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) problem(doc, `container ${c.name}: mount of undeclared volume ${m.name}`);
      if (mountPaths.has(m.mountPath)) problem(doc, `container ${c.name}: two mounts at ${m.mountPath}`);
      mountPaths.add(m.mountPath);
    }
    for (const probeName of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const port = c[probeName]?.httpGet?.port ?? c[probeName]?.tcpSocket?.port;
      if (typeof port === "string" && !portNames.has(port)) problem(doc, `container ${c.name}: ${probeName} names port ${port}, which the container does not declare`);
    }
    const preStop = c.lifecycle?.preStop?.httpGet?.port;
    if (typeof preStop === "string" && !portNames.has(preStop)) problem(doc, `container ${c.name}: preStop names an undeclared port`);
  }
  if (doc.kind === "Job" && !["Never", "OnFailure"].includes(pod.restartPolicy)) problem(doc, "a Job's pods must have restartPolicy Never or OnFailure");
  for (const rule of doc.spec.podFailurePolicy?.rules ?? []) {
    const name = rule.onExitCodes?.containerName;
    if (name && !containerNames.has(name)) problem(doc, `podFailurePolicy names container ${name}, which the pod does not have`);
  }
}

for (const svc of byKind("Service")) {
  if (!svc.spec?.selector) continue;
  const targets = workloads.filter((w) => w.kind !== "Job" && matches(svc.spec.selector, w.spec.template.metadata?.labels));
  if (targets.length === 0) {
    problem(svc, "selects no pods of the release");
    continue;
  }
  for (const p of svc.spec.ports ?? []) {
    if (typeof p.targetPort !== "string") continue;
    const found = targets.every((w) => (w.spec.template.spec.containers ?? []).some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)));
    if (!found) problem(svc, `targetPort ${p.targetPort} is not a named port of the selected pods`);
  }
  if (svc.spec.externalTrafficPolicy && !["LoadBalancer", "NodePort"].includes(svc.spec.type)) problem(svc, "externalTrafficPolicy needs type LoadBalancer or NodePort");
}

for (const pdb of byKind("PodDisruptionBudget")) {
  if (!workloads.some((w) => w.kind !== "Job" && matches(pdb.spec?.selector?.matchLabels, w.spec.template.metadata?.labels))) problem(pdb, "selects no pods of the release");
  if (pdb.spec?.minAvailable !== undefined && pdb.spec?.maxUnavailable !== undefined) problem(pdb, "minAvailable and maxUnavailable exclude each other");
}

for (const hpa of byKind("HorizontalPodAutoscaler")) {
  const ref = hpa.spec?.scaleTargetRef;
  const target = docs.find((d) => d.kind === ref?.kind && d.metadata?.name === ref?.name && d.apiVersion === ref?.apiVersion);
  if (!target) problem(hpa, `scaleTargetRef ${ref?.kind}/${ref?.name} is not rendered`);
  else if (target.spec?.replicas !== undefined) problem(hpa, `${ref.name} also sets replicas, which every upgrade would reset`);
  const usesResources = (hpa.spec?.metrics ?? []).filter((m) => m.type === "Resource").map((m) => m.resource.name);
  for (const c of target?.spec?.template?.spec?.containers ?? []) {
    for (const r of usesResources) if (c.resources?.requests?.[r] === undefined) problem(hpa, `scales on ${r}, but container ${c.name} requests none`);
  }
  if (hpa.spec?.minReplicas > hpa.spec?.maxReplicas) problem(hpa, "minReplicas exceeds maxReplicas");
}

for (const binding of byKind("RoleBinding")) {
  if (binding.roleRef?.kind === "Role" && !names("Role").has(binding.roleRef.name)) problem(binding, `Role ${binding.roleRef.name} is not rendered`);
  for (const s of binding.subjects ?? []) {
    if (s.kind === "ServiceAccount" && !serviceAccounts.has(s.name)) problem(binding, `ServiceAccount ${s.name} is not rendered`);
  }
}

for (const secret of byKind("Secret")) {
  for (const [k, v] of Object.entries(secret.data ?? {})) {
    if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) problem(secret, `data.${k} is not base64`);
  }
  if (secret.type === "kubernetes.io/tls" && !(secret.data?.["tls.crt"] && secret.data?.["tls.key"])) problem(secret, "a TLS Secret needs tls.crt and tls.key");
}

if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(docs, null, 1));
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} problem(s) in ${docs.length} manifests of ${input}`);
  process.exit(1);
}
console.log(`${docs.length} manifests of ${input} valid`);
