'use strict';
/**
 * Peer baseline: secret multiplications and comparisons in JIFF (`jiff-mpc`), measured the way JIFF's own demos
 * run: a JIFF server on the loopback interface relays every message (star topology) and acts as crypto provider
 * (Beaver triples and random bits come from the server), and three compute parties, one child process each, hold
 * Shamir shares over JIFF's default field Z_p, p = 16777729. In every phase party 1 shares fresh inputs u and
 * party 2 fresh inputs v (`share_array`, timed separately).
 *
 * Phases, each timed from a common start signal to the last party's completion (wall clock of this process):
 *   mul: u_i * v_i with `SecretShare.smult` (Beaver multiplication with a server triple), integers below 2^12.
 *   cmp: u_i < v_i with `SecretShare.slt`, integers below 2^22.
 * Each phase first runs a small pilot; the pilot's rate sets the size of the timed run so that it takes a few
 * seconds, well inside the per-phase cap. Every result, pilot and timed, is opened and checked against plaintext,
 * but only after every party has finished the timed part, so opening is neither timed nor counted.
 * Traffic is counted at the server while a phase runs (every byte between parties passes through it): TCP bytes
 * in and out of the server (WebSocket frames with socket.io's JSON inside, libsodium-encrypted shares and the
 * crypto provider's triples and bits) and socket.io events received. `...SentPerPartyPerOp` divides what the
 * server received by the number of parties and operations; `...RelayBytesPerOp` is all traffic in and out of the
 * server per operation.
 *
 * A timed run that exceeds the phase cap stops the benchmark; its rate is then the pilot's and `capped` names the
 * phase. A run longer than the total cap is stopped and reports what it measured so far (`capped`: 'total').
 *
 * Output: human-readable lines, then one line `JIFF_RESULTS {json}`. Exit code 0 when all results are correct and
 * both rates were measured, 1 otherwise.
 *
 * Usage: node run.cjs [--mul-max 1000] [--cmp-max 40] [--mul-seconds 6] [--cmp-seconds 6] [--phase-cap 20]
 *                     [--total-cap 90]
 */

const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const http = require('node:http');

const PARTY_COUNT = 3;
const ZP = 16777729; // JIFF's default prime modulus (lib/client/util/constants.js gZp)
const MUL_BOUND = 4096; // u, v < 2^12 so u * v < 2^24 < ZP: products are exact
const CMP_BOUND = 1 << 22; // u, v < 2^22 < ZP / 2, inside the range JIFF's slt handles
const MUL_PILOT = 100;
const CMP_PILOT = 4;

if (process.argv[2] === '--party') {
  runParty();
} else {
  runCoordinator().catch(function (error) {
    fail(error instanceof Error ? error.message : String(error));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Coordinator: JIFF server, plaintext inputs, phase control, checks, report.

function parseOptions(argv) {
  const options = { mulMax: 1000, cmpMax: 40, mulSeconds: 6, cmpSeconds: 6, phaseCap: 20, totalCap: 90 };
  const names = {
    '--mul-max': 'mulMax',
    '--cmp-max': 'cmpMax',
    '--mul-seconds': 'mulSeconds',
    '--cmp-seconds': 'cmpSeconds',
    '--phase-cap': 'phaseCap',
    '--total-cap': 'totalCap'
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (key === undefined) {
      throw new RangeError('unknown option ' + argv[i] + '; allowed: ' + Object.keys(names).join(', '));
    }
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(argv[i] + ' must be a finite number > 0, got ' + argv[i + 1]);
    }
    options[key] = value;
  }
  options.mulMax = Math.max(MUL_PILOT, Math.floor(options.mulMax));
  options.cmpMax = Math.max(CMP_PILOT, Math.floor(options.cmpMax));
  return options;
}

const children = [];
let finished = false;

function fail(message) {
  if (finished) {
    return;
  }
  finished = true;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
  process.stdout.write('JIFF_RESULTS ' + JSON.stringify({ correct: false, error: message }) + '\n');
  process.exit(1);
}

function randomInts(n, bound) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = crypto.randomInt(bound);
  }
  return out;
}

