# The serving loop that runs inside python.wasm (`python -S -s -P -c <this> <config json>`; not -I, which would
# ignore PYTHONHASHSEED), one per interpreter instance, for the instance's whole life. Boot (imports + warm-up)
# costs about 100-200 ms; a request costs what the program costs plus ~50-150 us. Requests arrive on fd 0 as
# <u32 length><json>; the reply is ONE os.write to fd 1 of a small binary frame (_reply; the host keeps only the
# last fd-1 write of a request). Program prints go to fd 2, which the host counts against the output cap and drops.
#
# Pristine state: the host snapshots linear memory at the first request boundary and puts back every page written
# since, at every later boundary. Pitfalls that make that safe (measured when the executor was designed; sandbox/README.md, "Pristine state"):
#   - the boundary read is `_READ(_HDRV)`: a preallocated memoryview and a pre-bound method, so the wasm stack at the
#     call site holds no pointer that differs between requests; it returns 4, a cached small int;
#   - warm-up and lazy initialisation (ast types, regex caches, imports) happen before the snapshot;
#   - the heap is pre-grown so ordinary programs never call memory.grow (growth means the host recycles us).
import sys, builtins, gc, json, ast, re, io, os, marshal, binascii
from _io import FileIO

_CFG = json.loads(sys.argv[1])
_COMPAT = bool(_CFG['compat'])
_OUT_CAP = int(_CFG['output_bytes'])
_BANNED = list(_CFG['banned'])
_SINGLE_DEF = bool(_CFG['single_def'])

_STDIN = FileIO(0, 'rb', closefd=False)
_READ = _STDIN.readinto
_HDR = bytearray(4)
_HDRV = memoryview(_HDR)
_BUF = bytearray(int(_CFG['request_bytes']))
_BUFV = memoryview(_BUF)
_WRITE = os.write


class _Sink(io.TextIOBase):
    """sys.stdout/stderr while a program runs: every write goes to fd 2, where the host counts and drops it."""

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not ' + type(s).__name__)
        _WRITE(2, s.encode('utf-8', 'backslashreplace'))
        return len(s)

    def flush(self):
        pass


_SINK = _Sink()


class _Quitter:
    """`exit()` / `quit()` as site.py defines them (we run with -S): raise SystemExit."""

    def __repr__(self):
        return 'Use exit() or Ctrl-D (i.e. EOF) to exit'

    def __call__(self, code=None):
        raise SystemExit(code)


builtins.exit = builtins.quit = _Quitter()


class _Invalid(Exception):
    pass


class _NonDeterministic(Exception):
    pass


def _describe(e):
    """`Type: message` without letting a hostile __str__ escape."""
    try:
        name = type(e).__name__
        msg = str(e)
    except BaseException:
        return type(e).__name__
    return name + ': ' + msg if msg else name


_CODE_CACHE = {}


def _compile(src, mode, name):
    key = (src, mode)
    code = _CODE_CACHE.get(key)
    if code is None:
        if len(_CODE_CACHE) > 512:
            _CODE_CACHE.clear()
        code = compile(src, name, mode)
        _CODE_CACHE[key] = code
    return code


def _fresh():
    return {'__name__': '__main__', '__builtins__': builtins}


def _call(g, args):
    # A newline before ')' so a trailing comment in the input cannot swallow it.
    return eval(_compile('f(' + args + '\n)', 'eval', '<input>'), g)


class _OutputLimit(Exception):
    pass


def _checked_repr(v, _repr=repr, _len=len, _cap=_OUT_CAP, _limit=_OutputLimit):
    s = _repr(v)
    if _len(s) > _cap:
        raise _limit()
    return s


# ---- AST rules --------------------------------------------------------------------------------------------------

def _import_names(tree):
    """(components, qualified names) per import statement, plus literal dynamic imports; raises on dynamic ones."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            yield mod
            for a in node.names:
                yield mod + '.' + a.name if mod else a.name
        elif not _COMPAT and isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
            if name in ('__import__', 'import_module'):
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield arg.value
                else:
                    raise _Invalid('dynamic import with a computed module name')


def _banned_reason(code, tree):
    """The reference rule: a banned word equal to a dot-component of an imported name. Outside compat mode the
    dotted entries (os.path, sys.exit) also match qualified names, and __import__/importlib calls are checked.
    `tree` is None when the code does not parse (compat then falls back to the reference's word regex)."""
    if tree is None:
        if _COMPAT:
            for w in _BANNED:
                if re.search(r'\b' + re.escape(w) + r'\b', code):
                    return 'banned import: ' + w
        return None
    if 'import' not in code:  # no Import node and no __import__/import_module call can exist
        return None
    for full in _import_names(tree):
        parts = full.split('.')
        prefixes = {'.'.join(parts[:i + 1]) for i in range(len(parts))}
        for w in _BANNED:
            if w in parts or (not _COMPAT and '.' in w and w in prefixes):
                return 'banned import: ' + w
    return None


def _def_count(code, tree):
    if _COMPAT:
        return len(re.findall(r'^\s*def\s+(\w+)\s*\(', code, re.M))
    return sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(tree))


