# The serving loop that runs inside python.wasm (`python -S -s -P -c <plain.py + this> <config json>`; not -I, which
# would ignore PYTHONHASHSEED), one per interpreter instance, for the instance's whole life. Boot (imports + warm-up)
# costs about 100-200 ms; a request costs what the program costs plus ~50-150 us. Requests arrive on fd 0 as
# <u32 length><json>; the reply is ONE os.write to fd 1 of a small binary frame (_reply; the host keeps only the
# last fd-1 write of a request). Program prints go to fd 2, which the host counts against the output cap and drops;
# except in a `script` request, where the program's stdout is fd 1 and its stderr fd 2, both captured by the host,
# which still takes the last fd-1 write of the request as the reply frame (sandbox/capture.ts).
#
# The guest judges nothing. Its three ops (compile, eval, call) run a program and hand back what it produced as
# plain data (the `_encode` format of sandbox/value/plain.py, which the host prepends to this file); the host
# parses gold outputs and answers itself and compares there (sandbox/verdicts.ts). No request that runs solver
# code ever carries a gold output, so nothing in here, honest or rewritten by a program, can see or forge a verdict.
#
# Pristine state: the host snapshots linear memory at the first request boundary and puts back every page written
# since, at every later boundary. Pitfalls that make that safe (measured when the executor was designed; sandbox/README.md, "Pristine state"):
#   - the boundary read is `_READ(_HDRV)`: a preallocated memoryview and a pre-bound method, so the wasm stack at the
#     call site holds no pointer that differs between requests; it returns 4, a cached small int;
#   - warm-up and lazy initialisation (ast types, regex caches, imports) happen before the snapshot;
#   - the heap is pre-grown so ordinary programs never call memory.grow (growth means the host recycles us).
import sys, builtins, gc, json, ast, re, io, os, marshal, binascii, traceback, linecache
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


def _describe(e, _type=type, _str=str, _BaseException=BaseException):
    """`Type: message` without letting a hostile __str__ escape. Like everything the driver runs after a program,
    it uses only names bound at definition time (a program may have cleared builtins)."""
    try:
        name = _type(e).__name__
        msg = _str(e)
    except _BaseException:
        return _type(e).__name__
    return name + ': ' + msg if msg else name


def _globals():
    """A program's module globals: fresh per request (compat: `{}`, as the reference's exec does)."""
    if _COMPAT:
        return {}
    return {'__name__': '__main__', '__builtins__': builtins}


class _OutputLimit(Exception):
    pass


def _text(s, _type=type, _str=str):
    """An exact str (a str subclass from a hostile __repr__ could answer its own __eq__ and __len__)."""
    return s if _type(s) is _str else _str.__str__(s)


def _checked_repr(v, _repr=repr, _len=str.__len__, _cap=_OUT_CAP, _limit=_OutputLimit, _text=_text):
    s = _text(_repr(v))
    if _len(s) > _cap:
        raise _limit()
    return s


# ---- AST rules (validate) -----------------------------------------------------------------------------------------

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
    try:
        for full in _import_names(tree):
            parts = full.split('.')
            prefixes = {'.'.join(parts[:i + 1]) for i in range(len(parts))}
            for w in _BANNED:
                if w in parts or (not _COMPAT and '.' in w and w in prefixes):
                    return 'banned import: ' + w
    except _Invalid as e:
        return str(e)
    return None


def _rule_problem(code):
    """Why validate must refuse this program (banned import, the one-def rule), or None. Parses only when a rule
    needs the tree (a long program without imports costs no second parse)."""
    tree = ast.parse(code, '<program>') if 'import' in code or (_SINGLE_DEF and not _COMPAT) else None
    reason = _banned_reason(code, tree) if tree is not None else None
    if reason or not _SINGLE_DEF:
        return reason
    if _COMPAT:
        n = len(re.findall(r'^\s*def\s+(\w+)\s*\(', code, re.M))
    else:
        n = sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(tree))
    return None if n == 1 else 'expected exactly one def, found %d' % n


