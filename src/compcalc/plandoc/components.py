"""Each component of a plan in plain sentences, with the tables of its numbers.

The words follow what the engine does (``compcalc/engine``), one module per kind here as
there: ``periodic``, ``commission``, ``bonus``, ``draw_override``. Every number comes from the
rule file through :class:`~compcalc.plandoc.words.Words`; nothing is computed.

>>> describe(component, words)  # a list of paragraphs and tables        # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ..rules.schema import Allowance, BaseSalary, Bonus, Commission, Draw, Override
from .bonus import bonus_words
from .commission import commission_words
from .draw_override import draw_words, override_words
from .model import Block, Para, code, p
from .periodic import allowance_words, base_salary_words
from .phrases import label_of, or_words
from .words import Words

__all__ = ["Component", "describe", "label_of"]

Component = BaseSalary | Allowance | Commission | Bonus | Draw | Override


def describe(component: Component, words: Words, siblings: tuple[Any, ...] = ()) -> list[Block]:
    """Paragraphs and tables saying what ``component`` pays and how.

    ``siblings`` are the other components of the plan (a draw names the commission it nets).
    """
    blocks: list[Block] = [_kind_line(component)]
    if component.when:
        blocks.append(_when(component.when, words))
    if isinstance(component, BaseSalary):
        blocks += base_salary_words(component, words)
    elif isinstance(component, Allowance):
        blocks += allowance_words(component, words)
    elif isinstance(component, Commission):
        blocks += commission_words(component, words)
    elif isinstance(component, Bonus):
        blocks += bonus_words(component, words)
    elif isinstance(component, Draw):
        blocks += draw_words(component, words, siblings)
    else:
        blocks += override_words(component, words)
    return blocks


def _kind_line(component: Component) -> Para:
    return p("Component ", code(component.id), ", kind ", code(component.kind), ".")


def _when(when: dict[str, list[str]], words: Words) -> Para:
    parts = [
        f"whose {words.dimension(name)} is {or_words(values)}" for name, values in when.items()
    ]
    return p("Only for employees " + " and ".join(parts) + "; others get nothing from it.")
