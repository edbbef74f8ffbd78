"""DataWarp: governed loading of NHS England statistical publications into PostgreSQL."""


def __getattr__(name: str) -> str:
    """``datawarp.__version__``, looked up when asked for: consulting the installed metadata
    (and importing importlib.metadata, where nothing else has) costs an import of the package
    3 to 15 ms, and only ``--version`` and the downloader's User-Agent use it."""
    if name != "__version__":
        raise AttributeError(f"module 'datawarp' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("datawarp")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0+unknown"
