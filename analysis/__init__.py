"""Statistics for service-quality and satisfaction surveys.

Pure functions on pandas DataFrames: no Flask, no SQLAlchemy. Every public
function documents its formula and the source it follows. Results are
DataFrames or small dataclasses that carry a :class:`~analysis.common.Methods`
record (n used, exclusions, how missing values were handled, the test and
its variant), so a number on the dashboard can be traced to how it was made.
"""
