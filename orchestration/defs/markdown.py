"""Text from the data, made inert for Markdown asset metadata.

The Dagster UI renders `MetadataValue.md` as Markdown. A department, course title or rejected
value is whatever an extract held, so before it enters a table cell or a line of Markdown it is
folded to one line and every Markdown and HTML control character is escaped: `<script>` shows as
text, a `|` cannot split a table cell, `![x](http://...)` cannot fetch an image.
"""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that can start
# markup (emphasis, code, links, images, HTML, tables, headings, lists, autolinks, entities).
_CONTROL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&:])")


def text(value: object) -> str:
    """`value` as literal Markdown text on one line."""
    return _CONTROL.sub(r"\\\1", " ".join(str(value).split()))
