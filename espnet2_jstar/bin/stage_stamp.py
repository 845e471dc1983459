"""Stage stamps: a .done that records what ran, so that a re-run sees what changed since.

The recipe stamps every decoding (a changed one is redone), and every training and data
stage (a changed one is kept, with a warning: retraining is too costly to do unasked).

Usage:
    # 0: DIR/.done records this command and its inputs as they are now (skip the decoding);
    # 1: they differ, or there is no .done: the reason is printed (decode again)
    python -m espnet2_jstar.bin.stage_stamp check exp/jstar/decode_test -- CMD...
    # after the decoding: write DIR/.done (atomically) for CMD
    python -m espnet2_jstar.bin.stage_stamp write exp/jstar/decode_test -- CMD...
    # 0: the input files the recorded command read are unchanged (or are gone, or the .done
    # predates stamps); 1: one of them changed since (printed): the decoding is stale
    python -m espnet2_jstar.bin.stage_stamp verify exp/jstar/decode_test

A command's *signature* is what its result depends on: the module and every option, with each
file an argument names replaced by that file's md5 (``data/test/wav.scp,speech,sound`` hashes
``wav.scp``) and each experiment directory by the md5 of its model file
(:func:`~espnet2_jstar.models.model_files.find_model_file`), and another stage's output
directory by the md5 of its ``.done``. The interpreter before ``-m`` (or before a ``.py``
script) is left out (``env`` assignments are kept), and so are the values of ``--output_dir``,
``--out_dir`` and ``--nj``. So a moved or symlinked experiment, another virtual environment or
another number of jobs keeps its decodings, while another ``--slow_chunk_size``, a retrained
model or an edited decoding config redoes them.

ESPnet's own stage scripts, and icefall's, skip a stage on an empty marker whatever the
options; nothing there records or compares a stage's inputs, hence this small tool. It
imports no torch, so a check costs a Python start and the hashing (a 20 MB model: ~50 ms).
"""

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from espnet2_jstar.models.model_files import find_model_file

DONE = ".done"
OUTPUT_OPTIONS = ("--output_dir", "--out_dir")   # where the result goes, not what it is
JOBS_OPTIONS = ("--nj",)   # parallel jobs: the same result
# the separators of ESPnet's compound arguments (path,name,type; FILE:src:dst; key=FILE),
# kept in the split (a capturing group) so that the argument can be joined back
FIELDS = re.compile(r"([,:=])")


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_path(segment: str) -> bool:
    return bool(segment) and ("/" in segment or "." in segment) and Path(segment).is_file()


def _input_token(arg: str) -> str:
    """``arg`` with each file it names replaced by ``md5:<hex>``; an experiment directory by
    ``model:<hex>``, the md5 of its model file; another stage's output directory by
    ``done:<hex>``, the md5 of its ``.done`` (so a stage made again upstream shows).

    A file may also be one field of an ESPnet argument: ``data/test/wav.scp,speech,sound``,
    ``exp/asr/valid.loss.ave.pth:encoder:encoder`` (``--init_param``) or
    ``stats_file=exp/stats/feats_stats.npz``.
    """
    folder = Path(arg)
    if arg and folder.is_dir():
        if (folder / "config.yaml").is_file():   # an ESPnet experiment
            try:
                return f"model:{_md5(find_model_file(folder))}"
            except FileNotFoundError:
                return arg
        if (folder / DONE).is_file():   # a stage's output (data/dry): what its .done records
            return f"done:{_md5(folder / DONE)}"
        return arg
    parts = FIELDS.split(arg)
    for i in range(0, len(parts), 2):
        if _is_path(parts[i]):
            parts[i] = f"md5:{_md5(Path(parts[i]))}"
    return "".join(parts)


def _hashed(token: str) -> bool:
    return token.startswith(("model:", "done:")) or "md5:" in token


def _shown_path(arg: str) -> str:
    """The first file named in ``arg`` (or ``arg`` itself: a directory)."""
    return next((s for s in FIELDS.split(arg) if _is_path(s)), arg)


def signature(cmd: Sequence[str]) -> List[str]:
    """The tokens a command's result depends on (see the module docstring).

    Args:
        cmd: The command line, e.g. ``[python, "-m", "espnet2_jstar.bin.jstar_inference", ...]``,
            ``["env", "OMP_NUM_THREADS=1", python, "-m", ...]`` or ``[python, "local/x.py", ...]``
            (a script is hashed like any file it names).
    """
    cmd = list(cmd)
    start = next((i for i, t in enumerate(cmd) if t == "-m" or t.endswith(".py")), None)
    if start is not None:   # the interpreter (and env) left out, VAR=value kept
        cmd = [t for t in cmd[:start] if "=" in t and not t.startswith("-")] + cmd[start:]
    out: List[str] = []
    for j, tok in enumerate(cmd):
        before = cmd[j - 1] if j else ""
        if before in OUTPUT_OPTIONS:
            out.append("<output>")
        elif before in JOBS_OPTIONS:
            out.append("<jobs>")
        else:
            out.append(_input_token(tok))
    return out


