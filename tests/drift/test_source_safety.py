"""Desired-state sources cannot read the server's files or map its network: links never
leave the checkout or directory, special files are skipped and reported, reads are
capped in size, non-admins fetch only over https from public hosts, and every failure
to fetch reads the same."""

from __future__ import annotations

import os

import pytest

from policies import engine
from policies.models import Cluster, DesiredSource
from policies.services import drift

from .conftest import policy

pytestmark = pytest.mark.django_db

DENY = policy("shop", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress"]})


@pytest.fixture
def cluster(db):
    return Cluster.objects.create(name="c1", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")


@pytest.fixture
def secret_file(tmp_path):
    secret = tmp_path / "server" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: server-secret-policy, namespace: shop}\nspec: {podSelector: {}}\n"
    )
    return secret


def test_links_leaving_a_git_checkout_are_not_followed_and_are_reported(cluster, git_repo, secret_file):
    repo = git_repo()
    repo.write_docs("policies/ok.yaml", [DENY])
    os.symlink(secret_file, repo.path / "policies" / "leak.yaml")
    os.symlink("/dev/zero", repo.path / "policies" / "z.yaml")
    os.symlink(secret_file.parent, repo.path / "policies" / "escape")
    repo.commit()
    DesiredSource.objects.create(cluster=cluster, kind="git", location=str(repo.path))
    state = drift.read_desired_state(cluster)
    assert sorted(state.policies) == ["shop/deny-all"]
    problems = sorted(str(p) for p in state.problems)
    assert problems == [
        "policies/escape: a link to outside the source; not followed",
        "policies/leak.yaml: a link to outside the source; not followed",
        "policies/z.yaml: a link to outside the source; not followed",
    ]
    assert not any(p.fatal for p in state.problems)
    assert str(secret_file.parent) not in " ".join(problems)


def test_a_subdirectory_that_is_a_link_out_of_the_checkout_is_refused(cluster, git_repo, secret_file):
    repo = git_repo()
    repo.write_docs("ok.yaml", [DENY])
    os.symlink(secret_file.parent, repo.path / "policies")
    repo.commit()
    DesiredSource.objects.create(cluster=cluster, kind="git", location=str(repo.path), subdirectory="policies")
    state = drift.read_desired_state(cluster)
    assert state.policies == {}
    (problem,) = state.problems
    assert problem.fatal
    assert problem.message == "sub-directory 'policies' leads outside the source (through a link); it is not read"


def test_directory_sources_skip_special_files_and_outside_links(cluster, tmp_path, secret_file):
    root = tmp_path / "desired"
    root.mkdir()
    (root / "ok.yaml").write_text(engine.dump_yaml([DENY]))
    os.mkfifo(root / "pipe.yaml")
    os.symlink(secret_file, root / "leak.yaml")
    os.symlink(root / "ok.yaml", root / "same.yaml")  # inside: followed
    DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(root))
    state = drift.read_desired_state(cluster)
    assert sorted(state.policies) == ["shop/deny-all"]
    assert sorted(str(p) for p in state.problems) == [
        "leak.yaml: a link to outside the source; not followed",
        "pipe.yaml: not a regular file (a device, FIFO or socket); skipped",
        "same.yaml:2: NetworkPolicy shop/deny-all is defined twice (ok.yaml:2 and same.yaml:2); the later one is used",
    ]
    assert str(tmp_path) not in " ".join(str(p) for p in state.problems)


def test_files_over_the_cap_are_left_out_and_a_source_over_its_cap_is_unreadable(cluster, tmp_path, settings):
    root = tmp_path / "desired"
    root.mkdir()
    text = engine.dump_yaml([DENY])
    (root / "a.yaml").write_text(text)
    (root / "b.yaml").write_text(text + "#" + "x" * 2_000_000 + "\n")
    settings.NETPOLUI_SOURCE_FILE_MB = 1
    DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(root))
    state = drift.read_desired_state(cluster)
    assert sorted(state.policies) == ["shop/deny-all"]
    assert [str(p) for p in state.problems] == [
        "b.yaml: file is larger than the 1 MB limit for one file; the policies of this file are left out"
    ]
    settings.NETPOLUI_SOURCE_FILE_MB = 5
    settings.NETPOLUI_SOURCE_TOTAL_MB = 1
    state = drift.read_desired_state(cluster)
    assert state.fatal
    assert [p.message for p in state.problems] == ["the files read add up to more than the 1 MB limit for one source"]


def test_a_directory_source_error_names_no_server_path(cluster, tmp_path):
    source = DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(tmp_path / "gone"))
    state = drift.read_desired_state(cluster)
    assert [p.message for p in state.problems] == ["the directory does not exist"]
    source.refresh_from_db()
    assert str(tmp_path) not in source.last_error + source.label


