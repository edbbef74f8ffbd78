"""The catalog: the only code that writes SQL (connections, migrations, registry, loads, audit).

Imports ``core`` only. Opening a database writes nothing; ``make_ready`` applies migrations
and reaps interrupted loads for the commands that write.
"""
