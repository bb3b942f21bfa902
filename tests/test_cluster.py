"""The hosted topology, run for real: HAProxy (``deploy/haproxy.cfg``) in front of two replicas of
the app, started by ``scripts/cluster.sh`` on loopback with a password configured.

Clients speak Streamlit's own protocol (:class:`tests.wsclient.StreamlitClient`), so a test can
say which replica holds which browser (the balancer names it in ``X-Respine-Replica``) and kill a
replica outright. Traffic is loopback only, a handful of sessions, bounded in time.
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from tests.cluster import Cluster, run_cluster
from tests.redis_server import redis_server
from tests.wsclient import StreamlitClient, browser_cookies, rerun_message

pytestmark = [pytest.mark.security, pytest.mark.timeout(420)]

PASSWORD = "correct horse battery"
SECRETS = (f'[access]\npassword = "{PASSWORD}"\nmax_attempts = 5\nlockout_seconds = 300\n'
           "trusted_proxies = 1\n")
LINK = "ep=ODI&visit=6&measure=pchg"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    """Two replicas, each counting wrong passwords in its own memory (no shared store)."""
    with run_cluster(tmp_path_factory.mktemp("cluster"), SECRETS) as running:
        yield running


@pytest.fixture
def doomed(tmp_path) -> Iterator[Cluster]:
    """A cluster of its own for a test that kills a replica."""
    with run_cluster(tmp_path / "doomed", SECRETS) as running:
        yield running


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[Cluster]:
    """Two replicas counting wrong passwords in one Redis ([access] limiter_url)."""
    with redis_server() as store, run_cluster(tmp_path_factory.mktemp("shared"),
                                              SECRETS + f'limiter_url = "{store}"\n') as running:
        yield running


def replica_of(client: StreamlitClient) -> str:
    """The replica the balancer sent this websocket to."""
    return client.ws.response.headers["X-Respine-Replica"]


def signed_in_view(url: str, cookies: dict[str, str]) -> tuple[StreamlitClient, str]:
    """Open the explorer page of LINK as this browser, sign in; the client and the page's text."""
    client = StreamlitClient(url, cookies, page="explorer", query=LINK)
    gate = client.rerun()
    assert gate.finished and "Password" in [e.label for e in gate.elements], gate.texts()
    signed = client.submit_password(PASSWORD)
    assert signed.finished and "Password" not in [e.label for e in signed.elements], signed.texts()
    page = client.rerun()  # the page of the link, in the signed-in session
    assert page.finished and "Oswestry" in page.texts(), page.texts()
    return client, page.texts()


def browsers_on_each_replica(url: str, per_replica: int) -> dict[str, list[dict[str, str]]]:
    """Cookie jars of new browsers until each replica holds ``per_replica`` of them."""
    found: dict[str, list[dict[str, str]]] = {"app1": [], "app2": []}
    for _ in range(6 * per_replica):
        cookies = browser_cookies(url)
        replica = cookies["RESPINE_REPLICA"]
        if len(found[replica]) < per_replica:
            found[replica].append(cookies)
        if all(len(v) == per_replica for v in found.values()):
            return found
    pytest.fail(f"the balancer did not spread new browsers over both replicas: {found}")


