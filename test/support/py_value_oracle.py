# Native CPython as the reference for sandbox/value/: reads JSON lines on stdin, answers one JSON line each.
# Values travel as hex of the plain-value format, decoded with sandbox/value/plain.py (each nan its own object,
# so CPython's identity shortcut never applies). Ops:
#   eq    {a, b}        -> {r: a == b}
#   repr  {v}           -> {r: repr(v), v: encoding of v in this interpreter's set order}
#   rt    {v}           -> {v: _encode(_decode(v))} or {err}
#   lit   {text}        -> ast.literal_eval: {v, r} | {err: ExceptionType} | {notplain: true}
#   reval {text}        -> eval of a genuine repr with nan/inf/nanj/infj/frozenset bound, each nan or nanj a new
#                          object (as the host reads it), so {nanj, nanj} keeps both: {v} | {err}
#   args  {text}        -> eval of f(<text>) with f collecting its arguments: {args: [...], kwargs: [[k, v]]} | {err}
#   gen   {seed, n}     -> {vals: [{v, r}]}: values built here, for the Python → host direction
#   unicode {}          -> {version, unprintable: [[a, b]...], unassigned: [[a, b]...]} of this interpreter
import ast
import json
import random
import sys
import unicodedata
import warnings

warnings.simplefilter('ignore')  # invalid escape sequences warn; literal_eval still answers
sys.setrecursionlimit(10000)
exec(open(sys.argv[1]).read())  # _encode, _decode, _NotPlain, _BadPlain

nan, inf = float('nan'), float('inf')
REPR_NAMES = {'__builtins__': {}, 'inf': inf, 'infj': complex(0, inf), 'frozenset': frozenset, 'set': set,
              '_nan': lambda: float('nan'), '_nanj': lambda: complex(0, float('nan'))}


class _FreshNans(ast.NodeTransformer):
    """`nan` / `nanj` in a repr become calls: one shared object would let a set's identity shortcut merge them."""

    def visit_Name(self, node):
        if node.id in ('nan', 'nanj'):
            return ast.copy_location(ast.Call(ast.Name('_' + node.id, ast.Load()), [], []), node)
        return node


def eval_repr(text):
    tree = ast.fix_missing_locations(_FreshNans().visit(ast.parse(text, mode='eval')))
    return eval(compile(tree, '<repr>', 'eval'), dict(REPR_NAMES))


def enc(v):
    return _encode(v).hex()


def dec(h):
    return _decode(bytes.fromhex(h))


def collect(*args, **kwargs):
    return args, kwargs


def gen_str(r):
    out = ''
    for _ in range(r.randint(0, 5)):
        c = r.choice([r.randint(32, 126), r.randint(0, 0x10ffff), r.randint(0xd800, 0xdfff)])
        if 0xdc00 <= c <= 0xdfff and out and 0xd800 <= ord(out[-1]) <= 0xdbff:
            continue  # a lone high surrogate before a lone low one is not comparable
        out += chr(c)
    return out


def gen_value(r, depth):
    k = r.random()
    if depth > 3 or k < 0.55:
        return r.choice([
            lambda: None, lambda: True, lambda: False,
            lambda: r.choice([0, 1, -1, 2 ** 53 + 1, -(2 ** 64), 10 ** 30]) + r.randint(-3, 3),
            lambda: r.choice([0.0, -0.0, 1.0, 0.1, nan, inf, -inf, 1e16, 1e-5, 5e-324, 2.0 ** 53]),
            lambda: r.uniform(-1e6, 1e6) * 10 ** r.randint(-30, 30),
            lambda: complex(r.choice([0.0, -0.0, 1.5, nan]), r.choice([0.0, -0.0, 2.0, -inf])),
            lambda: gen_str(r),
            lambda: bytes(r.randint(0, 255) for _ in range(r.randint(0, 5))),
        ])()
    n = r.randint(0, 4)
    kind = r.randrange(5)
    if kind == 0:
        return [gen_value(r, depth + 1) for _ in range(n)]
    if kind == 1:
        return tuple(gen_value(r, depth + 1) for _ in range(n))
    members = [gen_value(r, 9) for _ in range(n)]
    if kind == 2:
        return set(members)
    if kind == 3:
        return frozenset(members)
    return {m: gen_value(r, depth + 1) for m in members}


def answer(q):
    op = q['op']
    if op == 'eq':
        return {'r': dec(q['a']) == dec(q['b'])}
    if op == 'repr':
        v = dec(q['v'])
        return {'r': repr(v), 'v': enc(v)}
    if op == 'rt':
        try:
            return {'v': enc(dec(q['v']))}
        except (_BadPlain, _NotPlain) as e:
            return {'err': str(e)}
    if op == 'lit':
        try:
            v = ast.literal_eval(q['text'])
        except Exception as e:  # SyntaxError, ValueError, TypeError, MemoryError, RecursionError, OverflowError
            return {'err': type(e).__name__}
        try:
            return {'v': enc(v), 'r': repr(v)}
        except _NotPlain:
            return {'notplain': True}
    if op == 'reval':
        try:
            return {'v': enc(eval_repr(q['text']))}
        except Exception as e:
            return {'err': type(e).__name__}
    if op == 'args':
        try:
            args, kwargs = eval('_f(' + q['text'] + ')', {'__builtins__': {}, 'set': set, '_f': collect})
            return {'args': [enc(a) for a in args], 'kwargs': [[k, enc(v)] for k, v in kwargs.items()]}
        except Exception as e:
            return {'err': type(e).__name__}
    if op == 'gen':
        r = random.Random(q['seed'])
        vals = []
        for _ in range(q['n']):
            v = gen_value(r, 0)
            vals.append({'v': enc(v), 'r': repr(v)})
        return {'vals': vals}
    if op == 'unicode':
        return {'version': unicodedata.unidata_version,
                'unprintable': runs(lambda c: not c.isprintable()),
                'unassigned': runs(lambda c: unicodedata.category(c) == 'Cn')}
    raise ValueError('unknown op %r' % op)


def runs(pred):
    out, start = [], None
    for cp in range(0x110000):
        if pred(chr(cp)):
            if start is None:
                start = cp
        elif start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, 0x10ffff])
    return out


for line in sys.stdin:
    print(json.dumps(answer(json.loads(line))))
