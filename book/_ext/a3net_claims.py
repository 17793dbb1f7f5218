"""The page "What this course claims": every chapter's claims from the last build, in a table.

A chapter's claims cell records its claims with :class:`a3net.claims.Ledger`, which writes
``<letter>-<profile>-<framework>.json`` to the claims folder (``A3NET_CLAIMS_DIR``, default
``_build/claims``) while the chapter executes. The notebooks execute while Sphinx *reads* them, so
the ``{claims-ledger}`` directive only leaves a placeholder; the tables are built when the page's
doctree is resolved, after every chapter has been read and executed. The page is marked outdated
on every build, so it always shows the files as they are at the end of that build.

One table per chapter, one row per claim: the value and its error in each framework that ran
(PyTorch and Keras side by side), the test (operator, threshold, how many errors), pass or fail,
and where the threshold comes from. Only the files of the profile being built
(``A3NET_PROFILE``, default ``default``) are shown; other profiles found are counted below.
"""

from __future__ import annotations

from collections import defaultdict

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

FRAMEWORK_TITLES = {"torch": "PyTorch", "keras": "Keras"}
STATUS_TEXT = {"pass": "✓ pass", "fail": "✗ fail", "not checked": "– not checked"}


class claims_ledger(nodes.General, nodes.Element):
    """Placeholder replaced by the claims tables once every chapter has run."""


class ClaimsLedgerDirective(SphinxDirective):
    """``{claims-ledger}``: the claims of every chapter from the build's claims files."""

    has_content = False

    def run(self):
        self.env.a3net_claims_docs = getattr(self.env, "a3net_claims_docs", set())
        self.env.a3net_claims_docs.add(self.env.docname)
        return [claims_ledger("")]


def _cell(text: str, classes=()) -> nodes.entry:
    entry = nodes.entry()
    para = nodes.paragraph()
    para += nodes.inline(text, text, classes=list(classes))
    entry += para
    return entry


