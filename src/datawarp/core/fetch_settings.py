"""How files are fetched: ``[fetch]`` in datawarp.toml (or ``DATAWARP_FETCH_<KEY>``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FetchSettings(BaseModel):
    """``[fetch]`` in datawarp.toml."""

    model_config = ConfigDict(extra="forbid")

    deadline_seconds: float = Field(
        900, gt=0, le=86_400,
        description="The longest one file's download may take, retries and waits included",
    )  # fmt: skip
    min_bytes_per_second: int = Field(
        1024, ge=0,
        description="A download slower than this on average after its first minute is given up"
        " (0: no minimum)",
    )  # fmt: skip
    read_timeout_seconds: float = Field(
        30, gt=0, le=3600, description="The longest wait for the server to send anything"
    )
