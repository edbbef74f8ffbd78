"""What `datawarp db info` reports: which server, where, which version; never a password."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from datawarp.catalog.database import Database


@dataclass(frozen=True)
class ServerInfo:
    embedded: bool
    url: str
    host: str
    port: int
    database: str
    user: str
    server_version: str
    data_dir: str | None
    catalog_version: int | None

    def to_dict(self) -> dict:
        return asdict(self)


def server_info(database: Database) -> ServerInfo:
    with database.connect(autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('server_version'), current_database(), current_user,"
            " inet_server_port(), to_regclass('datawarp.schema_migrations') IS NOT NULL"
        ).fetchone()
        version, dbname, user, port, has_catalog = row
        catalog_version = None
        if has_catalog:
            catalog_version = conn.execute(
                "SELECT max(version) FROM datawarp.schema_migrations"
            ).fetchone()[0]
        host, socket_port = conn.info.host, conn.info.port
    return ServerInfo(
        embedded=database.target.embedded,
        url=database.target.describe_url(),
        host=host,
        port=port or socket_port,
        database=dbname,
        user=user,
        server_version=version,
        data_dir=str(database.target.data_dir) if database.target.data_dir else None,
        catalog_version=catalog_version,
    )