def test_viewers_and_editors_do_not_see_server_locations(api, cluster, tmp_path):
    source = DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(tmp_path / "policies"))
    repo = DesiredSource.objects.create(cluster=cluster, kind="git", location=str(tmp_path / "repo.git"))
    for role in ("viewer", "editor"):
        body = api(role).get("/api/drift-sources/").content.decode()
        assert str(tmp_path) not in body
        for url in (f"/clusters/{cluster.pk}/drift/sources/", f"/clusters/{cluster.pk}/drift/sources/{source.pk}/",
                    f"/clusters/{cluster.pk}/drift/sources/{repo.pk}/", f"/clusters/{cluster.pk}/drift/"):
            assert str(tmp_path) not in api(role).get(url).content.decode(), (role, url)
    page = api("admin").get(f"/clusters/{cluster.pk}/drift/sources/{source.pk}/").content.decode()
    assert str(tmp_path / "policies") in page
    admin = api("admin").get("/api/drift-sources/").json()
    rows = admin["results"] if isinstance(admin, dict) else admin
    assert rows[0]["location"] == str(tmp_path / "policies")


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("http://git.example/r.git", "must be an https:// URL"),
        ("git://git.example/r.git", "must be an https:// URL"),
        ("ssh://git@git.example/r.git", "must be an https:// URL"),
        ("git@git.example:r.git", "must be an https:// URL"),
        ("https://127.0.0.1:22/r.git", "loopback, link-local or private"),
        ("https://localhost/r.git", "loopback, link-local or private"),
        ("https://169.254.169.254/latest/meta-data", "loopback, link-local or private"),
        ("https://10.1.2.3/r.git", "loopback, link-local or private"),
        ("https://[::1]/r.git", "loopback, link-local or private"),
        ("https://[fd00::1]/r.git", "loopback, link-local or private"),
        ("https://0.0.0.0/r.git", "loopback, link-local or private"),
    ],
)
def test_non_admins_may_fetch_only_over_https_from_public_hosts(cluster, location, words):
    errors = drift.check_source(cluster=cluster, kind="git", location=location)
    assert words in errors["location"]
    assert drift.check_source(cluster=cluster, kind="git", location=location, is_admin=True) == {}


def test_admins_allow_internal_hosts_and_ssh_by_setting(cluster, settings):
    settings.NETPOLUI_GIT_ALLOWED_HOSTS = ["git.internal", "10.0.0.0/8", "127.0.0.1"]
    settings.NETPOLUI_GIT_SSH = True
    for location in ("https://10.1.2.3/r.git", "https://127.0.0.1/r.git", "ssh://git@93.184.215.14/r.git", "git@93.184.215.14:r.git"):
        assert drift.check_source(cluster=cluster, kind="git", location=location) == {}, location
    assert "private" in drift.check_source(cluster=cluster, kind="git", location="https://192.168.1.1/r.git")["location"]


def test_a_source_an_editor_added_is_checked_again_at_fetch_time(cluster, users):
    source = DesiredSource.objects.create(
        cluster=cluster, kind="git", location="https://127.0.0.1:9/r.git", created_by=users["editor"]
    )
    state = drift.read_desired_state(cluster)
    (problem,) = state.problems
    assert "loopback, link-local or private" in problem.message
    source.created_by = users["admin"]
    source.save()
    state = drift.read_desired_state(cluster)
    assert "cannot fetch the Git repository https://127.0.0.1:9/r.git" in state.problems[0].message


def test_every_failure_to_fetch_reads_the_same(cluster, demo_repo, tmp_path):
    missing_branch = DesiredSource.objects.create(cluster=cluster, kind="git", location=str(demo_repo.path), branch="nope")
    refused = DesiredSource.objects.create(cluster=cluster, kind="git", location="http://127.0.0.1:9/repo.git")
    nothing = DesiredSource.objects.create(cluster=cluster, kind="git", location=str(tmp_path / "no-repo"))
    messages = []
    for source in (missing_branch, refused, nothing):
        (problem,) = drift.read_desired_state(cluster, [source]).problems
        messages.append(problem.message.replace(drift.shown_location(source), "URL").replace(" (branch 'nope')", ""))
    assert len(set(messages)) == 1
    assert messages[0] == (
        "cannot fetch the Git repository URL: the address, branch or credentials are wrong, "
        "or the host cannot be reached; the server log has the details"
    )


