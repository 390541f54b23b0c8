"""Build the plan document from a validated rule set: policy, then one section per plan.

>>> import compcalc
>>> rules = compcalc.load_rules("rules/account_managers.yaml")               # doctest: +SKIP
>>> doc = build_document(rules, role="key_account_manager")                 # doctest: +SKIP
>>> [s.title for s in doc.sections][:2]                                     # doctest: +SKIP
['Who this covers', 'Dates']
"""

from __future__ import annotations

from .. import __version__
from ..errors import CompcalcError
from ..rules.digest import ruleset_digest
from ..rules.schema import Plan, RuleSet
from .components import describe, label_of
from .example import ExampleRuns, example_inputs, run_examples
from .model import Block, Document, Section, code, p
from .policy import policy_sections
from .words import Words, title_of
from .worked import component_example, example_section

SHORT_DIGEST = 12


def build_document(rules: RuleSet, *, role: str | None = None, examples: bool = True) -> Document:
    """The plan document of ``rules`` (of one plan with ``role``), worked examples included.

    An unknown ``role`` is a :class:`~compcalc.errors.CompcalcError` naming the roles.
    """
    roles = _roles(rules, role)
    words = Words(rules)
    runs: ExampleRuns | None = None
    problem = "they were not asked for."
    if examples:
        runs = run_examples(rules, example_inputs(rules, roles))
        if not runs.inputs.months:
            runs, problem = None, "the rules cover no whole month."
    digest = ruleset_digest(rules)[:SHORT_DIGEST]
    sections = [
        *policy_sections(rules, words, roles),
        *(_plan(rules, name, rules.plans[name], words, runs, problem) for name in roles),
    ]
    title = rules.name or f"Pay plan {rules.id}"
    if role is not None:
        title += f": {title_of(role).lower()}"
    subtitle = (
        f"Plan document of rule set {rules.id}, version {rules.version} (sha256 {digest}), "
        "written from the rule file itself."
    )
    footer = (
        f"Every figure above is read from the rule set, and every worked example is computed "
        f"by the engine of compcalc {__version__} that pays, so the two cannot disagree.",
    )
    return Document(title, subtitle, tuple(sections), _lang(rules.locale), footer)


def _roles(rules: RuleSet, role: str | None) -> list[str]:
    if role is None:
        return sorted(rules.plans)
    if role not in rules.plans:
        raise CompcalcError(
            f"the rules have no plan for role {role!r}; roles they define: "
            f"{', '.join(sorted(rules.plans))}"
        )
    return [role]


def _plan(
    rules: RuleSet, role: str, plan: Plan, words: Words, runs: ExampleRuns | None, problem: str
) -> Section:
    blocks: list[Block] = []
    if plan.description:
        blocks.append(p(" ".join(plan.description.split())))
    blocks.append(p("Applies to employees whose roster role is ", code(role), "."))
    labels = ", ".join(label_of(c) for c in plan.components)
    blocks.append(p(f"Pays, in statement order: {labels}."))
    siblings = tuple(plan.components)
    components = tuple(
        Section(
            label_of(component),
            f"plan-{role}-component-{component.id}",
            tuple(describe(component, words, siblings))
            + tuple(component_example(runs, role, component, words)),
        )
        for component in plan.components
    )
    example = example_section(runs, role, words, problem)
    return Section(title_of(role), f"plan-{role}", tuple(blocks), (example, *components))


def _lang(locale: str) -> str:
    """``en_US`` -> ``en-US`` for the HTML ``lang`` attribute."""
    return locale.replace("_", "-")
