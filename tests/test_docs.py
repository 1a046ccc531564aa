"""The docs run: every chapter in docs/ is executed as one program, so every number it shows was
produced by the code next to it.

A chapter mixes two kinds of code block, run in the order they appear, in ONE namespace per file:

* ```python blocks: code. What it must produce is stated with ``assert``.
* ```pycon blocks: an interactive session (``>>>`` lines and the output they print), checked as
  a doctest against that same namespace.

Each chapter runs in a fresh Python process whose working directory is a temporary folder (a
chapter may write files there: a graph picture, a saved model), with one OpenMP and one OpenBLAS
thread, so that a training run stays fast on a busy machine. The program is written to
``<tmp>/<chapter>.md.py`` with every python line at its line number in the chapter, so a
traceback's line numbers point into the Markdown file.

Printed numbers are compared to the precision a reader needs, not to the last bit. minigrad's own
kernels give the same bits for any thread count, but NumPy's BLAS does not promise that across
CPUs and builds (OpenBLAS picks other kernels on a Haswell than on a SkylakeX, and rounds
differently), and a few rounding differences grow over a training run. So the pycon checker
(:class:`NumberChecker`) works as pytest's ``NUMBER`` doctest option does: a number in the expected
output with a fraction or an exponent matches any printed number within one unit of its last
written digit (``0.25`` matches ``0.2531``). A block whose numbers come out of a training run
says how close they must be, with a Markdown comment on the line before its fence, which the
rendered page does not show::

    <!-- doctest: rtol=0.1 -->

(then a number also matches within 10% of its value). The text around the numbers, and every
integer, must match exactly. A block that needs an optional package says so the same way,
``<!-- doctest: requires=h5py -->``: without it, that block is skipped (the program prints so),
and the chapter's other blocks run.

pytest's own ``--doctest-glob='*.md'`` does not collect docs/*.md (docs/conftest.py ignores them):
their pycon examples use names that the python blocks define, which only this runner provides.

Run one chapter by hand: ``python tests/test_docs.py docs/00_scalar_autograd.md``. The pictures in
docs/images were written by the chapters' code: ``python tests/test_docs.py --workdir /tmp/pics
docs/01_tensors_and_broadcasting.md`` remakes linear_graph.svg in /tmp/pics (with graphviz
installed), chapter 4 remakes curves.png (mnist_curves_small.png, with matplotlib installed).
"""
import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TESTS = Path(__file__).resolve().parent
CHAPTERS = sorted(p.name for p in DOCS.glob("*.md"))
FENCE = re.compile(r"^```\s*([\w-]*)\s*$")
TOLERANCE = re.compile(r"^<!--\s*doctest:\s*rtol=([0-9.eE+-]+)\s*-->\s*$")
REQUIRES = re.compile(r"^<!--\s*doctest:\s*requires=([\w.,\s]+?)\s*-->\s*$")
# a number with a fraction or an exponent (not a name, not an integer, not a version "1.2.3")
FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?(?![\w.])")
RUN_LANGS = ("python", "pycon")
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def code_blocks(path):
    """The fenced blocks of a Markdown file: ``(lang, first_line, last_line)``, 1-based and
    inclusive, of the lines *between* the fences."""
    blocks, open_at, lang = [], None, None
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        m = FENCE.match(line)
        if m is None:
            continue
        if open_at is None:
            open_at, lang = number, m.group(1).lower()
        else:
            blocks.append((lang, open_at + 1, number - 1))
            open_at = None
    if open_at is not None:
        raise ValueError(f"{path}: the code block opened at line {open_at} is never closed")
    return blocks


def block_options(lines, fence_line):
    """The options that ``<!-- doctest: ... -->`` comments on the lines just above the fence at
    ``fence_line`` (1-based) set for that block: ``(rtol, missing)``, the number tolerance (0
    without one) and the optional packages a ``requires=`` comment names that this Python lacks."""
    import importlib.util

    rtol, missing, above = 0.0, [], fence_line - 2
    while above >= 0 and lines[above].strip().startswith("<!-- doctest:"):
        comment = lines[above].strip()
        m = TOLERANCE.match(comment)
        if m:
            rtol = float(m.group(1))
        m = REQUIRES.match(comment)
        if m:
            missing += [n.strip() for n in m.group(1).split(",")
                        if n.strip() and importlib.util.find_spec(n.strip()) is None]
        above -= 1
    return rtol, missing


