"""Decode a scheduling policy's trace from a console log and draw it (tools/trace).

The policy image sched-credit2-trace (services/sched/main.c, SCHED_TRACE) prints:

    [sched] trace vcpu ID PARTITION VCPU weight W cap C      one per vCPU it schedules
    [sched] trace T KCPU.ID+DELTA KCPU.ID+DELTA ...          records, hex
    [sched] trace end N                                      N records printed in all

K is r (the policy RUNs vCPU ID on CPU), b (ID blocked), s (ID stopped) or i (CPU idle, ID
0); DELTA is the microseconds since the record before (the first: since 0). Under -icount
one nanosecond of virtual time is one instruction, so the timeline's axis is instructions.

parse() checks every line it takes (a malformed record, an unknown vCPU, or a count that
disagrees with `trace end`, as when the console dropped a line, is a TraceError) and
intervals() turns the records into who ran where when: a RUN starts an interval for its vCPU
on its CPU and ends whatever ran there; b and s end the vCPU's interval, i the CPU's.
"""

import re

PREFIX = re.compile(r'^\[(?P<name>[^\]]+)\] trace (?P<rest>.*)$')
VCPU = re.compile(r'^vcpu (\d+) (\d+) (\d+) weight (\d+) cap (\d+)$')
RECORD = re.compile(r'^([rbsi])([0-9a-f]+)\.([0-9a-f]+)\+([0-9a-f]+)$')
END = re.compile(r'^end (\d+)$')
KINDS = {'r': 'run', 'b': 'blocked', 's': 'stopped', 'i': 'idle'}

# One colour per CPU (the bars), and the page's.
CPU_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1',
               '#ff9da7']


class TraceError(ValueError):
    """A trace that cannot be trusted: malformed, or records missing."""


class Trace:
    def __init__(self):
        self.source = None  # the partition whose lines these are
        self.vcpus = {}  # id -> dict(partition, vcpu, weight, cap)
        self.records = []  # (ns, kind, cpu, id)
        self.end = None  # the count `trace end` announced


def parse(lines, source=None):
    """A Trace from console lines (str); only `trace` lines of one partition are read."""
    t = Trace()
    now_us = 0
    for number, raw in enumerate(lines, 1):
        m = PREFIX.match(raw.rstrip('\r\n'))
        if m is None:
            continue
        if source is None:
            source = m.group('name')
        if m.group('name') != source:
            continue
        t.source = source
        rest = m.group('rest')
        where = 'line %d' % number
        v = VCPU.match(rest)
        if v is not None:
            ident, part, index, weight, cap = (int(x) for x in v.groups())
            if ident in t.vcpus:
                raise TraceError('%s: vCPU %d announced twice' % (where, ident))
            t.vcpus[ident] = {'partition': part, 'vcpu': index, 'weight': weight, 'cap': cap}
            continue
        e = END.match(rest)
        if e is not None:
            t.end = int(e.group(1))
            continue
        if not rest.startswith('T'):
            raise TraceError('%s: unknown trace line %r' % (where, rest))
        for token in rest[1:].split():
            r = RECORD.match(token)
            if r is None:
                raise TraceError('%s: malformed record %r' % (where, token))
            kind, cpu, ident, delta = r.group(1), int(r.group(2), 16), int(r.group(3), 16), \
                int(r.group(4), 16)
            if kind != 'i' and ident not in t.vcpus:
                raise TraceError('%s: record %r names vCPU %d, never announced' %
                                 (where, token, ident))
            now_us += delta
            t.records.append((now_us * 1000, KINDS[kind], cpu, ident))
    if t.source is None:
        raise TraceError('no trace lines')
    if t.end is None:
        raise TraceError('no "trace end" line: the run stopped early')
    if t.end != len(t.records):
        raise TraceError('"trace end" says %d records, the log has %d: lines were dropped' %
                         (t.end, len(t.records)))
    return t


