"""fetch() and check_reachable(): local files in place, downloads through a local HTTP server."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

import datawarp
from datawarp.core.errors import BadInputError, NotFoundError
from datawarp.pipeline.fetch import DownloadError, FetchedFile, check_reachable, fetch
from datawarp.pipeline.fetch_pace import Pace

BODY = b"Period,Org Code,Attendances\r\n2024-01,RBD,1234\r\n" * 200
BODY_SHA = hashlib.sha256(BODY).hexdigest()


def quick_fetch(location: str, cache_dir: Path, **options) -> FetchedFile:
    options.setdefault("backoff_seconds", 0.01)
    options.setdefault("timeout", 5.0)
    return fetch(location, cache_dir=cache_dir, **options)


def assert_one_line(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def leftover_downloads(cache_dir: Path) -> list[Path]:
    return list(cache_dir.glob(".download-*"))


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- local files -------------------------------------------------------------------------


def test_local_path_is_read_in_place(tmp_path: Path) -> None:
    source = tmp_path / "AE data.csv"
    source.write_bytes(BODY)
    cache_dir = tmp_path / "cache"
    progress: list[tuple[int, int | None]] = []

    fetched = quick_fetch(str(source), cache_dir, on_progress=lambda *p: progress.append(p))

    assert fetched == FetchedFile(source.resolve(), BODY_SHA, len(BODY), str(source), "AE data.csv")
    assert not cache_dir.exists()
    assert progress[-1] == (len(BODY), len(BODY))


def test_file_url_is_decoded_and_read_in_place(tmp_path: Path) -> None:
    source = tmp_path / "MHSDS%20Data v2.csv"
    source.write_bytes(BODY)
    url = source.as_uri()  # percent-encodes both the space and the literal '%'

    fetched = quick_fetch(url, tmp_path / "cache")

    assert fetched.path == source.resolve()
    assert fetched.location == url
    assert fetched.name == "MHSDS%20Data v2.csv"
    assert fetched.sha256 == BODY_SHA


def test_missing_path_is_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.xlsx"
    with pytest.raises(NotFoundError) as error:
        quick_fetch(str(missing), tmp_path)
    assert_one_line(error, "File not found", str(missing))


def test_missing_file_url_is_not_found(tmp_path: Path) -> None:
    url = (tmp_path / "gone.csv").as_uri()
    with pytest.raises(NotFoundError) as error:
        quick_fetch(url, tmp_path)
    assert_one_line(error, url)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError) as error:
        quick_fetch(str(tmp_path), tmp_path / "cache")
    assert_one_line(error, "not a regular file")


def test_local_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_bytes(BODY)
    with pytest.raises(BadInputError) as error:
        quick_fetch(str(source), tmp_path / "cache", max_bytes=100)
    assert_one_line(error, str(source), "100-byte limit")


def test_unsupported_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError) as error:
        quick_fetch("ftp://example.org/data.csv", tmp_path)
    assert_one_line(error, "unsupported URL scheme 'ftp'")


# --- downloads ---------------------------------------------------------------------------


def test_download_lands_in_content_addressed_cache(httpserver: HTTPServer, tmp_path: Path) -> None:
    agent = f"datawarp/{datawarp.__version__}"  # the publisher's logs name the tool
    httpserver.expect_request(
        "/stats/AE Sept.csv", headers={"User-Agent": agent}
    ).respond_with_data(BODY)
    url = httpserver.url_for("/stats/AE%20Sept.csv")
    progress: list[tuple[int, int | None]] = []

    fetched = quick_fetch(url, tmp_path, on_progress=lambda *p: progress.append(p))

    assert fetched.path == tmp_path / BODY_SHA[:2] / BODY_SHA
    assert fetched.path.read_bytes() == BODY
    assert (fetched.sha256, fetched.size, fetched.location) == (BODY_SHA, len(BODY), url)
    assert fetched.name == "AE Sept.csv"
    assert progress[-1] == (len(BODY), len(BODY))
    assert leftover_downloads(tmp_path) == []
    index = json.loads((tmp_path / "index.json").read_text())
    assert index[url]["sha256"] == BODY_SHA
    assert index[url]["file_name"] == "AE Sept.csv"


def test_content_disposition_names_the_file(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/download").respond_with_data(
        BODY, headers={"Content-Disposition": 'attachment; filename="KH03 Q2.xlsx"'}
    )
    fetched = quick_fetch(httpserver.url_for("/download"), tmp_path)
    assert fetched.name == "KH03 Q2.xlsx"


def test_redirects_are_followed(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/old.csv").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/new.csv")}
    )
    httpserver.expect_request("/new.csv").respond_with_data(BODY)
    fetched = quick_fetch(httpserver.url_for("/old.csv"), tmp_path)
    assert fetched.sha256 == BODY_SHA
    assert fetched.location == httpserver.url_for("/old.csv")


def test_second_fetch_reuses_cache_on_304(httpserver: HTTPServer, tmp_path: Path) -> None:
    def etag_aware(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(BODY, headers={"ETag": '"v1"'})

    httpserver.expect_request("/data.csv").respond_with_handler(etag_aware)
    url = httpserver.url_for("/data.csv")

    first = quick_fetch(url, tmp_path)
    second = quick_fetch(url, tmp_path)

    assert second == first
    statuses = [response.status_code for _, response in httpserver.log]
    assert statuses == [200, 304]


def test_last_modified_is_sent_back(httpserver: HTTPServer, tmp_path: Path) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    def date_aware(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)
        return Response(BODY, headers={"Last-Modified": stamp})

    httpserver.expect_request("/data.csv").respond_with_handler(date_aware)
    url = httpserver.url_for("/data.csv")
    assert quick_fetch(url, tmp_path) == quick_fetch(url, tmp_path)
    assert [response.status_code for _, response in httpserver.log] == [200, 304]


def test_changed_file_replaces_index_entry(httpserver: HTTPServer, tmp_path: Path) -> None:
    url = httpserver.url_for("/data.csv")
    httpserver.expect_oneshot_request("/data.csv").respond_with_data(BODY, headers={"ETag": "a"})
    first = quick_fetch(url, tmp_path)
    httpserver.expect_oneshot_request("/data.csv").respond_with_data(
        b"x,y\n", headers={"ETag": "b"}
    )
    second = quick_fetch(url, tmp_path)

    assert second.sha256 != first.sha256
    assert first.path.exists() and second.path.read_bytes() == b"x,y\n"
    assert json.loads((tmp_path / "index.json").read_text())[url]["etag"] == "b"


def test_retries_after_503_then_succeeds(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_ordered_request("/data.csv").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/data.csv").respond_with_data("slow down", status=429)
    httpserver.expect_ordered_request("/data.csv").respond_with_data(BODY)

    fetched = quick_fetch(httpserver.url_for("/data.csv"), tmp_path, retries=3)

    assert fetched.sha256 == BODY_SHA
    assert len(httpserver.log) == 3


def test_gives_up_after_the_retries(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/data.csv").respond_with_data("down", status=503)
    url = httpserver.url_for("/data.csv")
    with pytest.raises(DownloadError) as error:
        quick_fetch(url, tmp_path, retries=2)
    assert_one_line(error, url, "3 attempts", "HTTP 503")
    assert len(httpserver.log) == 3
    assert leftover_downloads(tmp_path) == []


@pytest.fixture
def threaded_server():
    """A server that answers while an earlier request is still sleeping."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_retries_after_a_timeout(threaded_server: HTTPServer, tmp_path: Path) -> None:
    calls = []

    def slow_first_time(request: Request) -> Response:
        calls.append(request.path)
        if len(calls) == 1:
            time.sleep(1.0)
        return Response(BODY)

    threaded_server.expect_request("/data.csv").respond_with_handler(slow_first_time)
    url = threaded_server.url_for("/data.csv")
    fetched = quick_fetch(url, tmp_path, timeout=0.3, retries=2)
    assert fetched.sha256 == BODY_SHA
    assert len(calls) >= 2


