"""The chapter contract (DESIGN section 3): every chapter in a3net/chapters.py has its shape.

``chapter_problems`` lists, one sentence each, what a chapter lacks: the Colab install cell, the
parameters cell, objectives/prerequisites/time near the top, exercises whose solutions are tagged
and define a function that a self-check from ``a3net.exercises`` is called with, a claims cell that
records at least three claims in the chapter's ledger (``a3net.claims.Ledger``) and asserts nothing
itself, and its entry in _toc.yml. Synthetic chapters missing each part in turn prove that every
rule can fail.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from a3net import _release, chapters

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = chapters.notebooks(ROOT)

TOP_CELLS = 6  # the parameters and objectives cells sit among the first cells
PARAMETERS = ("PROFILE", "FRAMEWORK", "DATA_SOURCE", "SEED")
OPENING_LABELS = ("learning objectives", "prerequisites", "time")
MIN_CLAIMS = 3  # claims recorded with ledger.check in the claims cell
EXERCISE = re.compile(r"^(`{3,}|:{3,})\s*\{exercise(?:-start)?\}", re.MULTILINE)
SOLUTION = re.compile(r"^(?:`{3,}|:{3,})\s*\{solution(?:-start)?\}\s*(\S+)", re.MULTILINE)
DROPDOWN = re.compile(r"^:class:.*\bdropdown\b", re.MULTILINE)
FOLDED = {"hide-cell", "remove-cell"}  # input and output: a printed answer is an answer too
LABEL = re.compile(r"^:label:\s*(\S+)", re.MULTILINE)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _parse(source: str) -> ast.Module | None:
    """The cell's AST with IPython magics and shell escapes blanked; None if it does not parse."""
    code = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def _is_colab_guard(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.If)
        and "google.colab" in ast.unparse(node.test)
        and "sys.modules" in ast.unparse(node.test)
    )