async function runCoordinator() {
  const options = parseOptions(process.argv.slice(2));
  // Filled in as the run goes; the total cap reports whatever was measured before it.
  const measured = { mul: null, cmp: null };
  let capped = null;
  let allCorrect = true;
  let setupSeconds = null;
  const totalTimer = setTimeout(function () {
    if (finished) {
      return;
    }
    console.log('stopped at the total time cap of ' + options.totalCap + ' s');
    finished = true;
    for (const child of children) {
      child.kill('SIGKILL');
    }
    capped = capped === null ? 'total' : capped;
    emitReport();
  }, options.totalCap * 1000);

  const JIFFServer = require('jiff-mpc/lib/jiff-server.js');
  const jiffVersion = require('jiff-mpc/package.json').version;

  // Traffic counters: TCP bytes on every connection to the server, socket.io events received from parties.
  const sockets = new Set();
  let closedRead = 0;
  let closedWritten = 0;
  let eventsIn = 0;
  const httpServer = http.createServer();
  httpServer.on('connection', function (socket) {
    sockets.add(socket);
    socket.on('close', function () {
      closedRead += socket.bytesRead;
      closedWritten += socket.bytesWritten;
      sockets.delete(socket);
    });
  });
  function traffic() {
    let read = closedRead;
    let written = closedWritten;
    for (const socket of sockets) {
      read += socket.bytesRead;
      written += socket.bytesWritten;
    }
    return { read: read, written: written, events: eventsIn };
  }

  const jiffServer = new JIFFServer(httpServer, { logs: false });
  jiffServer.io.on('connection', function (socket) {
    socket.use(function (packet, next) {
      eventsIn++;
      next();
    });
  });
  await new Promise(function (resolve, reject) {
    httpServer.once('error', reject);
    httpServer.listen(0, '127.0.0.1', resolve);
  });
  const port = httpServer.address().port;

  // Message routing from parties.
  const waiters = new Map(); // key `${type}:${tag}` -> { count, messages, resolve }
  function expect(type, tag) {
    return new Promise(function (resolve) {
      waiters.set(type + ':' + tag, { messages: [], resolve: resolve });
    });
  }
  function onPartyMessage(message) {
    if (message.type === 'error') {
      fail('party ' + message.id + ': ' + message.message);
      return;
    }
    const waiter = waiters.get(message.type + ':' + message.tag);
    if (waiter === undefined) {
      fail('unexpected message from party ' + message.id + ': ' + message.type + ' ' + message.tag);
      return;
    }
    waiter.messages.push(message);
    if (waiter.messages.length === PARTY_COUNT) {
      waiters.delete(message.type + ':' + message.tag);
      waiter.resolve(waiter.messages);
    }
  }

  const computationId = 'ppml-bench-' + crypto.randomBytes(6).toString('hex');
  const ready = expect('ready', 'connect');
  let stopping = false;
  const startedAt = performance.now();
  for (let id = 1; id <= PARTY_COUNT; id++) {
    const child = childProcess.fork(__filename, ['--party'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(child);
    child.on('message', onPartyMessage);
    child.on('exit', function (code, signal) {
      if (!finished && !stopping) {
        fail('party ' + id + ' exited early (code ' + code + ', signal ' + signal + ')');
      }
    });
    child.send({ type: 'init', id: id, port: port, computationId: computationId });
  }
  await ready;
  setupSeconds = (performance.now() - startedAt) / 1000;
  console.log('jiff-mpc ' + jiffVersion + ', node ' + process.version + ', 3 parties (child processes) + server on 127.0.0.1:' + port);
  console.log('start and connect: ' + setupSeconds.toFixed(2) + ' s');

  // Hoisted: the total-cap timer above may call it before setup ends.
  function emitReport() {
    // `correct`: every result that was checked was right, and at least one phase was checked.
    const mul = measured.mul;
    const cmp = measured.cmp;
    const report = {
      mulPerSec: mul === null ? null : mul.main.perSec,
      cmpPerSec: cmp === null ? null : cmp.main.perSec,
      mulN: mul === null ? null : mul.main.n,
      cmpN: cmp === null ? null : cmp.main.n,
      correct: allCorrect && (mul !== null || cmp !== null),
      capped: capped
    };
    for (const op of ['mul', 'cmp']) {
      const m = measured[op];
      report[op + 'Seconds'] = m === null ? null : m.main.seconds;
      report[op + 'PilotPerSec'] = m === null ? null : m.pilot.perSec;
      report[op + 'ShareSeconds'] = m === null ? null : m.main.shareSeconds;
      report[op + 'BytesSentPerPartyPerOp'] = m === null ? null : m.main.bytesInPerOp / PARTY_COUNT;
      report[op + 'RelayBytesPerOp'] = m === null ? null : m.main.bytesInPerOp + m.main.bytesOutPerOp;
      report[op + 'MessagesSentPerPartyPerOp'] = m === null ? null : m.main.messagesPerOp / PARTY_COUNT;
    }
    Object.assign(report, {
      setupSeconds: setupSeconds,
      jiffVersion: jiffVersion,
      node: process.version,
      zp: ZP
    });
    process.stdout.write('JIFF_RESULTS ' + JSON.stringify(report) + '\n');
    process.exit(report.correct && measured.mul !== null && measured.cmp !== null ? 0 : 1);
  }

  let phaseCounter = 0;
  async function phase(op, n) {
    const tag = op + '-' + (phaseCounter++);
    // Fresh inputs for every phase: party 1 shares u, party 2 shares v.
    const bound = op === 'mul' ? MUL_BOUND : CMP_BOUND;
    const u = randomInts(n, bound);
    const v = randomInts(n, bound);
    const shared = expect('shared', tag);
    const s0 = performance.now();
    for (let id = 1; id <= PARTY_COUNT; id++) {
      children[id - 1].send({ type: 'share', tag: tag, n: n, u: id === 1 ? u : null, v: id === 2 ? v : null });
    }
    await shared;
    const shareSeconds = (performance.now() - s0) / 1000;

    const done = expect('done', tag);
    const opened = expect('opened', tag);
    const before = traffic();
    const t0 = performance.now();
    let capTimer;
    const cap = new Promise(function (resolve) {
      capTimer = setTimeout(resolve, options.phaseCap * 1000, 'cap');
    });
    for (const child of children) {
      child.send({ type: 'run', op: op, n: n, tag: tag });
    }
    if ((await Promise.race([done, cap])) === 'cap') {
      console.log(op + ' n=' + n + ': stopped at the phase cap of ' + options.phaseCap + ' s');
      return null;
    }
    const seconds = (performance.now() - t0) / 1000;
    clearTimeout(capTimer);
    const after = traffic();
    for (const child of children) {
      child.send({ type: 'open', tag: tag });
    }
    const results = await opened;
    let wrong = 0;
    for (const message of results) {
      for (let i = 0; i < n; i++) {
        const expected = op === 'mul' ? (u[i] * v[i]) % ZP : (u[i] < v[i] ? 1 : 0);
        if (message.values[i] !== expected) {
          wrong++;
        }
      }
    }
    if (wrong > 0) {
      allCorrect = false;
    }
    const summary = {
      n: n,
      seconds: seconds,
      perSec: n / seconds,
      wrong: wrong,
      shareSeconds: shareSeconds,
      bytesInPerOp: (after.read - before.read) / n,
      bytesOutPerOp: (after.written - before.written) / n,
      messagesPerOp: (after.events - before.events) / n
    };
    console.log(
      op + ' n=' + n + ' (sharing 2 x ' + n + ' inputs ' + shareSeconds.toFixed(2) + ' s): ' + seconds.toFixed(2) + ' s, ' + summary.perSec.toFixed(2) + ' op/s, wrong ' + wrong +
        ', per op: ' + summary.messagesPerOp.toFixed(1) + ' party->server messages, ' +
        Math.round(summary.bytesInPerOp) + ' B into and ' + Math.round(summary.bytesOutPerOp) + ' B out of the server'
    );
    return summary;
  }

  function sizeFromPilot(pilot, targetSeconds, pilotN, max) {
    return Math.max(pilotN, Math.min(max, Math.floor(pilot.perSec * targetSeconds)));
  }

  // A timed run that hits the phase cap stops the benchmark (JIFF cannot cancel operations in flight); the rate
  // of that phase then comes from its pilot, which was checked, and `capped` says so.
  const plan = [
    { op: 'mul', pilotN: MUL_PILOT, seconds: options.mulSeconds, max: options.mulMax },
    { op: 'cmp', pilotN: CMP_PILOT, seconds: options.cmpSeconds, max: options.cmpMax }
  ];
  for (const step of plan) {
    const pilot = await phase(step.op, step.pilotN);
    if (pilot === null) {
      capped = step.op + ' pilot';
      break;
    }
    const main = await phase(step.op, sizeFromPilot(pilot, step.seconds, step.pilotN, step.max));
    measured[step.op] = { pilot: pilot, main: main === null ? pilot : main };
    if (main === null) {
      capped = step.op;
      break;
    }
  }

  // Shut down: parties disconnect safely and exit (or are stopped after a cap); then the server closes.
  stopping = true;
  if (capped !== null) {
    for (const child of children) {
      child.kill('SIGKILL');
    }
  }
  const exits = children.map(function (child) {
    return new Promise(function (resolve) {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
      } else {
        child.once('exit', resolve);
      }
    });
  });
  for (const child of children) {
    child.send({ type: 'stop' });
  }
  const killTimer = setTimeout(function () {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
  }, 5000);
  await Promise.all(exits);
  clearTimeout(killTimer);
  jiffServer.io.close();
  httpServer.close();
  for (const socket of sockets) {
    socket.destroy();
  }
  clearTimeout(totalTimer);

  finished = true;
  emitReport();
}

// ---------------------------------------------------------------------------------------------------------------
// Party: one JIFF client in its own process, driven by the coordinator over the IPC channel.

function runParty() {
  const JIFFClient = require('jiff-mpc/lib/jiff-client.js');
  let id = 0;

  function report(message) {
    if (process.connected) {
      process.send(Object.assign({ id: id }, message));
    }
  }
  function reportError(error) {
    report({ type: 'error', message: error instanceof Error ? error.stack || error.message : String(error) });
  }
  process.on('uncaughtException', reportError);
  process.on('unhandledRejection', reportError);
  // The coordinator owns this process: if it goes away, so do we.
  process.on('disconnect', function () {
    process.exit(0);
  });

  function valueOf(share) {
    return new Promise(function (resolve) {
      share.wThen(resolve);
    });
  }

  let jiff = null;
  const inputs = new Map(); // phase tag -> { u: shares, v: shares }
  const pending = new Map(); // phase tag -> result shares, opened on the coordinator's signal

  async function onInit(message) {
    id = message.id;
    jiff = new JIFFClient('http://127.0.0.1:' + message.port, message.computationId, {
      party_id: id,
      party_count: PARTY_COUNT,
      crypto_provider: true,
      socketOptions: { transports: ['websocket'] },
      onError: function (label, error) {
        reportError(new Error('JIFF ' + label + ': ' + (error instanceof Error ? error.message : JSON.stringify(error))));
      }
    });
    await new Promise(function (resolve) {
      jiff.wait_for([1, 2, 3, 's1'], resolve);
    });
    report({ type: 'ready', tag: 'connect' });
  }

  async function onShare(message) {
    const all = [1, 2, 3];
    // Every party makes the same calls in the same order, so JIFF's automatic operation ids match.
    const us = jiff.share_array(message.u, message.n, PARTY_COUNT, all, [1]);
    const vs = jiff.share_array(message.v, message.n, PARTY_COUNT, all, [2]);
    const arrays = await Promise.all([us, vs]);
    const shares = { u: arrays[0][1], v: arrays[1][2] };
    await Promise.all(shares.u.concat(shares.v).map(valueOf));
    inputs.set(message.tag, shares);
    report({ type: 'shared', tag: message.tag });
  }

  async function onRun(message) {
    const n = message.n;
    const shares = inputs.get(message.tag);
    inputs.delete(message.tag);
    const results = new Array(n);
    for (let i = 0; i < n; i++) {
      results[i] = message.op === 'mul' ? shares.u[i].smult(shares.v[i]) : shares.u[i].slt(shares.v[i]);
    }
    await Promise.all(results.map(valueOf));
    pending.set(message.tag, results);
    report({ type: 'done', tag: message.tag });
  }

  async function onOpen(message) {
    const results = pending.get(message.tag);
    pending.delete(message.tag);
    const values = await jiff.open_array(results);
    report({ type: 'opened', tag: message.tag, values: values.map(Number) });
  }

  process.on('message', function (message) {
    let work;
    if (message.type === 'init') {
      work = onInit(message);
    } else if (message.type === 'share') {
      work = onShare(message);
    } else if (message.type === 'run') {
      work = onRun(message);
    } else if (message.type === 'open') {
      work = onOpen(message);
    } else if (message.type === 'stop') {
      setTimeout(function () {
        process.exit(0);
      }, 3000).unref();
      jiff.disconnect(true, true, function () {
        process.exit(0);
      });
      return;
    } else {
      work = Promise.reject(new Error('unknown command ' + message.type));
    }
    work.catch(reportError);
  });
}