def intervals(t):
    """{vCPU id: [(start ns, end ns, cpu)]} and the trace's last time."""
    out = {ident: [] for ident in t.vcpus}
    running = {}  # cpu -> (id, since)
    end = t.records[-1][0] if t.records else 0

    def stop(cpu, now):
        if cpu in running:
            ident, since = running.pop(cpu)
            if now > since:
                out[ident].append((since, now, cpu))

    for now, kind, cpu, ident in t.records:
        if kind == 'run':
            if running.get(cpu, (None,))[0] == ident:
                continue  # the same vCPU again: one interval
            stop(cpu, now)
            for other, (who, _) in list(running.items()):
                if who == ident:
                    stop(other, now)  # it moved
            running[cpu] = (ident, now)
        elif kind == 'idle':
            stop(cpu, now)
        else:
            for other, (who, _) in list(running.items()):
                if who == ident:
                    stop(other, now)
    for cpu in list(running):
        stop(cpu, end)
    return out, end


def shares(t):
    """{vCPU id: ns it ran in the trace}."""
    ivs, _ = intervals(t)
    return {ident: sum(b - a for a, b, _ in spans) for ident, spans in ivs.items()}


def _label(t, ident, names):
    v = t.vcpus[ident]
    name = names.get(v['partition'], 'partition %d' % v['partition'])
    text = '%s vCPU %d, weight %d' % (name, v['vcpu'], v['weight'])
    if v['cap']:
        text += ', cap %d' % v['cap']
    return text


def svg(t, names=None, title='Credit2 timeline'):
    """The timeline as SVG: one lane per vCPU, bars coloured by CPU, time in instructions."""
    names = names or {}
    ivs, end = intervals(t)
    ran = shares(t)
    total = sum(ran.values()) or 1
    ids = sorted(t.vcpus)
    left, top, lane_h, width = 250, 50, 34, 900
    height = top + lane_h * len(ids) + 110
    scale = width / float(end or 1)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">' %
           (left + width + 30, height, left + width + 30, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="24" font-size="16">%s</text>' % _escape(title)]
    for row, ident in enumerate(ids):
        y = top + row * lane_h
        share = 100.0 * ran[ident] / total
        out.append('<text x="10" y="%d">%s</text>' % (y + 21, _escape(_label(t, ident, names))))
        out.append('<text x="%d" y="%d" text-anchor="end">%.1f %%</text>' %
                   (left - 8, y + 21, share))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#f2f2f2"/>' %
                   (left, y + 4, width, lane_h - 8))
        for a, b, cpu in ivs[ident]:
            out.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"/>' %
                       (left + a * scale, y + 4, max((b - a) * scale, 0.5), lane_h - 8,
                        CPU_COLOURS[cpu % len(CPU_COLOURS)]))
    axis_y = top + lane_h * len(ids) + 8
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' %
               (left, axis_y, left + width, axis_y))
    step = _tick_step(end)
    tick = 0
    while tick <= end:
        x = left + tick * scale
        out.append('<line x1="%.2f" y1="%d" x2="%.2f" y2="%d" stroke="black"/>' %
                   (x, axis_y, x, axis_y + 5))
        out.append('<text x="%.2f" y="%d" text-anchor="middle">%g M</text>' %
                   (x, axis_y + 20, tick / 1e6))
        tick += step
    out.append('<text x="%d" y="%d" text-anchor="middle">instructions (virtual ns under '
               '-icount)</text>' % (left + width // 2, axis_y + 40))
    legend_y = axis_y + 68
    cpus = sorted({cpu for spans in ivs.values() for _, _, cpu in spans})
    x = left
    out.append('<text x="10" y="%d">bars: CPU</text>' % (legend_y + 11))
    for cpu in cpus:
        out.append('<rect x="%d" y="%d" width="14" height="14" fill="%s"/>' %
                   (x, legend_y, CPU_COLOURS[cpu % len(CPU_COLOURS)]))
        out.append('<text x="%d" y="%d">CPU %d</text>' % (x + 20, legend_y + 11, cpu))
        x += 90
    out.append('<text x="%d" y="%d">share: of the time traced, %d records</text>' %
               (x + 20, legend_y + 11, len(t.records)))
    out.append('</svg>')
    return '\n'.join(out) + '\n'


def _tick_step(end):
    step = 1000000
    while end / step > 12:
        for m in (2, 5, 10):
            if end / (step * m) <= 12:
                return step * m
        step *= 10
    return step


def _escape(text):
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