# ---- the reference's reporting (compat) ---------------------------------------------------------------------------

def _truncate(s, _strip=str.strip, _len=len):
    s = _strip(s)
    return s[:200] + '...' + s[-200:] if _len(s) > 400 else s


def _last_line_report(e, _format=traceback.format_exception_only, _type=type, _strip=str.strip,
                      _BaseException=BaseException):
    """The last line of a traceback, as the reference reports an error."""
    try:
        return _strip(_format(_type(e), e)[-1])
    except _BaseException:
        return _type(e).__name__


# ---- ops ------------------------------------------------------------------------------------------------------------
# The host composes every AZR op from these (sandbox/verdicts.ts); none of them holds a gold output or compares
# anything with one. Each returns (status, output, flag, error, value): `value` is the plain-value encoding of the
# op's answer (sandbox/value/plain.py) or None; exceptions from the program propagate to _handle.

def _value(v, shown, _encode=_encode, _len=len, _cap=_OUT_CAP, _Exception=Exception):
    """The encoding of `v`, or None when it is not plain data or would not fit in the reply next to `shown`."""
    try:
        b = _encode(v)
    except _Exception:
        return None
    room = _cap - 256 - (_len(shown) * 4 if shown is not None else 0)
    return b if _len(b) <= room else None


def _op_compile(req):
    """Parse, check the validate rules, compile, marshal; runs nothing of the program. The host keeps the answer per
    program text (code-cache.ts) and ships the marshalled code with every request that runs the program, so there is
    one compile path. Value: {'code': marshal bytes or None, 'syntax': error or None, 'rule': refusal or None}."""
    code = req['code']
    try:
        blob = marshal.dumps(compile(code, '<program>', 'exec'))
    except (SyntaxError, ValueError) as e:  # ValueError: a NUL byte
        try:
            ast.parse(code, '<program>')
            rule = _rule_problem(code)  # it parses: the compiler refused it (`return` outside a def, ...)
        except (SyntaxError, ValueError):
            rule = _banned_reason(code, None)
        return 'ok', None, None, None, _encode({'code': None, 'syntax': _describe(e), 'rule': rule})
    return 'ok', None, None, None, _encode({'code': blob, 'syntax': None, 'rule': _rule_problem(code)})


_type_name = type.__dict__['__name__'].__get__  # not type(v).__name__: a metaclass could run code there


def _op_eval(req, _type=type, _type_name=_type_name, _value=_value):
    """`text` as call arguments (`'a', k=2` -> ((args), {kwargs})) or as one expression, evaluated in the globals of
    the program `code` (marshalled; optional) or fresh ones. Only for text the host cannot read as a literal: the
    value decides what a later request's f receives, or is a compat deduction answer, and nothing else."""
    g = _globals()
    pre = req.get('code')
    if pre is not None:
        exec(marshal.loads(binascii.a2b_base64(pre)), g)
    if req['arguments']:
        # A newline before ')' so a trailing comment in the text cannot swallow it.
        v = eval(compile('(lambda *a, **k: (a, k))(' + req['text'] + '\n)', '<input>', 'eval'), g)
    else:
        v = eval(req['text'], g)
    b = _value(v, None)
    if b is None:
        return 'ok', None, None, 'not comparable: not plain data (%s)' % _type_name(_type(v)), None
    return 'ok', None, None, None, b


def _f(g, _get=dict.get):
    f = _get(g, 'f')
    if f is None:
        raise NameError("name 'f' is not defined")
    return f


