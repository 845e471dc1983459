"""Cardinal numbers 0–999 as words, English and Spanish (with Spanish gender agreement).

Usage:
    python -c "from espnet2_jstar.data.numbers import en_number, es_number; \
print(en_number(21), '|', es_number(21, 'f'))"
"""

from __future__ import annotations

_EN_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
             "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ES_UNITS = ("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce "
             "quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós "
             "veintitrés veinticuatro veinticinco veintiséis veintisiete veintiocho "
             "veintinueve").split()
_ES_TENS = "_ _ _ treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = ("_ ciento doscientos trescientos cuatrocientos quinientos seiscientos "
                "setecientos ochocientos novecientos").split()


def en_number(n: int) -> str:
    """``21`` → ``twenty one`` (no hyphens)."""
    if not 0 <= n < 1000:
        raise ValueError(f"number out of range 0..999: {n}")
    if n >= 100:
        rest = n % 100
        return f"{_EN_UNITS[n // 100]} hundred" + (f" {en_number(rest)}" if rest else "")
    if n < 20:
        return _EN_UNITS[n]
    return _EN_TENS[n // 10] + (f" {_EN_UNITS[n % 10]}" if n % 10 else "")


def es_number(n: int, gender: str = "m", before_noun: bool = True) -> str:
    """Spanish cardinal; ``uno`` becomes ``un``/``una`` before a noun (``veintiún``...)."""
    if not 0 <= n < 1000:
        raise ValueError(f"number out of range 0..999: {n}")
    if n >= 100:
        rest = n % 100
        head = "cien" if n == 100 else _ES_HUNDREDS[n // 100]
        if gender == "f" and n // 100 > 1:
            head = head[:-2] + "as"
        return head + (f" {es_number(rest, gender, before_noun)}" if rest else "")
    if n < 30:
        word = _ES_UNITS[n]
    else:
        word = _ES_TENS[n // 10] + (f" y {_ES_UNITS[n % 10]}" if n % 10 else "")
    if word.endswith("uno") and before_noun:
        word = word[:-1] if gender == "m" else word[:-1] + "a"
        if word.endswith("veintiun"):
            word = "veintiún"
    elif word.endswith("uno") and gender == "f":
        word = word[:-1] + "a"
    return word
