"""Operations: monitoring, notification delivery, lifecycle, orphans, maintenance.

Imports ``catalog`` and ``core``, never ``pipeline``.
"""