def test_an_editor_sees_a_server_path_shortened_and_cannot_change_that_source(client_for, cluster, tmp_path, users):
    source = DesiredSource.objects.create(
        cluster=cluster, kind="git", location=str(tmp_path / "repo.git"), created_by=users["admin"]
    )
    editor = client_for("editor")
    url = f"/clusters/{cluster.pk}/drift/sources/{source.pk}/"
    assert editor.get(url).context["form"].initial["location"] == "…/repo.git"
    response = editor.post(url, {"kind": "git", "location": "…/repo.git", "branch": "dev", "enabled": "on"})
    assert response.status_code == 400
    assert "only an admin may read directories or repositories on the netpolui server" in response.content.decode()
    assert str(tmp_path) not in response.content.decode()
    source.refresh_from_db()
    assert (source.location, source.branch) == (str(tmp_path / "repo.git"), "")


def test_a_read_over_the_time_cap_stops_and_says_so(cluster, tmp_path, settings):
    root = tmp_path / "desired"
    root.mkdir()
    (root / "a.yaml").write_text(engine.dump_yaml([DENY]))
    DesiredSource.objects.create(cluster=cluster, kind="directory", location=str(root))
    settings.NETPOLUI_SOURCE_READ_SECONDS = 0
    state = drift.read_desired_state(cluster)
    assert state.fatal
    assert [p.message for p in state.problems] == ["reading took longer than the 0 s limit; stopped"]
    settings.NETPOLUI_SOURCE_READ_SECONDS = 60
    assert sorted(drift.read_desired_state(cluster).policies) == ["shop/deny-all"]


@pytest.fixture
def resolving(monkeypatch):
    """resolving({"name": "address"}): what the server's name lookups answer (git's own
    lookups are not affected: they would answer "could not resolve host")."""
    import socket

    real = socket.getaddrinfo

    def install(names: dict[str, str | None]) -> None:
        def lookup(host, *args, **kwargs):
            if host not in names:
                return real(host, *args, **kwargs)
            if names[host] is None:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (names[host], 0))]

        monkeypatch.setattr(socket, "getaddrinfo", lookup)

    return install


def test_a_fetch_connects_to_the_address_that_was_checked(cluster, users, settings, resolving, caplog):
    """DNS rebinding: the name is looked up once, checked, and git is told to connect to
    that address; looked up again by git, it could lead into the server's network."""
    settings.NETPOLUI_GIT_ALLOWED_HOSTS = ["rebind.example"]
    resolving({"rebind.example": "127.0.0.1"})
    DesiredSource.objects.create(cluster=cluster, kind="git", location="https://rebind.example:9/r.git",
                                 created_by=users["editor"])
    (problem,) = drift.read_desired_state(cluster).problems
    assert problem.message.startswith("cannot fetch the Git repository https://rebind.example:9/r.git: ")
    assert "rebind.example port 9" in caplog.text  # curl connected to the pinned 127.0.0.1:9
    assert "resolve host" not in caplog.text


def test_an_ssh_fetch_connects_to_the_address_that_was_checked(cluster, users, settings, resolving, tmp_path, monkeypatch):
    """The same for ssh: ssh would look the name up again, so it is told the checked
    address (HostName) and checks the host key under the name (HostKeyAlias)."""
    settings.NETPOLUI_GIT_SSH = True
    settings.NETPOLUI_GIT_ALLOWED_HOSTS = ["rebind.example"]
    resolving({"rebind.example": "127.0.0.1"})
    bin_dir, record = tmp_path / "bin", tmp_path / "ssh-args"
    bin_dir.mkdir()
    fake_ssh = bin_dir / "ssh"
    fake_ssh.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\nexit 255\n')
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.delenv("GIT_SSH_COMMAND", raising=False)
    monkeypatch.delenv("GIT_SSH", raising=False)
    for location in ("ssh://git@rebind.example:2222/r.git", "git@rebind.example:team/r.git"):
        record.unlink(missing_ok=True)
        DesiredSource.objects.all().delete()
        DesiredSource.objects.create(cluster=cluster, kind="git", location=location, created_by=users["editor"])
        (problem,) = drift.read_desired_state(cluster).problems
        assert problem.message.startswith("cannot fetch the Git repository ")
        args = record.read_text().splitlines()
        options = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-o"]
        assert "HostName=127.0.0.1" in options, args
        assert "HostKeyAlias=rebind.example" in options, args
        assert "BatchMode=yes" in options, args


def test_a_name_without_an_address_reads_as_any_other_fetch_failure(cluster, users, resolving):
    resolving({"nowhere.example": None})
    source = DesiredSource.objects.create(cluster=cluster, kind="git", location="https://nowhere.example/r.git",
                                          created_by=users["editor"])
    (problem,) = drift.read_desired_state(cluster).problems
    assert problem.message == (
        f"cannot fetch the Git repository {drift.shown_location(source)}: the address, branch or credentials "
        "are wrong, or the host cannot be reached; the server log has the details"
    )
