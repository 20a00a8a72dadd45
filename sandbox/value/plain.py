# Plain-value codec, guest side: the byte format of sandbox/value/README.md (version 1), the twin of codec.ts.
# Written to be embedded in the driver: everything it calls is bound when `_plain_codec()` runs, before any
# untrusted code, so rebinding builtins (or the struct module) later cannot change what it does. Only exact
# types are plain (`type(v) is int`; bool has its own tag); it never runs code of the value it encodes.


def _plain_codec():
    import struct

    _type, _id, _len, _int, _bytes, _bytearray, _memoryview = type, id, len, int, bytes, bytearray, memoryview
    _bool, _float, _complex, _str, _range = bool, float, complex, str, range
    _set, _frozenset, _dict, _list, _tuple = set, frozenset, dict, list, tuple
    _TypeError, _ValueError, _RecursionError, _UnicodeError = TypeError, ValueError, RecursionError, UnicodeError
    _int_repr, _str_encode, _bytes_decode, _bytes_find = int.__repr__, str.encode, bytes.decode, bytes.find
    _bytes_isdigit = bytes.isdigit
    _type_name = type.__dict__['__name__'].__get__  # not t.__name__: a metaclass could run code there
    _pack_f64, _unpack_f64 = struct.Struct('>d').pack, struct.Struct('>d').unpack_from
    _pack_u32, _unpack_u32 = struct.Struct('>I').pack, struct.Struct('>I').unpack_from

    MAX_DEPTH, MAX_VALUES, MAX_BYTES, MAX_DIGITS = 100, 1_000_000, 16 * 1024 * 1024, 4300

    class NotPlain(Exception):
        """The value is not plain data, or is over the caps: not comparable."""

    class BadPlain(Exception):
        """The bytes are not one well-formed plain value."""

    def lone_pair(b):
        """True if well-formed UTF-8 (surrogatepass) `b` has a lone high surrogate right before a lone low one."""
        i = _bytes_find(b, b'\xed')
        while i >= 0:
            if 0xa0 <= b[i + 1] <= 0xaf and b[i + 3:i + 4] == b'\xed' and 0xb0 <= b[i + 4] <= 0xbf:
                return True
            i = _bytes_find(b, b'\xed', i + 3)
        return False

    def encode(value):
        out = _bytearray()
        put, add = out.extend, out.append
        count = [0]
        active = {}  # ids of the containers being encoded: a repeat is a cycle

        def raw(b):
            if _len(b) > MAX_BYTES - _len(out):
                raise NotPlain('more than %d bytes' % MAX_BYTES)
            put(_pack_u32(_len(b)))
            put(b)

        def enc(v, depth):
            count[0] += 1
            if count[0] > MAX_VALUES:
                raise NotPlain('more than %d values' % MAX_VALUES)
            t = _type(v)
            if v is None:
                add(0x4e)
            elif t is _bool:
                add(0x54 if v else 0x46)
            elif t is _int:
                try:
                    s = _int_repr(v)
                except _ValueError:
                    raise NotPlain('an int over the decimal digit limit') from None
                if _len(s) - (s[0] == '-') > MAX_DIGITS:
                    raise NotPlain('an int over %d digits' % MAX_DIGITS)
                add(0x69)
                put(_str_encode(s, 'ascii'))
                add(0x3b)
            elif t is _float:
                add(0x66)
                put(_pack_f64(v))
            elif t is _complex:
                add(0x63)
                put(_pack_f64(v.real))
                put(_pack_f64(v.imag))
            elif t is _str:
                if _len(v) > MAX_BYTES - _len(out):  # every code point takes a byte at least: refuse before encoding
                    raise NotPlain('more than %d bytes' % MAX_BYTES)
                b = _str_encode(v, 'utf-8', 'surrogatepass')
                if _len(b) != _len(v) and lone_pair(b):
                    raise NotPlain('a str with a lone high surrogate before a lone low one')
                add(0x73)
                raw(b)
            elif t is _bytes:
                add(0x62)
                raw(v)
            elif t is _list or t is _tuple or t is _set or t is _frozenset or t is _dict:
                if depth >= MAX_DEPTH:
                    raise NotPlain('containers nested deeper than %d' % MAX_DEPTH)
                i = _id(v)
                if i in active:
                    raise NotPlain('a cycle')
                active[i] = True
                if t is _dict:
                    add(0x64)
                    put(_pack_u32(_len(v)))
                    for k, x in v.items():
                        enc(k, depth + 1)
                        enc(x, depth + 1)
                else:
                    add(0x6c if t is _list else 0x74 if t is _tuple else 0x53 if t is _set else 0x5a)
                    put(_pack_u32(_len(v)))
                    for x in v:
                        enc(x, depth + 1)
                del active[i]
                if _len(out) > MAX_BYTES:
                    raise NotPlain('more than %d bytes' % MAX_BYTES)
            else:
                raise NotPlain('not plain data: %s' % _type_name(t))

        try:
            enc(value, 0)
        except _RecursionError:
            raise NotPlain('too deep for the recursion limit') from None
        if _len(out) > MAX_BYTES:
            raise NotPlain('more than %d bytes' % MAX_BYTES)
        return _bytes(out)

    def decode(data):
        b = _bytes(data)
        n = _len(b)
        if n > MAX_BYTES:
            raise BadPlain('more than %d bytes' % MAX_BYTES)
        st = [0, 0]  # position, values

        def need(k):
            if n - st[0] < k:
                raise BadPlain('truncated at byte %d' % st[0])

        def u32():
            need(4)
            v = _unpack_u32(b, st[0])[0]
            st[0] += 4
            return v

        def f64():
            need(8)
            v = _unpack_f64(b, st[0])[0]
            st[0] += 8
            return v

        def chunk():
            k = u32()
            if k > n - st[0]:
                raise BadPlain('a length past the end at byte %d' % (st[0] - 4))
            s = b[st[0]:st[0] + k]
            st[0] += k
            return s

        def count(depth, per):
            if depth >= MAX_DEPTH:
                raise BadPlain('containers nested deeper than %d' % MAX_DEPTH)
            k = u32()
            if k * per > n - st[0]:
                raise BadPlain('a count past the end at byte %d' % (st[0] - 4))
            return k

        def dec(depth):
            at = st[0]
            if at >= n:
                raise BadPlain('truncated at byte %d' % at)
            st[1] += 1
            if st[1] > MAX_VALUES:
                raise BadPlain('more than %d values' % MAX_VALUES)
            tag = b[at]
            st[0] = at + 1
            if tag == 0x4e:
                return None
            if tag == 0x54:
                return True
            if tag == 0x46:
                return False
            if tag == 0x69:
                end = _bytes_find(b, b';', at + 1)
                if end < 0:
                    raise BadPlain('an int without its ; at byte %d' % at)
                s = b[at + 1:end]
                digits = s[1:] if s[:1] == b'-' else s
                if (not digits or _len(digits) > MAX_DIGITS or not _bytes_isdigit(digits)
                        or (digits[0] == 0x30 and _len(s) > 1)):
                    raise BadPlain('a malformed int at byte %d' % at)
                st[0] = end + 1
                try:
                    return _int(s)
                except _ValueError:
                    raise BadPlain('an int over the decimal digit limit at byte %d' % at) from None
            if tag == 0x66:
                return f64()
            if tag == 0x63:
                re = f64()
                return _complex(re, f64())
            if tag == 0x73:
                s = chunk()
                try:
                    v = _bytes_decode(s, 'utf-8', 'surrogatepass')
                except _UnicodeError:
                    raise BadPlain('bad UTF-8 at byte %d' % at) from None
                if _len(s) != _len(v) and lone_pair(s):
                    raise BadPlain('a lone high surrogate before a lone low one at byte %d' % at)
                return v
            if tag == 0x62:
                return chunk()
            if tag == 0x6c or tag == 0x74:
                items = [dec(depth + 1) for _ in _range(count(depth, 1))]
                return items if tag == 0x6c else _tuple(items)
            if tag == 0x53 or tag == 0x5a:
                k = count(depth, 1)
                items = [dec(depth + 1) for _ in _range(k)]
                try:
                    s = _set(items) if tag == 0x53 else _frozenset(items)
                except _TypeError:
                    raise BadPlain('an unhashable member at byte %d' % at) from None
                if _len(s) != k:
                    raise BadPlain('duplicate members at byte %d' % at)
                return s
            if tag == 0x64:
                k = count(depth, 2)
                d = {}
                for _ in _range(k):
                    key = dec(depth + 1)
                    try:
                        d[key] = dec(depth + 1)
                    except _TypeError:
                        raise BadPlain('an unhashable key at byte %d' % at) from None
                if _len(d) != k:
                    raise BadPlain('duplicate keys at byte %d' % at)
                return d
            raise BadPlain('unknown tag 0x%02x at byte %d' % (tag, at))

        try:
            v = dec(0)
        except _RecursionError:
            raise BadPlain('too deep for the recursion limit') from None
        if st[0] != n:
            raise BadPlain('%d trailing bytes' % (n - st[0]))
        return v

    return encode, decode, NotPlain, BadPlain


_encode, _decode, _NotPlain, _BadPlain = _plain_codec()
del _plain_codec