def test_a_browser_stays_on_its_replica_and_browsers_spread(cluster):
    """Affinity is by cookie: every request and the websocket of one browser reach the replica that
    answered it first (which holds its session); new browsers go round the replicas."""
    browsers = browsers_on_each_replica(cluster.url, 2)
    for replica, jars in browsers.items():
        for cookies in jars:
            for _ in range(3):
                request = urllib.request.Request(cluster.url + "/_stcore/health", headers={
                    "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
                with urllib.request.urlopen(request, timeout=10) as answer:
                    assert answer.headers["X-Respine-Replica"] == replica
            client, text = signed_in_view(cluster.url, cookies)
            with client:
                assert replica_of(client) == replica
                assert "Month 6" in text, text
                again = client.rerun()  # the same session, so no password asked again
                assert again.finished and "Password" not in [e.label for e in again.elements]


def test_a_dead_replica_leaves_the_other_readers_alone_and_a_reload_restores_the_view(doomed):
    """SIGKILL one replica mid-use: readers of the other one carry on; a reader of the dead one loses
    the connection, and reconnecting (what the browser does, and what a reload does) lands on the
    other replica, which asks for the password again (sessions live in their replica) and then
    shows the same view from the link."""
    cluster = doomed
    browsers = browsers_on_each_replica(cluster.url, 2)
    sessions = {replica: [signed_in_view(cluster.url, c) for c in jars] for replica, jars in browsers.items()}
    # Mid-run: the survivor's readers have reruns in flight when the other replica dies.
    for client, _ in sessions["app2"]:
        client.send(rerun_message(client.query, client.page))
    cluster.kill(1)
    try:
        for client, text in sessions["app2"]:
            run = client.read_run()
            assert run.finished and run.texts() == text
            for _ in range(3):
                run = client.rerun()
                assert run.finished and run.texts() == text
        for client, _ in sessions["app1"]:
            with pytest.raises((ConnectionClosed, OSError, TimeoutError)):
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    client.rerun(timeout=5)
                raise TimeoutError("the dead replica's websocket stayed open")
        for (_, text), cookies in zip(sessions["app1"], browsers["app1"], strict=True):
            client, restored = signed_in_view(cluster.url, cookies)
            with client:
                assert replica_of(client) == "app2"
                assert restored == text
        # With no replica left, readers get a page that says so (and retries), not a bare error.
        cluster.kill(2)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(cluster.url + "/explorer", timeout=10)
            except urllib.error.HTTPError as answer:
                if answer.code == 503:
                    page = answer.read().decode()
                    assert "starting or restarting" in page and "keeps the view" in page, page
                    assert answer.headers["Retry-After"] == "30"
                    break
            assert time.monotonic() < deadline, "the balancer kept answering with no replica up"
            time.sleep(1)
    finally:
        for client, _ in sessions["app1"] + sessions["app2"]:
            with contextlib.suppress(Exception):  # a websocket the dead replica left half-open
                client.close()


def wrong_guesses(url: str, per_session: int, sessions: int) -> list[str]:
    """Wrong passwords from one address (the balancer forwards it; trusted_proxies = 1), a few per
    new browser so that no session reaches its own limit, the browsers spread over the replicas.
    Returns the replica of each browser."""
    replicas = []
    for _ in range(sessions):
        cookies = browser_cookies(url)
        with StreamlitClient(url, cookies) as client:
            assert client.rerun().finished
            for _ in range(per_session):
                answer = client.submit_password("not the password").texts()
                assert "Wrong password" in answer, answer
            replicas.append(replica_of(client))
    return replicas


def next_guess(url: str) -> str:
    with StreamlitClient(url, browser_cookies(url)) as client:
        assert client.rerun().finished
        return client.submit_password("not the password either").texts()


def test_with_a_shared_store_the_limit_counts_across_replicas(shared):
    """15 wrong passwords from one address (the limit for an address: 3 x max_attempts) spread
    over both replicas lock that address on every replica."""
    replicas = wrong_guesses(shared.url, per_session=3, sessions=5)
    assert set(replicas) == {"app1", "app2"}
    for _ in range(2):  # whichever replica the next browser lands on
        assert "Too many wrong passwords" in next_guess(shared.url)


def test_without_a_shared_store_each_replica_counts_alone(cluster):
    """The negative control: the same guesses leave each replica under the limit, which is why a
    deployment with replicas sets [access] limiter_url."""
    replicas = wrong_guesses(cluster.url, per_session=3, sessions=5)
    assert set(replicas) == {"app1", "app2"}
    answer = next_guess(cluster.url)
    assert "Wrong password" in answer and "Too many" not in answer, answer