def test_connection_refused_is_retried_then_reported(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}/data.csv"
    started = time.monotonic()
    with pytest.raises(DownloadError) as error:
        quick_fetch(url, tmp_path, retries=2, backoff_seconds=0.05)
    assert_one_line(error, url, "3 attempts", "ConnectError")
    assert time.monotonic() - started >= 0.05 + 0.1  # backoff 0.05 then 0.1


def test_404_fails_at_once(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/gone.csv").respond_with_data("no", status=404)
    url = httpserver.url_for("/gone.csv")
    with pytest.raises(NotFoundError) as error:
        quick_fetch(url, tmp_path, retries=3)
    assert_one_line(error, url, "HTTP 404")
    assert len(httpserver.log) == 1


def test_403_fails_at_once(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/secret.csv").respond_with_data("no", status=403)
    with pytest.raises(DownloadError) as error:
        quick_fetch(httpserver.url_for("/secret.csv"), tmp_path)
    assert_one_line(error, "HTTP 403")
    assert len(httpserver.log) == 1


def test_declared_size_over_the_cap_stops_before_reading(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/big.csv").respond_with_data(BODY)
    progress: list[tuple[int, int | None]] = []
    with pytest.raises(BadInputError) as error:
        quick_fetch(
            httpserver.url_for("/big.csv"),
            tmp_path,
            max_bytes=1000,
            on_progress=lambda *p: progress.append(p),
        )
    assert_one_line(error, "1,000-byte limit", f"declares {len(BODY):,} bytes")
    assert progress == []
    assert leftover_downloads(tmp_path) == []


def test_undeclared_size_over_the_cap_stops_mid_download(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    def endless(request: Request) -> Response:
        chunks = (b"x" * 65536 for _ in range(10_000))  # 640 MiB if nobody stops it
        return Response(chunks, mimetype="text/csv")

    httpserver.expect_request("/stream.csv").respond_with_handler(endless)
    with pytest.raises(BadInputError) as error:
        quick_fetch(httpserver.url_for("/stream.csv"), tmp_path, max_bytes=3 * 1024**2)
    assert_one_line(error, "3,145,728-byte limit", "the download passed it")
    assert leftover_downloads(tmp_path) == []


# --- check_reachable ---------------------------------------------------------------------


def test_reachable_local_file(tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_bytes(BODY)
    check_reachable(str(source))
    check_reachable(source.as_uri())


def test_unreachable_local_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as error:
        check_reachable(str(tmp_path / "missing.csv"))
    assert_one_line(error, "missing.csv")


def test_reachable_url_answers_head(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a.csv", method="HEAD").respond_with_data("")
    check_reachable(httpserver.url_for("/a.csv"))
    assert [request.method for request, _ in httpserver.log] == ["HEAD"]


@pytest.mark.parametrize("head_status", [403, 405, 501])
def test_refused_head_falls_back_to_ranged_get(httpserver: HTTPServer, head_status: int) -> None:
    httpserver.expect_request("/a.csv", method="HEAD").respond_with_data("", status=head_status)
    httpserver.expect_request(
        "/a.csv", method="GET", headers={"Range": "bytes=0-0"}
    ).respond_with_data("P", status=206)
    check_reachable(httpserver.url_for("/a.csv"))
    assert [request.method for request, _ in httpserver.log] == ["HEAD", "GET"]


def test_url_missing_on_server(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a.csv", method="HEAD").respond_with_data("", status=404)
    url = httpserver.url_for("/a.csv")
    with pytest.raises(NotFoundError) as error:
        check_reachable(url)
    assert_one_line(error, url, "HTTP 404")


def test_url_failing_after_head_fallback(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a.csv", method="HEAD").respond_with_data("", status=405)
    httpserver.expect_request("/a.csv", method="GET").respond_with_data("", status=500)
    with pytest.raises(DownloadError) as error:
        check_reachable(httpserver.url_for("/a.csv"))
    assert_one_line(error, "HTTP 500")


def test_url_on_closed_port() -> None:
    url = f"http://127.0.0.1:{unused_port()}/a.csv"
    with pytest.raises(DownloadError) as error:
        check_reachable(url, timeout=2)
    assert_one_line(error, url, "not reachable")


class _FakeClock:
    """Each reading is ``step`` seconds after the last: a slow server without waiting."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _drip(httpserver: HTTPServer, path: str, chunks: int = 50) -> str:
    def dripping(request: Request) -> Response:
        return Response((b"x" * 100 for _ in range(chunks)), direct_passthrough=True)

    httpserver.expect_request(path).respond_with_handler(dripping)
    return httpserver.url_for(path)


def test_a_download_past_its_deadline_stops_and_leaves_nothing(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    url = _drip(httpserver, "/drip.csv")
    pace = Pace(deadline_seconds=300, min_bytes_per_second=0, clock=_FakeClock(100))
    with pytest.raises(DownloadError) as error:
        quick_fetch(url, tmp_path, pace=pace, retries=0)
    assert_one_line(error, "did not finish within 300s", "deadline_seconds")
    assert leftover_downloads(tmp_path) == []


def test_a_download_slower_than_the_minimum_rate_stops(httpserver: HTTPServer, tmp_path: Path):
    url = _drip(httpserver, "/slow.csv")
    pace = Pace(deadline_seconds=10**6, min_bytes_per_second=1000, clock=_FakeClock(30))
    with pytest.raises(DownloadError) as error:
        quick_fetch(url, tmp_path, pace=pace, retries=0)
    assert_one_line(error, "is too slow", "min_bytes_per_second = 1,000")
    assert leftover_downloads(tmp_path) == []


def test_the_reachability_check_retries_a_server_error(httpserver: HTTPServer) -> None:
    answers = iter([500, 503, 200])
    httpserver.expect_request("/flaky.csv").respond_with_handler(
        lambda request: Response(b"", status=next(answers))
    )
    check_reachable(httpserver.url_for("/flaky.csv"), backoff_seconds=0.01)
    assert [r.status_code for _, r in httpserver.log] == [500, 503, 200]

    httpserver.expect_request("/down.csv").respond_with_data("", status=502)
    with pytest.raises(DownloadError) as error:
        check_reachable(httpserver.url_for("/down.csv"), backoff_seconds=0.01, retries=1)
    assert_one_line(error, "502")