# ---- the reference executor's path (compat) ---------------------------------------------------------------------

_INPUT_RE = re.compile(r'(\s|^)?input\(')


def _truncate(s):
    s = s.strip()
    return s[:200] + '...' + s[-200:] if len(s) > 400 else s


def _last_line_report(e):
    """The last line of a traceback, as the reference reports an error."""
    try:
        import traceback
        return traceback.format_exception_only(type(e), e)[-1].strip()
    except BaseException:
        return type(e).__name__


def _compat_compile(snippet):
    """Reference `execute` (auto_mode) split: every line but the last is exec'd and the last eval'd, or all lines
    exec'd when the last prints. Returns (prints, body, last); raises SyntaxError for the whole snippet."""
    if _INPUT_RE.search(snippet):
        raise RuntimeError()
    lines = snippet.strip().split('\n')
    if 'print(' in lines[-1]:
        return True, _compile('\n'.join(lines), 'exec', '<string>'), None
    return False, _compile('\n'.join(lines[:-1]), 'exec', '<string>'), _compile(lines[-1], 'eval', '<string>')


def _compat_exec(compiled):
    """Runs what _compat_compile made, in fresh `{}` globals as the reference does; returns the value."""
    prints, body, last = compiled
    g = {}
    if prints:
        buf = io.StringIO()
        sys.stdout = buf
        exec(body, g)
        return buf.getvalue()
    exec(body, g)
    return eval(last, g)


# ---- ops ----------------------------------------------------------------------------------------------------------
# Each returns (status, output, correct, error); exceptions from the program propagate to _handle.

def _run(req):
    code, inp = req['code'], req['input']
    if _COMPAT:
        return 'ok', _truncate(str(_compat_exec(_compat_compile(code + '\nrepr(f(' + inp + '))')))), None, None
    g = _fresh()
    exec(_compile(code, 'exec', '<program>'), g)
    return 'ok', _checked_repr(_call(g, inp)), None, None


def _check_rules(code):
    """Parse once; the syntax check, the banned-import walk and the def count share the tree, and the compiled code
    goes into the cache so the runs that follow do not parse again."""
    try:
        tree = ast.parse(code, '<program>')
    except (SyntaxError, ValueError) as e:
        reason = _banned_reason(code, None)
        raise _Invalid(reason or 'syntax: ' + _describe(e))
    reason = _banned_reason(code, tree)
    if reason:
        raise _Invalid(reason)
    if _SINGLE_DEF:
        n = _def_count(code, tree)
        if n != 1:
            raise _Invalid('expected exactly one def, found %d' % n)
    if not _COMPAT:
        _CODE_CACHE[(code, 'exec')] = compile(tree, '<program>', 'exec')


def _validate(req):
    code, inp = req['code'], req['input']
    _check_rules(code)
    if _COMPAT:
        snippet = ('%s\nreturns = f(%s)\nif returns != f(%s):\n    raise Exception(\'Non-deterministic code\')\n'
                   'repr(returns)') % (code, inp, inp)
        try:
            compiled = _compat_compile(snippet)
        except SyntaxError as e:  # the reference's ast_check on the whole snippet
            raise _Invalid('syntax: ' + _describe(e))
        except RuntimeError:
            return 'error', None, None, 'RuntimeError'
        try:
            return 'ok', _truncate(str(_compat_exec(compiled))), None, None
        except MemoryError:
            raise
        except BaseException as e:
            report = _last_line_report(e)
            if 'error' in report.lower():
                return 'error', None, None, _truncate(report)
            return 'ok', '', None, report  # the reference accepts it with an empty gold output
    g = _fresh()
    exec(_compile(code, 'exec', '<program>'), g)
    first = _checked_repr(_call(g, inp))
    junk = [object() for _ in range(7)] + [bytearray(n) for n in (24, 56, 120, 500)]  # move the allocator
    second = _checked_repr(_call(g, inp))
    g2 = _fresh()
    exec(_compile(code, 'exec', '<program>'), g2)
    third = _checked_repr(_call(g2, inp))
    del junk
    if not (first == second == third):
        raise _NonDeterministic('non-deterministic: %r, %r, %r' % (first[:80], second[:80], third[:80]))
    return 'ok', first, None, None


