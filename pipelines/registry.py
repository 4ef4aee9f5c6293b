"""The writing methods, by name: the one place the writer CLI, the dataset job and the evaluation
look a method up. A method is a module in `longform.pipelines` that provides

    METHOD: str
    async def run(model, instruction, target_words, *, seed, checkpoint_path, thread_id, resume,
                  progress, lang, settings) -> ManuscriptResult
    def make_settings(options: MethodOptions) -> Any    # the method's settings (None: defaults)

`MethodOptions` carries the options any front end may set; a method reads the ones it knows.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from longform.errors import UserError

# name -> module; the order is the order help texts and reports list them in.
METHODS: dict[str, str] = {
    "direct": "longform.pipelines.direct",
    "agentwrite": "longform.pipelines.agentwrite",
    "cogwriter": "longform.pipelines.cogwriter",
    "selflengthen": "longform.pipelines.selflengthen",
}
DEFAULT_METHOD = "agentwrite"


@dataclass
class MethodOptions:
    """Options a front end (writer CLI, dataset config, eval) passes to every method; each method
    reads what applies to it and ignores the rest."""

    section_words: int | None = field(default=None, metadata={"help": "agentwrite: about how many words a section has."})
    requirements: dict[str, Any] | None = field(
        default=None, metadata={"help": "cogwriter: requirements given as JSON instead of extracted by the model."})
    concurrency: int | None = field(default=None, metadata={"help": "cogwriter: unit writers in flight at once."})
    max_rounds: int | None = field(default=None, metadata={"help": "selflengthen: extension rounds at most."})
    extra: dict[str, Any] = field(default_factory=dict, metadata={"help": "method-specific settings by name."})


def names() -> list[str]:
    return list(METHODS)


def get(method: str) -> ModuleType:
    """The pipeline module of `method`; a UserError naming the known methods otherwise."""
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    return importlib.import_module(METHODS[method])


def check_input(method: str, instruction: str, target_words: int, options: MethodOptions | None = None) -> None:
    """Raise UserError for input the method cannot write (a method's optional `check_input`), before
    any file is written or any model loaded."""
    check = getattr(get(method), "check_input", None)
    if check is not None:
        check(instruction, target_words, options or MethodOptions())


def settings_for(method: str, options: MethodOptions | None = None) -> Any:
    """The method's settings object built from generic options (None when the method has none)."""
    module = get(method)
    make = getattr(module, "make_settings", None)
    return make(options or MethodOptions()) if make else None
