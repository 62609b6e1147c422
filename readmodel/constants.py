"""Numbers the read side writes in more than one place, written once.

The control table's ``span`` is a GiST box (x = valid time in epoch seconds, y = log
position). GiST boxes want finite corners, so open bounds are stored as far-away finite
numbers: the writer (``readmodel.writer``), the SQL that re-closes rows (``readmodel.control``)
and the probe of ``controlAt`` (``readmodel.queries.sql``) must agree on them exactly, or a
row silently drops out of the index's answers.
"""

from __future__ import annotations

from typing import Final

#: An open valid_from: 1e11 s is about 3,000 years before 1970; valid times are 1900-2999.
FAR_PAST: Final = -1e11
#: An open valid_to.
FAR_FUTURE: Final = 1e11
#: An open known_to (still believed): above every log position a bigint holds as a float.
NEVER: Final = 1e18

#: The largest log position PostgreSQL's bigint holds; a cursor naming a larger one is no
#: cursor of ours (and would fail inside the query, as a server error, if let through).
MAX_POSITION: Final = 2**63 - 1

#: The mean Earth radius (IUGG), for the great-circle distance of ``near`` filters, in SQL
#: and in the live matcher alike.
EARTH_RADIUS_KM: Final = 6371.0088
