"""The instructor side of the course: the answer key, the judge, the ``course`` command.

jsonschema, which nbformat and nbgrader import, also imports ``rfc3987_syntax`` when it is
installed; that package builds a grammar of IRIs at import, about 3 s of every grading
process's start, and no notebook schema uses it. Grading processes skip it.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # jsonschema's optional import then fails fast