def _op_call(req, _decode=_decode, _loads=marshal.loads, _a2b=binascii.a2b_base64, _f=_f, _text=_text,
             _repr=repr, _eq=str.__eq__, _bool=bool, _object=object, _bytearray=bytearray, _globals=_globals,
             _checked_repr=_checked_repr, _value=_value, _truncate=_truncate):
    """f(*args, **kwargs) twice in one fresh globals dict of the marshalled program, the arguments rebuilt from their
    encoding for each call (and the allocator moved in between, outside compat mode). Reply: the first result's repr,
    its encoding (None when not plain data), and whether the two calls agree (equal reprs; compat: the reference's
    `returns != f(inp)` check, the repr taken after both calls). validate, run and every judge send exactly this
    request, so nothing the program can observe tells validation from grading."""
    code = _loads(_a2b(req['code']))
    payload = _a2b(req['args'])
    g = _globals()
    exec(code, g)
    args, kwargs = _decode(payload)
    first = _f(g)(*args, **kwargs)
    if _COMPAT:
        args, kwargs = _decode(payload)
        same = not _bool(first != _f(g)(*args, **kwargs))  # the second result is a temporary, as in the reference
        shown = _truncate(_text(_repr(first)))
        return 'ok', shown, same, None, _value(first, shown)
    shown = _checked_repr(first)
    value = _value(first, shown)
    junk = [_object(), _object(), _object(), _object(), _object(), _object(), _object(),  # move the allocator
            _bytearray(24), _bytearray(56), _bytearray(120), _bytearray(500)]
    args, kwargs = _decode(payload)
    second = _f(g)(*args, **kwargs)
    same = _eq(shown, _checked_repr(second))
    del junk
    return 'ok', shown, same, None, value


# The file name a script's tracebacks show; no such file exists (the guest has no filesystem).
_SCRIPT_NAME = '<script>'
# At most this many characters of the uncaught exception's `Type: message` travel in the reply frame (the host keeps
# a reply candidate of a few KiB only; the whole traceback is on the script's stderr).
_SCRIPT_ERROR_CHARS = 1000


def _stream(fd, errors, line_buffering, _TextIOWrapper=io.TextIOWrapper, _Buffered=io.BufferedWriter, _FileIO=FileIO):
    """A script's sys.stdout/stderr on fd 1/2, buffered as CPython's are when they are pipes (stdout by 8 KiB
    blocks, stderr by lines): output still in the buffer at os._exit or a deadline is lost, as it is natively."""
    return _TextIOWrapper(_Buffered(_FileIO(fd, 'wb', closefd=False)), encoding='utf-8', errors=errors,
                          line_buffering=line_buffering)


def _write_text(stream, text, _BaseException=BaseException):
    try:
        stream.write(text)
        stream.flush()
    except _BaseException:
        pass


def _traceback_text(e, tb, _format=traceback.format_exception, _type=type, _join=''.join, _describe=_describe,
                    _BaseException=BaseException):
    """What CPython prints for an uncaught exception, without the driver's own frame (`tb` starts at the script's).
    The traceback module is the script's to rewrite: if formatting fails, the `Type: message` line."""
    try:
        return _join(_format(_type(e), e, tb))
    except _BaseException:
        return _describe(e) + '\n'


def _exit_code(e, err, _isinstance=isinstance, _int=int, _and=int.__and__, _str=str, _text=_text,
               _BaseException=BaseException, _write_text=_write_text):
    """CPython's handling of SystemExit at the top level: None -> 0, an int -> that code (as the OS keeps it, the low
    8 bits), anything else is printed on stderr and gives 1."""
    code = e.code
    if code is None:
        return 0
    if _isinstance(code, _int):
        return _and(code, 255)
    try:
        text = _text(_str(code))
    except _BaseException:
        text = '<unprintable exit code>'
    _write_text(err, text + '\n')
    return 1