# The types whose equality is built in. A value produced by solver-side code must be made of exactly these
# (recursively) before `==` decides a verdict: an object with its own __eq__ could answer True to anything.
_PLAIN_TYPES = frozenset((int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset, range))


def _plain(value, _type=type, _plain_types=_PLAIN_TYPES, _dict=dict, _containers=(list, tuple, set, frozenset)):
    """True when `value` and everything inside it have exactly a built-in type (iterative: no recursion limit)."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = _type(v)
        if t not in _plain_types:
            return False
        if t is _dict:
            stack.extend(v.keys())
            stack.extend(v.values())
        elif t in _containers:
            stack.extend(v)
    return True


def _equal(a, b, _bool=bool):
    return _bool(a == b)


def _judge_deduction(req, _equal=_equal, _plain=_plain, _describe=_describe, _fresh=_fresh):
    values = []
    for label in ('gold', 'answer'):
        try:
            values.append(eval(req[label], _fresh()))
        except MemoryError:
            raise
        except BaseException as e:
            return 'ok', None, False, label + ': ' + _describe(e)
    if not _COMPAT and not _plain(values[1]):
        return 'ok', None, False, 'answer: not plain data (a type with its own __eq__)'
    return 'ok', None, _equal(*values), None


def _args(g, text):
    """The positional and keyword arguments that `f(<text>)` would receive."""
    return eval(_compile('(lambda *a, **k: (a, k))(' + text + '\n)', 'eval', '<input>'), g)


def _abduce(code, gold, answer, answer_is_code, _equal=_equal, _plain=_plain, _describe=_describe, _fresh=_fresh,
            _args=_args):
    """(correct, error) for `gold == f(answer)` evaluated in the program's globals. Outside compat mode the
    solver's side must be plain data: the answer's arguments (abduction) or f's result (induction)."""
    if _COMPAT:
        try:
            return bool(_compat_exec(_compat_compile(code + '\n' + gold + ' == f(' + answer + ')'))), None
        except MemoryError:
            raise
        except BaseException as e:
            return False, _last_line_report(e)
    g = _fresh()
    exec(_compile(code, 'exec', '<program>'), g)
    try:
        expected = eval(_compile(gold, 'eval', '<gold>'), g)
        args, kwargs = _args(g, answer)
        if not answer_is_code and not _plain((args, kwargs)):
            return False, 'answer: not plain data (a type with its own __eq__)'
        value = g['f'](*args, **kwargs)
        if answer_is_code and not _plain(value):
            return False, 'answer: f returned a type with its own __eq__'
        return _equal(expected, value), None
    except (MemoryError, _OutputLimit):
        raise
    except BaseException as e:
        return False, _describe(e)


def _judge_abduction(req, _abduce=_abduce):
    correct, err = _abduce(req['code'], req['gold'], req['answer'], False)
    return 'ok', None, correct, err


def _judge_induction(req, _abduce=_abduce):
    code = ''.join(i + '\n' for i in req['imports']) + req['answer_code']
    for inp, out in req['pairs']:
        correct, err = _abduce(code, out, inp, True)
        if not correct:
            return 'ok', None, False, err
    return 'ok', None, True, None


def _compile_only(req):
    """Host-internal op: compile and marshal, running nothing of the program. In pristine mode the host keeps the
    result and ships it with later requests for the same program (`precompiled`), which then skip the compiler."""
    code = compile(req['code'], '<program>', 'exec')
    return 'ok', binascii.b2a_base64(marshal.dumps(code), newline=False).decode('ascii'), None, None


_OPS = {
    'compile': _compile_only,
    'run': _run,
    'validate': _validate,
    'judge_deduction': _judge_deduction,
    'judge_abduction': _judge_abduction,
    'judge_induction': _judge_induction,
}


