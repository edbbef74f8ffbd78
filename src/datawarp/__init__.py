"""DataWarp: governed loading of NHS England statistical publications into PostgreSQL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("datawarp")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
