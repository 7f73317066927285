// The browser side of the web example: builds the form from /config.json, and on "Encrypt and score" encrypts the
// standardized features with an HeClient in this page, posts the ciphertexts to the encrypted-inference service
// (HeRemote, signed requests), decrypts the reply here and shows the probability with what the server saw.
// Bundled for the browser by server.ts (esbuild, `browser` export condition).
import { HeRemote } from '@ppml/he';

interface Config {
  serviceUrl: string;
  model: string;
  features: string[];
  mean: number[];
  std: number[];
  inputBound: number;
  epsilon: number;
  patients: { label: string; values: number[] }[];
}

/** The few DOM calls used here (the project's type check has no DOM library). */
interface El {
  value: string;
  textContent: string | null;
  hidden: boolean;
  disabled: boolean;
  innerHTML: string;
  dataset: Record<string, string | undefined>;
  append(...nodes: (El | string)[]): void;
  addEventListener(type: string, f: () => void): void;
  setAttribute(name: string, value: string): void;
}
interface Doc {
  getElementById(id: string): El | null;
  createElement(tag: string): El;
}
const doc = (globalThis as unknown as { document: Doc }).document;
const $ = (id: string): El => {
  const e = doc.getElementById(id);
  if (e === null) throw new Error(`missing #${id}`);
  return e;
};

const status = $('status');
let remote: HeRemote | undefined;

function fill(cfg: Config, values: number[]): void {
  cfg.features.forEach((_, j) => {
    $(`f${j}`).value = String(values[j]);
  });
}

async function score(cfg: Config): Promise<void> {
  const raw = cfg.features.map((name, j) => {
    const v = Number($(`f${j}`).value);
    if ($(`f${j}`).value.trim() === '' || !Number.isFinite(v)) throw new RangeError(`${name} must be a number`);
    return v;
  });
  // Standardize with the published training statistics, then clip to the range the keys were planned for.
  let clipped = 0;
  const x = raw.map((v, j) => {
    const z = (v - cfg.mean[j]) / cfg.std[j];
    if (Math.abs(z) > cfg.inputBound) clipped++;
    return Math.max(-cfg.inputBound, Math.min(cfg.inputBound, z));
  });
  status.textContent = remote === undefined ? 'generating keys and registering them…' : 'encrypting…';
  const t0 = performance.now();
  remote ??= await HeRemote.connect(cfg.serviceUrl);
  const firstKeys = remote.evaluationKeyBytes;
  const t1 = performance.now();
  const enc = remote.client.encryptRows([x]);
  const reply = await remote.predictEncrypted(cfg.model, enc);
  const p = remote.client.decryptScores(reply)[0];
  const t2 = performance.now();
  $('probability').textContent = p.toFixed(4);
  $('probability').dataset.value = String(p);
  $('seen').textContent =
    `What the server saw: ${enc.length.toLocaleString()} bytes of ciphertext in and ${reply.length.toLocaleString()} bytes of ` +
    `encrypted score out (plus, once, ${firstKeys.toLocaleString()} bytes of public evaluation keys and a signing public key). ` +
    'It never saw the measurements or the probability, and it holds no secret key. It does learn that one patient was scored, ' +
    'and when. ' +
    (clipped > 0 ? `${clipped} value(s) lay beyond ±${cfg.inputBound} standard deviations and were clipped. ` : '') +
    `Keys and registration ${(t1 - t0).toFixed(0)} ms; encrypt, score and decrypt ${(t2 - t1).toFixed(0)} ms. ` +
    `The model was trained with DP-SGD at epsilon = ${cfg.epsilon}.`;
  $('result').hidden = false;
  status.textContent = 'done';
  status.dataset.done = '1';
}

async function main(): Promise<void> {
  const cfg = (await (await fetch('./config.json')).json()) as Config;
  const fields = $('features');
  cfg.features.forEach((name, j) => {
    const label = doc.createElement('label');
    const input = doc.createElement('input');
    input.setAttribute('id', `f${j}`);
    input.setAttribute('type', 'number');
    input.setAttribute('step', 'any');
    label.append(name, input);
    fields.append(label);
  });
  const select = $('patient');
  cfg.patients.forEach((p, i) => {
    const o = doc.createElement('option');
    o.value = String(i);
    o.textContent = p.label;
    select.append(o);
  });
  select.addEventListener('change', () => fill(cfg, cfg.patients[Number(select.value)].values));
  fill(cfg, cfg.patients[0].values);
  const button = $('predict');
  button.addEventListener('click', () => {
    button.disabled = true;
    delete status.dataset.done;
    score(cfg)
      .catch((e: unknown) => {
        status.textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
        status.dataset.error = '1';
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  button.disabled = false;
  status.textContent = 'ready';
  status.dataset.ready = '1';
}

main().catch((e: unknown) => {
  status.textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
  status.dataset.error = '1';
});
