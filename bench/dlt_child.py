"""dlt's fastest documented path into PostgreSQL, run as its own process by bench_load.

    python bench/dlt_child.py csv|xlsx DATABASE_URL FILE WORK_FOLDER

Arrow in (pyarrow's CSV reader, or fastexcel for a workbook), Parquet files, loaded by ADBC:
dlt's documented route for Arrow tables into PostgreSQL. The table is replaced each run.
"""

from __future__ import annotations

import sys


def main() -> None:
    kind, url, path, work = sys.argv[1:5]
    import dlt

    if kind == "csv":
        import pyarrow.csv

        table = pyarrow.csv.read_csv(path)
    else:
        import fastexcel

        table = fastexcel.read_excel(path).load_sheet(0).to_arrow()
    pipeline = dlt.pipeline(
        pipeline_name="bench_dlt",
        destination=dlt.destinations.postgres(credentials=_with_password(url)),
        dataset_name="bench_dlt",
        pipelines_dir=work,
    )
    pipeline.run(table, table_name="loaded", loader_file_format="parquet",
                 write_disposition="replace")  # fmt: skip


def _with_password(url: str) -> str:
    """dlt insists on a password; the bench servers trust local logins and ignore it."""
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    host = params.get("host", "127.0.0.1")
    user, password = params.get("user", "postgres"), params.get("password") or "unused"
    if host.startswith("/"):  # a socket folder: dlt insists on a host name, libpq's query wins
        return f"postgresql://{user}:{password}@localhost/{params['dbname']}?host={quote(host)}"
    return f"postgresql://{user}:{password}@{host}:{params.get('port', 5432)}/{params['dbname']}"


if __name__ == "__main__":
    main()
