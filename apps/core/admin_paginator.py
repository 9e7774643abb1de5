"""A paginator for admin changelists over huge tables (payroll rows, journal entries, registry).

Django's paginator runs ``SELECT COUNT(*)`` over the whole filtered queryset on every page view;
on a 100,000-row batch or a journal of millions of legs that is a full scan each time. Here:

- unfiltered: PostgreSQL's own estimate (``pg_class.reltuples``, kept by ANALYZE/autovacuum),
  unless the table is small or never analysed, when the exact count is cheap anyway;
- filtered: an exact count of at most ``count_cap`` rows (``SELECT COUNT(*) FROM (… LIMIT n)``),
  so the cost is bounded whatever the filter. Past the cap the list shows the first
  ``count_cap`` rows' pages; staff narrow the search to reach the rest.

Use with ``show_full_result_count = False`` (which skips the admin's second, unfiltered count).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    count_cap = 10_000
    # Below this the estimate is too rough to show and COUNT(*) costs next to nothing.
    estimate_from = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:  # a list, not a queryset
            return len(queryset)
        if not query.where:
            estimate = self._estimate(queryset)
            if estimate is not None and estimate >= self.estimate_from:
                return estimate
        return queryset[: self.count_cap].count()

    @staticmethod
    def _estimate(queryset) -> int | None:
        table = queryset.model._meta.db_table
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            # to_regclass: NULL rather than an error if the table is missing; reltuples is -1
            # on PostgreSQL 14+ for a table never vacuumed or analysed.
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table])
            row = cursor.fetchone()
        if row is None or row[0] is None or row[0] < 0:
            return None
        return int(row[0])
