"""Every docstring example in analysis/ runs and is true (issue 10, item 7)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import analysis

MODULES = sorted(f"analysis.{info.name}" for info in pkgutil.iter_modules(analysis.__path__)
                 if info.name != "__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = {"np": importlib.import_module("numpy"), "pd": importlib.import_module("pandas")}
    for test in finder.find(module, name, globs={**module.__dict__, **globs}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"


def test_every_public_function_of_the_statistics_modules_has_an_example():
    """The house rule: numpydoc docstrings with an Examples section that runs."""
    missing = []
    for name in ("analysis.servqual", "analysis.kano", "analysis.reliability", "analysis.segments",
                 "analysis.satisfaction", "analysis.io"):
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public)
            if callable(obj) and not isinstance(obj, type) and ">>>" not in (obj.__doc__ or ""):
                missing.append(f"{name}.{public}")
    assert not missing, f"no example: {', '.join(missing)}"