def _options(tokens: Sequence[str]) -> Tuple[Tuple[str, ...], Dict[str, str]]:
    """(the tokens before the first option, {option: value(s)}) of a command line."""
    head: List[str] = []
    opts: Dict[str, List[str]] = {}
    j = 0
    while j < len(tokens) and not tokens[j].startswith("--"):
        head.append(tokens[j])
        j += 1
    while j < len(tokens):   # an option takes every value up to the next option
        name, j = tokens[j], j + 1
        values = opts.setdefault(name, [])
        while j < len(tokens) and not tokens[j].startswith("--"):
            values.append(tokens[j])
            j += 1
    return tuple(head), {k: " ".join(v) for k, v in opts.items()}


def explain(old_cmd: Sequence[str], old_sig: Sequence[str], cmd: Sequence[str],
            sig: Sequence[str]) -> str:
    """Why two signatures differ, option by option (``--slow_chunk_size: 16 -> 8``)."""
    old_head, old_opts = _options(old_sig)
    head, opts = _options(sig)
    _, old_shown = _options(old_cmd)
    _, shown = _options(cmd)
    reasons = []
    if old_head != head:
        reasons.append("another program or environment")
    for name in list(opts) + [n for n in old_opts if n not in opts]:
        if name not in old_opts:
            reasons.append(" ".join(filter(None, (name, shown[name], "added"))))
        elif name not in opts:
            reasons.append(" ".join(filter(None, (name, old_shown.get(name, old_opts[name]),
                                                  "removed"))))
        elif opts[name] != old_opts[name]:
            before, now = old_shown.get(name, old_opts[name]), shown[name]
            if before == now:   # same path, other contents
                reasons.append(f"{name} {now}: its contents changed")
            else:
                reasons.append(f"{name}: {before} -> {now}")
    return "; ".join(reasons) or "the command changed"


def read_done(directory: Path) -> Tuple[Optional[dict], str]:
    """(the recorded stamp, "") or (None, why there is none)."""
    done = directory / DONE
    if not done.is_file():
        return None, f"no {DONE} (not run yet, or interrupted)"
    text = done.read_text(encoding="utf-8").strip()
    if not text:
        return None, f"{DONE} records no command (written before stamps)"
    try:
        stamp = json.loads(text)
        if not (isinstance(stamp, dict) and all(
                isinstance(stamp.get(k), list) and all(isinstance(t, str) for t in stamp[k])
                for k in ("command", "signature"))):
            raise ValueError("no command and signature, as lists of strings")
    except ValueError as e:
        return None, f"{done}: unreadable stamp ({e})"
    return stamp, ""


def check(directory: Path, cmd: Sequence[str]) -> Tuple[bool, str]:
    """(True, "") if ``directory/.done`` records ``cmd`` with its inputs as they are now."""
    stamp, why = read_done(directory)
    if stamp is None:
        return False, why
    sig = signature(cmd)
    if stamp["signature"] == sig:
        return True, ""
    return False, "changed since: " + explain(stamp["command"], stamp["signature"], cmd, sig)


def write(directory: Path, cmd: Sequence[str]) -> None:
    """Write ``directory/.done`` for ``cmd`` (to a temporary name, then renamed)."""
    stamp = {"command": list(cmd), "signature": signature(cmd)}
    tmp = directory / f"{DONE}.tmp"
    tmp.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, directory / DONE)


def verify(directory: Path) -> Tuple[bool, str]:
    """(False, why) if an input file the recorded command read has changed since.

    Files are compared at the paths the recorded command read them from, and only those
    still there: a moved experiment verifies, and so does a ``.done`` without a stamp.
    """
    stamp, _ = read_done(directory)
    if stamp is None:
        return True, ""
    cmd, old = stamp["command"], stamp["signature"]
    now = signature(cmd)
    if len(now) != len(old):
        return True, ""
    changed = [i for i, (a, b) in enumerate(zip(old, now)) if a != b and _hashed(a) and _hashed(b)]
    if not changed:
        return True, ""
    offset = len(cmd) - len(now)   # the interpreter tokens the signature leaves out
    return False, "inputs changed since it was decoded: " + ", ".join(
        _shown_path(cmd[i + offset]) for i in changed)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["check", "write", "verify"])
    p.add_argument("directory", type=Path)
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD... (check, write)")
    args = p.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if args.action != "verify" and not cmd:
        p.error(f"{args.action} needs the command: {args.action} DIR -- CMD...")
    if args.action == "write" and not args.directory.is_dir():
        p.error(f"{args.directory}: no such directory")
    try:   # exit 1 means "changed": any other failure must not read as that
        if args.action == "write":
            write(args.directory, cmd)
            return 0
        ok, why = verify(args.directory) if args.action == "verify" else check(args.directory, cmd)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"stage_stamp {args.action} {args.directory}: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 2
    if not ok:
        print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
