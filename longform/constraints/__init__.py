"""Requirements of unit-structured texts (a 20-week diary, a 12-chapter novel): their data model and
checks (`spec`), what an instruction states literally (`literal`), and rule checks of a finished
text (`check`). Used by the cogwriter pipeline, its benchmark and the evaluation."""

from longform.constraints.check import TextCheck, check_text, contains_keywords, split_units
from longform.constraints.spec import Constraint, Requirements, Units, from_dict, problem, validate

__all__ = [
    "Constraint",
    "Requirements",
    "TextCheck",
    "Units",
    "check_text",
    "contains_keywords",
    "from_dict",
    "problem",
    "split_units",
    "validate",
]