def _run_main(source, main, err, _compile=compile, _exec=exec, _cache=linecache.cache, _len=len,
              _isinstance=isinstance, _SystemExit=SystemExit, _MemoryError=MemoryError, _BaseException=BaseException,
              _write_text=_write_text, _traceback_text=_traceback_text, _exit_code=_exit_code, _describe=_describe):
    """(status, exit code, error) of `source` run in the module `main`, as `python <file>` would end."""
    try:
        compiled = _compile(source, _SCRIPT_NAME, 'exec')
    except _BaseException as e:  # SyntaxError, a NUL byte, the parser's MemoryError or RecursionError
        _write_text(err, _traceback_text(e, None))
        return 'error', 1, _describe(e)
    _cache[_SCRIPT_NAME] = (_len(source), None, source.splitlines(True), _SCRIPT_NAME)  # source lines in tracebacks
    try:
        _exec(compiled, main.__dict__)
    except _SystemExit as e:
        return 'ok', _exit_code(e, err), None
    except _BaseException as e:
        tb = e.__traceback__
        _write_text(err, _traceback_text(e, tb.tb_next if tb is not None else None))
        return 'memory' if _isinstance(e, _MemoryError) else 'error', 1, _describe(e)
    finally:
        _cache.pop(_SCRIPT_NAME, None)
    return 'ok', 0, None


def _op_script(req, _sys=sys, _a2b=binascii.a2b_base64, _TextIOWrapper=io.TextIOWrapper, _BytesIO=io.BytesIO,
               _module=type(sys), _builtins=builtins, _str=str, _BaseException=BaseException, _stream=_stream,
               _run_main=_run_main):
    """A whole program as __main__: stdin from the request (an in-memory stream: fd 0 stays the request channel, and a
    raw read of it sees end of file), stdout on fd 1 and stderr on fd 2 (the host captures and caps both). Answer:
    output = the exit code in decimal (0; SystemExit's; 1 after an uncaught exception, its traceback on stderr),
    error = the uncaught exception's `Type: message`. Status 'error' for an uncaught exception, 'memory' for an
    uncaught MemoryError, else 'ok'. All of it is the program's to decide; the deadline and the caps are the host's."""
    out = _stream(1, 'surrogateescape', False)
    err = _stream(2, 'backslashreplace', True)
    main = _module('__main__')
    main.__builtins__ = _builtins
    saved_main, saved_argv = _sys.modules.get('__main__'), _sys.argv
    _sys.stdin = _TextIOWrapper(_BytesIO(_a2b(req['stdin'])), encoding='utf-8', errors='surrogateescape')
    _sys.stdout, _sys.stderr, _sys.argv = out, err, [_SCRIPT_NAME]
    _sys.modules['__main__'] = main
    try:
        status, code, error = _run_main(req['code'], main, err)
    finally:
        for stream in (out, err):
            try:
                stream.flush()
            except _BaseException:
                pass
        _sys.modules['__main__'], _sys.argv, _sys.stdin = saved_main, saved_argv, None
    return status, _str(code), None, error[:_SCRIPT_ERROR_CHARS] if error is not None else None, None


_OPS = {'compile': _op_compile, 'eval': _op_eval, 'call': _op_call, 'script': _op_script}


def _handle(req, _MemoryError=MemoryError, _BaseException=BaseException, _describe=_describe,
            _last_line_report=_last_line_report, _truncate=_truncate, _sys=sys, _sink=_SINK):
    op = _OPS.get(req.get('op'))
    if op is None:
        return 'invalid', None, None, 'unknown op %r' % (req.get('op'),), None
    _sys.stdout = _sys.stderr = _sink
    try:
        return op(req)
    except _OutputLimit:
        return 'output_limit', None, None, 'result repr longer than %d characters' % _OUT_CAP, None
    except _MemoryError as e:
        return 'memory', None, None, _describe(e), None
    except _BaseException as e:
        if _COMPAT:
            return 'error', None, None, _truncate(_last_line_report(e)), None
        return 'error', None, None, _describe(e), None
    finally:
        _sys.stdout, _sys.stderr = _sys.__stdout__, _sys.__stderr__


_STATUS_CODE = {name: i for i, name in enumerate(_CFG['statuses'])}


