"""Checks over a captured QEMU console: the rules tools/run-qemu enforces.

Everything here is pure (lines in, check results out) so that the rules can be
exercised on saved console logs without booting anything (`run-qemu --log`).

Console conventions (see docs/build.md):
  [hyp] <text>          a kernel line
  [<partition>] <text>  a line a partition wrote through the console hypercall
  [hyp] system off: status=<N>   the last line of every orderly shutdown
Partitions that test something print TAP after their prefix: a plan "1..N",
then "ok N - name" / "not ok N - name" lines.
"""

import re

# Device-tree node names may use letters, digits and ",._+-" (DTSpec 2.2.1).
PREFIX_RE = re.compile(r'^\[([A-Za-z0-9_.,+-]+)\] ?(.*)$')
STATUS_RE = re.compile(r'^\[hyp\] system off: status=(-?(?:0x[0-9a-fA-F]+|\d+))\s*$')
PLAN_RE = re.compile(r'^1\.\.(\d+)(?:\s*#.*)?$')
RESULT_RE = re.compile(r'^(not )?ok\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$')
BAIL_RE = re.compile(r'^Bail out!(.*)$')
# Terminal control sequences QEMU or firmware may write to the serial line.
ANSI_RE = re.compile(r'\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]*[0-~])')
CONTROL_RE = re.compile(r'[\x00-\x08\x0b-\x1f\x7f]')

PANIC_MARK = 'KERNEL PANIC'


def clean_lines(data):
    """Decode raw console bytes into lines without CR, ANSI escapes or control characters."""
    text = data.decode('utf-8', errors='replace') if isinstance(data, bytes) else data
    lines = []
    for raw in text.split('\n'):
        line = CONTROL_RE.sub('', ANSI_RE.sub('', raw.rstrip('\r')))
        lines.append(line.rstrip())
    if lines and lines[-1] == '':
        lines.pop()
    return lines


class Expectations:
    """What a test manifest (or the command line) says the console must show."""

    def __init__(self):
        self.patterns = []      # (regex source, origin)
        self.status = 0
        self.status_given = False
        self.panic = False
        self.counted = []       # (prefix, count, origin): numbered lines, each once, in order
        self.counts = []        # (regex source, count, origin): lines matching, exactly count
        self.inputs = []        # (regex, bytes): once a line matches, type the bytes
        self.ratios = []        # (regex a, regex b, low, high, origin): a / b within [low, high]

    def add_pattern(self, pattern, origin):
        """Add one regex; a bad regex is an error of the test, reported with its origin."""
        try:
            re.compile(pattern)
        except re.error as err:
            raise ValueError('%s: bad regex %r: %s' % (origin, pattern, err)) from None
        self.patterns.append((pattern, origin))

    def load_file(self, path):
        """Collect `expect:`, `expect-status:` and `expect-panic` lines from a file.

        The lines usually sit in a /* */ comment of a .dts, so a leading ` * `
        and a trailing `*/` are not part of the regex.
        """
        with open(path, encoding='utf-8') as handle:
            for number, line in enumerate(handle, 1):
                origin = '%s:%d' % (path, number)
                match = re.search(r'\bexpect:\s?(.*)$', line)
                if match:
                    pattern = match.group(1).rstrip()
                    if pattern.endswith('*/'):
                        pattern = pattern[:-2].rstrip()
                    if not pattern:
                        raise ValueError('%s: empty expect: pattern' % origin)
                    self.add_pattern(pattern, origin)
                    continue
                match = re.search(r'\bexpect-status:\s*(-?(?:0x[0-9a-fA-F]+|\d+))', line)
                if match:
                    self.status = int(match.group(1), 0)
                    self.status_given = True
                    continue
                if re.search(r'\bexpect-panic\b', line):
                    self.panic = True
                    continue
                self._load_extra(line, origin)

    def _load_extra(self, line, origin):
        """`expect-counted: PREFIX N`, `expect-count: N REGEX`, `input-after: REGEX => TEXT`,
        `expect-ratio: LOW HIGH REGEX_A / REGEX_B` (each regex captures one number, in the
        last line it matches; LOW <= a / b <= HIGH)."""
        match = re.search(r'\bexpect-ratio:\s*([0-9.]+)\s+([0-9.]+)\s+(.*?)\s+/\s+(.*?)\s*(\*/)?$',
                          line)
        if match:
            for pattern in (match.group(3), match.group(4)):
                self.add_pattern(pattern, origin)
                self.patterns.pop()
                if re.compile(pattern).groups != 1:
                    raise ValueError('%s: expect-ratio: %r must capture one number'
                                     % (origin, pattern))
            self.ratios.append((match.group(3), match.group(4), float(match.group(1)),
                                float(match.group(2)), origin))
            return
        match = re.search(r'\bexpect-counted:\s?(.*\S)\s+(\d+)\s*$', line)
        if match:
            self.counted.append((match.group(1) + ('' if match.group(1).endswith('=') else ' '),
                                 int(match.group(2)), origin))
            return
        match = re.search(r'\bexpect-count:\s*(\d+)\s+(.*)$', line)
        if match:
            pattern = match.group(2).rstrip()
            self.add_pattern(pattern, origin)
            self.patterns.pop()
            self.counts.append((pattern, int(match.group(1)), origin))
            return
        match = re.search(r'\binput-after:\s*(.*?)\s+=>\s?(.*)$', line)
        if match:
            self.add_pattern(match.group(1), origin)
            self.patterns.pop()
            text = match.group(2).encode('utf-8').decode('unicode_escape').encode('latin-1')
            self.inputs.append((re.compile(match.group(1)), text))


