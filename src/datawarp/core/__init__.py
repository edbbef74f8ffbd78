"""The innermost stage: errors, periods, names, PostgreSQL types, settings, the clock.

Pure Python: no SQL, no I/O beyond reading settings. Every other stage may import it.
"""