def _field(text, _enc=str.encode, _len=len, _str=str, _type=type, _isinstance=isinstance):
    """u32 length + UTF-8, or 0xffffffff for an absent field. Only C builtins bound at definition time run here."""
    if text is None:
        return b'\xff\xff\xff\xff'
    if _type(text) is not _str:
        text = _str.__str__(text) if _isinstance(text, _str) else '<unreportable>'
    data = _enc(text, 'utf-8', 'surrogatepass')
    return _len(data).to_bytes(4, 'little') + data


def _blob(data, _len=len, _bytes=bytes):
    """u32 length + the bytes, or 0xffffffff for None."""
    if data is None:
        return b'\xff\xff\xff\xff'
    data = _bytes(data)
    return _len(data).to_bytes(4, 'little') + data


def _reply(status, output, flag, error, value, _codes=_STATUS_CODE, _field=_field, _blob=_blob, _write=_WRITE,
           _bytes=bytes):
    """One write to fd 1: b'AZR1', status index, flag (0, 1, 2 = absent), output, error and value fields. Nothing in
    it is a verdict: the host judges from the value (a program that rewrites this function only changes what its own
    f appears to return, which is what it controls anyway)."""
    head = _bytes((_codes.get(status, _codes['crash']), 2 if flag is None else 1 if flag is True else 0))
    _write(1, b'AZR1' + head + _field(output) + _field(error) + _blob(value))


# ---- boot -------------------------------------------------------------------------------------------------------

# What the AZR seed programs import (docs/reference.md §3), so pristine requests do not pay for these imports every time.
_PRELOAD = ('collections', 'itertools', 'math', 'heapq', 'functools', 'typing', 'string', 'bisect', 'operator',
            'copy', 'decimal', 'fractions', 'random', 'base64', 'zlib', 'queue', 'secrets', 'traceback')

# (program, argument text): each is compiled, its arguments evaluated, and f called, as requests do.
_WARMUP = (
    ('def f(a):\n    return a', '"Hello world"'),
    ('from collections import Counter\ndef f(s: str):\n    c = Counter(s)\n'
     '    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:3]', "'mississippi'"),
    ('import math, re\ndef f(xs, k=2):\n    d = {x: math.sqrt(x) for x in xs}\n'
     '    return [re.sub(r"\\d", "#", str(v)) for v in d.values()][:k], sum(xs) // k, {1.5, -0.0}', '[1, 4, 9], k=3'),
    ('def f(n):\n    try:\n        return 1 // n\n    except ZeroDivisionError as e:\n        raise ValueError(e)', '0'),
    ('import itertools, heapq, functools\n@functools.lru_cache(None)\ndef g(n):\n    return n if n < 2 else '
     'g(n - 1) + g(n - 2)\ndef f(x):\n    h = list(itertools.permutations(x, 2))\n    heapq.heapify(h)\n'
     '    return h[:2], g(20), {"a": [1, (2, 3)], "b": {4}, "c": frozenset({b"x", 2j})}', '[3, 1, 2]'),
)


def _b64(data):
    return binascii.b2a_base64(data, newline=False).decode('ascii')


def _boot():
    for m in _PRELOAD:
        try:
            __import__(m)
        except ImportError:
            pass
    for code, text in _WARMUP:
        blob = _b64(_decode(_handle({'op': 'compile', 'code': code})[4])['code'])
        args = _handle({'op': 'eval', 'code': blob, 'text': text, 'arguments': True})[4]
        _handle({'op': 'call', 'code': blob, 'args': _b64(args)})
    _handle({'op': 'compile', 'code': 'def f(x)\n    return'})
    _handle({'op': 'script', 'code': 'import sys\nprint(input(), file=sys.stderr)\nprint(sys.stdin.read())\nraise SystemExit(1 // 0)',
             'stdin': _b64(b'1\n2\n')})
    _handle({'op': 'eval', 'text': 'dict(a=[1, 2.5], b=(None, True))', 'arguments': False})
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