def _handle(req):
    op = _OPS.get(req.get('op'))
    if op is None:
        return 'invalid', None, None, 'unknown op %r' % (req.get('op'),)
    sys.stdout = sys.stderr = _SINK
    try:
        pre = req.get('precompiled')
        if pre is not None:
            _CODE_CACHE[(req['code'], 'exec')] = marshal.loads(binascii.a2b_base64(pre))
        return op(req)
    except _Invalid as e:
        return 'invalid', None, None, str(e)
    except _NonDeterministic as e:
        return 'invalid', None, None, str(e)
    except _OutputLimit:
        return 'output_limit', None, None, 'result repr longer than %d characters' % _OUT_CAP
    except MemoryError as e:
        return 'memory', None, None, _describe(e)
    except BaseException as e:
        if _COMPAT:
            return 'error', None, None, _truncate(_last_line_report(e))
        return 'error', None, None, _describe(e)
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__


_STATUS_CODE = {name: i for i, name in enumerate(_CFG['statuses'])}


def _field(text, _enc=str.encode, _len=len, _str=str, _type=type, _isinstance=isinstance):
    """u32 length + UTF-8, or 0xffffffff for an absent field. Only C builtins bound at definition time run here,
    so a program that replaced json, repr, len or bool in this request cannot forge what the host reads."""
    if text is None:
        return b'\xff\xff\xff\xff'
    if _type(text) is not _str:
        text = _str.__str__(text) if _isinstance(text, _str) else '<unreportable>'
    data = _enc(text, 'utf-8', 'surrogatepass')
    return _len(data).to_bytes(4, 'little') + data


def _reply(status, output, correct, error, _codes=_STATUS_CODE, _field=_field, _write=_WRITE, _bytes=bytes):
    """One write to fd 1: b'AZR1', status index, correct (0, 1, 2 = absent), output field, error field."""
    head = _bytes((_codes.get(status, _codes['crash']), 2 if correct is None else 1 if correct is True else 0))
    _write(1, b'AZR1' + head + _field(output) + _field(error))


# ---- boot -------------------------------------------------------------------------------------------------------

# What the AZR seed programs import (spec §3), so pristine requests do not pay for these imports every time.
_PRELOAD = ('collections', 'itertools', 'math', 'heapq', 'functools', 'typing', 'string', 'bisect', 'operator',
            'copy', 'decimal', 'fractions', 'random', 'base64', 'zlib', 'queue', 'secrets', 'traceback')

_WARMUP = (
    ('run', 'def f(a):\n    return a', '"Hello world"'),
    ('validate', 'from collections import Counter\ndef f(s: str):\n    c = Counter(s)\n'
                 '    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:3]', "'mississippi'"),
    ('validate', 'import math, re\ndef f(xs, k=2):\n    d = {x: math.sqrt(x) for x in xs}\n'
                 '    return [re.sub(r"\\d", "#", str(v)) for v in d.values()][:k], sum(xs) // k', '[1, 4, 9], k=3'),
    ('run', 'def f(n):\n    try:\n        return 1 // n\n    except ZeroDivisionError as e:\n        raise ValueError(e)',
     '0'),
    ('run', 'import itertools, heapq, functools\n@functools.lru_cache(None)\ndef g(n):\n    return n if n < 2 else '
            'g(n - 1) + g(n - 2)\ndef f(x):\n    h = list(itertools.permutations(x, 2))\n    heapq.heapify(h)\n'
            '    return h[:2], g(20), {"a": [1, (2, 3)], "b": {4}}', '[3, 1, 2]'),
)


def _boot():
    for m in _PRELOAD:
        try:
            __import__(m)
        except ImportError:
            pass
    for op, code, inp in _WARMUP:
        _handle({'op': op, 'code': code, 'input': inp})
    _handle({'op': 'judge_deduction', 'gold': "{'a': 1}", 'answer': 'dict(a=1)'})
    _handle({'op': 'judge_abduction', 'code': 'def f(x):\n    return x * 2', 'gold': '4', 'answer': '2'})
    _CODE_CACHE.clear()
    sys.stdin = None
    gc.collect()
    pad = bytearray(int(_CFG['pregrow_bytes']))  # grow the heap now, so programs do not need memory.grow
    del pad  # freed by refcount: no second collection needed
    gc.freeze()


def _serve():
    read, hdrv, hdr, bufv, buf, handle, reply, loads = _READ, _HDRV, _HDR, _BUFV, _BUF, _handle, _reply, json.loads
    while True:
        read(hdrv)  # the request boundary: the host restores memory here, then blocks until a request arrives
        n = int.from_bytes(hdr, 'little')
        got = 0
        while got < n:
            got += read(bufv[got:n])
        req = loads(bytes(bufv[:n]))
        reply(*handle(req))


_boot()
_serve()
