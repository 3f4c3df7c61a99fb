"""Decode a scheduling policy's trace from a console log and draw it (tools/trace).

The policy image sched-credit2-trace (services/sched/main.c, SCHED_TRACE) prints:

    [sched] trace vcpu ID PARTITION VCPU weight W cap C      one per vCPU it schedules
    [sched] trace T KCPU.ID+DELTA KCPU.ID+DELTA ...          records, hex
    [sched] trace end N                                      N records printed in all

K is r (the policy RUNs vCPU ID on CPU), b (ID blocked), s (ID stopped) or i (CPU idle, ID
0); DELTA is the microseconds since the record before (the first: since 0). Under -icount
one nanosecond of virtual time is one instruction, so the timeline's axis is instructions.

The null image (sched-null-trace) prints besides them the null policy's own records
(services/sched/null.h, Xen's TRC_SNULL_* ids 0x22A01-0x22A06):

    [sched] trace N EV.CPU.D1.D2+DELTA ...                   records, hex
    [sched] trace nulls M                                    M null records printed in all

EV is the id less 0x22A00, CPU the one the record is about (ff: none), D1 and D2 the payload
words as Xen 4.10's tools/xentrace/formats read them (NULL_FORMATS below; dom:vcpu is the
partition index and the vCPU's index, 7fff:CPU the idle vCPU), DELTA the microseconds since
the null record before. null_decode() prints them as xentrace_format does.

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
NULL_RECORD = re.compile(r'^([0-9a-f]{1,2})\.([0-9a-f]{1,8})\.([0-9a-f]{1,8})\.([0-9a-f]{1,8})'
                         r'\+([0-9a-f]+)$')
NULL_END = re.compile(r'^nulls (\d+)$')
NULL_BASE = 0x22A00
NO_CPU = 0xff
IDLE_DOM = 0x7fff
# Xen 4.10 tools/xentrace/formats, the null scheduler's lines: id -> (name, fields).
NULL_FORMATS = {
    0x22A01: ('null:pick_cpu', '[ dom:vcpu = 0x{1:08x}, new_cpu = {2:d} ]'),
    0x22A02: ('null:assign', '[ dom:vcpu = 0x{1:08x}, cpu = {2:d} ]'),
    0x22A03: ('null:deassign', '[ dom:vcpu = 0x{1:08x}, cpu = {2:d} ]'),
    0x22A04: ('null:migrate', '[ dom:vcpu = 0x{1:08x}, new_cpu:cpu = 0x{2:08x} ]'),
    0x22A05: ('null:schedule', '[ cpu[16]:tasklet[16] = {1:08x}, dom:vcpu = 0x{2:08x} ]'),
    0x22A06: ('null:sched_tasklet', ''),
}

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
        self.nulls = []  # null's records: (ns, id, cpu, d1, d2)
        self.nulls_end = None  # the count `trace nulls` announced


def parse(lines, source=None):
    """A Trace from console lines (str); only `trace` lines of one partition are read."""
    t = Trace()
    now_us = 0
    null_us = 0
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
        e = NULL_END.match(rest)
        if e is not None:
            t.nulls_end = int(e.group(1))
            continue
        if rest.startswith('N'):
            for token in rest[1:].split():
                null_us = _null_record(t, token, where, null_us)
            continue
        if rest.startswith('null lost'):
            raise TraceError('%s: null records lost (%s)' % (where, rest))
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
    if t.nulls and t.nulls_end is None:
        raise TraceError('null records but no "trace nulls" line: the run stopped early')
    if t.nulls_end is not None and t.nulls_end != len(t.nulls):
        raise TraceError('"trace nulls" says %d records, the log has %d: lines were dropped' %
                         (t.nulls_end, len(t.nulls)))
    return t


def _domvcpu(t, word):
    """The vCPU id a dom:vcpu word names, None for the idle vCPU; KeyError if unknown."""
    part, index = word >> 16, word & 0xffff
    if part == IDLE_DOM:
        return None
    for ident, v in t.vcpus.items():
        if v['partition'] == part and v['vcpu'] == index:
            return ident
    raise KeyError(word)


def _null_record(t, token, where, null_us):
    """Checks and keeps one null record; returns its time in us."""
    r = NULL_RECORD.match(token)
    if r is None:
        raise TraceError('%s: malformed null record %r' % (where, token))
    ev, cpu, d1, d2, delta = (int(x, 16) for x in r.groups())
    ident = NULL_BASE + ev
    if ident not in NULL_FORMATS:
        raise TraceError('%s: null record %r: unknown event 0x%x' % (where, token, ident))

    def bad(why):
        return TraceError('%s: null record %r (%s): %s' %
                          (where, token, NULL_FORMATS[ident][0], why))

    try:
        if ident in (0x22A01, 0x22A02, 0x22A03, 0x22A04):
            if _domvcpu(t, d1) is None:
                raise bad('the idle vCPU')
        if ident == 0x22A05:
            who = _domvcpu(t, d2)
            if who is None and d2 & 0xffff != cpu:
                raise bad('the idle vCPU of CPU %d on CPU %d' % (d2 & 0xffff, cpu))
    except KeyError:
        raise bad('names dom:vcpu 0x%08x, never announced' % (d1 if ident != 0x22A05 else d2))
    if ident == 0x22A01 and d2 != cpu:
        raise bad('new_cpu %d on CPU %d' % (d2, cpu))
    if ident in (0x22A02, 0x22A03) and (d2 != cpu or cpu == NO_CPU):
        raise bad('cpu %d on CPU %d' % (d2, cpu))
    if ident == 0x22A04 and cpu not in (d2 >> 16, d2 & 0xffff):
        raise bad('new_cpu:cpu 0x%08x on CPU %d' % (d2, cpu))
    if ident == 0x22A05 and d1 != cpu << 16:
        raise bad('cpu[16]:tasklet[16] %08x on CPU %d' % (d1, cpu))
    null_us += delta
    t.nulls.append((null_us * 1000, ident, cpu, d1, d2))
    return null_us


def null_decode(t):
    """Null's records as xentrace_format prints them with Xen's formats (one str each)."""
    out = []
    last = 0
    for ns, ident, cpu, d1, d2 in t.nulls:
        name, fields = NULL_FORMATS[ident]
        where = 'CPU%d' % cpu if cpu != NO_CPU else 'CPU-'
        out.append(('0x%08x  %s  %d (+%8d)  %-18s %s' %
                    (ident, where, ns, ns - last, name,
                     fields.format(None, d1, d2))).rstrip())
        last = ns
    return out


def waits(t):
    """{vCPU id: [(start ns, end ns)]}: null held it in its waitqueue (pick_cpu found none)."""
    out = {ident: [] for ident in t.vcpus}
    since = {}
    end = max([t.nulls[-1][0] if t.nulls else 0] + [r[0] for r in t.records[-1:]])
    for ns, ident, cpu, d1, _ in t.nulls:
        if ident in (0x22A05, 0x22A06):
            continue
        who = _domvcpu(t, d1)
        if (ident == 0x22A01 and cpu == NO_CPU) or (ident == 0x22A04 and d2 >> 16 == NO_CPU):
            since.setdefault(who, ns)
        elif ident in (0x22A02, 0x22A03) and who in since:
            out[who].append((since.pop(who), ns))
    for who, start in since.items():
        stops = [r[0] for r in t.records if r[1] == 'stopped' and r[3] == who and r[0] >= start]
        out[who].append((start, stops[0] if stops else end))
    return out


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
    held = waits(t)
    end = max([end] + [b for spans in held.values() for _, b in spans])
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
        for a, b in held[ident]:
            out.append('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="none" '
                       'stroke="#888888" stroke-dasharray="4 3"/>' %
                       (left + a * scale, y + 8, max((b - a) * scale, 0.5), lane_h - 16))
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
    if any(held.values()):
        out.append('<rect x="%d" y="%d" width="14" height="10" fill="none" stroke="#888888" '
                   'stroke-dasharray="4 3"/>' % (x, legend_y + 2))
        out.append('<text x="%d" y="%d">waiting (null)</text>' % (x + 20, legend_y + 11))
        x += 130
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
