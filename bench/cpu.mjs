// Where the CPU went during a run, from /proc (Linux only): the server
// process, PostgreSQL (postmaster and its backends), the load generator, and
// the machine as a whole. On a 2-core machine these compete, so the split
// explains a throughput figure better than the figure alone.
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; `getconf CLK_TCK` is 100 on every Linux we run on

function readStat(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields are counted after its closing ")".
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** `root` and every process below it. */
export function processTree(root) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(name);
    if (!stat) continue;
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(Number(name));
  }
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...(children.get(pids[i]) ?? []));
  return pids;
}

function machineTicks() {
  const [, ...values] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values.map(Number);
  return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/**
 * Starts counting. `groups` maps a label to a function returning the pids to
 * count (called at start and at the end, so processes born during the run are
 * counted too; ones that die during it are lost, which pooled connections do not).
 */
export function startCpuMeter(groups) {
  const perPid = (pids) => new Map(pids.map((pid) => [pid, readStat(pid)?.ticks ?? 0]));
  const before = Object.fromEntries(Object.entries(groups).map(([label, pids]) => [label, perPid(pids())]));
  const machine = machineTicks();
  const self = process.cpuUsage();
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const result = { wallSeconds: seconds };
    for (const [label, pids] of Object.entries(groups)) {
      let ticks = 0;
      for (const [pid, now] of perPid(pids())) ticks += now - (before[label].get(pid) ?? 0);
      result[label] = ticks / TICKS_PER_SECOND;
    }
    const used = process.cpuUsage(self);
    result['load generator'] = (used.user + used.system) / 1e6;
    const end = machineTicks();
    // Whatever else ran meanwhile (other test suites, a compiler) took CPU
    // from the benchmark: a large figure here means the run was disturbed.
    const counted = Object.entries(result).reduce((sum, [label, s]) => (label === 'wallSeconds' ? sum : sum + s), 0);
    result['other processes'] = Math.max(0, (end.busy - machine.busy) / TICKS_PER_SECOND - counted);
    result.machineBusyPercent = (100 * (end.busy - machine.busy)) / (end.total - machine.total);
    return result;
  };
}

/** "server 9.8 s (65% of a core) | ..." */
export function formatCpu(cpu) {
  const parts = Object.entries(cpu)
    .filter(([label]) => label !== 'wallSeconds' && label !== 'machineBusyPercent')
    .map(([label, s]) => `${label} ${s.toFixed(1)} s (${Math.round((100 * s) / cpu.wallSeconds)}% of a core)`);
  return `${parts.join(' | ')} | machine busy ${Math.round(cpu.machineBusyPercent)}% of all cores`;
}