def chapter_program(path):
    """The chapter as a Python program, line for line: python blocks verbatim, each pycon block
    a call of :func:`run_pycon` on its opening fence's line, everything else blank."""
    path = Path(path).resolve()
    lines = path.read_text().splitlines()
    out = [""] * len(lines)
    if FENCE.match(lines[0]):
        raise ValueError(f"{path}: a chapter starts with its title, not with a code block")
    out[0] = (f"import sys as _sys; _sys.path.insert(0, {str(TESTS)!r}); "
              f"from test_docs import run_pycon as _run_pycon")
    for lang, first, last in code_blocks(path):
        rtol, missing = block_options(lines, first - 1)
        if missing and lang in RUN_LANGS:  # an optional package is not here: say so, run the rest
            note = f"(skipped the block at line {first}: it needs {', '.join(missing)})"
            out[first - 2] = f"print({note!r})"
        elif lang == "python":
            out[first - 1:last] = lines[first - 1:last]
        elif lang == "pycon":
            out[first - 2] = f"_run_pycon(globals(), {str(path)!r}, {first}, {last}, rtol={rtol!r})"
    return "\n".join(out) + "\n"


class NumberChecker(doctest.OutputChecker):
    """doctest's checker, but a printed float matches the expected one to the precision written
    (pytest's ``NUMBER``: within one unit of the last written digit) or within ``rtol`` of it.

    ``align(want, got)`` rewrites each number of ``got`` that is close enough to its partner in
    ``want`` as that partner; then the texts are compared as doctest always does (ELLIPSIS and
    all). When the two outputs hold different counts of numbers, nothing is rewritten.
    """

    def __init__(self, rtol=0.0):
        super().__init__()
        self.rtol = rtol

    def close(self, expected_text, printed_text):
        fraction, _, exponent = expected_text.lower().lstrip("+-").partition("e")
        precision = len(fraction.partition(".")[2]) - int(exponent or 0)
        expected, printed = float(expected_text), float(printed_text)
        return abs(printed - expected) <= max(10.0 ** -precision, self.rtol * abs(expected))

    def align(self, want, got):
        wants, gots = list(FLOAT.finditer(want)), list(FLOAT.finditer(got))
        if len(wants) != len(gots):
            return got
        pieces, end = [], 0
        for w, g in zip(wants, gots):
            pieces += [got[end:g.start()], w.group() if self.close(w.group(), g.group()) else g.group()]
            end = g.end()
        return "".join(pieces) + got[end:]

    def check_output(self, want, got, optionflags):
        return (super().check_output(want, got, optionflags)
                or super().check_output(want, self.align(want, got), optionflags))


def run_pycon(namespace, path, first, last, rtol=0.0):
    """Check lines ``first..last`` of ``path`` as a doctest in ``namespace`` (names it defines
    stay there for the code after it), numbers compared by :class:`NumberChecker` with ``rtol``.
    Exits the program with the doctest report on a failure."""
    lines = Path(path).read_text().splitlines()[first - 1:last]
    test = doctest.DocTestParser().get_doctest("\n".join(lines) + "\n", namespace,
                                               f"{Path(path).name}:{first}", str(path), first - 1)
    report = []
    runner = doctest.DocTestRunner(checker=NumberChecker(rtol), optionflags=OPTIONFLAGS)
    result = runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # DocTest ran on a copy of the namespace
    if result.failed:
        sys.stderr.write("".join(report))
        raise SystemExit(f"{Path(path).name}: {result.failed} failed example(s) in the pycon block "
                         f"at line {first}")


def run_chapter(path, workdir, timeout=300):
    """Run a chapter as a program in ``workdir``; returns the CompletedProcess."""
    program = Path(workdir) / (Path(path).name + ".py")
    program.write_text(chapter_program(path))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(program)], cwd=workdir, env=env, timeout=timeout,
                          capture_output=True, text=True)


# -- the runner itself ------------------------------------------------------------------------

