"""The `static` suite: cppcheck, the clang static analyzer and the clang-format check.

Each function returns (ok, summary, detail_lines). None of them weakens a
check to make it pass: a finding is a failure, reported with its location.
Targeted cppcheck suppressions (with a reason each) live in
tools/lib/cppcheck-suppressions.txt; inline `// cppcheck-suppress id` works too.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

from .qemu import REPO

# Our C code; tests/ and tools/ are analysed through the compilation databases.
SOURCE_DIRS = ('kernel', 'ipc', 'services', 'platform')
FORMAT_DIRS = ('kernel', 'ipc', 'services', 'platform', 'tests', 'proofs')
BUILD_DIRS = ('build/host', 'build/arm64', 'build/x86_64')
SUPPRESSIONS = os.path.join(REPO, 'tools', 'lib', 'cppcheck-suppressions.txt')
LIBFDT_CFG = os.path.join(REPO, 'tools', 'lib', 'cppcheck-libfdt.cfg')

ANALYZER_TIMEOUT_S = 900
CPPCHECK_TIMEOUT_S = 900


def _run(argv, timeout, cwd=REPO):
    try:
        proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        return 127, '%s: not installed (tools/setup installs it)' % argv[0]
    except subprocess.TimeoutExpired:
        return 124, '%s: timed out after %d s' % (argv[0], timeout)
    return proc.returncode, proc.stdout.decode('utf-8', errors='replace')


def _under(path, dirs):
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(REPO))
    return any(rel == d or rel.startswith(d + os.sep) for d in dirs)


def _entries(build_dir):
    cdb = os.path.join(REPO, build_dir, 'compile_commands.json')
    with open(cdb, encoding='utf-8') as handle:
        entries = json.load(handle)
    for entry in entries:
        entry['file'] = os.path.normpath(os.path.join(entry['directory'], entry['file']))
    return entries


def cppcheck(build_dirs=BUILD_DIRS):
    """cppcheck over kernel/ ipc/ services/ platform/, once per build configuration.

    The compilation databases give each file the include paths and defines it
    is really built with (the arm64 and x86 platform headers differ), so the
    arch headers are never mixed up.
    """
    entries = []
    missing = []
    for build_dir in build_dirs:
        try:
            entries += [e for e in _entries(build_dir) if _under(e['file'], SOURCE_DIRS)]
        except OSError:
            missing.append(build_dir)
    if missing:
        return False, 'no compile_commands.json in %s' % ', '.join(missing), []
    if not entries:
        return False, 'no sources of %s in the compilation databases' % '/'.join(SOURCE_DIRS), []
    with tempfile.TemporaryDirectory() as tmp:
        cdb = os.path.join(tmp, 'compile_commands.json')
        with open(cdb, 'w', encoding='utf-8') as handle:
            json.dump(entries, handle)
        argv = ['cppcheck', '--project=' + cdb, '--quiet', '--error-exitcode=1', '--inline-suppr',
                '--enable=warning,style,performance,portability', '--std=c11',
                '--suppressions-list=' + SUPPRESSIONS, '--library=' + LIBFDT_CFG, '-j', str(os.cpu_count() or 2),
                '--template={file}:{line}: {severity}: {message} [{id}]',
                '--cppcheck-build-dir=' + tmp]
        code, out = _run(argv, CPPCHECK_TIMEOUT_S)
    lines = [line.replace(REPO + os.sep, '') for line in out.splitlines() if line.strip()]
    findings = [line for line in lines if re.search(r':\d+: \w+: ', line)]
    files = len({e['file'] for e in entries})
    if code == 0:
        return True, '%d files, %d configurations' % (files, len(entries)), []
    return False, '%d findings' % len(findings), (findings or lines)[-40:]


GCC_INCLUDE_RE = re.compile(r'^/\S*/lib/gcc(?:-cross)?/[^/]+/[^/]+/include/?$')


def _clang_target(compiler):
    """The clang --target for a cross gcc named <triple>-gcc, or None for the native compiler."""
    name = os.path.basename(compiler)
    match = re.match(r'^(\w+-[\w-]*?)-(?:gcc|cc)(?:-\d+)?$', name)
    return match.group(1) if match else None


def _retarget(entries):
    """Give cross entries an explicit clang --target.

    analyze-build replays each command through clang, whose default target is
    the host's: arm64 code would be parsed as x86 (unknown CPU, wrong inline
    asm) and fail to analyse. The triple comes from the gcc's name.
    """
    import shlex
    out = []
    for entry in entries:
        entry = dict(entry)
        argv = entry.get('arguments') or shlex.split(entry['command'])
        target = _clang_target(argv[0])
        if target and not any(a.startswith('--target') or a == '-target' for a in argv):
            argv = [argv[0], '--target=' + target] + argv[1:]
        if '-nostdinc' in argv:
            # Freestanding code gets gcc's own <stdint.h> etc. through -I; those
            # rely on gcc-only builtin macros (__UINT64_C), so clang analyses
            # with its own freestanding headers instead: -nostdlibinc keeps
            # clang's resource directory and still hides the host's libc.
            argv = ['-nostdlibinc' if a == '-nostdinc' else a for a in argv
                    if not GCC_INCLUDE_RE.search(a if not a.startswith('-I') else a[2:])]
        argv = [a for a in argv if _clang_accepts(target, a)]
        entry.pop('arguments', None)
        entry['command'] = shlex.join(argv)
        out.append(entry)
    return out


_ACCEPTS = {}
DROPPED_FLAGS = set()


def _clang_accepts(target, flag):
    """Whether clang takes a gcc code-generation flag (-f..., -m...); probed once per flag.

    Flags only gcc knows (e.g. -fno-tree-loop-distribute-patterns) make clang
    refuse the whole file, so they are left out of the analysis; they change
    code generation, not the meaning of the source.
    """
    if not (flag.startswith('-f') or flag.startswith('-m')) or flag.startswith('-fdiagnostics'):
        return True
    key = (target, flag)
    if key not in _ACCEPTS:
        clang = shutil.which('clang-14') or shutil.which('clang') or 'clang'
        argv = [clang] + (['--target=' + target] if target else []) + \
            [flag, '-Werror=unused-command-line-argument', '-fsyntax-only', '-x', 'c', os.devnull]
        code, _ = _run(argv, 60)
        _ACCEPTS[key] = code == 0
        if code != 0:
            DROPPED_FLAGS.add(flag)
    return _ACCEPTS[key]


def analyze_build(build_dir):
    """The clang static analyzer over one build directory's compilation database.

    analyze-build (not scan-build) because scan-build analyses nothing in a
    cross build: it replays the recorded compiler commands through clang. A
    file clang cannot compile is a failure too (it would otherwise go unanalysed).
    """
    try:
        entries = _entries(build_dir)
    except OSError:
        return False, 'no %s/compile_commands.json' % build_dir, []
    tool = shutil.which('analyze-build-14') or shutil.which('analyze-build')
    if not tool:
        return False, 'analyze-build-14 not installed (tools/setup installs clang-tools-14)', []
    entries = [e for e in _retarget(entries) if not _under(e['file'], [build_dir])]
    if not entries:
        return False, 'no sources in %s/compile_commands.json' % build_dir, []
    with tempfile.TemporaryDirectory() as tmp:
        cdb = os.path.join(tmp, 'compile_commands.json')
        with open(cdb, 'w', encoding='utf-8') as handle:
            json.dump(entries, handle)
        out_dir = os.path.join(tmp, 'reports')
        argv = [tool, '--cdb', cdb, '--status-bugs', '--output', out_dir, '--plist']
        code, out = _run(argv, ANALYZER_TIMEOUT_S)
        findings = []
        for dirpath, _, names in os.walk(out_dir):
            for name in sorted(names):
                path = os.path.join(dirpath, name)
                if name.endswith('.plist') and os.path.getsize(path) > 0:
                    findings += _plist_findings(path)
                elif name.endswith('.info.txt'):
                    with open(path, encoding='utf-8', errors='replace') as handle:
                        first = handle.readline().strip()
                    findings.append('%s: clang could not analyse it (%s)'
                                    % (os.path.relpath(first, REPO) if first.startswith('/')
                                       else first, name.split('_')[1] + ' error'))
    dropped = ' (without gcc-only %s)' % ' '.join(sorted(DROPPED_FLAGS)) if DROPPED_FLAGS else ''
    if code == 0 and not findings:
        return True, '%d files, no findings%s' % (len(entries), dropped), []
    detail = findings or [line for line in out.splitlines() if line.strip()][-30:]
    return False, '%d findings' % len(findings), detail[:40]


def _plist_findings(path):
    """file:line: message for each diagnostic in one analyzer .plist report."""
    import plistlib
    try:
        with open(path, 'rb') as handle:
            data = plistlib.load(handle)
    except Exception:   # a half-written report is still a failure, shown by name
        return ['%s: unreadable report' % path]
    files = data.get('files', [])
    out = []
    for diag in data.get('diagnostics', []):
        loc = diag.get('location', {})
        name = files[loc.get('file', 0)] if files else '?'
        out.append('%s:%s: %s [%s]' % (os.path.relpath(name, REPO), loc.get('line', '?'),
                                        diag.get('description', ''), diag.get('check_name', '')))
    return out


def format_sources():
    """Every C source and header of ours, tracked or new (not ignored, not in build/)."""
    code, out = _run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '--'] +
                     ['%s/*.c' % d for d in FORMAT_DIRS] + ['%s/*.h' % d for d in FORMAT_DIRS],
                     60)
    if code != 0:
        return []
    files = []
    for name in sorted(set(out.splitlines())):
        if name.startswith('build/') or not os.path.isfile(os.path.join(REPO, name)):
            continue
        files.append(name)
    return files


def clang_format():
    """clang-format --dry-run -Werror with the repository's .clang-format."""
    tool = shutil.which('clang-format-14') or shutil.which('clang-format')
    if not tool:
        return False, 'clang-format not installed', []
    files = format_sources()
    if not files:
        return False, 'no C sources found', []
    bad = []
    for start in range(0, len(files), 50):
        code, out = _run([tool, '--dry-run', '-Werror', '--style=file'] + files[start:start + 50],
                         300)
        if code != 0:
            bad += sorted({m.group(1) for m in re.finditer(r'^(\S+?):\d+:\d+: error', out, re.M)})
            if not bad:
                bad.append(out.strip().splitlines()[-1] if out.strip() else 'exit %d' % code)
    if not bad:
        return True, '%d files' % len(files), []
    return False, '%d of %d files need clang-format' % (len(bad), len(files)), bad