class Check:
    """One line of the runner's own TAP output."""

    def __init__(self, ok, name, details=None):
        self.ok = ok
        self.name = name
        self.details = details or []


def tap_by_partition(lines):
    """Group TAP lines by console prefix: {name: {'plans': [...], 'results': [...], 'bail': [...]}}."""
    streams = {}
    for line in lines:
        match = PREFIX_RE.match(line)
        if not match:
            continue
        name, text = match.group(1), match.group(2).strip()
        plan = PLAN_RE.match(text)
        result = RESULT_RE.match(text) if not plan else None
        bail = BAIL_RE.match(text)
        if not (plan or result or bail):
            continue
        stream = streams.setdefault(name, {'plans': [], 'results': [], 'bail': []})
        if plan:
            stream['plans'].append(int(plan.group(1)))
        elif bail:
            stream['bail'].append(bail.group(1).strip())
        else:
            directive = (result.group(4) or '').strip()
            ok = result.group(1) is None
            todo = directive.upper().startswith('TODO')
            stream['results'].append({
                'ok': ok or todo,
                'raw_ok': ok,
                'number': result.group(2),
                'name': result.group(3).strip(),
                'directive': directive,
            })
    return streams


def check_format(lines):
    """Once the kernel has printed, every non-empty line must carry a [name] prefix.

    Lines before the first kernel line come from firmware (SeaBIOS on x86) and
    are not ours. An unprefixed line later means interleaved or raw output.
    """
    started = False
    bad = []
    for number, line in enumerate(lines, 1):
        if line.startswith('[hyp] '):
            started = True
        if not started or not line.strip():
            continue
        if not PREFIX_RE.match(line):
            bad.append('line %d: %r' % (number, line[:120]))
    if not started:
        return Check(False, 'console: the kernel printed a "[hyp] " line')
    details = bad[:10] + (['... %d more' % (len(bad) - 10)] if len(bad) > 10 else [])
    return Check(not bad, 'console: every line after the first kernel line has a [name] prefix',
                 details)