def test_runner_shares_one_namespace_in_order_and_catches_wrong_output(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n```python\nx = 20\n```\n\n```pycon\n>>> y = x + 1\n>>> y * 2\n42\n\n```\n"
                    "\n```python\nassert y == 21\n```\n\n```text\nnot run\n```\n")
    assert run_chapter(page, tmp_path).returncode == 0
    page.write_text("# A page\n\n```python\nx = 20\n```\n\n```pycon\n>>> x + 1\n22\n\n```\n")
    result = run_chapter(page, tmp_path)
    assert result.returncode != 0
    assert "page.md:8" in result.stderr and "Expected:" in result.stderr and "21" in result.stderr


def test_runner_reports_errors_at_the_chapters_line_number(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\nText.\n\n```python\nx = 1\nassert x == 2, 'x is not 2'\n```\n")
    result = run_chapter(page, tmp_path)
    assert result.returncode != 0
    assert "page.md.py\", line 7" in result.stderr and "x is not 2" in result.stderr


def test_numbers_match_to_the_written_precision_and_text_exactly():
    check = lambda want, got, rtol=0.0: NumberChecker(rtol).check_output(want, got, OPTIONFLAGS)
    assert check("loss: 0.25 - acc: 0.9\n", "loss: 0.2531 - acc: 0.8999\n")
    assert not check("loss: 0.25\n", "loss: 0.2631\n")            # two units off at 2 decimals
    assert not check("loss: 0.25\n", "lost: 0.25\n")              # the text is exact
    assert not check("[7, 2, 1]\n", "[7, 2, 4]\n")                  # so is every integer
    assert check("1e-05\n", "1.2e-05\n") and not check("1e-05\n", "3e-05\n")
    assert check("(0.8181, 0.78)\n", "(0.8119, 0.7793)\n", rtol=0.01)
    assert not check("(0.8181, 0.78)\n", "(0.9119, 0.78)\n", rtol=0.1)
    assert check("a - ... - loss: 1.9985\n", "a - 1s 39ms/step - loss: 1.9978\n", rtol=0.01)
    assert not check("loss: 1.9985\n", "loss: 1.9978\n")           # no rtol: 7 units off


def test_a_comment_before_the_fence_sets_the_blocks_tolerance(tmp_path):
    page = tmp_path / "page.md"
    body = "```pycon\n>>> 1.0 + 0.04\n1.00\n\n```\n"
    page.write_text("# A page\n\n" + body)
    assert run_chapter(page, tmp_path).returncode != 0
    page.write_text("# A page\n\n<!-- doctest: rtol=0.05 -->\n" + body)
    assert run_chapter(page, tmp_path).returncode == 0


# -- the chapters ------------------------------------------------------------------------------

def test_there_are_chapters_and_each_has_code_and_exercises():
    assert "00_scalar_autograd.md" in CHAPTERS and "write_your_own_op.md" in CHAPTERS
    for name in CHAPTERS:
        if name == "README.md":
            continue
        text = (DOCS / name).read_text()
        assert any(lang in RUN_LANGS for lang, _, _ in code_blocks(DOCS / name)), name
        assert "## Exercises" in text, f"{name} has no exercises"


def test_the_index_links_every_chapter():
    index = (DOCS / "README.md").read_text()
    for name in CHAPTERS:
        if name != "README.md":
            assert f"({name})" in index, f"docs/README.md does not link {name}"


def test_every_picture_and_page_the_docs_link_to_exists():
    for name in CHAPTERS:
        for target in re.findall(r"\]\(([^)#:]+)\)", (DOCS / name).read_text()):
            path = DOCS / target
            assert path.is_file(), f"docs/{name} links to {target}, which does not exist"
            if target.startswith("images/"):
                head = path.read_bytes()[:200]
                assert head.startswith(b"\x89PNG") or head.lstrip().startswith((b"<?xml", b"<svg")), target


def test_a_block_that_needs_a_missing_package_is_skipped_and_the_rest_runs(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n```python\nx = 1\n```\n\n<!-- doctest: requires=no_such_pkg -->\n"
                    "```python\nimport no_such_pkg\n```\n\n<!-- doctest: requires=numpy -->\n"
                    "<!-- doctest: rtol=0.5 -->\n```pycon\n>>> x + 0.4\n1.0\n\n```\n")
    result = run_chapter(page, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skipped the block at line 9: it needs no_such_pkg" in result.stdout


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_runs(name, tmp_path):
    result = run_chapter(DOCS / name, tmp_path)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"


KERNELS = ROOT / "minigrad" / "backend" / "kernels"
CHAPTER_2 = DOCS / "02_convolution_to_cython.md"


def _kernel_sources():
    """depthwise.pyx, depthwise_simd.pxd and the C headers they include: {name: text}."""
    paths = [KERNELS / "depthwise.pyx", KERNELS / "depthwise_simd.pxd",
             *sorted((KERNELS / "include").glob("*.h"))]
    return {path.name: path.read_text() for path in paths}


@pytest.mark.parametrize("lang, files", [
    ("cython", ("depthwise.pyx", "depthwise_simd.pxd")),
    ("c", ("depthwise_simd.h",)),
])
def test_cython_and_c_excerpts_are_still_in_the_kernel(lang, files):
    """Chapter 2 quotes depthwise.pyx (and depthwise_simd.pxd, which it cimports) in ```cython
    blocks and include/depthwise_simd.h in ```c blocks: every quoted line must still be there, up
    to a trailing comment (``...`` lines and ``name(...)`` calls stand for what is left out)."""
    sources = _kernel_sources()
    source = {line.strip() for name in files for line in sources[name].splitlines()}
    lines = CHAPTER_2.read_text().splitlines()
    quoted = [(n, lines[n - 1].strip()) for block, first, last in code_blocks(CHAPTER_2)
              if block == lang for n in range(first, last + 1)]
    assert quoted, f"chapter 2 quotes no {lang} lines"
    for n, line in quoted:
        code = line.split("  #")[0].rstrip() if lang == "cython" else line
        if not code or code == "..." or code.endswith("(...)"):
            continue
        assert code in source or any(s.startswith(code) for s in source), \
            f"{CHAPTER_2.name}:{n} quotes a line not in {' or '.join(files)}: {line}"


DW_NAME = re.compile(r"(?<![\w])(?:dw|DW)_\w+")


def test_every_dw_name_chapter_2_mentions_is_in_the_kernel_sources():
    """A name like dw_corr_span_f32 that the chapter mentions must occur in depthwise.pyx, .pxd or
    the headers: as written (dw_corr_span_plain), or in the comment that says which macro makes
    it (dw_corr_span_f32 exists only as DW_NAME(dw_corr_span), see the next test)."""
    text = "\n".join(_kernel_sources().values())
    names = set(DW_NAME.findall(CHAPTER_2.read_text()))
    assert {"dw_corr_span_plain", "dw_corr_span_f32", "dw_wgrad_span"} <= names
    missing = sorted(name for name in names if not re.search(rf"(?<![\w]){name}(?![\w])", text))
    assert not missing, f"chapter 2 names {missing}, which no kernel source contains"


def test_every_c_function_the_kernels_declare_is_written_out_or_its_expansion_explained():
    """depthwise_simd.pxd declares the C functions depthwise.pyx calls. Each is defined in the
    headers under its own name, or made by a macro (DW_NAME(dw_corr_span) -> dw_corr_span_f32):
    then a header comment must name it, beside the words "expands to", so that a reader who
    searches for the name finds where it comes from."""
    sources = _kernel_sources()
    extern = sources["depthwise_simd.pxd"].split("cdef extern from", 1)[1].split("\ncdef ", 1)[0]
    declared = re.findall(r"^\s+\w+\s+(dw_\w+)\(", extern, flags=re.M)
    assert "dw_corr_span_f32" in declared and "dw_corr_span_plain" in declared
    headers = "\n".join(text for name, text in sources.items() if name.endswith(".h"))
    explaining = [comment for comment in re.findall(r"/\*.*?\*/", headers, flags=re.S)
                  if "expands to" in comment.lower()]
    for name in declared:
        written = re.search(rf"^(static\s+)?(inline\s+)?\w+\s+\*?{name}\(", headers, flags=re.M)
        explained = any(re.search(rf"(?<!\w){name}(?!\w)", comment) for comment in explaining)
        assert written or explained, f"{name}: not written in include/*.h, and no comment there " \
                                     f"says which macro expands to it"


def _svg_texts(svg):
    return sorted(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_committed_graph_picture_is_what_chapter_1_draws(tmp_path):
    """docs/images/linear_graph.svg was rendered by chapter 1's code: same labels, same boxes."""
    committed = (DOCS / "images" / "linear_graph.svg").read_text()
    assert committed.lstrip().startswith(("<?xml", "<svg"))
    for label in ("MatMul", "Add", "ReLU", "Mean", "W (3, 2) float32", "b (2,) float32"):
        assert label in committed, label
    result = run_chapter(DOCS / "01_tensors_and_broadcasting.md", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    drawn = tmp_path / "linear_graph.svg"
    if not drawn.exists():
        pytest.skip("graphviz (the package or its dot program) is not installed, so chapter 1 "
                    "wrote only linear_graph.dot")
    assert _svg_texts(drawn.read_text()) == _svg_texts(committed)


# -- the README --------------------------------------------------------------------------------

def test_readme_code_runs_and_the_first_look_writes_what_its_comment_says(tmp_path):
    result = run_chapter(ROOT / "README.md", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    saved = sorted(p.name for p in (tmp_path / "my_model").iterdir())
    assert saved == ["model.json", "optimizer.bin", "weights.bin"]
    readme = (ROOT / "README.md").read_text()
    assert all(name in readme for name in saved)


def test_readme_quotes_the_full_run_shown_in_chapter_4():
    """The README's output of the full example is the run at the end of docs/04, line for line
    (they once quoted two different runs)."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("What the first command prints")
    quoted = [line.strip() for line in readme[start:].split("\n\n")[1].splitlines()]
    assert any(line.startswith("trained in") for line in quoted), quoted
    chapter = (DOCS / "04_training_mnist.md").read_text()
    full_run = chapter[chapter.index("## The full run"):]
    for line in quoted:
        assert line in full_run, f"README quotes '{line}', which docs/04's full run does not show"
    assert "57,000 images" in readme   # 60,000 less the 5% held out (3,000)


# -- examples/custom_op.py ----------------------------------------------------------------------

def _custom_op_module():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import custom_op
    finally:
        sys.path.remove(str(ROOT / "examples"))
    return custom_op


def test_custom_op_example_is_short_and_runs():
    path = ROOT / "examples" / "custom_op.py"
    assert len(path.read_text().splitlines()) < 40
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "gradcheck: True" in result.stdout
    assert "caught: gradcheck: input 1, element (" in result.stdout


def test_the_op_page_shows_the_examples_code():
    import inspect

    op = _custom_op_module()
    page = (DOCS / "write_your_own_op.md").read_text()
    for cls in (op.SwishBeta, op.SwishBetaLayer):
        assert inspect.getsource(cls) in page, f"docs/write_your_own_op.md differs from {cls.__name__}"


def test_custom_op_gradient_matches_finite_differences_and_a_wrong_one_is_caught():
    mg = pytest.importorskip("minigrad")
    op = _custom_op_module()
    rng = np.random.default_rng(1)
    x, beta = rng.normal(size=(3, 4)), rng.uniform(0.5, 2.0, size=(4,))
    assert mg.testing.gradcheck(op.SwishBeta.apply, [x, beta])
    with pytest.raises(AssertionError, match=r"gradcheck: input 1, element \(\d+,\): analytic"):
        mg.testing.gradcheck(op.WrongSwishBeta.apply, [x, beta])


if __name__ == "__main__":  # python tests/test_docs.py [--workdir DIR] docs/CHAPTER.md [...]
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Run docs chapters as the tests do.")
    parser.add_argument("--workdir", help="run in this folder and keep what the chapters write "
                                          "(e.g. the pictures of docs/images), instead of a "
                                          "temporary one")
    parser.add_argument("chapters", nargs="+")
    args = parser.parse_args()
    failed = 0
    for chapter in args.chapters:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = args.workdir or tmp
            os.makedirs(workdir, exist_ok=True)
            done = run_chapter(chapter, workdir)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        print(f"{chapter}: {'ok' if done.returncode == 0 else 'FAILED'}")
        failed += done.returncode != 0
    sys.exit(1 if failed else 0)