def _table(header: list[str], rows: list[list[tuple[str, tuple]]], widths: list[int]):
    table = nodes.table(classes=["a3net-claims"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    row = nodes.row()
    for title in header:
        row += _cell(title)
    head += row
    group += head
    body = nodes.tbody()
    for cells in rows:
        row = nodes.row()
        for text, classes in cells:
            row += _cell(text, classes)
        body += row
    group += body
    return table


def _value_text(claim: dict | None) -> tuple[str, tuple]:
    from a3net.claims import format_number

    if claim is None:
        return "", ()
    text = format_number(claim["value"])
    if claim["error"] is not None:
        text += f" ± {format_number(claim['error'])}"
    status = claim["status"]
    return f"{text}  {STATUS_TEXT[status]}", (f"claim-{status.replace(' ', '-')}",)


def _test_text(claims: list[dict]) -> str:
    """``> 3 by 2 σ``; thresholds measured in each run are shown per framework (``4.9 / 5.1``)."""
    from a3net.claims import format_number

    claim = claims[0]
    thresholds = dict.fromkeys(format_number(c["threshold"]) for c in claims)
    text = f"{claim['op']} {' / '.join(thresholds)}"
    if claim["sigmas"]:
        text += f" by {claim['sigmas']:g} σ"
    if claim.get("profiles"):
        text += f" (on {', '.join(claim['profiles'])})"
    return text


def chapter_table(runs: dict[str, dict]):
    """One chapter's claims: rows by claim name, a value column per framework that ran."""
    frameworks = [f for f in FRAMEWORK_TITLES if f in runs]
    names: list[str] = []
    by_name: dict[str, dict[str, dict]] = defaultdict(dict)
    for framework in frameworks:
        for claim in runs[framework]["claims"]:
            if claim["name"] not in by_name:
                names.append(claim["name"])
            by_name[claim["name"]][framework] = claim
    header = ["claim"] + [FRAMEWORK_TITLES[f] for f in frameworks] + ["test", "threshold from"]
    rows = []
    for name in names:
        claims = by_name[name]
        ran = [claims[f] for f in frameworks if f in claims]
        row = [(name, ())]
        row += [_value_text(claims.get(f)) for f in frameworks]
        row += [(_test_text(ran), ()), (ran[0]["source"], ())]
        rows.append(row)
    widths = [30] + [18] * len(frameworks) + [14, 30]
    return _table(header, rows, widths)


def _run_note(framework: str, run: dict) -> str:
    counts = defaultdict(int)
    for claim in run["claims"]:
        counts[claim["status"]] += 1
    parts = [f"{counts[s]} {s}" for s in ("pass", "fail", "not checked") if counts[s]]
    state = "" if run.get("finished") else ", stopped before the end of its claims cell"
    return (
        f"{FRAMEWORK_TITLES[framework]}: {', '.join(parts) or 'no claims'} "
        f"(data: {run['data_source']}, seed {run['seed']}, written {run['written']}{state})"
    )


def ledger_nodes(records: list[dict], profile: str, chapters) -> list[nodes.Node]:
    """The page body: a summary line, then per chapter a heading, its runs and its table."""
    runs: dict[str, dict[str, dict]] = defaultdict(dict)
    other_profiles: dict[str, int] = defaultdict(int)
    for record in records:
        if record["profile"] == profile:
            runs[record["chapter"]][record["framework"]] = record
        else:
            other_profiles[record["profile"]] += 1
    out: list[nodes.Node] = []
    statuses = [
        c["status"] for chapter in runs.values() for r in chapter.values() for c in r["claims"]
    ]
    summary = (
        f"Profile {profile}: {len(runs)} of {len(chapters)} chapters ran, "
        f"{len(statuses)} claims recorded over the frameworks that ran: "
        f"{statuses.count('pass')} passed, {statuses.count('fail')} failed, "
        f"{statuses.count('not checked')} not checked on this profile."
    )
    out.append(nodes.paragraph(summary, summary))
    for letter, title in chapters:
        out.append(nodes.rubric(f"{letter}. {title}", f"{letter}. {title}"))
        if letter not in runs:
            text = f"No run of chapter {letter} on the {profile} profile in this build."
            out.append(nodes.paragraph(text, text))
            continue
        items = nodes.bullet_list()
        for framework in FRAMEWORK_TITLES:
            if framework in runs[letter]:
                note = _run_note(framework, runs[letter][framework])
                items += nodes.list_item("", nodes.paragraph(note, note))
        out.append(items)
        out.append(chapter_table(runs[letter]))
    if other_profiles:
        found = ", ".join(f"{n} of {p}" for p, n in sorted(other_profiles.items()))
        text = f"Claims files of other profiles in the folder, not shown: {found}."
        out.append(nodes.paragraph(text, text))
    return out


def _chapters() -> list[tuple[str, str]]:
    from a3net.chapters import CHAPTERS

    return [(c.letter, c.title) for c in CHAPTERS]


def on_doctree_resolved(app: Sphinx, doctree, docname: str) -> None:
    placeholders = list(doctree.findall(claims_ledger))
    if not placeholders:
        return
    import a3net
    from a3net.claims import claims_dir, read_claims

    folder = claims_dir()
    records = read_claims(folder) if folder.is_dir() else []
    body = ledger_nodes(records, a3net.profile_name(), _chapters())
    for node in placeholders:
        node.replace_self(body)


def on_env_get_outdated(app, env, added, changed, removed):
    """The ledger page is rebuilt on every build: the chapters' runs change its content."""
    return sorted(getattr(env, "a3net_claims_docs", set()) - set(removed))


def on_env_purge_doc(app, env, docname):
    getattr(env, "a3net_claims_docs", set()).discard(docname)


def on_env_merge_info(app, env, docnames, other):
    env.a3net_claims_docs = getattr(env, "a3net_claims_docs", set()) | getattr(
        other, "a3net_claims_docs", set()
    )


def setup(app: Sphinx) -> dict:
    app.add_node(claims_ledger)
    app.add_directive("claims-ledger", ClaimsLedgerDirective)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