def evaluate(lines, expect, timed_out=False, timeout=None):
    """Apply every rule to the console lines; returns a list of Check."""
    checks = []
    if timed_out:
        checks.append(Check(False, 'qemu finished within %s s' % timeout))
    checks.append(check_format(lines))

    panics = [line for line in lines if PANIC_MARK in line]
    if expect.panic:
        checks.append(Check(bool(panics), 'kernel panicked as the test expects (expect-panic)'))
    else:
        checks.append(Check(not panics, 'no KERNEL PANIC', panics[:5]))

    statuses = [STATUS_RE.match(line) for line in lines]
    statuses = [int(m.group(1), 0) for m in statuses if m]
    if not expect.panic or expect.status_given:
        if statuses:
            checks.append(Check(statuses[-1] == expect.status,
                                'system off with status=%d (saw status=%d)'
                                % (expect.status, statuses[-1])))
        else:
            checks.append(Check(False, 'system off with status=%d (no "[hyp] system off" line)'
                                % expect.status))

    for name, stream in sorted(tap_by_partition(lines).items()):
        for result in stream['results']:
            label = '%s: %s' % (name, result['name'] or 'test %s' % result['number'])
            if result['directive']:
                label += ' (%s)' % result['directive']
            checks.append(Check(result['ok'], label))
        for reason in stream['bail']:
            checks.append(Check(False, '%s: Bail out! %s' % (name, reason)))
        count = len(stream['results'])
        if len(stream['plans']) != 1:
            checks.append(Check(False, '%s: exactly one TAP plan (saw %d)'
                                % (name, len(stream['plans']))))
        else:
            planned = stream['plans'][0]
            checks.append(Check(count == planned, '%s: %d of %d planned results reported'
                                % (name, count, planned)))

    for prefix, count, origin in expect.counted:
        got = [line[len(prefix):] for line in lines if line.startswith(prefix)]
        want = ['%03d' % i for i in range(count)]
        bad = ['line %d: %r, expected %r' % (i, g, w)
               for i, (g, w) in enumerate(zip(got, want)) if g != w][:5]
        if len(got) != count:
            bad.append('%d lines, expected %d' % (len(got), count))
        checks.append(Check(not bad, 'expect-counted: %r 000..%03d, each once, in order  (%s)'
                            % (prefix, count - 1, origin), bad))
    for pattern, count, origin in expect.counts:
        regex = re.compile(pattern)
        seen = sum(1 for line in lines if regex.search(line))
        checks.append(Check(seen == count, 'expect-count: %d lines match %s, saw %d  (%s)'
                            % (count, pattern, seen, origin)))

    for pat_a, pat_b, low, high, origin in expect.ratios:
        values = []
        for pattern in (pat_a, pat_b):
            found = [m.group(1) for m in map(re.compile(pattern).search, lines) if m]
            values.append(float(found[-1]) if found else None)
        if None in values or values[1] == 0:
            checks.append(Check(False, 'expect-ratio: %s / %s: no value (saw %r)  (%s)'
                                % (pat_a, pat_b, values, origin)))
            continue
        ratio = values[0] / values[1]
        checks.append(Check(low <= ratio <= high, 'expect-ratio: %s / %s = %.4f within %g..%g  (%s)'
                            % (pat_a, pat_b, ratio, low, high, origin)))

    for pattern, origin in expect.patterns:
        regex = re.compile(pattern)
        found = any(regex.search(line) for line in lines)
        checks.append(Check(found, 'expect: %s  (%s)' % (pattern, origin)))
    return checks


def format_tap(checks, console_tail=None):
    """Render checks as TAP (plan first); append the console tail as diagnostics on failure."""
    out = ['1..%d' % len(checks)]
    for number, check in enumerate(checks, 1):
        # A '#' would start a TAP directive in our own output: keep names plain.
        name = check.name.replace('#', 'no.')
        out.append('%s %d - %s' % ('ok' if check.ok else 'not ok', number, name))
        out.extend('#   ' + d for d in check.details)
    if console_tail is not None and not all(c.ok for c in checks):
        out.append('# last %d console lines:' % len(console_tail))
        out.extend('# | ' + line for line in console_tail)
    return out