def _colab_problems(cells, ref: str) -> list[str]:
    if not cells or cells[0].cell_type != "code":
        return ["the first cell is not the code cell that installs a3net in Colab."]
    source = cells[0].source
    tree = _parse(source)
    guards = [node for node in (tree.body if tree else []) if _is_colab_guard(node)]
    if not guards:
        return ['the first cell does not install a3net under `if "google.colab" in sys.modules:`.']
    problems = []
    if any(
        not isinstance(node, (ast.Import, ast.ImportFrom)) and not _is_colab_guard(node)
        for node in tree.body
    ):
        problems.append(
            "the first cell runs code outside its Colab guard; it must do nothing outside Colab."
        )
    guarded = "".join(ast.unparse(node) for node in guards)
    if "a3net" not in guarded or "install" not in guarded:
        problems.append("the first cell's Colab guard does not pip-install a3net.")
    named = {
        node.value
        for guard in guards
        for node in ast.walk(guard)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    if ref not in named and not any(text.endswith(f"@{ref}") for text in named):
        problems.append(
            f"the Colab install does not name the ref {ref} of a3net/_release.py (REF): run "
            f"python -m a3net._release --ref {ref}."
        )
    if not any(isinstance(node, ast.Raise) for guard in guards for node in ast.walk(guard)):
        problems.append(
            "the first cell's Colab guard does not stop the notebook (raise) when pip fails."
        )
    return problems


def _parameters_problems(cells) -> list[str]:
    tagged = [
        i
        for i, cell in enumerate(cells)
        if cell.cell_type == "code" and "parameters" in _tags(cell)
    ]
    if not tagged:
        return ["no code cell is tagged `parameters`."]
    if tagged[0] >= TOP_CELLS:
        return [f"the parameters cell is cell {tagged[0]}; put it among the first {TOP_CELLS}."]
    tree = _parse(cells[tagged[0]].source)
    assigned = (
        {
            target.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        if tree
        else set()
    )
    missing = [name for name in PARAMETERS if name not in assigned]
    if missing:
        return [f"the parameters cell does not set {', '.join(missing)}."]
    return []


def _opening_problems(cells) -> list[str]:
    text = "\n".join(cell.source for cell in cells[:TOP_CELLS] if cell.cell_type == "markdown")
    flags = re.IGNORECASE | re.MULTILINE
    missing = [
        label
        for label in OPENING_LABELS
        if not re.search(rf"^[\s>#*_]*{label}\s*(?:[.:]|\*\*|$)", text, flags)
    ]
    if missing:
        return [
            (
                f"the first {TOP_CELLS} cells do not open with {', '.join(missing)} "
                "(e.g. a line starting **Learning objectives.**)."
            )
        ]
    return []


def _check_aliases(cells) -> tuple[set[str], set[str]]:
    """Names bound to a3net.exercises modules, and to what is imported from them."""
    modules, functions = set(), set()
    for cell in cells:
        tree = _parse(cell.source) if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and node.module == "a3net.exercises":
                names = {alias.asname or alias.name for alias in node.names}
                modules |= names  # `rings` is a module, `check` a function: accept both
                functions |= names
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "a3net.exercises."
            ):
                functions |= {alias.asname or alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                modules |= {
                    alias.asname
                    for alias in node.names
                    if alias.name.startswith("a3net.exercises") and alias.asname
                }
    return modules, functions


def _check_calls(tree, modules: set[str], functions: set[str]) -> list[ast.Call]:
    """The calls in ``tree`` of a self-check from a3net.exercises."""
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if (
            name.startswith("a3net.exercises.")
            or name in functions
            or (isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) in modules)
        ):
            calls.append(node)
    return calls


def _exercise_problems(cells) -> list[str]:
    starts = [
        i
        for i, cell in enumerate(cells)
        if cell.cell_type == "markdown" and EXERCISE.search(cell.source)
    ]
    if not starts:
        return ["the chapter has no sphinx-exercise {exercise} block."]
    problems = []
    claims = [i for i, cell in enumerate(cells) if "claims" in _tags(cell)]
    solutions, unfolded = {}, set()
    for cell in cells:
        if cell.cell_type == "markdown":
            for label in SOLUTION.findall(cell.source):
                solutions[label] = "solution" in _tags(cell)
                if not DROPDOWN.search(cell.source):
                    unfolded.add(label)
    modules, functions = _check_aliases(cells)
    ends = starts[1:] + [min([i for i in claims if i > starts[-1]] or [len(cells)])]
    for number, (start, end) in enumerate(zip(starts, ends, strict=True), 1):
        labels = LABEL.findall(cells[start].source)
        name = f"exercise {number} ({labels[0] if labels else 'no label'})"
        if not labels:
            problems.append(f"{name} has no :label:, so no {{solution}} can point at it.")
        elif labels[0] not in solutions:
            problems.append(f"{name} has no {{solution}} {labels[0]} block.")
        elif not solutions[labels[0]]:
            problems.append(f"{name}: its {{solution}} markdown cell is not tagged `solution`.")
        elif labels[0] in unfolded:
            problems.append(
                f"{name}: its {{solution}} block shows in the book: give it `:class: dropdown`."
            )
        span = cells[start + 1 : end]
        defined = set()
        for cell in span:
            if cell.cell_type == "code" and "solution" in _tags(cell):
                tree = _parse(cell.source)
                defined |= {
                    node.name
                    for node in (tree.body if tree else [])
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                }
        if not any(cell.cell_type == "code" and "solution" in _tags(cell) for cell in span):
            problems.append(f"{name} has no code cell tagged `solution`.")
            continue
        if any(
            cell.cell_type == "code" and "solution" in _tags(cell) and not FOLDED & set(_tags(cell))
            for cell in span
        ):
            problems.append(
                f"{name}: its solution code or output shows in the book without a click; "
                "tag the cell `hide-cell`."
            )
        if not defined:
            problems.append(
                f"{name}: its solution code defines no function, so the student "
                "stub cannot raise NotImplementedError."
            )
            continue
        calls = []
        for cell in span:
            if cell.cell_type == "code" and "solution" not in _tags(cell):
                tree = _parse(cell.source)
                calls += _check_calls(tree, modules, functions) if tree else []
        if not calls:
            problems.append(
                f"{name} has no untagged check cell calling a self-check from a3net.exercises."
            )
        elif not any(
            isinstance(node, ast.Name) and node.id in defined
            for call in calls
            for arg in [*call.args, *(k.value for k in call.keywords)]
            for node in ast.walk(arg)
        ):
            problems.append(
                f"{name}: its self-check is not given {', '.join(sorted(defined))} "
                "(the function the solution defines) or a call of it."
            )
    return problems


def _calls(tree: ast.AST, attribute: str) -> list[ast.Call]:
    """The calls ``something.<attribute>(...)`` in ``tree``."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attribute
    ]


def _claims_problems(cells, letter: str) -> list[str]:
    """The claims cell records every claim in a ledger of this chapter and asserts none itself."""
    claims = [cell for cell in cells if cell.cell_type == "code" and "claims" in _tags(cell)]
    if not claims:
        return ["no code cell is tagged `claims`."]
    tree = _parse(claims[0].source) or ast.Module(body=[], type_ignores=[])
    ledgers = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "Ledger"
    ]
    problems = []
    if not any(
        node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == letter
        for node in ledgers
    ):
        problems.append(
            f'the claims cell opens no ledger of this chapter: Ledger("{letter}", ...) '
            "from a3net.claims."
        )
    n_checks = len(_calls(tree, "check"))
    if n_checks < MIN_CLAIMS:
        problems.append(
            f"the claims cell records {n_checks} claim(s) with ledger.check; it needs at least "
            f"{MIN_CLAIMS}."
        )
    if not _calls(tree, "finish"):
        problems.append(
            "the claims cell never calls ledger.finish(), which asserts the recorded claims."
        )
    n_asserts = sum(isinstance(node, ast.Assert) for node in ast.walk(tree))
    if n_asserts:
        problems.append(
            f"the claims cell has {n_asserts} bare assert statement(s); record each claim with "
            "ledger.check so that nothing is asserted that is not recorded."
        )
    return problems


def toc_entries(toc_path: Path = ROOT / "_toc.yml") -> set[str]:
    """Every `file:` entry of a jb-book _toc.yml."""
    found, stack = set(), [yaml.safe_load(toc_path.read_text(encoding="utf-8"))]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(str(node[key]) for key in ("root", "file") if key in node)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def chapter_problems(nb, docname: str, toc: set[str], ref: str = _release.REF) -> list[str]:
    """Everything chapter ``nb`` (toc name ``docname``, e.g. book/F_cherenkov_rings) lacks."""
    cells = nb.cells
    problems = (
        _colab_problems(cells, ref)
        + _parameters_problems(cells)
        + _opening_problems(cells)
        + _exercise_problems(cells)
        + _claims_problems(cells, Path(docname).name[0])
    )
    if docname not in toc:
        problems.append(f"{docname} is not listed in _toc.yml.")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_follows_the_contract(path):
    nb = nbformat.read(path, as_version=4)
    problems = chapter_problems(nb, f"book/{path.stem}", toc_entries())
    assert not problems, f"{path.name}:\n- " + "\n- ".join(problems)


def test_chapter_F_is_checked():
    assert BOOK / "F_cherenkov_rings.ipynb" in CHAPTERS


# ------------------------------------------------------------------ synthetic chapters

REF = "v1.2.3"
DOCNAME = "book/X_demo"
COLAB = _release.colab_cell(chapters.CHAPTERS[0], REF)
PARAMS = 'PROFILE = "smoke"\nFRAMEWORK = "torch"\nDATA_SOURCE = "simulator"\nSEED = 0'
OPENING = "**Learning objectives.** Count.\n\n**Prerequisites.** NumPy.\n\n**Time.** 30 minutes."
EXERCISE_MD = "::::{exercise}\n:label: ex-x-double\n\nWrite `double(x)`.\n::::"
SOLUTION_CODE = "def double(x):\n    return 2 * x"
CHECK_CODE = (
    "from a3net.exercises import checks as demo_checks\n\n"
    "demo_checks.check_close(double(2), 4, what='double');\n"
    "demo_checks.check(double is not None, 'given');"
)
SOLUTION_MD = "::::{solution} ex-x-double\n:class: dropdown\n\nMultiply by two.\n::::"
CLAIMS = """from a3net.claims import Ledger

ledger = Ledger("X", directory=None)
ledger.check("double of one", double(1), ">=", 2, source="arithmetic")
ledger.check("double of zero", double(0), "<=", 0, source="arithmetic")
if True:
    ledger.check("double of minus one", double(-1), "<", 0, source="arithmetic")
ledger.finish()"""


def _cell(kind, source, *tags):
    cell = new_code_cell(source) if kind == "code" else new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def good_chapter():
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
    )
    nb.cells = [
        _cell("code", COLAB, "remove-cell"),
        _cell("markdown", "# X. A demo chapter"),
        _cell("markdown", OPENING),
        _cell("code", PARAMS, "parameters"),
        _cell("markdown", EXERCISE_MD),
        _cell("code", SOLUTION_CODE, "solution", "hide-cell"),
        _cell("code", CHECK_CODE),
        _cell("markdown", SOLUTION_MD, "solution"),
        _cell("code", CLAIMS, "claims", "remove-input"),
    ]
    return nb


def _problems(nb, toc=frozenset({DOCNAME})):
    return chapter_problems(nb, DOCNAME, set(toc), ref=REF)


def _find(nb, text):
    [index] = [i for i, cell in enumerate(nb.cells) if text in cell.source]
    return index


def _set(text, new):
    def edit(nb):
        nb.cells[_find(nb, text)].source = new

    return edit


def _untag(text):
    def edit(nb):
        nb.cells[_find(nb, text)].metadata["tags"] = []

    return edit


def _untag_one(text, tag):
    def edit(nb):
        cell = nb.cells[_find(nb, text)]
        cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != tag]

    return edit


def _drop(text):
    def edit(nb):
        del nb.cells[_find(nb, text)]

    return edit


BROKEN = {
    "no Colab cell": (_drop("google.colab"), "first cell is not the code cell"),
    "Colab cell unguarded": (
        _set("google.colab", "%pip install a3net"),
        "does not install a3net under",
    ),
    "Colab cell runs code elsewhere": (
        _set("google.colab", COLAB + "\nimport a3net\nprint(1)"),
        "outside its Colab guard",
    ),
    "Colab install without its ref": (
        _set("google.colab", COLAB.replace('"v1.2.3"', '""')),
        "does not name the ref v1.2.3",
    ),
    "Colab install from another ref": (
        _set("google.colab", COLAB.replace('"v1.2.3"', '"v1.0.0"')),
        "does not name the ref v1.2.3",
    ),
    "Colab install that does not stop when pip fails": (
        _set(
            "google.colab",
            'import sys\n\nif "google.colab" in sys.modules:\n    get_ipython().run_line_magic('
            '"pip", \'install "a3net @ git+https://github.com/o/a3net@v1.2.3"\')',
        ),
        "does not stop the notebook",
    ),
    "no parameters tag": (_untag("PROFILE ="), "tagged `parameters`"),
    "parameters without SEED": (
        _set("PROFILE =", PARAMS.replace("SEED = 0", "")),
        "does not set SEED",
    ),
    "no objectives": (_drop("Learning objectives"), "learning objectives, prerequisites, time"),
    "no time": (_set("Learning objectives", OPENING.split("\n\n**Time")[0]), "open with time"),
    "no exercise": (_set("{exercise}", "Some text."), "no sphinx-exercise"),
    "exercise without label": (
        _set("{exercise}", EXERCISE_MD.replace(":label: ex-x-double\n", "")),
        "has no :label:",
    ),
    "no solution block": (_drop("{solution}"), "has no {solution} ex-x-double"),
    "solution block untagged": (_untag("{solution}"), "markdown cell is not tagged"),
    "no solution code cell": (_untag("def double"), "no code cell tagged `solution`"),
    "solution defines no function": (
        _set("def double", "double = lambda x: 2 * x"),
        "defines no function",
    ),
    "no check cell": (_drop("check_close"), "no untagged check cell"),
    "solution code not folded": (
        _untag_one("def double", "hide-cell"),
        "tag the cell `hide-cell`",
    ),
    "solution text not folded": (
        _set("{solution}", SOLUTION_MD.replace(":class: dropdown\n", "")),
        "give it `:class: dropdown`",
    ),
    "check not given the function": (
        _set(
            "check_close",
            CHECK_CODE.replace("double(2)", "4").replace("double is not None", "True"),
        ),
        "not given double",
    ),
    "no claims cell": (_drop("Ledger("), "no code cell is tagged `claims`"),
    "claims with two checks": (
        _set("Ledger(", CLAIMS.replace("if True:\n    ledger.check", "ledger.summary")),
        "records 2 claim(s)",
    ),
    "claims never finished": (
        _set("Ledger(", CLAIMS.replace("ledger.finish()", "")),
        "never calls ledger.finish()",
    ),
    "claims with a bare assert": (
        _set("Ledger(", CLAIMS + "\nassert double(2) == 4"),
        "1 bare assert statement(s)",
    ),
    "ledger of another chapter": (
        _set("Ledger(", CLAIMS.replace('Ledger("X"', 'Ledger("F"')),
        'no ledger of this chapter: Ledger("X"',
    ),
}


def test_good_synthetic_chapter_passes():
    assert _problems(good_chapter()) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_missing_part_is_reported(case):
    edit, expected = BROKEN[case]
    nb = copy.deepcopy(good_chapter())
    edit(nb)
    problems = _problems(nb)
    assert any(expected in p for p in problems), (case, problems)
    assert all(p.endswith(".") for p in problems), problems  # one sentence each


def test_chapter_missing_from_toc_is_reported():
    assert _problems(good_chapter(), toc={"book/intro"}) == [
        "book/X_demo is not listed in _toc.yml."
    ]


def test_toc_entries_reads_nested_toc(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n"
        "      - file: book/X_demo\n        sections:\n          - file: book/x2\n"
    )
    assert toc_entries(toc) == {"book/intro", "book/X_demo", "book/x2"}
